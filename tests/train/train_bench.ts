/**
 * Training speed, measured side by side in one run:
 * - `mlp`: the naive loop (the baseline) and the library's `train()`, one epoch over 2,048
 *   synthetic images each, so images per second = 2,048 / time per iteration;
 * - `threads: …`: `train()` on one thread (the baseline) and on two (a worker computes half of
 *   every batch), including the worker's start-up: the MLP VAE for two epochs over 8,192 images
 *   (128 steps), the conv VAE for one over 2,048;
 * - `worker`: starting and stopping the worker alone.
 * `deno task train` prints images per second for real data.
 *
 *   deno task bench
 */
import * as tf from "@tensorflow/tfjs";
import { buildModel, disposeModel, initBackend, train, TRAIN_DEFAULTS } from "../../lib/mod.ts";
import type { TrainConfig } from "../../lib/mod.ts";
import { TwoThreadStep } from "../../lib/train/mod.ts";
import { syntheticDigits } from "../synthetic.ts";
import { naiveVaeEpoch } from "./naive_loop.ts";

await initBackend({ backend: "wasm", quiet: true });
const small = { train: syntheticDigits(2048, 1) };
const large = { train: syntheticDigits(8192, 1) };
const reference: TrainConfig = { ...TRAIN_DEFAULTS, epochs: 1 };
const conv: TrainConfig = { ...reference, arch: "conv", hiddenSize: 256 };
const naive = naiveVaeEpoch(small.train, { ...reference, seed: 0 });

/** One epoch of `train()`, timed from the call to its end with the bench context. */
async function trainEpoch(
  b: Deno.BenchContext,
  data: typeof small,
  config: TrainConfig,
  workers: 1 | 2,
): Promise<void> {
  b.start();
  const result = await train(data, config, { progressEvery: 1_000_000, workers });
  b.end();
  tf.dispose(result.model.variables);
}

Deno.bench({
  name: "naive loop, MLP VAE 784-400-20",
  group: "mlp",
  baseline: true,
  n: 5,
  warmup: 1,
  fn: () => void naive(),
});
Deno.bench({
  name: "train(), MLP VAE 784-400-20",
  group: "mlp",
  n: 5,
  warmup: 1,
  fn: async (b) => await trainEpoch(b, small, reference, 1),
});
const twoEpochs = { ...reference, epochs: 2 };
const threadCases = [
  { group: "threads: mlp, batch 128", data: large, config: twoEpochs, n: 3 },
  { group: "threads: conv, batch 128", data: small, config: conv, n: 2 },
];
for (const { group, data, config, n } of threadCases) {
  for (const workers of [1, 2] as const) {
    Deno.bench({
      name: `train(), ${config.arch} VAE, ${workers === 1 ? "1 thread" : "2 threads"}`,
      group,
      baseline: workers === 1,
      n,
      warmup: 1,
      fn: async (b) => await trainEpoch(b, data, config, workers),
    });
  }
}
Deno.bench({
  name: "start and stop the worker (MLP VAE, 8,192 images)",
  group: "worker",
  n: 5,
  warmup: 1,
  async fn(b) {
    const model = buildModel(reference);
    b.start();
    (await TwoThreadStep.start(model, { config: reference, train: large.train })).close();
    b.end();
    disposeModel(model);
  },
});
