import { assert, assertEquals, assertThrows } from "@std/assert";
import { claimAbove, claimBelow, verify } from "../../lib/mod.ts";
import { initBackend } from "../../lib/mod.ts";

await initBackend({ backend: "cpu", quiet: true });

Deno.test("verify() shows holding claims as a table and throws naming every failing one", () => {
  const good = [claimBelow("a", 1, 2), claimAbove("b", 3, 2)];
  assertEquals(verify(good, "fine").rows.length, 2);
  const bad = [claimBelow("small", 5, 2), claimAbove("large", 1, 2), claimBelow("nan", NaN, 1)];
  const error = assertThrows(() => verify([...good, ...bad]), Error);
  for (const name of ["3 claim(s) failed", "small: measured 5, needs < 2", "large", "nan"]) {
    assert(error.message.includes(name), `${name} missing from: ${error.message}`);
  }
});
