/**
 * One shard of a small grid on a shared cache, for `shard_test.ts`:
 *
 *   deno run -A tests/train/shard_child.ts DIR I/N
 *
 * Prints one JSON line: each run's hash -> "trained" or "loaded", and the sum of its weights.
 */
import { getWeights, initBackend, parseShard, runGrid, TRAIN_DEFAULTS } from "../../lib/mod.ts";
import { syntheticMnist } from "../synthetic.ts";

const [dir, shardText] = Deno.args;
await initBackend({ backend: "wasm", quiet: true });
const data = syntheticMnist(128, 32);
const entries = [2, 3, 4, 5, 6, 7].map((latentSize) => ({
  name: `d = ${latentSize}`,
  config: { ...TRAIN_DEFAULTS, latentSize, hiddenSize: 16, batchSize: 32, epochs: 1 },
}));
const runs = await runGrid(data, entries, {
  dir,
  shard: parseShard(shardText),
  concurrency: 1,
  workers: 1,
});
console.log(JSON.stringify(Object.fromEntries(
  Object.values(runs).map((run) => [run.hash, {
    how: run.cached ? "loaded" : "trained",
    sum: getWeights(run.model).reduce((a, w) => a + w.reduce((b, v) => b + v, 0), 0),
  }]),
)));
