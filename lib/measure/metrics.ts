/**
 * What we measure on a trained model: codes, reconstructions, samples, interpolations, active
 * units, reconstruction errors. Inputs and outputs are plain typed arrays, ready for figures;
 * every random draw takes a seed.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { concatArrays, integer, positiveInteger, readOnce, rng } from "../base/mod.ts";
import { batches, type Dataset, IMAGE_SIZE, subset, validateDataset } from "../data/mod.ts";
import {
  type LikelihoodOptions,
  logLikelihood,
  type Model,
  type Prior,
  STANDARD_NORMAL,
  withLabels,
} from "../model/mod.ts";

/** Codes of a split: the encoder's means (and log-variances for a VAE), row-major [n, latent]. */
export interface Codes {
  mean: Float32Array;
  logVar?: Float32Array;
  latentSize: number;
  size: number;
}

/**
 * Encode every image of `data` (in stored order), `batchSize` images at a time (default 1000).
 * @param model a trained AE or VAE
 * @param data the images to encode
 * @param options `batchSize` images per encoder call
 * @example
 * ```ts
 * const { mean, logVar } = encodeAll(model, data.test);
 * ```
 */
export function encodeAll(
  model: Model,
  data: Dataset,
  { batchSize = 1000 }: { batchSize?: number } = {},
): Codes {
  validateDataset("data", data, { unitRange: false });
  const means: Float32Array[] = [];
  const logVars: Float32Array[] = [];
  for (const batch of batches(data, batchSize, { shuffle: false })) {
    tf.tidy(() => {
      const x = tf.tensor2d(batch.images, [batch.size, IMAGE_SIZE]);
      const { mean, logVar } = withLabels(model, batch.labels).encode(x);
      means.push(mean.dataSync() as Float32Array);
      if (logVar) logVars.push(logVar.dataSync() as Float32Array);
    });
  }
  const mean = concatArrays(means);
  // The code's width: latentSize, or a VQ-VAE's whole grid of vectors.
  const latentSize = data.size ? mean.length / data.size : model.config.latentSize;
  return {
    mean,
    logVar: logVars.length ? concatArrays(logVars) : undefined,
    latentSize,
    size: data.size,
  };
}

/**
 * Images (or codes) of several arrays, one after the other: `concatImages(inputs, outputs)`.
 * @param parts arrays of n_i * 784 pixels (or codes)
 * @example
 * ```ts
 * digitGridFigure(concatImages(inputs, outputs), { cols: 8 });
 * ```
 */
export function concatImages(...parts: Float32Array[]): Float32Array {
  return concatArrays(parts);
}

/**
 * Pixel means sigmoid(decoder(z)) for codes z [n * latent] -> [n * 784].
 * @param model a trained AE or VAE
 * @param z codes, [n * latentSize]
 * @param options.labels a conditional model's label for each code
 * @example
 * ```ts
 * const images = decodeCodes(model, priorCodes({ latentSize: 20, n: 16, seed: 0 }));
 * ```
 */
export function decodeCodes(
  model: Model,
  z: Float32Array,
  { labels }: { labels?: ArrayLike<number> } = {},
): Float32Array {
  if (model.config.conditional && labels === undefined) {
    throw new RangeError("a conditional model decodes codes with their labels: pass labels");
  }
  if (labels !== undefined) model = withLabels(model, labels);
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

/**
 * Reconstructions sigmoid(decoder(mean(x))) of the images of `data`, [n * 784].
 * @param model a trained AE or VAE
 * @param data the images
 * @example
 * ```ts
 * digitGridFigure(reconstruct(model, subset(data.test, [0, 1, 2, 3])), { cols: 4 });
 * ```
 */
export function reconstruct(model: Model, data: Dataset): Float32Array {
  return decodeCodes(model, encodeAll(model, data).mean, { labels: data.labels });
}

/** Options of {@linkcode priorCodes}. */
export interface PriorCodeOptions {
  /** Size of each code. */
  latentSize: number;
  /** How many codes. */
  n: number;
  seed: number;
  /** The prior to draw from; default N(0, I). */
  prior?: Prior;
}

/**
 * n codes drawn from a prior, [n * latent].
 * @example
 * ```ts
 * const z = priorCodes({ latentSize: 20, n: 30, seed: 7 }); // 30 draws from N(0, I)
 * const images = decodeCodes(model, z);
 * ```
 */
export function priorCodes(options: PriorCodeOptions): Float32Array {
  const { latentSize, n, seed, prior = STANDARD_NORMAL } = options;
  positiveInteger("latentSize", latentSize);
  positiveInteger("n", n);
  if (seed !== undefined) integer("seed", seed);
  return readOnce(prior.sample(n, latentSize, seed));
}

/**
 * n codes from the aggregate posterior q(z) = (1/N) sum_i q(z | x_i): pick a training image at
 * random, then draw from its Gaussian (an AE's code is its mean).
 * @param codes the training split's codes, from `encodeAll`
 * @param options `n` codes, drawn from `seed`
 * @example
 * ```ts
 * const z = aggregatePosteriorCodes(encodeAll(vae, data.train), { n: 40, seed: 11 });
 * ```
 */
export function aggregatePosteriorCodes(
  codes: Codes,
  { n, seed }: { n: number; seed: number },
): Float32Array {
  positiveInteger("n", n);
  const random = rng(seed);
  const L = codes.latentSize;
  const out = new Float32Array(n * L);
  const noise = priorCodes({ latentSize: L, n, seed: seed + 1 });
  for (let s = 0; s < n; s++) {
    const i = Math.floor(random() * codes.size);
    for (let j = 0; j < L; j++) {
      const sd = codes.logVar ? Math.exp(0.5 * codes.logVar[i * L + j]) : 0;
      out[s * L + j] = codes.mean[i * L + j] + sd * noise[s * L + j];
    }
  }
  return out;
}

/**
 * `n` draws z ~ q(z | x) for one image x, the `index`-th of `codes` (z = mean + sd * eps, eps from
 * `seed`), [n * latent]: "a variety of samples from the same latent representation". An AE's
 * codes have no spread: its n draws are n copies of the code.
 */
export function posteriorCodes(
  codes: Codes,
  { index, n, seed }: { index: number; n: number; seed: number },
): Float32Array {
  positiveInteger("n", n);
  if (!(Number.isInteger(index) && index >= 0 && index < codes.size)) {
    throw new RangeError(`index must be an integer in [0, ${codes.size}); got ${index}`);
  }
  const L = codes.latentSize;
  const noise = priorCodes({ latentSize: L, n, seed });
  const out = new Float32Array(n * L);
  for (let s = 0; s < n; s++) {
    for (let j = 0; j < L; j++) {
      const sd = codes.logVar ? Math.exp(0.5 * codes.logVar[index * L + j]) : 0;
      out[s * L + j] = codes.mean[index * L + j] + sd * noise[s * L + j];
    }
  }
  return out;
}

/** `steps` codes on the segment from code a to code b (both ends included), [steps * latent]. */
export function interpolateCodes(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  { steps }: { steps: number },
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

/** Options of {@linkcode interpolation}. */
export interface InterpolationOptions {
  /** Index in the data of the first image. */
  from: number;
  /** Index in the data of the last image. */
  to: number;
  /** Images on the path, both ends included (at least 2). */
  steps: number;
}

/**
 * Decoded images along the straight line between the codes (means) of images `from` and `to`
 * of `data`, both ends included: [steps * 784].
 * @example
 * ```ts
 * const path = interpolation(model, data.test, { from: 0, to: 1, steps: 10 });
 * ```
 */
export function interpolation(
  model: Model,
  data: Dataset,
  { from, to, steps }: InterpolationOptions,
): Float32Array {
  const ends = encodeAll(model, subset(data, [from, to]));
  const L = ends.latentSize;
  return decodeCodes(
    model,
    interpolateCodes(ends.mean.subarray(0, L), ends.mean.subarray(L), { steps }),
  );
}

/**
 * Where the codes sit, against the prior N(0, I): `center` is the root-mean-square of the
 * per-dimension means (0 for the prior), `scale` the root-mean-square of the per-dimension
 * standard deviations (1 for the prior).
 * @param codes codes of a split, from `encodeAll`
 * @example
 * ```ts
 * const { center, scale } = codeSpread(encodeAll(model, data.test)); // prior: 0 and 1
 * ```
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

/**
 * Mean -log p(x | z = mean(x)) per image over a split: the deterministic reconstruction error.
 * @param model a trained AE or VAE
 * @param data the images
 * @param options the likelihood (default Bernoulli)
 * @example
 * ```ts
 * reconstructionError(run.model, data.test); // nats per image
 * ```
 */
export function reconstructionError(
  model: Model,
  data: Dataset,
  options: LikelihoodOptions = {},
): number {
  let total = 0;
  for (const batch of batches(data, 1000, { shuffle: false })) {
    total += tf.tidy(() => {
      const x = tf.tensor2d(batch.images, [batch.size, IMAGE_SIZE]);
      const labelled = withLabels(model, batch.labels);
      const logits = labelled.decode(labelled.encode(x).mean);
      return -tf.sum(logLikelihood(x, logits, options)).dataSync()[0];
    });
  }
  return total / data.size;
}
