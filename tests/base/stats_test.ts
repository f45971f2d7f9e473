import { assertEquals } from "@std/assert";
import { logMeanExp, meanWithError } from "../../lib/base/mod.ts";

Deno.test("meanWithError() and logMeanExp() match hand-computed values", () => {
  const { mean, stdError } = meanWithError([1, 2, 3, 6]);
  assertEquals(mean, 3);
  // sd = sqrt(((4 + 1 + 0 + 9) / 3)), divided by sqrt(4).
  assertEquals(stdError, Math.sqrt(14 / 3) / 2);
  assertEquals(Number.isNaN(meanWithError([5]).stdError), true);
  // log((e^1000 + e^1000) / 2) = 1000 without overflow; log mean of e^0 and e^(log 3) = log 2.
  assertEquals(logMeanExp([1000, 1000]), 1000);
  assertEquals(Math.abs(logMeanExp([0, Math.log(3)]) - Math.log(2)) < 1e-15, true);
  assertEquals(logMeanExp([-Infinity, -Infinity]), -Infinity);
});
