import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertNotEquals,
  assertThrows,
} from "@std/assert";
import { mixSeeds, normal, permutation, rng, shuffle, stratifiedSplit } from "../lib/base/mod.ts";

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
