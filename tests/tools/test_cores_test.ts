import { assert, assertEquals } from "@std/assert";
import { probe, settingEnv, summaryLine } from "../../tools/test_cores.ts";
import { findBlas } from "../../lib/base/mod.ts";

Deno.test("settingEnv() names the core, or turns the BLAS off, and requires the BLAS it names", () => {
  const base = {
    HOME: "/h",
    OPENBLAS_CORETYPE: "Zen",
    VAELAB_BLAS: "off",
    VAELAB_REQUIRE_BLAS: "1",
  };
  assertEquals(settingEnv("Haswell", base), {
    HOME: "/h",
    OPENBLAS_CORETYPE: "Haswell",
    VAELAB_REQUIRE_BLAS: "1",
  });
  assertEquals(settingEnv("auto", base), { HOME: "/h", VAELAB_REQUIRE_BLAS: "1" });
  assertEquals(settingEnv("off", base), { HOME: "/h", VAELAB_BLAS: "off" });
});

Deno.test("summaryLine() keeps deno test's last count line, without colours", () => {
  const output =
    "x ... \x1b[32mok\x1b[0m\n\x1b[32mok\x1b[0m | 3 passed | 0 failed \x1b[38;5;245m(2s)\x1b[0m\n";
  assertEquals(summaryLine(output), "ok | 3 passed | 0 failed (2s)");
  assertEquals(summaryLine("error: nothing"), "no summary line");
});

Deno.test("probe() reports the product each setting computes with", async () => {
  assertEquals(await probe("off"), { core: "wasm" });
  if (findBlas().info.product !== "openblas") return; // no OpenBLAS here: nothing more to probe
  const auto = await probe("auto");
  assert(auto.core && !auto.problem, JSON.stringify(auto));
  const named = await probe(auto.core!);
  assertEquals(named, { core: auto.core });
  const unknown = await probe("NoSuchCore");
  assertEquals(unknown.problem, `OpenBLAS took the ${unknown.core} core instead`);
});
