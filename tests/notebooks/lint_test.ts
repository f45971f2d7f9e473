/**
 * The notebooks' code is linted like the code: `deno lint` cannot read an .ipynb file, so each
 * notebook's code cells, in order, are written to one .ts file (a notebook's cells share one
 * module scope in Deno's kernel, as they do there) and linted with the project's rules.
 */
import { assertEquals } from "@std/assert";

const NOTEBOOKS = new URL("../../notebooks/", import.meta.url);

/** A notebook's code cells as one module: each cell's source, in order. */
export function notebookCode(
  notebook: { cells: { cell_type: string; source: string[] | string }[] },
) {
  return notebook.cells.filter((c) => c.cell_type === "code")
    .map((c) => [c.source].flat().join("")).join("\n\n") + "\n";
}

Deno.test("deno lint finds nothing in the notebooks' code cells", async () => {
  const copy = await Deno.makeTempDir({ prefix: "vaelab-lint-" });
  try {
    const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
    await Deno.writeTextFile(`${copy}/deno.json`, JSON.stringify({ lint: config.lint ?? {} }));
    const names = [...Deno.readDirSync(NOTEBOOKS)].map((e) => e.name)
      .filter((n) => n.endsWith(".ipynb")).sort();
    for (const name of names) {
      const notebook = JSON.parse(await Deno.readTextFile(new URL(name, NOTEBOOKS)));
      await Deno.writeTextFile(
        `${copy}/${name.replace(/\.ipynb$/, ".ts")}`,
        notebookCode(notebook),
      );
    }
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["lint", "--no-config", "--config", `${copy}/deno.json`, copy],
      env: { NO_COLOR: "1" },
    }).output();
    const report = new TextDecoder().decode(result.stdout) +
      new TextDecoder().decode(result.stderr);
    assertEquals(result.code, 0, report);
    // The check reads every notebook (a broken extraction would lint nothing).
    assertEquals(report.match(/Checked (\d+) files?/)?.[1], String(names.length), report);
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});

Deno.test("notebooks store the kernel metadata Deno's kernel reports: JupyterLab opens them clean", async () => {
  for (
    const name of [...Deno.readDirSync(NOTEBOOKS)].map((e) => e.name).filter((n) =>
      n.endsWith(".ipynb")
    )
  ) {
    const { metadata } = JSON.parse(await Deno.readTextFile(new URL(name, NOTEBOOKS)));
    assertEquals(metadata.kernelspec, {
      display_name: "Deno",
      language: "typescript",
      name: "deno",
    }, name);
    // The kernel reports Deno's TypeScript; another version marks the notebook modified on open.
    assertEquals(metadata.language_info?.version, Deno.version.typescript, name);
  }
});
