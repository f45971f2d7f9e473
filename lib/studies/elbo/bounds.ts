/**
 * The bounds L_k on the linear-Gaussian model (section 3 of the ELBO check): two proposals, many
 * repeats, against the exact log p(x).
 * @module
 */
import { mixSeeds, positiveInteger } from "../../base/mod.ts";
import * as lg from "../../linear_gaussian/mod.ts";
import { type Claim, claimBelow } from "../claims.ts";
import { linearGaussianProblem, momentMatchedQ, type ProblemConfig } from "./derivation.ts";
import { type BoundCurve, risingClaims } from "./importance.ts";

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

/**
 * L_k against k on the linear-Gaussian model for two proposals, and the exact log p(x).
 * @param config the problem, the ks, the sampling budget
 * @example
 * ```ts
 * const bounds = linearGaussianBounds({ ...problem, ks: [1, 5, 50], budget: 50_000, minRepeats: 20 });
 * ```
 */
export function linearGaussianBounds(config: LinearBoundsConfig): LinearBounds {
  positiveInteger("budget", config.budget);
  positiveInteger("minRepeats", config.minRepeats);
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

/**
 * L_k rises with k, stays below log p(x), and the moment-matched L_K is within `tolerance` of it.
 * @param bounds from `linearGaussianBounds`
 * @param within how close L_K must come to log p(x), nats
 * @example
 * ```ts
 * verify({ "bounds": linearBoundsClaims(bounds, 0.05) }, "L_k on the linear-Gaussian model");
 * ```
 */
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
