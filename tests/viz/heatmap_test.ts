import { assertEquals, assertThrows } from "@std/assert";
import { heatmapFigure } from "../../lib/viz/mod.ts";
import { plotlyJson } from "./_figures.ts";

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
