import { assert, assertEquals, assertThrows } from "@std/assert";
import { owns, parseShard, shardOf } from "../../lib/mod.ts";

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
