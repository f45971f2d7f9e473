/**
 * What a model is, as types: its kind, architecture and prior, the config that decides its shapes
 * and initial weights, and the `Model` value every builder returns (`models.ts`,
 * `adversarial.ts`, `classifier.ts`).
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { Prior } from "./prior.ts";

/**
 * An autoencoder (deterministic code), a VAE (Gaussian code), an adversarial autoencoder (a
 * deterministic code pushed towards the prior by a critic), a GAN (a generator and a critic), the
 * digit classifier of the sample-quality score, a VQ-VAE (a grid of discrete codes) or a VAE-GAN (a
 * VAE whose decoder is also a GAN's generator).
 */
export type ModelKind = "ae" | "vae" | "aae" | "gan" | "classifier" | "vqvae" | "vaegan";
/** Dense layers (the lab's MLP) or strided convolutions (a GAN's `conv` is the DCGAN). */
export type Architecture = "mlp" | "conv";
/** The prior p(z): N(0, I), or a mixture of Gaussians (learnt by a VAE, fixed for an AAE). */
export type PriorKind = "normal" | "mixture";

/** The model kinds, in the order the docs list them. */
export const MODEL_KINDS: readonly ModelKind[] = [
  "ae",
  "vae",
  "aae",
  "gan",
  "classifier",
  "vqvae",
  "vaegan",
];

/** Everything that decides a model's shapes and initial weights. */
export interface ModelConfig {
  /** `ae` or `vae`. */
  kind: ModelKind;
  /** `mlp`: 784-hidden-latent; `conv`: 28x28x1 -> 14x14x32 -> 7x7x64 -> latent. */
  arch: Architecture;
  /** Size of the code z. */
  latentSize: number;
  /** Width of the MLP's hidden layer (the conv model uses it between the convolutions and z). */
  hiddenSize: number;
  /** Seed of the initial weights (and of everything else random in training). */
  seed: number;
  /** p(z) of a VAE or an AAE; absent means `normal`. */
  prior?: PriorKind;
  /** Components of a `mixture` prior (default 10). */
  components?: number;
  /**
   * The label (one-hot) joins the encoder's, the decoder's and a critic's input: a conditional
   * AE, VAE or GAN (`mlp` only; `conditional.ts`). Absent means not conditional.
   */
  conditional?: boolean;
  /**
   * How a conditional MLP GAN's discriminator sees the label: `input` (absent) appends its one-hot
   * to the image; `projection` adds the inner product of a learnt embedding of the label with the
   * discriminator's last hidden features to its logit (Miyato and Koyama, 2018).
   */
  conditioning?: "input" | "projection";
  /** Batch normalisation after each hidden layer of an MLP GAN's generator. Absent means none. */
  generatorNorm?: boolean;
  /**
   * Minibatch discrimination in an unconditional MLP GAN's discriminator (Salimans et al., 2016):
   * its output layer also reads how close each image's features are to the rest of its batch's.
   * Absent means none.
   */
  minibatchDiscrimination?: boolean;
  /** A VQ-VAE's codebook: K vectors of `latentSize` numbers (default 64). */
  codebookSize?: number;
  /**
   * A VAE-GAN's discriminator: `mlp` (absent) is notebook 05's MLP GAN's, its features the
   * 128-unit layer; `conv` the DCGAN's, its features the 7 x 7 x 32 grid before the output.
   */
  criticArch?: "mlp" | "conv";
}

/** What an encoder returns: the code's mean and, for a VAE, its log-variance. Both [B, latent]. */
export interface Encoding {
  mean: tf.Tensor2D;
  logVar?: tf.Tensor2D;
}

/** A built model: its variables, an encoder and a decoder returning logits. */
export interface Model {
  readonly config: Readonly<ModelConfig>;
  /** p(z): what the KL term pulls codes towards and what samples are drawn from. */
  readonly prior: Prior;
  /** Every trainable variable, in a fixed order (the order of saved weights). */
  readonly variables: tf.Variable[];
  /** A stable name per variable, in the same order: `encoder.hidden.kernel`, ... */
  readonly names: readonly string[];
  /** x [B, 784] -> `{ mean, logVar }` [B, latent]. */
  encode(x: tf.Tensor2D): Encoding;
  /** z [B, latent] -> logits [B, 784]. */
  decode(z: tf.Tensor2D): tf.Tensor2D;
  /**
   * An adversarial model's discriminator: its input (images in [-1, 1] for a GAN, codes for an
   * AAE) [B, n] -> the logit of "real" [B]. Its variables are named `critic.*`.
   */
  critic?(input: tf.Tensor2D): tf.Tensor1D;
  /** A VAE-GAN's discriminator features of its input, [B, features]: where it compares images. */
  criticFeatures?(input: tf.Tensor2D): tf.Tensor2D;
  /** Constant tensors the model owns (a fixed prior's parameters), released with it. */
  readonly constants?: tf.Tensor[];
  /** A VQ-VAE's quantizer: its `encode` gives the quantized grid, this the steps before it. */
  readonly quantizer?: Quantizer;
}

/**
 * A VQ-VAE's discrete code (van den Oord et al., 2017): the encoder's output is a grid of `cells`
 * vectors of `latentSize` numbers, each replaced by its nearest of the codebook's K vectors.
 */
export interface Quantizer {
  /** Cells of the grid (7 x 7 = 49). */
  readonly cells: number;
  /** The codebook, [K, latentSize]. Its variable is named `codebook.vectors`. */
  readonly codebook: tf.Variable;
  /** x [B, 784] -> the encoder's vectors before quantization, [B * cells, latentSize]. */
  continuous(x: tf.Tensor2D): tf.Tensor2D;
}
