/**
 * Figures and tables of the game in two dimensions (notebook 08): each snapshot of a ring GAN as
 * the discriminator's contour, the real ring, the generator's samples and the direction its loss
 * pushes them; a slider over the snapshots; the modes covered over training; and each schedule's
 * summary over seeds.
 * @module
 */
import { spread } from "../base/mod.ts";
import {
  type Data,
  Figure,
  PALETTE,
  seriesFigure,
  sliderFigure,
  type Table,
  table,
} from "../viz/mod.ts";
import {
  RING_GRID,
  ringSamples,
  type RingSnapshot,
  type RingSummary,
  ringSummary,
} from "./ring.ts";

/** Real ring draws shown behind every snapshot. */
const REAL = ringSamples(400, 12345);
/** Generated samples drawn per snapshot (of the snapshot's 1,000). */
const SHOWN = 400;

/** One snapshot: D's probability of "real" as a contour, the ring, G's samples, its arrows. */
export function ringSnapshotFigure(snapshot: RingSnapshot, title = ""): Figure {
  const { side, extent } = RING_GRID;
  const axis = Array.from({ length: side }, (_, i) => -extent + (2 * extent * i) / (side - 1));
  const z = Array.from(
    { length: side },
    (_, r) => Array.from(snapshot.critic.subarray(r * side, (r + 1) * side), (v) => +v.toFixed(2)),
  );
  // At most SHOWN points of each set: enough to see the modes, and a slider stays light.
  const xy = (points: Float32Array, k: number) =>
    Array.from(
      { length: Math.min(points.length / 2, SHOWN) },
      (_, i) => +points[2 * i + k].toFixed(3),
    );
  // Arrows as segments from each of the first 40 samples, scaled to a common length.
  const lengths = Array.from(
    { length: snapshot.arrows.length / 2 },
    (_, i) => Math.hypot(snapshot.arrows[2 * i], snapshot.arrows[2 * i + 1]),
  );
  const scale = 0.4 / Math.max(...lengths, 1e-12);
  const ax: (number | null)[] = [];
  const ay: (number | null)[] = [];
  for (let i = 0; i < lengths.length; i++) {
    const [x, y] = [snapshot.samples[2 * i], snapshot.samples[2 * i + 1]];
    ax.push(x, x + scale * snapshot.arrows[2 * i], null);
    ay.push(y, y + scale * snapshot.arrows[2 * i + 1], null);
  }
  const data = [
    {
      type: "contour",
      x: axis,
      y: axis,
      z,
      zmin: 0,
      zmax: 1,
      colorscale: "RdBu",
      contours: { coloring: "heatmap" },
      colorbar: { title: { text: "D(x)" } },
      name: "D(x)",
    },
    {
      type: "scatter",
      mode: "markers",
      name: "real",
      x: xy(REAL, 0),
      y: xy(REAL, 1),
      marker: { size: 3, color: "black" },
    },
    {
      type: "scatter",
      mode: "markers",
      name: "G(z)",
      x: xy(snapshot.samples, 0),
      y: xy(snapshot.samples, 1),
      marker: { size: 3, color: PALETTE[1], opacity: 0.6 },
    },
    {
      type: "scatter",
      mode: "lines",
      name: "G's step",
      x: ax,
      y: ay,
      line: { color: PALETTE[2], width: 1.5 },
    },
  ] as unknown as Data[];
  return new Figure(data, {
    title: title ? { text: title } : undefined,
    height: 560,
    width: 600,
    margin: { l: 50, r: 20, t: title ? 50 : 20, b: 70 },
    legend: { orientation: "h", y: -0.12 },
    xaxis: { range: [-extent, extent] },
    yaxis: { range: [-extent, extent], scaleanchor: "x" },
  });
}

/** A slider over a run's snapshots. */
export function ringSliderFigure(snapshots: readonly RingSnapshot[], title: string): Figure {
  return sliderFigure(snapshots.map((s) => ringSnapshotFigure(s, title)), {
    labels: snapshots.map((s) => String(s.step)),
    prefix: "step ",
  });
}

/** Modes covered and the dominant mode against the step, one curve per named run. */
export function ringCoverageFigure(
  runs: Readonly<Record<string, readonly RingSnapshot[]>>,
): Figure {
  return seriesFigure(
    Object.entries(runs).map(([name, snapshots]) => ({
      name,
      x: snapshots.map((s) => s.step),
      y: snapshots.map((s) => s.coverage.modesCovered),
    })),
    { title: "Modes covered (of 8) over training", xTitle: "step", yTitle: "modes covered" },
  );
}

/**
 * Each schedule's {@linkcode ringSummary} over its seeds (mean ± standard error): the last
 * snapshot's coverage, and the dominant mode's moves over the later part of training (the
 * snapshots from `later` of the run's steps on: the second half by default).
 */
export function ringTable(
  runs: Readonly<Record<string, readonly (readonly RingSnapshot[])[]>>,
  later = 0.5,
): Table {
  const rows = Object.entries(runs).map(([schedule, seeds]) => {
    const steps = seeds[0][seeds[0].length - 1].step;
    const summaries = seeds.map((snapshots) => ringSummary(snapshots, steps * later));
    const of = (key: keyof RingSummary) => spread(summaries.map((s) => s[key]));
    return {
      schedule,
      "D steps": steps,
      "modes covered": of("modesCovered"),
      "high-quality share": of("highQuality"),
      "largest basin": of("concentration"),
      "most modes covered, later": of("mostCovered"),
      "dominant-mode changes, later": of("hops"),
    };
  });
  const seeds = Object.values(runs)[0]?.length ?? 0;
  return table(rows, {
    title:
      `The ring GANs at their last step, and over the later ${(100 * (1 - later)).toFixed(0)}% ` +
      `of their steps (mean ± s.e. over ${seeds} seeds)`,
    digits: 2,
  });
}
