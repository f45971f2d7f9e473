/**
 * Typed builders for the lab's models.
 *
 * A model is a bag of variables plus two pure functions: `encode` (x -> `{ mean, logVar }`) and
 * `decode` (z -> logits). An autoencoder is the same layers without the sampling: its encoder's
 * head is half as wide and `logVar` is absent. Sigmoid is applied only when generating. The
 * adversarial models (`adversarial.ts`) add a `critic`; the classifier behind the sample-quality
 * score (`classifier.ts`) reuses the two functions: `encode` gives its features, `decode` its
 * class logits.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { integer, oneOf, positiveInteger } from "../base/mod.ts";
import { IMAGE_SIZE } from "../data/mod.ts";
import { buildAae, buildGan } from "./adversarial.ts";
import { buildClassifier } from "./classifier.ts";
import { checkConditionalInput, labelInputs } from "./conditional.ts";
import { decoderDeconvs, encoderConvs } from "./conv_layers.ts";
import { dense } from "./layers.ts";
import { buildVaeGan } from "./vaegan.ts";
import { buildVqVae } from "./vqvae.ts";
import { mixturePrior, STANDARD_NORMAL } from "./prior.ts";
import { type Encoding, type Model, MODEL_KINDS, type ModelConfig } from "./types.ts";
import { layerNames, variableMaker } from "./variables.ts";

/** The lab's reference VAE: 784-400-20, as in PyTorch's example. */
export const VAE_DEFAULTS: Readonly<ModelConfig> = {
  kind: "vae",
  arch: "mlp",
  latentSize: 20,
  hiddenSize: 400,
  seed: 0,
};

/** The autoencoder with the same layers as {@linkcode VAE_DEFAULTS}. */
export const AE_DEFAULTS: Readonly<ModelConfig> = { ...VAE_DEFAULTS, kind: "ae" };

/**
 * The variables of one part of a model, by the first word of their names: `encoder`, `decoder`,
 * `generator`, `critic` or `prior`.
 */
export function partVariables(model: Model, part: string): tf.Variable[] {
  return model.variables.filter((_, i) => model.names[i].startsWith(`${part}.`));
}

/** Throw a RangeError unless `config` describes a model we can build. */
export function validateModelConfig(config: ModelConfig): void {
  oneOf("kind", config.kind, MODEL_KINDS);
  oneOf("arch", config.arch, ["mlp", "conv"]);
  positiveInteger("latentSize", config.latentSize);
  positiveInteger("hiddenSize", config.hiddenSize);
  integer("seed", config.seed);
  const prior = oneOf("prior", config.prior ?? "normal", ["normal", "mixture"]);
  if (config.components !== undefined) positiveInteger("components", config.components);
  if (prior === "mixture" && !["vae", "aae"].includes(config.kind)) {
    throw new RangeError(`prior: "mixture" needs kind "vae" or "aae"; got "${config.kind}"`);
  }
  if ((config.kind === "aae" || config.kind === "vaegan") && config.arch !== "mlp") {
    throw new RangeError(`kind "${config.kind}" has only the "mlp" arch; got "${config.arch}"`);
  }
  if (config.kind === "aae" && prior === "mixture" && config.latentSize < 2) {
    throw new RangeError(`an AAE's mixture prior needs latentSize >= 2; got ${config.latentSize}`);
  }
  if (config.conditional !== undefined) {
    if (typeof config.conditional !== "boolean") {
      throw new TypeError(
        `conditional must be true or false; got ${JSON.stringify(config.conditional)}`,
      );
    }
    if (
      config.conditional && (!["ae", "vae", "gan"].includes(config.kind) || config.arch !== "mlp")
    ) {
      throw new RangeError(
        `conditional: true needs kind "ae", "vae" or "gan" with arch "mlp"; got "${config.kind}", "${config.arch}"`,
      );
    }
    if (config.conditional && prior !== "normal") {
      throw new RangeError(`conditional: true needs the N(0, I) prior; got prior "${prior}"`);
    }
  }
  if (config.conditioning !== undefined) {
    oneOf("conditioning", config.conditioning, ["input", "projection"]);
    if (!config.conditional || config.kind !== "gan") {
      throw new RangeError(
        `conditioning applies to a conditional GAN (kind "gan", conditional: true)`,
      );
    }
  }
  if (config.generatorNorm !== undefined && (config.kind !== "gan" || config.arch !== "mlp")) {
    throw new RangeError(
      `generatorNorm applies to the MLP GAN; got "${config.kind}", "${config.arch}"`,
    );
  }
  if (
    config.minibatchDiscrimination &&
    (config.kind !== "gan" || config.arch !== "mlp" || config.conditional)
  ) {
    throw new RangeError(
      `minibatchDiscrimination applies to the unconditional MLP GAN; got "${config.kind}", ` +
        `"${config.arch}"${config.conditional ? ", conditional" : ""}`,
    );
  }
  if (config.criticArch !== undefined) {
    oneOf("criticArch", config.criticArch, ["mlp", "conv"]);
    if (config.kind !== "vaegan") {
      throw new RangeError(`criticArch applies to kind "vaegan" only; got "${config.kind}"`);
    }
  }
  if (config.codebookSize !== undefined) positiveInteger("codebookSize", config.codebookSize);
  if (config.kind === "vqvae" && (config.arch !== "conv" || prior !== "normal")) {
    throw new RangeError(
      `kind "vqvae" has only the "conv" arch and its own discrete code; got "${config.arch}"` +
        (prior === "normal" ? "" : `, prior "${prior}"`),
    );
  }
  if (config.kind === "classifier" && config.arch !== "conv") {
    throw new RangeError(`kind "classifier" has only the "conv" arch; got "${config.arch}"`);
  }
}

/** Build the model a config describes. */
export function buildModel(config: ModelConfig): Model {
  validateModelConfig(config);
  switch (config.kind) {
    case "gan":
      return buildGan(config);
    case "aae":
      return buildAae(config, buildMlp({ ...config, kind: "ae" }));
    case "classifier":
      return buildClassifier(config);
    case "vqvae":
      return buildVqVae(config);
    case "vaegan":
      return buildVaeGan(config, buildMlp({ ...config, kind: "vae" }));
    default:
      return withPrior(config.arch === "mlp" ? buildMlp(config) : buildConv(config));
  }
}

/** Where the seeds of a learnt prior's variables start (after the model's own). */
const PRIOR_SEEDS = 900;

/**
 * A VAE with a `mixture` prior: K learnt components (means drawn from N(0, 1), unit variances,
 * equal weights at the start), their variables `prior.*` after the model's.
 */
function withPrior(model: Model): Model {
  const { config } = model;
  if ((config.prior ?? "normal") === "normal") return model;
  const make = variableMaker({ ...config, arch: "prior" }, PRIOR_SEEDS);
  const k = config.components ?? 10;
  const parameters = {
    means: make.normal([k, config.latentSize], 1),
    logVars: make.filled([k, config.latentSize], 0),
    logits: make.filled([k], 0),
  };
  return {
    ...model,
    prior: mixturePrior(parameters, `learnt mixture of ${k} Gaussians`),
    variables: [...model.variables, parameters.means, parameters.logVars, parameters.logits],
    names: [...model.names, "prior.means", "prior.logVars", "prior.logits"],
  };
}

/** The lab's MLP: encoder linear -> ReLU -> linear, decoder linear -> ReLU -> linear. */
export function buildMlp(config: ModelConfig): Model {
  const { latentSize, hiddenSize } = config;
  const headSize = config.kind === "vae" ? 2 * latentSize : latentSize;
  const make = variableMaker(config);
  // A conditional model's first layers also take the label's one-hot (conditional.ts).
  const input = IMAGE_SIZE + labelInputs(config);
  const code = latentSize + labelInputs(config);
  const e1 = [make([input, hiddenSize], input), make([hiddenSize], input)];
  const e2 = [make([hiddenSize, headSize], hiddenSize), make([headSize], hiddenSize)];
  const d1 = [make([code, hiddenSize], code), make([hiddenSize], code)];
  const d2 = [make([hiddenSize, IMAGE_SIZE], hiddenSize), make([IMAGE_SIZE], hiddenSize)];
  return {
    config: { ...config },
    prior: STANDARD_NORMAL,
    variables: [...e1, ...e2, ...d1, ...d2],
    names: layerNames(["encoder.hidden", "encoder.head", "decoder.hidden", "decoder.output"]),
    encode: (x) => {
      checkConditionalInput(config, "encoder", x, input);
      const h = dense(x, { kernel: e1[0], bias: e1[1], activation: "relu", inputGradient: false }); // [B, hidden]
      return splitHead(dense(h, { kernel: e2[0], bias: e2[1] }), config);
    },
    decode: (z) => {
      checkConditionalInput(config, "decoder", z, code);
      const h = dense(z, { kernel: d1[0], bias: d1[1], activation: "relu" }); // [B, hidden]
      return dense(h, { kernel: d2[0], bias: d2[1] });
    },
  };
}

/** Split an encoder head [B, 2L] into mean and log-variance; an AE's head is the code itself. */
function splitHead(head: tf.Tensor2D, config: ModelConfig): Encoding {
  if (config.kind === "ae") return { mean: head };
  const [mean, logVar] = tf.split(head, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  return { mean, logVar };
}

/**
 * Convolutional model for 28x28x1. Encoder: conv 3x3/2 (32) -> conv 3x3/2 (64) -> dense hidden
 * -> head. Decoder: dense hidden -> dense 7x7x64 -> transposed conv 3x3/2 (32) -> transposed conv
 * 3x3/2 (1 channel of logits).
 */
function buildConv(config: ModelConfig): Model {
  const { latentSize, hiddenSize } = config;
  const headSize = config.kind === "vae" ? 2 * latentSize : latentSize;
  const flat = 7 * 7 * 64;
  const make = variableMaker(config);
  const c1 = [make([3, 3, 1, 32], 9), make([32], 9)];
  const c2 = [make([3, 3, 32, 64], 9 * 32), make([64], 9 * 32)];
  const e1 = [make([flat, hiddenSize], flat), make([hiddenSize], flat)];
  const e2 = [make([hiddenSize, headSize], hiddenSize), make([headSize], hiddenSize)];
  const d1 = [make([latentSize, hiddenSize], latentSize), make([hiddenSize], latentSize)];
  const d2 = [make([hiddenSize, flat], hiddenSize), make([flat], hiddenSize)];
  // Transposed-convolution filters are [h, w, outChannels, inChannels].
  const t1 = [make([3, 3, 32, 64], 9 * 64), make([32], 9 * 64)];
  const t2 = [make([3, 3, 1, 32], 9 * 32), make([1], 9 * 32)];
  return {
    config: { ...config },
    prior: STANDARD_NORMAL,
    variables: [...c1, ...c2, ...e1, ...e2, ...d1, ...d2, ...t1, ...t2],
    names: layerNames([
      "encoder.conv1",
      "encoder.conv2",
      "encoder.hidden",
      "encoder.head",
      "decoder.hidden",
      "decoder.grid",
      "decoder.deconv1",
      "decoder.deconv2",
    ]),
    encode: (x) => {
      const h2 = encoderConvs(x, [c1, c2]); // [B, 7, 7, 64]
      const h3 = dense(tf.reshape(h2, [-1, flat]), {
        kernel: e1[0],
        bias: e1[1],
        activation: "relu",
      }); // [B, hidden]
      return splitHead(dense(h3, { kernel: e2[0], bias: e2[1] }), config);
    },
    decode: (z) => {
      const h1 = dense(z, { kernel: d1[0], bias: d1[1], activation: "relu" }); // [B, hidden]
      const h2 = dense(h1, { kernel: d2[0], bias: d2[1], activation: "relu" }); // [B, 3136]
      const grid = tf.reshape(h2, [-1, 7, 7, 64]) as tf.Tensor4D;
      return decoderDeconvs(grid, [t1, t2]);
    },
  };
}

/** Copy the current values of a model's variables (for saving or for a snapshot). */
export function getWeights(model: Model): Float32Array[] {
  return model.variables.map((v) => v.dataSync() as Float32Array).map((a) => a.slice());
}

/** Overwrite a model's variables with saved values, checking each length. */
export function setWeights(model: Model, weights: readonly Float32Array[]): void {
  if (weights.length !== model.variables.length) {
    throw new RangeError(
      `expected ${model.variables.length} weight arrays; got ${weights.length}`,
    );
  }
  model.variables.forEach((v, i) => {
    if (weights[i].length !== v.size) {
      throw new RangeError(`weight ${i} must have ${v.size} values; got ${weights[i].length}`);
    }
    tf.tidy(() => v.assign(tf.tensor(weights[i], v.shape)));
  });
}

/** Release a model's variables (and the constants it owns). */
export function disposeModel(model: Model): void {
  for (const v of model.variables) v.dispose();
  for (const t of model.constants ?? []) t.dispose();
}
