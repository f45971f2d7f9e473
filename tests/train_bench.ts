/**
 * Training speed: the naive loop as the baseline and the library's `train()` beside it, on the
 * same data in the same run. Each iteration is one epoch over 2,048 synthetic 28x28 images.
 *
 *   deno task bench
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, train, TRAIN_DEFAULTS, type TrainConfig } from "../lib/mod.ts";
import { syntheticDigits } from "./synthetic.ts";
import { naiveVaeEpoch } from "./naive_loop.ts";

const backend = await initBackend({ backend: "wasm", quiet: true });
const data = { train: syntheticDigits(2048, 1) };
const images = data.train.size;
const reference: TrainConfig = { ...TRAIN_DEFAULTS, epochs: 1 };
const naive = naiveVaeEpoch(data.train, { ...reference, seed: 0 });
const speeds = new Map<string, number[]>();

/** Time `fn` and remember its images per second, printed after the run. */
async function timed(name: string, fn: () => unknown): Promise<void> {
  const start = performance.now();
  await fn();
  const rate = images / ((performance.now() - start) / 1000);
  speeds.set(name, [...(speeds.get(name) ?? []), rate]);
}

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
  fn: () => timed("naive mlp", naive),
});
Deno.bench({
  name: "train(), MLP VAE 784-400-20",
  group: "mlp",
  n: 5,
  warmup: 1,
  fn: () => timed("train() mlp", () => trainEpoch(reference)),
});
Deno.bench({
  name: "train(), conv VAE",
  group: "conv",
  n: 2,
  warmup: 1,
  fn: () =>
    timed("train() conv", () => trainEpoch({ ...reference, arch: "conv", hiddenSize: 256 })),
});

globalThis.addEventListener("unload", () => {
  console.log(`\nimages per second on ${backend} (median over iterations, warm-up included):`);
  for (const [name, rates] of speeds) {
    const sorted = rates.toSorted((a, b) => a - b);
    console.log(`  ${name.padEnd(14)} ${Math.round(sorted[Math.floor(sorted.length / 2)])}`);
  }
});
