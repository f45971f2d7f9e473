/**
 * Training and evaluating the digit classifier (kind `classifier`): Adam on the cross-entropy of
 * its logits against the labels, and its accuracy.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { hasWasmHeap, positiveInteger } from "../base/mod.ts";
import { batches, type Dataset, IMAGE_SIZE, validateDataset } from "../data/mod.ts";
import { classCrossEntropy, type Model } from "../model/mod.ts";
import type { TrainConfig } from "./config.ts";
import { Adam, tensorsNorm } from "./optimizer.ts";
import { CLASSIFIER_TERMS, type ClassifierTerm } from "./records.ts";
import { NonFiniteGradient, type Step, type StepPosition } from "./step.ts";

/** The class logits of a batch of images. x [B, 784] -> [B, 10]. */
export function classLogits(model: Model, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => model.decode(model.encode(x).mean));
}

/**
 * Mean cross-entropy and accuracy of `logits` against `labels`, as [loss, accuracy]; the
 * cross-entropy is given when the caller has it already.
 */
function classifierTerms(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  loss: tf.Scalar = tf.mean(classCrossEntropy(logits, labels)),
): tf.Tensor1D {
  return tf.tidy(() => {
    const correct = tf.equal(tf.argMax(logits, 1), tf.cast(labels, "int32"));
    return tf.stack([loss, tf.mean(tf.cast(correct, "float32"))]) as tf.Tensor1D;
  });
}

/**
 * One Adam step on the classifier's cross-entropy, at the config's learning rate times
 * `learningRateDecay` to the power (epoch - 1). Terms: {@linkcode CLASSIFIER_TERMS}.
 */
export class ClassifierStep implements Step<ClassifierTerm> {
  readonly terms = CLASSIFIER_TERMS;
  #model: Model;
  #adam: Adam;
  #config: Pick<TrainConfig, "learningRate" | "learningRateDecay">;

  constructor(
    model: Model,
    config: Pick<TrainConfig, "learningRate" | "beta1" | "learningRateDecay">,
  ) {
    this.#model = model;
    this.#config = config;
    this.#adam = new Adam({ learningRate: config.learningRate, beta1: config.beta1 });
  }

  run(batch: Dataset, position: StepPosition): Promise<tf.Tensor1D> {
    const model = this.#model;
    const { learningRate, learningRateDecay = 1 } = this.#config;
    this.#adam.learningRate = learningRate * learningRateDecay ** (position.epoch - 1);
    const x = tf.tensor2d(batch.images, [batch.size, IMAGE_SIZE]);
    const labels = tf.tensor1d(batch.labels, "int32");
    let terms: tf.Tensor1D | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const logits = classLogits(model, x);
      const loss = tf.mean(classCrossEntropy(logits, labels)) as tf.Scalar;
      terms = tf.keep(classifierTerms(logits, labels, loss));
      return loss;
    }, model.variables);
    tf.dispose([x, labels, value]);
    if (hasWasmHeap()) {
      const norm = tensorsNorm(model.variables.map((v) => grads[v.name]));
      if (!Number.isFinite(norm)) {
        tf.dispose([grads, terms!] as tf.TensorContainer);
        return Promise.reject(new NonFiniteGradient(norm));
      }
    }
    this.#adam.apply(model.variables, grads);
    tf.dispose(grads);
    return Promise.resolve(terms!);
  }

  close(): void {
    this.#adam.dispose();
  }
}

/**
 * The classifier's mean cross-entropy (nats per image) and accuracy on `data`.
 * @example
 * ```ts
 * const { accuracy } = evaluateClassifier(classifier, data.test);
 * ```
 */
export function evaluateClassifier(
  model: Model,
  data: Dataset,
  { batchSize = 500 }: { batchSize?: number } = {},
): Record<ClassifierTerm, number> {
  positiveInteger("batchSize", batchSize);
  validateDataset("data", data);
  const sums = tf.tidy(() => {
    let total = tf.zeros([2]);
    for (const batch of batches(data, batchSize, { shuffle: false })) {
      const x = tf.tensor2d(batch.images, [batch.size, IMAGE_SIZE]);
      const terms = classifierTerms(classLogits(model, x), tf.tensor1d(batch.labels, "int32"));
      total = tf.add(total, tf.mul(terms, batch.size));
    }
    return total;
  });
  const [loss, accuracy] = Array.from(sums.dataSync()).map((s) => s / data.size);
  sums.dispose();
  return { loss, accuracy };
}
