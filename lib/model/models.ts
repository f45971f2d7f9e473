/**
 * Typed builders for the lab's autoencoders and VAEs.
 *
 * A model is a bag of variables plus two pure functions: `encode` (x -> `{ mean, logVar }`) and
 * `decode` (z -> logits). An autoencoder is the same layers without the sampling: its encoder's
 * head is half as wide and `logVar` is absent. Sigmoid is applied only when generating.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { integer, oneOf, positiveInteger } from "../base/mod.ts";
import { IMAGE_SIDE, IMAGE_SIZE } from "../data/mod.ts";
import { conv2d, conv2dTranspose, dense } from "./layers.ts";
import { type Prior, STANDARD_NORMAL } from "./prior.ts";

/** An autoencoder (deterministic code) or a VAE (Gaussian code). */
export type ModelKind = "ae" | "vae";
/** Dense layers (the lab's MLP) or strided convolutions. */
export type Architecture = "mlp" | "conv";

/** Everything that decides a model's shapes and initial weights. */
export interface ModelConfig {
  /** `ae` or `vae`. */
  kind: ModelKind;
  /** `mlp`: 784-hidden-latent; `conv`: 28x28x1 -> 14x14x32 -> 7x7x64 -> latent. */
  arch: Architecture;
  /** Size of the code z. */
  latentSize: number;
  /** Width of the MLP's hidden layer (the conv model uses it between the convolutions and z). */
  hiddenSize: number;
  /** Seed of the initial weights (and of everything else random in training). */
  seed: number;
}

/** The lab's reference VAE: 784-400-20, as in PyTorch's example. */
export const VAE_DEFAULTS: Readonly<ModelConfig> = {
  kind: "vae",
  arch: "mlp",
  latentSize: 20,
  hiddenSize: 400,
  seed: 0,
};

/** The autoencoder with the same layers as {@linkcode VAE_DEFAULTS}. */
export const AE_DEFAULTS: Readonly<ModelConfig> = { ...VAE_DEFAULTS, kind: "ae" };

/** What an encoder returns: the code's mean and, for a VAE, its log-variance. Both [B, latent]. */
export interface Encoding {
  mean: tf.Tensor2D;
  logVar?: tf.Tensor2D;
}

/** A built model: its variables, an encoder and a decoder returning logits. */
export interface Model {
  readonly config: Readonly<ModelConfig>;
  /** p(z): what the KL term pulls codes towards and what samples are drawn from. */
  readonly prior: Prior;
  /** Every trainable variable, in a fixed order (the order of saved weights). */
  readonly variables: tf.Variable[];
  /** A stable name per variable, in the same order: `encoder.hidden.kernel`, ... */
  readonly names: readonly string[];
  /** x [B, 784] -> `{ mean, logVar }` [B, latent]. */
  encode(x: tf.Tensor2D): Encoding;
  /** z [B, latent] -> logits [B, 784]. */
  decode(z: tf.Tensor2D): tf.Tensor2D;
}

/** Throw a RangeError unless `config` describes a model we can build. */
export function validateModelConfig(config: ModelConfig): void {
  oneOf("kind", config.kind, ["ae", "vae"]);
  oneOf("arch", config.arch, ["mlp", "conv"]);
  positiveInteger("latentSize", config.latentSize);
  positiveInteger("hiddenSize", config.hiddenSize);
  integer("seed", config.seed);
}

/** Build the model a config describes. */
export function buildModel(config: ModelConfig): Model {
  validateModelConfig(config);
  return config.arch === "mlp" ? buildMlp(config) : buildConv(config);
}

/**
 * A weight initialised like PyTorch's default for a layer of `fanIn` inputs:
 * U(-1/sqrt(fanIn), 1/sqrt(fanIn)), so results compare with PyTorch's recipe.
 */
function uniformVariable(shape: number[], fanIn: number, seed: number, name: string): tf.Variable {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.tidy(() =>
    tf.variable(tf.randomUniform(shape, -bound, bound, "float32", seed), true, name)
  );
}

let modelCount = 0;

/** Makes variables with distinct seeds derived from the model's seed. */
function variableMaker(config: ModelConfig): (shape: number[], fanIn: number) => tf.Variable {
  // Variable names must be unique in the engine, so each model gets its own prefix.
  const prefix = `${config.kind}_${config.arch}_${modelCount++}`;
  let index = 0;
  return (shape, fanIn) => {
    index += 1;
    return uniformVariable(shape, fanIn, config.seed * 1000 + index, `${prefix}_${index}`);
  };
}

/** The lab's MLP: encoder linear -> ReLU -> linear, decoder linear -> ReLU -> linear. */
function buildMlp(config: ModelConfig): Model {
  const { latentSize, hiddenSize } = config;
  const headSize = config.kind === "vae" ? 2 * latentSize : latentSize;
  const make = variableMaker(config);
  const e1 = [make([IMAGE_SIZE, hiddenSize], IMAGE_SIZE), make([hiddenSize], IMAGE_SIZE)];
  const e2 = [make([hiddenSize, headSize], hiddenSize), make([headSize], hiddenSize)];
  const d1 = [make([latentSize, hiddenSize], latentSize), make([hiddenSize], latentSize)];
  const d2 = [make([hiddenSize, IMAGE_SIZE], hiddenSize), make([IMAGE_SIZE], hiddenSize)];
  return {
    config: { ...config },
    prior: STANDARD_NORMAL,
    variables: [...e1, ...e2, ...d1, ...d2],
    names: layerNames(["encoder.hidden", "encoder.head", "decoder.hidden", "decoder.output"]),
    encode: (x) => {
      const h = dense(x, { kernel: e1[0], bias: e1[1], activation: "relu", inputGradient: false }); // [B, hidden]
      return splitHead(dense(h, { kernel: e2[0], bias: e2[1] }), config);
    },
    decode: (z) => {
      const h = dense(z, { kernel: d1[0], bias: d1[1], activation: "relu" }); // [B, hidden]
      return dense(h, { kernel: d2[0], bias: d2[1] });
    },
  };
}

/** `<layer>.kernel` and `<layer>.bias` for each layer (a convolution's kernel is its filter). */
function layerNames(layers: readonly string[]): string[] {
  return layers.flatMap((layer) => [`${layer}.kernel`, `${layer}.bias`]);
}

/** Split an encoder head [B, 2L] into mean and log-variance; an AE's head is the code itself. */
function splitHead(head: tf.Tensor2D, config: ModelConfig): Encoding {
  if (config.kind === "ae") return { mean: head };
  const [mean, logVar] = tf.split(head, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  return { mean, logVar };
}

/**
 * Convolutional model for 28x28x1. Encoder: conv 3x3/2 (32) -> conv 3x3/2 (64) -> dense hidden
 * -> head. Decoder: dense hidden -> dense 7x7x64 -> transposed conv 3x3/2 (32) -> transposed conv
 * 3x3/2 (1 channel of logits).
 */
function buildConv(config: ModelConfig): Model {
  const { latentSize, hiddenSize } = config;
  const headSize = config.kind === "vae" ? 2 * latentSize : latentSize;
  const flat = 7 * 7 * 64;
  const make = variableMaker(config);
  const c1 = [make([3, 3, 1, 32], 9), make([32], 9)];
  const c2 = [make([3, 3, 32, 64], 9 * 32), make([64], 9 * 32)];
  const e1 = [make([flat, hiddenSize], flat), make([hiddenSize], flat)];
  const e2 = [make([hiddenSize, headSize], hiddenSize), make([headSize], hiddenSize)];
  const d1 = [make([latentSize, hiddenSize], latentSize), make([hiddenSize], latentSize)];
  const d2 = [make([hiddenSize, flat], hiddenSize), make([flat], hiddenSize)];
  // Transposed-convolution filters are [h, w, outChannels, inChannels].
  const t1 = [make([3, 3, 32, 64], 9 * 64), make([32], 9 * 64)];
  const t2 = [make([3, 3, 1, 32], 9 * 32), make([1], 9 * 32)];
  return {
    config: { ...config },
    prior: STANDARD_NORMAL,
    variables: [...c1, ...c2, ...e1, ...e2, ...d1, ...d2, ...t1, ...t2],
    names: layerNames([
      "encoder.conv1",
      "encoder.conv2",
      "encoder.hidden",
      "encoder.head",
      "decoder.hidden",
      "decoder.grid",
      "decoder.deconv1",
      "decoder.deconv2",
    ]),
    encode: (x) => {
      const image = tf.reshape(x, [-1, IMAGE_SIDE, IMAGE_SIDE, 1]) as tf.Tensor4D; // [B, 28, 28, 1]
      const h1 = conv2d(image, { filter: c1[0], bias: c1[1], stride: 2, activation: "relu" }); // [B, 14, 14, 32]
      const h2 = conv2d(h1, { filter: c2[0], bias: c2[1], stride: 2, activation: "relu" }); // [B, 7, 7, 64]
      const h3 = dense(tf.reshape(h2, [-1, flat]), {
        kernel: e1[0],
        bias: e1[1],
        activation: "relu",
      }); // [B, hidden]
      return splitHead(dense(h3, { kernel: e2[0], bias: e2[1] }), config);
    },
    decode: (z) => {
      const h1 = dense(z, { kernel: d1[0], bias: d1[1], activation: "relu" }); // [B, hidden]
      const h2 = dense(h1, { kernel: d2[0], bias: d2[1], activation: "relu" }); // [B, 3136]
      const grid = tf.reshape(h2, [-1, 7, 7, 64]) as tf.Tensor4D;
      const up1 = conv2dTranspose(grid, {
        filter: t1[0],
        bias: t1[1],
        stride: 2,
        activation: "relu",
      }); // [B, 14, 14, 32]
      const up2 = conv2dTranspose(up1, { filter: t2[0], bias: t2[1], stride: 2 }); // [B, 28, 28, 1]
      return tf.reshape(up2, [-1, IMAGE_SIZE]);
    },
  };
}

/** Copy the current values of a model's variables (for saving or for a snapshot). */
export function getWeights(model: Model): Float32Array[] {
  return model.variables.map((v) => v.dataSync() as Float32Array).map((a) => a.slice());
}

/** Overwrite a model's variables with saved values, checking each length. */
export function setWeights(model: Model, weights: readonly Float32Array[]): void {
  if (weights.length !== model.variables.length) {
    throw new RangeError(
      `expected ${model.variables.length} weight arrays; got ${weights.length}`,
    );
  }
  model.variables.forEach((v, i) => {
    if (weights[i].length !== v.size) {
      throw new RangeError(`weight ${i} must have ${v.size} values; got ${weights[i].length}`);
    }
    tf.tidy(() => v.assign(tf.tensor(weights[i], v.shape)));
  });
}

/** Release a model's variables. */
export function disposeModel(model: Model): void {
  for (const v of model.variables) v.dispose();
}
