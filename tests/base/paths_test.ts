import { assertEquals } from "@std/assert";
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
  assertEquals(runsDir(), fileURLToPath(repoUrl("data/runs/")));
});
