import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
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
} from "../../lib/mod.ts";
import { CACHE_TEST_CONFIG, syntheticDigits, syntheticMnist } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });
const data: MnistData = syntheticMnist();
const config: TrainConfig = CACHE_TEST_CONFIG;

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

Deno.test("runHash() changes with every config field and with either split", async () => {
  const description = describeData(data);
  const base = await runHash(config, description);
  assert(/^[0-9a-f]{16}$/.test(base));
  // Key order does not matter; every field's value does, and so do the optional fields.
  const reversed = Object.fromEntries(Object.entries(config).reverse()) as TrainConfig;
  assertEquals(await runHash(reversed, description), base);
  const changed: Partial<TrainConfig>[] = [
    { kind: "ae" },
    { arch: "conv" },
    { latentSize: 3 },
    { hiddenSize: 17 },
    { seed: 1 },
    { likelihood: "gaussian" },
    { scale: 0.2 },
    { beta: 2 },
    { epochs: 2 },
    { batchSize: 33 },
    { learningRate: 2e-3 },
    { noise: 0.1 },
    { capacity: { gamma: 30, target: 25 } },
    { clipNorm: 5 },
  ];
  const fields = new Set(changed.flatMap((c) => Object.keys(c)));
  for (const field of Object.keys(TRAIN_DEFAULTS)) assert(fields.has(field), `${field} untested`);
  const hashes = await Promise.all(changed.map((c) => runHash({ ...config, ...c }, description)));
  assertEquals(new Set([base, ...hashes]).size, changed.length + 1);
  // Either split, its size, or the source.
  const others = [
    { ...data, train: syntheticDigits(64, 9) },
    { ...data, test: syntheticDigits(32, 9) },
    { ...data, test: syntheticDigits(31, 2) },
    { ...data, source: "full" as const },
  ];
  for (const other of others) assertNotEquals(await runHash(config, describeData(other)), base);
});

/** SHA-256 of `bytes` in hex, as a manifest lists it. */
async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("a cached run that is corrupted, truncated, of an older format or another config is reported and trained again", async () => {
  const dir = await Deno.makeTempDir();
  const original = await runOrLoad(data, config, { dir });
  const weights = getWeights(original.model);
  const folder = original.folder;
  const manifest = await Deno.readTextFile(`${folder}/run.json`);
  const bytes = await Deno.readFile(`${folder}/weights.bin`);
  const json = JSON.parse(manifest);
  const writeManifest = (changes: object) =>
    Deno.writeTextFile(`${folder}/run.json`, JSON.stringify({ ...json, ...changes }));
  const flipped = bytes.slice();
  flipped[1000] ^= 1;
  const eight = new Uint8Array(8);
  const faults: [string, () => Promise<void>, string][] = [
    [
      "truncated weights",
      () => Deno.writeFile(`${folder}/weights.bin`, bytes.subarray(0, 100)),
      "weights.bin (100 bytes) does not match its checksum",
    ],
    [
      "one flipped bit",
      () => Deno.writeFile(`${folder}/weights.bin`, flipped),
      `weights.bin (${bytes.length} bytes) does not match its checksum`,
    ],
    ["missing snapshots", () => Deno.remove(`${folder}/snapshots.bin`), "snapshots.bin is missing"],
    [
      "truncated manifest",
      () => Deno.writeTextFile(`${folder}/run.json`, manifest.slice(0, 200)),
      "run.json is not valid JSON",
    ],
    [
      "older format",
      () => writeManifest({ format: 2 }),
      "written in format 2; this version reads format 3",
    ],
    [
      "no format",
      () => writeManifest({ format: undefined }),
      "written in format 1; this version reads format 3",
    ],
    [
      "another config",
      () => writeManifest({ config: { ...config, beta: 3 } }),
      "its config is not the one asked for",
    ],
    [
      "weights that fit no model, with their checksum",
      async () => {
        await Deno.writeFile(`${folder}/weights.bin`, eight);
        await writeManifest({
          checksums: { ...json.checksums, "weights.bin": await sha256(eight) },
        });
      },
      `weights.bin holds 2 values; the model needs ${bytes.length / 4}`,
    ],
  ];
  for (const [name, corrupt, reason] of faults) {
    await corrupt();
    const notices: string[] = [];
    const onNotice = (message: string) => notices.push(message);
    const before = tf.memory().numTensors;
    const run = await runOrLoad(data, config, { dir, onNotice });
    assertEquals(notices, [
      `vaelab: the cached run ${folder} cannot be used (${reason}); training it again`,
    ], name);
    assertEquals(run.cached, false, name);
    // Retrained with the same seed: the same weights, and a folder that loads again.
    assertEquals(getWeights(run.model), weights, name);
    disposeModel(run.model);
    assertEquals(tf.memory().numTensors, before, name);
    const again = await runOrLoad(data, config, { dir, onNotice });
    assertEquals([again.cached, notices.length], [true, 1], name);
    disposeModel(again.model);
  }
  disposeModel(original.model);
  await Deno.remove(dir, { recursive: true });
});

/** Start `tests/train/cache_child.ts DIR MODE`. */
function child(dir: string, mode: "once" | "loop"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./cache_child.ts", import.meta.url).pathname, dir, mode],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("two processes training the same run at once leave one valid run", async () => {
  const dir = await Deno.makeTempDir();
  const outputs = await Promise.all(
    [child(dir, "once"), child(dir, "once")].map((c) => c.output()),
  );
  for (const output of outputs) {
    const stdout = new TextDecoder().decode(output.stdout);
    assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
    assert(!stdout.includes("notice"), stdout);
  }
  const hash = await runHash(config, describeData(data));
  assertEquals(Array.from(Deno.readDirSync(dir), (e) => e.name), [hash]);
  const notices: string[] = [];
  const run = await runOrLoad(data, config, { dir, onNotice: (m) => notices.push(m) });
  assertEquals([run.cached, notices], [true, []]);
  disposeModel(run.model);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a process killed while it trains and saves, again and again, leaves the cache readable", async () => {
  const dir = await Deno.makeTempDir();
  // Kills at spread-out moments of a retrain-and-save loop (a pass takes tens of ms).
  for (const delay of [0, 7, 19, 31, 53]) {
    const process = child(dir, "loop");
    const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes("saved")) seen += (await reader.read()).value ?? "";
    await new Promise((resolve) => setTimeout(resolve, delay));
    process.kill("SIGKILL");
    await process.status;
    await reader.cancel();
    await process.stderr.cancel();
    // The run is there whole, or (killed between moving the old folder aside and renaming the
    // new one in) absent and trained again: never a folder that fails its checks.
    const notices: string[] = [];
    const run = await runOrLoad(data, config, { dir, onNotice: (m) => notices.push(m) });
    assertEquals(notices, [], `killed ${delay} ms after a save`);
    disposeModel(run.model);
  }
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
  assertEquals(manifest.format, 3);
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
