/**
 * Turns model signals into tidy rows: periodic samples of a value
 * (time series), point observations, and phase spans for Gantt timelines.
 * Observers stay outside models: a model exposes numbers or signals, the
 * recorder reads them.
 */
import {
  type FieldIssue,
  fieldIssue,
  issuesError,
  numberIssue,
  showValue,
  unknownKeyIssues,
} from "../_util/mod.ts";
import type { SimTime } from "../_util/mod.ts";
import type { Simulation } from "./simulation.ts";

/** One observation. `time` is ns; `timeS` the same in seconds for plotting. */
export interface SampleRow {
  /** Run label (the recorder's `run`). */
  run: string;
  /** Seed of the simulation that produced the row. */
  seed: number;
  /** Simulated time of the observation, ns. */
  time: SimTime;
  /** `time` in seconds. */
  timeS: number;
  /** Name of the observed quantity. */
  metric: string;
  /** Observed value, in the metric's unit. */
  value: number;
  /** Further columns: the recorder's `params` and the extras given to `record()`. */
  [extra: string]: string | number | boolean;
}

/** Columns every sample row sets itself: an extra column may not take one of these names. */
const RESERVED_COLUMNS: readonly string[] = ["run", "seed", "time", "timeS", "metric", "value"];

/**
 * Throws when `extra` names a reserved column (the row's own value would
 * silently win); `metric` names the row being recorded, if any. The message
 * is built only then: a sampler records every period.
 */
function checkExtra(field: string, extra: object, metric: string): void {
  const issues = extraIssues(field, extra);
  if (issues.length > 0) throw issuesError(`record '${metric}'`, issues);
}

/** An issue for each of `extra`'s columns named as a reserved one. */
function extraIssues(field: string, extra: object): FieldIssue[] {
  return Object.keys(extra).filter((k) => RESERVED_COLUMNS.includes(k)).map((k) => ({
    field: `${field}.${k}`,
    message: `is a reserved column: extra columns may not be named ${RESERVED_COLUMNS.join(", ")}`,
  }));
}

/** One phase of one entity: [start, end) in ns and seconds. */
export interface SpanRow {
  /** Run label (the recorder's `run`). */
  run: string;
  /** Seed of the simulation that produced the row. */
  seed: number;
  /** What went through the phase (a node, a disk, ...). */
  entity: string;
  /** Name of the phase. */
  phase: string;
  /** Start of the phase, ns. */
  start: SimTime;
  /** End of the phase (exclusive), ns. */
  end: SimTime;
  /** `start` in seconds. */
  startS: number;
  /** `end` in seconds. */
  endS: number;
  /** `end - start` in seconds. */
  durationS: number;
}

/**
 * Collects rows for one run.
 * @example
 * ```ts
 * import { Simulation } from "./simulation.ts";
 * import { Recorder } from "./recorder.ts";
 * const sim = new Simulation({ seed: 3 });
 * const rec = new Recorder(sim, { run: "demo" });
 * let x = 0;
 * sim.call(15, () => (x = 1));
 * rec.sample("x", { every: 10, until: 30, read: () => x });
 * rec.begin("node0", "boot");
 * sim.call(20, () => rec.end("node0", "boot"));
 * sim.run();
 * console.assert(rec.samples().map((r) => r.value).join() === "0,0,1,1");
 * console.assert(rec.spans()[0].end === 20);
 * ```
 */
export class Recorder {
  /** Run label written into every row (`"run"` by default). */
  readonly run: string;
  #samples: SampleRow[] = [];
  #spans: SpanRow[] = [];
  #open = new Map<string, SimTime>();
  #extra: Record<string, string | number | boolean>;

  /**
   * A recorder of `sim`'s run `options.run`; `options.params` become extra
   * columns of every sample row.
   * @throws RangeError when a param is named run, seed, time, timeS, metric or value, or
   *   an option is not one (each of these at once).
   */
  constructor(
    readonly sim: Simulation,
    options: { run?: string; params?: Record<string, string | number | boolean> } = {},
  ) {
    const issues = [
      ...unknownKeyIssues(options, ["run", "params"]),
      ...extraIssues("params", options.params ?? {}),
    ];
    if (issues.length > 0) throw issuesError("create recorder", issues);
    this.run = options.run ?? "run";
    this.#extra = options.params ?? {};
  }

  /**
   * Records `value` of `metric` at the current time; `extra` adds columns to
   * this row.
   * @throws RangeError when an extra is named run, seed, time, timeS, metric or value.
   */
  record(
    metric: string,
    value: number,
    extra: Record<string, string | number | boolean> = {},
  ): void {
    checkExtra("extra", extra, metric);
    const t = this.sim.now;
    this.#samples.push({
      ...this.#extra,
      ...extra,
      run: this.run,
      seed: this.sim.seed,
      time: t,
      timeS: t / 1e9,
      metric,
      value,
    });
  }

  /**
   * Samples `read()` every `every` ns from now through `until` (inclusive).
   * @throws RangeError naming every option that breaks its rule or is not an option
   */
  sample(metric: string, options: { every: SimTime; until: SimTime; read: () => number }): void {
    const { every, until, read } = options;
    const issues = [
      ...unknownKeyIssues(options, ["every", "until", "read"]),
      numberIssue("every", every, { integer: true, min: 0, strict: true }),
      numberIssue("until", until, { min: this.sim.now }),
      typeof read === "function" ? undefined : fieldIssue("read", "a function", showValue(read)),
    ].filter((i) => i !== undefined);
    if (issues.length > 0) throw issuesError(`sample '${metric}'`, issues);
    const tick = () => {
      this.record(metric, read());
      if (this.sim.now + every <= until) this.sim.call(every, tick);
    };
    this.sim.call(0, tick);
  }

  /** Opens phase `phase` of `entity` now. */
  begin(entity: string, phase: string): void {
    const k = `${entity}\u0000${phase}`;
    if (this.#open.has(k)) throw new Error(`Phase '${phase}' of '${entity}' is already open`);
    this.#open.set(k, this.sim.now);
  }

  /** Closes phase `phase` of `entity` now. */
  end(entity: string, phase: string): void {
    const k = `${entity}\u0000${phase}`;
    const start = this.#open.get(k);
    if (start === undefined) throw new Error(`Phase '${phase}' of '${entity}' was not begun`);
    this.#open.delete(k);
    this.span(entity, phase, start, this.sim.now);
  }

  /** Adds a closed span. */
  span(entity: string, phase: string, start: SimTime, end: SimTime): void {
    if (!(end >= start)) {
      throw new RangeError(
        `Cannot record span '${phase}': 'end' must be >= start (${start}): current value is ${end}`,
      );
    }
    this.#spans.push({
      run: this.run,
      seed: this.sim.seed,
      entity,
      phase,
      start,
      end,
      startS: start / 1e9,
      endS: end / 1e9,
      durationS: (end - start) / 1e9,
    });
  }

  /** Sample rows so far. */
  samples(): SampleRow[] {
    return this.#samples.slice();
  }
  /** Span rows so far. */
  spans(): SpanRow[] {
    return this.#spans.slice();
  }
}
