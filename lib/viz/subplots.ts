/**
 * Several figures as one: a grid of panels, each keeping its axes, annotations and title.
 * @module
 */
import { type Data, Figure, type Layout, titleText } from "./display.ts";
import { escapeHtml } from "./html.ts";

/** The width in pixels that {@linkcode subplots} assumes when it turns margins into fractions. */
const WIDTH = 1000;

/** Options of {@linkcode subplots}. */
export interface SubplotOptions {
  title?: string;
  /** Figures per row; default 2 (1 for a single figure). */
  columns?: number;
  /** Height of a row in pixels; default the tallest figure of the row. */
  rowHeight?: number;
}

/** Several figures as one (a grid of panels), each keeping its axes, annotations and title. */
/**
 * Several figures as one (a grid of panels), each keeping its axes, annotations and title;
 * a legend entry shared by panels shows once.
 * @example
 * ```ts
 * subplots([latentFigure(ae.mean, labels), latentFigure(vae.mean, labels)], { columns: 2 });
 * ```
 */
export function subplots(figures: readonly Figure[], options: SubplotOptions = {}): Figure {
  const columns = options.columns ?? Math.min(2, figures.length);
  if (figures.length === 0) throw new RangeError("subplots needs at least one figure");
  if (!(columns >= 1)) throw new RangeError(`columns must be >= 1; got ${columns}`);
  const rows = Math.ceil(figures.length / columns);
  // Each panel keeps its figure's margins (in pixels, for a plot about WIDTH wide) around a plot
  // area as tall as the figure's; one sized for the full width with a fixed aspect (a digit grid:
  // y constrained to its domain) shrinks with its width.
  const margins = figures.map((f) => {
    const m = f.layout.margin ?? {};
    const t = Math.max(m.t ?? 40, titleText(f.layout.title) ? 36 : 10);
    return { l: m.l ?? 60, r: m.r ?? 20, t, b: m.b ?? 50 };
  });
  const inner = figures.map((f, i) => {
    const plot = (f.layout.height ?? 420) - margins[i].t - margins[i].b;
    const y = f.layout.yaxis as { scaleanchor?: unknown; constrain?: string } | undefined;
    return y?.scaleanchor && y.constrain === "domain" ? plot / columns : plot;
  });
  const heights = Array.from({ length: rows }, (_, r) => {
    const row = figures.map((_, i) => i).slice(r * columns, (r + 1) * columns);
    return options.rowHeight ?? Math.max(...row.map((i) => inner[i] + margins[i].t + margins[i].b));
  });
  const total = heights.reduce((a, b) => a + b, 0);
  const top = options.title ? 60 : 10;
  const data: Data[] = [];
  const annotations: NonNullable<Layout["annotations"]> = [];
  const layout: Record<string, unknown> = {
    height: total + top + 40,
    margin: { l: 0, r: 0, t: top, b: 40 },
    legend: { orientation: "h", y: 0, yanchor: "top" },
  };
  if (options.title) layout.title = { text: options.title };
  const legend = new Set<string>();
  const next = { x: 1, y: 1 };
  figures.forEach((figure, i) => {
    const r = Math.floor(i / columns);
    const c = i % columns;
    const y1 = 1 - heights.slice(0, r).reduce((a, b) => a + b, 0) / total;
    const m = margins[i];
    const cell = {
      x: [c / columns + m.l / WIDTH, (c + 1) / columns - m.r / WIDTH],
      y: [y1 - (heights[r] - m.b) / total, y1 - m.t / total],
    };
    // This figure's axis ids ("x", "y2") to fresh ones of the combined figure.
    const ids = new Map<string, string>();
    const rename = (id: string) => {
      let fresh = ids.get(id);
      if (fresh === undefined) {
        const letter = id[0] as "x" | "y";
        fresh = `${letter}${next[letter] === 1 ? "" : next[letter]}`;
        next[letter] += 1;
        ids.set(id, fresh);
      }
      return fresh;
    };
    const refs = (value: unknown) =>
      typeof value === "string" && /^[xy]\d*( domain)?$/.test(value)
        ? value.replace(/^[xy]\d*/, (id) => rename(id))
        : value;
    const source = figure.layout as Record<string, unknown>;
    const axisIds = new Set(
      Object.keys(source).filter((k) => /^[xy]axis\d*$/.test(k))
        .map((k) => k[0] + k.slice(5)),
    );
    for (const trace of figure.data as { xaxis?: string; yaxis?: string }[]) {
      axisIds.add(trace.xaxis ?? "x").add(trace.yaxis ?? "y");
    }
    for (const id of [...axisIds].sort()) {
      const axis = { ...(source[`${id[0]}axis${id.slice(1)}`] ?? {}) } as Record<string, unknown>;
      const span = id[0] === "x" ? cell.x : cell.y;
      const [d0, d1] = (axis.domain as number[] | undefined) ?? [0, 1];
      axis.domain = [span[0] + d0 * (span[1] - span[0]), span[0] + d1 * (span[1] - span[0])];
      for (const key of ["anchor", "scaleanchor", "matches", "overlaying"]) {
        if (key in axis) axis[key] = refs(axis[key]);
      }
      // Without an anchor an axis would sit by the first panel's: pair x2 with y2, else with y.
      const other = (id[0] === "x" ? "y" : "x") + id.slice(1);
      axis.anchor ??= rename(axisIds.has(other) ? other : other[0]);
      const name = rename(id);
      layout[`${name[0]}axis${name.slice(1)}`] = axis;
    }
    for (const trace of figure.data) {
      const t = { ...trace } as Record<string, unknown>;
      t.xaxis = rename((t.xaxis as string | undefined) ?? "x");
      t.yaxis = rename((t.yaxis as string | undefined) ?? "y");
      const key = (t.legendgroup ?? t.name) as string | undefined;
      if (key !== undefined && t.showlegend !== false) {
        t.legendgroup = key;
        if (legend.has(key)) t.showlegend = false;
        legend.add(key);
      }
      data.push(t as Data);
    }
    for (const note of figure.layout.annotations ?? []) {
      const n = { ...note } as Record<string, unknown>;
      for (const [ref, span] of [["xref", cell.x], ["yref", cell.y]] as const) {
        const value = n[ref] ?? "paper";
        if (value === "paper") {
          n[ref] = "paper";
          n[ref[0]] = span[0] + Number(n[ref[0]] ?? 0.5) * (span[1] - span[0]);
        } else n[ref] = refs(value);
      }
      annotations.push(n as (typeof annotations)[number]);
    }
    const title = titleText(figure.layout.title);
    if (title) {
      annotations.push({
        text: `<b>${escapeHtml(title)}</b>`,
        xref: "paper",
        yref: "paper",
        x: (cell.x[0] + cell.x[1]) / 2,
        y: cell.y[1] + 6 / total,
        xanchor: "center",
        yanchor: "bottom",
        showarrow: false,
      });
    }
  });
  layout.annotations = annotations;
  return new Figure(data, layout as Partial<Layout>);
}
