/** What the tests of `lib/viz/` share: a made-up training history, a figure's Plotly JSON. */
import { type Figure, figureBundle, PLOTLY_MIME } from "../../lib/viz/mod.ts";
import type { EpochRecord } from "../../lib/train/mod.ts";

// deno-lint-ignore no-explicit-any
export type Json = any;

/** `epochs` epochs of train and test records whose losses fall. */
export function history(epochs: number): EpochRecord[] {
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
export function plotlyJson(figure: Figure): Json {
  return JSON.parse(JSON.stringify(figureBundle(figure)[PLOTLY_MIME]));
}
