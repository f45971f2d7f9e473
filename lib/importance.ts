/**
 * The ELBO checks that run on TensorFlow.js: the closed-form Gaussian KL that training uses against
 * Monte Carlo, and importance-weighted bounds L_k of a trained VAE that climb towards log p(x).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type Claim, claimAbove, claimBelow } from "./claims.ts";
import { type Dataset, IMAGE_SIZE } from "./data.ts";
import { logMeanExp } from "./linear_gaussian_linalg.ts";
import {
  gaussianKl,
  gaussianLogDensity,
  type LikelihoodOptions,
  logLikelihood,
  reparameterize,
  standardNormalLogDensity,
} from "./losses.ts";
import type { Model } from "./models.ts";
import { mixSeeds } from "./random.ts";

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

/** Sample mean and its standard error sd / sqrt(n), in float64. */
export function meanWithError(values: ArrayLike<number>): { mean: number; stdError: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let ss = 0;
  for (let i = 0; i < values.length; i++) ss += (values[i] - mean) ** 2;
  return { mean, stdError: Math.sqrt(ss / (values.length - 1) / values.length) };
}

function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer; got ${value}`);
  }
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

/** The library's closed form (`gaussianKl`) against sampling with its own log-densities. */
export function klGrid(config: KlGridConfig): KlGridPoint[] {
  checkPositiveInteger("samples", config.samples);
  config.sigmas.forEach((s, i) => {
    if (!(s > 0)) throw new RangeError(`sigmas[${i}] must be positive; got ${s}`);
  });
  const n = config.samples;
  return config.sigmas.flatMap((sigma, a) =>
    config.means.map((mean, b) => {
      const [kl, logRatio] = tf.tidy(() => {
        const m = tf.fill([n, 1], mean) as tf.Tensor2D;
        const logVar = tf.fill([n, 1], 2 * Math.log(sigma)) as tf.Tensor2D;
        const seed = mixSeeds(config.seed, a, b);
        const z = reparameterize(m, logVar, tf.randomNormal([n, 1], 0, 1, "float32", seed));
        return [
          gaussianKl(tf.slice(m, [0, 0], [1, 1]), tf.slice(logVar, [0, 0], [1, 1])),
          tf.sub(gaussianLogDensity(z, m, logVar), standardNormalLogDensity(z)), // [n]
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

/** Closed form and Monte Carlo agree within `within` SE (plus a float32 rounding floor of 1e-5). */
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

/** Options of {@linkcode importanceCurve}. */
export interface ImportanceOptions extends LikelihoodOptions {
  /** The k of each bound L_k; the largest is the number of samples K drawn per image. */
  ks: readonly number[];
  /** Use the first `limit` images; default all. */
  limit?: number;
  /** Seed of the samples; default 0. */
  seed?: number;
  /** Rows (image, sample) decoded at once; bounds memory. Default 4096. */
  chunkSize?: number;
}

/** Per-image bounds from K = max(ks) samples z ~ q(z|x) per image, each [images]. */
export interface ImportanceCurve {
  ks: number[];
  /** K, the samples per image. */
  samples: number;
  images: number;
  /** L_k per image for each k: the mean of L_k over the floor(K / k) disjoint groups of k samples. */
  bounds: Float64Array[];
  /** E_q[log p(x,z) - log q(z|x)]: the ELBO with the KL sampled (the same as L_1). */
  elbo: Float64Array;
  /** E_q[log p(x|z)] - KL(q(z|x) || p(z)), the KL in closed form: the ELBO as a VAE trains it. */
  analyticElbo: Float64Array;
}

/**
 * L_k = log (1/k) sum_i p(x, z_i) / q(z_i | x) for every k of `ks` from the same K samples per
 * image, so that L_k and L_k' are compared on the same draws (their difference is precise), and
 * small k are averaged over many groups. E[L_k] rises with k towards log p(x).
 */
export function importanceCurve(
  model: Model,
  data: Dataset,
  options: ImportanceOptions,
): ImportanceCurve {
  const ks = [...options.ks];
  if (ks.length === 0) throw new RangeError("ks must hold at least one k; got []");
  ks.forEach((k, i) => checkPositiveInteger(`ks[${i}]`, k));
  const K = Math.max(...ks);
  const n = Math.min(options.limit ?? data.size, data.size);
  checkPositiveInteger("limit", n);
  const chunkSize = options.chunkSize ?? 4096;
  checkPositiveInteger("chunkSize", chunkSize);
  const seed = options.seed ?? 0;
  const perGroup = Math.max(1, Math.floor(chunkSize / K)); // images per group
  const perChunk = Math.min(K, chunkSize); // samples per decoded chunk
  const bounds = ks.map(() => new Float64Array(n));
  const elbo = new Float64Array(n);
  const analyticElbo = new Float64Array(n);
  const logW = new Float64Array(K);
  for (let start = 0; start < n; start += perGroup) {
    const g = Math.min(perGroup, n - start);
    const images = data.images.subarray(start * IMAGE_SIZE, (start + g) * IMAGE_SIZE);
    const x = tf.tensor2d(images, [g, IMAGE_SIZE]);
    const { mean, logVar } = tf.tidy(() => model.encode(x) as unknown as tf.NamedTensorMap);
    if (!logVar) {
      tf.dispose([x, mean]);
      throw new TypeError("importanceCurve needs a VAE: the model's encoder gives no logVar");
    }
    const kl = gaussianKl(mean as tf.Tensor2D, logVar as tf.Tensor2D);
    const klValues = kl.dataSync();
    const logLik = new Float32Array(g * K); // log p(x|z): [g, K]
    const logRatio = new Float32Array(g * K); // log p(z) - log q(z|x): [g, K]
    for (let first = 0; first < K; first += perChunk) {
      const s = Math.min(perChunk, K - first);
      const terms = tf.tidy(() => {
        // [g, C] -> [g * s, C]: row i * s + j is image i
        const repeat = (t: tf.Tensor) =>
          tf.reshape(tf.tile(t, [1, s]), [g * s, t.shape[1]!]) as tf.Tensor2D;
        const [m, lv] = [repeat(mean), repeat(logVar)];
        const eps = tf.randomNormal(
          [g * s, m.shape[1]],
          0,
          1,
          "float32",
          mixSeeds(seed, start, first),
        );
        const z = reparameterize(m, lv, eps as tf.Tensor2D);
        return tf.stack([
          logLikelihood(repeat(x), model.decode(z), options),
          tf.sub(standardNormalLogDensity(z), gaussianLogDensity(z, m, lv)),
        ]); // [2, g * s]
      });
      const values = terms.dataSync();
      terms.dispose();
      for (let i = 0; i < g; i++) {
        logLik.set(values.subarray(i * s, (i + 1) * s), i * K + first);
        logRatio.set(values.subarray(g * s + i * s, g * s + (i + 1) * s), i * K + first);
      }
    }
    tf.dispose([x, mean, logVar, kl]);
    for (let i = 0; i < g; i++) {
      let sumW = 0;
      let sumLik = 0;
      for (let t = 0; t < K; t++) {
        logW[t] = logLik[i * K + t] + logRatio[i * K + t];
        sumW += logW[t];
        sumLik += logLik[i * K + t];
      }
      elbo[start + i] = sumW / K;
      analyticElbo[start + i] = sumLik / K - klValues[i];
      ks.forEach((k, c) => {
        const groups = Math.floor(K / k);
        let sum = 0;
        for (let h = 0; h < groups; h++) sum += logMeanExp(logW.subarray(h * k, (h + 1) * k));
        bounds[c][start + i] = sum / groups;
      });
    }
  }
  return { ks, samples: K, images: n, bounds, elbo, analyticElbo };
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
  /** Standard errors an increment may fall below 0 by; default 3. */
  within?: number;
  /**
   * L_k per image of the same images from independent draws (e.g. `iwaeEstimate(...).values`): it
   * must agree with the curve's L_k within 4 standard errors of the per-image differences.
   */
  independent?: { k: number; values: ArrayLike<number> };
}

/**
 * L_k never falls with k (no paired increment below -`within` SE), levels off (each step adds less
 * per decade of k than the one before), the gap L_K - ELBO is positive, and the two ELBOs agree.
 */
export function importanceClaims(
  curve: ImportanceCurve,
  options: ImportanceClaimOptions = {},
): Claim[] {
  const within = options.within ?? 3;
  const steps = increments(curve).points;
  const perDecade = steps.map((p, c) => p.mean / Math.log10(p.k / curve.ks[c]));
  const gap = importancePoints(curve).gaps.points.at(-1)!;
  const difference = meanWithError(curve.analyticElbo.map((v, i) => v - curve.elbo[i]));
  return [
    ...steps.map((p, c) =>
      claimAbove(`(L_${p.k} - L_${curve.ks[c]}) / std. error, paired`, p.mean / p.stdError, -within)
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
