/**
 * Figures for metalcast results, built with Observable Plot on a headless DOM
 * (linkedom): OS-startup stacked bars, throughput over time with the
 * de-virtualization moment, grouped bars (storage MB/s, RDMA latency), per-node
 * phase timelines, labelled trade-off scatter plots, and paper-versus-simulation
 * tables. Figures render to a
 * standalone SVG, an HTML fragment, or a Jupyter display bundle.
 *
 * It sees only tidy rows (plain objects, see rows.ts), never simulation
 * objects, and imports no other part but npm packages. It deliberately does
 * not compute results (errors, totals beyond labels, pass/fail): experiments
 * do that. No canvas features (continuous colour legends, raster): they fail
 * without a browser; legends are drawn as marks inside the SVG.
 * @module
 */
export {
  barsFigure,
  type BarsFigureOptions,
  comparisonTable,
  displayUnit,
  type Figure,
  type FigureOptions,
  formatComparison,
  scatterFigure,
  type ScatterFigureOptions,
  startupFigure,
  throughputFigure,
  type ThroughputFigureOptions,
  timelineFigure,
} from "./figures.ts";
export { display, headlessDocument, type JupyterDisplayable, toHtml, toSvg } from "./render.ts";
export {
  type BarRow,
  checkBarRows,
  checkComparisonRows,
  checkPointRows,
  checkStartupRows,
  checkThroughputMarkers,
  checkThroughputRows,
  checkTimelineRows,
  type ComparisonRow,
  type PointRow,
  type Source,
  type StartupRow,
  type ThroughputMarker,
  type ThroughputRow,
  type TimelineRow,
} from "./rows.ts";
export {
  categoryColors,
  OPERATION_COLORS,
  PALETTE,
  seriesColors,
  SOURCE_STYLE,
  SYSTEM_COLORS,
  systemColor,
  THEME,
} from "./theme.ts";
