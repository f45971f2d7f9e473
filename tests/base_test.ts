import { assertEquals, assertThrows } from "@std/assert";
import { fileURLToPath } from "node:url";
import {
  integer,
  logMeanExp,
  meanWithError,
  nonNegativeNumber,
  oneOf,
  packageUrl,
  positiveInteger,
  positiveNumber,
  repoUrl,
  runsDir,
  trainWorkerUrl,
} from "../lib/base/mod.ts";

/** Whether a path exists. */
async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("paths resolve to files that exist, wherever lib/ is imported from", async () => {
  for (
    const url of [
      repoUrl("deno.json"),
      trainWorkerUrl(),
      packageUrl("mnist", "src/digits/0.json"),
      packageUrl("@tensorflow/tfjs-backend-wasm", "dist/tfjs-backend-wasm-simd.wasm"),
      packageUrl("plotly.js-cartesian-dist-min", "plotly-cartesian.min.js"),
    ]
  ) assertEquals(await exists(url), true, `${url.href} is missing`);
  assertEquals(runsDir(), fileURLToPath(repoUrl("data/runs/")));
});

Deno.test("validators return good values and name the field and the bad value", () => {
  assertEquals(positiveInteger("epochs", 3), 3);
  assertEquals(positiveNumber("scale", 0.5), 0.5);
  assertEquals(nonNegativeNumber("beta", 0), 0);
  assertEquals(integer("seed", -4), -4);
  assertEquals(oneOf("arch", "mlp", ["mlp", "conv"]), "mlp");
  const cases: [() => unknown, string][] = [
    [() => positiveInteger("epochs", 0), "epochs must be a positive integer; got 0"],
    [() => positiveInteger("epochs", 1.5), "epochs must be a positive integer; got 1.5"],
    [() => positiveNumber("scale", 0), "scale must be a positive number; got 0"],
    [() => positiveNumber("scale", Infinity), "scale must be a positive number; got Infinity"],
    [() => nonNegativeNumber("beta", -1), "beta must be a non-negative number; got -1"],
    [() => nonNegativeNumber("beta", NaN), "beta must be a non-negative number; got NaN"],
    [() => integer("seed", 0.5), "seed must be an integer; got 0.5"],
    [() => oneOf("arch", "gan", ["mlp", "conv"]), 'arch must be one of "mlp", "conv"; got "gan"'],
  ];
  for (const [call, message] of cases) assertThrows(call, RangeError, message);
});

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
