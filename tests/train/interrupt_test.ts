import { assert, assertEquals, assertStringIncludes } from "@std/assert";

// SIGINT would stop `deno test` itself, so each case runs in a process of its own.

Deno.test("SIGINT stops training after the current step, keeps the model and history, caches nothing", async () => {
  for (const workers of [1, 2]) {
    const dir = await Deno.makeTempDir();
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./interrupt_child.ts", import.meta.url).pathname,
        dir,
        `${workers}`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 0, stderr);
    const kept = JSON.parse(new TextDecoder().decode(output.stdout));
    assertStringIncludes(kept.error, "training interrupted after epoch");
    assert(kept.same, "the error's state is lastInterruption()");
    // Interrupted as epoch 2 ended: it stops early in epoch 3, with two epochs of history.
    assert(kept.epoch >= 3 && kept.epoch < 40, `stopped in epoch ${kept.epoch}`);
    assertEquals(kept.testRecords, kept.epoch - 1);
    assertEquals(kept.configEpochs, 40);
    assert(Number.isFinite(kept.loss) && kept.loss > 0, `${kept.loss}`);
    assertEquals([kept.runningWorkers, kept.cached], [0, []], `workers ${workers}`);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Ctrl-C in deno task train stops it with one line, exit 130, and nothing saved", async () => {
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../tools/train.ts", import.meta.url).pathname,
      ...["--data", "embedded", "--train-size", "512", "--test-size", "64", "--epochs", "50"],
      ...["--hidden", "32", "--runs", dir],
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  while (!stderr.includes("epoch 2/50")) {
    const { value, done } = await reader.read();
    if (done) break;
    stderr += value;
  }
  child.kill("SIGINT");
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    stderr += chunk.value;
  }
  const [status, stdout] = await Promise.all([child.status, new Response(child.stdout).text()]);
  assertEquals(status.code, 130, stderr);
  assertEquals(stdout, "");
  const last = stderr.trimEnd().split("\n").at(-1)!;
  assert(/^train: interrupted after epoch \d+\/50, step \d+; nothing was saved$/.test(last), last);
  assertEquals(Array.from(Deno.readDirSync(dir)), []);
  await Deno.remove(dir, { recursive: true });
});
