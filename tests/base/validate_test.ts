import { assertEquals, assertThrows } from "@std/assert";
import {
  integer,
  nonNegativeNumber,
  oneOf,
  positiveInteger,
  positiveNumber,
} from "../../lib/base/mod.ts";

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
