import { assert, assertEquals } from "@std/assert";
import { digitGridFigure, historyFigure, subplots } from "../../lib/viz/mod.ts";
import { history, type Json, plotlyJson } from "./_figures.ts";

Deno.test("subplots() gives each figure its own axes and shows each legend entry once", () => {
  const grid = digitGridFigure(new Float32Array(2 * 784), { title: "digits" });
  const combined = subplots([historyFigure(history(2)), historyFigure(history(3)), grid], {
    columns: 2,
  });
  const json = plotlyJson(combined);
  assertEquals(json.data.length, 13);
  const axes = new Set(json.data.map((t: Json) => `${t.xaxis}${t.yaxis}`));
  assertEquals(axes.size, 7);
  for (const [key, axis] of Object.entries(json.layout) as [string, Json][]) {
    if (!/^[xy]axis\d*$/.test(key)) continue;
    assert(axis.domain[0] >= 0 && axis.domain[1] <= 1 && axis.domain[0] < axis.domain[1], key);
    assert(axis.anchor, `${key} has an anchor`);
  }
  const heatmap = json.data.at(-1);
  const y = json.layout[`yaxis${heatmap.yaxis.slice(1)}`];
  assertEquals(y.scaleanchor, heatmap.xaxis);
  const shown = json.data.filter((t: Json) => t.name && t.showlegend !== false).map((t: Json) =>
    t.name
  );
  assertEquals(shown, ["train", "test"]);
  assert(json.layout.annotations.some((a: Json) => a.text === "<b>digits</b>"));
});
