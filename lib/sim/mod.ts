/**
 * The discrete-event kernel (SimPy semantics, SimGrid-style flow sharing):
 * integer-nanosecond clock; calendar queue ordered by (time, priority, sequence);
 * generator processes with interrupts; plain, cancellable callbacks for hot paths;
 * resources and stores; max-min fair bandwidth sharing; seeded named random
 * streams; a recorder of tidy rows. It models no hardware.
 * @module
 */
export { EventQueue, type EventQueueStats, MAX_PRIORITY, NORMAL, URGENT } from "./event_queue.ts";
export {
  type EventState,
  Interrupt,
  Process,
  type ProcessGenerator,
  SimEvent,
  Simulation,
  type SimulationOptions,
  Timer,
} from "./simulation.ts";
export { Request, Resource, type ResourceStats, Store, StoreEvent } from "./resources.ts";
export { Flow, FlowNetwork, type FlowOptions, Link, type LinkOptions } from "./flow.ts";
export { RandomStream, RngStreams } from "./rng.ts";
export { Recorder, type SampleRow, type SpanRow } from "./recorder.ts";
