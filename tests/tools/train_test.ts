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
