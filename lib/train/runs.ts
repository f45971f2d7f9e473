/**
 * Run or load: a training run is named by the hash of its config and data, and its weights and
 * history are cached under `data/runs/<hash>/`, so a second run of a notebook is fast.
 *
 * A run is written to a temporary folder and renamed into place when complete, so a crash never
 * leaves a half-written run that would be read back as a result.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { concatArrays, readOnce, runsDir } from "../base/mod.ts";
import { type Dataset, IMAGE_SIZE, type MnistData } from "../data/mod.ts";
import { buildModel, disposeModel, getWeights, type Model, setWeights } from "../model/mod.ts";
import type { TrainConfig } from "./config.ts";
import { train, type TrainOptions } from "./loop.ts";
import type { EpochRecord } from "./records.ts";

/** Options of {@linkcode runOrLoad}. */
export interface RunOptions extends Pick<TrainOptions, "onProgress" | "onEpoch" | "workers"> {
  /** Cache folder; default `data/runs`. */
  dir?: string;
  /** Train even when a cached run exists (and replace it). */
  retrain?: boolean;
}

/** A trained model with what produced it. */
export interface Run {
  model: Model;
  config: TrainConfig;
  /** Hash of the config and the data description: the cache folder's name. */
  hash: string;
  /** The run's folder in the cache: `run.json` (the manifest), `weights.bin`, `snapshots.bin`. */
  folder: string;
  history: EpochRecord[];
  /** Training seconds of the run that produced the weights (not of loading them). */
  seconds: number;
  imagesPerSecond: number;
  /** Threads that computed each batch (two train the same model up to float rounding). */
  workers: 1 | 2;
  /** True when the weights came from the cache. */
  cached: boolean;
  /**
   * After each epoch, {@linkcode SNAPSHOT}'s images: reconstructions of the first training and
   * test images, then decodes of fixed prior draws, [32 * 784] each (empty for older runs).
   */
  snapshots: Float32Array[];
}

/**
 * What every run records after each epoch, to show training as it goes: reconstructions (at the
 * mean code) of the first `train` training and `test` test images, and decodes of `prior` fixed
 * draws from the model's prior (seed `seed`).
 */
export const SNAPSHOT = { train: 8, test: 8, prior: 16, seed: 0 } as const;

/** {@linkcode SNAPSHOT}'s images for `model`: [(train + test + prior) * 784] pixels in [0, 1]. */
export function snapshot(model: Model, data: { train: Dataset; test: Dataset }): Float32Array {
  const first = (split: Dataset, n: number) =>
    split.images.subarray(0, Math.min(n, split.size) * IMAGE_SIZE);
  const images = concatArrays([first(data.train, SNAPSHOT.train), first(data.test, SNAPSHOT.test)]);
  return readOnce(tf.tidy(() => {
    const x = tf.tensor2d(images, [images.length / IMAGE_SIZE, IMAGE_SIZE]);
    const z = model.prior.sample(SNAPSHOT.prior, model.config.latentSize, SNAPSHOT.seed);
    return tf.sigmoid(tf.concat([model.decode(model.encode(x).mean), model.decode(z)]));
  }));
}

/** Where a variable sits in `weights.bin`: little-endian float32, row-major, one after another. */
export interface WeightEntry {
  /** The variable's stable name, e.g. `encoder.hidden.kernel` (shape [in, out]). */
  name: string;
  shape: number[];
  /** Byte offset of its first value in `weights.bin`. */
  offset: number;
}

/** The manifest `run.json` of a cached run (documented in data/README.md). */
export interface Manifest {
  /** 2 since the variables' names and offsets are listed; absent in older runs (same layout). */
  format?: number;
  config: TrainConfig;
  data: DataDescription;
  history: EpochRecord[];
  seconds: number;
  imagesPerSecond: number;
  /** Absent in runs cached before two-thread training: they used one. */
  workers?: 1 | 2;
  shapes: number[][];
  /** Each variable of `weights.bin`, in order; absent in older runs. */
  variables?: WeightEntry[];
  /** Snapshots in `snapshots.bin`, one per epoch; absent in older runs. */
  snapshots?: number;
}

/** What identifies a data set for caching: its source, split sizes and a checksum of its pixels. */
export interface DataDescription {
  source: string;
  trainSize: number;
  testSize: number;
  checksum: number;
}

/** Describe `data` cheaply but precisely enough that different splits never share a cache. */
export function describeData(data: MnistData): DataDescription {
  let checksum = 0;
  for (const images of [data.train.images, data.test.images]) {
    // A strided sum of pixels with their positions: cheap, and changes with the split or seed.
    for (let i = 0; i < images.length; i += 97) {
      checksum = (checksum + images[i] * (i % 1009)) % 1e9;
    }
  }
  return {
    source: data.source,
    trainSize: data.train.size,
    testSize: data.test.size,
    checksum: Math.round(checksum * 1000) / 1000,
  };
}

/** SHA-256 of a config and data description, as 16 hex digits. */
export async function runHash(config: TrainConfig, data: DataDescription): Promise<string> {
  const sorted = Object.fromEntries(Object.entries(config).sort(([a], [b]) => a.localeCompare(b)));
  const text = JSON.stringify({ config: sorted, data });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest).slice(0, 8), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/**
 * Load the cached run of this config and data, or train it and cache it.
 * @param data the train and test splits
 * @param config the model and how to train it
 * @param options progress, threads, the cache folder, `retrain`
 * @example
 * ```ts
 * const run = await runOrLoad(data, { ...TRAIN_DEFAULTS, latentSize: 2 }, {
 *   onProgress: progressDisplay({ title: "VAE, 2-D code" }),
 * });
 * ```
 */
export async function runOrLoad(
  data: MnistData,
  config: TrainConfig,
  options: RunOptions = {},
): Promise<Run> {
  const description = describeData(data);
  const hash = await runHash(config, description);
  const folder = `${options.dir ?? runsDir()}/${hash}`;
  if (!options.retrain) {
    const cached = await load(folder, config);
    if (cached) return { ...cached, hash, folder, cached: true };
  }
  const snapshots: Float32Array[] = [];
  const result = await train(data, config, {
    ...options,
    onEpoch: async (record, model) => {
      snapshots.push(snapshot(model, data));
      await options.onEpoch?.(record, model);
    },
  });
  let offset = 0;
  const variables = result.model.variables.map((v, i) => {
    const entry = { name: result.model.names[i], shape: v.shape, offset };
    offset += 4 * v.size;
    return entry;
  });
  await save(folder, {
    format: 2,
    config,
    data: description,
    history: result.history,
    seconds: result.seconds,
    imagesPerSecond: result.imagesPerSecond,
    workers: result.workers,
    shapes: result.model.variables.map((v) => v.shape),
    variables,
    snapshots: snapshots.length,
  }, { model: result.model, snapshots });
  return { ...result, hash, folder, cached: false, snapshots };
}

/**
 * A measurement of a run, computed once and kept in its folder (`measures.json`) under `key`, so
 * that a notebook run again only reads it. The value must survive JSON (numbers, strings, plain
 * arrays and objects); the key must say everything the measurement depends on besides the run
 * (which images, how many samples, which seed).
 * @param run the run measured
 * @param key names the measurement and its settings, e.g. "iwae ks=1,10,100 limit=200 seed=0"
 * @param compute the measurement, called only when the run's folder does not hold it yet
 * @example
 * ```ts
 * const elbo = await measureOnce(run, "test elbo", () => evaluate(run.model, data.test, run.config));
 * ```
 */
export async function measureOnce<T>(
  run: Pick<Run, "folder">,
  key: string,
  compute: () => T | Promise<T>,
): Promise<T> {
  const path = `${run.folder}/measures.json`;
  let measures: Record<string, unknown> = {};
  try {
    measures = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    // A missing (or unreadable) file only means nothing was kept yet.
    if (!(error instanceof Deno.errors.NotFound) && !(error instanceof SyntaxError)) throw error;
  }
  if (key in measures) return measures[key] as T;
  const value = await compute();
  measures[key] = value;
  // Written beside and renamed into place, so a reader never sees half a file.
  const temporary = `${path}.${crypto.randomUUID()}.partial`;
  await Deno.writeTextFile(temporary, JSON.stringify(measures));
  await Deno.rename(temporary, path);
  return value;
}

/** Whether the cache holds a run of this config and data (without loading it). */
export async function isCached(
  data: MnistData,
  config: TrainConfig,
  { dir }: { dir?: string } = {},
): Promise<boolean> {
  const hash = await runHash(config, describeData(data));
  try {
    return (await Deno.stat(`${dir ?? runsDir()}/${hash}/run.json`)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function load(
  folder: string,
  config: TrainConfig,
): Promise<Omit<Run, "hash" | "cached" | "folder"> | null> {
  let manifest: Manifest;
  let bytes: Uint8Array;
  try {
    manifest = JSON.parse(await Deno.readTextFile(`${folder}/run.json`));
    bytes = await Deno.readFile(`${folder}/weights.bin`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  const model = buildModel(config);
  const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const weights: Float32Array[] = [];
  let offset = 0;
  for (const v of model.variables) {
    weights.push(floats.slice(offset, offset + v.size));
    offset += v.size;
  }
  if (offset !== floats.length) {
    disposeModel(model);
    throw new RangeError(
      `${folder}/weights.bin holds ${floats.length} values; the model needs ${offset}`,
    );
  }
  setWeights(model, weights);
  const snapshots: Float32Array[] = [];
  if (manifest.snapshots) {
    const all = new Float32Array((await Deno.readFile(`${folder}/snapshots.bin`)).buffer);
    const size = all.length / manifest.snapshots;
    for (let e = 0; e < manifest.snapshots; e++) {
      snapshots.push(all.slice(e * size, (e + 1) * size));
    }
  }
  const { history, seconds, imagesPerSecond, workers = 1 } = manifest;
  return { model, config: manifest.config, history, seconds, imagesPerSecond, workers, snapshots };
}

async function save(
  folder: string,
  manifest: Manifest,
  { model, snapshots }: { model: Model; snapshots: Float32Array[] },
): Promise<void> {
  const parent = folder.slice(0, folder.lastIndexOf("/"));
  await Deno.mkdir(parent, { recursive: true });
  const temporary = await Deno.makeTempDir({ dir: parent, prefix: ".partial-" });
  const weights = getWeights(model);
  const bytes = new Uint8Array(weights.reduce((n, w) => n + w.byteLength, 0));
  let offset = 0;
  for (const w of weights) {
    bytes.set(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), offset);
    offset += w.byteLength;
  }
  await Deno.writeFile(`${temporary}/weights.bin`, bytes);
  const pixels = concatArrays(snapshots);
  await Deno.writeFile(
    `${temporary}/snapshots.bin`,
    new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength),
  );
  await Deno.writeTextFile(`${temporary}/run.json`, JSON.stringify(manifest, null, 1));
  await Deno.remove(folder, { recursive: true }).catch(() => {});
  await Deno.rename(temporary, folder);
}
