/**
 * The latent space of a trained model, unit by unit and as a plane: each unit's KL to the prior,
 * a grid of codes over a 2-D latent plane, and traversals of one unit at a time.
 * @module
 */
import { normal, normalQuantile, positiveInteger, rng } from "../base/mod.ts";
import type { Codes } from "./metrics.ts";

/**
 * Each latent unit's KL to N(0, 1), averaged over the data: (1/N) sum_x -1/2 (1 + logVar_j -
 * mean_j^2 - exp(logVar_j)). A unit the encoder does not use has a KL near 0. [latentSize].
 * @param codes a VAE's codes of a split, from `encodeAll`
 * @example
 * ```ts
 * const perUnit = unitKl(encodeAll(vae, data.test)); // sums to the mean KL
 * ```
 */
export function unitKl(codes: Codes): Float64Array {
  if (!codes.logVar) throw new TypeError("unitKl needs a VAE's codes: they have no logVar");
  const L = codes.latentSize;
  const out = new Float64Array(L);
  for (let i = 0; i < codes.size; i++) {
    for (let j = 0; j < L; j++) {
      const m = codes.mean[i * L + j];
      const lv = codes.logVar[i * L + j];
      out[j] += -0.5 * (1 + lv - m * m - Math.exp(lv));
    }
  }
  return out.map((v) => v / codes.size);
}

/**
 * A side x side grid of 2-D codes through the prior's quantiles, as in Kingma and Welling's
 * figure 4: z = (Phi^-1(u), Phi^-1(v)) for u, v evenly spaced in (0, 1), rows from the top (high
 * z2) down. [side * side * 2].
 * @param side points per axis
 * @example
 * ```ts
 * digitGridFigure(decodeCodes(vae2d, latentGridCodes(15)), { cols: 15 });
 * ```
 */
export function latentGridCodes(side: number): Float32Array {
  positiveInteger("side", side);
  const q = Array.from({ length: side }, (_, i) => normalQuantile((i + 0.5) / side));
  const out = new Float32Array(side * side * 2);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      out[2 * (r * side + c)] = q[c];
      out[2 * (r * side + c) + 1] = q[side - 1 - r];
    }
  }
  return out;
}

/**
 * Traversals: for each of `units`, `steps` codes equal to `base` except that unit, swept
 * evenly over [-range, range]. [units.length * steps * latent], unit by unit.
 * @param base the code to start from (e.g. a test digit's mean code), [latent]
 * @param options the units to sweep (in the order shown), the steps, the range (default 3)
 * @example
 * ```ts
 * const z = traversalCodes(codes.mean.slice(0, 10), { units: [3, 0, 7], steps: 9 });
 * ```
 */
export function traversalCodes(
  base: ArrayLike<number>,
  { units, steps, range = 3 }: { units: readonly number[]; steps: number; range?: number },
): Float32Array {
  const L = base.length;
  positiveInteger("steps", steps);
  units.forEach((u, i) => {
    if (!Number.isInteger(u) || u < 0 || u >= L) {
      throw new RangeError(`units[${i}] must be a unit in [0, ${L}); got ${u}`);
    }
  });
  const out = new Float32Array(units.length * steps * L);
  units.forEach((unit, k) => {
    for (let s = 0; s < steps; s++) {
      const row = (k * steps + s) * L;
      for (let j = 0; j < L; j++) out[row + j] = base[j];
      out[row + unit] = steps === 1 ? 0 : -range + (2 * range * s) / (steps - 1);
    }
  });
  return out;
}

/**
 * The sliced Wasserstein-1 distance between two sets of points of `dim` values (row-major): the
 * mean, over `projections` random directions (seeded), of the 1-D Wasserstein distance between
 * the two sets' projections (compared at `quantiles` evenly spaced quantiles). 0 for a set against
 * itself; for two sets that differ by a shift s in 1-D, |s|. How far an encoder's codes are from
 * draws of its prior.
 * @example
 * ```ts
 * const prior = priorCodes({ latentSize: 2, n: 5000, seed: 1, prior: aae.prior });
 * slicedWasserstein(encodeAll(aae, data.test).mean, prior, 2);
 * ```
 */
export function slicedWasserstein(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  dim: number,
  { projections = 64, quantiles = 200, seed = 0 }: {
    projections?: number;
    quantiles?: number;
    seed?: number;
  } = {},
): number {
  positiveInteger("dim", dim);
  positiveInteger("projections", projections);
  positiveInteger("quantiles", quantiles);
  const n = a.length / dim;
  const m = b.length / dim;
  if (!Number.isInteger(n) || !Number.isInteger(m) || n === 0 || m === 0) {
    throw new RangeError(`slicedWasserstein needs non-empty sets of ${dim}-value points`);
  }
  const random = rng(seed);
  const project = (points: ArrayLike<number>, count: number, direction: number[]) => {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += points[i * dim + j] * direction[j];
      out[i] = s;
    }
    return out.sort();
  };
  const quantile = (sorted: Float64Array, q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  let total = 0;
  for (let p = 0; p < projections; p++) {
    const direction = Array.from({ length: dim }, () => normal(random));
    const length = Math.hypot(...direction);
    const unit = direction.map((v) => v / length);
    const pa = project(a, n, unit);
    const pb = project(b, m, unit);
    let distance = 0;
    for (let k = 0; k < quantiles; k++) {
      const q = (k + 0.5) / quantiles;
      distance += Math.abs(quantile(pa, q) - quantile(pb, q));
    }
    total += distance / quantiles;
  }
  return total / projections;
}
