/**
 * Data-parallel training on two threads, as a training `Step`. wasm runs no threads under Deno, so
 * the second core is reached through a worker (`worker.ts`) with its own wasm instance and its own
 * copy of the model; `shared_step.ts` says how the two threads meet at every step.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { trainWorkerUrl } from "../base/mod.ts";
import type { Dataset } from "../data/mod.ts";
import { getWeights, type Model } from "../model/mod.ts";
import type { TrainConfig } from "./config.ts";
import {
  failed,
  type FromWorker,
  sharedBuffers,
  SharedStep,
  type ToWorker,
  WAIT_SLICE_MS,
  type WorkerStart,
} from "./shared_step.ts";
import { ELBO_TERMS } from "./records.ts";
import type { Step, StepPosition } from "./step.ts";

let running = 0;

/** How many training workers are running (none once every `train()` has returned or thrown). */
export function runningWorkers(): number {
  return running;
}

/**
 * The main thread's side of two-thread training: shard 0, and the worker that runs shard 1.
 * Both apply the same averaged gradient, so both copies of the model hold the same bits.
 */
export class TwoThreadStep implements Step {
  readonly terms = ELBO_TERMS;
  #worker: Worker;
  #shared: SharedStep;
  #failure?: Error;
  #closed = false;
  #replies: { resolve: (message: FromWorker) => void; reject: (error: Error) => void }[] = [];

  private constructor(worker: Worker, start: WorkerStart, model: Model) {
    this.#worker = worker;
    const wait = (sync: Int32Array, index: number, step: number) => this.#wait(sync, index, step);
    const { buffers, config } = start;
    this.#shared = new SharedStep({ buffers, shard: 0, model, config, wait });
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
    model: Model,
    { config, train, exchange }: {
      config: TrainConfig;
      train: Dataset;
      /** How the threads hand each other values; default the fastest available (`exchange.ts`). */
      exchange?: "direct" | "copies";
    },
  ): Promise<TwoThreadStep> {
    const buffers = sharedBuffers(getWeights(model), exchange);
    const worker = new Worker(trainWorkerUrl(), { type: "module" });
    running += 1;
    const start: WorkerStart = { type: "start", config, backend: tf.getBackend(), buffers, train };
    const trainer = new TwoThreadStep(worker, start, model);
    try {
      await trainer.#request(start, "ready");
    } catch (error) {
      trainer.close();
      throw error;
    }
    return trainer;
  }

  /** Train on the first half of `batch` while the worker trains on the second half. */
  async run(batch: Dataset, position: StepPosition): Promise<tf.Tensor1D> {
    try {
      return tf.tensor1d(await this.#shared.step(batch, position));
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
