/**
 * The unit tests under each OpenBLAS core this processor runs, and on our wasm product: no test
 * may assume one processor's rounding.
 *
 *   deno task test-cores                # every core OpenBLAS knows that runs here, then VAELAB_BLAS=off
 *   deno task test-cores Haswell off    # those settings only (a core name, `auto` or `off`)
 *
 * OpenBLAS picks its kernels by the processor (`auto`) unless `OPENBLAS_CORETYPE` names a core;
 * kernels of different cores round products differently (Haswell's give a row other last bits
 * for another number of rows). A core runs here when a process that loads OpenBLAS with it
 * computes one product and reports that core (a core whose instructions this processor lacks
 * dies of SIGILL; an unknown name falls back to another core). Each setting then runs
 * `deno test -A` in its own process with that environment; the table at the end gives each
 * setting's core as OpenBLAS reported it, and its tests' last line. Exit status 1 when a setting
 * fails.
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The x86-64 cores of OpenBLAS's DYNAMIC_ARCH builds (0.3.21, Debian's), oldest first: the names
 * `OPENBLAS_CORETYPE` takes. On another architecture only `auto` and `off` are tried.
 */
export const X86_CORES = [
  "Prescott",
  "Core2",
  "Nehalem",
  "Barcelona",
  "Sandybridge",
  "Bulldozer",
  "Piledriver",
  "Steamroller",
  "Excavator",
  "Haswell",
  "Zen",
  "SkylakeX",
  "Cooperlake",
  "SapphireRapids",
] as const;

/** One setting of the products: `auto` (OpenBLAS picks), a core name, or `off` (our wasm product). */
export type Setting = string;

/** The environment of a setting, from the current one. */
export function settingEnv(setting: Setting, base: Record<string, string>): Record<string, string> {
  const env = { ...base };
  delete env.OPENBLAS_CORETYPE;
  if (setting === "off") {
    env.VAELAB_BLAS = "off";
    delete env.VAELAB_REQUIRE_BLAS;
  } else {
    if (env.VAELAB_BLAS === "off") delete env.VAELAB_BLAS;
    env.VAELAB_REQUIRE_BLAS = "1";
    if (setting !== "auto") env.OPENBLAS_CORETYPE = setting;
  }
  return env;
}

/** The probe: load the products as the tests do, compute one, print what computed it. */
const PROBE = `
import { initBackend, productInfo } from "${join(ROOT, "lib/mod.ts")}";
import * as tf from "@tensorflow/tfjs";
await initBackend({ backend: "wasm", quiet: true });
const product = tf.tidy(() => tf.matMul(tf.ones([3, 5]), tf.ones([5, 2])).dataSync());
if (product.some((v) => v !== 5)) throw new Error("a product of ones is " + product);
console.log(productInfo().description);
`;

/** What OpenBLAS reports with this setting, or why the setting cannot run here. */
export async function probe(setting: Setting): Promise<{ core?: string; problem?: string }> {
  const env = settingEnv(setting, Deno.env.toObject());
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", join(ROOT, "deno.json"), PROBE],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success) {
    const why = out.signal ? `killed by ${out.signal}` : `exit ${out.code}`;
    return { problem: `${why}: ${new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)}` };
  }
  const core = /\((\S+) core\)/.exec(text)?.[1] ?? (setting === "off" ? "wasm" : "?");
  if (setting !== "auto" && setting !== "off" && core.toLowerCase() !== setting.toLowerCase()) {
    return { core, problem: `OpenBLAS took the ${core} core instead` };
  }
  return { core };
}

/** The counts of `deno test`'s last summary line, e.g. `ok | 300 passed | 0 failed (1m40s)`. */
export function summaryLine(output: string): string {
  // deno-lint-ignore no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  return plain.split("\n").filter((line) => /\d+ passed \| \d+ failed/.test(line)).at(-1)?.trim() ??
    "no summary line";
}

async function runTests(setting: Setting): Promise<{ ok: boolean; line: string; output: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A"],
    cwd: ROOT,
    env: settingEnv(setting, Deno.env.toObject()),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { ok: out.success, line: summaryLine(output), output };
}

async function main(args: string[]): Promise<number> {
  const settings = args.length > 0
    ? args
    : ["auto", ...(Deno.build.arch === "x86_64" ? X86_CORES : []), "off"];
  const rows: string[][] = [];
  let failed = 0;
  for (const setting of settings) {
    const { core, problem } = await probe(setting);
    if (problem) {
      // Asked for by name, a setting that cannot run is a failure; found by the scan, a skip.
      if (args.length > 0) failed++;
      rows.push([setting, core ?? "-", args.length > 0 ? "FAILED" : "skipped", problem]);
      console.error(`test-cores: ${setting}: ${problem}`);
      continue;
    }
    console.error(`test-cores: ${setting} (${core}): deno test -A ...`);
    const started = performance.now();
    const result = await runTests(setting);
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    if (!result.ok) {
      failed++;
      console.error(result.output);
    }
    rows.push([setting, core!, result.ok ? "passed" : "FAILED", `${result.line} (${seconds} s)`]);
  }
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), 7));
  console.log(["setting", "core", "result"].map((h, i) => h.padEnd(widths[i])).join("  "));
  for (const row of rows) {
    console.log(row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join("  "));
  }
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
