/**
 * A figure with a slider: one figure per step (an epoch, a beta...), drawn as Plotly animation
 * frames, so the slider works in a saved notebook or an HTML report without a kernel.
 * @module
 */
import { Figure } from "./display.ts";

/**
 * One figure whose slider shows each of `figures` in turn; the last (shown first) sets the layout, and every
 * figure must have the same traces.
 * @param figures one per slider step, e.g. `digitGridFigure(...)` after each epoch
 * @param options the slider's labels (default 1, 2, ...) and the text before them
 * @example
 * ```ts
 * sliderFigure(run.snapshots.map((pixels) => digitGridFigure(pixels, { cols: 16 })), {
 *   prefix: "epoch ",
 * });
 * ```
 */
export function sliderFigure(
  figures: readonly Figure[],
  options: { labels?: readonly string[]; prefix?: string } = {},
): Figure {
  if (figures.length === 0) throw new RangeError("sliderFigure needs at least one figure; got 0");
  const labels = options.labels ?? figures.map((_, i) => String(i + 1));
  if (labels.length !== figures.length) {
    throw new RangeError(`labels must name the ${figures.length} figures; got ${labels.length}`);
  }
  const last = figures.at(-1)!;
  const steps = labels.map((label) => ({
    label,
    method: "animate",
    args: [[label], {
      mode: "immediate",
      frame: { duration: 0, redraw: true },
      transition: { duration: 0 },
    }],
  }));
  const margin = last.layout.margin ?? {};
  const layout = {
    ...last.layout,
    height: (typeof last.layout.height === "number" ? last.layout.height : 420) + 70,
    margin: { ...margin, b: (margin.b ?? 8) + 70 },
    sliders: [{
      active: figures.length - 1,
      currentvalue: { prefix: options.prefix ?? "" },
      pad: { t: 10 },
      steps,
    }],
  };
  // The last step shows first: what training ends with.
  const figure = new Figure(last.data, layout as Figure["layout"], last.config);
  figure.frames = figures.map((f, i) => ({ name: labels[i], data: f.data }));
  return figure;
}
