/**
 * A heatmap of a small matrix of numbers, e.g. each latent unit's KL (rows) for each beta
 * (columns).
 * @module
 */
import type { Data } from "./display.ts";
import { Figure } from "./display.ts";

/** What {@linkcode heatmapFigure} draws. */
export interface HeatmapOptions {
  /** Values [rows][columns]. */
  z: readonly (readonly number[])[];
  /** A label per column and per row. */
  x: readonly (string | number)[];
  y: readonly (string | number)[];
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** The colour bar's title. */
  zTitle?: string;
}

/**
 * A heatmap with labelled rows and columns, rounded to 4 significant digits.
 * @example
 * ```ts
 * heatmapFigure({ z: [[1, 2], [3, 4]], x: ["beta 1", "beta 4"], y: ["unit 1", "unit 2"] });
 * ```
 */
export function heatmapFigure(options: HeatmapOptions): Figure {
  const { z, x, y } = options;
  if (z.length !== y.length || z.some((row) => row.length !== x.length)) {
    throw new RangeError(`z must be [${y.length}][${x.length}] for its labels`);
  }
  const trace = {
    type: "heatmap",
    z: z.map((row) => row.map((v) => Number(v.toPrecision(4)))),
    x: x.map(String),
    y: y.map(String),
    colorscale: "Viridis",
    colorbar: { title: { text: options.zTitle ?? "" } },
  } as unknown as Data;
  return new Figure([trace], {
    title: options.title ? { text: options.title } : undefined,
    xaxis: { title: { text: options.xTitle ?? "" }, type: "category" },
    yaxis: { title: { text: options.yTitle ?? "" }, type: "category", autorange: "reversed" },
    height: Math.min(700, 120 + 22 * y.length),
  });
}
