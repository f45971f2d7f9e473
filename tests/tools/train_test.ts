import { assert, assertEquals } from "@std/assert";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("../../tools/train.ts", import.meta.url));

/** `deno task train` with these flags: its exit code, its JSON line, its stderr. */
async function trainCli(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1) ?? "";
  return {
    code: output.code,
    json: output.code === 0 ? JSON.parse(stdout) : undefined,
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("deno task train keeps its run: a second call loads it, --retrain trains again", async () => {
  const runs = await Deno.makeTempDir();
  const small = [
    "--data",
    "embedded",
    "--train-size",
    "200",
    "--test-size",
    "100",
    "--epochs",
    "1",
    "--latent",
    "2",
    "--hidden",
    "16",
    "--batch-size",
    "50",
    "--runs",
    runs,
  ];
  try {
    const first = await trainCli(small);
    assertEquals(first.code, 0, first.stderr);
    assertEquals(first.json.cached, false);
    assert(first.json.run.startsWith(runs), first.json.run);
    const manifest = JSON.parse(await Deno.readTextFile(`${first.json.run}/run.json`));
    assertEquals(manifest.variables.length, 8);
    const second = await trainCli(small);
    assertEquals([second.json.cached, second.json.run], [true, first.json.run]);
    assertEquals(second.json.testLoss, first.json.testLoss);
    const again = await trainCli([...small, "--retrain", "--iwae", "10", "--iwae-images", "20"]);
    assertEquals(again.json.cached, false);
    assertEquals(again.json.testLoss, first.json.testLoss);
    assertEquals([again.json.iwaeK, again.json.iwaeImages], [10, 20]);
    // L_10 is at least the ELBO in expectation; on 20 images it is within noise of above it.
    assert(again.json.iwaeLogPx > -again.json.testLoss - 5, JSON.stringify(again.json));
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

/** The small data of these tests, and a run cache. */
const tiny = (runs: string) => [
  ...["--data", "embedded", "--train-size", "256", "--test-size", "64", "--epochs", "1"],
  ...["--workers", "1", "--runs", runs],
];

Deno.test("every model kind trains from the command line, with its own terms in the JSON line", async () => {
  const runs = await Deno.makeTempDir();
  // What each kind reports: its last test record's terms, or only train terms (no likelihood).
  const expected: Record<string, { test?: string; train: string }> = {
    ae: { test: "reconstruction", train: "reconstruction" },
    vae: { test: "kl", train: "kl" },
    aae: { test: "reconstruction", train: "discriminator" },
    gan: { train: "generatorGradNorm" },
    classifier: { test: "accuracy", train: "accuracy" },
    vqvae: { test: "perplexity", train: "codebook" },
    vaegan: { train: "featureReconstruction" },
  };
  try {
    const kinds = Object.keys(expected);
    for (let i = 0; i < kinds.length; i += 2) {
      const pair = kinds.slice(i, i + 2);
      const results = await Promise.all(
        pair.map((kind) => trainCli(["--model", kind, ...tiny(runs)])),
      );
      results.forEach(({ code, json, stderr }, j) => {
        const kind = pair[j];
        assertEquals(code, 0, `${kind}: ${stderr}`);
        assertEquals([json.config.kind, json.cached], [kind, false]);
        assert(json.run.startsWith(runs));
        assertEquals(json.test === undefined, expected[kind].test === undefined, kind);
        if (expected[kind].test) assert(Number.isFinite(json.test[expected[kind].test!]), kind);
        assert(
          Number.isFinite(json.train[expected[kind].train]),
          `${kind}: ${JSON.stringify(json.train)}`,
        );
      });
    }
    // The DCGAN and a mixture-prior VAE: the flags reach the config.
    const dcgan = await trainCli([
      "--model",
      "gan",
      "--arch",
      "conv",
      "--critic-steps",
      "2",
      ...tiny(runs),
    ]);
    assertEquals([dcgan.json.config.arch, dcgan.json.config.criticSteps, dcgan.json.config.beta1], [
      "conv",
      2,
      0.5,
    ]);
    const mixture = await trainCli([
      ...["--prior", "mixture", "--components", "3", "--likelihood", "gaussian", "--sigma", "0.2"],
      ...tiny(runs),
    ]);
    assertEquals(
      [mixture.json.config.prior, mixture.json.config.components, mixture.json.config.scale],
      ["mixture", 3, 0.2],
    );
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("--config FILE trains a cached run's exact config again, to the bit on one thread", async () => {
  const [first, second] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  try {
    const gan = await trainCli(["--model", "gan", "--label-smoothing", "0.1", ...tiny(first)]);
    const vae = await trainCli(["--model", "vae", "--beta", "2", ...tiny(first)]);
    for (const original of [gan.json, vae.json]) {
      const record = `${original.run}/run.json`;
      const again = await trainCli(["--config", record, "--workers", "1", "--runs", second]);
      assertEquals(again.code, 0, again.stderr);
      assertEquals(again.json.config, original.config);
      assertEquals([again.json.cached, again.json.run.replace(second, first)], [
        false,
        original.run,
      ]);
      const bytes = (run: string) => Deno.readFile(`${run}/weights.bin`);
      assertEquals(await bytes(again.json.run), await bytes(original.run), original.config.kind);
      // From the original cache it loads.
      const loaded = await trainCli(["--config", record, "--runs", first]);
      assertEquals(loaded.json.cached, true);
    }
  } finally {
    await Deno.remove(first, { recursive: true });
    await Deno.remove(second, { recursive: true });
  }
});
