/**
 * The linear-Gaussian model, where each term of log p(x) = ELBO(q) + KL(q(z|x) || p(z|x)) is exact,
 * and the sampled estimators (Monte-Carlo ELBO, IWAE bound L_k) checked against those exact terms.
 *
 * p(z) = N(0, I_d), p(x | z) = N(W z + b, sigma^2 I_D). The closed forms live in
 * {@link ./exact.ts}, the linear algebra in {@link ./linalg.ts}.
 * @module
 */
import { logMeanExp, meanWithError, normal, positiveInteger, rng } from "../base/mod.ts";
import {
  checkModel,
  type DiagonalGaussian,
  exactElbo,
  type LinearGaussian,
  logMarginal,
} from "./exact.ts";
import { exact, gram, matTVec, matVec } from "./linalg.ts";

const LOG_2PI = Math.log(2 * Math.PI);

/** A Monte-Carlo estimate: the mean of its samples and that mean's standard error. */
export interface Estimate {
  mean: number;
  stdError: number;
}

/** Options of {@linkcode monteCarloElbo}. */
export interface MonteCarloOptions {
  /** Number of reparameterised samples z = mean + exp(logVar / 2) * eps. */
  samples: number;
  /** Seed of eps ~ N(0, I); default 0. */
  seed?: number;
  /** Subtract the closed-form KL(q || p(z)) as a VAE does (default), or sample it too. */
  analyticKl?: boolean;
}

/** Options of {@linkcode iwaeBound}. */
export interface IwaeOptions {
  /** k, the number of importance samples in each bound. */
  samples: number;
  /** Independent bounds to average (their spread gives the standard error); default 1. */
  repeats?: number;
  /** Seed of the samples; default 0. */
  seed?: number;
}

/** The IWAE bound L_k averaged over repeats, with each repeat's value: [repeats]. */
export interface IwaeEstimate extends Estimate {
  values: Float64Array;
}

/** Options of {@linkcode fitDiagonalQ}. */
export interface FitOptions {
  /** Adam steps; default 500. */
  steps?: number;
  /** Adam learning rate; default 0.05. */
  learningRate?: number;
  /** Starting q; default the prior N(0, I). */
  init?: DiagonalGaussian;
}

/** The fitted q and the gap log p(x) - ELBO(q_t) = KL(q_t || p(z|x)), t = 0..steps: [steps + 1]. */
export interface FitResult {
  q: { mean: Float64Array; logVar: Float64Array };
  gap: Float64Array;
}

/** log p(x | z) = log N(x; W z + b, s^2 I) for one z: [d]. */
function logLikelihood(model: LinearGaussian, x: ArrayLike<number>, z: Float64Array): number {
  const s2 = model.sigma * model.sigma;
  const mean = matVec(model.W, z, exact);
  let squared = 0;
  for (let i = 0; i < model.dataSize; i++) squared += (x[i] - mean[i] - model.b[i]) ** 2;
  return -0.5 * model.dataSize * (LOG_2PI + Math.log(s2)) - squared / (2 * s2);
}

/** log p(x, z) - log q(z) at z = mu + exp(logVar / 2) * eps for `count` fresh eps; [count]. */
function logWeights(
  model: LinearGaussian,
  x: ArrayLike<number>,
  q: DiagonalGaussian,
  count: number,
  gauss: () => number,
) {
  const d = model.latentSize;
  const z = new Float64Array(d);
  return Float64Array.from({ length: count }, () => {
    let logPrior = 0;
    let logQ = 0;
    for (let j = 0; j < d; j++) {
      const eps = gauss();
      z[j] = q.mean[j] + Math.exp(0.5 * q.logVar[j]) * eps;
      logPrior -= 0.5 * (LOG_2PI + z[j] * z[j]);
      logQ -= 0.5 * (LOG_2PI + q.logVar[j] + eps * eps);
    }
    return logLikelihood(model, x, z) + logPrior - logQ;
  });
}

/** Reparameterised Monte-Carlo ELBO: mean_s log p(x | z_s) - KL(q || p(z)), or KL sampled too. */
export function monteCarloElbo(
  model: LinearGaussian,
  x: ArrayLike<number>,
  q: DiagonalGaussian,
  options: MonteCarloOptions,
): Estimate {
  checkModel(model, x, q);
  const { samples, seed = 0, analyticKl = true } = options;
  positiveInteger("samples", samples);
  const random = rng(seed);
  const gauss = () => normal(random);
  if (!analyticKl) return meanWithError(logWeights(model, x, q, samples, gauss));
  const kl = exactElbo(model, x, q).kl;
  const d = model.latentSize;
  const z = new Float64Array(d);
  const terms = Float64Array.from({ length: samples }, () => {
    for (let j = 0; j < d; j++) z[j] = q.mean[j] + Math.exp(0.5 * q.logVar[j]) * gauss();
    return logLikelihood(model, x, z) - kl;
  });
  return meanWithError(terms);
}

/** IWAE bound L_k = log (1/k) sum_i p(x, z_i) / q(z_i), z_i ~ q; E[L_k] rises to log p(x). */
export function iwaeBound(
  model: LinearGaussian,
  x: ArrayLike<number>,
  q: DiagonalGaussian,
  options: IwaeOptions,
): IwaeEstimate {
  checkModel(model, x, q);
  const { samples, repeats = 1, seed = 0 } = options;
  positiveInteger("samples", samples);
  positiveInteger("repeats", repeats);
  const random = rng(seed);
  const gauss = () => normal(random);
  const values = Float64Array.from(
    { length: repeats },
    () => logMeanExp(logWeights(model, x, q, samples, gauss)),
  );
  return { ...meanWithError(values), values };
}

/** Adam ascent of the exact ELBO in q's mean and logVar; the gap falls to min_q KL(q || p(z|x)). */
export function fitDiagonalQ(
  model: LinearGaussian,
  x: ArrayLike<number>,
  options: FitOptions = {},
): FitResult {
  const { steps = 500, learningRate = 0.05, init } = options;
  checkModel(model, x, init);
  if (!Number.isInteger(steps) || steps < 0) {
    throw new RangeError(`steps must be a non-negative integer; got ${steps}`);
  }
  if (!(learningRate > 0)) {
    throw new RangeError(`learningRate must be positive; got ${learningRate}`);
  }
  const { latentSize: d, dataSize: D, W } = model;
  const s2 = model.sigma * model.sigma;
  const columns = gram(W, D, d, exact).filter((_, k) => k % (d + 1) === 0); // ||W_:j||^2: [d]
  const q = {
    mean: Float64Array.from(init?.mean ?? new Float64Array(d)),
    logVar: Float64Array.from(init?.logVar ?? new Float64Array(d)),
  };
  const logPx = logMarginal(model, x);
  const gap = new Float64Array(steps + 1);
  const [m1, m2] = [new Float64Array(2 * d), new Float64Array(2 * d)];
  const [beta1, beta2] = [0.9, 0.999];
  for (let t = 0; t <= steps; t++) {
    gap[t] = logPx - exactElbo(model, x, q).elbo;
    if (t === steps) break;
    const residual = matVec(W, q.mean, exact).map((v, i) => x[i] - v - model.b[i]); // [D]
    // dELBO/dmu = W^T (x - W mu - b) / s^2 - mu
    // dELBO/dlogVar_j = (1 - v_j (|W_:j|^2 / s^2 + 1)) / 2
    const gradMean = matTVec(W, residual, exact).map((v, j) => v / s2 - q.mean[j]);
    for (let k = 0; k < 2 * d; k++) {
      const j = k % d;
      const grad = k < d ? gradMean[j] : 0.5 - 0.5 * Math.exp(q.logVar[j]) * (columns[j] / s2 + 1);
      m1[k] = beta1 * m1[k] + (1 - beta1) * grad;
      m2[k] = beta2 * m2[k] + (1 - beta2) * grad * grad;
      const step = learningRate * (m1[k] / (1 - beta1 ** (t + 1))) /
        (Math.sqrt(m2[k] / (1 - beta2 ** (t + 1))) + 1e-8);
      if (k < d) q.mean[j] += step;
      else q.logVar[j] += step;
    }
  }
  return { q, gap };
}
