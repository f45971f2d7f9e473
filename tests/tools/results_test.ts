import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { type NotebookTables, resultsMarkdown } from "../../tools/results.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("resultsMarkdown() heads the tables with the profile, commit, machine and products", () => {
  const notebooks: NotebookTables[] = [{
    notebook: "01_x",
    profile: "full",
    run: {
      source: "full",
      trainSize: 60000,
      testSize: 10000,
      backend: "wasm",
      products: "OpenBLAS",
    },
    tables: [{
      cell: 3,
      title: "losses",
      columns: ["model", "loss"],
      rows: [{ model: "VAE", loss: 105.4812 }, { model: "AE", loss: 99 }],
      digits: 2,
    }],
  }];
  // A notebook that draws its data (the ring of notebook 08) has a source and no split sizes.
  notebooks.push({
    notebook: "08_y",
    profile: "full",
    run: { source: "ring of 8 Gaussians", backend: "wasm", seeds: 3 },
    tables: [],
  });
  const text = resultsMarkdown(notebooks, {
    profile: "full",
    commit: "abc123",
    date: "2026-12-03",
    machine: "Intel Xeon, 2 cores",
    seconds: { "01_x": 271.4, "08_y": 20 },
  });
  assertStringIncludes(text, "## 08_y\n\ndata ring of 8 Gaussians; backend wasm; seeds 3");
  assert(text.startsWith("# Results of a `full` reproduction\n"));
  for (const part of ["abc123", "2026-12-03", "Intel Xeon, 2 cores", "products on OpenBLAS"]) {
    assertStringIncludes(text, part);
  }
  assertStringIncludes(text, "## 01_x\n\ndata full 60000 train / 10000 test; backend wasm");
  assertStringIncludes(text, "ran in 271 s");
  // A NaN, which the tables' JSON keeps as null, in a number and in a spread.
  const withNaN = resultsMarkdown([{
    notebook: "07_z",
    profile: "full",
    run: null,
    tables: [{
      cell: 1,
      title: "gaps",
      columns: ["model", "distance", "spread"],
      rows: [{
        model: "GAN",
        distance: null as unknown as number,
        spread: { mean: null, stdError: null, min: null, max: null, values: [null] } as never,
      }],
      digits: 2,
    }],
  }], { profile: "full", commit: "c", date: "d", machine: "m", seconds: {} });
  assertStringIncludes(withNaN, "| GAN | NaN |");
  // As the notebook showed it: 2 digits, integers as they are.
  assertStringIncludes(
    text,
    "**losses**\n\n| model | loss |\n| --- | --- |\n| VAE | 105.48 |\n| AE | 99 |",
  );
});

/**
 * The numbers of a Markdown text that are measurements: those with a decimal point, and integers
 * of four digits or more (thousands separators dropped). Smaller integers are mostly labels and
 * settings (notebook 04, d = 20, 784-400-20, 10 epochs).
 */
export function measuredNumbers(text: string): string[] {
  return [...text.matchAll(/(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.,])-?\d+(?:\.\d+)?/g)]
    .map((m) => m[0].replaceAll(",", ""))
    .filter((n) => n.includes(".") || n.replace("-", "").length >= 4);
}

Deno.test("measuredNumbers() keeps decimals and long integers, drops labels", () => {
  assertEquals(
    measuredNumbers("notebook 04, 784-400-20: 105.48 nats, 60,000 images, 10 epochs, 1e-3, v1.2"),
    ["105.48", "60000"],
  );
});

Deno.test("every measured number in the README's results is in results/full.md", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const start = readme.indexOf("\n## Results\n");
  assert(start >= 0, "the README has no ## Results section");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const results = await Deno.readTextFile(new URL("results/full.md", ROOT));
  const known = new Set(measuredNumbers(results));
  const missing = [...new Set(measuredNumbers(section))].filter((n) => !known.has(n));
  assertEquals(missing, [], "numbers in the README's results that results/full.md does not hold");
  assert(known.size > 100, `results/full.md holds only ${known.size} numbers`);
});
