/**
 * What we measure on a trained model: codes, reconstructions, samples, active units and
 * importance-weighted estimates of log p(x). Inputs and outputs are plain typed arrays, ready
 * for figures; every random draw takes a seed.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { batches, type Dataset, IMAGE_SIZE, subset } from "./data.ts";
import { iwaeBound, type LikelihoodOptions, logLikelihood } from "./losses.ts";
import type { Model } from "./models.ts";
import { rng } from "./random.ts";

/** Codes of a split: the encoder's means (and log-variances for a VAE), row-major [n, latent]. */
export interface Codes {
  mean: Float32Array;
  logVar?: Float32Array;
  latentSize: number;
  size: number;
}

/** Encode every image of `data` (in stored order). */
export function encodeAll(model: Model, data: Dataset, batchSize = 1000): Codes {
  const means: Float32Array[] = [];
  const logVars: Float32Array[] = [];
  for (const batch of batches(data, batchSize, { shuffle: false })) {
    tf.tidy(() => {
      const { mean, logVar } = model.encode(tf.tensor2d(batch.images, [batch.size, IMAGE_SIZE]));
      means.push(mean.dataSync() as Float32Array);
      if (logVar) logVars.push(logVar.dataSync() as Float32Array);
    });
  }
  const latentSize = model.config.latentSize;
  return {
    mean: concat(means),
    logVar: logVars.length ? concat(logVars) : undefined,
    latentSize,
    size: data.size,
  };
}

/** Images (or codes) of several arrays, one after the other: `concatImages(inputs, outputs)`. */
export function concatImages(...parts: Float32Array[]): Float32Array {
  return concat(parts);
}

/**
 * A tensor's values, disposing it. (Reading inside `tf.tidy` and returning the array is slow:
 * tidy walks a returned typed array element by element.)
 */
function readOnce(t: tf.Tensor): Float32Array {
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Pixel means sigmoid(decoder(z)) for codes z [n * latent] -> [n * 784]. */
export function decodeCodes(model: Model, z: Float32Array): Float32Array {
  const latent = model.config.latentSize;
  if (z.length % latent !== 0) {
    throw new RangeError(
      `codes must hold a multiple of latentSize = ${latent} values; got ${z.length}`,
    );
  }
  return readOnce(
    tf.tidy(() => tf.sigmoid(model.decode(tf.tensor2d(z, [z.length / latent, latent])))),
  );
}

/** Reconstructions sigmoid(decoder(mean(x))) of the images of `data`, [n * 784]. */
export function reconstruct(model: Model, data: Dataset): Float32Array {
  return decodeCodes(model, encodeAll(model, data).mean);
}

/** n codes from the prior N(0, I), [n * latent]. */
export function priorCodes(latentSize: number, n: number, seed: number): Float32Array {
  return readOnce(tf.randomNormal([n, latentSize], 0, 1, "float32", seed));
}

/**
 * n codes from the aggregate posterior q(z) = (1/N) sum_i q(z | x_i): pick a training image at
 * random, then draw from its Gaussian (an AE's code is its mean).
 */
export function aggregatePosteriorCodes(codes: Codes, n: number, seed: number): Float32Array {
  const random = rng(seed);
  const L = codes.latentSize;
  const out = new Float32Array(n * L);
  const noise = priorCodes(L, n, seed + 1);
  for (let s = 0; s < n; s++) {
    const i = Math.floor(random() * codes.size);
    for (let j = 0; j < L; j++) {
      const sd = codes.logVar ? Math.exp(0.5 * codes.logVar[i * L + j]) : 0;
      out[s * L + j] = codes.mean[i * L + j] + sd * noise[s * L + j];
    }
  }
  return out;
}

/** `steps` codes on the segment from code a to code b (both ends included), [steps * latent]. */
export function interpolateCodes(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  steps: number,
): Float32Array {
  if (a.length !== b.length) {
    throw new RangeError(`codes differ in size: ${a.length} and ${b.length}`);
  }
  if (!Number.isInteger(steps) || steps < 2) {
    throw new RangeError(`steps must be an integer >= 2; got ${steps}`);
  }
  const out = new Float32Array(steps * a.length);
  for (let s = 0; s < steps; s++) {
    const t = s / (steps - 1);
    for (let j = 0; j < a.length; j++) out[s * a.length + j] = (1 - t) * a[j] + t * b[j];
  }
  return out;
}

/**
 * Decoded images along the straight line between the codes (means) of images `from` and `to`
 * of `data`, both ends included: [steps * 784].
 */
export function interpolation(
  model: Model,
  data: Dataset,
  from: number,
  to: number,
  steps: number,
): Float32Array {
  const ends = encodeAll(model, subset(data, [from, to]));
  const L = ends.latentSize;
  return decodeCodes(
    model,
    interpolateCodes(ends.mean.subarray(0, L), ends.mean.subarray(L), steps),
  );
}

/**
 * Where the codes sit, against the prior N(0, I): `center` is the root-mean-square of the
 * per-dimension means (0 for the prior), `scale` the root-mean-square of the per-dimension
 * standard deviations (1 for the prior).
 */
export function codeSpread(codes: Codes): { center: number; scale: number } {
  const { means, variances } = codeMoments(codes);
  const rms = (values: number[]) => Math.sqrt(values.reduce((s, v) => s + v, 0) / values.length);
  return { center: rms(means.map((m) => m * m)), scale: rms(variances) };
}

/** Mean and variance over the data of each dimension of the codes' means. */
function codeMoments(codes: Codes): { means: number[]; variances: number[] } {
  const L = codes.latentSize;
  const means: number[] = [];
  const variances: number[] = [];
  for (let j = 0; j < L; j++) {
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < codes.size; i++) {
      const v = codes.mean[i * L + j];
      sum += v;
      squares += v * v;
    }
    means.push(sum / codes.size);
    variances.push(squares / codes.size - (sum / codes.size) ** 2);
  }
  return { means, variances };
}

/**
 * Active units: latent dimensions whose posterior mean varies across the data,
 * Cov_x(E_q[z_j | x]) > threshold (Burda et al.'s 0.01 by default).
 */
export function activeUnits(
  codes: Codes,
  threshold = 0.01,
): { count: number; variances: number[] } {
  const { variances } = codeMoments(codes);
  return { count: variances.filter((v) => v > threshold).length, variances };
}

/** Mean -log p(x | z = mean(x)) per image over a split: the deterministic reconstruction error. */
export function reconstructionError(
  model: Model,
  data: Dataset,
  options: LikelihoodOptions = {},
): number {
  let total = 0;
  for (const batch of batches(data, 1000, { shuffle: false })) {
    total += tf.tidy(() => {
      const x = tf.tensor2d(batch.images, [batch.size, IMAGE_SIZE]);
      return -tf.sum(logLikelihood(x, model.decode(model.encode(x).mean), options)).dataSync()[0];
    });
  }
  return total / data.size;
}

/** A mean over images and its standard error. */
export interface Estimate {
  mean: number;
  stdError: number;
  /** One value per image. */
  values: Float32Array;
}

/** L_k per image of `data` (at most `limit` images), its mean and standard error. */
export function iwaeEstimate(
  model: Model,
  data: Dataset,
  k: number,
  options: LikelihoodOptions & { seed?: number; limit?: number; chunkSize?: number } = {},
): Estimate {
  const used = options.limit && options.limit < data.size
    ? subset(data, Array.from({ length: options.limit }, (_, i) => i))
    : data;
  const parts: Float32Array[] = [];
  let index = 0;
  for (const batch of batches(used, 100, { shuffle: false })) {
    const bound = tf.tidy(() => {
      const x = tf.tensor2d(batch.images, [batch.size, IMAGE_SIZE]);
      return iwaeBound(model, x, k, {
        ...options,
        seed: (options.seed ?? 0) + 1_000_003 * index++,
      });
    });
    parts.push(bound.dataSync() as Float32Array);
    bound.dispose();
  }
  const values = concat(parts);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, values.length - 1);
  return { mean, stdError: Math.sqrt(variance / values.length), values };
}

/** A copy of `data` with clipped Gaussian noise of std `noise` on every pixel (what a denoising AE sees). */
export function noisyImages(data: Dataset, noise: number, seed: number): Dataset {
  if (!(noise >= 0)) throw new RangeError(`noise must be a non-negative number; got ${noise}`);
  const images = readOnce(tf.tidy(() => {
    const x = tf.tensor2d(data.images, [data.size, IMAGE_SIZE]);
    return tf.clipByValue(tf.add(x, tf.randomNormal(x.shape, 0, noise, "float32", seed)), 0, 1);
  }));
  return { images, labels: data.labels.slice(), size: data.size };
}

/** Mean squared error per pixel between two sets of images [n * 784], one value per image. */
export function pixelMse(a: Float32Array, b: Float32Array): Float32Array {
  if (a.length !== b.length || a.length % IMAGE_SIZE !== 0) {
    throw new RangeError(
      `images must have the same n * ${IMAGE_SIZE} values; got ${a.length} and ${b.length}`,
    );
  }
  const out = new Float32Array(a.length / IMAGE_SIZE);
  for (let i = 0; i < a.length; i++) {
    out[Math.floor(i / IMAGE_SIZE)] += (a[i] - b[i]) ** 2 / IMAGE_SIZE;
  }
  return out;
}

/**
 * For each sample [n * 784], its cosine similarity to the most similar image of `reference`:
 * 1 for a copy of a real digit, lower for smudges and noise. (Squared error would favour faint
 * blurs, which are close to everything.)
 */
export function nearestImageSimilarity(samples: Float32Array, reference: Dataset): Float32Array {
  const n = samples.length / IMAGE_SIZE;
  if (!Number.isInteger(n)) {
    throw new RangeError(`samples must hold n * ${IMAGE_SIZE} values; got ${samples.length}`);
  }
  return readOnce(tf.tidy(() => {
    const unit = (t: tf.Tensor2D) => tf.div(t, tf.maximum(tf.norm(t, 2, 1, true), 1e-12));
    const s = unit(tf.tensor2d(samples, [n, IMAGE_SIZE]));
    const r = unit(tf.tensor2d(reference.images, [reference.size, IMAGE_SIZE]));
    // The transpose first keeps wasm's fast matMul.
    return tf.max(tf.matMul(s, tf.transpose(r)), 1); // [n]
  }));
}

/** The mean of an array. */
export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}
