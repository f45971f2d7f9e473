import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { owns, parseShard, shardOf, waitFor, type WaitOptions } from "../../lib/mod.ts";

Deno.test("parseShard() reads I/N with 0 <= I < N and names a bad one", () => {
  assertEquals(parseShard("0/1"), { index: 0, count: 1 });
  assertEquals(parseShard(" 3/4 "), { index: 3, count: 4 });
  for (const bad of ["4/4", "1/0", "-1/2", "a/b", "1", "1/2/3", ""]) {
    assertThrows(() => parseShard(bad), RangeError, `got "${bad}"`);
  }
});

Deno.test("N shares cover every run exactly once, the same way on every call", () => {
  const hashes = Array.from(
    { length: 500 },
    (_, i) =>
      ((i * 2654435761) >>> 0).toString(16).padStart(8, "0") +
      "0123456789abcdef".slice(i % 8, i % 8 + 8),
  );
  for (const count of [1, 2, 3, 4, 7]) {
    const sizes = new Array(count).fill(0);
    for (const hash of hashes) {
      const owners = Array.from({ length: count }, (_, index) => index)
        .filter((index) => owns({ index, count }, hash));
      assertEquals(owners, [shardOf(hash, count)], hash);
      sizes[owners[0]]++;
    }
    // Each share gets about its part: none empty, none over twice its part.
    assert(sizes.every((n) => n > 0 && n < (2 * hashes.length) / count), `${count}: ${sizes}`);
  }
  assertEquals(owns(undefined, "ffffffff00000000"), true);
});

/**
 * waitFor() on a fake clock: what it looked at and when, how long it asked to sleep. `found` is
 * the clock's time (ms) from which look() finds the run.
 */
function waited(found: number, options: WaitOptions = {}) {
  let now = 1_000_000;
  const start = now;
  const looks: number[] = [];
  const sleeps: number[] = [];
  const notices: string[] = [];
  const clock = {
    now: () => now,
    sleep: (ms: number) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
  const look = () => {
    looks.push(now - start);
    return Promise.resolve(now - start >= found ? "run" : undefined);
  };
  const result = waitFor("run abc", look, {
    clock,
    onNotice: (m) => notices.push(m),
    ...options,
  });
  return { result, looks, sleeps, notices };
}

Deno.test("waitFor() looks every poll seconds until the run lands, and gives up after the timeout", async () => {
  // The run lands at 12 s; polls of 5 s look at 0, 5, 10 and 15 s and return at the fourth look.
  const found = waited(12_000, { poll: 5, timeout: 60 });
  assertEquals(await found.result, "run");
  assertEquals(found.looks, [0, 5_000, 10_000, 15_000]);
  assertEquals(found.sleeps, [5_000, 5_000, 5_000]);
  assertEquals(found.notices, ["vaelab: waiting for run abc"]);
  // Found at once: no sleep.
  const first = waited(0, { poll: 5, timeout: 60 });
  assertEquals([await first.result, first.looks, first.sleeps], ["run", [0], []]);
  // A timeout of 12 s with polls of 5 s: looks at 0, 5, 10 and 15 s (past the deadline), then
  // gives up, naming what it waited for and the timeout in seconds.
  const never = waited(Infinity, { poll: 5, timeout: 12 });
  await assertRejects(() => never.result, Error, "gave up after 12 s waiting for run abc");
  assertEquals(never.looks, [0, 5_000, 10_000, 15_000]);
  // A run that lands just before the last look is still taken.
  const late = waited(15_000, { poll: 5, timeout: 12 });
  assertEquals(await late.result, "run");
});

Deno.test("waitFor() reads VAELAB_SHARD_POLL and VAELAB_SHARD_WAIT in seconds, ignoring bad values", async () => {
  const saved = ["VAELAB_SHARD_POLL", "VAELAB_SHARD_WAIT"].map((k) => [k, Deno.env.get(k)]);
  try {
    Deno.env.set("VAELAB_SHARD_POLL", "2");
    Deno.env.set("VAELAB_SHARD_WAIT", "3");
    const fromEnv = waited(Infinity);
    await assertRejects(() => fromEnv.result, Error, "gave up after 3 s");
    assertEquals(fromEnv.looks, [0, 2_000, 4_000]);
    // Zero, negative or not a number: the defaults (5 s, a day).
    for (const bad of ["0", "-1", "soon"]) {
      Deno.env.set("VAELAB_SHARD_POLL", bad);
      Deno.env.set("VAELAB_SHARD_WAIT", bad);
      const fallback = waited(86_400_000 + 5_000);
      assertEquals(await fallback.result, "run");
      assertEquals(fallback.sleeps[0], 5_000, bad);
      assertEquals(fallback.looks.length, 86_400 / 5 + 2, bad);
    }
  } finally {
    for (const [k, v] of saved) v === undefined ? Deno.env.delete(k!) : Deno.env.set(k!, v);
  }
});

Deno.test("two shards on one cache folder train each run once and load the other's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vaelab-shards-" });
  const child = (shard: string) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./shard_child.ts", import.meta.url).pathname, dir, shard],
      env: { VAELAB_SHARD_POLL: "0.2", VAELAB_SHARD_WAIT: "300" },
      stdout: "piped",
      stderr: "piped",
    }).output();
  try {
    const outputs = await Promise.all(["0/2", "1/2"].map(child));
    const results = outputs.map((o, i) => {
      assertEquals(o.code, 0, `shard ${i}: ${new TextDecoder().decode(o.stderr)}`);
      const lines = new TextDecoder().decode(o.stdout).trim().split("\n");
      return JSON.parse(lines.at(-1)!) as Record<string, { how: string; sum: number }>;
    });
    const hashes = Object.keys(results[0]).sort();
    assertEquals(hashes.length, 6);
    assertEquals(Object.keys(results[1]).sort(), hashes);
    for (const hash of hashes) {
      const owner = shardOf(hash, 2);
      // Trained by its shard only, loaded by the other, the same weights in both.
      assertEquals([results[owner][hash].how, results[1 - owner][hash].how], ["trained", "loaded"]);
      assertEquals(results[0][hash].sum, results[1][hash].sum);
    }
    // Both shares are used (this grid's hashes split between them), and the cache is whole:
    // no half-written folder is left beside the six runs.
    assert(hashes.some((h) => shardOf(h, 2) === 0) && hashes.some((h) => shardOf(h, 2) === 1));
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(left, hashes);
    // Without a shard, everything loads.
    const again = await child("0/1");
    const all = JSON.parse(new TextDecoder().decode(again.stdout).trim().split("\n").at(-1)!);
    assertEquals(
      Object.values(all).map((r) => (r as { how: string }).how),
      new Array(6).fill("loaded"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Whether a Slurm cluster answers here (Debian's slurm-wlm as a one-node cluster, say). */
async function slurmAnswers(): Promise<boolean> {
  try {
    const info = await new Deno.Command("sinfo", { args: ["-h", "-o", "%a"] }).output();
    return info.success && new TextDecoder().decode(info.stdout).includes("up");
  } catch {
    return false;
  }
}

Deno.test({
  name: "a Slurm array job (sbatch --array=0-1) trains the two shares into one cache folder",
  ignore: !(await slurmAnswers()),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "vaelab-slurm-" });
    const child = new URL("./shard_child.ts", import.meta.url).pathname;
    const script = `${dir}/grid.sbatch`;
    await Deno.writeTextFile(
      script,
      [
        "#!/bin/bash",
        "#SBATCH --array=0-1",
        `#SBATCH --output=${dir}/task-%a.log`,
        "export VAELAB_SHARD_POLL=0.2",
        `"${Deno.execPath()}" run -A ${child} ${dir}/runs ` +
        `"$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" > ${dir}/task-$SLURM_ARRAY_TASK_ID.json`,
        "",
      ].join("\n"),
    );
    try {
      const job = await new Deno.Command("sbatch", { args: ["--wait", script] }).output();
      assertEquals(job.code, 0, new TextDecoder().decode(job.stderr));
      const results = await Promise.all(
        [0, 1].map(async (i) =>
          JSON.parse(await Deno.readTextFile(`${dir}/task-${i}.json`)) as Record<
            string,
            { how: string }
          >
        ),
      );
      for (const hash of Object.keys(results[0])) {
        const owner = shardOf(hash, 2);
        assertEquals([results[owner][hash].how, results[1 - owner][hash].how], [
          "trained",
          "loaded",
        ]);
      }
      assertEquals([...Deno.readDirSync(`${dir}/runs`)].length, 6);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
