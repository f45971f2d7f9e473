import { assert, assertEquals } from "@std/assert";
import * as tf from "@tensorflow/tfjs";
import {
  askedDigits,
  buildModel,
  CLASSIFIER_DEFAULTS,
  disposeModel,
  initBackend,
  type Run,
  STANDARD_NORMAL,
  TRAIN_DEFAULTS,
} from "../../lib/mod.ts";
import { syntheticDigits } from "../synthetic.ts";

/** A stand-in classifier with the given features [B, 2] of images [B, 784]; reads every image as 0. */
function standInClassifier(features: (x: tf.Tensor2D) => tf.Tensor2D) {
  return {
    config: { ...CLASSIFIER_DEFAULTS, latentSize: 2 },
    prior: STANDARD_NORMAL,
    variables: [],
    names: [],
    encode: (x: tf.Tensor2D) => ({ mean: features(x) }),
    decode: (f: tf.Tensor2D) => tf.zeros([f.shape[0], 10]) as tf.Tensor2D,
  };
}

await initBackend({ backend: "wasm", quiet: true });

Deno.test("askedDigits() counts the samples read as the digit asked for, digit by digit", async () => {
  const model = buildModel({ ...TRAIN_DEFAULTS, conditional: true, hiddenSize: 32, latentSize: 2 });
  // A stand-in classifier that reads every image as a 3 (features: a constant pair).
  const classifier = {
    config: { ...CLASSIFIER_DEFAULTS, latentSize: 2 },
    prior: model.prior,
    variables: [],
    names: [],
    encode: (x: tf.Tensor2D) => ({ mean: tf.zeros([x.shape[0], 2]) as tf.Tensor2D }),
    decode: (f: tf.Tensor2D) =>
      tf.tidy(() =>
        tf.mul(tf.oneHot(tf.fill([f.shape[0]], 3, "int32") as tf.Tensor1D, 10), 9)
      ) as tf.Tensor2D,
  };
  const dir = await Deno.makeTempDir();
  try {
    const run = { model, folder: dir, hash: "cvae" } as unknown as Run;
    const reader = { model: classifier, folder: dir, hash: "reads-3" } as unknown as Run;
    const asked = await askedDigits(run, reader, syntheticDigits(200, 7), {
      perDigit: 4,
      seed: 1,
      reference: "synthetic",
    });
    assertEquals(asked.perDigit, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assertEquals(asked.overall, 0.1);
    assertEquals(asked.frechetPerDigit.length, 10);
    assert(asked.frechetPerDigit.every((d) => Math.abs(d) < 1e-6), "equal (constant) features");
  } finally {
    await Deno.remove(dir, { recursive: true });
    disposeModel(model);
  }
});

Deno.test("askedDigits(): each digit's Fréchet distance is to the real test digits of that class", async () => {
  // A stand-in generator that draws one fixed image per asked digit d (pixel logits d / 3 - 1
  // everywhere, +2 on row d), whatever the code; and features [intensity-weighted row, column].
  const logits = new Float32Array(10 * 784).map((_, i) => {
    const [d, pixel] = [Math.floor(i / 784), i % 784];
    return d / 3 - 1 + (Math.floor(pixel / 28) === d ? 2 : 0);
  });
  const generator = {
    ...buildModel({ ...TRAIN_DEFAULTS, conditional: true, hiddenSize: 8, latentSize: 2 }),
    decode: (z: tf.Tensor2D) =>
      tf.tidy(() =>
        tf.matMul(tf.slice(z, [0, 2], [-1, 10]), tf.tensor2d(logits, [10, 784])) as tf.Tensor2D
      ),
  };
  const where = tf.tensor2d(
    Array.from({ length: 784 }, (_, p) => [Math.floor(p / 28) / 28, (p % 28) / 28]).flat(),
    [784, 2],
  );
  const features = (x: tf.Tensor2D) => tf.matMul(x, where) as tf.Tensor2D;
  const test = syntheticDigits(300, 5);
  const dir = await Deno.makeTempDir();
  try {
    const run = { model: generator, folder: dir, hash: "fixed" } as unknown as Run;
    const reader = {
      model: standInClassifier(features),
      folder: dir,
      hash: "rc",
    } as unknown as Run;
    const asked = await askedDigits(run, reader, test, { perDigit: 3, seed: 2, reference: "t" });
    // Samples of digit d are one point s_d: the distance to N(mu_d, C_d) of the real d's is
    // |s_d - mu_d|^2 + tr C_d (C_d with n - 1), computed here in float64 from the features.
    const real = tf.tidy(() => features(tf.tensor2d(test.images, [300, 784]))).arraySync();
    const sample = tf.tidy(() =>
      features(tf.sigmoid(tf.tensor2d(logits, [10, 784])) as tf.Tensor2D)
    ).arraySync();
    for (let d = 0; d < 10; d++) {
      const rows = real.filter((_, i) => test.labels[i] === d);
      const mu = [0, 1].map((j) => rows.reduce((a, r) => a + r[j], 0) / rows.length);
      const trace = [0, 1].reduce(
        (t, j) => t + rows.reduce((a, r) => a + (r[j] - mu[j]) ** 2, 0) / (rows.length - 1),
        0,
      );
      const expected = (sample[d][0] - mu[0]) ** 2 + (sample[d][1] - mu[1]) ** 2 + trace;
      // float32 features summed over 784 pixels (relative 1e-6 each), and the distance's matrix
      // square root of a singular product: within 1e-4 of the distance (which is about 1 to 30).
      const got = asked.frechetPerDigit[d];
      assert(
        Math.abs(got - expected) <= 1e-4 * expected,
        `digit ${d}: ${got}, expected ${expected}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    tf.dispose(where);
    disposeModel(generator);
  }
});
