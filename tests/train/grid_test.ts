import { assert, assertEquals, assertRejects } from "@std/assert";
import {
  disposeModel,
  getWeights,
  gridConcurrency,
  initBackend,
  type MnistData,
  runGrid,
  SNAPSHOT,
  TRAIN_DEFAULTS,
  type TrainConfig,
  type TrainProgress,
} from "../../lib/mod.ts";
import { syntheticMnist } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });
const data: MnistData = syntheticMnist();
const base: TrainConfig = {
  ...TRAIN_DEFAULTS,
  hiddenSize: 16,
  latentSize: 2,
  epochs: 2,
  batchSize: 32,
};
const entries = [
  { name: "VAE d=2", config: base },
  { name: "AE d=2", config: { ...base, kind: "ae" as const } },
  { name: "VAE d=2 again", config: { ...base } },
  { name: "VAE d=3", config: { ...base, latentSize: 3 } },
];

Deno.test("runGrid() trains each distinct config once, then loads them all from the cache", async () => {
  const dir = await Deno.makeTempDir();
  const events: TrainProgress[] = [];
  const runs = await runGrid(data, entries, {
    dir,
    concurrency: 1,
    onProgress: (p) => {
      events.push(p);
    },
  });
  assertEquals(Object.keys(runs), entries.map((e) => e.name));
  // Same config, same run: trained once.
  assertEquals(runs["VAE d=2 again"], runs["VAE d=2"]);
  assertEquals(Array.from(Deno.readDirSync(dir)).length, 3);
  // One display: which run of how many, and the time left falls to 0 at the end.
  assertEquals(
    new Set(events.map((e) => e.label)),
    new Set(["run 1/3 VAE d=2", "run 2/3 AE d=2", "run 3/3 VAE d=3"]),
  );
  assertEquals(events.at(-1)!.remaining, 0);
  assert(events.some((e) => e.remaining! > 0));
  // Every run keeps a snapshot per epoch: 8 + 8 reconstructions and 16 prior decodes.
  const per = (SNAPSHOT.train + SNAPSHOT.test + SNAPSHOT.prior) * 784;
  assertEquals(runs["VAE d=3"].snapshots.map((s) => s.length), [per, per]);
  const again = await runGrid(data, entries, { dir, concurrency: 1 });
  assertEquals(Object.values(again).every((r) => r.cached), true);
  assertEquals(again["VAE d=3"].snapshots, runs["VAE d=3"].snapshots);
  assertEquals(getWeights(again["AE d=2"].model), getWeights(runs["AE d=2"].model));
  for (const run of new Set([...Object.values(runs), ...Object.values(again)])) {
    disposeModel(run.model);
  }
});

Deno.test("runGrid() with two runs at once trains in workers and gets the same weights", async () => {
  const [one, two] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const sequential = await runGrid(data, entries, { dir: one, concurrency: 1 });
  const parallel = await runGrid(data, entries, { dir: two, concurrency: 2 });
  for (const { name } of entries) {
    assertEquals(parallel[name].cached, false);
    assertEquals(getWeights(parallel[name].model), getWeights(sequential[name].model), name);
    assertEquals(parallel[name].history, sequential[name].history);
  }
  for (const run of new Set([...Object.values(sequential), ...Object.values(parallel)])) {
    disposeModel(run.model);
  }
});

Deno.test("runGrid() names repeated names and bad concurrency; auto trains a run per core on one thread each, a single run on two", async () => {
  await assertRejects(
    () => runGrid(data, [entries[0], { ...entries[1], name: "VAE d=2" }]),
    RangeError,
    '"VAE d=2" repeats',
  );
  await assertRejects(() => runGrid(data, entries, { concurrency: 0 }), RangeError, "concurrency");
  assertEquals(
    [
      gridConcurrency(5, 2, "wasm"),
      gridConcurrency(3, 8, "wasm"),
      gridConcurrency(1, 2, "wasm"),
      gridConcurrency(0, 2, "wasm"),
      gridConcurrency(4, 3, "cpu"),
      gridConcurrency(4, 1, "wasm"),
    ],
    [
      { concurrency: 2, workers: 1 },
      { concurrency: 3, workers: 1 },
      { concurrency: 1 },
      { concurrency: 1 },
      { concurrency: 3 },
      { concurrency: 1, workers: undefined },
    ].map((c) => c.workers === undefined ? { concurrency: c.concurrency } : c),
  );
});
