/**
 * Live training progress: in a notebook, one output updated in place (epoch, loss, ETA and an SVG
 * sparkline of the loss); elsewhere, a line on stderr (rewritten in place on a terminal).
 * @module
 */
import { oneOf } from "../base/mod.ts";
import type { TrainProgress } from "../train/mod.ts";
import { inNotebook } from "./display.ts";
import { escapeHtml } from "./html.ts";

/** Where progress goes: `auto` is the notebook inside Deno's kernel, text elsewhere. */
export type ProgressMode = "auto" | "notebook" | "text";

/** Options of {@linkcode progressDisplay}. */
export interface ProgressOptions {
  /** Shown before the numbers, e.g. the model's name. */
  title?: string;
  /** Default `auto`. */
  mode?: ProgressMode;
  /** Text mode's sink; default stderr. */
  write?: (text: string) => void;
  /** Text mode: rewrite one line with `\r` (a terminal) or print a line per epoch; default
   * whether stderr is a terminal. */
  isTerminal?: boolean;
  /** Least seconds between two updates (the end of an epoch always shows); default 0.5. */
  interval?: number;
}

/** A progress callback, to pass as a training loop's `onProgress`. */
export type ProgressCallback = (event: TrainProgress) => Promise<void>;

/** The most points the sparkline keeps (older ones are thinned out). */
const MAX_POINTS = 200;

/**
 * A callback that shows training progress in place, in a notebook or on stderr.
 * @param options a title, where to show it
 * @example
 * ```ts
 * await train(data, config, { onProgress: progressDisplay({ title: "VAE" }) });
 * ```
 */
export function progressDisplay(options: ProgressOptions = {}): ProgressCallback {
  const mode = oneOf("mode", options.mode ?? "auto", ["auto", "notebook", "text"]);
  const notebook = mode === "notebook" || (mode === "auto" && inNotebook());
  const interval = options.interval ?? 0.5;
  const points: [number, number][] = []; // [fractional epoch, train loss]
  const id = `vaelab-progress-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const write = options.write ?? ((text: string) => {
    Deno.stderr.writeSync(new TextEncoder().encode(text));
  });
  const terminal = options.isTerminal ?? (options.write ? false : Deno.stderr.isTerminal());
  let shown = false;
  let last = -Infinity;
  let label = "";
  return async (event) => {
    const progress = (event.epoch - 1 + event.step / event.steps) / event.epochs;
    // A new run of a grid starts a new sparkline.
    if ((event.label ?? "") !== label) points.length = 0;
    label = event.label ?? "";
    points.push([progress * event.epochs, event.loss]);
    if (points.length > MAX_POINTS) thin(points);
    const epochEnd = event.step >= event.steps;
    // The end of a run of a grid is not the end while other runs remain.
    const done = epochEnd && event.epoch >= event.epochs && !(event.remaining! > 0);
    const now = performance.now() / 1000;
    if (!epochEnd && now - last < interval) return;
    last = now;
    const line = describe(event, progress, done, options.title);
    if (notebook) {
      const bundle = {
        "text/plain": line,
        "text/html": progressHtml(line, points, testPoints(event), event.epochs),
      };
      await Deno.jupyter.display(bundle, { raw: true, display_id: id, update: shown });
      shown = true;
    } else if (terminal) {
      write(`\r${line}\x1b[K${epochEnd ? "\n" : ""}`);
    } else if (epochEnd) {
      write(`${line}\n`);
    }
  };
}

/** "VAE  epoch 3/10  step 120/469  loss 123.4  test 120.1  0:42 elapsed  ETA 1:20". */
function describe(event: TrainProgress, progress: number, done: boolean, title?: string): string {
  const parts = [
    `epoch ${event.epoch}/${event.epochs}`,
    `step ${event.step}/${event.steps}`,
    `loss ${formatLoss(event.loss)}`,
  ];
  const test = event.history.findLast((row) => row.split === "test" && row.epoch === event.epoch);
  if (test) parts.push(`test ${formatLoss(test.loss)}`);
  // The latest test record says whether the code is still in use.
  const latest = event.history.findLast((row) => row.split === "test");
  if (latest?.collapsed) parts.push("POSTERIOR COLLAPSED: no latent unit in use");
  if (done) {
    parts.push(`done in ${clock(event.seconds)}`);
  } else {
    parts.push(`${clock(event.seconds)} elapsed`);
    if (event.remaining !== undefined) {
      if (Number.isFinite(event.remaining)) parts.push(`${clock(event.remaining)} left in all`);
    } else if (progress > 0) parts.push(`ETA ${clock(event.seconds * (1 - progress) / progress)}`);
  }
  const head = [title, event.label].filter(Boolean).join("  ");
  return (head ? `${head}  ` : "") + parts.join("  ");
}

function formatLoss(loss: number): string {
  return Math.abs(loss) >= 1000 || !Number.isFinite(loss) ? loss.toFixed(0) : loss.toPrecision(4);
}

/** Seconds as m:ss or h:mm:ss. */
function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const mm = String(Math.floor(s / 60) % 60);
  const ss = String(s % 60).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm.padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/** Halve the points, keeping the first and the last. */
function thin(points: [number, number][]): void {
  const kept = points.filter((_, i) => i % 2 === 0 || i === points.length - 1);
  points.splice(0, points.length, ...kept);
}

function testPoints(event: TrainProgress): [number, number][] {
  const rows = event.history.filter((row) => row.split === "test");
  return rows.map((row): [number, number] => [row.epoch, row.loss]);
}

/** The text beside an SVG sparkline of the loss (train line, test dots) over all epochs. */
function progressHtml(
  line: string,
  train: readonly [number, number][],
  test: readonly [number, number][],
  epochs: number,
): string {
  const [w, h, pad] = [240, 48, 3];
  // The first steps' losses are far above the rest: scale to the later 80% of the points.
  const scaled = [...train.slice(Math.floor(train.length / 5)), ...test].map(([, y]) => y)
    .filter(Number.isFinite);
  const lo = scaled.length ? Math.min(...scaled) : 0;
  const hi = scaled.length ? Math.max(...scaled) : 1;
  const sx = (x: number) => (pad + (x / epochs) * (w - 2 * pad)).toFixed(1);
  const sy = (y: number) => {
    const t = hi > lo ? (Math.min(hi, Math.max(lo, y)) - lo) / (hi - lo) : 0.5;
    return (h - pad - t * (h - 2 * pad)).toFixed(1);
  };
  const polyline = train.filter(([, y]) => Number.isFinite(y)).map(([x, y]) => `${sx(x)},${sy(y)}`)
    .join(" ");
  const dots = test.filter(([, y]) => Number.isFinite(y))
    .map(([x, y]) => `<circle cx="${sx(x)}" cy="${sy(y)}" r="2.5" fill="#ff7f0e"/>`).join("");
  const done = train.length ? Number(sx(train[train.length - 1][0])) : pad;
  return `<div class="vaelab-progress" style="display:flex;gap:12px;align-items:center;` +
    `font:13px monospace">` +
    `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="loss">` +
    `<rect x="0" y="0" width="${w}" height="${h}" fill="#f4f4f4"/>` +
    `<rect x="0" y="${h - 2}" width="${done.toFixed(1)}" height="2" fill="#1f77b4"/>` +
    `<polyline points="${polyline}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>${dots}` +
    `</svg><span>${escapeHtml(line)}</span></div>`;
}
