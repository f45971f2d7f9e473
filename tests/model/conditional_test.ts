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
