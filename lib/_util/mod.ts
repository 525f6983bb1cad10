/**
 * Shared units, error and command-line helpers. Imports nothing.
 * @module
 */
export {
  type Bytes,
  type Gpa,
  type Lba,
  micros,
  millis,
  NS_PER_S,
  seconds,
  type SimTime,
  toSeconds,
  transferTime,
} from "./units.ts";
export {
  closestNames,
  didYouMean,
  type FieldIssue,
  fieldIssue,
  invariant,
  InvariantError,
  issuesError,
  issuesMessage,
  numberIssue,
  type NumberRule,
  numberRuleText,
  type ParamsSchema,
  parseParams,
  rangeError,
  requireFraction,
  requireNumber,
  requireSectorRange,
  type SchemaIssue,
  schemaIssues,
  showValue,
  unknownKeyIssues,
  valueAt,
  withDefaults,
} from "./errors.ts";
export { type ComparisonRow, errorText, paperText } from "./comparison.ts";
export { isRun, mergeRuns, type Run, RunSet, splitRun } from "./runs.ts";
export { csv, textTable } from "./text.ts";
export {
  type CommandIo,
  decimalNumber,
  decimalRule,
  type FlagOptions,
  type Flags,
  intFlag,
  MAX_SEED,
  outDirIssue,
  outFileIssue,
  parseFlags,
  PROCESS_IO,
  progressLine,
  type ProgressStream,
  readFlags,
  seedRangeIssue,
  smallFlag,
  valueOfText,
  valuesOfText,
  writeAll,
  writeFilesAtomically,
  writeOutputs,
} from "./cli.ts";
export { callInWorker, runPool, type WorkerCall } from "./worker.ts";
export { concatVersions, IMAGE_VERSION, NO_VERSION, VersionMap } from "./version_map.ts";
