/**
 * Training as it goes, from the snapshots every run keeps: the inputs and their reconstructions,
 * and decodes of fixed prior draws, after each epoch, on one slider (notebooks 03 and 04).
 * @module
 */
import { concatArrays } from "../base/mod.ts";
import { type Dataset, IMAGE_SIZE } from "../data/mod.ts";
import { type Run, SNAPSHOT } from "../train/mod.ts";
import { digitGridFigure, type Figure, sliderFigure } from "../viz/mod.ts";

/**
 * A slider over a run's epochs: the first training and test images, their reconstructions, and
 * the decodes of the same prior draws, as they were after each epoch (a GAN's: 32 fixed draws).
 * @param run a run with snapshots (every run trained since they were added keeps them)
 * @param data the splits the run trained on (for the input rows)
 * @param title above the grid
 * @example
 * ```ts
 * trainingSlider(runs["VAE, d = 20"], data, "VAE, d = 20");
 * ```
 */
export function trainingSlider(
  run: Run,
  data: { train: Dataset; test: Dataset },
  title: string,
): Figure {
  if (run.snapshots.length === 0) {
    throw new RangeError(`run ${run.hash} keeps no snapshots: train it again (retrain: true)`);
  }
  const n = SNAPSHOT.train;
  if (run.config.kind === "gan") {
    // A GAN's snapshots are decodes of fixed prior draws only: the first 32 are shown.
    const shown = (SNAPSHOT.train + SNAPSHOT.test + SNAPSHOT.prior) * IMAGE_SIZE;
    return sliderFigure(
      run.snapshots.map((pixels) =>
        digitGridFigure(pixels.subarray(0, shown), {
          title,
          cols: n,
          rowLabels: ["G(z), fixed z", "", "", ""],
        })
      ),
      { prefix: "epoch " },
    );
  }
  const inputs = (split: Dataset) => split.images.subarray(0, n * IMAGE_SIZE);
  const part = (pixels: Float32Array, from: number, count: number) =>
    pixels.subarray(from * IMAGE_SIZE, (from + count) * IMAGE_SIZE);
  const rowLabels = ["train", "reconstructed", "test", "reconstructed", "prior draws", ""];
  const figures = run.snapshots.map((pixels) =>
    digitGridFigure(
      concatArrays([
        inputs(data.train),
        part(pixels, 0, n),
        inputs(data.test),
        part(pixels, n, SNAPSHOT.test),
        part(pixels, n + SNAPSHOT.test, SNAPSHOT.prior),
      ]),
      { title, cols: n, rowLabels },
    )
  );
  return sliderFigure(figures, { prefix: "epoch " });
}
