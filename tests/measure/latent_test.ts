import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  buildModel,
  disposeModel,
  encodeAll,
  gaussianKl,
  initBackend,
  latentGridCodes,
  normalQuantile,
  traversalCodes,
  unitKl,
  VAE_DEFAULTS,
} from "../../lib/mod.ts";
import { syntheticDigits } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("normalQuantile() inverts the normal CDF: known values, symmetry, both tails", () => {
  assertAlmostEquals(normalQuantile(0.975), 1.959963984540054, 1e-8);
  assertAlmostEquals(normalQuantile(0.5), 0, 1e-12);
  assertAlmostEquals(normalQuantile(0.8413447460685429), 1, 1e-8);
  assertAlmostEquals(normalQuantile(1e-6), -4.753424308822899, 1e-7);
  for (const p of [0.001, 0.02, 0.3, 0.6, 0.99]) {
    assertAlmostEquals(normalQuantile(p), -normalQuantile(1 - p), 1e-8);
  }
  assertThrows(() => normalQuantile(1), RangeError, "p must be in (0, 1); got 1");
});

Deno.test("latentGridCodes() places prior quantiles on a grid, rows from the top", () => {
  const grid = latentGridCodes(3);
  const q = normalQuantile(0.5 / 3);
  // Row 0: z2 at its top quantile, z1 left to right.
  assertEquals(Array.from(grid.subarray(0, 6)).map((v) => Number(v.toFixed(6))), [
    Number(q.toFixed(6)),
    Number((-q).toFixed(6)),
    0,
    Number((-q).toFixed(6)),
    Number((-q).toFixed(6)),
    Number((-q).toFixed(6)),
  ]);
  assertEquals(grid.length, 18);
  assertEquals(grid[17], Math.fround(q));
});

Deno.test("traversalCodes() sweeps one unit at a time over [-range, range], the rest fixed", () => {
  const z = traversalCodes([0.5, -1, 2], { units: [2, 0], steps: 3, range: 2 });
  assertEquals(Array.from(z), [0.5, -1, -2, 0.5, -1, 0, 0.5, -1, 2, -2, -1, 2, 0, -1, 2, 2, -1, 2]);
  assertThrows(() => traversalCodes([0, 0], { units: [2], steps: 3 }), RangeError, "units[0]");
});

Deno.test("unitKl() sums, over units, to the mean closed-form KL of the codes", () => {
  const model = buildModel({ ...VAE_DEFAULTS, hiddenSize: 16, latentSize: 4 });
  const data = syntheticDigits(50, 3);
  const codes = encodeAll(model, data);
  const perUnit = unitKl(codes);
  const kl = tf.tidy(() => {
    const mean = tf.tensor2d(codes.mean, [50, 4]);
    const logVar = tf.tensor2d(codes.logVar!, [50, 4]);
    return tf.mean(gaussianKl(mean, logVar)).dataSync()[0];
  });
  assertEquals(perUnit.length, 4);
  assert(perUnit.every((v) => v >= 0));
  assertAlmostEquals(perUnit.reduce((a, b) => a + b, 0), kl, 1e-4 * Math.max(1, kl));
  assertThrows(() => unitKl({ ...codes, logVar: undefined }), TypeError, "VAE");
  disposeModel(model);
});
