import { assert, assertEquals, assertThrows } from "@std/assert";
import * as tf from "@tensorflow/tfjs";
import {
  buildModel,
  decodeCodes,
  digitCycle,
  disposeModel,
  fusedGradients,
  GAN_DEFAULTS,
  generatorImages,
  initBackend,
  shardGradients,
  train,
  TRAIN_DEFAULTS,
  type TrainConfig,
  withLabels,
} from "../../lib/mod.ts";
import { syntheticDigits, syntheticMnist } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });
const SMALL: TrainConfig = {
  ...TRAIN_DEFAULTS,
  conditional: true,
  hiddenSize: 32,
  latentSize: 2,
  batchSize: 32,
  epochs: 1,
};

Deno.test("withLabels() appends the one-hot label: the decode depends on it, and needs it", () => {
  const model = buildModel(SMALL);
  const before = tf.memory().numTensors;
  const decode = (labels: number[]) =>
    tf.tidy(() => withLabels(model, labels).decode(tf.zeros([3, 2])).arraySync() as number[][]);
  const sevens = decode([7, 7, 7]);
  const mixed = decode([7, 1, 7]);
  assertEquals(tf.memory().numTensors, before, "a labelled decode leaves no tensor behind");
  assertEquals(mixed[0], sevens[0]);
  assertEquals(mixed[2], sevens[2]);
  assert(mixed[1].some((v, i) => v !== sevens[1][i]), "label 1 decodes as label 7 does");
  // By hand: the decoder's first layer sees [z, onehot(7)], so its pre-activation is
  // bias + kernel row 2 + 7 (z = 0).
  const [kernel, bias] = [model.variables[4], model.variables[5]];
  const expected = tf.tidy(() => tf.add(bias, kernel.slice([2 + 7, 0], [1, -1]).reshape([-1])));
  const h = tf.tidy(() =>
    tf.add(tf.matMul(tf.concat([tf.zeros([1, 2]), tf.oneHot([7], 10).toFloat()], 1), kernel), bias)
  );
  assertEquals(Array.from(h.dataSync()), Array.from(expected.dataSync()));
  tf.dispose([h, expected]);
  assertThrows(
    () => model.decode(tf.zeros([1, 2])),
    RangeError,
    "a conditional model's decoder takes 12 columns (the label's one-hot appended); got 2",
  );
  assertThrows(
    () => withLabels(model, [1, 2]).decode(tf.zeros([3, 2])),
    RangeError,
    "z has 3 rows but 2 labels were given",
  );
  assertThrows(() => decodeCodes(model, new Float32Array(4)), RangeError, "pass labels");
  disposeModel(model);
});

Deno.test("withLabels() leaves a model that is not conditional as it is", () => {
  const model = buildModel({ ...SMALL, conditional: false });
  assertEquals(withLabels(model, [1, 2, 3]), model);
  disposeModel(model);
});

Deno.test("a conditional VAE trains on one thread by autodiff, and needs the batch's labels", () => {
  const model = buildModel(SMALL);
  assertEquals(fusedGradients(model, SMALL), undefined);
  const batch = syntheticDigits(8, 3);
  assertThrows(
    () =>
      shardGradients(model, {
        batch: batch.images,
        config: SMALL,
        position: { epoch: 1, step: 1 },
      }),
    RangeError,
    "a conditional model's step needs the batch's 8 labels",
  );
  const { grads, means } = shardGradients(model, {
    batch: batch.images,
    labels: batch.labels,
    config: SMALL,
    position: { epoch: 1, step: 1 },
  });
  // The label's rows of the decoder's first kernel get a gradient.
  const labelRows = tf.tidy(() =>
    grads[model.variables[4].name].slice([2, 0], [10, -1]).abs().sum()
  );
  assert(labelRows.dataSync()[0] > 0);
  tf.dispose([grads, means, labelRows] as tf.TensorContainer);
  disposeModel(model);
});

Deno.test("a conditional VAE learns what each label looks like: decodes of z = 0 by label", async () => {
  // Synthetic digits: a box whose place depends on the label. After training, the decode of the
  // same code with label c is brightest in label c's box.
  const data = syntheticMnist(640, 64);
  const config = { ...SMALL, epochs: 20, hiddenSize: 64, learningRate: 3e-3 };
  const { model, workers } = await train(data, config, { workers: "auto" });
  assertEquals(workers, 1);
  const means = decodeCodes(model, new Float32Array(20), { labels: digitCycle(10) });
  const boxMean = (image: number, label: number) => {
    const top = 3 + 2 * (label % 5);
    const left = 5 + 8 * Math.floor(label / 5);
    let sum = 0;
    for (let r = top; r < top + 8; r++) {
      for (let c = left; c < left + 6; c++) sum += means[image * 784 + r * 28 + c];
    }
    return sum / 48;
  };
  for (let label = 0; label < 10; label++) {
    const own = boxMean(label, label);
    // Boxes of labels 5 apart do not overlap; boxes of neighbours do. A model that ignored the
    // label would draw the same blur of every box (own = far on average); measured 2.4x to 9x.
    const far = boxMean(label, (label + 5) % 10);
    assert(own > 2 * far, `label ${label}: own box ${own.toFixed(2)}, far box ${far.toFixed(2)}`);
  }
  disposeModel(model);
});

Deno.test("a conditional GAN trains through the GAN step and samples the asked digits in turn", async () => {
  const config: TrainConfig = { ...GAN_DEFAULTS, conditional: true, latentSize: 8, epochs: 1 };
  const { model } = await train(syntheticMnist(128, 32), config);
  assertThrows(() => model.critic!(tf.zeros([2, 784])), RangeError, "critic takes 794 columns");
  const images = generatorImages(model, 20, 1);
  assertEquals(images.length, 20 * 784);
  disposeModel(model);
});

Deno.test("a projection cGAN's critic adds embedding(y) . features(x); generatorNorm normalises G", async () => {
  const config = { ...GAN_DEFAULTS, conditional: true, latentSize: 4, seed: 3 } as TrainConfig;
  const plain = buildModel(config);
  const model = buildModel({ ...config, conditioning: "projection", generatorNorm: true });
  // The projection's embedding and G's four normalisation variables join; nothing else changes,
  // and the plain model's variables keep their seeds (the same first weights).
  assertEquals(model.variables.length, plain.variables.length + 5);
  assertEquals(model.names.filter((n) => n.startsWith("generator.norm")).length, 4);
  assertEquals(model.names.at(-1), "critic.embedding");
  assertEquals(
    Array.from(model.variables[0].dataSync()),
    Array.from(plain.variables[0].dataSync()),
  );
  // The critic's first layer sees the 784 pixels only; the label enters through the embedding:
  // for the same images, the logits' difference between labels 2 and 5 is (E[2] - E[5]) . h2.
  const x = tf.randomUniform([6, 784], -1, 1, "float32", 1) as tf.Tensor2D;
  const logits = (label: number) =>
    withLabels(model, new Array(6).fill(label)).critic!(x).dataSync();
  const embedding = model.variables.at(-1)!.arraySync() as number[][];
  const h2 = tf.tidy(() => {
    const [w1, b1, w2, b2] = model.variables.slice(10, 14);
    const leaky = (t: tf.Tensor) => tf.maximum(t, tf.mul(t, 0.2));
    const h1 = leaky(tf.add(tf.matMul(x, w1 as tf.Tensor2D), b1));
    return leaky(tf.add(tf.matMul(h1 as tf.Tensor2D, w2 as tf.Tensor2D), b2))
      .arraySync() as number[][];
  });
  const [two, five] = [logits(2), logits(5)];
  for (let i = 0; i < 6; i++) {
    const expected = h2[i].reduce((a, h, j) => a + h * (embedding[2][j] - embedding[5][j]), 0);
    assert(
      Math.abs(two[i] - five[i] - expected) < 1e-4,
      `row ${i}: ${two[i] - five[i]} vs ${expected}`,
    );
  }
  // G: each hidden layer normalised over the batch before its ReLU, written out here in float64
  // (gamma 1, beta 0 at the start; the batch's biased variance; epsilon 1e-5).
  const codes = withLabels(model, [0, 3, 3, 7, 9]);
  const z = tf.randomNormal([5, 4], 0, 1, "float32", 2) as tf.Tensor2D;
  const generated = codes.decode(z).arraySync() as number[][];
  const [g1, c1, g2, c2, g3, c3] = model.variables.slice(0, 6).map((v) => v.arraySync()) as [
    number[][],
    number[],
    number[][],
    number[],
    number[][],
    number[],
  ];
  const input = tf.concat([z, tf.oneHot([0, 3, 3, 7, 9], 10).toFloat()], 1)
    .arraySync() as number[][];
  const affine = (rows: number[][], w: number[][], b: number[]) =>
    rows.map((r) => b.map((bj, j) => r.reduce((a, v, k) => a + v * w[k][j], bj)));
  const normRelu = (rows: number[][]) =>
    rows.map((r) =>
      r.map((v, j) => {
        const column = rows.map((q) => q[j]);
        const m = column.reduce((a, b) => a + b, 0) / rows.length;
        const variance = column.reduce((a, b) => a + (b - m) ** 2, 0) / rows.length;
        return Math.max(0, (v - m) / Math.sqrt(variance + 1e-5));
      })
    );
  const byHand = affine(normRelu(affine(normRelu(affine(input, g1, c1)), g2, c2)), g3, c3);
  let worstG = 0;
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 784; j++) {
      worstG = Math.max(worstG, Math.abs(generated[i][j] - 2 * byHand[i][j]));
    }
  }
  assert(worstG < 1e-3, `G with batch normalisation is off the written-out one by ${worstG}`);
  tf.dispose(z);
  // G's hidden layers are normalised over the batch: a batch of one is refused.
  assertThrows(() => withLabels(model, [1]).decode(tf.zeros([1, 4])), RangeError, "batch of 2");
  // It trains, and the options are checked.
  const run = await train(syntheticMnist(128, 32), {
    ...config,
    conditioning: "projection",
    generatorNorm: true,
    epochs: 1,
    batchSize: 32,
  }, { workers: 1 });
  assert(run.history.every((r) => Number.isFinite(r.loss)));
  assertThrows(() => buildModel({ ...TRAIN_DEFAULTS, conditioning: "projection" }), RangeError);
  assertThrows(() => buildModel({ ...config, arch: "conv", generatorNorm: true }), RangeError);
  tf.dispose(x);
  for (const m of [plain, model, run.model]) disposeModel(m);
});
