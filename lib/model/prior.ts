/**
 * The prior p(z) over codes, as a value: everything that computes log p(z), the KL to the prior
 * or draws from it goes through a `Prior`, so a richer prior (a mixture) plugs in without
 * touching the losses, the estimators or the samplers.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { normalSeed } from "../base/mod.ts";
import { gaussianKl, standardNormalLogDensity } from "./gaussian.ts";

/** A distribution over codes z of a given size. */
export interface Prior {
  /** How figures and tables name it, e.g. `N(0, I)`. */
  readonly name: string;
  /** log p(z) per code. z [B, L] -> [B]. */
  logDensity(z: tf.Tensor2D): tf.Tensor1D;
  /**
   * KL(q(z|x) || p(z)) per example for q = N(mean, exp(logVar)), [B, L] -> [B]: in closed form
   * where one exists, else by one-sample Monte Carlo log q(z|x) - log p(z) at `z`, a draw from q
   * (such a prior throws without `z`).
   */
  kl(mean: tf.Tensor2D, logVar: tf.Tensor2D, z?: tf.Tensor2D): tf.Tensor1D;
  /** `n` draws z ~ p(z) of size `latentSize`, [n, L], from `seed`. */
  sample(n: number, latentSize: number, seed?: number): tf.Tensor2D;
}

/**
 * p(z) = N(0, I): the VAE's prior, whose KL to a diagonal Gaussian has a closed form.
 * @example
 * ```ts
 * const z = STANDARD_NORMAL.sample(16, 20, 7); // [16, 20]
 * const logPz = STANDARD_NORMAL.logDensity(z); // [16]
 * ```
 */
export const STANDARD_NORMAL: Prior = {
  name: "N(0, I)",
  logDensity: standardNormalLogDensity,
  kl: (mean, logVar) => gaussianKl(mean, logVar),
  sample: (n, latentSize, seed) =>
    tf.randomNormal([n, latentSize], 0, 1, "float32", normalSeed(seed)) as tf.Tensor2D,
};
