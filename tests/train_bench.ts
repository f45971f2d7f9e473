/**
 * Training speed: the naive loop as the baseline and the library's `train()` beside it, on the
 * same data in the same run. Each iteration is one epoch over 2,048 synthetic 28x28 images, so
 * images per second = 2,048 / time per iteration (`deno task train` prints it for real data).
 *
 *   deno task bench
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, train, TRAIN_DEFAULTS, type TrainConfig } from "../lib/mod.ts";
import { syntheticDigits } from "./synthetic.ts";
import { naiveVaeEpoch } from "./naive_loop.ts";

await initBackend({ backend: "wasm", quiet: true });
const data = { train: syntheticDigits(2048, 1) };
const reference: TrainConfig = { ...TRAIN_DEFAULTS, epochs: 1 };
const naive = naiveVaeEpoch(data.train, { ...reference, seed: 0 });

async function trainEpoch(config: TrainConfig): Promise<void> {
  const result = await train(data, config, { progressEvery: 1_000_000 });
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
  fn: () => trainEpoch(reference),
});
Deno.bench({
  name: "train(), conv VAE",
  group: "conv",
  n: 2,
  warmup: 1,
  fn: () => trainEpoch({ ...reference, arch: "conv", hiddenSize: 256 }),
});
