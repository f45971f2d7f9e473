/**
 * What notebook 07 measures of a VQ-VAE: the codes it gives a split, how many bits they take under
 * a prior learnt per grid cell, and its samples under that prior and under a uniform one.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { concatArrays, readOnce } from "../base/mod.ts";
import { batches, type Dataset, IMAGE_SIZE } from "../data/mod.ts";
import { codePrior, type Model, nearestCodes, sampleCodeGrid } from "../model/mod.ts";

/** The code (0 to K - 1) of every cell of every image of `data`, image by image: [n * cells]. */
export function vqCodes(model: Model, data: Dataset): Int32Array {
  const quantizer = model.quantizer;
  if (!quantizer) throw new TypeError(`vqCodes needs a VQ-VAE; got "${model.config.kind}"`);
  const parts: Float32Array[] = [];
  for (const batch of batches(data, 500, { shuffle: false })) {
    parts.push(readOnce(tf.tidy(() => {
      const x = tf.tensor2d(batch.images, [batch.size, IMAGE_SIZE]);
      return tf.cast(nearestCodes(quantizer.continuous(x), quantizer.codebook), "float32");
    })));
  }
  // Codes below K are exact in float32.
  return Int32Array.from(concatArrays(parts));
}

/** A VQ-VAE's prior per cell ({@linkcode codePrior}), learnt from the codes of `train`. */
export function learntCodePrior(model: Model, train: Dataset): Float64Array {
  const k = model.quantizer!.codebook.shape[0];
  return codePrior(vqCodes(model, train), model.quantizer!.cells, k);
}

/** The mean bits per image of `codes` ([n * cells]) under a per-cell prior: -sum log2 p(code). */
export function codeBits(codes: ArrayLike<number>, prior: Float64Array, cells: number): number {
  const k = prior.length / cells;
  let bits = 0;
  for (let i = 0; i < codes.length; i++) bits -= Math.log2(prior[(i % cells) * k + codes[i]]);
  return bits / (codes.length / cells);
}

/** `n` samples of a VQ-VAE (pixel means, [n * 784]): decodes of grids drawn from `prior`, or uniform. */
export function vqSamples(
  model: Model,
  n: number,
  seed: number,
  prior?: Float64Array,
): Float32Array {
  return readOnce(tf.tidy(() => tf.sigmoid(model.decode(sampleCodeGrid(model, n, seed, prior)))));
}
