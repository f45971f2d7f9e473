import { assertEquals } from "@std/assert";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { packageUrl, repoUrl, runsDir, trainWorkerUrl } from "../../lib/base/mod.ts";

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
});

Deno.test("runsDir() is $VAELAB_RUNS, resolved, when set (a shared cache), else data/runs/", () => {
  const before = Deno.env.get("VAELAB_RUNS");
  try {
    Deno.env.delete("VAELAB_RUNS");
    assertEquals(runsDir(), fileURLToPath(repoUrl("data/runs/")));
    Deno.env.set("VAELAB_RUNS", "shared/runs");
    assertEquals(runsDir(), resolve("shared/runs"));
    Deno.env.set("VAELAB_RUNS", "");
    assertEquals(runsDir(), fileURLToPath(repoUrl("data/runs/")));
  } finally {
    if (before === undefined) Deno.env.delete("VAELAB_RUNS");
    else Deno.env.set("VAELAB_RUNS", before);
  }
});
