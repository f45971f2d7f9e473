/**
 * What a training run is: a model config plus how to train it, with the reference defaults.
 * The config (and its hash) travels with every result.
 * @module
 */
import { nonNegativeNumber, oneOf, positiveInteger, positiveNumber } from "../base/mod.ts";
import {
  type Likelihood,
  LIKELIHOODS,
  type ModelConfig,
  VAE_DEFAULTS,
  validateModelConfig,
} from "../model/mod.ts";

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
  /**
   * Capacity annealing (Burgess et al., 2018): train on reconstruction + gamma * |KL - C| per
   * image instead of the beta-ELBO, with C ramped linearly from 0 to `target` nats over the run.
   * Absent (the default) for the (beta-)ELBO.
   */
  capacity?: { gamma: number; target: number };
  /**
   * Gradient-norm clipping: each step's gradient (of all the weights together) is scaled down to
   * this Euclidean norm when it is longer. Absent (the default) for none.
   */
  clipNorm?: number;
}

/**
 * PyTorch's VAE recipe: MLP 784-400-20, Bernoulli likelihood, batch 128, Adam 1e-3, 10 epochs.
 * Override by spread: `{ ...TRAIN_DEFAULTS, beta: 4 }`.
 */
export const TRAIN_DEFAULTS: Readonly<TrainConfig> = {
  ...VAE_DEFAULTS,
  likelihood: "bernoulli",
  // 0.1: a pixel's grey level known to about a tenth of its range (gaussian and laplace only).
  scale: 0.1,
  beta: 1,
  epochs: 10,
  batchSize: 128,
  learningRate: 1e-3,
  noise: 0,
};

/** What a training step needs to know of the config. */
export type StepConfig = Pick<
  TrainConfig,
  "likelihood" | "scale" | "beta" | "noise" | "seed" | "capacity" | "epochs" | "clipNorm"
>;

/** Throw a RangeError naming the first field of `config` that cannot be trained. */
export function validateTrainConfig(config: TrainConfig): void {
  validateModelConfig(config);
  oneOf("likelihood", config.likelihood, LIKELIHOODS);
  positiveInteger("epochs", config.epochs);
  positiveInteger("batchSize", config.batchSize);
  positiveNumber("learningRate", config.learningRate);
  positiveNumber("scale", config.scale);
  nonNegativeNumber("beta", config.beta);
  nonNegativeNumber("noise", config.noise);
  if (config.clipNorm !== undefined) positiveNumber("clipNorm", config.clipNorm);
  if (config.capacity !== undefined) {
    positiveNumber("capacity.gamma", config.capacity.gamma);
    nonNegativeNumber("capacity.target", config.capacity.target);
  }
}
