/**
 * Closed forms of the linear-Gaussian model; the public entry is `mod.ts`.
 *
 * p(z) = N(0, I_d), p(x | z) = N(W z + b, sigma^2 I_D), so x ~ N(b, W W^T + sigma^2 I_D) and
 * p(z | x) = N(m, S) with precision S^-1 = I + W^T W / sigma^2 and m = S W^T (x - b) / sigma^2.
 * log p(x), the ELBO and KL(q || p(z|x)) each have their own closed form, computed independently,
 * so their identity is a check and not a tautology. Only d x d matrices are ever factored.
 * @module
 */
import {
  cast,
  cholesky,
  cholInverse,
  cholLogDet,
  cholSolve,
  dot,
  exact,
  gram,
  matTVec,
  matVec,
  type Round,
} from "./linalg.ts";
import { normal, positiveInteger, rng } from "../base/mod.ts";

/** Arithmetic of the closed forms: `float64` (default) or every operation rounded to `float32`. */
export type Precision = "float32" | "float64";

/** p(z) = N(0, I_d), p(x | z) = N(W z + b, sigma^2 I_D). */
export interface LinearGaussian {
  /** Decoder weights, row-major: [D, d]. */
  W: Float64Array;
  /** Decoder bias: [D]. */
  b: Float64Array;
  /** Observation noise standard deviation, > 0. */
  sigma: number;
  /** d, the size of z. */
  latentSize: number;
  /** D, the size of x. */
  dataSize: number;
}

/** A diagonal Gaussian q(z) = N(mean, diag(exp(logVar))): both [d]. */
export interface DiagonalGaussian {
  mean: ArrayLike<number>;
  logVar: ArrayLike<number>;
}

/** A full-covariance Gaussian N(mean, cov) with precision = cov^-1. */
export interface FullGaussian {
  /** [d] */
  mean: Float64Array;
  /** Row-major: [d, d]. */
  cov: Float64Array;
  /** Row-major: [d, d]. */
  precision: Float64Array;
}

/** Options of the closed forms. */
export interface PrecisionOptions {
  /** Arithmetic to compute in; default `float64`. */
  precision?: Precision;
}

/** ELBO = reconstruction - kl, with reconstruction = E_q[log p(x|z)] and kl = KL(q || p(z)). */
export interface ElboTerms {
  elbo: number;
  reconstruction: number;
  kl: number;
}

/** Options of {@linkcode randomLinearGaussian}. */
export interface RandomLinearGaussianOptions {
  /** d, the size of z. */
  latentSize: number;
  /** D, the size of x. */
  dataSize: number;
  /** Seed of W and b; default 0. */
  seed?: number;
  /** Observation noise standard deviation; default 0.5. */
  sigma?: number;
  /** Make W's columns orthogonal (needs d <= D), so the posterior is diagonal; default false. */
  orthogonal?: boolean;
}

/** Options of {@linkcode sampleLinearGaussian}. */
export interface SampleOptions {
  /** Number of draws n. */
  count: number;
  /** Seed of the draws; default 0. */
  seed?: number;
}

/** Draws from the model: x [n, D] and the z [n, d] behind them, row-major. */
export interface LinearGaussianSample {
  x: Float64Array;
  z: Float64Array;
}

const LOG_2PI = Math.log(2 * Math.PI);

function rounding(options: PrecisionOptions): Round {
  const precision = options.precision ?? "float64";
  if (precision !== "float32" && precision !== "float64") {
    throw new RangeError(`precision must be "float32" or "float64"; got "${precision}"`);
  }
  return precision === "float32" ? Math.fround : exact;
}

function checkLength(name: string, a: ArrayLike<number>, size: string, n: number): void {
  if (a.length !== n) {
    throw new RangeError(`${name} must have ${size} = ${n} entries; got ${a.length}`);
  }
}

/** RangeError naming the field unless the model, x: [D] and q: [d] are consistent (internal). */
export function checkModel(
  model: LinearGaussian,
  x?: ArrayLike<number>,
  q?: DiagonalGaussian,
): void {
  const { latentSize: d, dataSize: D, sigma } = model;
  positiveInteger("latentSize", d);
  positiveInteger("dataSize", D);
  if (!(sigma > 0 && Number.isFinite(sigma))) {
    throw new RangeError(`sigma must be positive and finite; got ${sigma}`);
  }
  checkLength("W", model.W, "dataSize * latentSize", D * d);
  checkLength("b", model.b, "dataSize", D);
  if (x) checkLength("x", x, "dataSize", D);
  if (q) checkLength("q.mean", q.mean, "latentSize", d);
  if (q) checkLength("q.logVar", q.logVar, "latentSize", d);
}

/** A model with W_ij ~ N(0, 1 / d) (so W z has unit variance per entry) and b_i ~ N(0, 1). */
export function randomLinearGaussian(options: RandomLinearGaussianOptions): LinearGaussian {
  const { latentSize: d, dataSize: D, seed = 0, sigma = 0.5, orthogonal = false } = options;
  positiveInteger("latentSize", d);
  positiveInteger("dataSize", D);
  if (orthogonal && d > D) {
    throw new RangeError(`orthogonal needs latentSize <= dataSize; got ${d} > ${D}`);
  }
  const random = rng(seed);
  const gauss = () => normal(random);
  const W = Float64Array.from({ length: D * d }, () => gauss() / Math.sqrt(d));
  const b = Float64Array.from({ length: D }, gauss);
  const model = { W, b, sigma, latentSize: d, dataSize: D };
  checkModel(model);
  if (orthogonal) {
    // Gram-Schmidt on the columns, each keeping its original length.
    for (let j = 0; j < d; j++) {
      const norm = Math.sqrt(columnDot(W, d, D, j, j));
      for (let k = 0; k < j; k++) {
        const proj = columnDot(W, d, D, j, k) / columnDot(W, d, D, k, k);
        for (let i = 0; i < D; i++) W[i * d + j] -= proj * W[i * d + k];
      }
      const scale = norm / Math.sqrt(columnDot(W, d, D, j, j));
      for (let i = 0; i < D; i++) W[i * d + j] *= scale;
    }
  }
  return model;
}

function columnDot(W: Float64Array, d: number, D: number, j: number, k: number): number {
  let sum = 0;
  for (let i = 0; i < D; i++) sum += W[i * d + j] * W[i * d + k];
  return sum;
}

/** Ancestral draws z ~ N(0, I), x = W z + b + sigma * eps. */
export function sampleLinearGaussian(
  model: LinearGaussian,
  options: SampleOptions,
): LinearGaussianSample {
  checkModel(model);
  const { count, seed = 0 } = options;
  positiveInteger("count", count);
  const { latentSize: d, dataSize: D, sigma } = model;
  const random = rng(seed);
  const gauss = () => normal(random);
  const z = Float64Array.from({ length: count * d }, gauss);
  const x = new Float64Array(count * D);
  for (let n = 0; n < count; n++) {
    const mean = matVec(model.W, z.subarray(n * d, (n + 1) * d), exact);
    for (let i = 0; i < D; i++) x[n * D + i] = mean[i] + model.b[i] + sigma * gauss();
  }
  return { x, z };
}

/** Exact log p(x) = log N(x; b, C), C = W W^T + s^2 I; det and inverse via d x d s^2 I + W^T W. */
export function logMarginal(
  model: LinearGaussian,
  x: ArrayLike<number>,
  options: PrecisionOptions = {},
): number {
  checkModel(model, x);
  const r = rounding(options);
  const { latentSize: d, dataSize: D } = model;
  const W = cast(model.W, r);
  const s2 = r(r(model.sigma) * r(model.sigma));
  const residual = cast(x, r).map((v, i) => r(v - r(model.b[i]))); // x - b: [D]
  const M = gram(W, D, d, r); // s^2 I + W^T W: [d, d]
  for (let j = 0; j < d; j++) M[j * d + j] = r(M[j * d + j] + s2);
  const L = cholesky(M, d, r);
  const m = cholSolve(L, matTVec(W, residual, r), r); // M^-1 W^T (x - b), the posterior mean: [d]
  // Matrix determinant lemma and Woodbury: C^-1 = (I - W M^-1 W^T) / s^2, so that
  // (x - b)^T C^-1 (x - b) = ||x - b - W m||^2 / s^2 + ||m||^2: a sum of non-negative terms, where
  // the textbook (||x - b||^2 - (x - b)^T W m) / s^2 cancels catastrophically in float32 at small s.
  const logDetC = r(r((D - d) * r(Math.log(s2))) + cholLogDet(L, d, r));
  const fit = matVec(W, m, r).map((v, i) => r(residual[i] - v)); // x - b - W m: [D]
  const quad = r(r(dot(fit, fit, r) / s2) + dot(m, m, r));
  return r(-0.5 * r(r(r(D * r(LOG_2PI)) + logDetC) + quad));
}

/** Exact p(z | x) = N(m, S), S = (I + W^T W / s^2)^-1, m = S W^T (x - b) / s^2, in float64. */
export function exactPosterior(model: LinearGaussian, x: ArrayLike<number>): FullGaussian {
  checkModel(model, x);
  const { precision, L, mean } = posterior(model, x, exact);
  return { mean, cov: cholInverse(L, model.latentSize, exact), precision };
}

function posterior(model: LinearGaussian, x: ArrayLike<number>, r: Round) {
  const { latentSize: d, dataSize: D } = model;
  const W = cast(model.W, r);
  const s2 = r(r(model.sigma) * r(model.sigma));
  const precision = gram(W, D, d, r).map((v, k) => r(r(v / s2) + (k % (d + 1) === 0 ? 1 : 0)));
  const L = cholesky(precision, d, r);
  const residual = cast(x, r).map((v, i) => r(v - r(model.b[i])));
  const mean = cholSolve(L, matTVec(W, residual, r).map((v) => r(v / s2)), r);
  return { precision, L, mean };
}

/**
 * argmin over diagonal q of KL(q || p(z|x)): mean m and var_j = 1 / (S^-1)_jj (the precision's
 * diagonal, not S_jj); its KL is (sum_j log (S^-1)_jj - log det S^-1) / 2, 0 iff S is diagonal.
 */
export function bestDiagonalQ(
  model: LinearGaussian,
  x: ArrayLike<number>,
): { mean: Float64Array; logVar: Float64Array } {
  checkModel(model, x);
  const d = model.latentSize;
  const { precision, mean } = posterior(model, x, exact);
  return {
    mean,
    logVar: Float64Array.from({ length: d }, (_, j) => -Math.log(precision[j * d + j])),
  };
}

/**
 * Exact ELBO of a diagonal q = N(mu, diag(v)): E_q[log p(x|z)] - KL(q || p(z)), where
 * E_q[log p(x|z)] = -D/2 log(2 pi s^2) - (||x - W mu - b||^2 + sum_j ||W_:j||^2 v_j) / (2 s^2)
 * and KL(q || p(z)) = -1/2 sum_j (1 + log v_j - mu_j^2 - v_j).
 */
export function exactElbo(
  model: LinearGaussian,
  x: ArrayLike<number>,
  q: DiagonalGaussian,
  options: PrecisionOptions = {},
): ElboTerms {
  checkModel(model, x, q);
  const r = rounding(options);
  const { latentSize: d, dataSize: D } = model;
  const W = cast(model.W, r);
  const [mu, logVar] = [cast(q.mean, r), cast(q.logVar, r)];
  const s2 = r(r(model.sigma) * r(model.sigma));
  const residual = matVec(W, mu, r).map((v, i) => r(r(x[i]) - r(v + r(model.b[i])))); // [D]
  let spread = 0; // sum_j ||W_:j||^2 v_j
  let kl = 0;
  for (let j = 0; j < d; j++) {
    const v = r(Math.exp(logVar[j]));
    let column = 0;
    for (let i = 0; i < D; i++) column = r(column + r(W[i * d + j] * W[i * d + j]));
    spread = r(spread + r(column * v));
    kl = r(kl + r(r(r(r(mu[j] * mu[j]) + v) - logVar[j]) - 1));
  }
  kl = r(0.5 * kl);
  // E_q ||x - W z - b||^2 / (2 s^2)
  const squared = r(r(dot(residual, residual, r) + spread) / r(2 * s2));
  const reconstruction = r(r(-0.5 * D * r(r(LOG_2PI) + r(Math.log(s2)))) - squared);
  return { elbo: r(reconstruction - kl), reconstruction, kl };
}

/**
 * Exact KL(q || p(z|x)) for q = N(mu, diag(v)) and p(z|x) = N(m, S):
 * 1/2 [sum_j (S^-1)_jj v_j + (mu - m)^T S^-1 (mu - m) - d - log det S^-1 - sum_j log v_j].
 */
export function klToPosterior(
  model: LinearGaussian,
  x: ArrayLike<number>,
  q: DiagonalGaussian,
  options: PrecisionOptions = {},
): number {
  checkModel(model, x, q);
  const r = rounding(options);
  const d = model.latentSize;
  const { precision, L, mean } = posterior(model, x, r);
  const [mu, logVar] = [cast(q.mean, r), cast(q.logVar, r)];
  const delta = mu.map((v, j) => r(v - mean[j])); // mu - m: [d]
  let sum = 0;
  for (let j = 0; j < d; j++) {
    const row = precision.subarray(j * d, (j + 1) * d);
    const trace = r(row[j] * r(Math.exp(logVar[j])));
    sum = r(sum + r(r(trace + r(delta[j] * dot(row, delta, r))) - logVar[j]));
  }
  return r(0.5 * r(r(sum - d) - cholLogDet(L, d, r)));
}
