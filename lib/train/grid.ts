/**
 * A grid of runs: a list of named configurations, each trained (or loaded from the run cache)
 * under one progress display that says which run of how many is training, its epoch, and the time
 * left for the whole grid. Entries with the same config share one run, and the cache shares runs
 * between notebooks. With cores to spare (more than one run uses), runs train at once, each in
 * its own worker with its own backend.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { gridWorkerUrl, oneOf } from "../base/mod.ts";
import type { MnistData } from "../data/mod.ts";
import type { TrainConfig } from "./config.ts";
import type { TrainProgress } from "./records.ts";
import { sortedConfig } from "./run_folder.ts";
import { describeData, isCached, type Run, runHash, runOrLoad } from "./runs.ts";
import { owns, type Shard, shardFromEnv } from "./shard.ts";

/** One named configuration of a grid. */
export interface GridEntry {
  name: string;
  config: TrainConfig;
}

/** Options of {@linkcode runGrid}. */
export interface GridOptions {
  /** One display for the whole grid, e.g. `progressDisplay({ title: "beta sweep" })`. */
  onProgress?: (progress: TrainProgress) => void | Promise<void>;
  /** Cache folder; default `data/runs`. */
  dir?: string;
  /** Train every run even when cached (and replace it). */
  retrain?: boolean;
  /** Train only this shard's share (default `VAELAB_SHARD`); wait for the others' runs. */
  shard?: Shard;
  /**
   * Runs trained at once: `auto` (default), on wasm, trains one one-thread run per core when two
   * runs or more are to train (`workers` 1 unless given), and a single run on two threads;
   * elsewhere one run per core.
   */
  concurrency?: number | "auto";
  /**
   * Threads per run (`train`'s option), passed to every run: 1 with `concurrency: 2` trains two
   * one-thread runs at once, which on two cores beats one two-thread run after another.
   */
  workers?: 1 | 2 | "auto";
}

/** The conv VAE trains about this many times fewer images per second than the MLP (README). */
const CONV_COST = 7;

/**
 * How `auto` trains `toTrain` runs on `cores` cores: on wasm, with two runs or more to train, one
 * run per core on one thread each (two one-thread runs of the MLP VAE on full MNIST train 1.4
 * times as many images a second as one two-thread run after another, measured side by side on a
 * 2-core AMD EPYC with OpenBLAS: 11,900 + 11,600 against 16,900); a single run on two threads.
 */
export function gridConcurrency(
  toTrain: number,
  cores: number = navigator.hardwareConcurrency,
  backend: string = tf.getBackend(),
): { concurrency: number; workers?: 1 } {
  if (backend === "wasm" && toTrain >= 2 && cores >= 2) {
    return { concurrency: Math.min(cores, toTrain), workers: 1 };
  }
  return { concurrency: Math.max(1, Math.floor(cores / (backend === "wasm" ? 2 : 1))) };
}

/**
 * Train or load every entry of the grid; returns the runs by name, in the entries' order.
 * @param data the splits every run trains and is evaluated on
 * @param entries named configurations; two with the same config share one run
 * @param options one progress display, the cache folder, `retrain`, runs at once
 * @example
 * ```ts
 * const runs = await runGrid(data, [2, 20].map((d) => ({
 *   name: `VAE, d = ${d}`,
 *   config: { ...TRAIN_DEFAULTS, latentSize: d },
 * })), { onProgress: progressDisplay({ title: "latent sizes" }) });
 * runs["VAE, d = 2"].history;
 * ```
 */
export async function runGrid(
  data: MnistData,
  entries: readonly GridEntry[],
  options: GridOptions = {},
): Promise<Record<string, Run>> {
  const names = new Set<string>();
  for (const { name } of entries) {
    if (names.has(name)) {
      throw new RangeError(`grid entries must have distinct names; "${name}" repeats`);
    }
    names.add(name);
  }
  const requested = options.concurrency ?? "auto";
  if (requested !== "auto" && !(Number.isInteger(requested) && requested >= 1)) {
    throw new RangeError(`concurrency must be a positive integer or "auto"; got ${requested}`);
  }
  // One run per distinct config, in the order first named.
  const unique = new Map<string, GridEntry>();
  for (const entry of entries) {
    const key = JSON.stringify(sortedConfig(entry.config));
    if (!unique.has(key)) unique.set(key, entry);
  }
  const work = [...unique.values()];
  // A run another shard trains is waited for (runOrLoad), not trained here.
  const shard = options.shard ?? shardFromEnv();
  const description = describeData(data);
  const todo = await Promise.all(
    work.map(async (e) =>
      (options.retrain || !(await isCached(data, e.config, options))) &&
      owns(shard, await runHash(e.config, description))
    ),
  );
  const auto = gridConcurrency(todo.filter(Boolean).length);
  const concurrency = requested === "auto" ? auto.concurrency : requested;
  if (requested === "auto" && options.workers === undefined && auto.workers) {
    options = { ...options, workers: auto.workers };
  }
  const tracker = new GridTracker(data.train.size, work.filter((_, i) => todo[i]));
  const runs = new Map<GridEntry, Run>();
  const trainOne = async (entry: GridEntry, index: number) => {
    const label = `run ${index + 1}/${work.length} ${entry.name}`;
    const onProgress = async (progress: TrainProgress) => {
      tracker.update(entry, progress);
      await options.onProgress?.({ ...progress, label, remaining: tracker.remaining() });
    };
    if (concurrency > 1 && todo[index]) {
      // Trained in a worker, into the cache, from which this thread loads it.
      await trainInWorker(data, entry.config, { ...options, onProgress }).catch((error) => {
        if (!(error instanceof GridInterrupted)) throw error;
        throw new Error(
          `grid interrupted: ${label} ${error.message}; the runs already finished are cached`,
        );
      });
      const run = await runOrLoad(data, entry.config, { ...options, shard, retrain: false });
      runs.set(entry, { ...run, cached: false });
    } else {
      runs.set(entry, await runOrLoad(data, entry.config, { ...options, shard, onProgress }));
    }
    tracker.finish(entry);
  };
  // A pool of `concurrency` lanes, each taking the next entry when it is free.
  let next = 0;
  const lane = async () => {
    while (next < work.length) {
      const index = next++;
      await trainOne(work[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, lane));
  return Object.fromEntries(entries.map((e) => {
    const shared = unique.get(JSON.stringify(sortedConfig(e.config)))!;
    return [e.name, runs.get(shared)!];
  }));
}

/** Estimates the time left for the runs still to train, from the images per second so far. */
class GridTracker {
  #trainSize: number;
  /** Images left to train per run, by run. */
  #left = new Map<GridEntry, number>();
  #done = { images: 0, seconds: 0 };
  #current = new Map<GridEntry, { images: number; seconds: number }>();

  constructor(trainSize: number, toTrain: readonly GridEntry[]) {
    this.#trainSize = trainSize;
    for (const entry of toTrain) this.#left.set(entry, trainSize * entry.config.epochs);
  }

  update(entry: GridEntry, progress: TrainProgress): void {
    const images = this.#trainSize * (progress.epoch - 1 + progress.step / progress.steps);
    this.#current.set(entry, { images: images * cost(entry.config), seconds: progress.seconds });
    this.#left.set(entry, this.#trainSize * entry.config.epochs - images);
  }

  finish(entry: GridEntry): void {
    const current = this.#current.get(entry);
    if (current) {
      this.#done.images += current.images;
      this.#done.seconds += current.seconds;
    }
    this.#current.delete(entry);
    this.#left.delete(entry);
  }

  /** Seconds left: the MLP-equivalent images left over the MLP-equivalent images per second. */
  remaining(): number {
    let images = this.#done.images;
    let seconds = this.#done.seconds;
    for (const c of this.#current.values()) {
      images += c.images;
      seconds += c.seconds;
    }
    if (images === 0 || seconds === 0) return NaN;
    let left = 0;
    for (const [entry, n] of this.#left) left += n * cost(entry.config);
    // Runs training at once share the rate; seconds add up per run.
    return left / (images / seconds) / Math.max(1, this.#current.size);
  }
}

function cost(config: TrainConfig): number {
  return config.arch === "conv" ? CONV_COST : 1;
}

/** A grid worker's run was interrupted (SIGINT); the message says where it stopped. */
class GridInterrupted extends Error {}

/** Messages between {@linkcode runGrid} and a grid worker. */
export type ToGridWorker = {
  data: MnistData;
  config: TrainConfig;
  dir?: string;
  retrain?: boolean;
  backend: string;
  workers?: 1 | 2 | "auto";
};
/** What a grid worker reports: progress, the end of its run, or an error. */
export type FromGridWorker =
  | { type: "progress"; progress: TrainProgress }
  | { type: "done" }
  | { type: "interrupted"; message: string }
  | { type: "error"; message: string };

/** Train one run in a worker with its own backend; it lands in the cache, where runOrLoad reads it. */
function trainInWorker(
  data: MnistData,
  config: TrainConfig,
  options: Pick<GridOptions, "dir" | "retrain" | "onProgress" | "workers">,
): Promise<void> {
  const worker = new Worker(gridWorkerUrl(), { type: "module" });
  const backend = oneOf("backend", tf.getBackend(), ["wasm", "cpu", "webgpu"]);
  return new Promise<void>((resolve, reject) => {
    worker.onmessage = async (event: MessageEvent<FromGridWorker>) => {
      const message = event.data;
      if (message.type === "progress") await options.onProgress?.(message.progress);
      else if (message.type === "done") resolve();
      else if (message.type === "interrupted") reject(new GridInterrupted(message.message));
      else reject(new Error(`grid worker: ${message.message}`));
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      reject(new Error(`grid worker: ${event.message}`));
    };
    const start: ToGridWorker = {
      data,
      config,
      dir: options.dir,
      retrain: options.retrain,
      backend,
      workers: options.workers,
    };
    worker.postMessage(start);
  }).finally(() => worker.terminate());
}
