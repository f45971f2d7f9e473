import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import * as tf from "@tensorflow/tfjs";
import {
  askedDigits,
  buildModel,
  CLASSIFIER_DEFAULTS,
  criticLabelReading,
  digitsAsRead,
  disposeModel,
  GAN_DEFAULTS,
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

Deno.test("digitsAsRead() gives each digit's share of the samples, and NaN where none is read", async () => {
  const model = buildModel({ ...GAN_DEFAULTS, latentSize: 4 });
  // A stand-in classifier whose class is the sign pattern of two features: mean pixel above 1/2
  // (tanh'd samples in [0, 1]) reads as 7, else 2; features constant per class.
  const classifier = {
    ...standInClassifier((x) =>
      tf.tidy(() => {
        const bright = tf.cast(tf.greater(tf.mean(x, 1, true), 0.5), "float32");
        return tf.concat([bright, tf.mul(bright, 2)], 1) as tf.Tensor2D;
      })
    ),
    decode: (f: tf.Tensor2D) =>
      tf.tidy(() => {
        const bright = tf.cast(tf.slice(f, [0, 0], [-1, 1]), "float32");
        const seven = tf.oneHot(tf.fill([f.shape[0]], 7, "int32") as tf.Tensor1D, 10);
        const two = tf.oneHot(tf.fill([f.shape[0]], 2, "int32") as tf.Tensor1D, 10);
        return tf.mul(tf.add(tf.mul(seven, bright), tf.mul(two, tf.sub(1, bright))), 9);
      }) as tf.Tensor2D,
  };
  const generator = {
    ...model,
    // Every other sample bright: decode's logits +-10 by the code's row parity.
    decode: (z: tf.Tensor2D) =>
      tf.tidy(() => {
        const parity = Array.from({ length: z.shape[0] }, (_, i) => (i % 2 === 0 ? 10 : -10));
        return tf.tile(tf.tensor2d(parity, [z.shape[0], 1]), [1, 784]) as tf.Tensor2D;
      }),
  };
  const test = syntheticDigits(200, 3);
  const dir = await Deno.makeTempDir();
  try {
    const run = { model: generator, folder: dir, hash: "half" } as unknown as Run;
    const reader = { model: classifier, folder: dir, hash: "bright" } as unknown as Run;
    const options = { n: 20, seed: 1, reference: "synthetic" };
    for (const pass of ["computed", "read back"]) {
      const read = await digitsAsRead(run, reader, test, options);
      assertEquals(read.share.map((s) => Math.round(s * 20)), [0, 0, 10, 0, 0, 0, 0, 10, 0, 0]);
      read.frechetPerDigit.forEach((d, digit) =>
        assert(
          digit === 2 || digit === 7 ? Number.isFinite(d) : Number.isNaN(d),
          `${pass}: digit ${digit}: ${d}`,
        )
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    disposeModel(model);
  }
});

Deno.test("criticLabelReading(): the logit's gap between the own label and the others, and how often it is highest", () => {
  const model = buildModel({ ...GAN_DEFAULTS, latentSize: 4, conditional: true });
  // A stand-in critic: the image's mean pixel plus v . one-hot(label), v fixed.
  const v = [0, 3, 1, 0, 0, 0, 0, 0, -2, 0.5];
  const critic = (x: tf.Tensor2D) =>
    tf.tidy(() =>
      tf.add(
        tf.mean(tf.slice(x, [0, 0], [-1, 784]), 1),
        tf.reshape(tf.matMul(tf.slice(x, [0, 784], [-1, 10]), tf.tensor2d(v, [10, 1])), [-1]),
      )
    ) as tf.Tensor1D;
  const images = syntheticDigits(60, 4);
  try {
    const read = criticLabelReading({ ...model, critic }, images);
    const sum = v.reduce((a, b) => a + b, 0);
    const labels = Array.from(images.labels);
    const gap = labels.reduce((a, y) => a + v[y] - (sum - v[y]) / 9, 0) / labels.length;
    assertAlmostEquals(read.logitGap, gap, 1e-5);
    // v's largest entry is label 1's: only images of a 1 have their own label highest.
    assertEquals(read.ownLabelHighest, labels.filter((y) => y === 1).length / labels.length);
    // A critic that ignores the label: gap 0, no label strictly highest.
    const blind = criticLabelReading({
      ...model,
      critic: (x) => tf.tidy(() => tf.mean(tf.slice(x, [0, 0], [-1, 784]), 1) as tf.Tensor1D),
    }, images);
    assertEquals(blind, { ownLabelHighest: 0, logitGap: 0 });
    const gan = buildModel({ ...GAN_DEFAULTS, latentSize: 4 });
    assertThrows(() => criticLabelReading(gan, images), TypeError);
    disposeModel(gan);
  } finally {
    disposeModel(model);
  }
});
