import { assert, assertEquals, assertThrows } from "@std/assert";
import { digitGridFigure, historyFigure, latentFigure, seriesFigure } from "../../lib/viz/mod.ts";
import { history, type Json, plotlyJson } from "./_figures.ts";

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
