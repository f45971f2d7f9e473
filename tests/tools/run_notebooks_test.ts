import { assertEquals } from "@std/assert";
import { initBackend, type MnistData, profile, runInfo, table } from "../../lib/mod.ts";
import { notebookFailures, notebookTables } from "../../tools/run_notebooks.ts";
import { syntheticDigits } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

/** A code cell whose outputs are what Deno's kernel sends for these values. */
function cellShowing(...values: object[]) {
  const display = Symbol.for("Jupyter.display");
  return {
    cell_type: "code",
    source: "x",
    execution_count: 1,
    outputs: values.map((v) => ({
      output_type: "execute_result",
      data: ((v as Record<symbol, () => object>)[display])(),
    })),
  };
}

Deno.test("notebookTables() collects every table in order, with the cell and the run's data", () => {
  const data: MnistData = {
    train: syntheticDigits(20, 1),
    test: syntheticDigits(10, 2),
    source: "embedded",
  };
  const notebook = {
    cells: [
      cellShowing(runInfo(data, { backend: "wasm", epochs: 3 })),
      { cell_type: "markdown", source: "text" },
      cellShowing(table([{ model: "AE", loss: 1.5 }], { title: "first" })),
      cellShowing(table([{ beta: 4, rate: 2 }, { beta: 8, rate: 1 }])),
    ],
  };
  const found = notebookTables(notebook, { name: "nb.ipynb", profile: "quick" });
  assertEquals(found.notebook, "nb.ipynb");
  assertEquals(found.run?.source, "embedded");
  assertEquals([found.run?.trainSize, found.run?.testSize, found.run?.epochs], [20, 10, 3]);
  assertEquals(found.tables, [
    {
      cell: 3,
      title: "first",
      columns: ["model", "loss"],
      rows: [{ model: "AE", loss: 1.5 }],
      digits: 4,
    },
    {
      cell: 4,
      title: "",
      columns: ["beta", "rate"],
      rows: [{ beta: 4, rate: 2 }, { beta: 8, rate: 1 }],
      digits: 4,
    },
  ]);
  assertEquals(notebookFailures(notebook), []);
  // Data drawn, not loaded: the source, no split sizes.
  const drawn = notebookTables(
    { cells: [cellShowing(runInfo({ source: "ring of 8 Gaussians" }, { backend: "cpu" }))] },
    { name: "ring.ipynb", profile: "quick" },
  );
  assertEquals(drawn.run, { profile: profile(), source: "ring of 8 Gaussians", backend: "cpu" });
});
