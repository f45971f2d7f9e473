/**
 * The VAE-GAN (Larsen et al., 2016): a VAE whose decoder is also a GAN's generator, and a
 * discriminator whose hidden features replace pixels as the space where reconstructions are
 * measured. Here the lab's MLP VAE (784-400-d) and notebook 05's MLP discriminator
 * (784-256-128-1, LeakyReLU; the features are its 128-unit layer) or, with `criticArch: "conv"`,
 * the DCGAN's (the features: its 7 x 7 x 32 grid).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { IMAGE_SIZE } from "../data/mod.ts";
import { dense } from "./layers.ts";
import type { Model, ModelConfig } from "./types.ts";
import { convCritic, type Critic } from "./adversarial.ts";
import { layerNames, type VariableMaker, variableMaker } from "./variables.ts";

/** Where the seeds of the discriminator's variables start (after the VAE's). */
const CRITIC_SEEDS = 500;

/** The discriminator's feature layer: what reconstructions are compared in. */
export const VAEGAN_FEATURES = 128;

/**
 * A VAE-GAN of `vae` (the MLP VAE of the same config, built by the caller): `encode` and `decode`
 * are the VAE's, `critic` the discriminator's logit of "real" for images in [-1, 1], and
 * `criticFeatures` its hidden features for the same input.
 */
export function buildVaeGan(config: ModelConfig, vae: Model): Model {
  const make = variableMaker(config, CRITIC_SEEDS);
  const d = config.criticArch === "conv" ? convCritic(make) : mlpCritic(make);
  return {
    ...vae,
    config: { ...config },
    variables: [...vae.variables, ...d.variables],
    names: [...vae.names, ...d.names],
    critic: d.critic,
    criticFeatures: d.features,
  };
}

/** Notebook 05's MLP discriminator (784-256-128-1, LeakyReLU); its features the 128 units. */
function mlpCritic(make: VariableMaker): Critic {
  const layer = (inputs: number, outputs: number) => [
    make([inputs, outputs], inputs),
    make([outputs], inputs),
  ];
  const d = [layer(IMAGE_SIZE, 256), layer(256, VAEGAN_FEATURES), layer(VAEGAN_FEATURES, 1)];
  const features = (x: tf.Tensor2D) =>
    tf.tidy(() => {
      const h1 = dense(x, { kernel: d[0][0], bias: d[0][1], activation: "leakyRelu" });
      return dense(h1, { kernel: d[1][0], bias: d[1][1], activation: "leakyRelu" }); // [B, 128]
    });
  return {
    variables: d.flat(),
    names: layerNames(["critic.hidden1", "critic.hidden2", "critic.output"]),
    critic: (x) =>
      tf.tidy(() =>
        tf.reshape(dense(features(x), { kernel: d[2][0], bias: d[2][1] }), [-1]) as tf.Tensor1D
      ),
    features,
  };
}
