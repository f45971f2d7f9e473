/**
 * One training loop (Adam) for the autoencoder, the VAE and the beta-VAE.
 *
 * Training returns data (a typed history); progress goes through a callback. Every random draw
 * (initial weights, batch order, reparameterisation noise, input noise) comes from `config.seed`.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { batches, type Dataset } from "./data.ts";
import { Adam } from "./optimizer.ts";
import { elboTerms, type Likelihood } from "./losses.ts";
import { buildModel, type Model, type ModelConfig, VAE_DEFAULTS } from "./models.ts";
import { TwoThreadTrainer } from "./parallel.ts";
import { SEED_PURPOSE, shardGradients, stepSeed } from "./step.ts";

/** A model config plus how to train it. */
export interface TrainConfig extends ModelConfig {
  /** Pixel likelihood: `bernoulli` (cross-entropy on grey levels), `gaussian`, `laplace`. */
  likelihood: Likelihood;
  /** Pixel scale of the gaussian and laplace likelihoods. */
  scale: number;
  /** Weight of the KL term: 1 is the VAE, other values the beta-VAE; ignored by an AE. */
  beta: number;
  /** Passes over the training split. */
  epochs: number;
  /** Examples per Adam step. */
  batchSize: number;
  /** Adam's step size. */
  learningRate: number;
  /** Std of the Gaussian noise added to the encoder's input (a denoising AE); 0 for none. */
  noise: number;
}

/** PyTorch's VAE recipe: MLP 784-400-20, Bernoulli likelihood, batch 128, Adam 1e-3, 10 epochs. */
export const TRAIN_DEFAULTS: Readonly<TrainConfig> = {
  ...VAE_DEFAULTS,
  likelihood: "bernoulli",
  scale: 0.1,
  beta: 1,
  epochs: 10,
  batchSize: 128,
  learningRate: 1e-3,
  noise: 0,
};

/** Mean per-example terms on one split after one epoch, in nats per image. */
export interface EpochRecord {
  epoch: number;
  /** Adam steps taken so far. */
  step: number;
  split: "train" | "test";
  /** reconstruction + beta * kl (the negative ELBO when beta = 1). */
  loss: number;
  reconstruction: number;
  kl: number;
}

/** A progress report: sent every few steps and at the end of every epoch. */
export interface TrainProgress {
  epoch: number;
  epochs: number;
  /** Step within the epoch, and steps per epoch. */
  step: number;
  steps: number;
  /** Mean training loss over the steps of this epoch so far. */
  loss: number;
  /** Seconds since training started. */
  seconds: number;
  /** Every epoch record so far. */
  history: readonly EpochRecord[];
}

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

/** Throw a RangeError naming the first field of `config` that cannot be trained. */
export function validateTrainConfig(config: TrainConfig): void {
  for (const field of ["epochs", "batchSize"] as const) {
    if (!Number.isInteger(config[field]) || config[field] < 1) {
      throw new RangeError(`${field} must be a positive integer; got ${config[field]}`);
    }
  }
  for (const field of ["learningRate", "scale"] as const) {
    if (!(config[field] > 0) || !Number.isFinite(config[field])) {
      throw new RangeError(`${field} must be a positive number; got ${config[field]}`);
    }
  }
  for (const field of ["beta", "noise"] as const) {
    if (!(config[field] >= 0) || !Number.isFinite(config[field])) {
      throw new RangeError(`${field} must be a non-negative number; got ${config[field]}`);
    }
  }
}

/** Train a model on `data.train`, evaluating on `data.test` after every epoch. */
export async function train(
  data: { train: Dataset; test?: Dataset },
  config: TrainConfig,
  options: TrainOptions = {},
): Promise<TrainResult> {
  validateTrainConfig(config);
  const requested = options.workers ?? "auto";
  if (requested !== 1 && requested !== 2 && requested !== "auto") {
    throw new RangeError(`workers must be 1, 2 or "auto"; got ${requested}`);
  }
  const steps = Math.ceil(data.train.size / config.batchSize);
  const workers = requested === "auto" ? chooseWorkers(steps * config.epochs) : requested;
  if (workers === 2 && !["wasm", "cpu"].includes(tf.getBackend())) {
    throw new RangeError(`workers: 2 needs the wasm or cpu backend; this is ${tf.getBackend()}`);
  }
  const model = options.model ?? buildModel(config);
  // With two threads, each thread's SharedStep runs Adam on its half of the weights instead.
  const optimizer = workers === 1 ? new Adam({ learningRate: config.learningRate }) : undefined;
  const progressEvery = options.progressEvery ?? 10;
  const history: EpochRecord[] = [];
  let totalSteps = 0;
  const started = performance.now();
  let peer: TwoThreadTrainer | undefined;
  try {
    if (workers === 2) peer = await TwoThreadTrainer.start(config, model, data.train);
    let seconds = (performance.now() - started) / 1000;
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      // Per-step [loss, reconstruction, kl] stay on the device until the next report.
      const pending: tf.Tensor1D[] = [];
      const sums = [0, 0, 0];
      let seen = 0;
      let step = 0;
      const flush = async (report: boolean) => {
        const values = await readPending(pending, epoch, step - pending.length);
        for (const [loss, reconstruction, kl] of values) {
          sums[0] += loss;
          sums[1] += reconstruction;
          sums[2] += kl;
        }
        seen += values.length;
        if (!report) return;
        await options.onProgress?.({
          epoch,
          epochs: config.epochs,
          step,
          steps,
          loss: sums[0] / seen,
          seconds: (performance.now() - started) / 1000,
          history,
        });
      };
      const epochStart = performance.now();
      const order = batches(data.train, config.batchSize, { seed: config.seed, epoch });
      for (const batch of order) {
        step += 1;
        totalSteps += 1;
        if (peer) {
          pending.push(tf.tensor1d(await peer.step(model, batch, config, { epoch, step })));
        } else {
          const { grads, means } = shardGradients(model, batch.images, config, { epoch, step });
          optimizer!.apply(model.variables, grads);
          tf.dispose(grads);
          pending.push(means);
        }
        if (step % progressEvery === 0 && step < steps) await flush(true);
      }
      await flush(false);
      seconds += (performance.now() - epochStart) / 1000;
      const record = (split: "train" | "test", values: number[]): EpochRecord => ({
        epoch,
        step: totalSteps,
        split,
        loss: values[0],
        reconstruction: values[1],
        kl: values[2],
      });
      const trainRecord = record("train", sums.map((s) => s / seen));
      history.push(trainRecord);
      if (data.test) {
        const test = evaluate(model, data.test, config);
        history.push(record("test", [test.loss, test.reconstruction, test.kl]));
      }
      await options.onEpoch?.(history[history.length - 1], model);
      await options.onProgress?.({
        epoch,
        epochs: config.epochs,
        step: steps,
        steps,
        loss: trainRecord.loss,
        seconds: (performance.now() - started) / 1000,
        history,
      });
    }
    const images = data.train.size * config.epochs;
    const imagesPerSecond = images / seconds;
    return { model, config: { ...config }, history, seconds, imagesPerSecond, workers };
  } finally {
    optimizer?.dispose();
    peer?.close();
  }
}

/** Read the pending per-step terms, dispose them, and stop on the first non-finite loss. */
async function readPending(
  pending: tf.Tensor1D[],
  epoch: number,
  firstStep: number,
): Promise<number[][]> {
  if (pending.length === 0) return [];
  const stacked = tf.stack(pending);
  const flat = await stacked.data();
  stacked.dispose();
  const values: number[][] = [];
  for (let i = 0; i < pending.length; i++) {
    const row = Array.from(flat.subarray(3 * i, 3 * i + 3));
    if (!row.every(Number.isFinite)) {
      for (const t of pending) t.dispose();
      pending.length = 0;
      throw new Error(
        `training diverged: non-finite loss ${row[0]} at epoch ${epoch}, step ${firstStep + i + 1}`,
      );
    }
    values.push(row);
  }
  for (const t of pending) t.dispose();
  pending.length = 0;
  return values;
}

/** Mean loss, reconstruction and KL per image over a split; the sampling noise comes from `config.seed`. */
export function evaluate(
  model: Model,
  data: Dataset,
  config: Pick<TrainConfig, "likelihood" | "scale" | "beta" | "seed">,
  batchSize = 500,
): { loss: number; reconstruction: number; kl: number } {
  const sums = tf.tidy(() => {
    let total = tf.zeros([3]);
    let index = 0;
    for (const batch of batches(data, batchSize, { shuffle: false })) {
      const x = tf.tensor2d(batch.images, [batch.size, batch.images.length / batch.size]);
      const terms = elboTerms(model, x, {
        ...config,
        seed: stepSeed(config.seed, 0, index++, SEED_PURPOSE.evaluation),
      });
      total = tf.add(
        total,
        tf.stack([tf.sum(terms.loss), tf.sum(terms.reconstruction), tf.sum(terms.kl)]),
      );
    }
    return total;
  });
  const [loss, reconstruction, kl] = Array.from(sums.dataSync()).map((s) => s / data.size);
  sums.dispose();
  return { loss, reconstruction, kl };
}
