import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertNotEquals,
  assertThrows,
} from "@std/assert";
import * as tf from "@tensorflow/tfjs";
import {
  epochBatches,
  initBackend,
  mixSeeds,
  noisyImages,
  normal,
  normalSeed,
  permutation,
  priorCodes,
  rng,
  SEED_PURPOSE,
  shardNormal,
  shuffle,
  STANDARD_NORMAL,
  stepSeed,
  stratifiedSplit,
} from "../../lib/mod.ts";
import { syntheticDigits } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("rng() is reproducible per seed, differs across seeds and stays in [0, 1)", () => {
  const draw = (seed: number) => Array.from({ length: 1000 }, rng(seed));
  assertEquals(draw(7), draw(7));
  assertNotEquals(draw(0), draw(1));
  const values = draw(-3);
  assert(values.every((u) => u >= 0 && u < 1));
  assertAlmostEquals(values.reduce((a, b) => a + b, 0) / values.length, 0.5, 0.05);
  assertThrows(() => rng(0.5), RangeError, "seed must be an integer; got 0.5");
});

Deno.test("mixSeeds() depends on every part and on their order", () => {
  assertEquals(mixSeeds(1, 2), mixSeeds(1, 2));
  assertNotEquals(mixSeeds(1, 2), mixSeeds(2, 1));
  assertNotEquals(mixSeeds(0, 1), mixSeeds(1, 0));
});

Deno.test("permutation() and shuffle() keep every element once", () => {
  const p = permutation(50, rng(1));
  assertEquals([...p].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assertEquals(shuffle(["a", "b", "c"], rng(2)).sort(), ["a", "b", "c"]);
});

Deno.test("normal() draws have mean 0 and variance 1", () => {
  const random = rng(5);
  const z = Array.from({ length: 20000 }, () => normal(random));
  const mean = z.reduce((a, b) => a + b, 0) / z.length;
  const variance = z.reduce((a, b) => a + (b - mean) ** 2, 0) / z.length;
  assertAlmostEquals(mean, 0, 0.03);
  assertAlmostEquals(variance, 1, 0.05);
});

Deno.test("stratifiedSplit() picks are disjoint and within 1 of proportional per class", () => {
  const labels = Uint8Array.from({ length: 997 }, (_, i) => (i * i) % 7);
  const [a, b] = stratifiedSplit(labels, [600, 300], rng(3));
  assertEquals([a.length, b.length], [600, 300]);
  assertEquals(new Set([...a, ...b]).size, 900);
  const total = new Array(7).fill(0);
  labels.forEach((c) => total[c]++);
  for (const [pick, n] of [[a, 600], [b, 300]] as const) {
    const counts = new Array(7).fill(0);
    pick.forEach((i) => counts[labels[i]]++);
    counts.forEach((c, k) => assert(Math.abs(c - (n * total[k]) / 997) <= 1, `class ${k}: ${c}`));
  }
  assertThrows(() => stratifiedSplit(labels, [900, 98], rng(0)), RangeError, "at most 997");
});

Deno.test("stratifiedSplit() gives the largest remainders the extra picks: exact counts", () => {
  // Classes of 5, 3 and 2 (labels shuffled), picks of 6 then 3.
  const labels = Uint8Array.from([1, 0, 2, 0, 1, 0, 2, 0, 1, 0]);
  const counts = (pick: Uint32Array) =>
    [0, 1, 2].map((c) => pick.filter((i) => labels[i] === c).length);
  for (const seed of [0, 1, 2]) {
    const [a, b, rest] = stratifiedSplit(labels, [6, 3, 1], rng(seed));
    // 6: exact 3, 1.8, 1.2 -> floors 3, 1, 1 and the one left to 1.8's class.
    assertEquals(counts(a), [3, 2, 1]);
    // 3 from what is left (2, 1, 1): exact 1.5, 0.9, 0.6 -> 1, 0, 0, then 0.9's and 0.6's classes.
    assertEquals(counts(b), [1, 1, 1]);
    assertEquals(counts(rest), [1, 0, 0]);
  }
});

Deno.test("every seeded tensor draw repeats with its seed, seed 0 included, and differs across seeds", () => {
  const draws: [string, (seed: number) => tf.Tensor][] = [
    ["prior", (seed) => STANDARD_NORMAL.sample(4, 3, seed)],
    ["shardNormal", (seed) => shardNormal({ rows: 4, columns: 3, seed })],
    [
      "shardNormal shard",
      (seed) => shardNormal({ rows: 2, columns: 3, seed, shard: { offset: 2, total: 4 } }),
    ],
    [
      "noisyImages",
      (seed) => tf.tensor(noisyImages(syntheticDigits(2), { noise: 0.5, seed }).images),
    ],
    ["priorCodes", (seed) => tf.tensor(priorCodes({ latentSize: 3, n: 4, seed }))],
  ];
  for (const [name, draw] of draws) {
    const values = (seed: number) => {
      const t = draw(seed);
      const v = Array.from(t.dataSync());
      t.dispose();
      return v;
    };
    for (const seed of [0, 1, -3]) {
      assertEquals(values(seed), values(seed), `${name}, seed ${seed}`);
    }
    assertNotEquals(values(0), values(1), name);
  }
  // normalSeed() leaves every seed but 0 as it is: draws made before it existed are unchanged.
  assertEquals([normalSeed(7), normalSeed(undefined), String(normalSeed(0))], [7, undefined, "0"]);
});

Deno.test("each step's seeds differ with the epoch, the step and the purpose, and so does each epoch's order", () => {
  const seeds = new Set<number>();
  for (const epoch of [1, 2]) {
    for (const step of [1, 2]) {
      for (const purpose of Object.values(SEED_PURPOSE)) {
        seeds.add(stepSeed(5, { epoch, step, purpose }));
      }
    }
  }
  assertEquals(seeds.size, 2 * 2 * Object.values(SEED_PURPOSE).length);
  const order = (epoch: number) =>
    Array.from(epochBatches(syntheticDigits(40), { seed: 5, batchSize: 40, epoch }))[0].labels;
  assertNotEquals(order(1), order(2));
  assertEquals(order(1), order(1));
});
