/**
 * Traces and curves the ELBO figures share (internal to this folder: `mod.ts` does not export it).
 * @module
 */
import { type Data, type Figure, seriesFigure } from "../../viz/mod.ts";
import type { BoundCurve } from "./importance.ts";

/** Values below this are drawn at it on logarithmic axes (which cannot show 0). */
export const LOG_FLOOR = 1e-10;

export function floored(v: number): number {
  return Math.max(v, LOG_FLOOR);
}

/** `x` to 5 significant digits, so that an executed notebook stays small. */
export function short(x: number): number {
  return Number(x.toPrecision(5));
}

export function markers(name: string, x: number[], y: number[], color: string, extra = {}): Data {
  return {
    type: "scatter",
    mode: "markers",
    name,
    x: x.map(short),
    y: y.map(short),
    marker: { color, size: 5, opacity: 0.7 },
    ...extra,
  } as Data;
}

export function line(name: string, x: number[], y: number[], color: string, dash = "dash"): Data {
  return { type: "scatter", mode: "lines", name, x, y, line: { color, dash, width: 1.5 } } as Data;
}

/** Curves of L_k (or L_k minus a reference) against k on a log axis, with standard-error bars. */
export function boundsFigure(
  curves: readonly BoundCurve[],
  options: { title?: string; yTitle?: string; reference?: { name: string; value: number } } = {},
): Figure {
  const ks = curves.flatMap((c) => c.points.map((p) => p.k));
  const series = curves.map((c) => ({
    name: c.name,
    x: c.points.map((p) => p.k),
    y: c.points.map((p) => p.mean),
    error: c.points.map((p) => p.stdError),
  }));
  const reference = options.reference
    ? [{
      name: options.reference.name,
      x: [Math.min(...ks), Math.max(...ks)],
      y: [options.reference.value, options.reference.value],
    }]
    : [];
  return seriesFigure([...series, ...reference], {
    title: options.title,
    xTitle: "k (importance samples)",
    yTitle: options.yTitle ?? "nats",
    xType: "log",
  });
}
