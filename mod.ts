/**
 * metalcast: simulate streaming OS deployment on bare-metal clouds (BMcast,
 * ASPLOS 2015) at the device interface. Named re-exports only.
 * @module
 */
export {
  Flow,
  FlowNetwork,
  Interrupt,
  Link,
  Process,
  RandomStream,
  Recorder,
  Request,
  Resource,
  RngStreams,
  SimEvent,
  Simulation,
  Store,
} from "./lib/sim/mod.ts";
export type {
  FlowOptions,
  LinkOptions,
  ProcessGenerator,
  ResourceStats,
  SampleRow,
  SimulationOptions,
  SpanRow,
} from "./lib/sim/mod.ts";
export { micros, millis, seconds, toSeconds } from "./lib/_util/mod.ts";
export type { Bytes, Gpa, Lba, SimTime } from "./lib/_util/mod.ts";
