/**
 * The VAE-GAN's step against the same step written out from Larsen et al. (2016)'s losses in
 * other words (log D and log(1 - D) instead of cross-entropies, the KL's closed form): the three parts'
 * weights after two steps and every term the step reports.
 */
import { assert, assertEquals } from "@std/assert";
import * as tf from "@tensorflow/tfjs";
import {
  Adam,
  buildModel,
  disposeModel,
  getWeights,
  initBackend,
  type Model,
  partVariables,
  SEED_PURPOSE,
  shardNormal,
  stepSeed,
  type TrainConfig,
  VAEGAN_DEFAULTS,
  VAEGAN_TERMS,
  VaeGanStep,
} from "../../lib/mod.ts";
import { syntheticDigits } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

const CONFIG: TrainConfig = {
  ...VAEGAN_DEFAULTS,
  hiddenSize: 24,
  latentSize: 3,
  featureWeight: 0.3, // not the default: the decoder's loss must read the run's own
  beta: 0.5, // and the encoder's KL weight
  seed: 11,
};
const POSITIONS = [{ epoch: 1, step: 1 }, { epoch: 1, step: 2 }];

/** One step written out: three gradients at the same weights, then three Adam updates. */
function writtenOutStep(
  model: Model,
  x: tf.Tensor2D,
  adams: Record<"encoder" | "decoder" | "critic", Adam>,
  position: { epoch: number; step: number },
): number[] {
  const parts = {
    encoder: partVariables(model, "encoder"),
    decoder: partVariables(model, "decoder"),
    critic: partVariables(model, "critic"),
  };
  const rows = x.shape[0];
  const seed = stepSeed(CONFIG.seed, { ...position, purpose: SEED_PURPOSE.sampling });
  const eps = shardNormal({ rows, columns: CONFIG.latentSize, seed });
  const zPrior = model.prior.sample(rows, CONFIG.latentSize, seed + 1);
  const real = tf.sub(tf.mul(x, 2), 1) as tf.Tensor2D; // the discriminator sees [-1, 1]
  const realFeatures = model.criticFeatures!(real);
  const pass = () => {
    const { mean, logVar } = model.encode(x);
    const sigma = tf.exp(tf.div(logVar!, 2));
    const z = tf.add(mean, tf.mul(sigma, eps)) as tf.Tensor2D;
    // KL(N(mean, sigma^2) || N(0, I)) = 1/2 sum(mean^2 + sigma^2 - 1 - log sigma^2).
    const kl = tf.mul(
      tf.sum(tf.sub(tf.add(tf.square(mean), tf.exp(logVar!)), tf.add(logVar!, 1)), 1),
      0.5,
    );
    const tilde = tf.sub(tf.mul(tf.sigmoid(model.decode(z)), 2), 1) as tf.Tensor2D;
    const prior = tf.sub(tf.mul(tf.sigmoid(model.decode(zPrior)), 2), 1) as tf.Tensor2D;
    const feature = tf.mul(
      tf.sum(tf.square(tf.sub(realFeatures, model.criticFeatures!(tilde))), 1),
      0.5,
    );
    return { kl, tilde, prior, feature };
  };
  const logD = (images: tf.Tensor2D) => tf.log(tf.sigmoid(model.critic!(images))); // log D
  const logNotD = (images: tf.Tensor2D) => tf.log(tf.sub(1, tf.sigmoid(model.critic!(images)))); // log(1 - D)
  const encoder = tf.variableGrads(() => {
    const { kl, feature } = pass();
    return tf.mean(tf.add(tf.mul(kl, CONFIG.beta), feature)) as tf.Scalar;
  }, parts.encoder);
  const decoder = tf.variableGrads(() => {
    const { tilde, prior, feature } = pass();
    const fool = tf.neg(tf.add(logD(tilde), logD(prior))); // non-saturating, on both fakes
    return tf.mean(tf.add(tf.mul(feature, CONFIG.featureWeight!), fool)) as tf.Scalar;
  }, parts.decoder);
  const { tilde, prior, kl, feature } = pass();
  const [fixedTilde, fixedPrior] = [
    tf.tensor(tilde.dataSync(), tilde.shape),
    tf.tensor(prior.dataSync(), prior.shape),
  ] as tf.Tensor2D[];
  const critic = tf.variableGrads(
    () =>
      tf.neg(
        tf.add(
          tf.add(tf.mean(logD(real)), tf.mean(logNotD(fixedTilde))),
          tf.mean(logNotD(fixedPrior)),
        ),
      ) as tf.Scalar,
    parts.critic,
  );
  const terms = [
    encoder.value,
    tf.mean(kl),
    tf.mean(feature),
    critic.value,
    decoder.value,
    tf.mean(tf.exp(logD(real))),
    tf.mean(tf.exp(logD(fixedPrior))),
  ].map((t) => t.dataSync()[0]);
  adams.encoder.apply(parts.encoder, encoder.grads);
  adams.decoder.apply(parts.decoder, decoder.grads);
  adams.critic.apply(parts.critic, critic.grads);
  return terms;
}

Deno.test("VaeGanStep is Larsen et al.'s step written out: weights after two steps, every term", async () => {
  const batch = syntheticDigits(12, 3);
  const ours = buildModel(CONFIG);
  const step = new VaeGanStep(ours, CONFIG);
  const ourTerms: number[][] = [];
  for (const position of POSITIONS) {
    const terms = await step.run(batch, position);
    ourTerms.push(Array.from(terms.dataSync()));
    terms.dispose();
  }
  step.close();

  const model = buildModel(CONFIG);
  const settings = { learningRate: CONFIG.learningRate, beta1: CONFIG.beta1 };
  const adams = {
    encoder: new Adam(settings),
    decoder: new Adam(settings),
    critic: new Adam(settings),
  };
  const x = tf.tensor2d(batch.images, [batch.size, 784]);
  const theirTerms = POSITIONS.map((position) =>
    tf.tidy(() => writtenOutStep(model, x, adams, position))
  );
  x.dispose();
  Object.values(adams).forEach((adam) => adam.dispose());

  // Terms: the same losses computed in other words agree to float32 rounding of sums of a few
  // hundred terms (relative 1e-5).
  assertEquals(ourTerms[0].length, VAEGAN_TERMS.length);
  for (const [s, terms] of ourTerms.entries()) {
    terms.forEach((value, i) => {
      const expected = theirTerms[s][i];
      assert(
        Math.abs(value - expected) <= 1e-5 * Math.max(1, Math.abs(expected)),
        `step ${s + 1}, ${VAEGAN_TERMS[i]}: ${value}, written out ${expected}`,
      );
    });
  }
  // Weights: Adam's first steps move each weight by about the learning rate (2e-4) in the
  // gradient's direction, so a wrong target, a wrong fake or a wrong weight moves many weights by
  // up to 2 learning rates; rounding moves a weight only where its gradient is near 0 and its
  // sign uncertain, by (learning rate) |g| / (|g| + 1e-8), below 1e-6 for gradients within float32
  // rounding of 0. Tolerance: 1/20 of the learning rate.
  const [a, b] = [getWeights(ours), getWeights(model)];
  ours.names.forEach((name, i) => {
    const gap = a[i].reduce((m, v, j) => Math.max(m, Math.abs(v - b[i][j])), 0);
    assert(gap < CONFIG.learningRate / 20, `${name} differs from the written-out step by ${gap}`);
  });
  disposeModel(ours);
  disposeModel(model);
});
