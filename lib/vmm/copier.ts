/**
 * The background copier: brings every chunk of the image to the local disk,
 * fetching from the image server and writing through the mediator's VMM
 * commands, when its policy allows. Fetches are pipelined (`pipeline` chunks
 * may be on the network while one is written). It goes in disk order, as the
 * paper; beyond the paper, `order` names sectors to copy first (e.g. what an
 * earlier deployment's guest read from the image server). Or, beyond the paper, it is fed
 * by a stream that pushes pieces of the image ({@link BackgroundCopier.runFromStream},
 * a multicast session): each piece waits for the policy the same way.
 * Device-neutral: it knows a {@link VmmBlockIo} and an {@link ImageSource},
 * never a device kind.
 *
 * Failures: a chunk whose fetch fails, or whose write leaves sectors absent
 * (the disk failed the VMM's command after the mediator's retries), stays
 * not copied and is handed out again on a later lap; after
 * {@link COPY_ATTEMPTS} failed attempts in disk order (a failed piece of
 * `order` is not counted: it only leaves its sectors to the laps) the copier
 * gives it up and reports it
 * (`stats.chunksGivenUp`), so the run goes on (its sectors are still
 * redirected) but the copy never completes and the VMM never de-virtualizes.
 * A stream sends each piece once (a piece the disk failed is not sent
 * again), so a stream-fed copier that still misses sectors when the stream
 * ends fetches them itself, by the same rule.
 */
import {
  type FieldIssue,
  fieldIssue,
  invariant,
  isRun,
  issuesError,
  requireNumber,
  showValue,
  splitRun,
} from "../_util/mod.ts";
import type { SimTime } from "../_util/mod.ts";
import type { ProcessGenerator, SimEvent, Simulation } from "../sim/mod.ts";
import type { BlockMap, SectorRun } from "./block_map.ts";
import type { ImageSource, VmmBlockIo } from "./block_io.ts";
import type { CopyPolicy } from "./copy_policy.ts";

/**
 * Joins a stream of image pieces: calls `write` for each piece it delivers
 * (the next comes when the returned event completes or is buffered) and
 * returns the event that succeeds once every piece was written.
 */
export type ImageStream = (
  write: (lba: number, versions: Int32Array) => SimEvent<unknown>,
) => SimEvent<void>;

/** Attempts at one chunk (fetch and write) before the copier gives it up. */
export const COPY_ATTEMPTS = 3;

/** Copier counters. */
export interface CopierStats {
  /** Chunks (or stream pieces) written (counted even when the guest had written all of it). */
  chunksCopied: number;
  /** Sectors the copier's write commands put on the disk (absent ones only). */
  sectorsWritten: number;
  /**
   * Fetched sectors not written because they were present by then: the guest
   * wrote them first, or a copy-on-read or an earlier piece of `order` put them there.
   */
  sectorsSkipped: number;
  /** Chunk (or stream piece) copies that failed: the fetch failed or sectors stayed absent. */
  failedCopies: number;
  /** Chunks given up after {@link COPY_ATTEMPTS} failed attempts, left not copied. */
  chunksGivenUp: number;
  /** When {@link BackgroundCopier.run} started, ns (NaN before). */
  startedAt: SimTime;
  /** When every sector was present and the copier stopped, ns (NaN before). */
  finishedAt: SimTime;
}

/**
 * Copies the rest of the image in the background.
 * @example
 * ```ts
 * // See tests/vmm/mediator_test.ts for a full run against a real HBA.
 * import { BackgroundCopier } from "./copier.ts";
 * console.assert(typeof BackgroundCopier === "function");
 * ```
 */
export class BackgroundCopier {
  /** Counters and start/finish times, updated as the copy proceeds. */
  readonly stats: CopierStats = {
    chunksCopied: 0,
    sectorsWritten: 0,
    sectorsSkipped: 0,
    failedCopies: 0,
    chunksGivenUp: 0,
    startedAt: NaN,
    finishedAt: NaN,
  };
  readonly #o: {
    sim: Simulation;
    map: BlockMap;
    image: ImageSource;
    io: VmmBlockIo;
    policy: CopyPolicy;
    pipeline: number;
    order: readonly SectorRun[];
  };

  /**
   * A copier that fills `map` from `image` through `io`, paced by `policy`;
   * it starts when {@link BackgroundCopier.run} is run as a process.
   */
  constructor(options: {
    sim: Simulation;
    map: BlockMap;
    image: ImageSource;
    io: VmmBlockIo;
    policy: CopyPolicy;
    /** Chunks fetched ahead of the one being written. @default 2 */
    pipeline?: number;
    /**
     * Sectors to copy first, in this order (e.g. a previous deployment's
     * `AhciMediator.redirectedRuns`: what its guest read from the image
     * server); the rest follows in disk order. Beyond the paper, which
     * copies in disk order. @default []
     */
    order?: readonly SectorRun[];
  }) {
    const pipeline = options.pipeline ?? 2;
    requireNumber("create copier", "pipeline", pipeline, { integer: true, min: 1 });
    const issues = copyOrderIssues(options.order ?? [], { sectors: options.map.sectors });
    if (issues.length > 0) throw issuesError("create copier", issues);
    // Pieces of at most a chunk, so that the pipeline holds as much as in disk order.
    const order = (options.order ?? []).flatMap((r) => splitRun(r, options.map.chunkSectors));
    this.#o = { ...options, pipeline, order };
  }

  /**
   * Fetches a chunk in requests of at most the source's maximum size, one
   * after the other: a background copy keeps at most one request per chunk
   * at the server, so redirected reads do not queue behind a burst.
   */
  #fetch(range: { lba: number; count: number }): SimEvent<Int32Array> {
    const { sim, image } = this.#o;
    if (range.count <= image.maxSectors) return this.#request(range);
    const out = sim.event<Int32Array>();
    const all = new Int32Array(range.count);
    const pieces = splitRun(range, image.maxSectors);
    const next = (i: number) => {
      if (i === pieces.length) return void out.succeed(all);
      this.#request(pieces[i]).then((ev) => {
        if (!ev.ok) return void out.fail(ev.value as unknown as Error);
        all.set(ev.value, pieces[i].lba - range.lba);
        next(i + 1);
      });
    };
    next(0);
    return out;
  }

  /** The copier's requests to the image source so far that overlapped a redirected guest read. */
  #overlaps = 0;

  /**
   * One request to the image source, counted as an overlap when a redirected
   * guest read was outstanding as it was issued or started while it was at
   * the source (that read may have waited behind it there).
   */
  #request(run: { lba: number; count: number }): SimEvent<Int32Array> {
    const { io, image } = this.#o;
    const started = io.redirectsStarted;
    const busy = io.redirectsOutstanding > 0;
    return image.read({ ...run, background: true }).then(() => {
      if (busy || io.redirectsStarted > started) this.#overlaps++;
    });
  }

  /**
   * Runs until every sector is present, or every chunk still absent was
   * given up ({@link COPY_ATTEMPTS}); `stats.finishedAt` is set only when
   * the copy completed.
   */
  *run(): ProcessGenerator<void> {
    this.stats.startedAt = this.#o.sim.now;
    yield* this.#copyAbsent();
  }

  /**
   * Fetches and writes every chunk not yet present, in laps, until none is
   * left but those given up ({@link COPY_ATTEMPTS}); sets `stats.finishedAt`
   * when the copy completed.
   */
  *#copyAbsent(): ProcessGenerator<void> {
    const { sim, map, pipeline, order } = this.#o;
    // A chunk of the disk-order laps, or a piece of `order` (chunk -1: not retried as
    // such, a piece that fails is left to the laps). Either marks the chunks it covers
    // in flight, so that a lap does not hand them out meanwhile (counted: pieces share).
    const inflight: { chunk: number; range: SectorRun; fetch: SimEvent<Int32Array> }[] = [];
    const marks = new Map<number, number>();
    const chunksOf = (r: SectorRun) => {
      const out: number[] = [];
      for (let c = map.chunkOf(r.lba); c <= map.chunkOf(r.lba + r.count - 1); c++) out.push(c);
      return out;
    };
    const mark = (r: SectorRun, on: boolean) => {
      for (const c of chunksOf(r)) {
        const n = (marks.get(c) ?? 0) + (on ? 1 : -1);
        if (n === 0) marks.delete(c);
        else marks.set(c, n);
        map.setInflight(c, n > 0);
      }
    };
    const failures = new Map<number, number>();
    const givenUp = new Set<number>();
    /** The next chunk to copy from `from` on (wrapping), skipping those given up. */
    const nextChunk = (from: number) => {
      for (let c = map.nextToCopy(from), n = 0; c >= 0 && n <= givenUp.size; n++) {
        if (!givenUp.has(c)) return c;
        c = map.nextToCopy(c + 1);
      }
      return -1;
    };
    const fetch = (chunk: number, range: SectorRun) => {
      mark(range, true);
      // A failure is taken in below, when the range's turn comes (a no-op waiter till then).
      inflight.push({ chunk, range, fetch: this.#fetch(range).then(() => {}) });
    };
    let ordered = 0;
    const refill = () => {
      // The pieces of `order` first, each while some of it is absent and not in flight.
      for (; ordered < order.length && inflight.length < pipeline; ordered++) {
        const r = order[ordered];
        const twice = inflight.some((x) => x.range.lba === r.lba && x.range.count === r.count);
        if (!twice && !map.isPresent(r.lba, r.count)) fetch(-1, r);
      }
      // Then disk order, after the last chunk in flight (from the lowest absent one when
      // none is: a chunk that failed with nothing else in flight is tried again at once).
      while (inflight.length < pipeline) {
        const last = inflight.findLast((x) => x.chunk >= 0);
        const c = nextChunk(last === undefined ? 0 : last.chunk + 1);
        if (c < 0) break;
        fetch(c, map.chunkRange(c));
      }
    };
    while (!map.complete) {
      refill();
      // Only this loop marks chunks in flight, and it clears the mark of each chunk it wrote:
      // with the map incomplete, refill() found a chunk to fetch unless all left were given up.
      const next = inflight.shift();
      if (next === undefined) {
        invariant(givenUp.size > 0, "copier: map incomplete but no chunk left to fetch");
        break;
      }
      const { chunk, range } = next;
      let versions: Int32Array | undefined;
      try {
        versions = (yield next.fetch) as Int32Array;
      } catch {
        versions = undefined; // the image server failed the fetch
      }
      if (versions !== undefined) yield* this.#write(range.lba, versions, refill);
      mark(range, false);
      if (versions === undefined || !map.isPresent(range.lba, range.count)) {
        // The fetch failed, or the disk failed the write (the sectors stayed absent):
        // the chunk is handed out again on a later lap, or given up.
        this.stats.failedCopies++;
        if (chunk < 0) continue;
        const n = (failures.get(chunk) ?? 0) + 1;
        failures.set(chunk, n);
        if (n >= COPY_ATTEMPTS) givenUp.add(chunk);
      }
    }
    for (const x of inflight) mark(x.range, false);
    this.stats.chunksGivenUp = givenUp.size;
    if (map.complete) this.stats.finishedAt = sim.now;
  }

  /**
   * Runs fed by `stream` instead of fetching: joins it and writes each piece
   * it delivers when the policy allows (absent sectors only). Pieces that
   * arrive while the copier waits are the stream's to buffer (or drop and ask
   * for again). When the stream has delivered every piece, sectors still
   * absent (a piece the disk failed) are fetched as {@link BackgroundCopier.run}
   * fetches them, given up after {@link COPY_ATTEMPTS} as there.
   */
  *runFromStream(stream: ImageStream): ProcessGenerator<void> {
    const { sim } = this.#o;
    this.stats.startedAt = sim.now;
    yield stream((lba, versions) => sim.process(this.#writePiece(lba, versions), "copier piece"));
    yield* this.#copyAbsent();
  }

  /** Writes one stream piece; a piece the disk failed stays absent and counts as a failed copy. */
  *#writePiece(lba: number, versions: Int32Array): ProcessGenerator<void> {
    yield* this.#write(lba, versions);
    // A chunk's failure is counted by #copyAbsent(), which also retries it; a piece's only here.
    if (!this.#o.map.isPresent(lba, versions.length)) this.stats.failedCopies++;
  }

  /**
   * Asks the policy until it lets `versions` go to the disk at `lba`, then
   * writes the absent sectors; counts what it wrote, not whether it failed
   * (the caller knows a chunk from a stream piece).
   */
  *#write(lba: number, versions: Int32Array, beforeWrite?: () => void): ProcessGenerator<void> {
    const { sim, io, policy } = this.#o;
    const bytes = versions.length * 512;
    const ctx = () => ({
      now: sim.now,
      lastGuestIo: io.lastGuestIo,
      guestOutstanding: io.guestOutstanding,
      chunkBytes: bytes,
      fetchOverlaps: this.#overlaps,
    });
    for (;;) {
      const d = policy.decide(ctx());
      if (d.action === "copy") break;
      yield sim.timeout(Math.max(1, d.at - sim.now));
    }
    beforeWrite?.();
    const delayBefore = io.guestQueueDelay;
    const written = (yield io.writeAbsent({ lba, versions })) as number;
    policy.copied(ctx(), io.guestQueueDelay - delayBefore);
    this.stats.chunksCopied++;
    this.stats.sectorsWritten += written;
    this.stats.sectorsSkipped += versions.length - written;
  }
}

/**
 * What is wrong with `order` as a copy order over an image of `sectors`
 * sectors (any size when absent): each entry must be a run `{ lba, count }`
 * of whole sectors within it, not empty. Empty when it is right; issues name
 * entries `<field>.<i>` (`field` defaults to "order").
 * @example
 * ```ts
 * import { copyOrderIssues } from "./copier.ts";
 * console.assert(copyOrderIssues([{ lba: 8, count: 8 }, { lba: 0, count: 4 }], { sectors: 16 }).length === 0);
 * const issues = copyOrderIssues([{ lba: 12, count: 8 }, { lba: 0, count: 0 }], { sectors: 16 });
 * console.assert(issues.map((i) => i.field).join() === "order.0,order.1");
 * console.assert(copyOrderIssues("x" as never)[0].message.startsWith("must be an array of runs { lba, count }"));
 * ```
 */
export function copyOrderIssues(
  order: readonly SectorRun[],
  at: { sectors?: number; field?: string } = {},
): FieldIssue[] {
  const { sectors = Infinity, field = "order" } = at;
  const within = Number.isFinite(sectors) ? `, within [0, ${sectors})` : "";
  const what = `{ lba, count } of whole sectors, lba >= 0, count >= 1${within}`;
  if (!Array.isArray(order)) {
    return [fieldIssue(field, `an array of runs ${what}`, showValue(order))];
  }
  return order.flatMap((r, i) =>
    typeof r === "object" && r !== null && isRun(r, sectors) && r.count >= 1
      ? []
      : [fieldIssue(`${field}.${i}`, `a run ${what}`, showValue(r))]
  );
}
