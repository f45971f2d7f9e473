/**
 * Small synthetic data for tests: blurred random strokes, so models have something to learn
 * without loading MNIST.
 * @module
 */
import {
  type Dataset,
  IMAGE_SIDE,
  IMAGE_SIZE,
  type MnistData,
  rng,
  TRAIN_DEFAULTS,
  type TrainConfig,
} from "../lib/mod.ts";

/** `size` 28x28 images in [0, 1]: each a bright box whose position depends on its label. */
export function syntheticDigits(size: number, seed = 0): Dataset {
  const random = rng(seed);
  const images = new Float32Array(size * IMAGE_SIZE);
  const labels = new Uint8Array(size);
  for (let n = 0; n < size; n++) {
    const label = Math.floor(random() * 10);
    labels[n] = label;
    const top = 2 + 2 * (label % 5) + Math.floor(random() * 3);
    const left = 4 + 8 * Math.floor(label / 5) + Math.floor(random() * 3);
    for (let r = top; r < top + 10; r++) {
      for (let c = left; c < left + 8; c++) {
        images[n * IMAGE_SIZE + r * IMAGE_SIDE + c] = 0.6 + 0.4 * random();
      }
    }
  }
  return { images, labels, size };
}

/** A small train/test pair of synthetic digits, labelled as the embedded source. */
export function syntheticMnist(trainSize = 64, testSize = 32): MnistData {
  return {
    train: syntheticDigits(trainSize, 1),
    test: syntheticDigits(testSize, 2),
    source: "embedded",
  };
}

/** The small VAE the run-cache tests train (in this process and in `cache_child.ts`). */
export const CACHE_TEST_CONFIG: TrainConfig = {
  ...TRAIN_DEFAULTS,
  hiddenSize: 16,
  latentSize: 2,
  epochs: 1,
  batchSize: 32,
};
