/**
 * Show Plotly figures: as a notebook cell's value (a MIME bundle) and as a standalone HTML file.
 *
 * The kernel has no window, so plotly.js is never imported here: its minified bundle is read as
 * text and inlined into the HTML, once per kernel session (later figures reuse `window.Plotly`).
 * @module
 */
import type { Config, Data, Layout } from "plotly.js-dist";
import { packageUrl } from "../base/mod.ts";
import { escapeHtml, escapeScript } from "./html.ts";

export type { Config, Data, Layout };

/** The MIME type of a Plotly figure (JupyterLab's plotly extension, VS Code). */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** The symbol Deno's Jupyter kernel calls to display a cell's value. */
const JUPYTER_DISPLAY = Symbol.for("Jupyter.display");

/** The plotly.js bundle inlined into HTML: the cartesian traces (scatter, bar, heatmap...). */
const PLOTLY_JS = packageUrl("plotly.js-cartesian-dist-min", "plotly-cartesian.min.js");

/** One animation frame of a figure: new data for its traces, named for the slider. */
export interface FigureFrame {
  name: string;
  data: Data[];
}

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
  /** Animation frames (`{ name, data }`), which a layout slider steps through; none by default. */
  frames: FigureFrame[] = [];

  /** A figure from traces, a layout and a Plotly config. */
  constructor(data: Data[], layout: Partial<Layout> = {}, config: Partial<Config> = {}) {
    this.data = data;
    this.layout = layout;
    this.config = { responsive: true, displaylogo: false, ...config };
  }

  /** The figure as Plotly JSON: `{ data, layout, config }`, and `frames` when it has some. */
  toJSON(): {
    data: Data[];
    layout: Partial<Layout>;
    config: Partial<Config>;
    frames?: FigureFrame[];
  } {
    const json = { data: this.data, layout: this.layout, config: this.config };
    return this.frames.length ? { ...json, frames: this.frames } : json;
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

export function titleText(title: Partial<Layout>["title"]): string {
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
      window.Plotly.newPlot(element, figure);
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
