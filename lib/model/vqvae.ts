/**
 * The VQ-VAE (van den Oord et al., 2017): a convolutional encoder to a 7 x 7 grid of vectors, each
 * replaced by its nearest vector of a learnt codebook of K, and a decoder from the grid of chosen
 * vectors. The code of an image is 49 indices in [0, K): 49 log2 K bits.
 *
 * Training (`vqTerms`) passes the decoder's gradient straight through the quantization to the
 * encoder, moves the chosen codebook vectors towards the encoder's outputs (the codebook loss) and
 * the encoder's outputs towards them (the commitment loss, weighted by beta = 0.25 in the paper).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { rng } from "../base/mod.ts";
import { conv2d, decoderDeconvs, encoderConvs } from "./conv_layers.ts";
import { constantOf, logLikelihood } from "./losses.ts";
import { STANDARD_NORMAL } from "./prior.ts";
import type { Model, ModelConfig, Quantizer } from "./types.ts";
import { layerNames, variableMaker } from "./variables.ts";

/** The grid's side: two stride-2 convolutions take 28 x 28 to 7 x 7. */
export const VQ_GRID_SIDE = 7;

/** The default number of codebook vectors. */
export const VQ_CODEBOOK_SIZE = 64;

/** The index of the nearest codebook vector to each row of `vectors` [N, D]: [N] int32. */
export function nearestCodes(vectors: tf.Tensor2D, codebook: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    // |v - e|^2 = |v|^2 - 2 v.e + |e|^2; |v|^2 is the same for every e of a row.
    const cross = tf.matMul(vectors, codebook, false, true); // [N, K]
    const distance = tf.sub(tf.sum(tf.square(codebook), 1), tf.mul(cross, 2));
    return tf.argMin(distance, 1) as tf.Tensor1D;
  });
}

/** The codebook vectors of `codes` [N] as rows, [N, D], by a one-hot product (it has a gradient). */
export function codeVectors(codes: tf.Tensor1D, codebook: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(tf.oneHot(codes, codebook.shape[0]).toFloat(), codebook));
}

/**
 * The VQ-VAE for 28x28x1. Encoder: conv 3x3/2 (32) -> ReLU -> conv 3x3/2 (64) -> ReLU -> conv 1x1
 * (latentSize) -> a 7 x 7 grid of vectors. Decoder: the grid of codebook vectors -> conv 1x1 (64)
 * -> ReLU -> transposed conv 3x3/2 (32) -> ReLU -> transposed conv 3x3/2 (1 channel of logits). Its
 * `encode(x).mean` is the quantized grid, [B, 49 * latentSize]; `decode` takes such a grid.
 */
export function buildVqVae(config: ModelConfig): Model {
  const { latentSize } = config;
  const k = config.codebookSize ?? VQ_CODEBOOK_SIZE;
  const cells = VQ_GRID_SIDE * VQ_GRID_SIDE;
  const make = variableMaker(config);
  const c1 = [make([3, 3, 1, 32], 9), make([32], 9)];
  const c2 = [make([3, 3, 32, 64], 9 * 32), make([64], 9 * 32)];
  const c3 = [make([1, 1, 64, latentSize], 64), make([latentSize], 64)];
  // Codebook vectors start at U(-1/K, 1/K), as the paper's reference code does (a fan-in of K^2).
  const codebook = make([k, latentSize], k * k);
  const d1 = [make([1, 1, latentSize, 64], latentSize), make([64], latentSize)];
  // Transposed-convolution filters are [h, w, outChannels, inChannels].
  const t1 = [make([3, 3, 32, 64], 9 * 64), make([32], 9 * 64)];
  const t2 = [make([3, 3, 1, 32], 9 * 32), make([1], 9 * 32)];
  const continuous = (x: tf.Tensor2D) =>
    tf.tidy(() => {
      const h2 = encoderConvs(x, [c1, c2]); // [B, 7, 7, 64]
      const h3 = conv2d(h2, { filter: c3[0], bias: c3[1], stride: 1 }); // [B, 7, 7, D]
      return tf.reshape(h3, [-1, latentSize]) as tf.Tensor2D; // [B * 49, D]
    });
  const quantizer: Quantizer = { cells, codebook, continuous };
  return {
    config: { ...config },
    prior: STANDARD_NORMAL,
    variables: [...c1, ...c2, ...c3, codebook, ...d1, ...t1, ...t2],
    names: [
      ...layerNames(["encoder.conv1", "encoder.conv2", "encoder.conv3"]),
      "codebook.vectors",
      ...layerNames(["decoder.conv1", "decoder.deconv1", "decoder.deconv2"]),
    ],
    quantizer,
    encode: (x) =>
      tf.tidy(() => {
        const vectors = continuous(x);
        const quantized = codeVectors(nearestCodes(vectors, codebook), codebook);
        return { mean: tf.reshape(quantized, [-1, cells * latentSize]) as tf.Tensor2D };
      }),
    decode: (z) =>
      tf.tidy(() => {
        const grid = tf.reshape(z, [-1, VQ_GRID_SIDE, VQ_GRID_SIDE, latentSize]) as tf.Tensor4D;
        const h1 = conv2d(grid, { filter: d1[0], bias: d1[1], stride: 1, activation: "relu" }); // [B, 7, 7, 64]
        return decoderDeconvs(h1, [t1, t2]);
      }),
  };
}

/** Per-image VQ-VAE terms of a batch, and the codes it chose. */
export interface VqTerms {
  /** -log p(x | decoder(quantized grid)), nats per image, [B]. */
  reconstruction: tf.Tensor1D;
  /** |sg[z_e] - e|^2 summed over the grid, [B]: moves the codebook. */
  codebook: tf.Tensor1D;
  /** beta |z_e - sg[e]|^2 summed over the grid, [B]: keeps the encoder near its codes. */
  commitment: tf.Tensor1D;
  /** reconstruction + codebook + commitment, [B]. */
  loss: tf.Tensor1D;
  /** The chosen codes, [B * cells] int32. */
  codes: tf.Tensor1D;
}

/**
 * The VQ-VAE's training terms on a batch x [B, 784] (van den Oord et al., eq. 3): the decoder sees
 * z_e + sg[e - z_e] (the codebook vector, with the decoder's gradient passed straight through to
 * z_e), the codebook loss |sg[z_e] - e|^2 and the commitment loss `commitment` |z_e - sg[e]|^2.
 */
export function vqTerms(
  model: Model,
  x: tf.Tensor2D,
  { commitment }: { commitment: number },
): VqTerms {
  const quantizer = model.quantizer;
  if (!quantizer) throw new TypeError(`vqTerms needs a VQ-VAE; got kind "${model.config.kind}"`);
  return tf.tidy(() => {
    const batch = x.shape[0];
    const { cells, codebook } = quantizer;
    const latent = model.config.latentSize;
    const vectors = quantizer.continuous(x); // z_e, [B * cells, D]
    const codes = nearestCodes(constantOf(vectors), codebook);
    const chosen = codeVectors(codes, codebook); // e, [B * cells, D]
    const straightThrough = tf.add(vectors, constantOf(tf.sub(chosen, vectors)));
    const logits = model.decode(
      tf.reshape(straightThrough, [batch, cells * latent]) as tf.Tensor2D,
    );
    const reconstruction = tf.neg(logLikelihood(x, logits)) as tf.Tensor1D;
    const perImage = (t: tf.Tensor2D) =>
      tf.sum(tf.reshape(tf.sum(tf.square(t), 1), [batch, cells]), 1) as tf.Tensor1D;
    const codebookTerm = perImage(tf.sub(constantOf(vectors), chosen));
    const commitmentTerm = tf.mul(
      perImage(tf.sub(vectors, constantOf(chosen))),
      commitment,
    ) as tf.Tensor1D;
    const loss = tf.addN([reconstruction, codebookTerm, commitmentTerm]) as tf.Tensor1D;
    return { reconstruction, codebook: codebookTerm, commitment: commitmentTerm, loss, codes };
  });
}

/**
 * How many of the K codes a set of choices uses: the perplexity exp(H) of their frequencies (K when
 * every code is used equally, 1 when one code is always chosen) and the codes never chosen.
 */
export function codeUse(
  codes: ArrayLike<number>,
  k: number,
): { perplexity: number; unused: number } {
  const counts = new Float64Array(k);
  for (let i = 0; i < codes.length; i++) counts[codes[i]] += 1;
  let entropy = 0;
  let unused = 0;
  for (const count of counts) {
    if (count === 0) unused++;
    else entropy -= (count / codes.length) * Math.log(count / codes.length);
  }
  return { perplexity: Math.exp(entropy), unused };
}

/**
 * `n` grids of codebook vectors, [n, cells * latentSize], each cell's code drawn from
 * `probabilities` ([cells * K], a categorical per cell: {@linkcode codePrior}) or, when absent,
 * uniformly from the K codes: the VQ-VAE's samples are the decodes of these.
 */
export function sampleCodeGrid(
  model: Model,
  n: number,
  seed: number,
  probabilities?: Float64Array,
): tf.Tensor2D {
  const quantizer = model.quantizer;
  if (!quantizer) throw new TypeError(`sampleCodeGrid needs a VQ-VAE; got "${model.config.kind}"`);
  const { cells, codebook } = quantizer;
  const k = codebook.shape[0];
  if (probabilities && probabilities.length !== cells * k) {
    throw new RangeError(
      `probabilities must hold ${cells} x ${k} values; got ${probabilities.length}`,
    );
  }
  const random = rng(seed);
  const codes = new Int32Array(n * cells);
  for (let i = 0; i < codes.length; i++) {
    const u = random();
    if (!probabilities) {
      codes[i] = Math.min(k - 1, Math.floor(u * k));
      continue;
    }
    const row = (i % cells) * k;
    let code = 0;
    for (let sum = probabilities[row]; sum < u && code < k - 1; sum += probabilities[row + ++code]);
    codes[i] = code;
  }
  return tf.tidy(() =>
    tf.reshape(codeVectors(tf.tensor1d(codes, "int32"), codebook), [
      n,
      cells * model.config.latentSize,
    ]) as tf.Tensor2D
  );
}

/**
 * A prior over the grid learnt from `codes` (the codes of training images, [n * cells]): each
 * cell's own categorical over the K codes, by counts plus one (so every code keeps some mass).
 * [cells * K] probabilities, cell by cell. The paper fits a PixelCNN over the grid instead, which
 * also models how cells depend on each other.
 */
export function codePrior(codes: ArrayLike<number>, cells: number, k: number): Float64Array {
  if (codes.length % cells !== 0) {
    throw new RangeError(`codes must hold whole grids of ${cells}; got ${codes.length}`);
  }
  const counts = new Float64Array(cells * k).fill(1);
  for (let i = 0; i < codes.length; i++) counts[(i % cells) * k + codes[i]] += 1;
  const perCell = codes.length / cells + k;
  return counts.map((c) => c / perCell);
}
