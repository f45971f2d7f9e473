import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { table, TABLE_MIME } from "../../lib/mod.ts";

Deno.test("table() shows rows as HTML, Markdown and aligned text, rounding numbers", () => {
  const t = table([{ model: "AE", mse: 0.0123456, n: 10 }, { model: "VAE<2>", mse: 2e-5, n: 3 }], {
    title: "errors",
  });
  const bundle = t.bundle();
  assertEquals(Object.keys(bundle).sort(), [
    TABLE_MIME,
    "text/html",
    "text/markdown",
    "text/plain",
  ]);
  assertStringIncludes(bundle["text/markdown"] as string, "| AE | 0.0123 | 10 |");
  assertStringIncludes(bundle["text/html"] as string, "<td>VAE&lt;2&gt;</td><td>2.00e-5</td>");
  // The data itself, unrounded, for the runner's tables file.
  assertEquals(bundle[TABLE_MIME], {
    title: "errors",
    columns: ["model", "mse", "n"],
    rows: [{ model: "AE", mse: 0.0123456, n: 10 }, { model: "VAE<2>", mse: 2e-5, n: 3 }],
    digits: 4,
  });
  assertEquals(t.toString().split("\n").slice(1), [
    " model      mse   n",
    "    AE   0.0123  10",
    "VAE<2>  2.00e-5   3",
  ]);
});

Deno.test("table() names a row that lacks a column, and refuses no rows", () => {
  assertThrows(
    () => table([{ a: 1, b: 2 }, { a: 1 } as { a: number; b: number }]),
    RangeError,
    "row 1 lacks column(s) b",
  );
  assertThrows(() => table([]), RangeError, "at least one row");
});

Deno.test("toMarkdown() escapes a | inside a cell, so p(x|z) stays one column", () => {
  const markdown = table([{ "-log p(x|z)": 1.5, model: "a|b" }]).toMarkdown();
  assertEquals(markdown.split("\n"), [
    "| -log p(x\\|z) | model |",
    "| --- | --- |",
    "| 1.5000 | a\\|b |",
  ]);
});
