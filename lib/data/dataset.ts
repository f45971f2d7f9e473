/**
 * A split of images and labels, and what every consumer does with one: take a subset, make a
 * tensor, walk it in seeded batches.
 *
 * Images are row-major `Float32Array`s of `[n, 784]` pixels in [0, 1]; labels are digits 0-9.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  mixSeeds,
  oneOf,
  permutation,
  positiveInteger,
  type Random,
  rng,
  show,
} from "../base/mod.ts";

/** Height and width of an image, in pixels. */
export const IMAGE_SIDE = 28;
/** Pixels per image. */
export const IMAGE_SIZE = IMAGE_SIDE * IMAGE_SIDE;
/** Digits 0 to 9. */
export const NUM_CLASSES = 10;

/** A split: n images, row-major [n, 784] pixels in [0, 1], and their digit labels. */
export interface Dataset {
  /** `[size, 784]`, row-major. */
  images: Float32Array;
  /** `[size]`, digits 0-9. */
  labels: Uint8Array;
  size: number;
}

/** Options of {@linkcode validateDataset}. */
export interface DatasetCheck {
  /** Pixels must lie in [0, 1] (what a Bernoulli likelihood needs); default true. */
  unitRange?: boolean;
  /** At least one example; default true. */
  nonEmpty?: boolean;
}

/**
 * Throw unless `data` is a split as every function here expects: a Float32Array of size * 784
 * finite pixels (in [0, 1] unless `unitRange` is false), a Uint8Array of size digit labels 0-9.
 * The error names the split (`name`), the field and the first bad value.
 * @example
 * ```ts
 * validateDataset("train", data.train); // returns data.train
 * ```
 */
export function validateDataset(name: string, data: Dataset, check: DatasetCheck = {}): Dataset {
  if (data === null || typeof data !== "object") {
    throw new TypeError(`${name} must be a split { images, labels, size }; got ${show(data)}`);
  }
  const { images, labels, size } = data;
  if (!(images instanceof Float32Array)) {
    throw new TypeError(`${name}.images must be a Float32Array; got ${kind(images)}`);
  }
  if (!(labels instanceof Uint8Array)) {
    throw new TypeError(`${name}.labels must be a Uint8Array; got ${kind(labels)}`);
  }
  if (!Number.isInteger(size) || size < ((check.nonEmpty ?? true) ? 1 : 0)) {
    throw new RangeError(`${name}.size must be a positive integer; got ${show(size)}`);
  }
  if (images.length !== size * IMAGE_SIZE) {
    throw new RangeError(
      `${name}.images must hold size * ${IMAGE_SIZE} = ${size * IMAGE_SIZE} pixels; ` +
        `got ${images.length}`,
    );
  }
  if (labels.length !== size) {
    throw new RangeError(`${name}.labels must hold size = ${size} labels; got ${labels.length}`);
  }
  const low = (check.unitRange ?? true) ? 0 : -Infinity;
  const high = (check.unitRange ?? true) ? 1 : Infinity;
  for (let i = 0; i < images.length; i++) {
    const p = images[i];
    // Written so that NaN fails too.
    if (!(p >= low && p <= high) || !Number.isFinite(p)) {
      const range = (check.unitRange ?? true) ? "in [0, 1]" : "finite";
      throw new RangeError(
        `${name}.images[${i}] (image ${
          Math.floor(i / IMAGE_SIZE)
        }) is ${p}; pixels must be ${range}`,
      );
    }
  }
  for (let i = 0; i < size; i++) {
    if (labels[i] >= NUM_CLASSES) {
      throw new RangeError(`${name}.labels[${i}] is ${labels[i]}; labels must be digits 0-9`);
    }
  }
  return data;
}

function kind(value: unknown): string {
  if (value === null || typeof value !== "object") return show(value);
  return (value as object).constructor?.name ?? "an object";
}

/** Options of {@linkcode batches}. */
export interface BatchOptions {
  /** Seed of the order and of dynamic binarisation; default 0. */
  seed?: number;
  /** Mixed into the seed so each epoch has its own order; default 0. */
  epoch?: number;
  /** Visit examples in a seeded random order (default true) or in stored order. */
  shuffle?: boolean;
  /** `dynamic`: a fresh Bernoulli(pixel) draw for every pixel of every batch; default `none`. */
  binarize?: "none" | "dynamic";
  /** Skip the last batch when it is smaller than `batchSize`; default false. */
  dropLast?: boolean;
}

/** One epoch of seeded shuffled batches, each a fresh contiguous Float32Array [b * 784]. */
export function batches(
  data: Dataset,
  batchSize: number,
  options: BatchOptions = {},
): Generator<Dataset> {
  positiveInteger("batchSize", batchSize);
  const binarize = oneOf("binarize", options.binarize ?? "none", ["none", "dynamic"]);
  // Validated here, not inside the generator, so bad options fail at the call.
  const random = rng(mixSeeds(options.seed ?? 0, options.epoch ?? 0));
  const order = (options.shuffle ?? true)
    ? permutation(data.size, random)
    : Uint32Array.from({ length: data.size }, (_, i) => i);
  const end = options.dropLast ? data.size - (data.size % batchSize) : data.size;
  return batchesOf(data, order, batchSize, end, binarize === "dynamic" ? random : undefined);
}

function* batchesOf(
  data: Dataset,
  order: Uint32Array,
  batchSize: number,
  end: number,
  binarizeWith: Random | undefined,
): Generator<Dataset> {
  for (let start = 0; start < end; start += batchSize) {
    // A fresh array per batch: tf.tensor may keep a reference to it rather than copy.
    const batch = subset(data, order.subarray(start, Math.min(start + batchSize, end)));
    if (binarizeWith) binarizeInPlace(batch.images, binarizeWith);
    yield batch;
  }
}

/**
 * A copy of the examples at `indices`, in that order.
 * @param data a split
 * @param indices which examples, in the order wanted
 * @example
 * ```ts
 * const firstEight = subset(data.test, [0, 1, 2, 3, 4, 5, 6, 7]);
 * ```
 */
export function subset(data: Dataset, indices: ArrayLike<number>): Dataset {
  const size = indices.length;
  const images = new Float32Array(size * IMAGE_SIZE);
  const labels = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    const j = indices[i];
    if (!Number.isInteger(j) || j < 0 || j >= data.size) {
      throw new RangeError(`indices[${i}] must be an integer in [0, ${data.size}); got ${j}`);
    }
    images.set(data.images.subarray(j * IMAGE_SIZE, (j + 1) * IMAGE_SIZE), i * IMAGE_SIZE);
    labels[i] = data.labels[j];
  }
  return { images, labels, size };
}

/** The images as a `[n, 784]` float32 tensor. */
export function toTensor(data: Dataset): tf.Tensor2D {
  return tf.tensor2d(data.images, [data.size, IMAGE_SIZE]);
}

/** Replace each pixel p by a Bernoulli(p) draw: 1 with probability p, else 0. */
export function binarizeInPlace(images: Float32Array, random: Random): void {
  for (let i = 0; i < images.length; i++) images[i] = random() < images[i] ? 1 : 0;
}
