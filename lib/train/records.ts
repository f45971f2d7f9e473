/**
 * What training reports: one record per split and epoch, and progress events. Plain data, so
 * figures (`viz`) draw them without importing anything that trains.
 * @module
 */

/** The names of the terms an ELBO step returns, in order: loss, then its two parts. */
export const ELBO_TERMS = ["loss", "reconstruction", "kl"] as const;
/** One of {@linkcode ELBO_TERMS}. */
export type ElboTerm = typeof ELBO_TERMS[number];

/**
 * A GAN step's terms: `loss` is the discriminator's loss (also under `discriminator`), then the
 * generator's loss, the mean D(x) and D(G(z)), and the norm of the generator's gradient.
 */
export const GAN_TERMS = [
  "loss",
  "discriminator",
  "generator",
  "realScore",
  "fakeScore",
  "generatorGradNorm",
] as const;
/** One of {@linkcode GAN_TERMS}. */
export type GanTerm = typeof GAN_TERMS[number];

/**
 * An adversarial autoencoder step's terms: `loss` is the reconstruction term (also under
 * `reconstruction`), then the critic's loss, the encoder's adversarial loss, and the mean D on
 * prior draws and on codes.
 */
export const AAE_TERMS = [
  "loss",
  "reconstruction",
  "discriminator",
  "generator",
  "realScore",
  "fakeScore",
] as const;
/** One of {@linkcode AAE_TERMS}. */
export type AaeTerm = typeof AAE_TERMS[number];

/** The classifier's terms: cross-entropy (nats per image) and the share of correct labels. */
export const CLASSIFIER_TERMS = ["loss", "accuracy"] as const;
/** One of {@linkcode CLASSIFIER_TERMS}. */
export type ClassifierTerm = typeof CLASSIFIER_TERMS[number];

/**
 * A VQ-VAE step's terms: `loss` = reconstruction + codebook + commitment (nats and squared
 * distances per image), then each, then the perplexity of the batch's codes and how many of the K
 * codes it left unused.
 */
export const VQ_TERMS = [
  "loss",
  "reconstruction",
  "codebook",
  "commitment",
  "perplexity",
  "unusedCodes",
] as const;
/** One of {@linkcode VQ_TERMS}. */
export type VqTerm = typeof VQ_TERMS[number];

/**
 * A VAE-GAN step's terms: `loss` is the encoder's (beta * kl + featureReconstruction), then the
 * KL (nats per image), the reconstruction error in the discriminator's features, the
 * discriminator's and the decoder's adversarial losses, and the mean D(x) and D of the decodes of
 * prior draws.
 */
export const VAEGAN_TERMS = [
  "loss",
  "kl",
  "featureReconstruction",
  "discriminator",
  "generator",
  "realScore",
  "fakeScore",
] as const;
/** One of {@linkcode VAEGAN_TERMS}. */
export type VaeGanTerm = typeof VAEGAN_TERMS[number];

/** The terms of the steps that are not the ELBO's. */
export type OtherTerm = Exclude<
  GanTerm | AaeTerm | ClassifierTerm | VqTerm | VaeGanTerm,
  ElboTerm
>;

/** Where a record sits in training. */
export interface RecordPosition {
  epoch: number;
  /** Optimisation steps taken so far. */
  step: number;
  split: "train" | "test";
}

/** A nat: a unit whose mean KL to the prior is below this carries no information (collapsed). */
export const COLLAPSE_NATS = 0.01;

/** How much of the code a VAE uses, on the test split (test records of VAEs with an N(0, I) prior). */
export interface LatentUse {
  /** Latent units whose mean KL(q(z_j | x) || N(0, 1)) is at least {@linkcode COLLAPSE_NATS}. */
  unitsInUse?: number;
  /** Posterior collapse: no unit in use, q(z | x) is the prior for every x. */
  collapsed?: boolean;
}

/**
 * Mean per-example terms on one split after one epoch; every record has a `loss` (what the step
 * minimises). For the ELBO (the default): `loss` = reconstruction + beta * kl (the negative ELBO
 * when beta = 1), `reconstruction`, `kl`, in nats per image. A step with other terms (a GAN's,
 * an AAE's, the classifier's) records those instead (a GAN's records have no `reconstruction` or
 * `kl`, and no test records): {@linkcode OtherTerm}s are typed as optional for that.
 */
export type EpochRecord<T extends string = ElboTerm> =
  & RecordPosition
  & LatentUse
  & { loss: number }
  & { [K in T]: number }
  & { [K in OtherTerm]?: number };

/** A progress report: sent every few steps and at the end of every epoch. */
export interface TrainProgress {
  /** Epoch, from 1, and epochs in all. */
  epoch: number;
  epochs: number;
  /** Step within the epoch, from 1, and steps per epoch. */
  step: number;
  steps: number;
  /** Mean training loss over the steps of this epoch so far. */
  loss: number;
  /** Seconds since training started. */
  seconds: number;
  /** Every epoch record so far; a display shows the last test loss. */
  history: readonly EpochRecord<"loss">[];
  /** What is training, when one display follows several runs (a grid): "run 2/7 VAE, d = 5". */
  label?: string;
  /** Seconds left for all the work the display follows, when the caller knows better. */
  remaining?: number;
}
