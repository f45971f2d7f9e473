import { assertEquals, assertMatch, assertStringIncludes, assertThrows } from "@std/assert";
import { inNotebook, progressDisplay } from "../../lib/viz/mod.ts";
import type { TrainProgress } from "../../lib/train/mod.ts";

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
