/**
 * The prior p(z) over codes, as a value: everything that computes log p(z), the KL to the prior
 * or draws from it goes through a `Prior`, so a richer prior (a mixture) plugs in without
 * touching the losses, the estimators or the samplers.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { normalSeed, rng } from "../base/mod.ts";
import {
  gaussianKl,
  gaussianLogDensity,
  HALF_LOG_TWO_PI,
  reparameterize,
  standardNormalLogDensity,
} from "./gaussian.ts";

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
  /** Whether `kl` has a closed form (and so needs no draw z). */
  readonly closedFormKl: boolean;
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
  closedFormKl: true,
  sample: (n, latentSize, seed) =>
    tf.randomNormal([n, latentSize], 0, 1, "float32", normalSeed(seed)) as tf.Tensor2D,
};

/** The parameters of a mixture of K diagonal Gaussians in L dimensions. */
export interface MixtureParameters {
  /** Component means, [K, L]. */
  means: tf.Tensor2D | tf.Variable;
  /** Component log-variances, [K, L]. */
  logVars: tf.Tensor2D | tf.Variable;
  /** Unnormalised log-weights, [K]: pi = softmax(logits). */
  logits: tf.Tensor1D | tf.Variable;
}

/**
 * p(z) = sum_k pi_k N(z; mu_k, diag(exp(logVar_k))), the course's "modèle de mélange". Its
 * parameters may be variables (a VAE learns them with the rest) or constants (the AAE's fixed
 * prior). The KL to it has no closed form: `kl` is log q(z|x) - log p(z) at the draw z.
 * @example
 * ```ts
 * const prior = mixturePrior(ringMixture(10, 2)); // 10 components on a circle in 2-D
 * const z = prior.sample(1000, 2, 0);
 * ```
 */
export function mixturePrior(parameters: MixtureParameters, name?: string): Prior {
  const { means, logVars, logits } = parameters;
  const [components, latentSize] = means.shape as [number, number];
  const checkSize = (size: number) => {
    if (size !== latentSize) {
      throw new RangeError(`this mixture prior has latentSize ${latentSize}; got ${size}`);
    }
  };
  const logDensity = (z: tf.Tensor2D): tf.Tensor1D =>
    tf.tidy(() => {
      checkSize(z.shape[1]);
      // [B, 1, L] against [1, K, L] -> log N(z; mu_k, sigma_k) [B, K].
      const diff = tf.sub(tf.expandDims(z, 1), tf.expandDims(means, 0));
      const scaled = tf.mul(tf.square(diff), tf.exp(tf.neg(tf.expandDims(logVars, 0))));
      const perComponent = tf.sub(
        tf.mul(tf.sum(tf.add(scaled, tf.expandDims(logVars, 0)), 2), -0.5),
        latentSize * HALF_LOG_TWO_PI,
      );
      return tf.logSumExp(tf.add(perComponent, tf.logSoftmax(logits)), 1) as tf.Tensor1D;
    });
  return {
    name: name ?? `mixture of ${components} Gaussians`,
    logDensity,
    kl: (mean, logVar, z) => {
      if (!z) throw new RangeError("the KL to a mixture prior needs the draw z (Monte Carlo)");
      return tf.tidy(() => tf.sub(gaussianLogDensity(z, mean, logVar), logDensity(z)));
    },
    closedFormKl: false,
    sample: (n, size, seed) => {
      checkSize(size);
      // The component of each draw on the host (seeded), the Gaussian noise by tf.
      const weights = tf.tidy(() => tf.softmax(logits).dataSync());
      const random = rng(seed ?? Math.floor(Math.random() * 2 ** 31));
      const picks = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        let u = random();
        let k = 0;
        while (k < components - 1 && u >= weights[k]) u -= weights[k++];
        picks[i] = k;
      }
      return tf.tidy(() => {
        const index = tf.tensor1d(picks, "int32");
        const eps = tf.randomNormal([n, size], 0, 1, "float32", normalSeed(seed)) as tf.Tensor2D;
        const pick = (t: tf.Tensor) => tf.gather(t, index) as tf.Tensor2D;
        return reparameterize(pick(means), pick(logVars), eps);
      });
    },
  };
}

/**
 * Fixed parameters of `components` equal-weight Gaussians whose means sit evenly on a circle of
 * `radius` in the first two dimensions (0 in the others), each of standard deviation `std`: the
 * adversarial autoencoder's mixture prior (Makhzani et al., 2016, figure 4).
 */
export function ringMixture(
  components: number,
  latentSize: number,
  { radius = 4, std = 0.5 }: { radius?: number; std?: number } = {},
): MixtureParameters {
  if (latentSize < 2) {
    throw new RangeError(`a ring mixture needs latentSize >= 2; got ${latentSize}`);
  }
  const means = new Float32Array(components * latentSize);
  for (let k = 0; k < components; k++) {
    const angle = (2 * Math.PI * k) / components;
    means[k * latentSize] = radius * Math.cos(angle);
    means[k * latentSize + 1] = radius * Math.sin(angle);
  }
  return {
    means: tf.tensor2d(means, [components, latentSize]),
    logVars: tf.fill([components, latentSize], 2 * Math.log(std)) as tf.Tensor2D,
    logits: tf.zeros([components]) as tf.Tensor1D,
  };
}
