/**
 * The adversarial models: a GAN (an MLP, or the DCGAN of the course's recommendations) and the
 * adversarial autoencoder's critic on codes (Makhzani et al., 2016).
 *
 * A GAN is a `Model` whose `decode` is the generator (z -> logits, so that sigmoid(logits) is an
 * image, as for every decoder) and whose `critic` is the discriminator. The generator ends in
 * tanh, as DCGAN recommends: its image in [-1, 1] is tanh(a), and the logits it returns are 2a,
 * since sigmoid(2a) = (tanh(a) + 1) / 2 is the same image in [0, 1]. The critic sees images in
 * [-1, 1] (real ones as 2x - 1). A GAN has no encoder.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { IMAGE_SIDE, IMAGE_SIZE, NUM_CLASSES } from "../data/mod.ts";
import { checkConditionalInput, labelInputs } from "./conditional.ts";
import { conv2d, conv2dTranspose } from "./conv_layers.ts";
import { activate, batchNorm, dense } from "./layers.ts";
import type { Model, ModelConfig } from "./types.ts";
import { mixturePrior, ringMixture, STANDARD_NORMAL } from "./prior.ts";
import { layerNames, type VariableMaker, variableMaker } from "./variables.ts";

/** Where the seeds of an AAE's critic start (after its autoencoder's). */
const CRITIC_SEEDS = 500;

/**
 * The DCGAN's channels: [wide, narrow] = [32, 16], half of the conv VAE's, so that it trains on
 * full MNIST within the notebook's time on two cores.
 */
export const DCGAN_CHANNELS = [32, 16] as const;

/** Width of the hidden layers of the AAE's critic on codes. */
export const CODE_CRITIC_WIDTH = 128;

/** A dense layer's kernel [in, out] and bias [out], initialised like PyTorch's. */
function denseVariables(make: VariableMaker, inputs: number, outputs: number): tf.Variable[] {
  return [make([inputs, outputs], inputs), make([outputs], inputs)];
}

function noEncoder(): never {
  throw new TypeError("a GAN has no encoder: it only decodes codes drawn from its prior");
}

/** A GAN: `mlp` (G: z-256-512-784, D: 784-256-128-1) or `conv` (the DCGAN). */
export function buildGan(config: ModelConfig): Model {
  return config.arch === "mlp" ? buildMlpGan(config) : buildDcgan(config);
}

/**
 * The MLP GAN. Generator z -> 256 -> ReLU -> 512 -> ReLU -> 784 -> tanh (with `generatorNorm`,
 * batch normalisation before each ReLU); discriminator 784 -> 256 -> LeakyReLU(0.2) -> 128 ->
 * LeakyReLU(0.2) -> 1. A conditional one takes the label's one-hot appended to z, and to the
 * image (`conditioning` "input") or, with `projection`, as the inner product of a learnt
 * embedding of the label with the 128 hidden features, added to the logit. `criticFeatures` gives
 * those features (for feature matching). With `minibatchDiscrimination`, the output layer also
 * reads {@linkcode minibatchFeatures} of them.
 */
function buildMlpGan(config: ModelConfig): Model {
  const make = variableMaker(config);
  const layer = (inputs: number, outputs: number) => denseVariables(make, inputs, outputs);
  // A conditional GAN's generator and critic also take the label's one-hot (conditional.ts).
  const code = config.latentSize + labelInputs(config);
  const projection = config.conditioning === "projection";
  const input = IMAGE_SIZE + labelInputs(config);
  const g = [layer(code, 256), layer(256, 512), layer(512, IMAGE_SIZE)];
  const norms = config.generatorNorm
    ? [256, 512].map((n) => [make.filled([n], 1), make.filled([n], 0)])
    : [];
  const kernels = config.minibatchDiscrimination ? MINIBATCH_KERNELS : 0;
  const d = [
    layer(projection ? IMAGE_SIZE : input, 256),
    layer(256, 128),
    layer(128 + kernels, 1),
  ];
  const embedding = projection ? [make([NUM_CLASSES, 128], NUM_CLASSES)] : [];
  const tensorT = kernels ? [make([128, kernels * MINIBATCH_DIMS], 128)] : [];
  const hidden = (h: tf.Tensor2D, i: number) =>
    tf.relu(norms.length ? batchNorm(h, norms[i][0], norms[i][1]) : h) as tf.Tensor2D;
  // The critic's 128 hidden features (of the image alone with projection).
  const features = (x: tf.Tensor2D) =>
    tf.tidy(() => {
      checkConditionalInput(config, "critic", x, input);
      const image = projection ? tf.slice(x, [0, 0], [-1, IMAGE_SIZE]) as tf.Tensor2D : x;
      const h1 = dense(image, { kernel: d[0][0], bias: d[0][1], activation: "leakyRelu" });
      return dense(h1, { kernel: d[1][0], bias: d[1][1], activation: "leakyRelu" });
    });
  return {
    config: { ...config },
    prior: STANDARD_NORMAL,
    variables: [...g.flat(), ...norms.flat(), ...d.flat(), ...embedding, ...tensorT],
    names: [
      ...layerNames(["generator.hidden1", "generator.hidden2", "generator.output"]),
      ...(norms.length
        ? ["generator.norm1.scale", "generator.norm1.shift"]
          .concat(["generator.norm2.scale", "generator.norm2.shift"])
        : []),
      ...layerNames(["critic.hidden1", "critic.hidden2", "critic.output"]),
      ...(projection ? ["critic.embedding"] : []),
      ...(kernels ? ["critic.minibatch.kernel"] : []),
    ],
    encode: noEncoder,
    decode: (z) =>
      tf.tidy(() => {
        checkConditionalInput(config, "generator", z, code);
        const h1 = hidden(dense(z, { kernel: g[0][0], bias: g[0][1] }), 0);
        const h2 = hidden(dense(h1, { kernel: g[1][0], bias: g[1][1] }), 1);
        return tf.mul(dense(h2, { kernel: g[2][0], bias: g[2][1] }), 2); // logits 2a
      }),
    critic: (x) =>
      tf.tidy(() => {
        const h2 = features(x);
        const last = kernels
          ? tf.concat([h2, minibatchFeatures(h2, tensorT[0] as tf.Tensor2D)], 1)
          : h2;
        const logit = tf.reshape(dense(last, { kernel: d[2][0], bias: d[2][1] }), [-1]);
        if (!projection) return logit as tf.Tensor1D;
        const label = tf.slice(x, [0, IMAGE_SIZE], [-1, NUM_CLASSES]) as tf.Tensor2D;
        return tf.add(logit, tf.sum(tf.mul(tf.matMul(label, embedding[0]), h2), 1)) as tf.Tensor1D;
      }),
    criticFeatures: features,
  };
}

/** Minibatch discrimination's kernels B and their dimension C (Salimans et al., 2016). */
export const MINIBATCH_KERNELS = 32;
export const MINIBATCH_DIMS = 8;

/**
 * Minibatch discrimination (Salimans et al., 2016): each image's features f [n, A] times a learnt
 * tensor T [A, B * C] give B rows M_b of C numbers; kernel b of image i is the sum over the batch
 * of exp(-|M_b(i) - M_b(j)|_1), itself included. [n, B]: near n for a batch of one image, near 1
 * for a batch of images far apart, so the discriminator sees how varied its batch is.
 */
export function minibatchFeatures(f: tf.Tensor2D, t: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const n = f.shape[0];
    const m = tf.reshape(tf.matMul(f, t), [n, 1, -1, MINIBATCH_DIMS]);
    const distance = tf.sum(tf.abs(tf.sub(m, tf.reshape(m, [1, n, -1, MINIBATCH_DIMS]))), 3);
    return tf.sum(tf.exp(tf.neg(distance)), 1) as tf.Tensor2D; // [n, B]
  });
}

/**
 * The DCGAN, following Radford et al.'s recommendations as the course lists them: strided
 * convolutions and no pooling, batch normalisation, ReLU in the generator with tanh at its
 * output, LeakyReLU in the discriminator.
 *
 * Generator: z -> dense 7x7x32 -> BN -> ReLU -> transposed conv 4x4/2 (16) -> BN -> ReLU ->
 * transposed conv 4x4/2 (1) -> tanh. Discriminator: conv 4x4/2 (16) -> LeakyReLU -> conv 4x4/2
 * (32) -> BN -> LeakyReLU -> dense 1 (no batch normalisation on its input layer, as DCGAN
 * advises). Batch normalisation uses the statistics of the batch it is given.
 */
function buildDcgan(config: ModelConfig): Model {
  const make = variableMaker(config);
  const [wide, narrow] = DCGAN_CHANNELS;
  const grid = 7 * 7 * wide;
  const g0 = make([config.latentSize, grid], config.latentSize);
  const gBn0 = [make.filled([wide], 1), make.filled([wide], 0)];
  // Transposed-convolution filters are [h, w, outChannels, inChannels].
  const g1 = [make([4, 4, narrow, wide], 16 * wide), make([narrow], 16 * wide)];
  const gBn1 = [make.filled([narrow], 1), make.filled([narrow], 0)];
  const g2 = [make([4, 4, 1, narrow], 16 * narrow), make([1], 16 * narrow)];
  const d = convCritic(make);
  return {
    config: { ...config },
    prior: STANDARD_NORMAL,
    variables: [g0, ...gBn0, ...g1, ...gBn1, ...g2, ...d.variables],
    names: [
      "generator.project.kernel",
      "generator.norm0.scale",
      "generator.norm0.shift",
      ...layerNames(["generator.deconv1"]),
      "generator.norm1.scale",
      "generator.norm1.shift",
      ...layerNames(["generator.deconv2"]),
      ...d.names,
    ],
    encode: noEncoder,
    decode: (z) =>
      tf.tidy(() => {
        const projected = tf.reshape(tf.matMul(z, g0), [-1, 7, 7, wide]) as tf.Tensor4D;
        const h0 = tf.relu(batchNorm(projected, gBn0[0], gBn0[1])); // [B, 7, 7, wide]
        const h1 = tf.relu(
          batchNorm(
            conv2dTranspose(h0, { filter: g1[0], bias: g1[1], stride: 2 }),
            gBn1[0],
            gBn1[1],
          ),
        ); // [B, 14, 14, narrow]
        const a = conv2dTranspose(h1, { filter: g2[0], bias: g2[1], stride: 2 }); // [B, 28, 28, 1]
        return tf.mul(tf.reshape(a, [-1, IMAGE_SIZE]), 2) as tf.Tensor2D; // logits 2a
      }),
    critic: d.critic,
  };
}

/** A discriminator's weights, names, logit of "real" and hidden features, for images in [-1, 1]. */
export interface Critic {
  variables: tf.Variable[];
  names: string[];
  critic(x: tf.Tensor2D): tf.Tensor1D;
  /** The last hidden layer, flattened: [B, 7 * 7 * wide] for the convolutional one. */
  features(x: tf.Tensor2D): tf.Tensor2D;
}

/**
 * The DCGAN's discriminator, its variables made by `make` in order: conv 4x4/2 (narrow) ->
 * LeakyReLU -> conv 4x4/2 (wide) -> batch normalisation -> LeakyReLU (the features) -> dense 1.
 */
export function convCritic(make: VariableMaker): Critic {
  const [wide, narrow] = DCGAN_CHANNELS;
  const grid = 7 * 7 * wide;
  const d1 = [make([4, 4, 1, narrow], 16), make([narrow], 16)];
  const d2 = [make([4, 4, narrow, wide], 16 * narrow), make([wide], 16 * narrow)];
  const dBn2 = [make.filled([wide], 1), make.filled([wide], 0)];
  const d3 = [make([grid, 1], grid), make([1], grid)];
  const features = (x: tf.Tensor2D) =>
    tf.tidy(() => {
      const image = tf.reshape(x, [-1, IMAGE_SIDE, IMAGE_SIDE, 1]) as tf.Tensor4D;
      const h1 = conv2d(image, {
        filter: d1[0],
        bias: d1[1],
        stride: 2,
        activation: "leakyRelu",
      }); // [B, 14, 14, narrow]
      const h2 = activate(
        batchNorm(conv2d(h1, { filter: d2[0], bias: d2[1], stride: 2 }), dBn2[0], dBn2[1]),
        "leakyRelu",
      ); // [B, 7, 7, wide]
      return tf.reshape(h2, [-1, grid]) as tf.Tensor2D;
    });
  return {
    variables: [...d1, ...d2, ...dBn2, ...d3],
    names: [
      ...layerNames(["critic.conv1", "critic.conv2"]),
      "critic.norm2.scale",
      "critic.norm2.shift",
      ...layerNames(["critic.output"]),
    ],
    critic: (x) =>
      tf.tidy(() =>
        tf.reshape(dense(features(x), { kernel: d3[0], bias: d3[1] }), [-1]) as tf.Tensor1D
      ),
    features,
  };
}

/**
 * The adversarial autoencoder: `autoencoder` (an AE's encoder and decoder) plus a critic on codes,
 * latent -> 128 -> LeakyReLU(0.2) -> 128 -> LeakyReLU(0.2) -> 1, that tells draws of the prior
 * from the encoder's codes. Its prior is N(0, I), or for `mixture` the fixed ring of
 * `components` (default 10) Gaussians of {@linkcode ringMixture}.
 */
export function buildAae(config: ModelConfig, autoencoder: Model): Model {
  const make = variableMaker(config, CRITIC_SEEDS);
  const w = CODE_CRITIC_WIDTH;
  const layer = (inputs: number, outputs: number) => denseVariables(make, inputs, outputs);
  const c = [layer(config.latentSize, w), layer(w, w), layer(w, 1)];
  const mixture = (config.prior ?? "normal") === "mixture"
    ? ringMixture(config.components ?? 10, config.latentSize)
    : undefined;
  return {
    ...autoencoder,
    config: { ...config },
    prior: mixture
      ? mixturePrior(mixture, `ring of ${config.components ?? 10} Gaussians`)
      : STANDARD_NORMAL,
    variables: [...autoencoder.variables, ...c.flat()],
    names: [
      ...autoencoder.names,
      ...layerNames(["critic.hidden1", "critic.hidden2", "critic.output"]),
    ],
    critic: (z) =>
      tf.tidy(() => {
        const h1 = dense(z, { kernel: c[0][0], bias: c[0][1], activation: "leakyRelu" });
        const h2 = dense(h1, { kernel: c[1][0], bias: c[1][1], activation: "leakyRelu" });
        return tf.reshape(dense(h2, { kernel: c[2][0], bias: c[2][1] }), [-1]) as tf.Tensor1D;
      }),
    constants: mixture ? [mixture.means, mixture.logVars, mixture.logits] : [],
  };
}
