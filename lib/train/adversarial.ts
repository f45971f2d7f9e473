/**
 * Steps with two players, each with its own Adam: the GAN's (discriminator, then generator) and
 * the adversarial autoencoder's (reconstruction, the critic on prior draws against codes, then
 * the encoder against the critic), both through the `Step` seam, like the VAE's.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { mixSeeds, positiveInteger, readOnce } from "../base/mod.ts";
import type { Dataset } from "../data/mod.ts";
import {
  binaryCrossEntropy,
  buildModel,
  disposeModel,
  elboTerms,
  featureMatching,
  type GeneratorLoss,
  generatorLoss,
  type Model,
  partVariables,
  withLabels,
} from "../model/mod.ts";
import { type TrainConfig, validateTrainConfig } from "./config.ts";
import { Adam, tensorsNorm } from "./optimizer.ts";
import { AAE_TERMS, type AaeTerm, GAN_TERMS, type GanTerm } from "./records.ts";
import {
  epochBatches,
  NonFiniteGradient,
  SEED_PURPOSE,
  type Step,
  type StepPosition,
  stepSeed,
} from "./step.ts";

/** A step's config as the adversarial steps read it. */
type AdversarialConfig = Pick<
  TrainConfig,
  | "learningRate"
  | "beta1"
  | "ganLoss"
  | "featureMatching"
  | "labelSmoothing"
  | "realTargets"
  | "criticSteps"
  | "generatorNoise"
  | "seed"
  | "likelihood"
  | "scale"
>;

/** Gradients of `loss` with respect to `variables`, their norm checked finite; and the loss. */
export function checkedGrads(
  loss: () => tf.Scalar,
  variables: tf.Variable[],
): { value: tf.Scalar; grads: tf.NamedTensorMap; norm: number } {
  const { value, grads } = tf.variableGrads(loss, variables);
  const norm = tensorsNorm(variables.map((v) => grads[v.name]));
  if (!Number.isFinite(norm)) {
    tf.dispose([value, grads] as tf.TensorContainer);
    throw new NonFiniteGradient(norm);
  }
  return { value, grads, norm };
}

/** Apply `grads` with `optimizer` and release them. */
export function applied(optimizer: Adam, variables: tf.Variable[], grads: tf.NamedTensorMap): void {
  optimizer.apply(variables, grads);
  tf.dispose(grads);
}

/** A step's terms computed in a tidy scope, as `Step.run`'s promise (rejected on error). */
export function tidyStep(run: () => tf.Tensor1D): Promise<tf.Tensor1D> {
  try {
    return Promise.resolve(tf.tidy(run));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * The critic's loss: cross-entropy of its logits on real inputs against `realTarget` and on fake
 * ones against 0, each averaged over the batch.
 */
export function criticLoss(
  realLogits: tf.Tensor1D,
  fakeLogits: tf.Tensor1D,
  realTarget: number | tf.Tensor1D,
): tf.Scalar {
  return tf.add(
    tf.mean(binaryCrossEntropy(realLogits, realTarget)),
    tf.mean(binaryCrossEntropy(fakeLogits, 0)),
  ) as tf.Scalar;
}

/** A batch's images as a tensor, [B, 784]. */
export function imagesOf(batch: Dataset): tf.Tensor2D {
  return tf.tensor2d(batch.images, [batch.size, batch.images.length / batch.size]);
}

/** What the discriminator sees of a generator's logits: tanh(a) = 2 sigmoid(2a) - 1, in [-1, 1]. */
export function generatedImages(logits: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.tanh(tf.mul(logits, 0.5)) as tf.Tensor2D);
}

/**
 * One GAN step: `criticSteps` Adam steps of the discriminator on the batch's real images (target
 * 1, or 1 - labelSmoothing, or drawn in realTargets) and on G(z) (target 0), each with fresh
 * draws z, then the generator's Adam step against the updated discriminator, with the configured
 * generator loss, on the last z (`generatorNoise` "shared", the default) or on new draws ("fresh").
 * Terms ({@linkcode GAN_TERMS}): `loss` is the discriminator's loss after its last step (also
 * `discriminator`), `generator` the generator's, `realScore` and `fakeScore` the mean D(x) and
 * D(G(z)) before the updates, `generatorGradNorm` the norm of the generator's gradient.
 */
export class GanStep implements Step<GanTerm> {
  readonly terms = GAN_TERMS;
  #model: Model;
  #config: AdversarialConfig;
  #generator: tf.Variable[];
  #critic: tf.Variable[];
  #generatorAdam: Adam;
  #criticAdam: Adam;

  /** A step training `model` (kind `gan`) by the config's two Adams. */
  constructor(model: Model, config: AdversarialConfig) {
    if (!model.critic) throw new TypeError("a GAN step needs a model with a critic");
    this.#model = model;
    this.#config = config;
    this.#generator = partVariables(model, "generator");
    this.#critic = partVariables(model, "critic");
    const adam = { learningRate: config.learningRate, beta1: config.beta1 };
    this.#generatorAdam = new Adam(adam);
    this.#criticAdam = new Adam(adam);
  }

  run(batch: Dataset, position: StepPosition): Promise<tf.Tensor1D> {
    return tidyStep(() => this.#run(batch, position));
  }

  #run(batch: Dataset, position: StepPosition): tf.Tensor1D {
    const model = withLabels(this.#model, batch.labels); // a cGAN's fakes get the batch's labels
    const critic = model.critic!;
    const real = tf.sub(tf.mul(imagesOf(batch), 2), 1) as tf.Tensor2D; // in [-1, 1]
    const seed = stepSeed(this.#config.seed, { ...position, purpose: SEED_PURPOSE.sampling });
    const draw = (k: number) =>
      model.prior.sample(batch.size, model.config.latentSize, k === 0 ? seed : mixSeeds(seed, k));
    const realTarget = this.#realTargets(batch.size, position);
    const criticSteps = this.#config.criticSteps ?? 1;
    let scores: tf.Tensor[] = [];
    let d: ReturnType<typeof checkedGrads> | undefined;
    let z = draw(0);
    for (let k = 0; k < criticSteps; k++) {
      if (k > 0) z = draw(k);
      d = checkedGrads(() => {
        const realLogits = critic(real);
        const fakeLogits = critic(generatedImages(model.decode(z)));
        if (k === 0) {
          scores = [tf.mean(tf.sigmoid(realLogits)), tf.mean(tf.sigmoid(fakeLogits))].map(tf.keep);
        }
        return criticLoss(realLogits, fakeLogits, realTarget);
      }, this.#critic);
      applied(this.#criticAdam, this.#critic, d.grads);
    }
    if (this.#config.generatorNoise === "fresh") z = draw(criticSteps);
    const g = checkedGrads(() => {
      const fake = generatedImages(model.decode(z));
      if (this.#config.featureMatching) return featureMatching(model, real, fake);
      return tf.mean(
        generatorLoss(critic(fake), this.#config.ganLoss ?? "non-saturating"),
      ) as tf.Scalar;
    }, this.#generator);
    applied(this.#generatorAdam, this.#generator, g.grads);
    const terms = tf.concat([
      tf.stack([d!.value, d!.value, g.value, ...scores]),
      tf.tensor1d([g.norm]),
    ]) as tf.Tensor1D;
    tf.dispose(scores); // kept past variableGrads' scope, so released by hand
    return terms;
  }

  /** The real inputs' targets: 1, 1 - labelSmoothing, or draws in realTargets' range. */
  #realTargets(size: number, position: StepPosition): number | tf.Tensor1D {
    const range = this.#config.realTargets;
    if (!range) return 1 - (this.#config.labelSmoothing ?? 0);
    const seed = stepSeed(this.#config.seed, { ...position, purpose: SEED_PURPOSE.targets });
    return tf.randomUniform([size], range[0], range[1], "float32", seed) as tf.Tensor1D;
  }

  close(): void {
    this.#generatorAdam.dispose();
    this.#criticAdam.dispose();
  }
}

/**
 * The norm of a GAN generator's gradient under each generator loss, on the same draws `z`,
 * without changing the model: what the course's "vanishing gradients" compare.
 */
export function generatorGradientNorms(
  model: Model,
  z: tf.Tensor2D,
): Record<GeneratorLoss, number> {
  const generator = partVariables(model, "generator");
  const norm = (loss: GeneratorLoss) => {
    const { value, grads } = tf.variableGrads(
      () =>
        tf.mean(generatorLoss(model.critic!(generatedImages(model.decode(z))), loss)) as tf.Scalar,
      generator,
    );
    const result = tensorsNorm(generator.map((v) => grads[v.name]));
    tf.dispose([value, grads] as tf.TensorContainer);
    return result;
  };
  return { "non-saturating": norm("non-saturating"), saturating: norm("saturating") };
}

/**
 * One adversarial-autoencoder step (Makhzani et al., 2016), three Adams in turn: the encoder and
 * decoder on the reconstruction term; the critic on draws of the prior (target 1) against the
 * encoder's codes (target 0); the encoder against the critic (non-saturating). Terms
 * ({@linkcode AAE_TERMS}): `loss` = `reconstruction` (nats per image), `discriminator`,
 * `generator` (the encoder's adversarial loss), `realScore` (mean D on prior draws) and
 * `fakeScore` (mean D on codes).
 */
export class AaeStep implements Step<AaeTerm> {
  readonly terms = AAE_TERMS;
  #model: Model;
  #config: AdversarialConfig;
  #autoencoder: tf.Variable[];
  #encoder: tf.Variable[];
  #critic: tf.Variable[];
  #adams: { reconstruction: Adam; critic: Adam; encoder: Adam };

  /** A step training `model` (kind `aae`). */
  constructor(model: Model, config: AdversarialConfig) {
    if (!model.critic) throw new TypeError("an AAE step needs a model with a critic");
    this.#model = model;
    this.#config = config;
    this.#encoder = partVariables(model, "encoder");
    this.#autoencoder = [...this.#encoder, ...partVariables(model, "decoder")];
    this.#critic = partVariables(model, "critic");
    const adam = { learningRate: config.learningRate, beta1: config.beta1 };
    this.#adams = {
      reconstruction: new Adam(adam),
      critic: new Adam(adam),
      encoder: new Adam(adam),
    };
  }

  run(batch: Dataset, position: StepPosition): Promise<tf.Tensor1D> {
    return tidyStep(() => this.#run(batch, position));
  }

  #run(batch: Dataset, position: StepPosition): tf.Tensor1D {
    const model = withLabels(this.#model, batch.labels);
    const critic = model.critic!;
    const x = imagesOf(batch);
    const r = checkedGrads(
      () => tf.mean(elboTerms(model, x, this.#config).reconstruction) as tf.Scalar,
      this.#autoencoder,
    );
    applied(this.#adams.reconstruction, this.#autoencoder, r.grads);
    const prior = model.prior.sample(
      batch.size,
      model.config.latentSize,
      stepSeed(this.#config.seed, { ...position, purpose: SEED_PURPOSE.sampling }),
    );
    const codes = model.encode(x).mean;
    let scores: tf.Tensor[] = [];
    const d = checkedGrads(() => {
      const realLogits = critic(prior);
      const fakeLogits = critic(codes);
      scores = [tf.mean(tf.sigmoid(realLogits)), tf.mean(tf.sigmoid(fakeLogits))].map(tf.keep);
      return criticLoss(realLogits, fakeLogits, 1);
    }, this.#critic);
    applied(this.#adams.critic, this.#critic, d.grads);
    const e = checkedGrads(
      () => tf.mean(generatorLoss(critic(model.encode(x).mean), "non-saturating")) as tf.Scalar,
      this.#encoder,
    );
    applied(this.#adams.encoder, this.#encoder, e.grads);
    const terms = tf.stack([r.value, r.value, d.value, e.value, ...scores]) as tf.Tensor1D;
    tf.dispose(scores); // kept past variableGrads' scope, so released by hand
    return terms;
  }

  close(): void {
    for (const adam of Object.values(this.#adams)) adam.dispose();
  }
}

/** The generator's gradient norms under both losses along the first steps of a GAN's training. */
export interface GradientTrace {
  /** Steps taken, from 1. */
  steps: number[];
  saturating: number[];
  nonSaturating: number[];
  /** Mean D(G(z)) on the fixed draws after each step. */
  fakeScore: number[];
}

/**
 * Train a fresh GAN of `config` for `steps` steps (its own loss) and, after each step, measure on
 * 64 fixed draws z the norm of the generator's gradient under the saturating and under the
 * non-saturating loss (the same generator and discriminator for both), and the mean D(G(z)).
 * @example
 * ```ts
 * const config = { ...GAN_DEFAULTS, ganLoss: "saturating" as const, criticSteps: 5 };
 * const trace = await ganGradientTrace(data.train, config, 200);
 * ```
 */
export async function ganGradientTrace(
  train: Dataset,
  config: TrainConfig,
  steps: number,
): Promise<GradientTrace> {
  validateTrainConfig(config);
  if (config.kind !== "gan") {
    throw new TypeError(`ganGradientTrace needs a GAN; got "${config.kind}"`);
  }
  positiveInteger("steps", steps);
  const model = buildModel(config);
  const step = new GanStep(model, config);
  const z = model.prior.sample(64, config.latentSize, mixSeeds(config.seed, 7));
  const trace: GradientTrace = { steps: [], saturating: [], nonSaturating: [], fakeScore: [] };
  try {
    for (let epoch = 1; trace.steps.length < steps; epoch++) {
      let at = 0;
      for (const batch of epochBatches(train, { ...config, epoch })) {
        if (trace.steps.length >= steps) break;
        (await step.run(batch, { epoch, step: ++at })).dispose();
        const norms = generatorGradientNorms(model, z);
        trace.steps.push(trace.steps.length + 1);
        trace.saturating.push(norms.saturating);
        trace.nonSaturating.push(norms["non-saturating"]);
        trace.fakeScore.push(
          readOnce(
            tf.tidy(() => tf.mean(tf.sigmoid(model.critic!(generatedImages(model.decode(z)))))),
          )[0],
        );
      }
    }
  } finally {
    step.close();
    z.dispose();
    disposeModel(model);
  }
  return trace;
}
