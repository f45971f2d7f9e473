/**
 * Sections 2 and 3 of the ELBO check: closing the gap by gradient ascent on q, and each line of
 * the derivation estimated by Monte Carlo against its closed form.
 * @module
 */
import {
  logMeanExp,
  meanWithError,
  mixSeeds,
  normal,
  positiveInteger,
  type Random,
  rng,
} from "../../base/mod.ts";
import * as lg from "../../linear_gaussian/mod.ts";
import { exact, matVec } from "../../linear_gaussian/mod.ts";
import { type Claim, claimAbove, claimBelow } from "../claims.ts";

const LOG_2PI = Math.log(2 * Math.PI);

export interface ProblemConfig {
  latentSize: number;
  dataSize: number;
  sigma: number;
  /** Seed of W, b and x. */
  seed: number;
}

/** The model and data point of a {@linkcode ProblemConfig}: W, b from the seed, x ~ p(x). */
export function linearGaussianProblem(
  config: ProblemConfig,
  orthogonal = false,
): { model: lg.LinearGaussian; x: Float64Array } {
  const model = lg.randomLinearGaussian({ ...config, orthogonal });
  return {
    model,
    x: lg.sampleLinearGaussian(model, { count: 1, seed: mixSeeds(config.seed, 1) }).x,
  };
}

/** Gradient ascent of the ELBO in q's mean and logVar, from q = N(0, I). */
export interface GapClosingConfig extends ProblemConfig {
  /** Adam steps. */
  steps: number;
  learningRate: number;
}

/** One ascent: the gap log p(x) - ELBO(q_t) for t = 0..steps, and the KL of the best diagonal q. */
export interface GapClosingRun {
  name: string;
  gap: Float64Array;
  /** min over diagonal q of KL(q || p(z|x)): where the gap must stop. */
  floor: number;
}

/**
 * Fit q on a correlated posterior and on a diagonal one (W with orthogonal columns).
 * @param config the problem, Adam's steps and learning rate
 * @example
 * ```ts
 * const runs = gapClosing({ latentSize: 10, dataSize: 30, sigma: 0.5, seed: 2, steps: 400, learningRate: 0.05 });
 * ```
 */
export function gapClosing(config: GapClosingConfig): GapClosingRun[] {
  return [false, true].map((orthogonal) => {
    const { model, x } = linearGaussianProblem(config, orthogonal);
    const { gap } = lg.fitDiagonalQ(model, x, {
      steps: config.steps,
      learningRate: config.learningRate,
    });
    return {
      name: orthogonal ? "diagonal posterior (orthogonal columns of W)" : "correlated posterior",
      gap,
      floor: lg.klToPosterior(model, x, lg.bestDiagonalQ(model, x)),
    };
  });
}

/**
 * The ascent ends at its floor, never goes below it, and the floor is 0 only for a diagonal posterior.
 * @param runs from `gapClosing`
 * @param tolerance how close to its floor each gap must end, nats
 * @example
 * ```ts
 * verify({ "gap-closes": gapClosingClaims(runs, 1e-4) }, "Gradient ascent");
 * ```
 */
export function gapClosingClaims(runs: readonly GapClosingRun[], tolerance = 1e-4): Claim[] {
  return runs.flatMap((run) => [
    claimBelow(
      `${run.name}: final gap - floor`,
      run.gap[run.gap.length - 1] - run.floor,
      tolerance,
    ),
    claimBelow(
      `${run.name}: max (floor - gap)`,
      Math.max(...run.gap.map((g) => run.floor - g)),
      1e-9,
    ),
    run.name.startsWith("diagonal")
      ? claimBelow(`${run.name}: floor`, run.floor, 1e-9)
      : claimAbove(`${run.name}: floor`, run.floor, 1e-3),
  ]);
}

/** A diagonal q with the posterior's mean and marginal variances S_jj: wider than the best diagonal q. */
export function momentMatchedQ(
  model: lg.LinearGaussian,
  x: ArrayLike<number>,
): lg.DiagonalGaussian {
  const { mean, cov } = lg.exactPosterior(model, x);
  const d = model.latentSize;
  return { mean, logVar: Float64Array.from({ length: d }, (_, j) => Math.log(cov[j * d + j])) };
}

/** Monte-Carlo samples behind each line of the derivation. */
export interface DerivationConfig extends ProblemConfig {
  samples: number;
}

/** One line of the derivation: its exact value and its Monte-Carlo estimate. */
export interface DerivationLine {
  line: string;
  quantity: string;
  exact: number;
  estimate: number;
  "std. error": number;
  /** (estimate - exact) / std. error. */
  z: number;
  /** "yes" when the line must agree within error bars. */
  checked: string;
}

/** log mean exp(v) and its delta-method standard error sd(w / mean w) / sqrt(n), w = exp(v). */
function logMeanExpWithError(v: Float64Array) {
  const mean = logMeanExp(v);
  const ratio = v.map((x) => Math.exp(x - mean)); // w / mean(w)
  return { mean, stdError: meanWithError(ratio).stdError, ratio };
}

/** log p(x|z), log p(z) and log q(z) at n draws z ~ q: [n] each. */
function sampleTerms(
  model: lg.LinearGaussian,
  x: ArrayLike<number>,
  q: lg.DiagonalGaussian,
  n: number,
  random: Random,
) {
  const { latentSize: d, dataSize: D, sigma } = model;
  const [logLik, logPrior, logQ] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const z = new Float64Array(d);
  for (let s = 0; s < n; s++) {
    for (let j = 0; j < d; j++) {
      const eps = normal(random);
      z[j] = q.mean[j] + Math.exp(0.5 * q.logVar[j]) * eps;
      logPrior[s] -= 0.5 * (LOG_2PI + z[j] * z[j]);
      logQ[s] -= 0.5 * (LOG_2PI + q.logVar[j] + eps * eps);
    }
    const mean = matVec(model.W, z, exact); // W z: [D]
    let squared = 0;
    for (let i = 0; i < D; i++) squared += (x[i] - mean[i] - model.b[i]) ** 2;
    logLik[s] = -0.5 * D * (LOG_2PI + 2 * Math.log(sigma)) - squared / (2 * sigma * sigma);
  }
  return { logLik, logPrior, logQ };
}

/**
 * Each line of the course's proof, (1) log p(x) = log integral p(x|z) p(z) dz, (2)-(3) = log E_q[w],
 * (4) >= E_q[log w], (5) = E_q[log p(x|z)] - KL(q || p(z)), with w = p(x|z) p(z) / q(z): estimated
 * from the same draws z ~ q (q moment-matched) and compared with its closed form. Line (1) samples z
 * from the prior instead, to show why a proposal q is needed.
 * @param config the problem and the draws per line
 * @example
 * ```ts
 * const lines = derivationLines({ latentSize: 10, dataSize: 20, sigma: 0.3, seed: 1, samples: 50_000 });
 * ```
 */
export function derivationLines(config: DerivationConfig): DerivationLine[] {
  positiveInteger("samples", config.samples);
  const { model, x } = linearGaussianProblem(config);
  const q = momentMatchedQ(model, x);
  const closed = { logPx: lg.logMarginal(model, x), ...lg.exactElbo(model, x, q) };
  const random = rng(mixSeeds(config.seed, 2));
  const prior = {
    mean: new Float64Array(config.latentSize),
    logVar: new Float64Array(config.latentSize),
  };
  const fromPrior = logMeanExpWithError(
    sampleTerms(model, x, prior, config.samples, random).logLik,
  );
  const { logLik, logPrior, logQ } = sampleTerms(model, x, q, config.samples, random);
  const logW = logLik.map((v, s) => v + logPrior[s] - logQ[s]);
  const importance = logMeanExpWithError(logW);
  const jensen = meanWithError(logW);
  const row = (
    line: string,
    quantity: string,
    exactValue: number,
    { mean, stdError }: { mean: number; stdError: number },
    checked = true,
  ) => ({
    line,
    quantity,
    exact: exactValue,
    estimate: mean,
    "std. error": stdError,
    z: (mean - exactValue) / stdError,
    checked: checked ? "yes" : "no",
  });
  return [
    row("(1)", "log E_p(z)[p(x|z)], z from the prior", closed.logPx, fromPrior, false),
    row("(2)-(3)", "log E_q[p(x|z) p(z) / q(z)]", closed.logPx, importance),
    row("(4)", "E_q[log p(x|z) p(z) / q(z)]  (Jensen: <= (3))", closed.elbo, jensen),
    row("(5a)", "E_q[log p(x|z)]", closed.reconstruction, meanWithError(logLik)),
    row(
      "(5b)",
      "KL(q || p(z)) as E_q[log q(z) - log p(z)]",
      closed.kl,
      meanWithError(logQ.map((v, s) => v - logPrior[s])),
    ),
    row("(5) = (5a) - (5b)", "E_q[log p(x|z)] - KL(q || p(z)), KL closed form", closed.elbo, {
      mean: meanWithError(logLik).mean - closed.kl,
      stdError: meanWithError(logLik).stdError,
    }),
    // (3) - (4) from the same draws; its per-draw influence is w / mean(w) - log w.
    row("(3) - (4)", "log p(x) - ELBO = KL(q || p(z|x))", lg.klToPosterior(model, x, q), {
      mean: importance.mean - jensen.mean,
      stdError: meanWithError(importance.ratio.map((r, s) => r - logW[s])).stdError,
    }),
  ];
}

/**
 * Every checked line agrees with its closed form within `within` standard errors.
 * @param lines from `derivationLines`
 * @param within standard errors allowed
 * @example
 * ```ts
 * verify({ "derivation": derivationClaims(lines, 4) }, "The derivation, line by line");
 * ```
 */
export function derivationClaims(lines: readonly DerivationLine[], within = 4): Claim[] {
  return lines.filter((l) => l.checked === "yes").map((l) =>
    claimBelow(`line ${l.line}: |estimate - exact| / std. error`, Math.abs(l.z), within)
  );
}

/** L_k = log (1/k) sum_i p(x, z_i) / q(z_i) for each k, on a {@linkcode ProblemConfig}. */
