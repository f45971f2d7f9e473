/**
 * The reparameterisation trick on a problem with closed forms (notebook 06): why a draw blocks
 * the gradient, and the two unbiased estimators of d/dtheta E_q[f(z)] for q = N(mu, sigma^2) and
 * f(z) = (z - a)^2, whose expectation (mu - a)^2 + sigma^2 has the gradient (2 (mu - a), 2 sigma).
 *
 * - pathwise (reparameterised): z = mu + sigma eps, so d f(z)/d mu = f'(z) and d f(z)/d sigma =
 *   f'(z) eps, with f'(z) = 2 (z - a);
 * - score function (REINFORCE): f(z) d log q(z)/d theta, with d log q/d mu = eps / sigma and
 *   d log q/d sigma = (eps^2 - 1) / sigma: it needs f's values only, not its derivative;
 * - the same less a baseline b: (f(z) - b) d log q/d theta, unbiased whenever b does not depend
 *   on z (here the mean of f over the other draws of the same estimate).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { meanWithError, normal, positiveInteger, positiveNumber, rng } from "../../base/mod.ts";

/** The estimators compared. */
export const ESTIMATOR_NAMES = ["pathwise", "score function", "score function, baseline"] as const;
/** One of {@linkcode ESTIMATOR_NAMES}. */
export type EstimatorName = typeof ESTIMATOR_NAMES[number];

/** The toy problem: q = N(mean, std^2), f(z) = (z - target)^2. */
export interface ToyProblem {
  mean: number;
  std: number;
  target: number;
}

/** The closed forms: E_q[f] and its gradient with respect to (mean, std). */
export function toyClosedForm({ mean, std, target }: ToyProblem): {
  value: number;
  dMean: number;
  dStd: number;
} {
  return { value: (mean - target) ** 2 + std ** 2, dMean: 2 * (mean - target), dStd: 2 * std };
}

/**
 * The pathwise estimator's variance per draw, summed over (mean, std): Var 2 (z - a) + Var 2 (z -
 * a) eps = 4 std^2 + 4 (mean - a)^2 + 8 std^2 (with z - a = (mean - a) + std eps, E eps^3 = 0 and
 * Var eps^2 = 2).
 */
export function pathwiseVariancePerDraw({ mean, std, target }: ToyProblem): number {
  return 4 * std ** 2 + 4 * (mean - target) ** 2 + 8 * std ** 2;
}

/** E[p(eps)] for eps ~ N(0, 1) and a polynomial p given by its coefficients, lowest first. */
function normalExpectation(coefficients: readonly number[]): number {
  // E eps^k = (k - 1)!! for even k, 0 for odd k.
  let moment = 1;
  let sum = 0;
  coefficients.forEach((c, k) => {
    if (k % 2 === 0) {
      if (k > 0) moment *= k - 1;
      sum += c * moment;
    }
  });
  return sum;
}

/** The product of two polynomials (coefficients, lowest first). */
function times(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array(a.length + b.length - 1).fill(0);
  a.forEach((x, i) => b.forEach((y, j) => out[i + j] += x * y));
  return out;
}

/**
 * The score-function estimator's variance per draw (no baseline), summed over (mean, std):
 * E[f^2 eps^2] / std^2 + E[f^2 (eps^2 - 1)^2] / std^2 minus the squared gradient, with f =
 * ((mean - a) + std eps)^2 a polynomial in eps whose Gaussian moments are exact.
 */
export function scoreVariancePerDraw(problem: ToyProblem): number {
  const { mean, std, target } = problem;
  const d = mean - target;
  const fSquared = times([d * d, 2 * d * std, std * std], [d * d, 2 * d * std, std * std]);
  const { dMean, dStd } = toyClosedForm(problem);
  const alongMean = normalExpectation(times(fSquared, [0, 0, 1])) / std ** 2; // f^2 eps^2
  const alongStd = normalExpectation(times(fSquared, [1, 0, -2, 0, 1])) / std ** 2; // (eps^2 - 1)^2
  return alongMean + alongStd - dMean ** 2 - dStd ** 2;
}

/** What a gradient with respect to a draw's parameters is, taken both ways (float32). */
export interface BlockedGradient {
  /** z = tf.randomNormal(shape, mean, std): the mean and std enter as numbers. */
  sampled: string;
  /** z = mean + std eps: the gradient of the mean of f over the draws. */
  pathwise: { dMean: number; dStd: number };
  /** The closed form, for the pathwise estimate's draws to be compared with. */
  closedForm: { dMean: number; dStd: number };
  draws: number;
}

/**
 * Take d/d(mean, std) of the mean of f over `draws` draws of z, once with z drawn by
 * `tf.randomNormal(shape, mean, std)` (which takes its mean and std as numbers, so the loss does
 * not depend on the variables at all: TensorFlow.js refuses the gradient, and a framework that
 * took tensors would give none through the draw), once with z = mean + std eps.
 */
export function blockedGradient(
  problem: ToyProblem,
  { draws, seed }: { draws: number; seed: number },
): BlockedGradient {
  positiveInteger("draws", draws);
  const mean = tf.variable(tf.scalar(problem.mean));
  const std = tf.variable(tf.scalar(problem.std));
  const f = (z: tf.Tensor) => tf.mean(tf.square(tf.sub(z, problem.target))) as tf.Scalar;
  let sampled = "";
  try {
    const { value, grads } = tf.variableGrads(
      () => f(tf.randomNormal([draws], mean.dataSync()[0], std.dataSync()[0], "float32", seed)),
      [mean, std],
    );
    sampled = `gradients ${JSON.stringify(Object.values(grads).map((g) => g.dataSync()[0]))}`;
    tf.dispose([value, grads] as tf.TensorContainer);
  } catch (error) {
    sampled = `none: ${error instanceof Error ? error.message : String(error)}`;
  }
  const { value, grads } = tf.variableGrads(
    () => f(tf.add(mean, tf.mul(std, tf.randomNormal([draws], 0, 1, "float32", seed)))),
    [mean, std],
  );
  const pathwise = { dMean: grads[mean.name].dataSync()[0], dStd: grads[std.name].dataSync()[0] };
  tf.dispose([value, grads, mean, std] as tf.TensorContainer);
  const { dMean, dStd } = toyClosedForm(problem);
  return { sampled, pathwise, closedForm: { dMean, dStd }, draws };
}

/** Options of {@linkcode toyEstimators}. */
export interface ToyEstimatorOptions {
  /** Draws per estimate, one row per count (2 or more: the baseline leaves one draw out). */
  samples: readonly number[];
  /** Independent estimates per count, for their mean and spread. */
  repeats: number;
  seed: number;
}

/** One estimator at one number of draws: its estimates' mean and spread, per parameter. */
export interface ToyEstimate {
  estimator: EstimatorName;
  samples: number;
  /** The mean of the `repeats` estimates of d/d mean, and its standard error. */
  dMean: { mean: number; stdError: number };
  dStd: { mean: number; stdError: number };
  /**
   * The variance of one draw's contribution: `samples` times the variance of an estimate (the
   * mean of `samples` draws), summed over the two parameters.
   */
  variancePerSample: number;
}

/** Each draw's gradient (d/d mean, d/d std) under each estimator, for draws eps. */
function perDraw(problem: ToyProblem, eps: Float64Array): Record<EstimatorName, Float64Array[]> {
  const { mean, std, target } = problem;
  const n = eps.length;
  const f = Float64Array.from(eps, (e) => (mean + std * e - target) ** 2);
  const total = f.reduce((a, b) => a + b, 0);
  const out = {} as Record<EstimatorName, Float64Array[]>;
  for (const name of ESTIMATOR_NAMES) out[name] = [new Float64Array(n), new Float64Array(n)];
  for (let i = 0; i < n; i++) {
    const e = eps[i];
    const slope = 2 * (mean + std * e - target);
    const [scoreMean, scoreStd] = [e / std, (e * e - 1) / std];
    const baseline = (total - f[i]) / (n - 1); // the other draws' mean: independent of this z
    out.pathwise[0][i] = slope;
    out.pathwise[1][i] = slope * e;
    out["score function"][0][i] = f[i] * scoreMean;
    out["score function"][1][i] = f[i] * scoreStd;
    out["score function, baseline"][0][i] = (f[i] - baseline) * scoreMean;
    out["score function, baseline"][1][i] = (f[i] - baseline) * scoreStd;
  }
  return out;
}

/**
 * The three estimators of the gradient of E_q[f] with respect to (mean, std), each from
 * `samples` draws, `repeats` times over independent draws (the same draws for every estimator):
 * their means with standard errors, to hold against the closed form, and each one's variance per
 * draw.
 */
export function toyEstimators(problem: ToyProblem, options: ToyEstimatorOptions): ToyEstimate[] {
  positiveNumber("std", problem.std);
  positiveInteger("repeats", options.repeats);
  const random = rng(options.seed);
  const rows: ToyEstimate[] = [];
  for (const samples of options.samples) {
    if (!(Number.isInteger(samples) && samples >= 2)) {
      throw new RangeError(`samples must be integers of 2 or more; got ${samples}`);
    }
    const estimates = Object.fromEntries(
      ESTIMATOR_NAMES.map((
        name,
      ) => [name, [new Float64Array(options.repeats), new Float64Array(options.repeats)]]),
    ) as Record<EstimatorName, Float64Array[]>;
    for (let r = 0; r < options.repeats; r++) {
      const eps = Float64Array.from({ length: samples }, () => normal(random));
      const draws = perDraw(problem, eps);
      for (const name of ESTIMATOR_NAMES) {
        for (const p of [0, 1]) {
          estimates[name][p][r] = draws[name][p].reduce((a, b) => a + b, 0) / samples;
        }
      }
    }
    for (const name of ESTIMATOR_NAMES) {
      const [m, s] = estimates[name].map((values) => meanWithError(values));
      // The standard error of the mean over repeats, times sqrt(repeats), is an estimate's spread.
      const variance = (e: { stdError: number }) => e.stdError ** 2 * options.repeats;
      rows.push({
        estimator: name,
        samples,
        dMean: { mean: m.mean, stdError: m.stdError },
        dStd: { mean: s.mean, stdError: s.stdError },
        variancePerSample: samples * (variance(m) + variance(s)),
      });
    }
  }
  return rows;
}

/** At one number of draws per estimate, the ratios of the estimators' variances per draw. */
export interface ToyRatio {
  samples: number;
  /** The score function's variance per draw over the pathwise one's. */
  scoreOverPathwise: number;
  /** The score function with a baseline over the pathwise estimator. */
  baselineOverPathwise: number;
  /** The score function without a baseline over with: how much the baseline removes. */
  scoreOverBaseline: number;
}

/** Per number of draws, in increasing order, the ratios of the three variances per draw. */
export function toyRatios(rows: readonly ToyEstimate[]): ToyRatio[] {
  const counts = [...new Set(rows.map((r) => r.samples))].sort((a, b) => a - b);
  return counts.map((samples) => {
    const of = (name: EstimatorName) => {
      const row = rows.find((r) => r.samples === samples && r.estimator === name);
      if (!row) throw new RangeError(`no "${name}" estimate with ${samples} draws`);
      return row.variancePerSample;
    };
    const [pathwise, score, baseline] = ESTIMATOR_NAMES.map(of);
    return {
      samples,
      scoreOverPathwise: score / pathwise,
      baselineOverPathwise: baseline / pathwise,
      scoreOverBaseline: score / baseline,
    };
  });
}
