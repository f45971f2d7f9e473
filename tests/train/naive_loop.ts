/**
 * The straightforward TensorFlow.js VAE loop that the library's `train()` is measured against:
 * `tf.layers` dense layers, a batch gathered from the whole data tensor at each step, one
 * `optimizer.minimize` per batch and the loss read back after every step.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../../lib/mod.ts";

/** Sizes of the naive MLP VAE. */
export interface NaiveOptions {
  hiddenSize: number;
  latentSize: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

/** Returns a function that trains one epoch of the naive loop and gives its mean loss. */
export function naiveVaeEpoch(data: Dataset, options: NaiveOptions): () => number {
  const { hiddenSize, latentSize, seed } = options;
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  const encoder = tf.layers.dense({
    units: hiddenSize,
    activation: "relu",
    kernelInitializer: init(1),
  });
  const meanHead = tf.layers.dense({ units: latentSize, kernelInitializer: init(2) });
  const logVarHead = tf.layers.dense({ units: latentSize, kernelInitializer: init(3) });
  const decoder = tf.layers.dense({
    units: hiddenSize,
    activation: "relu",
    kernelInitializer: init(4),
  });
  const output = tf.layers.dense({ units: 784, kernelInitializer: init(5) });
  // Build the layers' variables before the first minimize(), which trains only existing ones.
  tf.tidy(() => {
    const h = encoder.apply(tf.zeros([1, 784])) as tf.Tensor2D;
    meanHead.apply(h);
    logVarHead.apply(h);
    output.apply(decoder.apply(tf.zeros([1, latentSize])));
  });
  const all = tf.tensor2d(data.images, [data.size, 784]);
  const optimizer = tf.train.adam(options.learningRate);
  let epoch = 0;
  return () => {
    epoch += 1;
    const order = tf.util.createShuffledIndices(data.size);
    let total = 0;
    for (let start = 0; start < data.size; start += options.batchSize) {
      const indices = tf.tensor1d(
        Array.from(order.subarray(start, Math.min(start + options.batchSize, data.size))),
        "int32",
      );
      const x = tf.gather(all, indices) as tf.Tensor2D;
      const cost = optimizer.minimize(() => {
        const h = encoder.apply(x) as tf.Tensor2D;
        const mean = meanHead.apply(h) as tf.Tensor2D;
        const logVar = logVarHead.apply(h) as tf.Tensor2D;
        const eps = tf.randomNormal(mean.shape, 0, 1, "float32", epoch * 100_000 + start);
        const z = tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps));
        const logits = output.apply(decoder.apply(z)) as tf.Tensor2D;
        const bce = tf.sum(tf.sub(tf.softplus(logits), tf.mul(x, logits)), 1);
        const kl = tf.mul(
          tf.sum(tf.sub(tf.sub(tf.add(logVar, 1), tf.square(mean)), tf.exp(logVar)), 1),
          -0.5,
        );
        return tf.mean(tf.add(bce, kl)) as tf.Scalar;
      }, true)!;
      total += cost.dataSync()[0] * x.shape[0];
      tf.dispose([indices, x, cost]);
    }
    return total / data.size;
  };
}
