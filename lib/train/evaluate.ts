/**
 * Measures training takes of a model after each epoch: the mean (beta-)ELBO terms on a split,
 * and how many latent units the code uses (posterior collapse when none).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { positiveInteger } from "../base/mod.ts";
import { batches, type Dataset, IMAGE_SIZE, validateDataset } from "../data/mod.ts";
import { elboTerms, type Model, STANDARD_NORMAL, withLabels } from "../model/mod.ts";
import type { TrainConfig } from "./config.ts";
import { COLLAPSE_NATS, type ElboTerm, type LatentUse } from "./records.ts";
import { SEED_PURPOSE, stepSeed } from "./step.ts";

/** Options of {@linkcode evaluate}: the config's loss settings. */
export interface EvaluateOptions
  extends Pick<TrainConfig, "likelihood" | "scale" | "beta" | "seed"> {
  /** Images per evaluated batch (each batch draws its own noise); default 500. */
  evaluationBatch?: number;
}

/**
 * Mean loss, reconstruction and KL per image over a split, one reparameterised sample per image;
 * the sampling noise comes from `config.seed`.
 * @example
 * ```ts
 * const { loss } = evaluate(model, data.test, TRAIN_DEFAULTS); // the test negative ELBO
 * ```
 */
export function evaluate(
  model: Model,
  data: Dataset,
  config: EvaluateOptions,
): Record<ElboTerm, number> {
  const batchSize = positiveInteger("evaluationBatch", config.evaluationBatch ?? 500);
  validateDataset("data", data, { unitRange: (config.likelihood ?? "bernoulli") === "bernoulli" });
  const sums = tf.tidy(() => {
    let total = tf.zeros([3]);
    let index = 0;
    for (const batch of batches(data, batchSize, { shuffle: false })) {
      const x = tf.tensor2d(batch.images, [batch.size, batch.images.length / batch.size]);
      const seed = stepSeed(config.seed, {
        epoch: 0,
        step: index++,
        purpose: SEED_PURPOSE.evaluation,
      });
      const terms = elboTerms(withLabels(model, batch.labels), x, { ...config, seed });
      total = tf.add(
        total,
        tf.stack([tf.sum(terms.loss), tf.sum(terms.reconstruction), tf.sum(terms.kl)]),
      );
    }
    return total;
  });
  const [loss, reconstruction, kl] = Array.from(sums.dataSync()).map((s) => s / data.size);
  sums.dispose();
  return { loss, reconstruction, kl };
}

/**
 * How many latent units a VAE with an N(0, I) prior uses on `data`: each unit's mean KL to N(0, 1)
 * against {@linkcode COLLAPSE_NATS}. Empty for an autoencoder or another prior (whose KL does not
 * split by unit).
 */
export function latentUse(model: Model, data: Dataset): LatentUse {
  if (model.config.kind !== "vae" || model.prior !== STANDARD_NORMAL) return {};
  const sums = tf.tidy(() => {
    let total = tf.zeros([model.config.latentSize]);
    for (const batch of batches(data, 1000, { shuffle: false })) {
      const x = tf.tensor2d(batch.images, [batch.size, IMAGE_SIZE]);
      const { mean, logVar } = withLabels(model, batch.labels).encode(x);
      // KL(N(m, e^lv) || N(0, 1)) = -1/2 (1 + lv - m^2 - e^lv), per unit.
      const kl = tf.mul(tf.sub(tf.add(tf.square(mean), tf.exp(logVar!)), tf.add(logVar!, 1)), 0.5);
      total = tf.add(total, tf.sum(kl, 0));
    }
    return total;
  });
  const perUnit = sums.dataSync();
  sums.dispose();
  const unitsInUse = perUnit.filter((kl) => kl / data.size >= COLLAPSE_NATS).length;
  return { unitsInUse, collapsed: unitsInUse === 0 };
}
