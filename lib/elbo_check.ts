/**
 * The ELBO derivation checked with numbers: log p(x) = ELBO(q) + KL(q(z|x) || p(z|x)) exactly on the
 * linear-Gaussian model, each line of the derivation by Monte Carlo, the closed-form Gaussian KL
 * against sampling, and importance-weighted bounds L_k on a trained VAE.
 *
 * Each check returns data; `*Figure` functions draw it; `*Claims` say what must hold, and
 * {@linkcode verify} throws when a claim fails, so an executed notebook fails loudly.
 * @module
 */
import { type Claim, claimAbove, claimBelow } from "./claims.ts";
import { type BoundCurve, meanWithError, risingClaims } from "./importance.ts";
import * as lg from "./linear_gaussian.ts";
import { exact, logMeanExp, matVec } from "./linear_gaussian_linalg.ts";
import { mixSeeds, normal, type Random, rng } from "./random.ts";

export * from "./claims.ts";
export * from "./importance.ts";
export * from "./elbo_figures.ts";

const LOG_2PI = Math.log(2 * Math.PI);

/** How a diagonal q is chosen in {@linkcode identityCheck}, cycling through these. */
export const Q_KINDS = ["posterior", "best diagonal", "near", "far", "prior"] as const;
/** One of {@linkcode Q_KINDS}. */
export type QKind = typeof Q_KINDS[number];

/** Random draws of the identity check. */
export interface IdentityConfig {
  /** Number of (model, x, q) draws; q's kind cycles through {@linkcode Q_KINDS}. */
  draws: number;
  seed: number;
  /** Each draw's latent size d is uniform in 2..maxLatent (for d = 1 every posterior is diagonal). */
  maxLatent: number;
  /** Each draw's data size D is uniform in d..maxData. */
  maxData: number;
  /** sigma is log-uniform between these two. */
  sigmaRange: readonly [number, number];
  /** Std of the noise added to the best diagonal q's mean and logVar for a "near" q. */
  nearSpread: number;
}

/** 500 draws, d up to 10, D up to 50, sigma in [0.1, 2]. */
export const IDENTITY_DEFAULTS: Readonly<IdentityConfig> = {
  draws: 500,
  seed: 0,
  maxLatent: 10,
  maxData: 50,
  sigmaRange: [0.1, 2],
  nearSpread: 0.3,
};

/** One draw: the three closed forms (float64) and the identity's error in both precisions. */
export interface IdentityDraw {
  kind: QKind;
  latentSize: number;
  dataSize: number;
  sigma: number;
  logPx: number;
  elbo: number;
  /** KL(q || p(z|x)). */
  kl: number;
  /** log p(x) - ELBO - KL with every operation in float64, then in float32. */
  error64: number;
  error32: number;
  /**
   * The largest term summed: max(|log p(x)|, |E_q[log p(x|z)]|, KL(q || p(z)), KL(q || p(z|x))).
   * float32 rounds each to ~6e-8 of its size, so errors are relative to this, not to the ELBO.
   */
  scale: number;
}

function checkPositive(name: string, value: number, integer = false): void {
  if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new RangeError(
      `${name} must be a positive ${integer ? "integer" : "number"}; got ${value}`,
    );
  }
}

function diagonalQ(
  kind: QKind,
  model: lg.LinearGaussian,
  x: Float64Array,
  spread: number,
  random: Random,
): lg.DiagonalGaussian {
  const d = model.latentSize;
  const best = lg.bestDiagonalQ(model, x);
  const gauss = () => normal(random);
  switch (kind) {
    case "posterior": // W has orthogonal columns, so the best diagonal q is the posterior
    case "best diagonal":
      return best;
    case "near":
      return {
        mean: best.mean.map((v) => v + spread * gauss()),
        logVar: best.logVar.map((v) => v + spread * gauss()),
      };
    case "far":
      return {
        mean: Float64Array.from({ length: d }, () => 2 * gauss()),
        logVar: Float64Array.from({ length: d }, () => -4 + 6 * random()),
      };
    case "prior":
      return { mean: new Float64Array(d), logVar: new Float64Array(d) };
  }
}

/** log p(x) - (ELBO + KL) over random models, data points and diagonal q, in float64 and float32. */
export function identityCheck(config: IdentityConfig = IDENTITY_DEFAULTS): IdentityDraw[] {
  checkPositive("draws", config.draws, true);
  if (!(config.maxLatent >= 2) || !Number.isInteger(config.maxLatent)) {
    throw new RangeError(`maxLatent must be an integer >= 2; got ${config.maxLatent}`);
  }
  if (!(config.maxData >= config.maxLatent) || !Number.isInteger(config.maxData)) {
    throw new RangeError(`maxData must be an integer >= maxLatent; got ${config.maxData}`);
  }
  const [low, high] = config.sigmaRange;
  checkPositive("sigmaRange[0]", low);
  if (!(high >= low)) throw new RangeError(`sigmaRange must be [low, high]; got [${low}, ${high}]`);
  const random = rng(config.seed);
  return Array.from({ length: config.draws }, (_, i): IdentityDraw => {
    const kind = Q_KINDS[i % Q_KINDS.length];
    const d = 2 + Math.floor(random() * (config.maxLatent - 1));
    const D = d + Math.floor(random() * (config.maxData - d + 1));
    const sigma = low * (high / low) ** random();
    const model = lg.randomLinearGaussian({
      latentSize: d,
      dataSize: D,
      sigma,
      seed: mixSeeds(config.seed, i),
      orthogonal: kind === "posterior",
    });
    const x = lg.sampleLinearGaussian(model, { count: 1, seed: mixSeeds(config.seed, i, 1) }).x;
    const q = diagonalQ(kind, model, x, config.nearSpread, random);
    const terms = (precision: lg.Precision) => {
      const logPx = lg.logMarginal(model, x, { precision });
      const elbo = lg.exactElbo(model, x, q, { precision });
      const kl = lg.klToPosterior(model, x, q, { precision });
      const scale = Math.max(Math.abs(logPx), Math.abs(elbo.reconstruction), elbo.kl, kl);
      return { logPx, elbo: elbo.elbo, kl, scale, error: logPx - (elbo.elbo + kl) };
    };
    const { error, ...exact } = terms("float64");
    const error32 = terms("float32").error;
    return { kind, latentSize: d, dataSize: D, sigma, ...exact, error64: error, error32 };
  });
}

/** What the identity check must show; `tolerance` bounds float32 errors of q near the posterior. */
export function identityClaims(draws: readonly IdentityDraw[], tolerance = 1e-3): Claim[] {
  const worst = (rows: readonly IdentityDraw[], f: (r: IdentityDraw) => number) =>
    Math.max(...rows.map(f));
  const near = draws.filter((r) => ["posterior", "best diagonal", "near"].includes(r.kind));
  const posterior = draws.filter((r) => r.kind === "posterior");
  const others = draws.filter((r) => r.kind !== "posterior");
  return [
    claimBelow(
      "|identity error|, float64, every q",
      worst(draws, (r) => Math.abs(r.error64)),
      1e-9,
    ),
    claimBelow(
      "|identity error|, float32, q posterior, best diagonal or near",
      worst(near, (r) => Math.abs(r.error32)),
      tolerance,
    ),
    claimBelow(
      "|identity error| / scale, float32, every q",
      worst(draws, (r) => Math.abs(r.error32) / r.scale),
      1e-5,
    ),
    claimBelow(
      "max ELBO - log p(x), q not the posterior",
      worst(others, (r) => r.elbo - r.logPx),
      0,
    ),
    claimBelow(
      "|log p(x) - ELBO|, q the posterior",
      worst(posterior, (r) => Math.abs(r.logPx - r.elbo)),
      1e-9,
    ),
  ];
}

/** A linear-Gaussian model and one x drawn from it. */
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

/** Fit q on a correlated posterior and on a diagonal one (W with orthogonal columns). */
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

/** The ascent ends at its floor, never goes below it, and the floor is 0 only for a diagonal posterior. */
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
 */
export function derivationLines(config: DerivationConfig): DerivationLine[] {
  checkPositive("samples", config.samples, true);
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

/** Every checked line agrees with its closed form within `within` standard errors. */
export function derivationClaims(lines: readonly DerivationLine[], within = 4): Claim[] {
  return lines.filter((l) => l.checked === "yes").map((l) =>
    claimBelow(`line ${l.line}: |estimate - exact| / std. error`, Math.abs(l.z), within)
  );
}

/** L_k = log (1/k) sum_i p(x, z_i) / q(z_i) for each k, on a {@linkcode ProblemConfig}. */
export interface LinearBoundsConfig extends ProblemConfig {
  ks: readonly number[];
  /** Samples spent on each k: repeats = max(minRepeats, ceil(budget / k)) independent L_k. */
  budget: number;
  minRepeats: number;
}

/** L_k and the exact log p(x) on the linear-Gaussian model, for each proposal q. */
export interface LinearBounds {
  logPx: number;
  /** One curve per proposal, with the proposal's KL(q || p(z|x)). */
  curves: (BoundCurve & { kl: number })[];
}

/** L_k against k on the linear-Gaussian model for two proposals, and the exact log p(x). */
export function linearGaussianBounds(config: LinearBoundsConfig): LinearBounds {
  checkPositive("budget", config.budget, true);
  checkPositive("minRepeats", config.minRepeats, true);
  const { model, x } = linearGaussianProblem(config);
  const proposals = {
    "best diagonal q (ELBO optimum)": lg.bestDiagonalQ(model, x),
    "moment-matched diagonal q": momentMatchedQ(model, x),
  };
  return {
    logPx: lg.logMarginal(model, x),
    curves: Object.entries(proposals).map(([name, q], p) => ({
      name,
      kl: lg.klToPosterior(model, x, q),
      points: config.ks.map((k) => {
        const repeats = Math.max(config.minRepeats, Math.ceil(config.budget / k));
        const bound = lg.iwaeBound(model, x, q, {
          samples: k,
          repeats,
          seed: mixSeeds(config.seed, p, k),
        });
        return { k, mean: bound.mean, stdError: bound.stdError };
      }),
    })),
  };
}

/** L_k rises with k, stays below log p(x), and the moment-matched L_K is within `tolerance` of it. */
export function linearBoundsClaims(
  bounds: LinearBounds,
  tolerance = 0.05,
): Claim[] {
  const matched = bounds.curves.find((c) => c.name.startsWith("moment-matched"))!;
  const last = matched.points[matched.points.length - 1];
  return [
    ...bounds.curves.flatMap((curve) => [
      ...risingClaims(curve),
      claimBelow(
        `${curve.name}: max (L_k - log p(x)) / std. error`,
        Math.max(...curve.points.map((p) => (p.mean - bounds.logPx) / p.stdError)),
        3,
      ),
    ]),
    claimBelow(
      `${matched.name}: |L_${last.k} - log p(x)|`,
      Math.abs(last.mean - bounds.logPx),
      tolerance,
    ),
  ];
}
