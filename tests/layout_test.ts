/**
 * The layout rule of `lib/` (DESIGN.md): imports point one way between its folders, only `mod.ts`
 * files re-export, a folder is entered through its `mod.ts`, no file is over about 350 lines, and
 * no import cycle ties files anywhere in `lib/` or `tools/`. The checker runs on the real tree
 * and on small made-up trees that break each rule, so a test that cannot fail would show.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** What each folder of `lib/` may import, besides itself and packages. */
const ALLOWED: Record<string, readonly string[]> = {
  base: [],
  data: ["base"],
  model: ["base", "data"],
  train: ["base", "data", "model"],
  measure: ["base", "data", "model"],
  viz: ["base"],
  linear_gaussian: ["base"],
  studies: ["base", "data", "model", "train", "measure", "viz", "linear_gaussian"],
};
/** Folders a folder may import types from (and nothing else): the records `viz` draws. */
const TYPES_ONLY: Record<string, readonly string[]> = { viz: ["train"] };
const MAX_LINES = 350;

/** One import or re-export of a file. */
interface Import {
  /** The target, relative to the repository (or the bare package name). */
  target: string;
  typeOnly: boolean;
  reExport: boolean;
}

/** The relative imports and re-exports of a source text, multi-line ones included. */
export function importsOf(
  source: string,
): { specifier: string; typeOnly: boolean; reExport: boolean }[] {
  const found = [];
  const statement = /(?:^|\n)[ \t]*(import|export)\s+(type\s+)?([^;]*?)\s*from\s*"([^"]+)"/g;
  for (const match of source.matchAll(statement)) {
    const [, keyword, typeKeyword, clause, specifier] = match;
    // `import { type A, type B }` is type-only too.
    const names = clause.match(/^\{([\s\S]*)\}$/)?.[1].split(",").map((n) => n.trim()).filter(
      Boolean,
    );
    const allTypes = names !== undefined && names.length > 0 &&
      names.every((n) => n.startsWith("type "));
    found.push({
      specifier,
      typeOnly: Boolean(typeKeyword) || allTypes,
      reExport: keyword === "export",
    });
  }
  for (const match of source.matchAll(/(?:^|\n)[ \t]*import\s+"([^"]+)"/g)) {
    found.push({ specifier: match[1], typeOnly: false, reExport: false });
  }
  for (const match of source.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) {
    found.push({ specifier: match[1], typeOnly: false, reExport: false });
  }
  return found;
}

/** `lib/<folder>/...` -> folder; `lib/mod.ts` -> "" ; elsewhere undefined. */
function folderOf(path: string): string | undefined {
  const parts = path.split("/");
  if (parts[0] !== "lib") return undefined;
  return parts.length === 2 ? "" : parts[1];
}

/**
 * Every breach of the layout rule in a tree of source files (path relative to the repository ->
 * text), one message each, naming the file and the import.
 */
export function layoutProblems(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const graph = new Map<string, Import[]>();
  for (const [path, source] of files) {
    const imports = importsOf(source)
      .filter((i) => i.specifier.startsWith("."))
      .map((i) => ({ ...i, target: normalize(join(dirname(path), i.specifier)) }));
    graph.set(path, imports);
    const lines = source.split("\n").length;
    if (path.startsWith("lib/") && lines > MAX_LINES) {
      problems.push(`${path} has ${lines} lines; a file of lib/ holds at most ${MAX_LINES}`);
    }
    const from = folderOf(path);
    for (const { target, typeOnly, reExport } of imports) {
      const name = `${path} imports ${target}`;
      if (reExport && !path.endsWith("/mod.ts")) {
        problems.push(`${path} re-exports ${target}: only mod.ts files re-export`);
      }
      const to = folderOf(target);
      if (to === undefined) continue;
      if (path.startsWith("tests/") || path.startsWith("notebooks/")) {
        if (!target.endsWith("mod.ts")) {
          problems.push(`${name}: tests and notebooks import a mod.ts`);
        }
        continue;
      }
      if (to === "studies" && path !== "lib/mod.ts" && from !== "studies") {
        problems.push(`${name}: nothing but lib/mod.ts imports studies`);
      }
      if (from === undefined || from === "") continue; // tools/ and lib/mod.ts: any folder
      if (to === from) {
        if (target === `lib/${from}/mod.ts`) {
          problems.push(`${name}: a file imports its own folder's files, not its mod.ts`);
        }
        continue;
      }
      if (!target.endsWith("/mod.ts")) {
        problems.push(`${name}: another folder is imported through its mod.ts`);
      }
      const allowed = ALLOWED[from]?.includes(to) ||
        (typeOnly && (TYPES_ONLY[from] ?? []).includes(to));
      if (!allowed) {
        problems.push(
          `${name}: ${from} may import ${ALLOWED[from]?.join(", ") || "only packages"}` +
            (TYPES_ONLY[from] ? ` (and types from ${TYPES_ONLY[from].join(", ")})` : "") +
            `, not ${to === "" ? "lib/mod.ts" : to}`,
        );
      }
    }
  }
  for (const cycle of cycles(graph)) problems.push(`import cycle: ${cycle.join(" -> ")}`);
  return problems;
}

/** The import cycles between files of lib/ and tools/, each once, as paths. */
function cycles(graph: ReadonlyMap<string, Import[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const { target } of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (state.get(target) === "open") {
        found.push([...stack.slice(stack.indexOf(target)), target]);
      } else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of [...graph.keys()].sort()) {
    if (!state.has(file) && (file.startsWith("lib/") || file.startsWith("tools/"))) visit(file);
  }
  return found;
}

/** Every .ts file under the folders, and the code cells of the notebooks, by relative path. */
async function readTree(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(join(ROOT, dir))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) {
        files.set(path, await Deno.readTextFile(join(ROOT, path)));
      }
    }
  };
  for (const dir of ["lib", "tools", "tests"]) await walk(dir);
  for await (const entry of Deno.readDir(join(ROOT, "notebooks"))) {
    if (!entry.name.endsWith(".ipynb")) continue;
    const path = `notebooks/${entry.name}`;
    const notebook = JSON.parse(await Deno.readTextFile(join(ROOT, path)));
    const code = notebook.cells.filter((c: { cell_type: string }) => c.cell_type === "code")
      .map((c: { source: string[] | string }) => [c.source].flat().join("")).join("\n");
    files.set(path, code);
  }
  return files;
}

Deno.test("lib/ keeps the layout rule: one-way imports, mod.ts entries, no cycle, small files", async () => {
  const files = await readTree();
  assertEquals(layoutProblems(files), []);
  // Every folder of the design has its mod.ts, and lib/mod.ts re-exports each.
  const top = files.get("lib/mod.ts") ?? "";
  for (const folder of Object.keys(ALLOWED)) {
    assertEquals(files.has(`lib/${folder}/mod.ts`), true, `lib/${folder}/mod.ts is missing`);
    assertStringIncludes(top, `"./${folder}/mod.ts"`);
  }
  // The parser sees the tree's imports (a broken one would find no problem anywhere).
  const edges = [...files.values()].flatMap((text) => importsOf(text))
    .filter((i) => i.specifier.startsWith("."));
  assert(edges.length > 100, `only ${edges.length} relative imports found`);
});

Deno.test("layoutProblems() names a forbidden direction, a bypassed mod.ts and a re-export", () => {
  const problems = layoutProblems(
    new Map([
      ["lib/base/random.ts", 'import { train } from "../train/mod.ts";'],
      ["lib/model/models.ts", 'import { rng } from "../base/random.ts";'],
      ["lib/data/mnist.ts", 'export { rng } from "../base/mod.ts";'],
      ["lib/viz/plots.ts", 'import { type Model } from "../model/mod.ts";'],
      ["lib/measure/metrics.ts", 'import { verify } from "../studies/mod.ts";'],
      ["tests/x_test.ts", 'import { rng } from "../lib/base/random.ts";'],
    ]),
  );
  assertEquals(problems, [
    "lib/base/random.ts imports lib/train/mod.ts: base may import only packages, not train",
    "lib/model/models.ts imports lib/base/random.ts: another folder is imported through its mod.ts",
    "lib/data/mnist.ts re-exports lib/base/mod.ts: only mod.ts files re-export",
    "lib/viz/plots.ts imports lib/model/mod.ts: viz may import base (and types from train), not model",
    "lib/measure/metrics.ts imports lib/studies/mod.ts: nothing but lib/mod.ts imports studies",
    "lib/measure/metrics.ts imports lib/studies/mod.ts: measure may import base, data, model, not studies",
    "tests/x_test.ts imports lib/base/random.ts: tests and notebooks import a mod.ts",
  ]);
});

Deno.test("layoutProblems() lets viz import types from train, and finds cycles across lines", () => {
  assertEquals(
    layoutProblems(
      new Map([
        ["lib/viz/plots.ts", 'import type { EpochRecord } from "../train/mod.ts";'],
        ["lib/viz/progress.ts", 'import {\n  type A,\n  type B,\n} from "../train/mod.ts";'],
      ]),
    ),
    [],
  );
  const problems = layoutProblems(
    new Map([
      ["lib/train/a.ts", 'import {\n  b,\n} from "./b.ts";'],
      ["lib/train/b.ts", 'import type { A } from "./a.ts";'],
      ["tools/x.ts", 'import { y } from "./y.ts";'],
      ["tools/y.ts", 'import { x } from "./x.ts";'],
    ]),
  );
  assertEquals(problems, [
    "import cycle: lib/train/a.ts -> lib/train/b.ts -> lib/train/a.ts",
    "import cycle: tools/x.ts -> tools/y.ts -> tools/x.ts",
  ]);
});

Deno.test("layoutProblems() counts the lines of lib/ files", () => {
  const long = "const a = 1;\n".repeat(MAX_LINES + 1);
  assertEquals(layoutProblems(new Map([["lib/base/long.ts", long]])), [
    `lib/base/long.ts has ${MAX_LINES + 2} lines; a file of lib/ holds at most ${MAX_LINES}`,
  ]);
});

/**
 * The `lib/` files tested through another module's test file (path under `lib/` -> the test file
 * under `tests/`). Every other file `lib/F/N.ts` has `tests/F/N_test.ts`; `mod.ts` files re-export
 * and `_`-prefixed files are private to their folder.
 */
export const TESTED_THROUGH: Readonly<Record<string, string>> = {
  // The kernels: checked against the cpu backend where they are registered or used.
  "base/compiled_kernels.ts": "base/backend_test.ts",
  "base/conv_kernels.ts": "base/fused_kernels_test.ts",
  "base/conv_vae_kernel.ts": "train/shared_step_test.ts",
  "base/mlp_vae_kernel.ts": "train/shared_step_test.ts",
  "base/heap_plan.ts": "train/shared_step_test.ts",
  "base/kernels_wasm.ts": "base/backend_test.ts",
  "base/wasm_kernels.ts": "base/backend_test.ts",
  "base/tensor.ts": "base/backend_test.ts",
  "linear_gaussian/linalg.ts": "linear_gaussian/exact_test.ts",
  "model/classifier.ts": "train/classify_test.ts",
  "model/conv_layers.ts": "model/layers_test.ts",
  "model/gaussian.ts": "model/losses_test.ts",
  "model/types.ts": "model/models_test.ts",
  "model/variables.ts": "model/models_test.ts",
  // A step is tested with its model; a worker and its messages with the two-thread training.
  "train/vqvae_step.ts": "model/vqvae_test.ts",
  "train/exchange.ts": "train/parallel_test.ts",
  "train/worker.ts": "train/parallel_test.ts",
  "train/grid_worker.ts": "train/grid_test.ts",
  "train/records.ts": "train/loop_test.ts",
  "train/run_folder.ts": "train/runs_test.ts",
  "studies/vq.ts": "model/vqvae_test.ts",
  "studies/profile.ts": "train/runs_test.ts",
  "studies/training_slider.ts": "viz/frames_test.ts",
  "studies/elbo/figures.ts": "studies/elbo/derivation_test.ts",
  "studies/reparam/figures.ts": "studies/reparam/toy_test.ts",
  "studies/ring_figures.ts": "studies/ring_test.ts",
  "studies/ring_worker.ts": "studies/ring_gan_test.ts",
  "viz/html.ts": "viz/display_test.ts",
};

/**
 * What is wrong with the test files of a tree of paths (relative to the repository): a `lib/`
 * file without its test file and not in `through`, an entry of `through` that names a missing file
 * or is not needed, and a test file of `tests/F/` that tests no file of `lib/F/` (or of `tools/`
 * for `tests/tools/`, `notebooks/` for `tests/notebooks/`).
 */
export function testLayoutProblems(
  paths: readonly string[],
  through: Readonly<Record<string, string>> = TESTED_THROUGH,
): string[] {
  const have = new Set(paths);
  const problems: string[] = [];
  const testOf = (module: string) => `tests/${module.replace(/\.ts$/, "_test.ts")}`;
  const modules = paths
    .filter((p) => p.startsWith("lib/") && p.endsWith(".ts") && p.split("/").length > 2)
    .map((p) => p.slice(4))
    .filter((m) => !m.endsWith("/mod.ts") && !m.split("/").at(-1)!.startsWith("_"));
  for (const module of modules) {
    const own = testOf(module);
    const other = through[module];
    if (have.has(own)) {
      if (other) problems.push(`lib/${module} has ${own}: drop it from the tested-through list`);
    } else if (!other) {
      problems.push(`lib/${module} has no ${own} and is not in the tested-through list`);
    } else if (!have.has(`tests/${other}`)) {
      problems.push(`lib/${module} is tested through tests/${other}, which does not exist`);
    }
  }
  for (const module of Object.keys(through)) {
    if (!have.has(`lib/${module}`)) problems.push(`the tested-through list names lib/${module}`);
  }
  for (const test of paths.filter((p) => p.startsWith("tests/") && p.endsWith("_test.ts"))) {
    const parts = test.split("/");
    if (parts.length === 2) continue; // tests/layout_test.ts, tests/properties_test.ts: all of lib/
    const name = parts.slice(1).join("/").replace(/_test\.ts$/, "");
    const source = parts[1] === "tools"
      ? `tools/${parts.slice(2).join("/").replace(/_test\.ts$/, ".ts")}`
      : parts[1] === "notebooks"
      ? "notebooks"
      : `lib/${name}.ts`;
    // A test file may add a word: tests/tools/run_notebooks_faults_test.ts tests tools/run_notebooks.ts.
    const named = (path: string) =>
      have.has(path) ||
      paths.some((p) => p.endsWith(".ts") && path.startsWith(p.replace(/\.ts$/, "_")));
    const inNotebooks = source === "notebooks" && paths.some((p) => p.startsWith("notebooks/"));
    const validators = test === "tests/tools/bad_input_test.ts"; // every validator, CLI and API
    if (!named(source) && !inNotebooks && !validators) {
      problems.push(`${test} matches no ${source}: name a test file after what it tests`);
    }
  }
  return problems;
}

/** Every file under the repository's code folders, as a relative path. */
async function treePaths(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(join(ROOT, dir))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else found.push(path);
    }
  };
  for (const dir of ["lib", "tools", "tests", "notebooks"]) await walk(dir);
  return found.sort();
}

Deno.test("tests/ mirrors lib/: each lib file has its test file or is named as tested through one", async () => {
  assertEquals(testLayoutProblems(await treePaths()), []);
});

Deno.test("testLayoutProblems() names a missing test, a stale entry and a misnamed test file", () => {
  const problems = testLayoutProblems(
    [
      "lib/base/mod.ts",
      "lib/base/random.ts",
      "lib/base/_private.ts",
      "lib/base/stats.ts",
      "lib/train/step.ts",
      "tests/base/random_test.ts",
      "tests/base/stats_test.ts",
      "tests/base/helpers_test.ts",
      "tests/tools/train_test.ts",
      "tests/layout_test.ts",
      "lib/base/kernels.c",
      "lib/base/stats_extra.ts",
      "tests/base/stats_extra_more_test.ts",
    ],
    { "base/stats.ts": "base/random_test.ts", "base/gone.ts": "base/random_test.ts" },
  );
  assertEquals(problems, [
    "lib/base/stats.ts has tests/base/stats_test.ts: drop it from the tested-through list",
    "lib/train/step.ts has no tests/train/step_test.ts and is not in the tested-through list",
    "lib/base/stats_extra.ts has no tests/base/stats_extra_test.ts and is not in the tested-through list",
    "the tested-through list names lib/base/gone.ts",
    "tests/base/helpers_test.ts matches no lib/base/helpers.ts: name a test file after what it tests",
    "tests/tools/train_test.ts matches no tools/train.ts: name a test file after what it tests",
  ]);
});
