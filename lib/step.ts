/**
 * The gradients of the mean loss over some rows of a batch: the whole batch in a single-thread
 * step, one half of it on each thread of a two-thread step (`parallel.ts`).
 *
 * Every noise draw is made for the whole batch from (seed, epoch, step) and cut to the rows, so
 * the two halves see the noise the whole batch would: splitting a batch changes only rounding.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { IMAGE_SIZE } from "./data.ts";
import { type BatchRows, elboTerms, shardNormal } from "./losses.ts";
import type { Model } from "./models.ts";
import { mixSeeds } from "./random.ts";
import type { TrainConfig } from "./train.ts";

/** What a step needs to know of the training config. */
export type StepConfig = Pick<TrainConfig, "likelihood" | "scale" | "beta" | "noise" | "seed">;

/** Purposes of the seeds derived for each step, so no two draws share a stream. */
export const SEED_PURPOSE = { inputNoise: 1, sampling: 2, evaluation: 3 } as const;

/** A seed for (epoch, step, purpose) derived from the config's seed. */
export function stepSeed(seed: number, epoch: number, step: number, purpose: number): number {
  return mixSeeds(seed, epoch, step, purpose);
}

/** Gradients (one tensor per variable name) and the mean [loss, reconstruction, kl]. */
export interface ShardGradients {
  grads: tf.NamedTensorMap;
  means: tf.Tensor1D;
}

/**
 * Gradients of the mean loss over rows [from, to) of `batch` ([n * 784] pixels) at (epoch, step)
 * of training; by default all rows. The caller disposes the result.
 */
export function shardGradients(
  model: Model,
  batch: Float32Array,
  config: StepConfig,
  { epoch, step }: { epoch: number; step: number },
  [from, to]: [number, number] = [0, batch.length / IMAGE_SIZE],
): ShardGradients {
  const rows: BatchRows = { offset: from, total: batch.length / IMAGE_SIZE };
  const x = tf.tensor2d(batch.subarray(from * IMAGE_SIZE, to * IMAGE_SIZE), [
    to - from,
    IMAGE_SIZE,
  ]);
  // A denoising AE's input: x plus clipped Gaussian noise.
  const input = config.noise === 0 ? undefined : tf.tidy(() => {
    const seed = stepSeed(config.seed, epoch, step, SEED_PURPOSE.inputNoise);
    const noise = shardNormal(to - from, IMAGE_SIZE, seed, rows, config.noise);
    return tf.clipByValue(tf.add(x, noise), 0, 1) as tf.Tensor2D;
  });
  let means: tf.Tensor1D | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const terms = elboTerms(model, x, {
      ...config,
      seed: stepSeed(config.seed, epoch, step, SEED_PURPOSE.sampling),
      input,
      rows,
    });
    const loss = tf.mean(terms.loss) as tf.Scalar;
    const stacked = tf.stack([loss, tf.mean(terms.reconstruction), tf.mean(terms.kl)]);
    means = tf.keep(stacked) as tf.Tensor1D;
    return loss;
  }, model.variables);
  tf.dispose([x, input, value] as tf.TensorContainer);
  return { grads, means: means! };
}
