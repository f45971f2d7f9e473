/**
 * A process that trains into a run cache, for the run-cache fault tests (not a test itself).
 *
 *   deno run -A tests/train/cache_child.ts DIR once   # runOrLoad the test config once, print its folder
 *   deno run -A tests/train/cache_child.ts DIR loop   # retrain it again and again, printing "saved"
 * @module
 */
import { disposeModel, initBackend, runOrLoad } from "../../lib/mod.ts";
import { CACHE_TEST_CONFIG, syntheticMnist } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });
const [dir, mode] = Deno.args;
const data = syntheticMnist();
do {
  const run = await runOrLoad(data, CACHE_TEST_CONFIG, {
    dir,
    retrain: mode === "loop",
    workers: 1,
    onNotice: (message) => console.log(`notice: ${message}`),
  });
  disposeModel(run.model);
  console.log(mode === "loop" ? "saved" : run.folder);
} while (mode === "loop");
