import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  buildModel,
  capacityAt,
  disposeModel,
  evaluate,
  initBackend,
  train,
  TRAIN_DEFAULTS,
  type TrainConfig,
  type TrainProgress,
  validateTrainConfig,
} from "../lib/mod.ts";
import { syntheticDigits } from "./synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

const data = { train: syntheticDigits(256, 1), test: syntheticDigits(64, 2) };
const SMALL: TrainConfig = {
  ...TRAIN_DEFAULTS,
  hiddenSize: 32,
  latentSize: 4,
  batchSize: 32,
  epochs: 2,
};

Deno.test("train() leaks no tensor: only the model's variables remain", async () => {
  const before = tf.memory().numTensors;
  const result = await train(data, SMALL);
  assertEquals(tf.memory().numTensors, before + result.model.variables.length);
  disposeModel(result.model);
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("train() with the same seed gives the same history, another seed another", async () => {
  const runs = await Promise.all([SMALL, SMALL, { ...SMALL, seed: 1 }].map(async (c) => {
    const result = await train(data, { ...c, epochs: 1 });
    disposeModel(result.model);
    return result.history;
  }));
  assertEquals(runs[0], runs[1]);
  assert(runs[0][0].loss !== runs[2][0].loss);
});

Deno.test("train() records train and test terms per epoch and lowers the loss", async () => {
  const progress: TrainProgress[] = [];
  const result = await train(data, { ...SMALL, epochs: 3 }, {
    progressEvery: 2,
    onProgress: (p) => void progress.push(structuredClone(p)),
  });
  const splits = result.history.map((r) => `${r.epoch}${r.split}`);
  assertEquals(splits, ["1train", "1test", "2train", "2test", "3train", "3test"]);
  const test = result.history.filter((r) => r.split === "test");
  assert(test[2].loss < test[0].loss, `test loss ${test[0].loss} -> ${test[2].loss}`);
  for (const r of result.history) {
    assert(Math.abs(r.loss - (r.reconstruction + r.kl)) < 1e-2 * r.loss);
  }
  assertEquals(progress.at(-1)?.step, 8);
  assertEquals(progress.filter((p) => p.step === p.steps).length, 3);
  assertEquals(test[2].step, 24);
  assert(result.imagesPerSecond > 0);
  disposeModel(result.model);
});

Deno.test("evaluate() of the trained model reproduces its last test record", async () => {
  const result = await train(data, { ...SMALL, epochs: 1 });
  const last = result.history.at(-1)!;
  const again = evaluate(result.model, data.test, SMALL);
  assert(Math.abs(again.loss - last.loss) < 1e-3, `${again.loss} vs ${last.loss}`);
  disposeModel(result.model);
});

Deno.test("train() stops on a non-finite loss, naming the epoch and step", async () => {
  const bad = syntheticDigits(96, 3);
  bad.images.fill(NaN, 0, 784); // one image of NaNs; its batch's loss is NaN
  await assertRejects(
    () => train({ train: bad }, { ...SMALL, epochs: 1, batchSize: 96 }),
    Error,
    "non-finite loss NaN at epoch 1, step 1",
  );
});

Deno.test("a denoising autoencoder and a beta-VAE train through the same loop", async () => {
  for (const config of [{ ...SMALL, kind: "ae" as const, noise: 0.3 }, { ...SMALL, beta: 4 }]) {
    const result = await train(data, { ...config, epochs: 1 });
    assert(result.history.every((r) => Number.isFinite(r.loss)));
    if (config.kind === "ae") assert(result.history.every((r) => r.kl === 0));
    disposeModel(result.model);
  }
});

Deno.test("train() continues a given model", async () => {
  const model = buildModel(SMALL);
  const first = await train(data, { ...SMALL, epochs: 1 }, { model });
  const second = await train(data, { ...SMALL, epochs: 1 }, { model });
  assert(second.model === model);
  assert(second.history[1].loss < first.history[1].loss);
  disposeModel(model);
});

Deno.test("validateTrainConfig() names the bad field and value", () => {
  assertThrows(
    () => validateTrainConfig({ ...SMALL, epochs: 0 }),
    RangeError,
    "epochs must be a positive integer; got 0",
  );
  assertThrows(
    () => validateTrainConfig({ ...SMALL, learningRate: -1 }),
    RangeError,
    "learningRate",
  );
  assertThrows(
    () => validateTrainConfig({ ...SMALL, beta: NaN }),
    RangeError,
    "beta must be a non-negative number; got NaN",
  );
});

Deno.test("the convolutional VAE trains an epoch on the wasm backend", async () => {
  const result = await train(
    { train: syntheticDigits(64, 4), test: syntheticDigits(32, 5) },
    { ...SMALL, arch: "conv", hiddenSize: 16, epochs: 1 },
  );
  assert(result.history.every((r) => Number.isFinite(r.loss)));
  disposeModel(result.model);
});

Deno.test("capacityAt() ramps C linearly from 0 to the target over the run", () => {
  const config = { epochs: 4, capacity: { gamma: 100, target: 20 } };
  assertEquals(capacityAt(config, { epoch: 1, step: 5, steps: 10 }), 20 * 0.5 / 4);
  assertEquals(capacityAt(config, { epoch: 3, step: 10, steps: 10 }), 15);
  assertEquals(capacityAt(config, { epoch: 4, step: 10, steps: 10 }), 20);
  assertEquals(capacityAt({ epochs: 4 }, { epoch: 2, step: 1 }), 0);
  assertThrows(() => capacityAt(config, { epoch: 1, step: 1 }), RangeError, "steps per epoch");
});

Deno.test("capacity annealing with C = 0 trains like the beta-ELBO with beta = gamma; C > 0 differs", async () => {
  const base = { ...SMALL, epochs: 1, beta: 3 };
  const elbo = await train(data, base, { workers: 1 });
  const zero = await train(data, { ...base, beta: 1, capacity: { gamma: 3, target: 0 } }, {
    workers: 1,
  });
  const ramped = await train(data, { ...base, beta: 1, capacity: { gamma: 3, target: 50 } }, {
    workers: 1,
  });
  const kl = (r: typeof elbo) => r.history.at(-1)!.kl;
  const rec = (r: typeof elbo) => r.history.at(-1)!.reconstruction;
  assert(Math.abs(rec(zero) - rec(elbo)) < 1e-3 * rec(elbo), `${rec(zero)} vs ${rec(elbo)}`);
  assert(Math.abs(kl(zero) - kl(elbo)) < 1e-2 * kl(elbo) + 1e-3, `${kl(zero)} vs ${kl(elbo)}`);
  // Pushed towards C up to 50 nats, the KL ends far above the beta = 3 run's.
  assert(kl(ramped) > 2 * kl(elbo), `ramped KL ${kl(ramped)} vs ${kl(elbo)}`);
  assertThrows(
    () => validateTrainConfig({ ...base, capacity: { gamma: 0, target: 5 } }),
    RangeError,
    "capacity.gamma must be a positive number; got 0",
  );
  for (const r of [elbo, zero, ramped]) disposeModel(r.model);
});
