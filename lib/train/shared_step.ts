/**
 * One thread's side of data-parallel training on two threads (`parallel.ts` starts the worker).
 *
 * Each step, through memory both threads share:
 * 1. each thread computes the gradients of its half of the batch (shard 0 the first half on the
 *    main thread, shard 1 the second half in the worker) and writes them to its slot;
 * 2. each thread averages the two slots (weighted by shard size) over its half of the
 *    parameters, runs Adam there, and writes those new weights to the shared weights;
 * 3. both threads load all the shared weights into their model.
 * Both copies of the model therefore hold the same bits after every step. The worker replays
 * the batch order from the seed, so no batch crosses threads.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { hasWasmHeap, hostValues } from "../base/mod.ts";
import type { Dataset } from "../data/mod.ts";
import type { Model } from "../model/mod.ts";
import type { StepConfig, TrainConfig } from "./config.ts";
import { Adam, clipScale } from "./optimizer.ts";
import { NonFiniteGradient, shardGradients, type StepPosition } from "./step.ts";

/** The memory both threads share for a run with `parameters` weights. */
export interface SharedBuffers {
  /** Float32 [2, parameters]: each shard's gradients, in the model's variable order. */
  grads: SharedArrayBuffer;
  /** Float32 [parameters]: the current weights. */
  weights: SharedArrayBuffer;
  /** Float64 [2, 4]: each shard's size and mean loss, reconstruction and KL. */
  stats: SharedArrayBuffer;
  /** Int32 [5]: the last step each shard finished in phases 1 and 2, and an error flag. */
  sync: SharedArrayBuffer;
}

// Indices into `sync`: GRADS + shard (phase 1), WEIGHTS + shard (phase 2), and the error flag.
const GRADS = 0;
const WEIGHTS = 2;
const FAILED = 4;
/** A wait wakes up this often (ms) to notice a failure or a termination. */
export const WAIT_SLICE_MS = 200;

/** Shared buffers sized for a model with these weights, holding them. */
export function sharedBuffers(weights: readonly Float32Array[]): SharedBuffers {
  const parameters = weights.reduce((n, w) => n + w.length, 0);
  const buffers = {
    grads: new SharedArrayBuffer(2 * parameters * 4),
    weights: new SharedArrayBuffer(parameters * 4),
    stats: new SharedArrayBuffer(2 * 4 * 8),
    sync: new SharedArrayBuffer(5 * 4),
  };
  const flat = new Float32Array(buffers.weights);
  let offset = 0;
  for (const w of weights) {
    flat.set(w, offset);
    offset += w.length;
  }
  return buffers;
}

/** How a thread waits for the other: the worker blocks, the main thread awaits. */
export type Wait = (sync: Int32Array, index: number, step: number) => Promise<void>;

/** Whether a thread has raised the error flag of `sync`. */
export function failed(sync: Int32Array): boolean {
  return Atomics.load(sync, FAILED) !== 0;
}

/** Block until `sync[index]` reaches `step` (for the worker, which has nothing else to do). */
export function blockingWait(sync: Int32Array, index: number, step: number): Promise<void> {
  for (let seen = Atomics.load(sync, index); seen < step; seen = Atomics.load(sync, index)) {
    if (failed(sync)) throw new Error("the main thread stopped training");
    Atomics.wait(sync, index, seen, WAIT_SLICE_MS);
  }
  return Promise.resolve();
}

/** Options of {@linkcode SharedStep}'s constructor. */
export interface SharedStepOptions {
  buffers: SharedBuffers;
  /** 0 on the main thread (the first half of each batch), 1 in the worker (the second half). */
  shard: 0 | 1;
  /** This thread's copy of the model. */
  model: Model;
  config: StepConfig & Pick<TrainConfig, "learningRate">;
  /** How this thread waits for the other. */
  wait: Wait;
}

/** One thread's side of the shared step: its shard, its half of the weights and their moments. */
export class SharedStep {
  readonly shard: 0 | 1;
  #model: Model;
  #config: StepConfig;
  #grads: Float32Array[];
  #weights: Float32Array;
  #stats: Float64Array;
  #sync: Int32Array;
  #wait: Wait;
  #optimizer: Adam;
  #from: number;
  #to: number;
  #moments: { m: Float32Array; v: Float32Array };
  #average: Float32Array;
  #step = 0;

  /** Views of `buffers` for `shard`, with Adam's `learningRate` and this shard's moments. */
  constructor({ buffers, shard, model, config, wait }: SharedStepOptions) {
    this.shard = shard;
    this.#model = model;
    this.#config = config;
    this.#weights = new Float32Array(buffers.weights);
    const parameters = this.#weights.length;
    this.#grads = [0, 1].map((s) =>
      new Float32Array(buffers.grads, s * parameters * 4, parameters)
    );
    this.#stats = new Float64Array(buffers.stats);
    this.#sync = new Int32Array(buffers.sync);
    this.#wait = wait;
    this.#optimizer = new Adam({ learningRate: config.learningRate });
    const half = Math.floor(parameters / 2);
    [this.#from, this.#to] = shard === 0 ? [0, half] : [half, parameters];
    const size = this.#to - this.#from;
    this.#moments = { m: new Float32Array(size), v: new Float32Array(size) };
    this.#average = new Float32Array(size);
  }

  /** Train on this thread's half of `batch`; returns the whole batch's mean [loss, rec, kl]. */
  async step(batch: Dataset, position: StepPosition): Promise<number[]> {
    const t = ++this.#step;
    const other = 1 - this.shard;
    this.#computeShard(batch, position);
    this.#signal(GRADS + this.shard, t);
    await this.#wait(this.#sync, GRADS + other, t);
    // Read both shards' slots and stats now: once this thread signals phase 2, the other may
    // go on to the next step and overwrite its own.
    const sizes: [number, number] = [this.#stats[0], this.#stats[4]];
    const [a, b] = sizes.map((n) => n / (sizes[0] + sizes[1]));
    const means = [1, 2, 3].map((k) => a * this.#stats[k] + b * this.#stats[4 + k]);
    // Both threads compute the norm of the whole averaged gradient, in the same order, so they
    // take the same decision (stop, clip) on the same bits.
    const norm = averagedNorm(this.#grads, sizes);
    if (!Number.isFinite(norm)) throw new NonFiniteGradient(norm);
    averageShards({ grads: this.#grads, sizes, from: this.#from, out: this.#average });
    const scale = clipScale(norm, this.#config.clipNorm);
    if (scale !== 1) { for (let i = 0; i < this.#average.length; i++) this.#average[i] *= scale; }
    const mine = this.#weights.subarray(this.#from, this.#to);
    this.#optimizer.update(mine, this.#average, mine, this.#moments, t);
    this.#signal(WEIGHTS + this.shard, t);
    await this.#wait(this.#sync, WEIGHTS + other, t);
    // The other thread writes weights again only after this one signals phase 1 of the next step.
    this.load();
    return means;
  }

  /** How many weights the shared buffers hold. */
  get parameters(): number {
    return this.#weights.length;
  }

  /** Assign every variable of this thread's model its slice of the shared weights. */
  load(): void {
    let offset = 0;
    for (const variable of this.#model.variables) {
      // wasm copies the values onto its heap; the cpu backend would keep a reference to memory
      // the next step rewrites, so it gets a copy.
      const values = hasWasmHeap()
        ? this.#weights.subarray(offset, offset + variable.size)
        : this.#weights.slice(offset, offset + variable.size);
      const next = tf.tensor(values, variable.shape);
      variable.assign(next);
      next.dispose();
      offset += variable.size;
    }
  }

  /** Raise the error flag, so the other thread stops waiting. */
  fail(): void {
    this.#signal(FAILED, 1);
    for (const index of [GRADS, GRADS + 1, WEIGHTS, WEIGHTS + 1]) Atomics.notify(this.#sync, index);
  }

  /** Gradients of this shard's rows into its slot, its size and means into its stats. */
  #computeShard(batch: Dataset, position: StepPosition): void {
    const half = Math.ceil(batch.size / 2);
    const [from, to] = this.shard === 0 ? [0, half] : [half, batch.size];
    const slot = this.#grads[this.shard];
    const stats = this.#stats.subarray(4 * this.shard, 4 * this.shard + 4);
    if (from === to) {
      // A batch of one leaves shard 1 nothing: it weighs 0, and its slot must hold no NaN.
      slot.fill(0);
      stats.fill(0);
      return;
    }
    const { grads, means } = shardGradients(this.#model, {
      batch: batch.images,
      config: this.#config,
      position,
      rows: [from, to],
    });
    flattenGradients(this.#model.variables, grads, slot);
    stats.set([to - from, ...means.dataSync()]);
    tf.dispose([grads, means] as tf.TensorContainer);
  }

  #signal(index: number, value: number): void {
    Atomics.store(this.#sync, index, value);
    Atomics.notify(this.#sync, index);
  }
}

/** Options of {@linkcode averageShards}. */
export interface AverageShardsOptions {
  /** Each shard's mean gradients, flat. */
  grads: readonly Float32Array[];
  /** Each shard's rows. */
  sizes: readonly [number, number];
  /** The first parameter to average. */
  from: number;
  /** Where the average of parameters [from, from + out.length) goes. */
  out: Float32Array;
}

/**
 * The gradient of the mean loss over a batch from its two shards' mean gradients, each weighted
 * by its share of the rows: out[i] = (n0 g0[from + i] + n1 g1[from + i]) / (n0 + n1).
 */
export function averageShards(
  { grads: [g0, g1], sizes: [n0, n1], from, out }: AverageShardsOptions,
): void {
  const a = n0 / (n0 + n1);
  const b = n1 / (n0 + n1);
  for (let i = 0, j = from; i < out.length; i++, j++) out[i] = a * g0[j] + b * g1[j];
}

/** The Euclidean norm of the shards' weighted average over all the parameters, in float64. */
export function averagedNorm(
  [g0, g1]: readonly Float32Array[],
  [n0, n1]: readonly [number, number],
): number {
  const a = n0 / (n0 + n1);
  const b = n1 / (n0 + n1);
  let sum = 0;
  for (let i = 0; i < g0.length; i++) {
    // Rounded to float32 like the average Adam reads.
    const g = Math.fround(a * g0[i] + b * g1[i]);
    sum += g * g;
  }
  return Math.sqrt(sum);
}

/** Write the gradients of `variables`, in their order, into `out`. */
export function flattenGradients(
  variables: readonly tf.Variable[],
  grads: tf.NamedTensorMap,
  out: Float32Array,
): void {
  let offset = 0;
  for (const variable of variables) {
    const grad = grads[variable.name];
    if (!grad) throw new RangeError(`no gradient for variable "${variable.name}"`);
    out.set(hostValues(grad), offset);
    offset += variable.size;
  }
}

/** What the main thread sends the worker to start it. */
export interface WorkerStart {
  type: "start";
  config: TrainConfig;
  backend: string;
  buffers: SharedBuffers;
  train: Dataset;
}

/** Messages a training worker receives. */
export type ToWorker = WorkerStart | { type: "weights" };
/** Messages a training worker sends. */
export type FromWorker =
  | { type: "ready" }
  | { type: "weights"; weights: Float32Array[] }
  | { type: "error"; message: string };
