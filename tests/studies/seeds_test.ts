import { assert, assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import {
  getWeights,
  initBackend,
  runOrLoad,
  runSeeded,
  seededConfig,
  trainingSeeds,
} from "../../lib/mod.ts";
import { CACHE_TEST_CONFIG, syntheticMnist } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("trainingSeeds() gives three seeds in the full profile and the first n in the quick one", () => {
  const saved = Deno.env.get("VAELAB_PROFILE");
  try {
    Deno.env.set("VAELAB_PROFILE", "full");
    assertEquals(trainingSeeds(), [0, 1, 2]);
    Deno.env.set("VAELAB_PROFILE", "quick");
    assertEquals(trainingSeeds(), [0]);
    assertEquals(trainingSeeds(2), [0, 1]);
  } finally {
    saved === undefined ? Deno.env.delete("VAELAB_PROFILE") : Deno.env.set("VAELAB_PROFILE", saved);
  }
});

Deno.test("runSeeded() trains each entry once per seed; seed 0 is the entry's own run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = syntheticMnist(64, 32);
    const config = { ...CACHE_TEST_CONFIG, seed: 5 };
    assertEquals(seededConfig(config, 2).seed, 7);
    const runs = await runSeeded(
      data,
      [{ name: "vae", config }, { name: "ae", config: { ...config, kind: "ae" as const } }],
      [0, 2],
      { dir, workers: 1 },
    );
    assertEquals(Object.keys(runs), ["vae", "ae"]);
    assertEquals(runs.vae.map((r) => r.config.seed), [5, 7]);
    assertEquals(runs.ae.map((r) => r.config.kind), ["ae", "ae"]);
    // Another seed, other weights; seed 0 is the run the plain config names (loaded, not trained).
    assertNotEquals(getWeights(runs.vae[0].model)[0], getWeights(runs.vae[1].model)[0]);
    const plain = await runOrLoad(data, config, { dir });
    assert(plain.cached);
    assertEquals(plain.hash, runs.vae[0].hash);
    assertEquals(new Set([...runs.vae, ...runs.ae].map((r) => r.hash)).size, 4);
    await assertRejects(
      () => runSeeded(data, [{ name: "x", config }], [1, 1], { dir }),
      RangeError,
      "seeds must differ",
    );
    await assertRejects(
      () => runSeeded(data, [{ name: "x", config }], [], { dir }),
      RangeError,
      "at least one seed",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
