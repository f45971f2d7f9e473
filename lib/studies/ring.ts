/**
 * The ring of notebook 08 (the game in two dimensions): 8 Gaussians on a circle, the picture of
 * the course's slides on mode collapse and of Metz et al. (2016), and the measures of how a
 * generator's samples cover it: modes covered, high-quality share, basins, and how the dominant
 * mode moves over a run's snapshots. The GANs that learn it are in `ring_gan.ts`.
 * @module
 */
import { normal, rng } from "../base/mod.ts";

/** The ring: 8 Gaussians of standard deviation 0.02 on the circle of radius 2 (Metz et al.). */
export const RING = { modes: 8, radius: 2, std: 0.02 } as const;

/** The centres of the ring's modes, [modes * 2]. */
export function ringCentres(): Float32Array {
  const out = new Float32Array(RING.modes * 2);
  for (let m = 0; m < RING.modes; m++) {
    const angle = (2 * Math.PI * m) / RING.modes;
    out[2 * m] = RING.radius * Math.cos(angle);
    out[2 * m + 1] = RING.radius * Math.sin(angle);
  }
  return out;
}

/** `n` draws of the ring (a uniform mode, then its Gaussian), [n * 2], seeded. */
export function ringSamples(n: number, seed: number): Float32Array {
  const random = rng(seed);
  const centres = ringCentres();
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const m = Math.floor(random() * RING.modes);
    out[2 * i] = centres[2 * m] + RING.std * normal(random);
    out[2 * i + 1] = centres[2 * m + 1] + RING.std * normal(random);
  }
  return out;
}

/** How a set of 2-D samples covers the ring. */
export interface RingCoverage {
  /** Each mode's share of the samples within 3 standard deviations of its centre. */
  shares: number[];
  /** The share of samples within 3 standard deviations of some mode ("high quality"). */
  highQuality: number;
  /** Modes holding at least a quarter of their fair share (1/32) of the samples. */
  modesCovered: number;
  /** Each mode's share of the samples nearer its centre than any other's (its basin). */
  basins: number[];
  /** The mode whose basin holds the most samples. */
  dominant: number;
  /** That largest basin's share: near 1 when the generator sits at one mode. */
  concentration: number;
}

/** {@linkcode RingCoverage} of samples [n * 2]. */
export function ringCoverage(samples: Float32Array): RingCoverage {
  const n = samples.length / 2;
  const centres = ringCentres();
  const counts = new Array<number>(RING.modes).fill(0);
  const basin = new Array<number>(RING.modes).fill(0);
  const near = 3 * RING.std;
  for (let i = 0; i < n; i++) {
    let nearest = 0;
    let best = Infinity;
    for (let m = 0; m < RING.modes; m++) {
      const dx = samples[2 * i] - centres[2 * m];
      const dy = samples[2 * i + 1] - centres[2 * m + 1];
      const d2 = dx * dx + dy * dy;
      if (d2 <= near * near) counts[m]++;
      if (d2 < best) [best, nearest] = [d2, m];
    }
    basin[nearest]++;
  }
  const shares = counts.map((c) => c / n);
  const basins = basin.map((c) => c / n);
  const concentration = Math.max(...basins);
  return {
    shares,
    highQuality: counts.reduce((a, b) => a + b, 0) / n,
    modesCovered: shares.filter((s) => s >= 1 / (4 * RING.modes)).length,
    basins,
    dominant: basins.indexOf(concentration),
    concentration,
  };
}

/** One snapshot of a run. */
export interface RingSnapshot {
  step: number;
  /** Generated samples [n * 2] (the same draws z at every snapshot). */
  samples: Float32Array;
  coverage: RingCoverage;
  /** D(x) (probability of real) on {@linkcode RING_GRID}, row by row. */
  critic: Float32Array;
  /** For the first 40 samples, the generator's gradient step direction at each, [40 * 2]. */
  arrows: Float32Array;
}

/** The grid D is drawn on: `side` x `side` points over [-extent, extent]^2. */
export const RING_GRID = { side: 41, extent: 3 } as const;

/** A run's last snapshot, and how its generator moved over the later snapshots. */
export interface RingSummary {
  /** Modes covered, high-quality share and concentration at the last snapshot. */
  modesCovered: number;
  highQuality: number;
  concentration: number;
  /** The largest number of modes covered at any snapshot from `from` on. */
  mostCovered: number;
  /** How many times the dominant mode changed between consecutive snapshots from `from` on. */
  hops: number;
  /** Distinct dominant modes among the snapshots from `from` on. */
  modesVisited: number;
}

/** {@linkcode RingSummary} of a run's snapshots, over those at step `from` or later. */
export function ringSummary(snapshots: readonly RingSnapshot[], from = 0): RingSummary {
  const later = snapshots.filter((s) => s.step >= from);
  if (later.length === 0) throw new RangeError(`ringSummary: no snapshot at step ${from} or later`);
  const last = later[later.length - 1];
  const dominant = later.map((s) => s.coverage.dominant);
  return {
    modesCovered: last.coverage.modesCovered,
    highQuality: last.coverage.highQuality,
    concentration: last.coverage.concentration,
    mostCovered: Math.max(...later.map((s) => s.coverage.modesCovered)),
    hops: dominant.filter((m, i) => i > 0 && m !== dominant[i - 1]).length,
    modesVisited: new Set(dominant).size,
  };
}
