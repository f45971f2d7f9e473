/**
 * Measures in image space: noisy and blurred copies of images, per-image squared error, and how
 * close a sample is to the nearest real digit.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { integer, nonNegativeNumber, normalSeed, readOnce, rng } from "../base/mod.ts";
import { type Dataset, IMAGE_SIDE, IMAGE_SIZE } from "../data/mod.ts";

/**
 * A copy of `data` with clipped Gaussian noise of std `noise` on every pixel (what a denoising AE sees).
 * @param data the clean images
 * @param options `noise`, the standard deviation, and the `seed` of the draw
 * @example
 * ```ts
 * const noisy = noisyImages(data.test, { noise: 0.3, seed: 5 });
 * ```
 */
export function noisyImages(
  data: Dataset,
  { noise, seed }: { noise: number; seed: number },
): Dataset {
  nonNegativeNumber("noise", noise);
  integer("seed", seed);
  const images = readOnce(tf.tidy(() => {
    const x = tf.tensor2d(data.images, [data.size, IMAGE_SIZE]);
    return tf.clipByValue(
      tf.add(x, tf.randomNormal(x.shape, 0, noise, "float32", normalSeed(seed))),
      0,
      1,
    );
  }));
  return { images, labels: data.labels.slice(), size: data.size };
}

/**
 * A copy of `data` blurred by a Gaussian of std `sigma` pixels (a 7x7 kernel, normalised; the
 * image is taken as 0 outside its border). `sigma` 0 copies the images.
 * @example
 * ```ts
 * const blurred = blurredImages(data.test, { sigma: 1 });
 * ```
 */
export function blurredImages(data: Dataset, { sigma }: { sigma: number }): Dataset {
  nonNegativeNumber("sigma", sigma);
  if (sigma === 0) {
    return { images: data.images.slice(), labels: data.labels.slice(), size: data.size };
  }
  const radius = 3;
  const taps = Array.from(
    { length: 2 * radius + 1 },
    (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)),
  );
  const total = taps.reduce((a, b) => a + b, 0);
  const kernel = taps.flatMap((a) => taps.map((b) => (a * b) / (total * total)));
  const images = readOnce(tf.tidy(() => {
    const x = tf.tensor4d(data.images, [data.size, IMAGE_SIDE, IMAGE_SIDE, 1]);
    const filter = tf.tensor4d(kernel, [2 * radius + 1, 2 * radius + 1, 1, 1]);
    return tf.conv2d(x, filter, 1, "same");
  }));
  return { images, labels: data.labels.slice(), size: data.size };
}

/**
 * Mean squared error per pixel between two sets of images [n * 784], one value per image.
 * @param a images, [n * 784]
 * @param b as many images
 * @example
 * ```ts
 * mean(pixelMse(reconstruct(model, data.test), data.test.images));
 * ```
 */
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
 * @param samples images, [n * 784]
 * @param reference the images to compare with, e.g. the training split
 * @example
 * ```ts
 * mean(nearestImageSimilarity(decodeCodes(model, z), data.train)); // 1 for copies of digits
 * ```
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
    return tf.max(tf.matMul(s, r, false, true), 1); // cosines s r^T [n, m] -> [n]
  }));
}

/**
 * Mode collapse, measured: the share of the pairs of `images` ([n * 784]) whose cosine
 * similarity exceeds `threshold`, near copies of each other. A generator that maps many z to
 * about one image scores far above real digits; one that drops a digit need not (mode dropping is
 * a digit's share near 0, `digitShares`).
 * @example
 * ```ts
 * nearDuplicateShare(generatorImages(model, 1000, 1), { threshold: 0.9 }); // about 0.001 real
 * ```
 */
export function nearDuplicateShare(
  images: Float32Array,
  { threshold }: { threshold: number },
): number {
  const n = images.length / IMAGE_SIZE;
  if (!(Number.isInteger(n) && n >= 2)) {
    throw new RangeError(
      `images must hold 2 or more of ${IMAGE_SIZE} pixels; got ${images.length}`,
    );
  }
  if (!(threshold > -1 && threshold < 1)) {
    throw new RangeError(`threshold must be in (-1, 1); got ${threshold}`);
  }
  const cosines = readOnce(tf.tidy(() => {
    const x = tf.tensor2d(images, [n, IMAGE_SIZE]);
    const unit = tf.div(x, tf.maximum(tf.norm(x, 2, 1, true), 1e-12));
    return tf.matMul(unit, unit, false, true); // [n, n]
  }));
  let close = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) if (cosines[i * n + j] > threshold) close++;
  }
  return close / (n * (n - 1) / 2);
}

/**
 * Sharpness, measured: the mean over `images` ([n * 784], pixels in [0, 1]) of the variance of
 * the image's discrete Laplacian (4 x - its four neighbours, inside the 26 x 26 interior). Sharp
 * strokes give large second differences; a blur flattens them.
 */
export function laplacianVariance(images: Float32Array): number {
  const n = images.length / IMAGE_SIZE;
  if (!(Number.isInteger(n) && n >= 1)) {
    throw new RangeError(
      `images must hold a multiple of ${IMAGE_SIZE} pixels; got ${images.length}`,
    );
  }
  const side = Math.sqrt(IMAGE_SIZE);
  let total = 0;
  for (let k = 0; k < n; k++) {
    const at = (r: number, c: number) => images[k * IMAGE_SIZE + r * side + c];
    let sum = 0;
    let squares = 0;
    let count = 0;
    for (let r = 1; r < side - 1; r++) {
      for (let c = 1; c < side - 1; c++) {
        const v = 4 * at(r, c) - at(r - 1, c) - at(r + 1, c) - at(r, c - 1) - at(r, c + 1);
        sum += v;
        squares += v * v;
        count++;
      }
    }
    total += squares / count - (sum / count) ** 2;
  }
  return total / n;
}

/**
 * Images drawn from the decoder's Bernoulli pixels: each pixel is 1 with probability its mean
 * in `means` ([n * 784], in [0, 1]) and 0 otherwise, independently (random numbers from `seed`).
 * What "sampling the decoder" means in the lab, where the usual figure shows the means.
 */
export function bernoulliImages(means: Float32Array, { seed }: { seed: number }): Float32Array {
  if (means.length % IMAGE_SIZE !== 0) {
    throw new RangeError(`means must hold a multiple of ${IMAGE_SIZE} pixels; got ${means.length}`);
  }
  const random = rng(seed);
  return means.map((p) => {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`a pixel mean must be in [0, 1]; got ${p}`);
    return random() < p ? 1 : 0;
  });
}
