import * as tf from "@tensorflow/tfjs";
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertNotEquals,
  assertThrows,
} from "@std/assert";
import { batches, type Dataset, IMAGE_SIZE, subset, toTensor } from "../../lib/data/mod.ts";

/** n synthetic examples; pixel 0 of example i is i / n, so batches can be traced back. */
function synthetic(n: number, pixel = 0.3): Dataset {
  const images = new Float32Array(n * IMAGE_SIZE).fill(pixel);
  for (let i = 0; i < n; i++) images[i * IMAGE_SIZE] = i / n;
  return { images, labels: Uint8Array.from({ length: n }, (_, i) => i % 10), size: n };
}

/** The example numbers of a batch of `synthetic(n)`. */
function ids(batch: Dataset, n: number): number[] {
  return Array.from({ length: batch.size }, (_, i) => Math.round(batch.images[i * IMAGE_SIZE] * n));
}

Deno.test("batches() cover every example exactly once per epoch, in a seeded order", () => {
  const data = synthetic(103);
  const epoch = [...batches(data, 10, { seed: 3 })];
  assertEquals(epoch.map((b) => b.size), [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
  const seen = epoch.flatMap((b) => ids(b, 103));
  assertEquals([...seen].sort((x, y) => x - y), Array.from({ length: 103 }, (_, i) => i));
  assertNotEquals(seen, Array.from({ length: 103 }, (_, i) => i));
  epoch.forEach((b) => ids(b, 103).forEach((id, i) => assertEquals(b.labels[i], id % 10)));
  assertEquals([...batches(data, 10, { seed: 3 })].flatMap((b) => ids(b, 103)), seen);
  assertNotEquals([...batches(data, 10, { seed: 3, epoch: 1 })].flatMap((b) => ids(b, 103)), seen);
  assertEquals([...batches(data, 10, { dropLast: true })].length, 10);
  const stored = [...batches(data, 50, { shuffle: false })].flatMap((b) => ids(b, 103));
  assertEquals(stored, Array.from({ length: 103 }, (_, i) => i));
});

Deno.test("batches() with dynamic binarisation gives 0/1 pixels with the pixel mean", () => {
  const data = synthetic(100, 0.3);
  let sum = 0;
  for (const batch of batches(data, 32, { binarize: "dynamic" })) {
    assert(batch.images.every((p) => p === 0 || p === 1));
    sum += batch.images.reduce((a, b) => a + b, 0);
  }
  assertAlmostEquals(sum / data.images.length, 0.3, 0.01);
  assertThrows(() => batches(data, 0), RangeError, "batchSize must be a positive integer; got 0");
});

Deno.test("subset() copies the chosen examples and toTensor() gives [n, 784]", async () => {
  const data = synthetic(20);
  const picked = subset(data, [4, 2]);
  assertEquals(ids(picked, 20), [4, 2]);
  assertThrows(() => subset(data, [20]), RangeError, "got 20");
  await tf.setBackend("cpu");
  const x = toTensor(picked);
  assertEquals(x.shape, [2, IMAGE_SIZE]);
  x.dispose();
});
