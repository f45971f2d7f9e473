import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  claimAbove,
  claimAboveEverySeed,
  claimBelow,
  claimBelowEverySeed,
  claimMeanAbove,
  claimMeanBelow,
  verify,
} from "../../lib/mod.ts";
import { initBackend } from "../../lib/mod.ts";

await initBackend({ backend: "cpu", quiet: true });

Deno.test("verify() shows holding claims under their ids and throws naming every failing one", () => {
  const good = {
    small: claimBelow("a", 1, 2),
    family: [claimAbove("b", 3, 2), claimAbove("c", 4, 2)],
  };
  const shown = verify(good, "fine");
  assertEquals(shown.rows.map((r) => r.id), ["small", "family", "family"]);
  assertEquals(shown.columns, ["id", "claim", "measured", "needs"]);
  const bad = {
    small: claimBelow("small", 5, 2),
    large: claimAbove("large", 1, 2),
    nan: claimBelow("nan", NaN, 1),
  };
  const error = assertThrows(() => verify({ ...good, ...bad, ok: claimBelow("ok", 0, 1) }), Error);
  for (const name of ["3 claim(s) failed", "small: small: measured 5, needs < 2", "large", "nan"]) {
    assert(error.message.includes(name), `${name} missing from: ${error.message}`);
  }
  assertThrows(
    () => verify({ "Not An Id": claimBelow("x", 0, 1) }),
    RangeError,
    "lower-case words",
  );
  assertThrows(() => verify({ empty: [] }), RangeError, 'claim "empty" is empty');
  assertThrows(() => verify({}), RangeError, "at least one claim");
});

Deno.test("claims over seeds: every seed measures the worst; the mean takes two standard errors", () => {
  // Every seed: the largest value must be below, the smallest above.
  const every = claimBelowEverySeed("gap", [0.1, 0.4, 0.2], 0.5);
  assertEquals([every.measured, every.holds, every.claim], [0.4, true, "gap (worst of 3 seeds)"]);
  assertEquals(claimBelowEverySeed("gap", [0.1, 0.6], 0.5).holds, false);
  assertEquals(claimAboveEverySeed("gain", [3, 1, 2], 0).measured, 1);
  assertEquals(claimAboveEverySeed("gain", [2], 0).claim, "gain (one seed)");
  // The mean with a margin: values 1, 2, 3 have mean 2 and standard error 1 / sqrt(3).
  const se = 1 / Math.sqrt(3);
  const below = claimMeanBelow("x", [1, 2, 3], 3.2);
  assertAlmostEquals(below.measured, 2 + 2 * se, 1e-12);
  assertEquals([below.holds, below.claim], [true, "x (mean + 2 s.e. over 3 seeds)"]);
  assertEquals(claimMeanBelow("x", [1, 2, 3], 3.1).holds, false); // 2 + 2 s.e. = 3.155
  assertAlmostEquals(claimMeanAbove("x", [1, 2, 3], 0.8).measured, 2 - 2 * se, 1e-12);
  assertEquals(claimMeanAbove("x", [5], 4).measured, 5);
  assertThrows(() => claimMeanBelow("none", [], 1), RangeError, 'claim "none" has no seed');
});
