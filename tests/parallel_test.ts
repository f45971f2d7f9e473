import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertRejects } from "@std/assert";
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
} from "../lib/mod.ts";
import {
  averageShards,
  epochBatches,
  flattenGradients,
  runningWorkers,
  shardGradients,
  TwoThreadStep,
} from "../lib/train/mod.ts";
import { syntheticDigits } from "./synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

const data = { train: syntheticDigits(200, 1), test: syntheticDigits(64, 2) };
const SMALL: TrainConfig = {
  ...TRAIN_DEFAULTS,
  hiddenSize: 32,
  latentSize: 4,
  batchSize: 25,
  epochs: 2,
};

/** The flat gradient of rows [from, to) of `batch`. */
function flatGradient(model: ReturnType<typeof buildModel>, rows: [number, number]): Float32Array {
  const batch = data.train.images.subarray(0, 25 * 784);
  const { grads, means } = shardGradients(model, {
    batch,
    config: SMALL,
    position: { epoch: 1, step: 1 },
    rows,
  });
  const size = model.variables.reduce((n, v) => n + v.size, 0);
  const flat = new Float32Array(size);
  flattenGradients(model.variables, grads, flat);
  tf.dispose([grads, means] as tf.TensorContainer);
  return flat;
}

Deno.test("averaging two shards' gradients gives the whole batch's gradient", () => {
  // 25 rows split 13 + 12: unequal shares, and each shard cuts its rows of the batch's noise.
  const model = buildModel(SMALL);
  const whole = flatGradient(model, [0, 25]);
  const shards = [flatGradient(model, [0, 13]), flatGradient(model, [13, 25])];
  const averaged = new Float32Array(whole.length);
  averageShards({ grads: shards, sizes: [13, 12], from: 0, out: averaged });
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < whole.length; i++) {
    worst = Math.max(worst, Math.abs(averaged[i] - whole[i]));
    scale = Math.max(scale, Math.abs(whole[i]));
  }
  assert(worst < 1e-5 * scale, `max difference ${worst}, largest gradient ${scale}`);
  // An equal-weight average (or another noise draw) would be far off.
  averageShards({ grads: shards, sizes: [1, 1], from: 0, out: averaged });
  assert(averaged.some((g, i) => Math.abs(g - whole[i]) > 1e-3 * scale));
  disposeModel(model);
});

Deno.test("two threads keep equal weights and track the one-thread run", async () => {
  const config = { ...SMALL, epochs: 1 };
  const model = buildModel(config);
  const single = buildModel(config);
  setWeights(single, getWeights(model));
  const trainer = await TwoThreadStep.start(model, { config, train: data.train });
  try {
    const one = await train(data, config, { model: single, workers: 1 });
    let step = 0;
    for (const batch of epochBatches(data.train, { ...config, epoch: 1 })) {
      (await trainer.run(batch, { epoch: 1, step: ++step })).dispose();
    }
    assertEquals(await trainer.workerWeights(), getWeights(model));
    // 8 Adam steps of size 1e-3: the rounding may differ, the steps must not.
    const ours = getWeights(model).flatMap((w) => Array.from(w));
    const theirs = getWeights(one.model).flatMap((w) => Array.from(w));
    const worst = Math.max(...ours.map((w, i) => Math.abs(w - theirs[i])));
    // They differ by float32 rounding of the shard average: about 3e-8 here.
    assert(worst < 1e-6, `weights differ from the one-thread run by up to ${worst}`);
  } finally {
    trainer.close();
    disposeModel(model);
    disposeModel(single);
  }
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
  // Both threads see the NaN gradient of step 2 and stop; the main thread's report is thrown.
  await assertRejects(
    () => train(data, { ...SMALL, learningRate: 1e10 }, { workers: 2 }),
    Error,
    "non-finite gradient (norm NaN) at epoch 1, step 2",
  );
  assertEquals(runningWorkers(), 0);
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
