/**
 * Training a VAE-GAN (kind `vaegan`; Larsen et al., 2016, algorithm 1): from one forward pass,
 * three gradients at the same weights, then three Adam updates.
 *
 * - the encoder on beta * KL(q(z|x) || p(z)) + L_feat (beta: the config's KL weight, 0.1 in
 *   VAEGAN_DEFAULTS),
 * - the decoder on featureWeight * L_feat + its adversarial loss on x~ (the reconstruction) and on
 *   x_p (the decode of a prior draw), non-saturating,
 * - the discriminator on real x (target 1) against x~ and x_p (target 0),
 *
 * where L_feat = 1/2 |D_l(x) - D_l(x~)|^2 is the reconstruction error in the discriminator's
 * hidden features (a Gaussian of unit variance there, as the paper's), with x~ = decode(z),
 * z = mean + sigma * eps. Images reach the discriminator in [-1, 1].
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../data/mod.ts";
import {
  binaryCrossEntropy,
  constantOf,
  generatorLoss,
  type Model,
  partVariables,
  reparameterize,
  shardNormal,
} from "../model/mod.ts";
import { applied, checkedGrads, criticLoss, imagesOf, tidyStep } from "./adversarial.ts";
import type { TrainConfig } from "./config.ts";
import { Adam } from "./optimizer.ts";
import { VAEGAN_TERMS, type VaeGanTerm } from "./records.ts";
import { SEED_PURPOSE, type Step, type StepPosition, stepSeed } from "./step.ts";

/** One VAE-GAN step. Terms: {@linkcode VAEGAN_TERMS}. */
export class VaeGanStep implements Step<VaeGanTerm> {
  readonly terms = VAEGAN_TERMS;
  #model: Model;
  #config: Pick<TrainConfig, "seed" | "featureWeight" | "beta">;
  #parts: { encoder: tf.Variable[]; decoder: tf.Variable[]; critic: tf.Variable[] };
  #adams: { encoder: Adam; decoder: Adam; critic: Adam };

  constructor(
    model: Model,
    config: Pick<TrainConfig, "seed" | "featureWeight" | "beta" | "learningRate" | "beta1">,
  ) {
    if (!model.critic || !model.criticFeatures) {
      throw new TypeError("a VAE-GAN step needs a model with a critic and its features");
    }
    this.#model = model;
    this.#config = config;
    this.#parts = {
      encoder: partVariables(model, "encoder"),
      decoder: partVariables(model, "decoder"),
      critic: partVariables(model, "critic"),
    };
    const adam = { learningRate: config.learningRate, beta1: config.beta1 };
    this.#adams = { encoder: new Adam(adam), decoder: new Adam(adam), critic: new Adam(adam) };
  }

  run(batch: Dataset, position: StepPosition): Promise<tf.Tensor1D> {
    return tidyStep(() => this.#run(batch, position));
  }

  #run(batch: Dataset, position: StepPosition): tf.Tensor1D {
    const model = this.#model;
    const critic = model.critic!;
    const features = model.criticFeatures!;
    const x = imagesOf(batch);
    const toCritic = (pixels: tf.Tensor2D) => tf.sub(tf.mul(pixels, 2), 1) as tf.Tensor2D;
    const seed = stepSeed(this.#config.seed, { ...position, purpose: SEED_PURPOSE.sampling });
    const { latentSize } = model.config;
    const eps = shardNormal({ rows: batch.size, columns: latentSize, seed });
    const zPrior = model.prior.sample(batch.size, latentSize, seed + 1);
    // The forward pass each gradient shares: x~ (reconstruction) and x_p (a prior draw's decode).
    const forward = () => {
      const { mean, logVar } = model.encode(x);
      const z = reparameterize(mean, logVar!, eps);
      const kl = model.prior.kl(mean, logVar!, z);
      const reconstructed = toCritic(tf.sigmoid(model.decode(z)));
      const generated = toCritic(tf.sigmoid(model.decode(zPrior)));
      return { kl, reconstructed, generated };
    };
    // L_feat per image, with the discriminator's features of x held fixed.
    const featureLoss = (reconstructed: tf.Tensor2D) =>
      tf.mul(
        tf.sum(tf.square(tf.sub(constantOf(features(toCritic(x))), features(reconstructed))), 1),
        0.5,
      ) as tf.Tensor1D;
    let kept: tf.Tensor[] = [];
    const e = checkedGrads(() => {
      const { kl, reconstructed } = forward();
      const feature = featureLoss(reconstructed);
      kept = [tf.mean(kl), tf.mean(feature)].map(tf.keep);
      const { beta } = this.#config;
      return tf.mean(tf.add(beta === 1 ? kl : tf.mul(kl, beta), feature)) as tf.Scalar;
    }, this.#parts.encoder);
    const g = checkedGrads(() => {
      const { reconstructed, generated } = forward();
      const adversarial = tf.add(
        generatorLoss(critic(reconstructed), "non-saturating"),
        generatorLoss(critic(generated), "non-saturating"),
      );
      const weighted = tf.mul(featureLoss(reconstructed), this.#config.featureWeight ?? 1);
      return tf.mean(tf.add(weighted, adversarial)) as tf.Scalar;
    }, this.#parts.decoder);
    let scores: tf.Tensor[] = [];
    const d = checkedGrads(() => {
      const { reconstructed, generated } = forward();
      const realLogits = critic(toCritic(x));
      const fakes = [critic(constantOf(reconstructed)), critic(constantOf(generated))];
      scores = [tf.mean(tf.sigmoid(realLogits)), tf.mean(tf.sigmoid(fakes[1]))].map(tf.keep);
      return tf.add(
        criticLoss(realLogits, fakes[1], 1),
        tf.mean(binaryCrossEntropy(fakes[0], 0)),
      ) as tf.Scalar;
    }, this.#parts.critic);
    applied(this.#adams.encoder, this.#parts.encoder, e.grads);
    applied(this.#adams.decoder, this.#parts.decoder, g.grads);
    applied(this.#adams.critic, this.#parts.critic, d.grads);
    const terms = tf.stack([e.value, ...kept, d.value, g.value, ...scores]) as tf.Tensor1D;
    tf.dispose([...kept, ...scores]);
    return terms;
  }

  close(): void {
    for (const adam of Object.values(this.#adams)) adam.dispose();
  }
}
