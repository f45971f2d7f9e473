import { assertEquals, assertThrows } from "@std/assert";
import { digitGridFigure, sliderFigure } from "../../lib/viz/mod.ts";
import { type Json, plotlyJson } from "./_figures.ts";

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
