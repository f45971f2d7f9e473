import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { firstTwo, knnAccuracy, normal, pcaPlane, rng, umapPlane } from "../../lib/mod.ts";

/** Two tight clusters of `each` points in `dim` dimensions, far apart along every axis. */
function twoClusters(each: number, dim: number, seed: number) {
  const random = rng(seed);
  const draw = () => normal(random);
  const points = new Float32Array(2 * each * dim);
  const labels = new Uint8Array(2 * each);
  for (let i = 0; i < 2 * each; i++) {
    labels[i] = i < each ? 0 : 1;
    for (let j = 0; j < dim; j++) points[i * dim + j] = (i < each ? -5 : 5) + 0.1 * draw();
  }
  return { points, labels };
}

Deno.test("knnAccuracy() votes among the k nearest others, ties to the nearest label", () => {
  // On a line: 0 1 2 | 10 11 12, each side one label: every vote is right.
  const line = (xs: number[]) => Float32Array.from(xs.flatMap((x) => [x, 0]));
  assertEquals(knnAccuracy(line([0, 1, 2, 10, 11, 12]), [0, 0, 0, 1, 1, 1], { k: 2 }), 1);
  // Alternating labels at 0 1 2 3: each point's nearest other has the other label.
  assertEquals(knnAccuracy(line([0, 1, 2, 3]), [0, 1, 0, 1], { k: 1 }), 0);
  // k = 2 at 0 1 5 6 with labels 0 0 1 0: points 0 and 1 each hear a 0 and a 1 and the tie goes
  // to the nearer, 0 (right); point 2 hears two 0s (wrong); point 3 a tie won by the nearer 1
  // (wrong).
  assertEquals(knnAccuracy(line([0, 1, 5, 6]), [0, 0, 1, 0], { k: 2 }), 0.5);
  assertThrows(() => knnAccuracy(line([0, 1, 2]), [0, 1]), RangeError, "3 points but 2 labels");
  assertThrows(() => knnAccuracy(line([0, 1, 2]), [0, 1, 0], { k: 3 }), RangeError, "k must be");
});

Deno.test("firstTwo() keeps coordinates 0 and 1; pcaPlane() keeps the distances of planar data", () => {
  const points = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(Array.from(firstTwo(points, 3)), [1, 2, 4, 5, 7, 8]);
  // Points in a tilted plane of 4-D space: the projection on two components is a rotation of
  // that plane, so every pairwise distance is kept.
  const random = rng(4);
  const draw = () => normal(random);
  const n = 30;
  const planar = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const [a, b] = [3 * draw(), draw()];
    planar.set([a + b, a - b, 2 * a, 1 + b], i * 4);
  }
  const projected = pcaPlane(planar, 4);
  const distance = (p: Float32Array, dim: number, i: number, j: number) =>
    Math.hypot(...Array.from({ length: dim }, (_, k) => p[i * dim + k] - p[j * dim + k]));
  for (const [i, j] of [[0, 1], [2, 7], [5, 29], [11, 13]]) {
    assertAlmostEquals(distance(projected, 2, i, j), distance(planar, 4, i, j), 1e-3);
  }
  assertThrows(() => firstTwo(points, 1), RangeError, "dim must be 2 or more");
  assertThrows(() => pcaPlane(points.subarray(0, 4), 2), RangeError, "3 or more rows");
});

Deno.test("umapPlane() separates far clusters, and a seed gives the same plane", () => {
  const { points, labels } = twoClusters(20, 6, 1);
  const a = umapPlane(points, 6, { seed: 3, neighbours: 5 });
  assertEquals(a.length, 80);
  assertEquals(knnAccuracy(a, labels, { k: 3 }), 1);
  assertEquals(Array.from(umapPlane(points, 6, { seed: 3, neighbours: 5 })), Array.from(a));
  assert(Array.from(a).every(Number.isFinite));
});
