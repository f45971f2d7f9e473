/**
 * What a training run is: a model config plus how to train it, with the reference defaults.
 * The config (and its hash) travels with every result.
 * @module
 */
import { nonNegativeNumber, oneOf, positiveInteger, positiveNumber } from "../base/mod.ts";
import {
  type Architecture,
  GENERATOR_LOSSES,
  type GeneratorLoss,
  type Likelihood,
  LIKELIHOODS,
  type ModelConfig,
  type ModelKind,
  VAE_DEFAULTS,
  validateModelConfig,
} from "../model/mod.ts";

/** How a VAE's encoder gradient of the reconstruction term is estimated. */
export type Estimator = "pathwise" | "score";

/** The estimators, the default first. */
export const ESTIMATORS: readonly Estimator[] = ["pathwise", "score"];

/** A model config plus how to train it. */
export interface TrainConfig extends ModelConfig {
  /** Pixel likelihood: `bernoulli` (cross-entropy on grey levels), `gaussian`, `laplace`. */
  likelihood: Likelihood;
  /** Pixel scale of the gaussian and laplace likelihoods. */
  scale: number;
  /**
   * Weight of the KL term: 1 is the VAE, other values the beta-VAE (in a VAE-GAN, the encoder's);
   * ignored by an AE.
   */
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
   * How a VAE's encoder learns from the reconstruction term: `pathwise` (the default, the
   * reparameterisation trick: the gradient flows through z = mean + sigma eps) or `score` (the
   * score-function, or REINFORCE, estimator: log p(x | z) times the gradient of log q(z | x), z
   * held fixed, less a baseline: the reconstruction at the mean code). The KL term's gradient is
   * exact in both. For notebook 06's comparison.
   */
  estimator?: Estimator;
  /**
   * Gradient-norm clipping: each step's gradient (of all the weights together) is scaled down to
   * this Euclidean norm when it is longer. Absent (the default) for none.
   */
  clipNorm?: number;
  /** Adam's first-moment decay; absent means 0.9 (0.5 in the GAN defaults, as DCGAN advises). */
  beta1?: number;
  /** A GAN's generator loss; absent means `non-saturating`. */
  ganLoss?: GeneratorLoss;
  /**
   * Feature matching (Salimans et al., 2016): the generator's loss is the squared distance between
   * the mean discriminator features (its 128-unit hidden layer) of the real batch and of the
   * generated one, instead of `ganLoss`; the discriminator's own loss is unchanged. The
   * unconditional MLP GAN only; absent means false.
   */
  featureMatching?: boolean;
  /**
   * One-sided label smoothing of a GAN's discriminator: real inputs get the target 1 - this
   * (generated ones keep 0). Absent means 0.
   */
  labelSmoothing?: number;
  /**
   * Label smoothing as the course gives it (Salimans et al.): each real input's target drawn
   * uniformly in [low, high] (the course's [0.7, 0.9]), anew at every step; generated ones keep
   * 0. Takes the place of `labelSmoothing`. Absent means no such draw.
   */
  realTargets?: [number, number];
  /**
   * A GAN's discriminator steps per generator step (k of Goodfellow et al.'s algorithm 1), each on
   * the batch's real images and fresh draws z. Absent means 1.
   */
  criticSteps?: number;
  /**
   * Which noise a GAN's generator step uses: `shared` (absent) reuses the last discriminator
   * step's draws z, as Goodfellow et al.'s algorithm 1 may be read and as many implementations
   * do; `fresh` draws new z for it, as `004_*`'s algorithm writes.
   */
  generatorNoise?: "shared" | "fresh";
  /**
   * The classifier's learning rate is multiplied by this after every epoch (a step decay).
   * Absent means 1 (constant).
   */
  learningRateDecay?: number;
  /** A VQ-VAE's commitment weight beta (van den Oord et al.'s 0.25 when absent). */
  commitment?: number;
  /**
   * A VAE-GAN's gamma: the weight of the feature reconstruction against the adversarial loss in
   * the decoder's objective (1 when absent).
   */
  featureWeight?: number;
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

/**
 * The MLP GAN: generator z (64) -> 256 -> 512 -> 784, discriminator 784 -> 256 -> 128 -> 1, both
 * trained by Adam at 2e-4 with beta1 = 0.5 (DCGAN's settings), batch 64, the non-saturating loss.
 */
export const GAN_DEFAULTS: Readonly<TrainConfig> = {
  ...TRAIN_DEFAULTS,
  kind: "gan",
  arch: "mlp",
  latentSize: 64,
  batchSize: 64,
  learningRate: 2e-4,
  beta1: 0.5,
};

/** The DCGAN: {@linkcode GAN_DEFAULTS} with the convolutional generator and discriminator. */
export const DCGAN_DEFAULTS: Readonly<TrainConfig> = { ...GAN_DEFAULTS, arch: "conv" };

/**
 * The adversarial autoencoder: the lab's MLP autoencoder (784-400-latent) with a 2-D code and a
 * critic on codes; three Adams (reconstruction, critic, the encoder against the critic), each at
 * 1e-3 with beta1 = 0.5, as the GANs use.
 */
export const AAE_DEFAULTS: Readonly<TrainConfig> = {
  ...TRAIN_DEFAULTS,
  kind: "aae",
  latentSize: 2,
  beta1: 0.5,
};

/**
 * The digit classifier of the sample-quality score: LeNet-style, 128 features, Adam 1e-3 decayed
 * by 0.6 after every epoch, batch 64, 5 epochs (99.26% on full MNIST's test split; 98.9% at batch
 * 128 without the decay).
 */
export const CLASSIFIER_DEFAULTS: Readonly<TrainConfig> = {
  ...TRAIN_DEFAULTS,
  kind: "classifier",
  arch: "conv",
  latentSize: 128,
  batchSize: 64,
  learningRateDecay: 0.6,
  epochs: 5,
};

/**
 * The VQ-VAE: a conv encoder to a 7 x 7 grid of 16-D vectors, a codebook of 64 (49 x 6 = 294 bits
 * an image), commitment 0.25 (the paper's), Adam 1e-3, batch 128, 3 epochs as the conv VAE.
 */
export const VQVAE_DEFAULTS: Readonly<TrainConfig> = {
  ...TRAIN_DEFAULTS,
  kind: "vqvae",
  arch: "conv",
  latentSize: 16,
  codebookSize: 64,
  epochs: 3,
};

/**
 * The VAE-GAN: the lab's MLP VAE (784-400-20) and notebook 05's MLP discriminator, three Adams at
 * 2e-4 with beta1 = 0.5 (the GANs'), batch 64, 5 epochs as the MLP GAN. Larsen et al.'s gamma
 * (`featureWeight` 1e-6, their code's for faces), and a KL weight `beta` of 0.1: with 1, the
 * encoder keeps under 2 nats (notebook 07).
 */
export const VAEGAN_DEFAULTS: Readonly<TrainConfig> = {
  ...TRAIN_DEFAULTS,
  kind: "vaegan",
  batchSize: 64,
  learningRate: 2e-4,
  beta1: 0.5,
  beta: 0.1,
  featureWeight: 1e-6,
  epochs: 5,
};

/**
 * Each kind's defaults, as the notebooks train it: the lab's AE and VAE, the MLP GAN (the DCGAN
 * with `arch: "conv"`), the AAE, the digit classifier, the VQ-VAE and the VAE-GAN.
 */
export function kindDefaults(kind: ModelKind, arch?: Architecture): Readonly<TrainConfig> {
  switch (kind) {
    case "gan":
      return arch === "conv" ? DCGAN_DEFAULTS : GAN_DEFAULTS;
    case "aae":
      return AAE_DEFAULTS;
    case "classifier":
      return CLASSIFIER_DEFAULTS;
    case "vqvae":
      return VQVAE_DEFAULTS;
    case "vaegan":
      return VAEGAN_DEFAULTS;
    default:
      return { ...TRAIN_DEFAULTS, kind };
  }
}

/** What a training step needs to know of the config. */
export type StepConfig = Pick<
  TrainConfig,
  | "likelihood"
  | "scale"
  | "beta"
  | "noise"
  | "seed"
  | "capacity"
  | "epochs"
  | "clipNorm"
  | "estimator"
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
  if (config.beta1 !== undefined && !(config.beta1 >= 0 && config.beta1 < 1)) {
    throw new RangeError(`beta1 must be in [0, 1); got ${config.beta1}`);
  }
  if (config.ganLoss !== undefined) oneOf("ganLoss", config.ganLoss, GENERATOR_LOSSES);
  if (config.labelSmoothing !== undefined) {
    const s = nonNegativeNumber("labelSmoothing", config.labelSmoothing);
    if (s >= 0.5) throw new RangeError(`labelSmoothing must be below 0.5; got ${s}`);
  }
  if (config.realTargets !== undefined) {
    const [low, high] = config.realTargets;
    if (!(low > 0 && low <= high && high <= 1)) {
      throw new RangeError(
        `realTargets must be [low, high] with 0 < low <= high <= 1; got ${
          JSON.stringify(config.realTargets)
        }`,
      );
    }
    if (config.labelSmoothing !== undefined) {
      throw new RangeError("realTargets and labelSmoothing are two ways to smooth: give one");
    }
  }
  if (config.featureMatching) {
    if (config.kind !== "gan" || config.arch !== "mlp" || config.conditional) {
      throw new RangeError(
        `featureMatching applies to the unconditional MLP GAN; got "${config.kind}", ` +
          `"${config.arch}"${config.conditional ? ", conditional" : ""}`,
      );
    }
    if (config.ganLoss !== undefined) {
      throw new RangeError("featureMatching replaces the generator's ganLoss: give one");
    }
  }
  if (config.criticSteps !== undefined) positiveInteger("criticSteps", config.criticSteps);
  if (config.generatorNoise !== undefined) {
    oneOf("generatorNoise", config.generatorNoise, ["shared", "fresh"]);
    if (config.kind !== "gan") {
      throw new RangeError(`generatorNoise applies to kind "gan" only; got "${config.kind}"`);
    }
  }
  if (config.learningRateDecay !== undefined) {
    positiveNumber("learningRateDecay", config.learningRateDecay);
    if (config.kind !== "classifier") {
      throw new RangeError(
        `learningRateDecay applies to kind "classifier" only; got "${config.kind}"`,
      );
    }
  }
  if (config.commitment !== undefined) {
    nonNegativeNumber("commitment", config.commitment);
    if (config.kind !== "vqvae") {
      throw new RangeError(`commitment applies to kind "vqvae" only; got "${config.kind}"`);
    }
  }
  if (config.featureWeight !== undefined) {
    nonNegativeNumber("featureWeight", config.featureWeight);
    if (config.kind !== "vaegan") {
      throw new RangeError(`featureWeight applies to kind "vaegan" only; got "${config.kind}"`);
    }
  }
  if (config.kind === "vqvae" && config.likelihood !== "bernoulli") {
    throw new RangeError(
      `a VQ-VAE here has Bernoulli pixels; got likelihood "${config.likelihood}"`,
    );
  }
  if (config.kind === "classifier" && config.likelihood !== "bernoulli") {
    throw new RangeError(`a classifier has no pixel likelihood; leave likelihood "bernoulli"`);
  }
  if (config.capacity !== undefined) {
    positiveNumber("capacity.gamma", config.capacity.gamma);
    nonNegativeNumber("capacity.target", config.capacity.target);
  }
  if (config.estimator !== undefined) {
    const estimator = oneOf("estimator", config.estimator, ESTIMATORS);
    if (estimator === "score" && (config.kind !== "vae" || config.capacity !== undefined)) {
      throw new RangeError(
        `estimator "score" trains a VAE on the (beta-)ELBO; got kind "${config.kind}"` +
          (config.capacity ? " with capacity annealing" : ""),
      );
    }
  }
}
