import { assertThrows } from "@std/assert";
import { initBackend, validateTrainConfig } from "../../lib/mod.ts";
import { SMALL } from "./_small.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("validateTrainConfig() names the bad field and value", () => {
  assertThrows(
    () => validateTrainConfig({ ...SMALL, epochs: 0 }),
    RangeError,
    "epochs must be a positive integer; got 0",
  );
  assertThrows(
    () => validateTrainConfig({ ...SMALL, learningRate: -1 }),
    RangeError,
    "learningRate",
  );
  assertThrows(
    () => validateTrainConfig({ ...SMALL, beta: NaN }),
    RangeError,
    "beta must be a non-negative number; got NaN",
  );
});
