import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "@std/assert";
import {
  AAE_DEFAULTS,
  Adam,
  buildModel,
  CLASSIFIER_DEFAULTS,
  criticLoss,
  disposeModel,
  featureMatching,
  GAN_DEFAULTS,
  GanStep,
  generatedImages,
  generatorGradientNorms,
  generatorLoss,
  getWeights,
  imagesOf,
  initBackend,
  mixSeeds,
  partVariables,
  SEED_PURPOSE,
  slicedWasserstein,
  STANDARD_NORMAL,
  stepSeed,
  train,
  TRAIN_DEFAULTS,
} from "../../lib/mod.ts";
import { syntheticMnist } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("saturating loss: the generator's gradient vanishes when the critic rejects its samples", () => {
  const model = buildModel({ ...GAN_DEFAULTS, latentSize: 8 });
  const z = tf.randomNormal([32, 8], 0, 1, "float32", 3) as tf.Tensor2D;
  // A critic that calls every sample fake: push its output bias far below 0 (D(G(z)) ~ e^-8).
  const bias = partVariables(model, "critic").at(-1)!;
  bias.assign(tf.fill(bias.shape, -8));
  const norms = generatorGradientNorms(model, z);
  // d/dl of -softplus(l) is -sigmoid(l), of softplus(-l) is -(1 - sigmoid(l)): ratio ~ e^l.
  assert(norms.saturating < 0.01 * norms["non-saturating"], JSON.stringify(norms));
  bias.assign(tf.zeros(bias.shape));
  const even = generatorGradientNorms(model, z);
  assert(even.saturating / even["non-saturating"] > 0.3, JSON.stringify(even));
  z.dispose();
  disposeModel(model);
});

Deno.test("GAN, AAE and classifier train through the loop with their own terms", async () => {
  const data = syntheticMnist(128, 64);
  const small = { epochs: 2, batchSize: 32 };
  const gan = await train(data, { ...GAN_DEFAULTS, ...small, latentSize: 8 }, { workers: 1 });
  assertEquals(gan.history.map((r) => r.split), ["train", "train"]);
  for (const r of gan.history) {
    assertEquals(r.loss, r.discriminator);
    assert(r.realScore! > 0 && r.realScore! < 1 && r.generatorGradNorm! > 0);
  }
  const smoothed = await train(data, {
    ...GAN_DEFAULTS,
    ...small,
    latentSize: 8,
    labelSmoothing: 0.1,
    ganLoss: "saturating",
  }, { workers: 1 });
  assert(smoothed.history[0].discriminator !== gan.history[0].discriminator);
  const aae = await train(data, { ...AAE_DEFAULTS, ...small, hiddenSize: 32 }, { workers: 1 });
  const aaeTrain = aae.history.filter((r) => r.split === "train");
  assert(aaeTrain[1].reconstruction < aaeTrain[0].reconstruction);
  assertEquals(aae.history.filter((r) => r.split === "test").length, 2);
  const classifier = await train(
    syntheticMnist(512, 128),
    { ...CLASSIFIER_DEFAULTS, ...small, epochs: 6, latentSize: 16, learningRate: 3e-3 },
    { workers: 1 },
  );
  const test = classifier.history.filter((r) => r.split === "test");
  // Neighbouring synthetic classes overlap by a pixel's jitter; chance is 0.1.
  assert(test.at(-1)!.accuracy! > 0.5, `accuracy ${test.map((r) => r.accuracy)}`);
  assert(test.at(-1)!.loss < test[0].loss, `cross-entropy ${test.map((r) => r.loss)}`);
  for (const run of [gan, smoothed, aae, classifier]) disposeModel(run.model);
});

Deno.test("an AAE's codes are nearer its prior than a plain AE's (synthetic digits)", async () => {
  const data = syntheticMnist(512, 256);
  const common = { epochs: 6, batchSize: 32, hiddenSize: 64, latentSize: 2 };
  const aae = await train(data, { ...AAE_DEFAULTS, ...common }, { workers: 1 });
  const ae = await train(data, { ...TRAIN_DEFAULTS, kind: "ae", ...common }, { workers: 1 });
  const draws = STANDARD_NORMAL.sample(1000, 2, 1);
  const prior = draws.dataSync();
  const codes = (run: typeof aae) =>
    tf.tidy(() => run.model.encode(tf.tensor2d(data.test.images, [256, 784])).mean.dataSync());
  const aaeDistance = slicedWasserstein(codes(aae), prior, 2);
  const aeDistance = slicedWasserstein(codes(ae), prior, 2);
  assert(aaeDistance < aeDistance, `AAE ${aaeDistance}, AE ${aeDistance}`);
  draws.dispose();
  disposeModel(aae.model);
  disposeModel(ae.model);
});

Deno.test("GanStep with criticSteps = 3: three critic steps on fresh draws, the generator on the last or on its own", async () => {
  const config = { ...GAN_DEFAULTS, latentSize: 4, hiddenSize: 16, criticSteps: 3, seed: 7 };
  const batch = syntheticMnist(24, 8).train;
  const position = { epoch: 2, step: 5 };
  const stepped = (c: typeof config) => {
    const model = buildModel(c);
    const step = new GanStep(model, c);
    return step.run(batch, position).then((terms) => {
      terms.dispose();
      step.close();
      const weights = getWeights(model);
      disposeModel(model);
      return weights;
    });
  };
  const ours = await stepped(config);
  // The same step written out: critic Adam steps on z_0, z_1, z_2, then the generator on z_2.
  const model = buildModel(config);
  const [generator, critic] = [partVariables(model, "generator"), partVariables(model, "critic")];
  const settings = { learningRate: config.learningRate, beta1: config.beta1 };
  const [generatorAdam, criticAdam] = [new Adam(settings), new Adam(settings)];
  const seed = stepSeed(config.seed, { ...position, purpose: SEED_PURPOSE.sampling });
  tf.tidy(() => {
    const real = tf.sub(tf.mul(imagesOf(batch), 2), 1) as tf.Tensor2D;
    const fake = (z: tf.Tensor2D) => model.critic!(generatedImages(model.decode(z)));
    let z = model.prior.sample(batch.size, 4, seed);
    for (let k = 0; k < 3; k++) {
      if (k > 0) z = model.prior.sample(batch.size, 4, mixSeeds(seed, k));
      const { grads } = tf.variableGrads(() => criticLoss(model.critic!(real), fake(z), 1), critic);
      criticAdam.apply(critic, grads);
    }
    const loss = () => tf.mean(generatorLoss(fake(z), "non-saturating")) as tf.Scalar;
    generatorAdam.apply(generator, tf.variableGrads(loss, generator).grads);
  });
  const expected = getWeights(model);
  for (const [i, w] of expected.entries()) {
    const gap = w.reduce((m, v, j) => Math.max(m, Math.abs(v - ours[i][j])), 0);
    assert(gap < 1e-6, `variable ${i} differs from the written-out step by ${gap}`);
  }
  // One critic step leaves other weights: the setting is read.
  const once = await stepped({ ...config, criticSteps: 1 });
  // Fresh noise for the generator: the same critic steps, then G on a fourth draw z_3.
  const fresh = await stepped({ ...config, generatorNoise: "fresh" });
  const freshModel = buildModel(config);
  const [freshG, freshD] = [
    partVariables(freshModel, "generator"),
    partVariables(freshModel, "critic"),
  ];
  const [freshGAdam, freshDAdam] = [new Adam(settings), new Adam(settings)];
  tf.tidy(() => {
    const real = tf.sub(tf.mul(imagesOf(batch), 2), 1) as tf.Tensor2D;
    const fake = (z: tf.Tensor2D) => freshModel.critic!(generatedImages(freshModel.decode(z)));
    for (let k = 0; k < 3; k++) {
      const z = k === 0
        ? freshModel.prior.sample(batch.size, 4, seed)
        : freshModel.prior.sample(batch.size, 4, mixSeeds(seed, k));
      freshDAdam.apply(
        freshD,
        tf.variableGrads(() => criticLoss(freshModel.critic!(real), fake(z), 1), freshD).grads,
      );
    }
    const z3 = freshModel.prior.sample(batch.size, 4, mixSeeds(seed, 3));
    const loss = () => tf.mean(generatorLoss(fake(z3), "non-saturating")) as tf.Scalar;
    freshGAdam.apply(freshG, tf.variableGrads(loss, freshG).grads);
  });
  for (const [i, w] of getWeights(freshModel).entries()) {
    const gap = w.reduce((m, v, j) => Math.max(m, Math.abs(v - fresh[i][j])), 0);
    assert(gap < 1e-6, `fresh noise: variable ${i} differs from the written-out step by ${gap}`);
  }
  // The critic's weights are the shared step's; the generator's are not.
  assert(fresh.some((w, i) => w.some((v, j) => v !== ours[i][j])), "fresh noise changed nothing");
  freshGAdam.dispose();
  freshDAdam.dispose();
  disposeModel(freshModel);
  assert(once.some((w, i) => w.some((v, j) => v !== ours[i][j])));
  generatorAdam.dispose();
  criticAdam.dispose();
  disposeModel(model);
});

Deno.test("feature matching: the MLP GAN's critic features, their matching loss, and a step on it", async () => {
  const config = { ...GAN_DEFAULTS, latentSize: 4, seed: 3, featureMatching: true };
  const batch = syntheticMnist(16, 8).train;
  const model = buildModel(config);
  const [generator, critic] = [partVariables(model, "generator"), partVariables(model, "critic")];
  const real = tf.tidy(() => tf.sub(tf.mul(imagesOf(batch), 2), 1) as tf.Tensor2D);
  const z = model.prior.sample(batch.size, 4, 11);
  const fake = tf.tidy(() => generatedImages(model.decode(z)));
  // The features are the critic's last hidden layer: its logit is features . w + b.
  const [w, b] = critic.slice(-2).map((v) => v.dataSync());
  const features = model.criticFeatures!(real).arraySync() as number[][];
  const logits = model.critic!(real).dataSync();
  features.forEach((f, i) => {
    const logit = f.reduce((a, v, j) => a + v * w[j], b[0]);
    assert(Math.abs(logit - logits[i]) < 1e-5, `image ${i}: ${logit} against ${logits[i]}`);
  });
  // |mean f(real) - mean f(fake)|^2, in float64 from the features.
  const fakeFeatures = model.criticFeatures!(fake).arraySync() as number[][];
  const meanOf = (rows: number[][]) =>
    rows[0].map((_, j) => rows.reduce((a, r) => a + r[j], 0) / rows.length);
  const [mr, mf] = [meanOf(features), meanOf(fakeFeatures)];
  const expected = mr.reduce((a, v, j) => a + (v - mf[j]) ** 2, 0);
  const loss = featureMatching(model, real, fake);
  assert(Math.abs(loss.dataSync()[0] - expected) <= 1e-5 * expected, `${loss.dataSync()[0]}`);
  loss.dispose();
  // One step: the critic's as usual, then the generator on the matching loss under the new critic.
  const ours = await (async () => {
    const m = buildModel(config);
    const step = new GanStep(m, config);
    (await step.run(batch, { epoch: 1, step: 2 })).dispose();
    step.close();
    const weights = getWeights(m);
    disposeModel(m);
    return weights;
  })();
  const settings = { learningRate: config.learningRate, beta1: config.beta1 };
  const [gAdam, dAdam] = [new Adam(settings), new Adam(settings)];
  const seed = stepSeed(config.seed, { epoch: 1, step: 2, purpose: SEED_PURPOSE.sampling });
  tf.tidy(() => {
    const draws = model.prior.sample(batch.size, 4, seed);
    const fakes = () => generatedImages(model.decode(draws));
    const d = () => criticLoss(model.critic!(real), model.critic!(fakes()), 1);
    dAdam.apply(critic, tf.variableGrads(d, critic).grads);
    const g = () => featureMatching(model, real, fakes());
    gAdam.apply(generator, tf.variableGrads(g, generator).grads);
  });
  for (const [i, weights] of getWeights(model).entries()) {
    const gap = weights.reduce((m, v, j) => Math.max(m, Math.abs(v - ours[i][j])), 0);
    assert(gap < 1e-6, `variable ${i} differs from the written-out step by ${gap}`);
  }
  gAdam.dispose();
  dAdam.dispose();
  tf.dispose([real, z, fake]);
  disposeModel(model);
});
