/**
 * Per-example log-likelihoods, the Gaussian KL, the (beta-)ELBO and the importance-weighted bound.
 *
 * Every function returns one value per example ([B]); reducing over the batch happens once, in
 * train.ts. Decoders return logits; each likelihood reads them as sigmoid(logits) in [0, 1].
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { customOp } from "./layers.ts";
import type { Model } from "./models.ts";

/** How a pixel is modelled given the decoder's output. */
export type Likelihood = "bernoulli" | "gaussian" | "laplace";

/** Options of the likelihoods and bounds. */
export interface LikelihoodOptions {
  /** `bernoulli` (default; valid for grey-level targets), `gaussian` or `laplace`. */
  likelihood?: Likelihood;
  /** Standard deviation (gaussian) or scale (laplace) of each pixel; default 0.1. */
  scale?: number;
}

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log p(x | logits) = sum_i x_i l_i - softplus(l_i), written stably as
 * sum_i x_i l_i - max(l_i, 0) - log1p(exp(-|l_i|)). x, logits [B, D] -> [B].
 */
export function bernoulliLogLikelihood(x: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  // Its own gradient, d/dl = x - sigmoid(l): one expression instead of backpropagating through
  // the elementwise ops of the stable form. x is a target, a constant of the op.
  return customOp<tf.Tensor1D>(([logits], save) => {
    save([logits]);
    return {
      value: tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)), 1) as tf.Tensor1D,
      gradFunc: (dy, [saved]) => [tf.mul(tf.sub(x, tf.sigmoid(saved)), tf.expandDims(dy, 1))],
    };
  })(logits);
}

/**
 * log N(x; sigmoid(logits), scale^2) = sum_i -(x_i - m_i)^2 / (2 scale^2) - log scale - log(2 pi)/2.
 * The course's weighted-MSE VAE is this likelihood. x, logits [B, D] -> [B].
 */
export function gaussianLogLikelihood(
  x: tf.Tensor2D,
  logits: tf.Tensor2D,
  scale = 0.1,
): tf.Tensor1D {
  checkScale(scale);
  return tf.tidy(() => {
    const dim = x.shape[1];
    const squares = tf.sum(tf.squaredDifference(x, tf.sigmoid(logits)), 1);
    return tf.sub(
      tf.mul(squares, -0.5 / (scale * scale)),
      dim * (Math.log(scale) + HALF_LOG_TWO_PI),
    ) as tf.Tensor1D;
  });
}

/** log Laplace(x; sigmoid(logits), scale) = sum_i -|x_i - m_i| / scale - log(2 scale). [B]. */
export function laplaceLogLikelihood(
  x: tf.Tensor2D,
  logits: tf.Tensor2D,
  scale = 0.1,
): tf.Tensor1D {
  checkScale(scale);
  return tf.tidy(() => {
    const dim = x.shape[1];
    const l1 = tf.sum(tf.abs(tf.sub(x, tf.sigmoid(logits))), 1);
    return tf.sub(tf.mul(l1, -1 / scale), dim * Math.log(2 * scale)) as tf.Tensor1D;
  });
}

function checkScale(scale: number): void {
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new RangeError(`scale must be a positive number; got ${scale}`);
  }
}

/** log p(x | z) for the chosen likelihood. x, logits [B, D] -> [B]. */
export function logLikelihood(
  x: tf.Tensor2D,
  logits: tf.Tensor2D,
  options: LikelihoodOptions = {},
): tf.Tensor1D {
  const likelihood = options.likelihood ?? "bernoulli";
  switch (likelihood) {
    case "bernoulli":
      return bernoulliLogLikelihood(x, logits);
    case "gaussian":
      return gaussianLogLikelihood(x, logits, options.scale);
    case "laplace":
      return laplaceLogLikelihood(x, logits, options.scale);
    default:
      throw new RangeError(
        `likelihood must be "bernoulli", "gaussian" or "laplace"; got ${
          JSON.stringify(likelihood)
        }`,
      );
  }
}

/** KL(N(mean, exp(logVar)) || N(0, I)) = -1/2 sum_j (1 + logVar_j - mean_j^2 - exp(logVar_j)). [B]. */
export function gaussianKl(mean: tf.Tensor2D, logVar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const terms = tf.sub(tf.sub(tf.add(logVar, 1), tf.square(mean)), tf.exp(logVar));
    return tf.mul(tf.sum(terms, 1), -0.5) as tf.Tensor1D;
  });
}

/** log N(z; mean, exp(logVar)) summed over dimensions. z, mean, logVar [B, L] -> [B]. */
export function gaussianLogDensity(
  z: tf.Tensor2D,
  mean: tf.Tensor2D,
  logVar: tf.Tensor2D,
): tf.Tensor1D {
  return tf.tidy(() => {
    const dim = z.shape[1];
    const scaled = tf.mul(tf.squaredDifference(z, mean), tf.exp(tf.neg(logVar)));
    return tf.sub(
      tf.mul(tf.sum(tf.add(scaled, logVar), 1), -0.5),
      dim * HALF_LOG_TWO_PI,
    ) as tf.Tensor1D;
  });
}

/** log N(z; 0, I) summed over dimensions. z [B, L] -> [B]. */
export function standardNormalLogDensity(z: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() =>
    tf.sub(tf.mul(tf.sum(tf.square(z), 1), -0.5), z.shape[1] * HALF_LOG_TWO_PI) as tf.Tensor1D
  );
}

/** The reparameterisation trick: z = mean + exp(logVar / 2) * eps, with eps [B, L] ~ N(0, I). */
export function reparameterize(
  mean: tf.Tensor2D,
  logVar: tf.Tensor2D,
  eps: tf.Tensor2D,
): tf.Tensor2D {
  return tf.tidy(() => tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)) as tf.Tensor2D);
}

/** Per-example terms of a (beta-)ELBO, each [B]. */
export interface ElboTerms {
  /** -log p(x | z) at one z ~ q(z | x): the distortion, in nats. */
  reconstruction: tf.Tensor1D;
  /** KL(q(z | x) || p(z)): the rate, in nats (zeros for an autoencoder). */
  kl: tf.Tensor1D;
  /** reconstruction + beta * kl: what training minimises (the negative ELBO when beta = 1). */
  loss: tf.Tensor1D;
}

/** Options of {@linkcode elboTerms}. */
export interface ElboOptions extends LikelihoodOptions {
  /** Weight of the KL term (beta-VAE); default 1, the ELBO itself. */
  beta?: number;
  /** Seed of the noise eps ~ N(0, I) of the reparameterisation trick. */
  seed?: number;
  /** Input the encoder sees, when it differs from the target x (denoising). Default x. */
  input?: tf.Tensor2D;
  /**
   * x is rows [offset, offset + B) of a batch of `total` rows: draw eps for the whole batch and
   * use those rows, so a shard of a batch sees the noise the whole batch would.
   */
  rows?: BatchRows;
}

/** Where a shard's rows sit in its batch. */
export interface BatchRows {
  offset: number;
  total: number;
}

/** N(0, std^2) draws of shape [shard.total, columns] from `seed`, cut to the shard's rows. */
export function shardNormal(
  rows: number,
  columns: number,
  seed: number | undefined,
  shard: BatchRows = { offset: 0, total: rows },
  std = 1,
): tf.Tensor2D {
  if (shard.offset === 0 && shard.total === rows) {
    return tf.randomNormal([rows, columns], 0, std, "float32", seed);
  }
  return tf.tidy(() => {
    const whole = tf.randomNormal([shard.total, columns], 0, std, "float32", seed);
    return tf.slice(whole, [shard.offset, 0], [rows, columns]) as tf.Tensor2D;
  });
}

/**
 * The negative beta-ELBO per example, with one reparameterised sample:
 * loss = -log p(x | z) + beta * KL(q(z | x) || p(z)),  z = mean + sigma * eps.
 * For an autoencoder, z = mean and the loss is the reconstruction term alone.
 */
export function elboTerms(model: Model, x: tf.Tensor2D, options: ElboOptions = {}): ElboTerms {
  const beta = options.beta ?? 1;
  if (!(beta >= 0) || !Number.isFinite(beta)) {
    throw new RangeError(`beta must be a non-negative number; got ${beta}`);
  }
  return tf.tidy(() => {
    const { mean, logVar } = model.encode(options.input ?? x);
    let z = mean;
    let kl = tf.zeros([x.shape[0]]) as tf.Tensor1D;
    if (logVar) {
      const eps = shardNormal(mean.shape[0], mean.shape[1], options.seed, options.rows);
      z = reparameterize(mean, logVar, eps);
      kl = gaussianKl(mean, logVar);
    }
    const reconstruction = tf.neg(logLikelihood(x, model.decode(z), options)) as tf.Tensor1D;
    const loss = beta === 0
      ? reconstruction
      : tf.add(reconstruction, tf.mul(kl, beta)) as tf.Tensor1D;
    return { reconstruction, kl, loss };
  });
}

/** Options of {@linkcode iwaeBound}. */
export interface IwaeOptions extends LikelihoodOptions {
  /** Seed of the k samples per example. */
  seed?: number;
  /** How many (example, sample) rows to decode at once; bounds memory. Default 4096. */
  chunkSize?: number;
}

/**
 * The importance-weighted bound L_k = E[log (1/k) sum_i p(x, z_i) / q(z_i | x)], z_i ~ q(z | x),
 * one estimate per example [B]. L_1 is the ELBO; L_k grows with k towards log p(x).
 */
export function iwaeBound(
  model: Model,
  x: tf.Tensor2D,
  k: number,
  options: IwaeOptions = {},
): tf.Tensor1D {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer; got ${k}`);
  const chunkSize = options.chunkSize ?? 4096;
  const batch = x.shape[0];
  const { mean, logVar } = tf.tidy(() => model.encode(x) as unknown as tf.NamedTensorMap);
  if (!logVar) {
    mean.dispose();
    throw new TypeError("iwaeBound needs a VAE: the model's encoder gives no logVar");
  }
  // Rows decoded at once = examples in a group x samples in a chunk <= chunkSize.
  const samplesPerChunk = Math.min(k, chunkSize);
  const examplesPerGroup = Math.max(1, Math.floor(chunkSize / k));
  const bounds: tf.Tensor1D[] = [];
  for (let start = 0; start < batch; start += examplesPerGroup) {
    const g = Math.min(examplesPerGroup, batch - start);
    const parts: tf.Tensor2D[] = []; // log-weights [g, n] for each chunk of samples
    for (let first = 0; first < k; first += samplesPerChunk) {
      const n = Math.min(samplesPerChunk, k - first);
      const seed = options.seed === undefined ? undefined : options.seed + 7919 * start + first;
      parts.push(tf.tidy(() => {
        const repeat = (t: tf.Tensor) =>
          // [g, C] -> [g * n, C], each row repeated n times
          tf.reshape(tf.tile(tf.slice(t, [start, 0], [g, -1]), [1, n]), [g * n, -1]) as tf.Tensor2D;
        const m = repeat(mean);
        const lv = repeat(logVar);
        const eps = tf.randomNormal(m.shape, 0, 1, "float32", seed) as tf.Tensor2D;
        const z = reparameterize(m, lv, eps); // [g * n, L]
        const logPxz = logLikelihood(repeat(x), model.decode(z), options);
        const logW = tf.sub(
          tf.add(logPxz, standardNormalLogDensity(z)),
          gaussianLogDensity(z, m, lv),
        );
        return tf.reshape(logW, [g, n]) as tf.Tensor2D;
      }));
    }
    bounds.push(
      tf.tidy(() => tf.sub(tf.logSumExp(tf.concat(parts, 1), 1), Math.log(k)) as tf.Tensor1D),
    );
    for (const p of parts) p.dispose();
  }
  mean.dispose();
  logVar.dispose();
  const result = tf.concat(bounds);
  for (const b of bounds) b.dispose();
  return result;
}
