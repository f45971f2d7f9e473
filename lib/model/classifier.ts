/**
 * The digit classifier behind the sample-quality score: a LeNet-style network, convolutions and
 * max-pooling then two dense layers. As a `Model`, `encode` gives its penultimate features (what
 * the Fréchet distance compares) and `decode` the ten class logits from them.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { IMAGE_SIDE, NUM_CLASSES } from "../data/mod.ts";
import { conv2d } from "./conv_layers.ts";
import { dense } from "./layers.ts";
import type { Model, ModelConfig } from "./types.ts";
import { STANDARD_NORMAL } from "./prior.ts";
import { layerNames, variableMaker } from "./variables.ts";

function noPrior(): never {
  throw new TypeError("a classifier has no prior to sample");
}

/**
 * LeNet-style: conv 5x5 (16) -> ReLU -> max-pool 2 -> conv 5x5 (32) -> ReLU -> max-pool 2 ->
 * dense `latentSize` (the features) -> ReLU -> dense 10 (logits). x [B, 784].
 */
export function buildClassifier(config: ModelConfig): Model {
  const make = variableMaker(config);
  const flat = 7 * 7 * 32;
  const c1 = [make([5, 5, 1, 16], 25), make([16], 25)];
  const c2 = [make([5, 5, 16, 32], 25 * 16), make([32], 25 * 16)];
  const f = [make([flat, config.latentSize], flat), make([config.latentSize], flat)];
  const out = [
    make([config.latentSize, NUM_CLASSES], config.latentSize),
    make([NUM_CLASSES], config.latentSize),
  ];
  return {
    config: { ...config },
    // Not a generative model: nothing is drawn from a prior.
    prior: { ...STANDARD_NORMAL, name: "none", sample: noPrior },
    variables: [...c1, ...c2, ...f, ...out],
    names: layerNames(["features.conv1", "features.conv2", "features.dense", "classes"]),
    encode: (x) =>
      tf.tidy(() => {
        const image = tf.reshape(x, [-1, IMAGE_SIDE, IMAGE_SIDE, 1]) as tf.Tensor4D;
        const h1 = tf.maxPool(
          conv2d(image, {
            filter: c1[0],
            bias: c1[1],
            stride: 1,
            activation: "relu",
            inputGradient: false,
          }),
          2,
          2,
          "valid",
        ); // [B, 14, 14, 16]
        const h2 = tf.maxPool(
          conv2d(h1, { filter: c2[0], bias: c2[1], stride: 1, activation: "relu" }),
          2,
          2,
          "valid",
        ); // [B, 7, 7, 32]
        const features = dense(tf.reshape(h2, [-1, flat]), {
          kernel: f[0],
          bias: f[1],
          activation: "relu",
        });
        return { mean: features }; // [B, latentSize]
      }),
    decode: (features) => dense(features, { kernel: out[0], bias: out[1] }), // [B, 10]
  };
}
