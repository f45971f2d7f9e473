/**
 * Plotly figures of what vaelab measures: training histories, 2-D latent spaces, digit grids and
 * comparisons of named series. Each builder returns a {@linkcode Figure}, which displays itself as a
 * notebook cell's value; outside a notebook, {@linkcode writeHtml} writes it to a file.
 *
 * Data reach the browser small, so that an executed notebook stays small: digit grids as one byte
 * per pixel and latent points as float32, both base64 (Plotly's typed-array spec); curves rounded
 * to 5 significant digits.
 * @module
 */
import type { EpochRecord } from "../train/mod.ts";
import { packed, round, subset } from "./_encode.ts";
import { type Data, Figure, type Layout } from "./display.ts";

/** A term of a history record that {@linkcode historyFigure} can draw. */
export type HistoryMetric = "loss" | "reconstruction" | "kl";

/** Colours of the ten digits and of successive series (Plotly's default qualitative palette). */
export const PALETTE: readonly string[] = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

const METRIC_TITLES: Record<HistoryMetric, string> = {
  loss: "loss (nats)",
  reconstruction: "reconstruction (nats)",
  kl: "KL (nats)",
};

/** Options of {@linkcode historyFigure}. */
export interface HistoryFigureOptions {
  title?: string;
  /** Panels, left to right; default loss, reconstruction and KL. */
  metrics?: readonly HistoryMetric[];
  /** Logarithmic y axes; default false. */
  logY?: boolean;
}

/**
 * Training curves: one panel per metric against the epoch, train solid and test dashed.
 * Several named runs (`{ AE: history, VAE: history }`) get one colour each.
 * @param history one run's records, or named runs' records
 * @param options which term to draw, the title
 * @example
 * ```ts
 * historyFigure({ AE: ae.history, VAE: vae.history }, { title: "Training curves" });
 * ```
 */
export function historyFigure(
  history: readonly EpochRecord[] | Readonly<Record<string, readonly EpochRecord[]>>,
  options: HistoryFigureOptions = {},
): Figure {
  const runs = isRecordArray(history) ? [["", history] as const] : Object.entries(history);
  if (runs.every(([, records]) => records.length === 0)) {
    throw new RangeError("history has no records");
  }
  const metrics = options.metrics ?? ["loss", "reconstruction", "kl"];
  const data: Data[] = [];
  const layout: Partial<Layout> & Record<string, unknown> = {
    height: 380,
    margin: { l: 60, r: 20, t: options.title ? 50 : 20, b: 90 },
    legend: { orientation: "h", y: -0.3 },
  };
  if (options.title) layout.title = { text: options.title };
  const width = 1 / metrics.length;
  const lastEpoch = Math.max(...runs.flatMap(([, records]) => records.map((row) => row.epoch)));
  metrics.forEach((metric, panel) => {
    const suffix = panel === 0 ? "" : String(panel + 1);
    layout[`xaxis${suffix}`] = {
      domain: [panel * width + (panel > 0 ? 0.04 : 0), (panel + 1) * width - 0.04],
      anchor: `y${suffix}`,
      title: { text: "epoch" },
      dtick: lastEpoch <= 12 ? 1 : undefined, // no ticks at half epochs
    };
    layout[`yaxis${suffix}`] = {
      anchor: `x${suffix}`,
      title: { text: METRIC_TITLES[metric] },
      type: options.logY ? "log" : "linear",
    };
    runs.forEach(([run, records], r) => {
      for (const [s, split] of (["train", "test"] as const).entries()) {
        const rows = records.filter((row) => row.split === split)
          .sort((a, b) => a.epoch - b.epoch);
        if (rows.length === 0) continue;
        const name = run ? `${run} ${split}` : split;
        data.push({
          type: "scatter",
          mode: rows.length <= 30 ? "lines+markers" : "lines",
          name,
          legendgroup: name,
          showlegend: panel === 0,
          x: rows.map((row) => row.epoch),
          y: rows.map((row) => round(row[metric], 5)),
          line: { color: PALETTE[(run ? r : s) % PALETTE.length], dash: s ? "dash" : "solid" },
          xaxis: `x${suffix}`,
          yaxis: `y${suffix}`,
        } as Data);
      }
    });
  });
  return new Figure(data, layout);
}

function isRecordArray(value: unknown): value is readonly EpochRecord[] {
  return Array.isArray(value);
}

/** Options of {@linkcode latentFigure}. */
export interface LatentFigureOptions {
  title?: string;
  /** Draw at most this many points (a fixed subset); default all. */
  maxPoints?: number;
  /** Marker diameter in pixels; default 4. */
  markerSize?: number;
}

/**
 * A 2-D latent space: `points` is `[n, 2]` (row-major), one colour per digit label.
 * @param codes 2-D codes, [n * 2]
 * @param labels each code's digit
 * @param options the title
 * @example
 * ```ts
 * latentFigure(encodeAll(model, data.test).mean, data.test.labels, { title: "VAE codes" });
 * ```
 */
export function latentFigure(
  points: Float32Array,
  labels: Uint8Array,
  options: LatentFigureOptions = {},
): Figure {
  const n = labels.length;
  if (points.length !== 2 * n) {
    throw new RangeError(
      `points must hold 2 numbers per label ([n, 2]): got ${points.length} for ${n} labels`,
    );
  }
  const maxPoints = options.maxPoints ?? n;
  if (!(maxPoints >= 1)) throw new RangeError(`maxPoints must be >= 1; got ${maxPoints}`);
  const chosen = subset(n, maxPoints);
  const digits = [...new Set(chosen.map((i) => labels[i]))].sort((a, b) => a - b);
  const data = digits.map((label): Data => {
    const mine = chosen.filter((i) => labels[i] === label);
    const x = Float32Array.from(mine, (i) => points[2 * i]);
    const y = Float32Array.from(mine, (i) => points[2 * i + 1]);
    return {
      type: "scatter",
      mode: "markers",
      name: String(label),
      x: packed(x) as unknown as number[],
      y: packed(y) as unknown as number[],
      marker: {
        size: options.markerSize ?? 4,
        color: PALETTE[label % PALETTE.length],
        opacity: 0.7,
      },
      hovertemplate: `digit ${label}<br>z₁ %{x:.3g}<br>z₂ %{y:.3g}<extra></extra>`,
    };
  });
  return new Figure(data, {
    title: options.title ? { text: options.title } : undefined,
    height: 480,
    margin: { l: 50, r: 20, t: options.title ? 50 : 20, b: 50 },
    xaxis: { title: { text: "z₁" } },
    yaxis: { title: { text: "z₂" }, scaleanchor: "x" },
    legend: { title: { text: "digit" }, itemsizing: "constant" },
  });
}

/** Options of {@linkcode digitGridFigure}. */
export interface DigitGridOptions {
  title?: string;
  /** Rows of the grid; default enough for `cols`. */
  rows?: number;
  /** Columns of the grid; default `ceil(n / rows)`, or min(n, 10) without `rows`. */
  cols?: number;
  /** Side of an image in pixels; default 28 (MNIST). */
  side?: number;
  /** A label left of each row (e.g. "input", "AE", "VAE"). */
  rowLabels?: readonly string[];
  /** A label above each column. */
  colLabels?: readonly string[];
}

/**
 * Images as one greyscale heatmap: `pixels` is `[n * side * side]` in [0, 1] (0 black, 1 white),
 * laid out row by row with a one-pixel white gap between images.
 * @param pixels images, [n * 784] in [0, 1]
 * @param options columns, title, row labels
 * @example
 * ```ts
 * digitGridFigure(decodeCodes(model, z), { title: "samples", cols: 10 });
 * ```
 */
export function digitGridFigure(pixels: Float32Array, options: DigitGridOptions = {}): Figure {
  const side = options.side ?? 28;
  const size = side * side;
  if (!Number.isInteger(side) || side < 1) throw new RangeError(`side must be >= 1; got ${side}`);
  const n = pixels.length / size;
  if (!Number.isInteger(n) || n === 0) {
    throw new RangeError(`pixels must hold n * ${size} values with n >= 1; got ${pixels.length}`);
  }
  const cols = options.cols ?? (options.rows ? Math.ceil(n / options.rows) : Math.min(n, 10));
  const rows = options.rows ?? Math.ceil(n / cols);
  if (!(rows >= 1 && cols >= 1 && rows * cols >= n)) {
    throw new RangeError(`rows * cols must be at least the ${n} images; got ${rows} * ${cols}`);
  }
  const pitch = side + 1;
  const height = rows * pitch - 1;
  const width = cols * pitch - 1;
  // [height, width] grey levels 0..255 (one byte each, sent base64), white in the gaps.
  const z = new Uint8Array(height * width).fill(255);
  for (let k = 0; k < n; k++) {
    const top = Math.floor(k / cols) * pitch;
    const left = (k % cols) * pitch;
    for (let i = 0; i < side; i++) {
      for (let j = 0; j < side; j++) {
        const v = pixels[k * size + i * side + j];
        z[(top + i) * width + left + j] = Number.isFinite(v)
          ? Math.round(255 * Math.min(1, Math.max(0, v)))
          : 255;
      }
    }
  }
  const annotations: NonNullable<Layout["annotations"]> = [];
  options.rowLabels?.forEach((text, r) =>
    annotations.push({
      text,
      xref: "x",
      yref: "y",
      x: -1,
      y: r * pitch + side / 2,
      xanchor: "right",
      showarrow: false,
    })
  );
  options.colLabels?.forEach((text, c) =>
    annotations.push({
      text,
      xref: "x",
      yref: "y",
      x: c * pitch + side / 2,
      y: -1,
      yanchor: "bottom",
      showarrow: false,
    })
  );
  const top = (options.title ? 40 : 8) + (options.colLabels ? 20 : 0);
  const left = options.rowLabels ? 80 : 8;
  const scale = Math.min(3, 880 / width);
  return new Figure([{
    type: "heatmap",
    z: packed(z, [height, width]) as unknown as number[][],
    zmin: 0,
    zmax: 255,
    colorscale: [[0, "#000000"], [1, "#ffffff"]],
    showscale: false,
    hovertemplate: "grey level %{z}<extra></extra>",
  }], {
    title: options.title ? { text: options.title } : undefined,
    height: Math.round(height * scale) + top + 8,
    margin: { l: left, r: 8, t: top, b: 8 },
    xaxis: { visible: false, constrain: "domain" },
    yaxis: { visible: false, autorange: "reversed", scaleanchor: "x", constrain: "domain" },
    annotations,
  });
}

/** A named series of {@linkcode seriesFigure}. */
export interface Series {
  name: string;
  x: readonly (number | string)[];
  y: readonly number[];
  /** Half-widths of error bars. */
  error?: readonly number[];
  /** A label next to each point (line charts). */
  text?: readonly string[];
}

/** Options of {@linkcode seriesFigure}. */
export interface SeriesFigureOptions {
  title?: string;
  /** Curves (default) or grouped bars. */
  kind?: "line" | "bar";
  xTitle?: string;
  yTitle?: string;
  xType?: "linear" | "log" | "category";
  yType?: "linear" | "log";
  height?: number;
}

/** Named series compared as curves or grouped bars (e.g. rate against beta, log p(x) per model). */
export function seriesFigure(series: readonly Series[], options: SeriesFigureOptions = {}): Figure {
  const data = series.map((s, i): Data => {
    if (s.x.length !== s.y.length) {
      throw new RangeError(`series "${s.name}": x has ${s.x.length} values but y ${s.y.length}`);
    }
    const color = PALETTE[i % PALETTE.length];
    const error = s.error
      ? { error_y: { type: "data", array: s.error.map((e) => round(e, 4)) } }
      : {};
    const common = {
      name: s.name,
      x: [...s.x],
      y: s.y.map((y) => round(y, 5)),
      ...error,
    };
    if (options.kind === "bar") return { type: "bar", marker: { color }, ...common } as Data;
    return {
      type: "scatter",
      mode: s.text ? "lines+markers+text" : "lines+markers",
      text: s.text ? [...s.text] : undefined,
      textposition: "top center",
      line: { color },
      ...common,
    } as Data;
  });
  return new Figure(data, {
    title: options.title ? { text: options.title } : undefined,
    height: options.height ?? 400,
    margin: { l: 60, r: 20, t: options.title ? 50 : 20, b: 50 },
    barmode: "group",
    xaxis: { title: { text: options.xTitle ?? "" }, type: options.xType },
    yaxis: { title: { text: options.yTitle ?? "" }, type: options.yType },
  });
}
