/**
 * Figures and what shows them: Plotly figures that display themselves in a notebook (and write
 * standalone HTML), subplots, the project's plots, live training progress and tables. It
 * imports `base`, and only the types of the records it draws from `train`.
 * @module
 */
export * from "./display.ts";
export * from "./frames.ts";
export * from "./heatmap.ts";
export * from "./plots.ts";
export * from "./progress.ts";
export * from "./subplots.ts";
export * from "./table.ts";
