/**
 * Section 1 of the ELBO check: log p(x) = ELBO(q) + KL(q(z|x) || p(z|x)) term by term, each
 * term in closed form, on random linear-Gaussian models and kinds of q, in float64 and float32.
 * @module
 */
import {
  mixSeeds,
  normal,
  positiveInteger,
  positiveNumber,
  type Random,
  rng,
} from "../../base/mod.ts";
import * as lg from "../../linear_gaussian/mod.ts";
import { type Claim, claimBelow } from "../claims.ts";

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

/**
 * log p(x) - (ELBO + KL) over random models, data points and diagonal q, in float64 and float32.
 * @param config how many draws, and of what
 * @example
 * ```ts
 * const draws = identityCheck({ ...IDENTITY_DEFAULTS, draws: 250 });
 * ```
 */
export function identityCheck(config: IdentityConfig = IDENTITY_DEFAULTS): IdentityDraw[] {
  positiveInteger("draws", config.draws);
  if (!(config.maxLatent >= 2) || !Number.isInteger(config.maxLatent)) {
    throw new RangeError(`maxLatent must be an integer >= 2; got ${config.maxLatent}`);
  }
  if (!(config.maxData >= config.maxLatent) || !Number.isInteger(config.maxData)) {
    throw new RangeError(`maxData must be an integer >= maxLatent; got ${config.maxData}`);
  }
  const [low, high] = config.sigmaRange;
  positiveNumber("sigmaRange[0]", low);
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

/**
 * What the identity check must show; `tolerance` bounds float32 errors of q near the posterior.
 * @param draws from `identityCheck`
 * @param tolerance the float32 error allowed near the posterior, nats
 * @example
 * ```ts
 * verify({ "identity": identityClaims(identityCheck(), 1e-3) }, "The identity");
 * ```
 */
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
