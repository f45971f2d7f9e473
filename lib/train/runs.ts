/**
 * Run or load: a training run is named by the hash of its config and data, and its weights and
 * history are cached under `data/runs/<hash>/`, so a second run of a notebook is fast.
 *
 * A run is written to a temporary folder and renamed into place when complete, so a crash never
 * leaves a half-written run that would be read back as a result. Its manifest carries a format
 * version and the SHA-256 of each binary file: a run folder that is truncated, corrupted or of an
 * older format is reported and trained again, never loaded.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { concatArrays, readOnce, runsDir } from "../base/mod.ts";
import { type Dataset, IMAGE_SIZE, type MnistData } from "../data/mod.ts";
import { digitCycle, type Model, sampleCodeGrid, withLabels } from "../model/mod.ts";
import type { TrainConfig } from "./config.ts";
import { train, type TrainOptions } from "./loop.ts";
import type { EpochRecord } from "./records.ts";
import { owns, type Shard, shardFromEnv, shardOf, waitFor } from "./shard.ts";
import {
  type DataDescription,
  loadFolder,
  readManifest,
  RUN_FORMAT,
  saveFolder,
  sortedConfig,
} from "./run_folder.ts";

/** Options of {@linkcode runOrLoad}. */
export interface RunOptions extends Pick<TrainOptions, "onProgress" | "onEpoch" | "workers"> {
  /** Cache folder; default `data/runs`. */
  dir?: string;
  /** Train even when a cached run exists (and replace it). */
  retrain?: boolean;
  /** Told why a cached run cannot be used before it is trained again; default `console.warn`. */
  onNotice?: (message: string) => void;
  /**
   * Train only this shard's share of the runs (default `VAELAB_SHARD`, else all): another
   * shard's run is waited for until it lands in the (shared) cache.
   */
  shard?: Shard;
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
  /** What computed the products (`productName()`); `unrecorded` for runs saved before it was. */
  product: string;
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
export const SNAPSHOT = { train: 8, test: 8, prior: 16, seed: 0, gan: 320 } as const;

/**
 * {@linkcode SNAPSHOT}'s images for `model`: [(train + test + prior) * 784] pixels in [0, 1]. A
 * GAN, which cannot reconstruct, decodes `gan` fixed prior draws instead (enough to count its
 * digits epoch by epoch); the classifier keeps no snapshot (an empty array).
 */
export function snapshot(model: Model, data: { train: Dataset; test: Dataset }): Float32Array {
  const { kind, latentSize } = model.config;
  if (kind === "classifier") return new Float32Array(0);
  if (kind === "gan") {
    const n = SNAPSHOT.gan;
    const generator = withLabels(model, digitCycle(n));
    return readOnce(
      tf.tidy(() => tf.sigmoid(generator.decode(model.prior.sample(n, latentSize, SNAPSHOT.seed)))),
    );
  }
  const first = (split: Dataset, n: number) =>
    split.images.subarray(0, Math.min(n, split.size) * IMAGE_SIZE);
  const images = concatArrays([first(data.train, SNAPSHOT.train), first(data.test, SNAPSHOT.test)]);
  const firstLabels = (split: Dataset, n: number) =>
    Array.from(split.labels.subarray(0, Math.min(n, split.size)));
  // A conditional model reconstructs with each image's label and decodes the prior draws as
  // the digits 0, 1, ..., 9, 0, ...
  const own = withLabels(model, [
    ...firstLabels(data.train, SNAPSHOT.train),
    ...firstLabels(data.test, SNAPSHOT.test),
  ]);
  const cycled = withLabels(model, digitCycle(SNAPSHOT.prior));
  return readOnce(tf.tidy(() => {
    const x = tf.tensor2d(images, [images.length / IMAGE_SIZE, IMAGE_SIZE]);
    // A VQ-VAE's samples decode grids of uniformly drawn codes.
    const z = model.quantizer
      ? sampleCodeGrid(model, SNAPSHOT.prior, SNAPSHOT.seed)
      : model.prior.sample(SNAPSHOT.prior, latentSize, SNAPSHOT.seed);
    return tf.sigmoid(tf.concat([own.decode(own.encode(x).mean), cycled.decode(z)]));
  }));
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
  const text = JSON.stringify({ config: sortedConfig(config), data });
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
    const cached = await loadFolder(folder, config);
    if (typeof cached === "string") {
      (options.onNotice ?? console.warn)(
        `vaelab: the cached run ${folder} cannot be used (${cached}); training it again`,
      );
    } else if (cached) {
      return { ...cached, hash, folder, cached: true };
    }
  }
  const shard = options.shard ?? shardFromEnv();
  if (!owns(shard, hash)) {
    const owner = shardOf(hash, shard!.count);
    const cached = await waitFor(
      `run ${hash} in ${folder}: shard ${owner}/${shard!.count} trains it`,
      async () => {
        const found = await loadFolder(folder, config);
        return typeof found === "object" && found !== null ? found : undefined;
      },
      { onNotice: options.onNotice },
    );
    return { ...cached, hash, folder, cached: true };
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
  await saveFolder(folder, {
    format: RUN_FORMAT,
    config,
    data: description,
    history: result.history,
    seconds: result.seconds,
    imagesPerSecond: result.imagesPerSecond,
    workers: result.workers,
    product: result.product,
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
  const manifest = await readManifest(`${dir ?? runsDir()}/${hash}`);
  return typeof manifest === "object" && manifest !== null;
}
