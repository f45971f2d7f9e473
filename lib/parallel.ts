/**
 * Data-parallel training on two threads. wasm runs no threads under Deno, so the second core is
 * reached through a worker with its own wasm instance and its own copy of the model.
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
import type { Dataset } from "./data.ts";
import { getWeights, type Model } from "./models.ts";
import { Adam, hostValues } from "./optimizer.ts";
import { shardGradients, type StepConfig } from "./step.ts";
import type { TrainConfig } from "./train.ts";

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
// A wait wakes up this often to notice a failure or a termination.
const WAIT_SLICE_MS = 200;

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
function failed(sync: Int32Array): boolean {
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

/** One thread's side of the shared step: its shard, its half of the weights and their moments. */
export class SharedStep {
  readonly shard: 0 | 1;
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
  constructor(buffers: SharedBuffers, shard: 0 | 1, learningRate: number, wait: Wait) {
    this.shard = shard;
    this.#weights = new Float32Array(buffers.weights);
    const parameters = this.#weights.length;
    this.#grads = [0, 1].map((s) =>
      new Float32Array(buffers.grads, s * parameters * 4, parameters)
    );
    this.#stats = new Float64Array(buffers.stats);
    this.#sync = new Int32Array(buffers.sync);
    this.#wait = wait;
    this.#optimizer = new Adam({ learningRate });
    const half = Math.floor(parameters / 2);
    [this.#from, this.#to] = shard === 0 ? [0, half] : [half, parameters];
    const size = this.#to - this.#from;
    this.#moments = { m: new Float32Array(size), v: new Float32Array(size) };
    this.#average = new Float32Array(size);
  }

  /** Train on this thread's half of `batch`; returns the whole batch's mean [loss, rec, kl]. */
  async step(
    model: Model,
    batch: Dataset,
    config: StepConfig,
    position: { epoch: number; step: number },
  ): Promise<number[]> {
    const t = ++this.#step;
    const other = 1 - this.shard;
    this.#computeShard(model, batch, config, position);
    this.#signal(GRADS + this.shard, t);
    await this.#wait(this.#sync, GRADS + other, t);
    // Read both shards' slots and stats now: once this thread signals phase 2, the other may
    // go on to the next step and overwrite its own.
    const sizes: [number, number] = [this.#stats[0], this.#stats[4]];
    const [a, b] = sizes.map((n) => n / (sizes[0] + sizes[1]));
    const means = [1, 2, 3].map((k) => a * this.#stats[k] + b * this.#stats[4 + k]);
    averageShards(this.#grads, sizes, this.#from, this.#average);
    const mine = this.#weights.subarray(this.#from, this.#to);
    this.#optimizer.update(mine, this.#average, mine, this.#moments, t);
    this.#signal(WEIGHTS + this.shard, t);
    await this.#wait(this.#sync, WEIGHTS + other, t);
    // The other thread writes weights again only after this one signals phase 1 of the next step.
    this.load(model);
    return means;
  }

  /** How many weights the shared buffers hold. */
  get parameters(): number {
    return this.#weights.length;
  }

  /** Assign every variable of `model` its slice of the shared weights. */
  load(model: Model): void {
    let offset = 0;
    for (const variable of model.variables) {
      // A copy: the cpu backend would keep a reference to memory the next step rewrites.
      const next = tf.tensor(this.#weights.slice(offset, offset + variable.size), variable.shape);
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
  #computeShard(
    model: Model,
    batch: Dataset,
    config: StepConfig,
    { epoch, step }: { epoch: number; step: number },
  ): void {
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
    const { grads, means } = shardGradients(model, batch.images, config, { epoch, step }, [
      from,
      to,
    ]);
    flattenGradients(model.variables, grads, slot);
    stats.set([to - from, ...means.dataSync()]);
    tf.dispose([grads, means] as tf.TensorContainer);
  }

  #signal(index: number, value: number): void {
    Atomics.store(this.#sync, index, value);
    Atomics.notify(this.#sync, index);
  }
}

/**
 * The gradient of the mean loss over a batch from its two shards' mean gradients, each weighted
 * by its share of the rows: out[i] = (n0 g0[from + i] + n1 g1[from + i]) / (n0 + n1).
 */
export function averageShards(
  [g0, g1]: readonly Float32Array[],
  [n0, n1]: readonly [number, number],
  from: number,
  out: Float32Array,
): void {
  const a = n0 / (n0 + n1);
  const b = n1 / (n0 + n1);
  for (let i = 0, j = from; i < out.length; i++, j++) out[i] = a * g0[j] + b * g1[j];
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

let running = 0;

/** How many training workers are running (none once every `train()` has returned or thrown). */
export function runningWorkers(): number {
  return running;
}

/** The main thread's side of two-thread training: shard 0, and the worker that runs shard 1. */
export class TwoThreadTrainer {
  #worker: Worker;
  #shared: SharedStep;
  #failure?: Error;
  #closed = false;
  #replies: { resolve: (message: FromWorker) => void; reject: (error: Error) => void }[] = [];

  private constructor(worker: Worker, buffers: SharedBuffers, learningRate: number) {
    this.#worker = worker;
    const wait = (sync: Int32Array, index: number, step: number) => this.#wait(sync, index, step);
    this.#shared = new SharedStep(buffers, 0, learningRate, wait);
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (message.type === "error") this.#fail(new Error(`training worker: ${message.message}`));
      else this.#replies.shift()?.resolve(message);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(new Error(`training worker: ${event.message}`));
    };
  }

  /** Start a worker holding a copy of `model` and of the training images; resolves when ready. */
  static async start(
    config: TrainConfig,
    model: Model,
    train: Dataset,
  ): Promise<TwoThreadTrainer> {
    const buffers = sharedBuffers(getWeights(model));
    const worker = new Worker(new URL("./train_worker.ts", import.meta.url), { type: "module" });
    running += 1;
    const trainer = new TwoThreadTrainer(worker, buffers, config.learningRate);
    const start: WorkerStart = { type: "start", config, backend: tf.getBackend(), buffers, train };
    try {
      await trainer.#request(start, "ready");
    } catch (error) {
      trainer.close();
      throw error;
    }
    return trainer;
  }

  /** Train on the first half of `batch` while the worker trains on the second half. */
  async step(
    model: Model,
    batch: Dataset,
    config: StepConfig,
    position: { epoch: number; step: number },
  ): Promise<number[]> {
    try {
      return await this.#shared.step(model, batch, config, position);
    } catch (error) {
      this.#shared.fail();
      throw error;
    }
  }

  /** The worker's copy of the weights (to check that both copies stay equal). */
  async workerWeights(): Promise<Float32Array[]> {
    const reply = await this.#request({ type: "weights" }, "weights");
    return (reply as { weights: Float32Array[] }).weights;
  }

  /** Stop the worker. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    running -= 1;
    this.#worker.terminate();
    this.#fail(new Error("training worker closed"));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#shared.fail();
    for (const reply of this.#replies.splice(0)) reply.reject(this.#failure);
  }

  #request(message: ToWorker, reply: FromWorker["type"]): Promise<FromWorker> {
    if (this.#failure) return Promise.reject(this.#failure);
    const answer = new Promise<FromWorker>((resolve, reject) => {
      this.#replies.push({ resolve, reject });
    });
    this.#worker.postMessage(message);
    return answer.then((got) => {
      if (got.type === reply) return got;
      throw new Error(`training worker: expected "${reply}", got "${got.type}"`);
    });
  }

  /** Await `sync[index]` reaching `step`, letting the event loop deliver the worker's errors. */
  async #wait(sync: Int32Array, index: number, step: number): Promise<void> {
    for (let seen = Atomics.load(sync, index); seen < step; seen = Atomics.load(sync, index)) {
      if (this.#failure || failed(sync)) throw await this.#reason();
      const result = Atomics.waitAsync(sync, index, seen, WAIT_SLICE_MS);
      if (result.async) await result.value;
    }
  }

  /** Why the worker failed: it posts its error before raising the flag, so wait for the post. */
  async #reason(): Promise<Error> {
    for (let tries = 0; tries < 20 && !this.#failure; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.#failure ?? new Error("training worker failed without a message");
  }
}
