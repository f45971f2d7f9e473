import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "@std/assert";
import {
  buildModel,
  chooseWorkers,
  disposeModel,
  getWeights,
  initBackend,
  setWeights,
  train,
  TRAIN_DEFAULTS,
  type TrainConfig,
  TWO_THREAD_MIN_STEPS,
} from "../../lib/mod.ts";
import {
  Adam,
  epochBatches,
  exchangeMode,
  type GradientMix,
  ownerOf,
  runningWorkers,
  shardGradients,
  tensorsNorm,
  TwoThreadStep,
} from "../../lib/train/mod.ts";
import { syntheticDigits } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

const data = { train: syntheticDigits(200, 1), test: syntheticDigits(64, 2) };
const SMALL: TrainConfig = {
  ...TRAIN_DEFAULTS,
  hiddenSize: 32,
  latentSize: 4,
  batchSize: 25,
  epochs: 2,
};

/** The gradients of rows [from, to) of the first 25 training images (the caller disposes them). */
function shardGrads(model: ReturnType<typeof buildModel>, rows: [number, number]) {
  const batch = data.train.images.subarray(0, 25 * 784);
  const { grads, means } = shardGradients(model, {
    batch,
    config: SMALL,
    position: { epoch: 1, step: 1 },
    rows,
  });
  means.dispose();
  return grads;
}

Deno.test("Adam on two shards' gradients, weighted by their rows, takes the whole batch's step", () => {
  // 25 rows split 13 + 12: unequal shares, and each shard cuts its rows of the batch's noise.
  const model = buildModel(SMALL);
  const start = getWeights(model);
  const whole = shardGrads(model, [0, 25]);
  const [g0, g1] = [shardGrads(model, [0, 13]), shardGrads(model, [13, 25])];
  const stepWith = (grads: tf.NamedTensorMap, mix?: GradientMix) => {
    setWeights(model, start);
    const adam = new Adam({ learningRate: 1e-3 });
    const squares = adam.apply(model.variables, grads, 1, mix);
    adam.dispose();
    return { weights: getWeights(model).flatMap((w) => Array.from(w)), squares: squares! };
  };
  const expected = stepWith(whole);
  const mixed = stepWith(g0, { grads: g1, a: 13 / 25, b: 12 / 25 });
  const worst = Math.max(...mixed.weights.map((w, i) => Math.abs(w - expected.weights[i])));
  // Adam's first step moves every weight by about the learning rate: rounding is far below.
  assert(worst < 1e-6, `weights differ by up to ${worst}`);
  assertAlmostEquals(mixed.squares, expected.squares, 1e-4 * expected.squares);
  // An equal-weight average moves some weights differently.
  const equal = stepWith(g0, { grads: g1, a: 0.5, b: 0.5 });
  assert(equal.weights.some((w, i) => Math.abs(w - expected.weights[i]) > 1e-5));
  tf.dispose([whole, g0, g1]);
  disposeModel(model);
});

Deno.test("ownerOf() shares the variables out by size, about half the weights to each thread", () => {
  // The reference MLP VAE's variables: the two 784 x 400 kernels go one to each thread.
  const sizes = [313600, 400, 16000, 40, 8000, 400, 313600, 784];
  const owners = ownerOf(sizes);
  assertEquals(owners, [0, 1, 0, 1, 1, 1, 1, 1]);
  const load = [0, 1].map((t) => sizes.reduce((n, s, i) => n + (owners[i] === t ? s : 0), 0));
  assertEquals(load, [329600, 323224]);
  assertEquals(ownerOf([5]), [0]);
  assertEquals(ownerOf([3, 3]), [0, 1]);
});

Deno.test("two threads keep equal weights and track the one-thread run, whichever way they exchange values", async () => {
  const config = { ...SMALL, epochs: 1 };
  const start = getWeights(buildModel(config));
  const single = buildModel(config);
  setWeights(single, start);
  const one = await train(data, config, { model: single, workers: 1 });
  const byMode: Float32Array[][] = [];
  const modes = exchangeMode() === "direct" ? ["direct", "copies"] as const : ["copies"] as const;
  for (const exchange of modes) {
    const model = buildModel(config);
    setWeights(model, start);
    const trainer = await TwoThreadStep.start(model, { config, train: data.train, exchange });
    try {
      let step = 0;
      for (const batch of epochBatches(data.train, { ...config, epoch: 1 })) {
        (await trainer.run(batch, { epoch: 1, step: ++step })).dispose();
      }
      assertEquals(await trainer.workerWeights(), getWeights(model), exchange);
      byMode.push(getWeights(model));
      // 8 Adam steps of size 1e-3: the rounding may differ, the steps must not.
      const ours = getWeights(model).flatMap((w) => Array.from(w));
      const theirs = getWeights(one.model).flatMap((w) => Array.from(w));
      const worst = Math.max(...ours.map((w, i) => Math.abs(w - theirs[i])));
      // They differ by float32 rounding of the shard average: about 3e-8 here.
      assert(worst < 1e-6, `${exchange}: weights differ from the one-thread run by up to ${worst}`);
    } finally {
      trainer.close();
      disposeModel(model);
    }
  }
  // The two ways hand over the same values: the same bits.
  if (byMode.length === 2) assertEquals(byMode[0], byMode[1]);
  disposeModel(single);
});

Deno.test("a clip that binds: two threads scale by the whole batch's norm, as one thread does", async () => {
  const config = { ...SMALL, epochs: 1 };
  const start = getWeights(buildModel(config));
  // The first batch's gradient norm; a third of it binds on every step of the epoch.
  const probe = buildModel(config);
  setWeights(probe, start);
  const grads = shardGrads(probe, [0, 25]);
  const clipNorm = tensorsNorm(probe.variables.map((v) => grads[v.name])) / 3;
  tf.dispose(grads);
  disposeModel(probe);
  const trained = async (workers: 1 | 2, clip?: number) => {
    const model = buildModel(config);
    setWeights(model, start);
    await train({ train: data.train }, { ...config, clipNorm: clip }, { model, workers });
    const weights = getWeights(model).flatMap((w) => Array.from(w));
    disposeModel(model);
    return weights;
  };
  const [one, two, free] = [
    await trained(1, clipNorm),
    await trained(2, clipNorm),
    await trained(1),
  ];
  const gap = (a: number[], b: number[]) => Math.max(...a.map((w, i) => Math.abs(w - b[i])));
  // Adam is blind to one common scale, not to a scale that changes from step to step: clipping
  // moves the weights by far more than the float32 rounding that separates the two threads.
  assert(gap(one, free) > 1e-5, `clipping moved the weights by only ${gap(one, free)}`);
  assert(gap(one, two) < 1e-6, `two threads differ from one by ${gap(one, two)} under clipping`);
});

Deno.test("train() with two threads learns and reports the same terms as one", async () => {
  // Both at once on purpose: the one-thread run holds the event loop for whole epochs, so the
  // two-thread run's main side lags its worker, which must not change what it reports.
  const runs = await Promise.all(([1, 2] as const).map(async (workers) => {
    const result = await train(data, SMALL, { workers });
    disposeModel(result.model);
    return result;
  }));
  assertEquals(runs.map((r) => r.workers), [1, 2]);
  assertEquals(runningWorkers(), 0);
  const [one, two] = runs.map((r) => r.history);
  assert(two[3].loss < two[1].loss, `test loss ${two[1].loss} -> ${two[3].loss}`);
  for (let i = 0; i < one.length; i++) {
    assertEquals(two[i].step, one[i].step);
    assert(
      Math.abs(two[i].loss - one[i].loss) < 1e-6 * one[i].loss, // measured: up to 3e-8
      `${two[i].loss} vs ${one[i].loss}`,
    );
  }
});

Deno.test("two-thread training stops on a non-finite gradient and on a model the config can't build", async () => {
  // Both threads see the NaN gradient of step 1 (a NaN weight) and stop; the main thread's
  // report is thrown.
  const broken = buildModel(SMALL);
  const weights = getWeights(broken);
  weights[6][5] = NaN;
  setWeights(broken, weights);
  await assertRejects(
    () => train(data, SMALL, { model: broken, workers: 2 }),
    Error,
    "non-finite gradient (norm NaN) at epoch 1, step 1",
  );
  assertEquals(runningWorkers(), 0);
  disposeModel(broken);
  const model = buildModel({ ...SMALL, hiddenSize: 16 });
  await assertRejects(
    () => train(data, SMALL, { model, workers: 2 }),
    Error,
    "training worker: RangeError: the config builds a model of",
  );
  assertEquals(runningWorkers(), 0);
  disposeModel(model);
});

Deno.test("an error on the main thread is what train() throws, and the worker stops", async () => {
  await assertRejects(
    () =>
      train(data, SMALL, {
        workers: 2,
        progressEvery: 2,
        onProgress: () => {
          throw new Error("display failed");
        },
      }),
    Error,
    "display failed",
  );
  assertEquals(runningWorkers(), 0);
});

Deno.test("a batch of one leaves the worker's shard empty and still trains", async () => {
  const tiny = { train: syntheticDigits(3, 4) };
  const result = await train(tiny, { ...SMALL, epochs: 1, batchSize: 2 }, { workers: 2 });
  assert(result.history.every((r) => Number.isFinite(r.loss)));
  disposeModel(result.model);
});

Deno.test("auto takes two threads for long runs on wasm with two cores; workers is checked", async () => {
  assertEquals(chooseWorkers(TWO_THREAD_MIN_STEPS, "wasm", 2), 2);
  assertEquals(chooseWorkers(TWO_THREAD_MIN_STEPS - 1, "wasm", 8), 1);
  assertEquals(chooseWorkers(1000, "wasm", 1), 1);
  assertEquals(chooseWorkers(1000, "webgpu", 8), 1);
  assertEquals(chooseWorkers(1000, "cpu", 8), 1);
  // The tests' runs are short: auto keeps them on one thread.
  const short = await train(data, SMALL);
  assertEquals(short.workers, 1);
  disposeModel(short.model);
  await assertRejects(
    () => train(data, SMALL, { workers: 3 as 2 }),
    RangeError,
    'workers must be one of 1, 2, "auto"; got 3',
  );
});
