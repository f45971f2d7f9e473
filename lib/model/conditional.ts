/**
 * Conditional models (`conditional: true`): the label, one-hot, joins the encoder's input, the
 * decoder's (or generator's) input and a GAN critic's input, as in the conditional VAE (Sohn et
 * al., 2015; Kingma et al., 2014's M2 with the label given) and the conditional GAN (Mirza and
 * Osindero, 2014; the course's D(x|y), G(z|y)). A conditional model's own `encode`, `decode` and
 * `critic` take the concatenated inputs; {@linkcode withLabels} binds a batch's labels and gives
 * back a model that takes images and codes as every other model does.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { NUM_CLASSES } from "../data/mod.ts";
import type { Encoding, Model } from "./types.ts";

/** The inputs a conditional model's layers add for the label: one per class. */
export function labelInputs(config: { conditional?: boolean }): number {
  return config.conditional ? NUM_CLASSES : 0;
}

/** Labels (digits) as one-hot rows, [n, 10]. */
export function oneHotLabels(labels: ArrayLike<number>): tf.Tensor2D {
  return tf.tidy(() =>
    tf.cast(tf.oneHot(tf.tensor1d(Array.from(labels), "int32"), NUM_CLASSES), "float32")
  ) as tf.Tensor2D;
}

/** Throw unless `t` has `labels` rows. */
function sameRows(what: string, t: tf.Tensor2D, labels: ArrayLike<number>): void {
  if (t.shape[0] !== labels.length) {
    throw new RangeError(`${what} has ${t.shape[0]} rows but ${labels.length} labels were given`);
  }
}

/**
 * `model` with `labels` (one digit per row of every input) bound: its `encode(x)`, `decode(z)`
 * and `critic(x)` append the one-hot label to each row. A model that is not conditional comes
 * back unchanged, so code for both kinds calls this and goes on.
 * @example
 * ```ts
 * const sevens = withLabels(cvae, new Array(10).fill(7)).decode(z); // [10, 784] logits of 7s
 * ```
 */
export function withLabels(model: Model, labels: ArrayLike<number>): Model {
  if (!model.config.conditional) return model;
  const joined = (what: string, t: tf.Tensor2D) => {
    sameRows(what, t, labels);
    return tf.concat([t, oneHotLabels(labels)], 1) as tf.Tensor2D;
  };
  const critic = model.critic;
  return {
    ...model,
    encode: (x) =>
      tf.tidy(() =>
        model.encode(joined("x", x)) as unknown as tf.NamedTensorMap
      ) as unknown as Encoding,
    decode: (z) => tf.tidy(() => model.decode(joined("z", z))),
    ...(critic ? { critic: (x: tf.Tensor2D) => tf.tidy(() => critic(joined("x", x))) } : {}),
  };
}

/**
 * Throw, for a conditional model's own layers, unless `t` has `expected` columns: the message
 * says to bind the labels first.
 */
export function checkConditionalInput(
  config: { conditional?: boolean },
  what: string,
  t: tf.Tensor2D,
  expected: number,
): void {
  if (config.conditional && t.shape[1] !== expected) {
    throw new RangeError(
      `a conditional model's ${what} takes ${expected} columns (the label's one-hot appended); ` +
        `got ${t.shape[1]}: call withLabels(model, labels) first`,
    );
  }
}

/** The digits 0, 1, ..., 9, 0, 1, ... for `n` rows: the labels of a conditional model's samples. */
export function digitCycle(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i % NUM_CLASSES);
}
