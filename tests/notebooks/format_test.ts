/**
 * The notebooks are formatted like the code: `deno fmt` leaves them unchanged and no code line is
 * over 100 columns. Checked by formatting a copy, since `deno fmt --check` (Deno 2.9.6) on a fresh
 * cache reports a notebook as unformatted when a cell's source does not end with a newline, even
 * though `deno fmt` would change nothing (the committed cells end with one, so both agree).
 */
import { assertEquals } from "@std/assert";

const NOTEBOOKS = new URL("../../notebooks/", import.meta.url);

Deno.test("deno fmt leaves every notebook unchanged; no code line over 100 columns", async () => {
  const copy = await Deno.makeTempDir({ prefix: "vaelab-fmt-" });
  try {
    const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
    await Deno.writeTextFile(
      `${copy}/deno.json`,
      JSON.stringify({ fmt: { lineWidth: config.fmt.lineWidth } }),
    );
    const names = [...Deno.readDirSync(NOTEBOOKS)].map((e) => e.name).filter((n) =>
      n.endsWith(".ipynb")
    )
      .sort();
    for (const name of names) await Deno.copyFile(new URL(name, NOTEBOOKS), `${copy}/${name}`);
    const result = await new Deno.Command(Deno.execPath(), { args: ["fmt", "."], cwd: copy })
      .output();
    assertEquals(result.code, 0, new TextDecoder().decode(result.stderr));
    const changed: string[] = [];
    const long: string[] = [];
    for (const name of names) {
      const original = await Deno.readTextFile(new URL(name, NOTEBOOKS));
      if (await Deno.readTextFile(`${copy}/${name}`) !== original) changed.push(name);
      JSON.parse(original).cells.forEach(
        (cell: { cell_type: string; source: string | string[] }, i: number) => {
          if (cell.cell_type !== "code") return;
          const source = typeof cell.source === "string" ? cell.source : cell.source.join("");
          source.split("\n").forEach((line, j) => {
            if (line.length > 100) long.push(`${name} cell ${i + 1} line ${j + 1}: ${line.length}`);
          });
        },
      );
    }
    assertEquals(changed, [], "run deno fmt notebooks/");
    assertEquals(long, []);
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});
