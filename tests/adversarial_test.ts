import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  AAE_DEFAULTS,
  batchNorm,
  binaryCrossEntropy,
  buildModel,
  CLASSIFIER_DEFAULTS,
  DCGAN_DEFAULTS,
  dense,
  disposeModel,
  elboTerms,
  GAN_DEFAULTS,
  generatorGradientNorms,
  generatorLoss,
  getWeights,
  initBackend,
  mixturePrior,
  partVariables,
  ringMixture,
  setWeights,
  slicedWasserstein,
  STANDARD_NORMAL,
  train,
  TRAIN_DEFAULTS,
} from "../lib/mod.ts";
import { syntheticMnist } from "./synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("mixture prior: log p(z) is the log of the weighted sum of the components' densities", () => {
  const means = [[0, 0], [2, -1], [-3, 1]];
  const logVars = [[0, 0], [0.5, -0.5], [-1, 1]];
  const logits = [0, 1, -0.5];
  const prior = mixturePrior({
    means: tf.tensor2d(means),
    logVars: tf.tensor2d(logVars),
    logits: tf.tensor1d(logits),
  });
  const z = [[0.3, -0.2], [1.5, -1.2], [-2, 2]];
  const got = prior.logDensity(tf.tensor2d(z)).arraySync() as number[];
  const weights = logits.map(Math.exp);
  const total = weights.reduce((a, b) => a + b, 0);
  z.forEach((point, i) => {
    let density = 0;
    means.forEach((mean, k) => {
      let component = weights[k] / total;
      for (let j = 0; j < 2; j++) {
        const variance = Math.exp(logVars[k][j]);
        component *= Math.exp(-((point[j] - mean[j]) ** 2) / (2 * variance)) /
          Math.sqrt(2 * Math.PI * variance);
      }
      density += component;
    });
    assertAlmostEquals(got[i], Math.log(density), 1e-4);
  });
});

Deno.test("mixture prior: draws have the mixture's mean and variance", () => {
  const parameters = ringMixture(4, 2, { radius: 3, std: 0.5 });
  const prior = mixturePrior(parameters);
  const draws = prior.sample(20000, 2, 5);
  const { mean, variance } = tf.moments(draws, 0);
  const [mx, my] = mean.arraySync() as number[];
  const [vx, vy] = variance.arraySync() as number[];
  // Means at (3, 0), (0, 3), (-3, 0), (0, -3): mean 0, variance 9 / 2 + 0.25 on each axis.
  assertAlmostEquals(mx, 0, 0.06);
  assertAlmostEquals(my, 0, 0.06);
  assertAlmostEquals(vx, 4.75, 0.15);
  assertAlmostEquals(vy, 4.75, 0.15);
  assertThrows(() => prior.sample(3, 5), RangeError, "latentSize 2");
  assertThrows(() => prior.kl(draws, draws), RangeError, "needs the draw z");
  tf.dispose([draws, mean, variance, parameters.means, parameters.logVars, parameters.logits]);
});

Deno.test("mixture prior with K = 1 standard component reproduces the standard VAE's loss", () => {
  const config = { ...TRAIN_DEFAULTS, latentSize: 3, hiddenSize: 16 };
  const standard = buildModel(config);
  const mixture = buildModel({ ...config, prior: "mixture", components: 1 });
  // Same network weights; the component N(0, I): means and log-variances 0.
  const weights = getWeights(standard);
  setWeights(mixture, [...weights, new Float32Array(3), new Float32Array(3), new Float32Array(1)]);
  const x = tf.tensor2d(syntheticMnist(16, 1).train.images, [16, 784]);
  const z = tf.randomNormal([16, 3], 0, 1, "float32", 1) as tf.Tensor2D;
  assertAlmostEquals(
    tf.sum(tf.sub(mixture.prior.logDensity(z), STANDARD_NORMAL.logDensity(z)))
      .arraySync() as number,
    0,
    1e-4,
  );
  // The reconstruction term is the same draw for the same seed; the KL is Monte Carlo, whose
  // mean over many draws is the closed form the standard VAE uses.
  const differences: number[] = [];
  for (let seed = 1; seed <= 400; seed++) {
    tf.tidy(() => {
      const a = elboTerms(standard, x, { seed });
      const b = elboTerms(mixture, x, { seed });
      assertAlmostEquals(
        tf.max(tf.abs(tf.sub(a.reconstruction, b.reconstruction))).arraySync() as number,
        0,
        1e-4,
      );
      differences.push(tf.mean(tf.sub(b.loss, a.loss)).arraySync() as number);
    });
  }
  const mean = differences.reduce((s, d) => s + d, 0) / differences.length;
  const sd = Math.sqrt(differences.reduce((s, d) => s + (d - mean) ** 2, 0) / differences.length);
  assert(Math.abs(mean) < 3 * sd / Math.sqrt(differences.length) + 1e-3, `mean ${mean}, sd ${sd}`);
  assert(sd > 0, "the mixture's KL is a Monte Carlo estimate");
  tf.dispose([x, z]);
  disposeModel(standard);
  disposeModel(mixture);
});

Deno.test("a learnt mixture prior trains: its variables change and the ELBO falls", async () => {
  const data = syntheticMnist(128, 32);
  const config = {
    ...TRAIN_DEFAULTS,
    prior: "mixture" as const,
    components: 3,
    latentSize: 2,
    hiddenSize: 32,
    batchSize: 32,
    epochs: 4,
  };
  const { model, history } = await train(data, config, { workers: 1 });
  const test = history.filter((r) => r.split === "test");
  assert(test.at(-1)!.loss < test[0].loss, `test loss ${test.map((r) => r.loss)}`);
  const means = partVariables(model, "prior")[0].arraySync() as number[][];
  const fresh = buildModel(config);
  const initial = partVariables(fresh, "prior")[0].arraySync() as number[][];
  assert(means.flat().some((v, i) => v !== initial.flat()[i]), "the prior's means moved");
  disposeModel(model);
  disposeModel(fresh);
});

Deno.test("binary cross-entropy and the generator losses match their closed forms", () => {
  const l = [-3, -0.5, 0, 2];
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  const values = (t: tf.Tensor) => Array.from(t.dataSync());
  const logits = tf.tensor1d(l);
  values(binaryCrossEntropy(logits, 0.9)).forEach((v, i) =>
    assertAlmostEquals(v, -0.9 * Math.log(sigmoid(l[i])) - 0.1 * Math.log(1 - sigmoid(l[i])), 1e-5)
  );
  values(generatorLoss(logits, "saturating")).forEach((v, i) =>
    assertAlmostEquals(v, Math.log(1 - sigmoid(l[i])), 1e-5)
  );
  values(generatorLoss(logits, "non-saturating")).forEach((v, i) =>
    assertAlmostEquals(v, -Math.log(sigmoid(l[i])), 1e-5)
  );
  // Their gradients in l: -sigmoid(l) and -(1 - sigmoid(l)).
  const grad = (loss: "saturating" | "non-saturating") =>
    values(tf.grad((x: tf.Tensor) => tf.sum(generatorLoss(x as tf.Tensor1D, loss)))(logits));
  grad("saturating").forEach((g, i) => assertAlmostEquals(g, -sigmoid(l[i]), 1e-5));
  grad("non-saturating").forEach((g, i) => assertAlmostEquals(g, -(1 - sigmoid(l[i])), 1e-5));
  logits.dispose();
});

Deno.test("dense with leakyRelu: value and gradients match the composed tf ops", () => {
  const x = tf.randomNormal([5, 4], 0, 1, "float32", 1) as tf.Tensor2D;
  const w = tf.randomNormal([4, 3], 0, 1, "float32", 2) as tf.Tensor2D;
  const b = tf.randomNormal([3], 0, 1, "float32", 3) as tf.Tensor1D;
  const ours = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.square(dense(x as tf.Tensor2D, {
      kernel: w as tf.Tensor2D,
      bias: b as tf.Tensor1D,
      activation: "leakyRelu",
    })));
  const plain = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.square(tf.leakyRelu(tf.add(tf.matMul(x, w), b), 0.2)));
  const a = tf.grads(ours)([x, w, b]);
  const c = tf.grads(plain)([x, w, b]);
  assertAlmostEquals(
    ours(x, w, b).arraySync() as number,
    plain(x, w, b).arraySync() as number,
    1e-4,
  );
  a.forEach((g, i) => assert(tf.max(tf.abs(tf.sub(g, c[i]))).arraySync() as number < 1e-4));
});

Deno.test("batchNorm: each channel has mean shift and std scale; a batch of one is refused", () => {
  const x = tf.randomNormal([8, 3, 3, 4], 2, 3, "float32", 1);
  const y = batchNorm(x, tf.tensor1d([1, 2, 3, 4]), tf.tensor1d([0, 1, 2, 3]));
  const { mean, variance } = tf.moments(y, [0, 1, 2]);
  (mean.arraySync() as number[]).forEach((m, c) => assertAlmostEquals(m, c, 1e-4));
  (variance.arraySync() as number[]).forEach((v, c) => assertAlmostEquals(v, (c + 1) ** 2, 1e-2));
  assertThrows(
    () => batchNorm(tf.zeros([1, 4]), tf.tensor1d([1, 1, 1, 1]), tf.tensor1d([0, 0, 0, 0])),
    RangeError,
    "2 or more",
  );
});

Deno.test("GAN and DCGAN: generator and critic shapes, variables split by name, no encoder", () => {
  for (const config of [GAN_DEFAULTS, DCGAN_DEFAULTS]) {
    const model = buildModel({ ...config, latentSize: 8 });
    tf.tidy(() => {
      const z = tf.randomNormal([6, 8]) as tf.Tensor2D;
      const logits = model.decode(z);
      assertEquals(logits.shape, [6, 784]);
      assertEquals(model.critic!(tf.tanh(logits) as tf.Tensor2D).shape, [6]);
    });
    const generator = partVariables(model, "generator");
    const critic = partVariables(model, "critic");
    assertEquals(generator.length + critic.length, model.variables.length);
    assertThrows(() => model.encode(tf.zeros([2, 784])), TypeError, "no encoder");
    disposeModel(model);
  }
});

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

Deno.test("model and train configs of the new kinds are checked", () => {
  assertThrows(() => buildModel({ ...GAN_DEFAULTS, prior: "mixture" }), RangeError, "prior");
  assertThrows(() => buildModel({ ...AAE_DEFAULTS, arch: "conv" }), RangeError, "mlp");
  assertThrows(() => buildModel({ ...CLASSIFIER_DEFAULTS, arch: "mlp" }), RangeError, "conv");
  assertThrows(
    () => buildModel({ ...AAE_DEFAULTS, prior: "mixture", latentSize: 1 }),
    RangeError,
    "latentSize >= 2",
  );
});
