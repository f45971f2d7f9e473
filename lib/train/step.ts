/**
 * The training seam: a `Step` is one optimisation step on a batch. The loop (`loop.ts`) knows
 * nothing else of how a model learns, so a training variant is a new `Step`, not a branch in the
 * loop: single-thread Adam on the ELBO is {@linkcode AdamStep}, two-thread data-parallel training
 * is `TwoThreadStep` (`parallel.ts`).
 *
 * Every noise draw of a step is made for the whole batch from (seed, epoch, step) and cut to the
 * rows a shard computes, so splitting a batch across threads changes only rounding.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  CONV_VAE_GRADIENTS_KERNEL,
  CONV_VAE_VARIABLES,
  hasKernel,
  mixSeeds,
  MLP_VAE_GRADIENTS_KERNEL,
  type VaeLossAttrs,
} from "../base/mod.ts";
import { batches, type Dataset, IMAGE_SIZE } from "../data/mod.ts";
import {
  type BatchRows,
  elboTerms,
  type Model,
  scoreFunctionTerms,
  shardNormal,
  withLabels,
} from "../model/mod.ts";
import type { StepConfig, TrainConfig } from "./config.ts";
import { Adam, clipScale, tensorsNorm } from "./optimizer.ts";
import { ELBO_TERMS, type ElboTerm } from "./records.ts";

/** Where a step sits in training: epoch and step within it, both from 1. */
export interface StepPosition {
  epoch: number;
  step: number;
  /** Steps per epoch (what capacity annealing ramps over); default unknown. */
  steps?: number;
}

/**
 * The capacity C of capacity annealing at a step: `target` * the fraction of training done,
 * (epoch - 1 + step / steps) / epochs.
 */
export function capacityAt(
  config: Pick<StepConfig, "capacity" | "epochs">,
  { epoch, step, steps }: StepPosition,
): number {
  if (!config.capacity) return 0;
  if (steps === undefined) throw new RangeError("capacity annealing needs the steps per epoch");
  return config.capacity.target * Math.min(1, (epoch - 1 + step / steps) / config.epochs);
}

/**
 * One optimisation step on a batch. `run` updates the model's weights and returns the batch's
 * mean terms, named by `terms` in order (the first is always `loss`), as a tensor the caller
 * reads (and disposes) when it likes, so the loop need not wait for the device after every step.
 */
export interface Step<T extends string = ElboTerm> {
  /** The names of the values `run` returns, in order; the first is the loss. */
  readonly terms: readonly T[];
  /** Train on `batch` at `position`; resolves to its mean terms, [terms.length]. */
  run(batch: Dataset, position: StepPosition): Promise<tf.Tensor1D>;
  /** Release what the step holds (optimizer state, workers). Called once, however training ends. */
  close(): void;
}

/** A step's gradient was not finite; the loop reports it with where and the last finite values. */
export class NonFiniteGradient extends Error {
  /** The gradient's norm: NaN or Infinity. */
  readonly norm: number;
  constructor(norm: number) {
    super(`non-finite gradient (norm ${norm})`);
    this.name = "NonFiniteGradient";
    this.norm = norm;
  }
}

/** Purposes of the seeds derived for each step, so no two draws share a stream. */
export const SEED_PURPOSE = { inputNoise: 1, sampling: 2, evaluation: 3, targets: 4 } as const;

/** Options of {@linkcode stepSeed}. */
export interface StepSeedOptions extends StepPosition {
  /** One of {@linkcode SEED_PURPOSE}'s values. */
  purpose: number;
}

/**
 * A seed for (epoch, step, purpose) derived from the config's seed.
 * @example
 * ```ts
 * stepSeed(0, { epoch: 1, step: 1, purpose: SEED_PURPOSE.sampling });
 * ```
 */
export function stepSeed(seed: number, { epoch, step, purpose }: StepSeedOptions): number {
  return mixSeeds(seed, epoch, step, purpose);
}

/** One epoch's batches in the order every thread replays: seeded by (config.seed, epoch). */
export function epochBatches(
  train: Dataset,
  { seed, batchSize, epoch }: Pick<TrainConfig, "seed" | "batchSize"> & { epoch: number },
): Generator<Dataset> {
  return batches(train, batchSize, { seed, epoch });
}

/**
 * A denoising autoencoder's input: x plus Gaussian noise of std `noise`, clipped to [0, 1]. The
 * noise is drawn for the whole batch from `seed` and cut to the rows of `shard`, as in
 * `shardNormal`.
 */
export function denoisingInput(
  x: tf.Tensor2D,
  { noise, seed, shard }: { noise: number; seed: number; shard?: BatchRows },
): tf.Tensor2D {
  return tf.tidy(() => {
    const [rows, columns] = x.shape;
    const eps = shardNormal({ rows, columns, seed, shard, std: noise });
    return tf.clipByValue(tf.add(x, eps), 0, 1) as tf.Tensor2D;
  });
}

/** Gradients (one tensor per variable name) and the mean [loss, reconstruction, kl]. */
export interface ShardGradients {
  grads: tf.NamedTensorMap;
  means: tf.Tensor1D;
}

/** Options of {@linkcode shardGradients}. */
export interface ShardGradientOptions {
  /** The batch, [n * 784] pixels. */
  batch: Float32Array;
  config: StepConfig;
  position: StepPosition;
  /** Rows [from, to) of the batch this shard computes; default all. */
  rows?: [number, number];
  /** The batch's labels, one per image: a conditional model needs them. */
  labels?: ArrayLike<number>;
}

/**
 * Gradients of the mean loss over some rows of a batch at a step of training: the whole batch in
 * a single-thread step, one half of it on each thread of a two-thread step. The caller disposes
 * the result.
 */
export function shardGradients(model: Model, options: ShardGradientOptions): ShardGradients {
  const { batch, config, position } = options;
  const total = batch.length / IMAGE_SIZE;
  const [from, to] = options.rows ?? [0, total];
  if (model.config.conditional) {
    if (options.labels?.length !== total) {
      throw new RangeError(`a conditional model's step needs the batch's ${total} labels`);
    }
    model = withLabels(model, Array.from(options.labels).slice(from, to));
  }
  const shard: BatchRows = { offset: from, total };
  const x = tf.tensor2d(batch.subarray(from * IMAGE_SIZE, to * IMAGE_SIZE), [
    to - from,
    IMAGE_SIZE,
  ]);
  const input = config.noise === 0 ? undefined : denoisingInput(x, {
    noise: config.noise,
    seed: stepSeed(config.seed, { ...position, purpose: SEED_PURPOSE.inputNoise }),
    shard,
  });
  const seed = stepSeed(config.seed, { ...position, purpose: SEED_PURPOSE.sampling });
  const kernel = fusedGradients(model, config);
  if (kernel) {
    const result = fusedShardGradients(kernel, model, config, { x, input, seed, shard, position });
    tf.dispose([x, input] as tf.TensorContainer);
    return result;
  }
  let means: tf.Tensor1D | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const options = { ...config, seed, input, rows: shard };
    const score = config.estimator === "score" ? scoreFunctionTerms(model, x, options) : undefined;
    const terms = score ?? elboTerms(model, x, options);
    // Capacity annealing trains on reconstruction + gamma * |KL - C| per image instead; the
    // score-function estimator on its surrogate, whose gradient (not value) is the ELBO's.
    const perImage = score ? score.surrogate : config.capacity
      ? tf.add(
        terms.reconstruction,
        tf.mul(tf.abs(tf.sub(terms.kl, capacityAt(config, position))), config.capacity.gamma),
      )
      : terms.loss;
    const objective = tf.mean(perImage) as tf.Scalar;
    const loss = score ? tf.mean(terms.loss) : objective;
    const stacked = tf.stack([loss, tf.mean(terms.reconstruction), tf.mean(terms.kl)]);
    means = tf.keep(stacked) as tf.Tensor1D;
    return objective;
  }, model.variables);
  tf.dispose([x, input, value] as tf.TensorContainer);
  return { grads, means: means! };
}

/**
 * The kernel that computes this model's gradients in one call on this backend, if any: the
 * MLP or the conv AE or VAE with Bernoulli, Gaussian or Laplace pixels and the N(0, I) prior, on
 * wasm
 * ({@linkcode MLP_VAE_GRADIENTS_KERNEL}, {@linkcode CONV_VAE_GRADIENTS_KERNEL}). Other models,
 * and other backends, take TensorFlow.js's autodiff.
 */
export function fusedGradients(model: Model, config: StepConfig): string | undefined {
  const { kind, arch, prior } = model.config;
  const covered = (kind === "vae" || kind === "ae") && (prior ?? "normal") === "normal" &&
    !model.config.conditional && config.estimator !== "score";
  const kernel = arch === "mlp" ? MLP_VAE_GRADIENTS_KERNEL : CONV_VAE_GRADIENTS_KERNEL;
  const variables = arch === "mlp" ? 8 : CONV_VAE_VARIABLES.length;
  return covered && model.variables.length === variables && hasKernel(kernel) ? kernel : undefined;
}

/** The fused kernels' code of each pixel likelihood. */
const PIXEL_LIKELIHOODS = { bernoulli: 0, gaussian: 1, laplace: 2 } as const;

/** {@linkcode shardGradients} through a fused kernel: the same noise, the same terms. */
function fusedShardGradients(
  kernel: string,
  model: Model,
  config: StepConfig,
  { x, input, seed, shard, position }: {
    x: tf.Tensor2D;
    input?: tf.Tensor2D;
    seed: number;
    shard: BatchRows;
    position: StepPosition;
  },
): ShardGradients {
  const inputs: tf.NamedTensorMap = { x };
  if (input) inputs.input = input;
  if (model.config.kind === "vae") {
    inputs.eps = shardNormal({ rows: x.shape[0], columns: model.config.latentSize, seed, shard });
  }
  const names = kernel === MLP_VAE_GRADIENTS_KERNEL
    ? ["w1", "b1", "w2", "b2", "w3", "b3", "w4", "b4"]
    : CONV_VAE_VARIABLES;
  model.variables.forEach((v, i) => inputs[names[i]] = v);
  const attrs: VaeLossAttrs = {
    likelihood: PIXEL_LIKELIHOODS[config.likelihood ?? "bernoulli"],
    scale: config.scale,
    beta: config.beta,
    capacity: config.capacity ? capacityAt(config, position) : 0,
    gamma: config.capacity?.gamma ?? 0,
  };
  const outs = tf.engine().runKernel(
    kernel,
    inputs,
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor[];
  inputs.eps?.dispose();
  const grads = Object.fromEntries(model.variables.map((v, i) => [v.name, outs[i]]));
  return { grads, means: outs[model.variables.length] as tf.Tensor1D };
}

/** The (beta-)ELBO on the whole batch with Adam, on this thread. */
export class AdamStep implements Step {
  readonly terms = ELBO_TERMS;
  #model: Model;
  #config: StepConfig;
  #optimizer: Adam;

  /** A step that trains `model` with Adam at the config's learning rate. */
  constructor(model: Model, config: StepConfig & Pick<TrainConfig, "learningRate">) {
    this.#model = model;
    this.#config = config;
    this.#optimizer = new Adam({ learningRate: config.learningRate });
  }

  /**
   * Compute the batch's gradients, clip them when the config asks and apply them; a gradient
   * whose norm is not finite stops training. Clipping needs the norm first; otherwise Adam's
   * kernel sums the squares in its own pass (wasm), and the check follows the update: a
   * diverged run is not kept anyway.
   */
  run(batch: Dataset, position: StepPosition): Promise<tf.Tensor1D> {
    const { grads, means } = shardGradients(this.#model, {
      batch: batch.images,
      labels: batch.labels,
      config: this.#config,
      position,
    });
    const { clipNorm } = this.#config;
    const variables = this.#model.variables;
    let scale = 1;
    let norm: number | undefined;
    if (clipNorm !== undefined) {
      norm = tensorsNorm(variables.map((v) => grads[v.name]));
      if (Number.isFinite(norm)) scale = clipScale(norm, clipNorm);
    }
    if (norm === undefined || Number.isFinite(norm)) {
      const squares = this.#optimizer.apply(variables, grads, scale);
      // Elsewhere than wasm the check would wait for the device every step: only when clipping.
      if (squares !== undefined && clipNorm === undefined) norm = Math.sqrt(squares);
    }
    tf.dispose(grads);
    if (norm !== undefined && !Number.isFinite(norm)) {
      means.dispose();
      return Promise.reject(new NonFiniteGradient(norm));
    }
    return Promise.resolve(means);
  }

  /** Release Adam's state. */
  close(): void {
    this.#optimizer.dispose();
  }
}
