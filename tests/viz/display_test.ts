import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import {
  Figure,
  figureBundle,
  historyFigure,
  PLOTLY_MIME,
  resetPlotlyInlining,
  seriesFigure,
  toHtml,
  writeHtml,
} from "../../lib/viz/mod.ts";
import { history, plotlyJson } from "./_figures.ts";

const PLOTLY_HEADER = "plotly.js (cartesian - minified)";

Deno.test("a figure's bundle offers Plotly JSON, HTML and plain text", () => {
  const figure = historyFigure(history(3), { title: "Loss" });
  const bundle = figure[Symbol.for("Jupyter.display") as keyof Figure] as unknown as () => Record<
    string,
    unknown
  >;
  const mime = bundle.call(figure);
  assertEquals(Object.keys(mime).sort(), [PLOTLY_MIME, "text/html", "text/plain"]);
  const json = JSON.parse(JSON.stringify(mime[PLOTLY_MIME]));
  assert(Array.isArray(json.data) && json.data.length > 0);
  assertEquals(json.layout.title.text, "Loss");
  assertMatch(mime["text/plain"] as string, /^Figure "Loss": 6 scatter$/);
});

Deno.test("plotly.js is inlined in the first figure of a session only", () => {
  resetPlotlyInlining();
  const first = figureBundle(seriesFigure([{ name: "a", x: [1, 2], y: [3, 4] }]))["text/html"];
  const second = figureBundle(seriesFigure([{ name: "b", x: [1, 2], y: [5, 6] }]))["text/html"];
  assertStringIncludes(first as string, PLOTLY_HEADER);
  assert((first as string).length > 1_000_000);
  assert(!(second as string).includes(PLOTLY_HEADER));
  assert((second as string).length < 5_000, `second figure is ${(second as string).length} chars`);
  resetPlotlyInlining();
  assertStringIncludes(figureBundle(new Figure([]))["text/html"] as string, PLOTLY_HEADER);
});

Deno.test("figure JSON writes typed arrays as arrays and HTML escapes </script>", () => {
  const figure = new Figure(
    [{ type: "scatter", x: new Float32Array([1, 2]) as never, y: [3, 4] }],
    {
      title: { text: "</script><b>x</b>" },
    },
  );
  assertEquals(plotlyJson(figure).data[0].x, [1, 2]);
  const html = figureBundle(figure)["text/html"] as string;
  assertEquals(html.match(/<\/script>/g)?.length, html.match(/<script/g)?.length);
});

Deno.test("writeHtml() writes a standalone page with plotly.js and every figure", async () => {
  const path = await Deno.makeTempFile({ suffix: ".html" });
  try {
    const figures = [historyFigure(history(2)), seriesFigure([{ name: "s", x: [1], y: [2] }])];
    await writeHtml(figures, path, { title: "Report" });
    const html = await Deno.readTextFile(path);
    assert(html.startsWith("<!DOCTYPE html>"));
    assertStringIncludes(html, "<title>Report</title>");
    assertEquals(html.split(PLOTLY_HEADER).length, 2);
    assertEquals(html.match(/class="vaelab-plot"/g)?.length, 2);
    assertEquals(toHtml(figures[0]).match(/class="vaelab-plot"/g)?.length, 1);
  } finally {
    await Deno.remove(path);
  }
});
