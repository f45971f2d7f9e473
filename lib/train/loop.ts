/**
 * The training loop: it walks epochs and batches, runs a `Step` on each batch, evaluates after
 * every epoch and reports progress. How a model learns is the step's business (`step.ts`), so
 * the loop serves the VAE on one thread or two, and any other step, unchanged.
 *
 * Training returns data (a typed history); progress goes through a callback. Every random draw
 * (initial weights, batch order, reparameterisation noise, input noise) comes from `config.seed`.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { oneOf, productName } from "../base/mod.ts";
import { type Dataset, validateDataset } from "../data/mod.ts";
import { buildModel, type Model } from "../model/mod.ts";
import { type TrainConfig, validateTrainConfig } from "./config.ts";
import { singleThreadStep, testEvaluation } from "./kinds.ts";
import { listenForInterrupt, recordInterruption, TrainingInterrupted } from "./interrupt.ts";
import { TwoThreadStep } from "./parallel.ts";
import type { ElboTerm, EpochRecord, LatentUse, TrainProgress } from "./records.ts";
import { epochBatches, NonFiniteGradient, type Step } from "./step.ts";

/** Options of {@linkcode train}. */
export interface TrainOptions {
  /** Called with progress; awaited, so a notebook display can update. */
  onProgress?: (progress: TrainProgress) => void | Promise<void>;
  /** Called after each epoch's evaluation, e.g. to snapshot reconstructions. */
  onEpoch?: (record: EpochRecord, model: Model) => void | Promise<void>;
  /** Steps between progress reports (each costs a host sync); default 10. */
  progressEvery?: number;
  /** Continue training this model instead of building one from the config. */
  model?: Model;
  /**
   * Threads computing each batch: 1, 2 (this thread and a worker each take half of every batch;
   * wasm and cpu backends), or `auto` (default): {@linkcode chooseWorkers}. Two threads train
   * the same model as one up to float rounding, so a run's exact bits depend on this choice.
   */
  workers?: 1 | 2 | "auto";
}

/** What {@linkcode train} returns. */
export interface TrainResult {
  model: Model;
  config: TrainConfig;
  history: EpochRecord[];
  /** Wall time of the training steps and of starting a worker (evaluation excluded). */
  seconds: number;
  imagesPerSecond: number;
  /** Threads that computed each batch. */
  workers: 1 | 2;
  /** What computed the products: `productName()`, e.g. `openblas` or `wasm`. */
  product: string;
}

/** Fewer steps than this do not pay back the worker's start (about 0.25 s) on our machines. */
export const TWO_THREAD_MIN_STEPS = 100;

/**
 * The threads `auto` uses: 2 on wasm with two cores or more for runs of at least
 * {@linkcode TWO_THREAD_MIN_STEPS} steps, 1 otherwise. On our 2-core machine two threads train
 * the reference MLP VAE about 1.3x and the conv VAE about 1.5x faster (README).
 */
export function chooseWorkers(
  steps: number,
  backend: string = tf.getBackend(),
  cores: number = navigator.hardwareConcurrency,
): 1 | 2 {
  return backend === "wasm" && cores >= 2 && steps >= TWO_THREAD_MIN_STEPS ? 2 : 1;
}

/**
 * Train a model on `data.train`, evaluating on `data.test` after every epoch.
 * @param data the training split and, optionally, the test split to evaluate after every epoch
 * @param config the model and how to train it; checked before any work starts
 * @returns the trained model, its history, its speed and the threads it used
 * @example
 * ```ts
 * const data = await loadMnist({ source: "embedded" });
 * const { model, history } = await train(data, { ...TRAIN_DEFAULTS, epochs: 2 }, {
 *   onProgress: progressDisplay({ title: "VAE" }),
 * });
 * ```
 */
export async function train(
  data: { train: Dataset; test?: Dataset },
  config: TrainConfig,
  options: TrainOptions = {},
): Promise<TrainResult> {
  validateTrainConfig(config);
  const unitRange = config.likelihood === "bernoulli";
  validateDataset("train", data.train, { unitRange });
  if (data.test) validateDataset("test", data.test, { unitRange });
  const requested = oneOf("workers", options.workers ?? "auto", [1, 2, "auto"]);
  const steps = Math.ceil(data.train.size / config.batchSize);
  // Only the ELBO's step (AE and VAE, not conditional) splits batches across two threads.
  const twoThreadKind = (config.kind === "ae" || config.kind === "vae") && !config.conditional;
  if (requested === 2 && !twoThreadKind) {
    const got = config.conditional ? "conditional: true" : `"${config.kind}"`;
    throw new RangeError(`workers: 2 trains only kind "ae" or "vae", not conditional; got ${got}`);
  }
  const workers = requested === "auto"
    ? (twoThreadKind ? chooseWorkers(steps * config.epochs) : 1)
    : requested;
  if (workers === 2 && !["wasm", "cpu"].includes(tf.getBackend())) {
    throw new RangeError(`workers: 2 needs the wasm or cpu backend; this is ${tf.getBackend()}`);
  }
  const model = options.model ?? buildModel(config);
  const started = performance.now();
  const step = workers === 2
    ? await TwoThreadStep.start(model, { config, train: data.train })
    : singleThreadStep(model, config);
  try {
    // Typed as the ELBO's records; a step of another kind records its own terms (records.ts).
    const { history, seconds } = await runEpochs(step as Step, data, {
      config,
      started,
      progressEvery: options.progressEvery ?? 10,
      onProgress: options.onProgress,
      evaluate: testEvaluation(model, config) as EpochOptions<ElboTerm>["evaluate"],
      onEpoch: (record) => options.onEpoch?.(record, model),
    });
    const imagesPerSecond = (data.train.size * config.epochs) / seconds;
    const product = productName();
    return { model, config: { ...config }, history, seconds, imagesPerSecond, workers, product };
  } catch (error) {
    if (error instanceof TrainingInterrupted) {
      Object.assign(error.state, { model, config: { ...config } });
      recordInterruption(error.state);
    }
    throw error;
  } finally {
    step.close();
  }
}

/** Options of {@linkcode runEpochs}. */
export interface EpochOptions<T extends string> {
  config: Pick<TrainConfig, "epochs" | "batchSize" | "seed">;
  /** `performance.now()` when training started (a worker's start counts as training). */
  started: number;
  /** Steps between progress reports; each reads the step's terms from the device. */
  progressEvery: number;
  onProgress?: (progress: TrainProgress) => void | Promise<void>;
  /** The mean terms on the test split, after each epoch (and how much of the code is used). */
  evaluate?: (test: Dataset) => Record<T, number> & LatentUse;
  /** Called after each epoch's records, with the last one. */
  onEpoch?: (record: EpochRecord<T>) => void | Promise<void>;
}

/**
 * The loop itself: every epoch's batches through `step`, a train record per epoch (the mean of
 * its steps' terms) and a test record when there is a test split. Knows nothing of models.
 */
export async function runEpochs<T extends string>(
  step: Step<T>,
  data: { train: Dataset; test?: Dataset },
  options: EpochOptions<T>,
): Promise<{ history: EpochRecord<T>[]; seconds: number }> {
  const { config, started } = options;
  const terms = step.terms;
  if (terms[0] !== "loss") {
    throw new RangeError(`a step's first term must be "loss"; got ${JSON.stringify(terms[0])}`);
  }
  const steps = Math.ceil(data.train.size / config.batchSize);
  const history: EpochRecord<T>[] = [];
  let totalSteps = 0;
  // The last step whose terms were all finite: what a divergence report shows.
  let last: LastFinite | undefined;
  // Training time so far: the worker's start, then each epoch's steps (evaluation excluded).
  let seconds = (performance.now() - started) / 1000;
  const progress = (epoch: number, at: number, loss: number) =>
    options.onProgress?.({
      epoch,
      epochs: config.epochs,
      step: at,
      steps,
      loss,
      seconds: (performance.now() - started) / 1000,
      history,
    });
  const interrupt = listenForInterrupt();
  let yielded = performance.now();
  const eventLoopTurn = async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
    yielded = performance.now();
  };
  try {
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      await runEpoch(epoch);
    }
  } finally {
    interrupt.close();
  }
  return { history, seconds };

  async function runEpoch(epoch: number): Promise<void> {
    // Per-step terms stay on the device until the next report.
    const pending: tf.Tensor1D[] = [];
    const sums = terms.map(() => 0);
    let seen = 0;
    let at = 0;
    const flush = async () => {
      const firstStep = at - pending.length + 1;
      const values = await readPending(pending, { epoch, firstStep, terms, last });
      for (const row of values) row.forEach((v, k) => sums[k] += v);
      seen += values.length;
      if (values.length) last = { epoch, step: firstStep + values.length - 1, row: values.at(-1)! };
    };
    // Every epoch starts with a turn of the event loop, however short the epochs.
    await eventLoopTurn();
    const epochStart = performance.now();
    for (const batch of epochBatches(data.train, { ...config, epoch })) {
      at += 1;
      totalSteps += 1;
      let values: tf.Tensor1D;
      try {
        values = await step.run(batch, { epoch, step: at, steps });
      } catch (error) {
        if (!(error instanceof NonFiniteGradient)) throw error;
        at -= 1; // the steps before this one are read (and checked) first
        await flush();
        throw new Error(diverged(error.message, { epoch, step: at + 1 }, last, terms), {
          cause: error,
        });
      }
      pending.push(values);
      // A step's awaits resolve at once on wasm, so give the event loop a turn now and then:
      // that is when a SIGINT (and a worker's message) is heard.
      if (performance.now() - yielded > YIELD_MS) await eventLoopTurn();
      if (interrupt.requested) {
        await flush();
        throw new TrainingInterrupted({ epoch, step: at, history: [...history] }, config.epochs);
      }
      if (at % options.progressEvery === 0 && at < steps) {
        await flush();
        await progress(epoch, at, sums[0] / seen);
      }
    }
    await flush();
    seconds += (performance.now() - epochStart) / 1000;
    const record = (split: "train" | "test", values: Record<T, number> & LatentUse) =>
      ({ epoch, step: totalSteps, split, ...values }) as EpochRecord<T>;
    const trainValues = Object.fromEntries(terms.map((t, k) => [t, sums[k] / seen]));
    history.push(record("train", trainValues as Record<T, number>));
    if (data.test && options.evaluate) history.push(record("test", options.evaluate(data.test)));
    await options.onEpoch?.(history[history.length - 1]);
    await progress(epoch, steps, sums[0] / seen);
  }
}

/**
 * Longest stretch of training (ms) without a turn of the event loop. A turn that hears a SIGINT
 * takes a timer, which costs 1 to 4 ms here (nested timers are clamped): every 250 ms, 1% or so.
 */
const YIELD_MS = 250;

/** The terms of the last step whose terms were all finite. */
interface LastFinite {
  epoch: number;
  step: number;
  row: number[];
}

/** "training diverged: <what> at epoch 2, step 5; the last finite terms (epoch 2, step 4): ...". */
function diverged(
  what: string,
  { epoch, step }: { epoch: number; step: number },
  last: LastFinite | undefined,
  terms: readonly string[] = ["loss", "reconstruction", "kl"],
): string {
  const where = `training diverged: ${what} at epoch ${epoch}, step ${step}`;
  if (!last) return `${where}; no earlier step had finite terms`;
  const values = last.row.map((v, k) => `${terms[k]} ${v.toPrecision(6)}`).join(", ");
  return `${where}; the last finite terms (epoch ${last.epoch}, step ${last.step}): ${values}`;
}

/** Read the pending per-step terms, dispose them, and stop on the first non-finite value. */
async function readPending(
  pending: tf.Tensor1D[],
  { epoch, firstStep, terms, last }: {
    epoch: number;
    /** The step of `pending[0]`, from 1. */
    firstStep: number;
    terms: readonly string[];
    last: LastFinite | undefined;
  },
): Promise<number[][]> {
  if (pending.length === 0) return [];
  const n = terms.length;
  const stacked = tf.stack(pending);
  const flat = await stacked.data();
  stacked.dispose();
  for (const t of pending) t.dispose();
  const count = pending.length;
  pending.length = 0;
  const values: number[][] = [];
  for (let i = 0; i < count; i++) {
    const row = Array.from(flat.subarray(n * i, n * i + n));
    const bad = row.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      const previous = values.length
        ? { epoch, step: firstStep + i - 1, row: values.at(-1)! }
        : last;
      throw new Error(
        diverged(
          `non-finite ${terms[bad]} ${row[bad]}`,
          { epoch, step: firstStep + i },
          previous,
          terms,
        ),
      );
    }
    values.push(row);
  }
  return values;
}
