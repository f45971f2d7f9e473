/**
 * Sections 4 and 5 of the ELBO check, on TensorFlow.js: the closed-form KL to N(0, I) that
 * training uses against Monte Carlo, and what must hold of the bounds L_k of a trained VAE
 * (`importanceCurve` in `measure`) as they climb towards log p(x).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  meanWithError,
  mixSeeds,
  normalSeed,
  positiveInteger,
  positiveNumber,
} from "../../base/mod.ts";
import type { ImportanceCurve } from "../../measure/mod.ts";
import { gaussianLogDensity, reparameterize, STANDARD_NORMAL } from "../../model/mod.ts";
import { type Claim, claimAbove, claimBelow } from "../claims.ts";

/** Mean of L_k over repeats (or over images) and its standard error. */
export interface BoundPoint {
  k: number;
  mean: number;
  stdError: number;
}

/** A named curve k -> L_k. */
export interface BoundCurve {
  name: string;
  points: BoundPoint[];
}

/** L_k never falls by more than `within` standard errors from one k to the next. */
export function risingClaims(curve: BoundCurve, within = 3): Claim[] {
  return curve.points.slice(1).map((point, i) => {
    const previous = curve.points[i];
    return claimBelow(
      `${curve.name}: (L_${previous.k} - L_${point.k}) / std. error`,
      (previous.mean - point.mean) / Math.hypot(point.stdError, previous.stdError),
      within,
    );
  });
}

/** The closed-form KL(N(mean, sigma^2) || N(0, 1)) against Monte Carlo on a grid. */
export interface KlGridConfig {
  means: readonly number[];
  sigmas: readonly number[];
  /** Draws z ~ q per grid point. */
  samples: number;
  seed: number;
}

/** One grid point: `gaussianKl` (what training uses) and the mean of log q(z) - log p(z), z ~ q. */
export interface KlGridPoint {
  mean: number;
  sigma: number;
  closedForm: number;
  monteCarlo: number;
  stdError: number;
}

/**
 * The library's closed form (the N(0, I) prior's KL) against sampling with its own log-densities.
 * @param config the grid of means and sigmas, the draws per point
 * @example
 * ```ts
 * const grid = klGrid({ means: [-1, 0, 1], sigmas: [0.5, 1, 2], samples: 20_000, seed: 0 });
 * ```
 */
export function klGrid(config: KlGridConfig): KlGridPoint[] {
  positiveInteger("samples", config.samples);
  config.sigmas.forEach((s, i) => positiveNumber(`sigmas[${i}]`, s));
  const n = config.samples;
  return config.sigmas.flatMap((sigma, a) =>
    config.means.map((mean, b) => {
      const [kl, logRatio] = tf.tidy(() => {
        const m = tf.fill([n, 1], mean) as tf.Tensor2D;
        const logVar = tf.fill([n, 1], 2 * Math.log(sigma)) as tf.Tensor2D;
        const seed = mixSeeds(config.seed, a, b);
        const z = reparameterize(
          m,
          logVar,
          tf.randomNormal([n, 1], 0, 1, "float32", normalSeed(seed)),
        );
        return [
          STANDARD_NORMAL.kl(tf.slice(m, [0, 0], [1, 1]), tf.slice(logVar, [0, 0], [1, 1])),
          tf.sub(gaussianLogDensity(z, m, logVar), STANDARD_NORMAL.logDensity(z)), // [n]
        ];
      });
      const closedForm = kl.dataSync()[0];
      const values = logRatio.dataSync();
      tf.dispose([kl, logRatio]);
      const { mean: monteCarlo, stdError } = meanWithError(values);
      return { mean, sigma, closedForm, monteCarlo, stdError };
    })
  );
}

/**
 * Closed form and Monte Carlo agree within `within` SE (plus a float32 rounding floor of 1e-5).
 * @param points from `klGrid`
 * @param within standard errors allowed
 * @example
 * ```ts
 * verify({ "closed-form-kl": klGridClaims(klGrid(GRID), 4) }, "The closed-form KL");
 * ```
 */
export function klGridClaims(points: readonly KlGridPoint[], within = 4): Claim[] {
  const z = points.map((p) => Math.abs(p.monteCarlo - p.closedForm) / (p.stdError + 1e-5));
  return [
    claimBelow(
      `max over ${points.length} grid points of |MC - closed form| / std. error`,
      Math.max(...z),
      within,
    ),
    claimAbove(
      "min closed-form KL over the grid",
      Math.min(...points.map((p) => p.closedForm)),
      -1e-6,
    ),
  ];
}

/** L_k against k (mean over images) and L_k - ELBO, whose per-image pairing makes it precise. */
export function importancePoints(curve: ImportanceCurve): { bounds: BoundCurve; gaps: BoundCurve } {
  return {
    bounds: {
      name: "L_k",
      points: curve.ks.map((k, c) => ({ k, ...meanWithError(curve.bounds[c]) })),
    },
    gaps: {
      name: "L_k - ELBO",
      points: curve.ks.map((k, c) => ({
        k,
        ...meanWithError(curve.bounds[c].map((v, i) => v - curve.elbo[i])),
      })),
    },
  };
}

/** The differences L_k' - L_k for consecutive k, paired per image. */
function increments(curve: ImportanceCurve): BoundCurve {
  return {
    name: "L_k increments",
    points: curve.ks.slice(1).map((k, c) => ({
      k,
      ...meanWithError(curve.bounds[c + 1].map((v, i) => v - curve.bounds[c][i])),
    })),
  };
}

/** Options of {@linkcode importanceClaims}. */
export interface ImportanceClaimOptions {
  /** Std. errors an increment may fall below 0 by, and the gap L_K - ELBO must clear; default 3. */
  within?: number;
  /**
   * Standard errors each paired increment L_k' - L_k must be above 0: a rise the numbers show, not
   * only no fall. Default -`within`.
   */
  rise?: number;
  /**
   * L_k per image of the same images from independent draws (e.g. `iwaeEstimate(...).values`): it
   * must agree with the curve's L_k within 4 standard errors of the per-image differences.
   */
  independent?: { k: number; values: ArrayLike<number> };
}

/**
 * L_k never falls with k (no paired increment below -`within` SE; or each increment above `rise`
 * SE), levels off (each step adds less per decade of k than the one before), the gap L_K - ELBO is
 * positive, and the two ELBOs agree.
 * @param curve from `importanceCurve`
 * @param options how far an increment may dip (or must rise), an independent estimate
 * @example
 * ```ts
 * verify({ "importance": importanceClaims(curve, { independent: { k: 50, values } }) });
 * ```
 */
export function importanceClaims(
  curve: ImportanceCurve,
  options: ImportanceClaimOptions = {},
): Claim[] {
  const within = options.within ?? 3;
  const rise = options.rise ?? -within;
  const steps = increments(curve).points;
  const perDecade = steps.map((p, c) => p.mean / Math.log10(p.k / curve.ks[c]));
  const gap = importancePoints(curve).gaps.points.at(-1)!;
  const difference = meanWithError(curve.analyticElbo.map((v, i) => v - curve.elbo[i]));
  return [
    ...steps.map((p, c) =>
      claimAbove(`(L_${p.k} - L_${curve.ks[c]}) / std. error, paired`, p.mean / p.stdError, rise)
    ),
    ...perDecade.slice(1).map((rate, c) =>
      claimBelow(
        `levelling off: L_${steps[c + 1].k} - L_${curve.ks[c + 1]} minus L_${steps[c].k} - L_${
          curve.ks[c]
        }, per decade of k`,
        rate - perDecade[c],
        0,
      )
    ),
    claimAbove(`gap L_${curve.samples} - ELBO, in std. errors`, gap.mean / gap.stdError, within),
    claimBelow(
      "|closed-form-KL ELBO - sampled-KL ELBO| / std. error, paired",
      Math.abs(difference.mean) / difference.stdError,
      4,
    ),
    ...(options.independent ? [agreement(curve, options.independent)] : []),
  ];
}

function agreement(curve: ImportanceCurve, independent: { k: number; values: ArrayLike<number> }) {
  const c = curve.ks.indexOf(independent.k);
  if (c < 0) {
    throw new RangeError(`independent.k must be one of ks [${curve.ks}]; got ${independent.k}`);
  }
  if (independent.values.length !== curve.images) {
    throw new RangeError(
      `independent.values must hold one L_k per image (${curve.images}); got ${independent.values.length}`,
    );
  }
  const difference = meanWithError(curve.bounds[c].map((v, i) => v - independent.values[i]));
  return claimBelow(
    `|L_${independent.k} - L_${independent.k} from independent draws| / std. error, paired`,
    Math.abs(difference.mean) / difference.stdError,
    4,
  );
}
