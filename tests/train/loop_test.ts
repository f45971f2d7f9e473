import * as tf from "@tensorflow/tfjs";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  buildModel,
  clipScale,
  disposeModel,
  getWeights,
  initBackend,
  latentUse,
  progressDisplay,
  runEpochs,
  setWeights,
  type Step,
  tensorsNorm,
  train,
  type TrainProgress,
  validateTrainConfig,
} from "../../lib/mod.ts";
import { syntheticDigits } from "../synthetic.ts";

import { data, SMALL } from "./_small.ts";

await initBackend({ backend: "wasm", quiet: true });

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

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

Deno.test("train() stops on a non-finite gradient with the epoch, the step and the last finite terms", async () => {
  for (const workers of [1, 2] as const) {
    // A step size of 1e10 sends the weights to ~1e10 after one step: step 2's terms (or its
    // gradient) are no longer finite.
    const error = await assertRejects(
      () => train(data, { ...SMALL, learningRate: 1e10 }, { workers }),
      Error,
      "training diverged: non-finite ",
    );
    assertStringIncludes(
      error.message,
      "at epoch 1, step 2; the last finite terms (epoch 1, step 1)",
    );
    // Step 1's terms are those of the untrained model: its loss is what evaluate() gives.
    const loss = Number(error.message.match(/loss ([\d.e+]+)/)![1]);
    assert(loss > 500 && loss < 560, error.message);
    // A NaN weight makes the first gradient NaN: nothing finite came before it.
    const model = buildModel(SMALL);
    const weights = getWeights(model);
    weights[2][0] = NaN;
    setWeights(model, weights);
    await assertRejects(
      () => train(data, SMALL, { model, workers }),
      Error,
      "training diverged: non-finite gradient (norm NaN) at epoch 1, step 1; no earlier step had " +
        "finite terms",
    );
    disposeModel(model);
  }
});

Deno.test("runEpochs() stops on a non-finite term with where it happened and the last finite terms", async () => {
  // A step whose terms turn bad at epoch 2, step 3 (the loss NaN, or the other term infinite):
  // the loop reads them in groups of 2 steps.
  const cases: [number, number, string][] = [
    [NaN, -3, "non-finite loss NaN"],
    [23, Infinity, "non-finite extra Infinity"],
  ];
  for (const [loss, extra, what] of cases) {
    let calls = 0;
    const step: Step<"loss" | "extra"> = {
      terms: ["loss", "extra"],
      run: (_batch, { epoch, step }) => {
        calls += 1;
        const bad = epoch === 2 && step === 3;
        return Promise.resolve(tf.tensor1d(bad ? [loss, extra] : [10 * epoch + step, -step]));
      },
      close: () => {},
    };
    await assertRejects(
      () =>
        runEpochs(step, { train: syntheticDigits(160, 4) }, {
          config: { epochs: 3, batchSize: 32, seed: 0 },
          started: performance.now(),
          progressEvery: 2,
        }),
      Error,
      `training diverged: ${what} at epoch 2, step 3; ` +
        "the last finite terms (epoch 2, step 2): loss 22.0000, extra -2.00000",
    );
    // Terms are read every 2 steps: step 3's are checked with step 4's, before step 5.
    assertEquals(calls, 5 + 4);
  }
});

Deno.test("clipNorm scales each step's gradient down to that norm, on one thread and on two", async () => {
  assertEquals([clipScale(10, 2), clipScale(1, 2), clipScale(3, undefined)], [0.2, 1, 1]);
  const [three, four] = [tf.tensor1d([3]), tf.tensor1d([0, 4])];
  assertEquals(tensorsNorm([three, four]), 5);
  tf.dispose([three, four]);
  const start = buildModel(SMALL);
  const initial = getWeights(start).map((w) => w.slice());
  const moved = async (clipNorm: number | undefined, workers: 1 | 2) => {
    const model = buildModel(SMALL);
    setWeights(model, initial);
    const config = { ...SMALL, epochs: 1, ...(clipNorm ? { clipNorm } : {}) };
    await train({ train: data.train }, config, { model, workers });
    const change = Math.max(...getWeights(model).map((w, i) => maxAbsDiff(w, initial[i])));
    disposeModel(model);
    return change;
  };
  for (const workers of [1, 2] as const) {
    // Adam divides by the gradient's size, so clipping shows once the gradient is scaled below
    // Adam's epsilon (1e-8): a norm of 1e-12 leaves every update ~1e-7 instead of ~1e-3 per step.
    const free = await moved(undefined, workers);
    const clipped = await moved(1e-12, workers);
    assert(free > 5e-3, `unclipped, the weights move by ${free}`);
    assert(clipped < 1e-4, `clipped to 1e-12, the weights move by ${clipped}`);
    // A clip above every gradient's norm changes nothing: the same bits as no clipping.
    assertEquals(await moved(1e9, workers), free);
  }
  disposeModel(start);
  assertThrows(() => validateTrainConfig({ ...SMALL, clipNorm: 0 }), RangeError, "clipNorm");
});

Deno.test("posterior collapse is flagged in the test records and the progress line", async () => {
  const lines: string[] = [];
  const display = progressDisplay({ mode: "text", write: (line) => lines.push(line) });
  const collapsed = await train(data, { ...SMALL, beta: 100, epochs: 2 }, {
    workers: 1,
    onProgress: display,
  });
  const healthy = await train(data, SMALL, { workers: 1 });
  const tests = (h: typeof collapsed.history) => h.filter((r) => r.split === "test");
  // beta = 100 pushes every unit's KL below 0.01 nats; beta = 1 keeps all 4 units in use.
  assertEquals(tests(collapsed.history).map((r) => [r.unitsInUse, r.collapsed]), [
    [0, true],
    [0, true],
  ]);
  assertEquals(tests(healthy.history).map((r) => [r.unitsInUse, r.collapsed]), [
    [4, false],
    [4, false],
  ]);
  assert(collapsed.history.every((r) => r.split === "test" || r.collapsed === undefined));
  assertStringIncludes(lines.at(-1)!, "POSTERIOR COLLAPSED");
  const ae = await train(data, { ...SMALL, kind: "ae", epochs: 1 }, { workers: 1 });
  assertEquals(latentUse(ae.model, data.test), {});
  for (const model of [collapsed.model, healthy.model, ae.model]) disposeModel(model);
});

Deno.test("20 epochs leave tf.memory() flat after the first, on one thread and on two", async () => {
  for (const workers of [1, 2] as const) {
    const memory: [number, number][] = [];
    const result = await train(data, { ...SMALL, epochs: 20, batchSize: 64 }, {
      workers,
      onEpoch: () => {
        const { numTensors, numBytes } = tf.memory();
        memory.push([numTensors, numBytes]);
      },
    });
    assertEquals(memory.length, 20);
    for (const [epoch, use] of memory.entries()) {
      assertEquals(use, memory[0], `epoch ${epoch + 1}: ${use} against ${memory[0]} after epoch 1`);
    }
    disposeModel(result.model);
  }
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

Deno.test("the convolutional VAE trains an epoch on the wasm backend", async () => {
  const result = await train(
    { train: syntheticDigits(64, 4), test: syntheticDigits(32, 5) },
    { ...SMALL, arch: "conv", hiddenSize: 16, epochs: 1 },
  );
  assert(result.history.every((r) => Number.isFinite(r.loss)));
  disposeModel(result.model);
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
