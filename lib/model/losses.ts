/**
 * Per-example log-likelihoods of a pixel model and the (beta-)ELBO.
 *
 * Every function returns one value per example ([B]); reducing over the batch happens once, in
 * the training step. Decoders return logits; each likelihood reads them as sigmoid(logits) in
 * [0, 1].
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  BERNOULLI_GRAD_KERNEL,
  BERNOULLI_KERNEL,
  hasKernel,
  nonNegativeNumber,
  oneOf,
  positiveNumber,
} from "../base/mod.ts";
import {
  type BatchRows,
  gaussianLogDensity,
  HALF_LOG_TWO_PI,
  reparameterize,
  shardNormal,
} from "./gaussian.ts";
import { customOp } from "./layers.ts";
import type { Model } from "./types.ts";

/** How a pixel is modelled given the decoder's output. */
export type Likelihood = "bernoulli" | "gaussian" | "laplace";

/** Options of the likelihoods and bounds. */
export interface LikelihoodOptions {
  /** `bernoulli` (default; valid for grey-level targets), `gaussian` or `laplace`. */
  likelihood?: Likelihood;
  /** Standard deviation (gaussian) or scale (laplace) of each pixel; default 0.1. */
  scale?: number;
}

/** The pixel likelihoods a model can train with. */
export const LIKELIHOODS: readonly Likelihood[] = ["bernoulli", "gaussian", "laplace"];

/**
 * log p(x | logits) = sum_i x_i l_i - softplus(l_i), written stably as
 * sum_i x_i l_i - max(l_i, 0) - log1p(exp(-|l_i|)). x, logits [B, D] -> [B].
 */
export function bernoulliLogLikelihood(x: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  // Its own gradient, d/dl = x - sigmoid(l): one expression instead of backpropagating through
  // the elementwise ops of the stable form (one pass each way on wasm). x is a target, a
  // constant of the op.
  return customOp<tf.Tensor1D>(([logits], save) => {
    // x is saved too: the backward pass may come after whoever made it has disposed it.
    save([logits, x]);
    return {
      value: bernoulliRows(x, logits as tf.Tensor2D),
      gradFunc: (dy, [saved, target]) => [
        bernoulliRowsGrad(target as tf.Tensor2D, saved as tf.Tensor2D, dy),
      ],
    };
  })(logits);
}

/** sum_j x l - softplus(l) per row: [B, D] -> [B]. */
function bernoulliRows(x: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  if (hasKernel(BERNOULLI_KERNEL)) {
    return tf.engine().runKernel(BERNOULLI_KERNEL, { x, logits }) as tf.Tensor1D;
  }
  return tf.tidy(() => tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)), 1) as tf.Tensor1D);
}

/** (x - sigmoid(l)) dy, row i scaled by dy[i]: [B, D], [B] -> [B, D]. */
function bernoulliRowsGrad(x: tf.Tensor2D, logits: tf.Tensor2D, dy: tf.Tensor1D): tf.Tensor2D {
  if (hasKernel(BERNOULLI_GRAD_KERNEL)) {
    return tf.engine().runKernel(BERNOULLI_GRAD_KERNEL, { x, logits, dy }) as tf.Tensor2D;
  }
  return tf.tidy(() => tf.mul(tf.sub(x, tf.sigmoid(logits)), tf.expandDims(dy, 1)) as tf.Tensor2D);
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
  positiveNumber("scale", scale);
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
  positiveNumber("scale", scale);
  return tf.tidy(() => {
    const dim = x.shape[1];
    const l1 = tf.sum(tf.abs(tf.sub(x, tf.sigmoid(logits))), 1);
    return tf.sub(tf.mul(l1, -1 / scale), dim * Math.log(2 * scale)) as tf.Tensor1D;
  });
}

/** log p(x | z) for the chosen likelihood. x, logits [B, D] -> [B]. */
export function logLikelihood(
  x: tf.Tensor2D,
  logits: tf.Tensor2D,
  options: LikelihoodOptions = {},
): tf.Tensor1D {
  switch (oneOf("likelihood", options.likelihood ?? "bernoulli", LIKELIHOODS)) {
    case "bernoulli":
      return bernoulliLogLikelihood(x, logits);
    case "gaussian":
      return gaussianLogLikelihood(x, logits, options.scale);
    case "laplace":
      return laplaceLogLikelihood(x, logits, options.scale);
  }
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

/**
 * The negative beta-ELBO per example, with one reparameterised sample:
 * loss = -log p(x | z) + beta * KL(q(z | x) || p(z)),  z = mean + sigma * eps, p(z) the
 * model's prior.
 * For an autoencoder, z = mean and the loss is the reconstruction term alone.
 */
export function elboTerms(model: Model, x: tf.Tensor2D, options: ElboOptions = {}): ElboTerms {
  const beta = nonNegativeNumber("beta", options.beta ?? 1);
  return tf.tidy(() => {
    const { mean, logVar } = model.encode(options.input ?? x);
    let z = mean;
    let kl = tf.zeros([x.shape[0]]) as tf.Tensor1D;
    if (logVar) {
      const [rows, columns] = mean.shape;
      const eps = shardNormal({ rows, columns, seed: options.seed, shard: options.rows });
      z = reparameterize(mean, logVar, eps);
      kl = model.prior.kl(mean, logVar, z);
    }
    const reconstruction = tf.neg(logLikelihood(x, model.decode(z), options)) as tf.Tensor1D;
    const loss = beta === 0
      ? reconstruction
      : tf.add(reconstruction, tf.mul(kl, beta)) as tf.Tensor1D;
    return { reconstruction, kl, loss };
  });
}

/**
 * `t` as a constant: the same values, no gradient through it (TensorFlow.js has no
 * stopGradient).
 */
export function constantOf<T extends tf.Tensor>(t: T): T {
  return customOp<T>(([t]) => ({
    value: tf.clone(t) as T,
    gradFunc: (dy) => [tf.zerosLike(dy)],
  }))(t);
}

/** A VAE's terms with the score-function estimator's surrogate, {@linkcode scoreFunctionTerms}. */
export interface ScoreFunctionTerms extends ElboTerms {
  /**
   * Per example, what to differentiate: its gradient is the decoder's usual one, and for the
   * encoder -(log p(x | z) - b) d log q(z | x) + beta d KL, with z and the baseline b held fixed.
   * Its value is not the loss.
   */
  surrogate: tf.Tensor1D;
}

/**
 * The (beta-)ELBO's terms at one z ~ q(z | x), as {@linkcode elboTerms}, with a surrogate whose
 * gradient is the score-function (REINFORCE) estimate of the encoder's gradient of the
 * reconstruction term: E_q[log p(x | z) d log q(z | x)], less a baseline b = log p(x | mean
 * code) (a function of x, so the estimate stays unbiased; it removes most of the image-to-image
 * spread of log p). No gradient flows through z itself: that is the trick this estimator does
 * without. The KL term keeps its exact gradient.
 */
export function scoreFunctionTerms(
  model: Model,
  x: tf.Tensor2D,
  options: ElboOptions = {},
): ScoreFunctionTerms {
  const beta = nonNegativeNumber("beta", options.beta ?? 1);
  return tf.tidy(() => {
    const { mean, logVar } = model.encode(options.input ?? x);
    if (!logVar) throw new RangeError("the score-function estimator needs a VAE's q(z | x)");
    const [rows, columns] = mean.shape;
    const eps = shardNormal({ rows, columns, seed: options.seed, shard: options.rows });
    const z = constantOf(reparameterize(mean, logVar, eps));
    const logP = logLikelihood(x, model.decode(z), options);
    const baseline = constantOf(logLikelihood(x, model.decode(mean), options));
    const advantage = constantOf(tf.sub(logP, baseline));
    const logQ = gaussianLogDensity(z, mean, logVar);
    const kl = model.prior.kl(mean, logVar, z);
    const reconstruction = tf.neg(logP) as tf.Tensor1D;
    const klTerm = tf.mul(kl, beta);
    return {
      reconstruction,
      kl,
      loss: tf.add(reconstruction, klTerm) as tf.Tensor1D,
      surrogate: tf.add(tf.sub(reconstruction, tf.mul(advantage, logQ)), klTerm) as tf.Tensor1D,
    };
  });
}

/**
 * Binary cross-entropy of a logit against a target probability t, per example:
 * -t log sigmoid(l) - (1 - t) log(1 - sigmoid(l)) = softplus(l) - t l. logits [B] -> [B];
 * t a number, or one per example [B]. A GAN's discriminator minimises it with t = 1 for real
 * inputs (or smoothed targets below 1) and t = 0 for generated ones.
 */
export function binaryCrossEntropy(
  logits: tf.Tensor1D,
  target: number | tf.Tensor1D,
): tf.Tensor1D {
  return tf.tidy(() => tf.sub(tf.softplus(logits), tf.mul(logits, target)) as tf.Tensor1D);
}

/** How a GAN's generator is trained against its discriminator's logit l on generated images. */
export type GeneratorLoss = "non-saturating" | "saturating";

/** The generator losses, the default first. */
export const GENERATOR_LOSSES: readonly GeneratorLoss[] = ["non-saturating", "saturating"];

/**
 * The generator's loss per example, from the discriminator's logits l on generated images:
 * `saturating`, the min-max game's log(1 - D(G(z))) = -softplus(l), whose gradient vanishes when
 * the discriminator rejects the samples (D(G(z)) near 0); `non-saturating`, -log D(G(z)) =
 * softplus(-l), the same fixed point with a strong gradient exactly then. [B] -> [B].
 */
export function generatorLoss(logits: tf.Tensor1D, loss: GeneratorLoss): tf.Tensor1D {
  return tf.tidy(() =>
    loss === "saturating"
      ? tf.neg(tf.softplus(logits)) as tf.Tensor1D
      : tf.softplus(tf.neg(logits)) as tf.Tensor1D
  );
}

/**
 * -log softmax(logits)[label] per example: the classifier's cross-entropy. logits [B, C], labels
 * [B] (integers) -> [B].
 */
export function classCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const picked = tf.sum(tf.mul(logits, tf.oneHot(tf.cast(labels, "int32"), logits.shape[1])), 1);
    return tf.sub(tf.logSumExp(logits, 1), picked) as tf.Tensor1D;
  });
}

/**
 * Feature matching's generator loss (Salimans et al., 2016): |mean f(real) - mean f(fake)|^2 over
 * the batch, f the critic's hidden features; the real features held fixed.
 */
export function featureMatching(model: Model, real: tf.Tensor2D, fake: tf.Tensor2D): tf.Scalar {
  const features = model.criticFeatures;
  if (!features) throw new TypeError("feature matching needs a model with its critic's features");
  return tf.tidy(() => {
    const target = constantOf(tf.mean(features(real), 0));
    return tf.sum(tf.square(tf.sub(target, tf.mean(features(fake), 0)))) as tf.Scalar;
  });
}
