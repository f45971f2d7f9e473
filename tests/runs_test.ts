import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertNotEquals, assertRejects, assertThrows } from "@std/assert";
import {
  byProfile,
  describeData,
  disposeModel,
  getWeights,
  initBackend,
  measureOnce,
  type MnistData,
  profile,
  runHash,
  runOrLoad,
  TRAIN_DEFAULTS,
  type TrainConfig,
} from "../lib/mod.ts";
import { syntheticDigits, syntheticMnist } from "./synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });
const data: MnistData = syntheticMnist();
const config: TrainConfig = {
  ...TRAIN_DEFAULTS,
  hiddenSize: 16,
  latentSize: 2,
  epochs: 1,
  batchSize: 32,
};

Deno.test("runOrLoad() trains once, then loads the same weights and history from the cache", async () => {
  const dir = await Deno.makeTempDir();
  const first = await runOrLoad(data, config, { dir });
  const second = await runOrLoad(data, config, { dir });
  assertEquals([first.cached, second.cached], [false, true]);
  assertEquals(second.history, first.history);
  assertEquals(getWeights(second.model), getWeights(first.model));
  assertEquals(second.hash, first.hash);
  const entries = Array.from(Deno.readDirSync(dir), (e) => e.name);
  assertEquals(entries, [first.hash]); // no partial folder left behind
  [first, second].forEach((r) => disposeModel(r.model));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("runHash() changes with the config and with the data", async () => {
  const description = describeData(data);
  const base = await runHash(config, description);
  assertEquals(await runHash({ ...config }, description), base);
  assertNotEquals(await runHash({ ...config, beta: 2 }, description), base);
  const other = describeData({ ...data, train: syntheticDigits(64, 9) });
  assertNotEquals(await runHash(config, other), base);
  assert(/^[0-9a-f]{16}$/.test(base));
});

Deno.test("runOrLoad() refuses a cached run whose weights do not fit the model", async () => {
  const dir = await Deno.makeTempDir();
  const run = await runOrLoad(data, config, { dir });
  disposeModel(run.model);
  await Deno.writeFile(`${dir}/${run.hash}/weights.bin`, new Uint8Array(8));
  const before = tf.memory().numTensors;
  await assertRejects(
    () => runOrLoad(data, config, { dir }),
    RangeError,
    "weights.bin holds 2 values",
  );
  assertEquals(tf.memory().numTensors, before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("profile() reads VAELAB_PROFILE, defaults to full and names a bad value", () => {
  const saved = Deno.env.get("VAELAB_PROFILE");
  try {
    Deno.env.delete("VAELAB_PROFILE");
    assertEquals([profile(), byProfile({ quick: 1, full: 2 })], ["full", 2]);
    Deno.env.set("VAELAB_PROFILE", "quick");
    assertEquals(byProfile({ quick: 1, full: 2 }), 1);
    Deno.env.set("VAELAB_PROFILE", "fast");
    assertThrows(
      () => profile(),
      RangeError,
      'VAELAB_PROFILE must be one of "quick", "full"; got "fast"',
    );
  } finally {
    if (saved === undefined) Deno.env.delete("VAELAB_PROFILE");
    else Deno.env.set("VAELAB_PROFILE", saved);
  }
});

Deno.test("a run's manifest names each variable, its shape and its byte offset in weights.bin", async () => {
  const dir = await Deno.makeTempDir();
  const run = await runOrLoad(data, config, { dir });
  assertEquals(run.folder, `${dir}/${run.hash}`);
  const manifest = JSON.parse(await Deno.readTextFile(`${run.folder}/run.json`));
  assertEquals(manifest.format, 2);
  assertEquals(manifest.variables.map((v: { name: string }) => v.name), [
    "encoder.hidden.kernel",
    "encoder.hidden.bias",
    "encoder.head.kernel",
    "encoder.head.bias",
    "decoder.hidden.kernel",
    "decoder.hidden.bias",
    "decoder.output.kernel",
    "decoder.output.bias",
  ]);
  // Read each variable at its offset, as data/README.md tells NumPy to, little-endian float32.
  const bytes = await Deno.readFile(`${run.folder}/weights.bin`);
  const view = new DataView(bytes.buffer);
  const weights = getWeights(run.model);
  manifest.variables.forEach((v: { shape: number[]; offset: number }, i: number) => {
    const size = v.shape.reduce((a, b) => a * b, 1);
    assertEquals(size, weights[i].length);
    const values = Float32Array.from(
      { length: size },
      (_, j) => view.getFloat32(v.offset + 4 * j, true),
    );
    assertEquals(values, weights[i]);
  });
  assertEquals(manifest.variables[2].shape, [16, 4]);
  disposeModel(run.model);
});

Deno.test("measureOnce() computes a run's measurement once, then reads it from the run's folder", async () => {
  const folder = await Deno.makeTempDir();
  let calls = 0;
  const measure = () => {
    calls += 1;
    return { elbo: -101.5, perUnit: [0.5, 0.25] };
  };
  const first = await measureOnce({ folder }, "elbo seed=0", measure);
  const again = await measureOnce({ folder }, "elbo seed=0", measure);
  const expected = { elbo: -101.5, perUnit: [0.5, 0.25] };
  assertEquals([first, again, calls], [expected, expected, 1]);
  // Another key is another measurement; the file keeps both.
  assertEquals(await measureOnce({ folder }, "elbo seed=1", () => 7), 7);
  const kept = JSON.parse(await Deno.readTextFile(`${folder}/measures.json`));
  assertEquals(Object.keys(kept), ["elbo seed=0", "elbo seed=1"]);
  await Deno.remove(folder, { recursive: true });
});
