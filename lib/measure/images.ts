/**
 * Measures in image space: noisy and blurred copies of images, per-image squared error, and how
 * close a sample is to the nearest real digit.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { integer, nonNegativeNumber, normalSeed, readOnce } from "../base/mod.ts";
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
