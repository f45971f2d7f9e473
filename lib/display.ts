/**
 * Show Plotly figures: as a notebook cell's value (a MIME bundle) and as a standalone HTML file.
 *
 * The kernel has no window, so plotly.js is never imported here: its minified bundle is read as
 * text and inlined into the HTML, once per kernel session (later figures reuse `window.Plotly`).
 * @module
 */
import type { Config, Data, Layout } from "plotly.js-dist";

export type { Config, Data, Layout };

/** The MIME type of a Plotly figure (JupyterLab's plotly extension, VS Code). */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** The symbol Deno's Jupyter kernel calls to display a cell's value. */
const JUPYTER_DISPLAY = Symbol.for("Jupyter.display");

/** The plotly.js bundle inlined into HTML: the cartesian traces (scatter, bar, heatmap...). */
const PLOTLY_JS = new URL(
  "../node_modules/plotly.js-cartesian-dist-min/plotly-cartesian.min.js",
  import.meta.url,
);

/** A MIME bundle: MIME type -> content, as Jupyter's display messages carry it. */
export type MimeBundle = Record<string, string | object>;

/** A Plotly figure that displays itself when it is a notebook cell's value. */
export class Figure {
  /** Traces. */
  data: Data[];
  /** Layout; `height` also sizes the HTML container (default 420 px). */
  layout: Partial<Layout>;
  /** Plotly's config (responsive, no logo, by default). */
  config: Partial<Config>;

  /** A figure from traces, a layout and a Plotly config. */
  constructor(data: Data[], layout: Partial<Layout> = {}, config: Partial<Config> = {}) {
    this.data = data;
    this.layout = layout;
    this.config = { responsive: true, displaylogo: false, ...config };
  }

  /** The figure as Plotly JSON: `{ data, layout, config }`. */
  toJSON(): { data: Data[]; layout: Partial<Layout>; config: Partial<Config> } {
    return { data: this.data, layout: this.layout, config: this.config };
  }

  /** A one-line description: the title and the traces. */
  toString(): string {
    const title = titleText(this.layout.title);
    const kinds = new Map<string, number>();
    for (const trace of this.data) {
      const kind = (trace as { type?: string }).type ?? "scatter";
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    const traces = [...kinds].map(([kind, n]) => `${n} ${kind}`).join(", ");
    return `Figure${title ? ` "${title}"` : ""}: ${traces || "no traces"}`;
  }

  /** Called by Deno's kernel: the bundle of {@linkcode figureBundle}. */
  [JUPYTER_DISPLAY](): MimeBundle {
    return figureBundle(this);
  }
}

function titleText(title: Partial<Layout>["title"]): string {
  return typeof title === "object" && title?.text ? String(title.text) : "";
}

let libraryShown = false;

/**
 * The MIME bundle of a figure: Plotly JSON, HTML and plain text.
 *
 * The HTML of the first figure of a session carries plotly.js; later ones reuse `window.Plotly`.
 */
export function figureBundle(figure: Figure): MimeBundle {
  const library = !libraryShown;
  const bundle = {
    [PLOTLY_MIME]: JSON.parse(figureJson(figure)),
    "text/html": figureHtml(figure, { library }),
    "text/plain": figure.toString(),
  };
  libraryShown = true;
  return bundle;
}

/** Make the next figure displayed carry plotly.js again (e.g. after clearing all outputs). */
export function resetPlotlyInlining(): void {
  libraryShown = false;
}

let librarySource: string | undefined;

/** The plotly.js bundle as a script that sets `window.Plotly`, also under requirejs. */
export function plotlyScript(): string {
  if (librarySource === undefined) {
    let source: string;
    try {
      source = Deno.readTextFileSync(PLOTLY_JS);
    } catch (error) {
      throw new Error(`plotly.js not found at ${PLOTLY_JS.pathname}: run \`deno install\``, {
        cause: error,
      });
    }
    // `define`, `module` and `exports` are shadowed so that a UMD bundle under requirejs (classic
    // Notebook, nbconvert's HTML) or a CommonJS loader still takes its browser-global branch.
    librarySource = `(function (define, module, exports) {\n${
      escapeScript(source)
    }\n}).call(window);`;
  }
  return `<script type="text/javascript">${librarySource}</script>`;
}

/** Options of {@linkcode figureHtml}. */
export interface FigureHtmlOptions {
  /** Inline plotly.js before the figure; default false. */
  library?: boolean;
}

let counter = 0;

/** An HTML fragment that draws the figure with `window.Plotly`, waiting for it if needed. */
export function figureHtml(figure: Figure, options: FigureHtmlOptions = {}): string {
  const id = `vaelab-plot-${Date.now().toString(36)}-${(counter++).toString(36)}`;
  const height = typeof figure.layout.height === "number" ? figure.layout.height : 420;
  const json = escapeScript(figureJson(figure));
  // Classic Notebook runs an output's scripts before attaching it to the page, and a figure can
  // render before the output carrying plotly.js: so retry until both the element and Plotly exist.
  const draw = `(function () {
  var id = "${id}", figure = ${json}, tries = 0;
  function attempt() {
    var element = document.getElementById(id);
    if (element && window.Plotly) {
      element.textContent = "";
      window.Plotly.newPlot(element, figure.data, figure.layout, figure.config);
      return;
    }
    tries += 1;
    if (element && tries === 50) {
      element.textContent = "plotly.js is not loaded on this page: it comes with the first " +
        "figure of a kernel session. Re-run the notebook, or call resetPlotlyInlining() and " +
        "re-run this cell.";
    }
    if (tries < 3000) setTimeout(attempt, 100);
  }
  attempt();
})();`;
  return (options.library ? plotlyScript() : "") +
    `<div id="${id}" class="vaelab-plot" style="width:100%;height:${height}px"></div>` +
    `<script type="text/javascript">${draw}</script>`;
}

/** Options of {@linkcode toHtml} and {@linkcode writeHtml}. */
export interface HtmlPageOptions {
  /** The page's title; default the first figure's title, else "vaelab". */
  title?: string;
}

/** A standalone HTML page (plotly.js inlined, opens offline) showing the figures in order. */
export function toHtml(figures: Figure | readonly Figure[], options: HtmlPageOptions = {}): string {
  const list = figures instanceof Figure ? [figures] : figures;
  const title = options.title ?? (titleText(list[0]?.layout.title) || "vaelab");
  const body = list.map((figure) => figureHtml(figure)).join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
${plotlyScript()}
</head>
<body style="margin:16px;font-family:sans-serif">
${body}
</body>
</html>
`;
}

/** Write a standalone HTML file of one or several figures (for use outside a notebook). */
export async function writeHtml(
  figures: Figure | readonly Figure[],
  path: string | URL,
  options: HtmlPageOptions = {},
): Promise<void> {
  await Deno.writeTextFile(path, toHtml(figures, options));
}

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

/** Whether this code runs inside Deno's Jupyter kernel (`Deno.jupyter` throws elsewhere). */
export function inNotebook(): boolean {
  try {
    return typeof Deno.jupyter?.broadcast === "function";
  } catch {
    return false;
  }
}

/** The figure as JSON, typed arrays written as arrays (plain `JSON.stringify` makes objects). */
function figureJson(figure: Figure): string {
  return JSON.stringify(
    figure,
    (_key, value) => ArrayBuffer.isView(value) ? Array.from(value as Float32Array) : value,
  );
}

/** Keep a text safe inside an inline `<script>`: no `</script` or `<!--` can end or upset it. */
function escapeScript(text: string): string {
  return text.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
