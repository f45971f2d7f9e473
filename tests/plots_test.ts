import { assert, assertEquals, assertMatch, assertStringIncludes, assertThrows } from "@std/assert";
import {
  digitGridFigure,
  Figure,
  figureBundle,
  heatmapFigure,
  historyFigure,
  inNotebook,
  latentFigure,
  PLOTLY_MIME,
  progressDisplay,
  resetPlotlyInlining,
  seriesFigure,
  sliderFigure,
  subplots,
  toHtml,
  writeHtml,
} from "../lib/viz/mod.ts";
import type { EpochRecord, TrainProgress } from "../lib/train/mod.ts";

const PLOTLY_HEADER = "plotly.js (cartesian - minified)";

// deno-lint-ignore no-explicit-any
type Json = any;

function history(epochs: number): EpochRecord[] {
  return Array.from({ length: epochs }, (_, i) =>
    (["train", "test"] as const).map((split) => ({
      epoch: i + 1,
      step: 10 * (i + 1),
      split,
      loss: 200 / (i + 1) + (split === "test" ? 5 : 0),
      reconstruction: 150 / (i + 1),
      kl: 20 + i,
    }))).flat();
}

/** The Plotly JSON of a figure's bundle, as the kernel would send it. */
function plotlyJson(figure: Figure): Json {
  return JSON.parse(JSON.stringify(figureBundle(figure)[PLOTLY_MIME]));
}

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

Deno.test("historyFigure() draws train and test per metric, one panel each", () => {
  const json = plotlyJson(historyFigure(history(4)));
  assertEquals(json.data.length, 6);
  assertEquals(json.data.map((t: Json) => t.xaxis), ["x", "x", "x2", "x2", "x3", "x3"]);
  assertEquals(json.data[1].line.dash, "dash");
  assertEquals(json.data[0].x, [1, 2, 3, 4]);
  assertEquals(json.data[0].y[0], 200);
  assertEquals(json.layout.yaxis3.title.text, "KL (nats)");
  const runs = plotlyJson(
    historyFigure({ AE: history(2), VAE: history(2) }, { metrics: ["loss"] }),
  );
  assertEquals(runs.data.map((t: Json) => t.name), [
    "AE train",
    "AE test",
    "VAE train",
    "VAE test",
  ]);
  assert(runs.data[0].line.color !== runs.data[2].line.color);
  assertThrows(() => historyFigure([]), RangeError, "no records");
});

/** The numbers of a Plotly typed-array spec, as rows when it has a shape. */
function unpack(spec: Json): number[] | number[][] {
  const bytes = Uint8Array.from(atob(spec.bdata), (c) => c.charCodeAt(0));
  const values = spec.dtype === "u1" ? [...bytes] : [...new Float32Array(bytes.buffer)];
  if (!spec.shape) return values;
  const [rows, cols] = spec.shape.split(",").map(Number);
  assertEquals(values.length, rows * cols);
  return Array.from({ length: rows }, (_, r) => values.slice(r * cols, (r + 1) * cols));
}

Deno.test("latentFigure() draws one trace per digit and checks the shape of its input", () => {
  const labels = new Uint8Array([3, 1, 3, 0]);
  const points = new Float32Array([0.5, 1, 2, 3, 4, 5, 6, 7]);
  const json = plotlyJson(latentFigure(points, labels));
  assertEquals(json.data.map((t: Json) => t.name), ["0", "1", "3"]);
  assertEquals(json.data[2].x.dtype, "f4");
  assertEquals(unpack(json.data[2].x), [0.5, 4]);
  assertEquals(unpack(json.data[2].y), [1, 5]);
  assertEquals(json.layout.yaxis.scaleanchor, "x");
  assertThrows(() => latentFigure(new Float32Array(7), labels), RangeError, "2 numbers per label");
  const thinned = plotlyJson(latentFigure(points, labels, { maxPoints: 2 }));
  assertEquals(thinned.data.reduce((n: number, t: Json) => n + unpack(t.x).length, 0), 2);
});

Deno.test("digitGridFigure() is one greyscale heatmap with one-pixel gaps between digits", () => {
  const side = 28;
  const pixels = new Float32Array(5 * side * side).map((_, i) => (i % 7) / 6);
  pixels[0] = 1.7; // clipped to 1
  pixels[2] = -1; // clipped to 0
  const json = plotlyJson(digitGridFigure(pixels, { rows: 2, cols: 3 }));
  assertEquals(json.data.length, 1);
  const { type, zmin, zmax } = json.data[0];
  assertEquals([type, zmin, zmax], ["heatmap", 0, 255]);
  const z = unpack(json.data[0].z) as number[][];
  assertEquals(json.data[0].z.shape, `${2 * 29 - 1},${3 * 29 - 1}`);
  assertEquals(z.length, 2 * 29 - 1);
  assert(z.every((row) => row.length === 3 * 29 - 1));
  assertEquals(z[0].slice(0, 4), [255, 43, 0, 128]);
  assertEquals(z[0][28], 255); // the white gap between the first two digits
  assertEquals(z[28][0], 255); // the gap between the rows
  assertEquals(z[29 + 5][2 * 29 + 5], 255); // the sixth cell is empty
  assertEquals(json.layout.yaxis.autorange, "reversed");
  assertEquals(json.layout.yaxis.scaleanchor, "x");
  assertEquals(json.layout.xaxis.visible, false);
  const twelve = plotlyJson(digitGridFigure(new Float32Array(12 * 784))).data[0].z;
  assertEquals(twelve.shape, "57,289");
  assertThrows(() => digitGridFigure(new Float32Array(783)), RangeError, "n * 784");
  assertThrows(() => digitGridFigure(pixels, { rows: 2, cols: 2 }), RangeError, "rows * cols");
});

Deno.test("seriesFigure() draws curves or grouped bars and checks lengths", () => {
  const series = [{ name: "AE", x: [2, 5], y: [100.123456, 90] }, {
    name: "VAE",
    x: [2, 5],
    y: [1, 2],
  }];
  const lines = plotlyJson(seriesFigure(series));
  assertEquals(lines.data.map((t: Json) => [t.type, t.mode]), [
    ["scatter", "lines+markers"],
    ["scatter", "lines+markers"],
  ]);
  assertEquals(lines.data[0].y, [100.12, 90]);
  const bars = plotlyJson(seriesFigure(series, { kind: "bar", yType: "log" }));
  assertEquals(bars.data[0].type, "bar");
  assertEquals(bars.layout.barmode, "group");
  assertThrows(() => seriesFigure([{ name: "bad", x: [1], y: [1, 2] }]), RangeError, '"bad"');
});

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

function events(epochs: number, steps: number): TrainProgress[] {
  const list: TrainProgress[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (let step = 1; step <= steps; step++) {
      list.push({
        epoch,
        epochs,
        step,
        steps,
        loss: 100 / (epoch + step),
        seconds: list.length,
        history: [],
      });
    }
  }
  return list;
}

Deno.test("progressDisplay() outside a notebook writes a line per epoch", async () => {
  assertEquals(inNotebook(), false);
  let text = "";
  const show = progressDisplay({ title: "VAE", write: (t) => text += t, isTerminal: false });
  for (const event of events(3, 3)) await show(event);
  const lines = text.split("\n");
  assertEquals(lines.length, 4);
  assertEquals(lines[3], "");
  // A third of the way in after 2 s: 4 s to go.
  assertMatch(
    lines[0],
    /^VAE {2}epoch 1\/3 {2}step 3\/3 {2}loss 25\.00 {2}0:02 elapsed {2}ETA 0:04$/,
  );
  assertMatch(lines[1], /epoch 2\/3 .* 0:05 elapsed {2}ETA 0:03$/); // 2.5 s, rounded
  assertMatch(lines[2], /epoch 3\/3 .* done in 0:08$/);
});

Deno.test("progressDisplay() on a terminal rewrites one line with \\r", async () => {
  let text = "";
  const show = progressDisplay({ write: (t) => text += t, isTerminal: true, interval: 0 });
  for (const event of events(2, 2)) await show(event);
  assertEquals(text.split("\r").length, 5);
  assertEquals(text.split("\n").length, 3);
  assertStringIncludes(text, "\x1b[K");
});

Deno.test("progressDisplay() rejects an unknown mode", () => {
  assertThrows(() => progressDisplay({ mode: "html" as never }), RangeError, '"html"');
});

Deno.test("sliderFigure() keeps one frame per figure and a slider step per frame, last shown", () => {
  const grids = [0, 0.5, 1].map((v) =>
    digitGridFigure(new Float32Array(2 * 784).fill(v), { title: "grid", cols: 2 })
  );
  const figure = sliderFigure(grids, { prefix: "epoch " });
  const json = plotlyJson(figure);
  assertEquals(json.frames.map((f: Json) => f.name), ["1", "2", "3"]);
  assertEquals(json.frames[2].data, JSON.parse(JSON.stringify(grids[2].data)));
  assertEquals(json.data, json.frames[2].data);
  const slider = json.layout.sliders[0];
  assertEquals([slider.active, slider.steps.length, slider.steps[0].args[0]], [2, 3, ["1"]]);
  assertThrows(() => sliderFigure([]), RangeError, "at least one");
  assertThrows(() => sliderFigure(grids, { labels: ["a"] }), RangeError, "name the 3 figures");
  assertEquals(plotlyJson(grids[0]).frames, undefined);
});

Deno.test("heatmapFigure() draws labelled rows and columns and checks the shape", () => {
  const json = plotlyJson(heatmapFigure({ z: [[1, 2], [3, 4.123456]], x: ["a", "b"], y: [1, 2] }));
  assertEquals(json.data[0].z, [[1, 2], [3, 4.123]]);
  assertEquals([json.data[0].x, json.data[0].y], [["a", "b"], ["1", "2"]]);
  assertThrows(
    () => heatmapFigure({ z: [[1]], x: ["a", "b"], y: [1] }),
    RangeError,
    "z must be [1][2]",
  );
});
