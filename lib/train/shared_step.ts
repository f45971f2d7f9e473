/**
 * One thread's side of data-parallel training on two threads (`parallel.ts` starts the worker).
 *
 * Each thread holds a copy of the model and computes the gradients of its half of every batch
 * (shard 0 the first half on the main thread, shard 1 the second in the worker). The variables
 * are shared out between the threads, about half the weights each ({@linkcode ownerOf}); each
 * thread updates its own with Adam on both shards' gradients, weighted by their rows. Through
 * memory both threads share, at every step:
 * 1. each thread writes its gradients of the other's variables to its slot, and its rows and
 *    mean terms to its stats;
 * 2. each thread reads the other's gradients of its own variables, runs Adam on its variables
 *    (our wasm kernel reads both shards' gradients) and writes their new weights, with the sum
 *    of squares of the averaged gradient over them; then reads the other's weights. Both
 *    threads then have the whole gradient's norm, add the two sums in the same order, and stop
 *    together on a non-finite one. Clipping needs the norm before the update: it adds a
 *    meeting between reading the gradients and Adam.
 * Both copies of the model therefore hold the same bits after every step. The worker replays
 * the batch order from the seed, so no batch crosses threads. The work between the threads'
 * products is a few copies and kernel passes over half the weights each.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { sumOfSquares } from "../base/mod.ts";
import { Exchange, type ExchangeBuffers, exchangeBuffers, type Slot } from "./exchange.ts";
import type { Dataset } from "../data/mod.ts";
import type { Model } from "../model/mod.ts";
import type { StepConfig, TrainConfig } from "./config.ts";
import { Adam, clipScale, type GradientMix } from "./optimizer.ts";
import { NonFiniteGradient, shardGradients, type StepPosition } from "./step.ts";

/** The memory both threads share: the exchange's, and the step's own. */
export interface SharedBuffers extends ExchangeBuffers {
  /**
   * Float64 [2, 5]: each shard's rows, mean loss, reconstruction and KL, and the sum of squares
   * of the averaged gradient over its thread's variables.
   */
  stats: SharedArrayBuffer;
  /** Int32 [7]: the last step each shard finished in phases 1, 2 and 3, and an error flag. */
  sync: SharedArrayBuffer;
}

// Indices into `sync`: GRADS + shard (phase 1), NORM + shard (2), WEIGHTS + shard (3), the flag.
const GRADS = 0;
const NORM = 2;
const WEIGHTS = 4;
const FAILED = 6;
const STATS = 5;
/** A wait wakes up this often (ms) to notice a failure or a termination. */
export const WAIT_SLICE_MS = 200;

/** Shared buffers sized for a model with these weights, holding them. */
export function sharedBuffers(
  weights: readonly Float32Array[],
  mode?: ExchangeBuffers["mode"],
): SharedBuffers {
  return {
    ...exchangeBuffers(weights, mode),
    stats: new SharedArrayBuffer(2 * STATS * 8),
    sync: new SharedArrayBuffer(7 * 4),
  };
}

/**
 * Which thread updates each variable, given their sizes: the largest first, each to the thread
 * with fewer weights so far (thread 0 on a tie), so each updates about half the weights.
 */
export function ownerOf(sizes: readonly number[]): (0 | 1)[] {
  const owners: (0 | 1)[] = sizes.map(() => 0);
  const load = [0, 0];
  const order = sizes.map((_, i) => i).sort((i, j) => sizes[j] - sizes[i] || i - j);
  for (const i of order) {
    const owner = load[1] < load[0] ? 1 : 0;
    owners[i] = owner;
    load[owner] += sizes[i];
  }
  return owners;
}

/** sum (a g0 + b g1)^2 over the variables' gradients, in float64. */
function mixedSquares(
  variables: readonly tf.Variable[],
  grads: tf.NamedTensorMap,
  { grads: other, a, b }: GradientMix,
): number {
  let sum = 0;
  for (const v of variables) sum += sumOfSquares(grads[v.name], { x1: other[v.name], a, b });
  return sum;
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

/** One thread's side of the shared step: its shard, its variables and their Adam. */
export class SharedStep {
  readonly shard: 0 | 1;
  #model: Model;
  #config: StepConfig;
  #exchange: Exchange;
  #stats: Float64Array;
  #sync: Int32Array;
  #wait: Wait;
  #optimizer: Adam;
  /** The variables this thread updates, and those the other thread does. */
  #mine: Slot[] = [];
  #theirs: Slot[] = [];
  #step = 0;

  /** Views of `buffers` for `shard`, and Adam at the config's `learningRate`. */
  constructor({ buffers, shard, model, config, wait }: SharedStepOptions) {
    this.shard = shard;
    this.#model = model;
    this.#config = config;
    this.#exchange = new Exchange(buffers, shard, model.variables.length);
    this.#stats = new Float64Array(buffers.stats);
    this.#sync = new Int32Array(buffers.sync);
    this.#wait = wait;
    this.#optimizer = new Adam({ learningRate: config.learningRate });
    const owners = ownerOf(model.variables.map((v) => v.size));
    let offset = 0;
    model.variables.forEach((variable, index) => {
      (owners[index] === shard ? this.#mine : this.#theirs).push({ variable, offset, index });
      offset += variable.size;
    });
  }

  /** Train on this thread's half of `batch`; returns the whole batch's mean [loss, rec, kl]. */
  async step(batch: Dataset, position: StepPosition): Promise<number[]> {
    const t = ++this.#step;
    const other = (1 - this.shard) as 0 | 1;
    const own = this.#computeShard(batch, position);
    let theirs: tf.NamedTensorMap = {};
    try {
      this.#signal(GRADS + this.shard, t);
      await this.#wait(this.#sync, GRADS + other, t);
      // Read the other's rows and terms now: once this thread signals the weights, the other
      // may go on to the next step and overwrite them.
      const rows = [this.#stats[0], this.#stats[STATS]];
      const [a, b] = rows.map((n) => n / (rows[0] + rows[1]));
      const means = [1, 2, 3].map((k) => a * this.#stats[k] + b * this.#stats[STATS + k]);
      theirs = this.#exchange.takeGradients(this.#mine);
      // Shard 0's gradient first, so both threads compute a g0 + b g1 alike.
      const [g0, g1] = this.shard === 0 ? [own, theirs] : [theirs, own];
      const variables = this.#mine.map((s) => s.variable);
      let scale = 1;
      if (this.#config.clipNorm !== undefined) {
        // Clipping needs the whole gradient's norm before any update: one more meeting.
        this.#stats[STATS * this.shard + 4] = mixedSquares(variables, g0, { grads: g1, a, b });
        this.#signal(NORM + this.shard, t);
        await this.#wait(this.#sync, NORM + other, t);
        scale = clipScale(this.#norm(), this.#config.clipNorm);
      }
      if (Number.isFinite(scale)) {
        const squares = this.#optimizer.apply(variables, g0, scale, { grads: g1, a, b });
        // Without clipping, Adam's pass summed the squares (wasm); elsewhere one more pass.
        if (this.#config.clipNorm === undefined) {
          this.#stats[STATS * this.shard + 4] = squares ??
            mixedSquares(variables, g0, { grads: g1, a, b });
        }
        this.#exchange.offerWeights(this.#mine);
      }
      this.#signal(WEIGHTS + this.shard, t);
      await this.#wait(this.#sync, WEIGHTS + other, t);
      // Without clipping the norm is checked once both sums are in: a non-finite one stops
      // training (both threads read the same sums and stop together).
      const norm = this.#norm();
      if (!Number.isFinite(norm)) throw new NonFiniteGradient(norm);
      // The other thread writes weights again only after this one signals the gradients of the
      // next step.
      this.#exchange.takeWeights(this.#theirs);
      return means;
    } finally {
      tf.dispose([own, theirs]);
    }
  }

  /** The whole averaged gradient's norm, from both threads' sums, added in one order. */
  #norm(): number {
    return Math.sqrt(this.#stats[4] + this.#stats[STATS + 4]);
  }

  /** How many weights the shared buffers hold. */
  get parameters(): number {
    return this.#exchange.parameters;
  }

  /** Assign every variable of this thread's model its initial weights from the shared buffer. */
  load(): void {
    this.#exchange.loadInitial([...this.#mine, ...this.#theirs]);
  }

  /** Raise the error flag, so the other thread stops waiting. */
  fail(): void {
    this.#signal(FAILED, 1);
    for (let index = GRADS; index < FAILED; index++) Atomics.notify(this.#sync, index);
  }

  /**
   * Gradients of this shard's rows (kept until the step ends), the other's variables' written
   * to this shard's slot; its rows and means into its stats.
   */
  #computeShard(batch: Dataset, position: StepPosition): tf.NamedTensorMap {
    const half = Math.ceil(batch.size / 2);
    const [from, to] = this.shard === 0 ? [0, half] : [half, batch.size];
    const stats = this.#stats.subarray(STATS * this.shard, STATS * this.shard + 4);
    let grads: tf.NamedTensorMap;
    if (from === to) {
      // A batch of one leaves shard 1 nothing: it weighs 0, and its gradients must hold no NaN.
      grads = Object.fromEntries(this.#model.variables.map((v) => [v.name, tf.zerosLike(v)]));
      stats.fill(0);
    } else {
      const shard = shardGradients(this.#model, {
        batch: batch.images,
        config: this.#config,
        position,
        rows: [from, to],
      });
      grads = shard.grads;
      stats.set([to - from, ...shard.means.dataSync()]);
      shard.means.dispose();
    }
    this.#exchange.offerGradients(this.#theirs, grads);
    return grads;
  }

  #signal(index: number, value: number): void {
    Atomics.store(this.#sync, index, value);
    Atomics.notify(this.#sync, index);
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
