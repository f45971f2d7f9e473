import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  RING,
  ringCentres,
  ringCoverage,
  ringSamples,
  type RingSnapshot,
  ringSummary,
  ringTable,
  spread,
} from "../../lib/mod.ts";

Deno.test("ringSamples() draws every mode equally, each a Gaussian of std 0.02 around its centre", () => {
  const n = 16000;
  const samples = ringSamples(n, 3);
  const centres = ringCentres();
  assertAlmostEquals(Math.hypot(centres[0], centres[1]), RING.radius, 1e-6);
  const coverage = ringCoverage(samples);
  // Within 3 std of its mode: 98.9% of a 2-D Gaussian's draws (1 - exp(-9/2)).
  assertAlmostEquals(coverage.highQuality, 1 - Math.exp(-4.5), 0.004);
  assertEquals(coverage.modesCovered, 8);
  for (const share of coverage.shares) assertAlmostEquals(share, 1 / 8, 0.012);
  assertEquals(ringSamples(5, 3), ringSamples(5, 3));
});

Deno.test("ringCoverage() counts samples near each mode: one mode, two, none", () => {
  const centres = ringCentres();
  const at = (modes: number[]) =>
    Float32Array.from(modes.flatMap((m) => [centres[2 * m] + 0.01, centres[2 * m + 1] - 0.01]));
  const one = ringCoverage(at(new Array(40).fill(5)));
  assertEquals([one.modesCovered, one.dominant, one.highQuality, one.concentration], [1, 5, 1, 1]);
  // 10 of 40 at mode 2 (a quarter), 30 at mode 6: both covered.
  const two = ringCoverage(at([...new Array(10).fill(2), ...new Array(30).fill(6)]));
  assertEquals([two.modesCovered, two.dominant], [2, 6]);
  assertEquals(two.shares[2], 0.25);
  // 1 of 40 at mode 0 (2.5%, under a quarter of 1/8): not covered; the origin is nowhere.
  const few = ringCoverage(Float32Array.from([...at([0]), ...new Array(78).fill(0)]));
  assertEquals([few.modesCovered, few.highQuality], [0, 1 / 40]);
  // Off the ring, a sample still falls in its nearest mode's basin: (1.9, 0.1) is mode 0's.
  const off = ringCoverage(Float32Array.from([1.9, 0.1, 0, 1.8, 0.1, 1.9]));
  assertEquals([off.highQuality, off.basins[0], off.basins[2], off.dominant], [0, 1 / 3, 2 / 3, 2]);
});

Deno.test("ringSummary() counts the dominant mode's changes from a step on, by hand", () => {
  const centres = ringCentres();
  // Snapshots at steps 0..4 whose samples all sit at modes 3, 3, 5, 3, 3 (the last also at 1).
  const snap = (step: number, modes: number[]): RingSnapshot => {
    const samples = Float32Array.from(modes.flatMap((m) => [centres[2 * m], centres[2 * m + 1]]));
    return {
      step,
      samples,
      coverage: ringCoverage(samples),
      critic: new Float32Array(0),
      arrows: new Float32Array(0),
    };
  };
  const runs = [
    snap(0, [0, 0]),
    snap(1, [3, 3]),
    snap(2, [5, 5]),
    snap(3, [3, 3]),
    snap(4, [3, 1, 3, 1, 3, 3, 3, 3]),
  ];
  const all = ringSummary(runs);
  // Dominant 0, 3, 5, 3, 3: three changes, three distinct modes.
  assertEquals([all.hops, all.modesVisited], [3, 3]);
  assertEquals([all.modesCovered, all.concentration, all.highQuality], [2, 0.75, 1]);
  // From step 2 on: 5, 3, 3.
  const later = ringSummary(runs, 2);
  assertEquals([later.hops, later.modesVisited, later.mostCovered], [1, 2, 2]);
  assertThrows(() => ringSummary(runs, 5), RangeError);
  const shown = ringTable({ a: [runs, runs] });
  assertEquals(shown.rows[0]["dominant-mode changes, later"], spread([1, 1]));
});
