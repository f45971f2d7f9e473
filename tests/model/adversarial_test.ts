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
  GAN_DEFAULTS,
  generatorLoss,
  initBackend,
  MINIBATCH_DIMS,
  MINIBATCH_KERNELS,
  minibatchFeatures,
  partVariables,
} from "../../lib/mod.ts";

await initBackend({ backend: "wasm", quiet: true });

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

Deno.test("minibatch discrimination: each kernel sums exp(-L1 distance) over the batch, itself included", () => {
  const [a, b, c] = [128, MINIBATCH_KERNELS, MINIBATCH_DIMS];
  const t = tf.randomNormal([a, b * c], 0, 0.05, "float32", 2) as tf.Tensor2D;
  const f = tf.randomNormal([3, a], 0, 1, "float32", 4) as tf.Tensor2D;
  const out = minibatchFeatures(f, t).arraySync();
  // Written out: M = f T, rows of C per kernel.
  const m = tf.matMul(f, t).arraySync() as number[][];
  for (let i = 0; i < 3; i++) {
    for (let k = 0; k < b; k++) {
      let expected = 0;
      for (let j = 0; j < 3; j++) {
        let distance = 0;
        for (let q = 0; q < c; q++) distance += Math.abs(m[i][k * c + q] - m[j][k * c + q]);
        expected += Math.exp(-distance);
      }
      assertAlmostEquals(out[i][k], expected, 1e-5);
    }
  }
  // A batch of one image repeated: every kernel counts the batch.
  const same = minibatchFeatures(tf.tile(tf.slice(f, [0, 0], [1, a]), [5, 1]) as tf.Tensor2D, t);
  assert(same.arraySync().flat().every((v) => Math.abs(v - 5) < 1e-5));
  const model = buildModel({ ...GAN_DEFAULTS, minibatchDiscrimination: true });
  assertEquals(model.critic!(tf.zeros([4, 784])).shape, [4]);
  assertEquals(model.names.at(-1), "critic.minibatch.kernel");
  assertThrows(
    () => buildModel({ ...GAN_DEFAULTS, arch: "conv", minibatchDiscrimination: true }),
    RangeError,
    'minibatchDiscrimination applies to the unconditional MLP GAN; got "gan", "conv"',
  );
  tf.dispose([t, f, same]);
  disposeModel(model);
});
