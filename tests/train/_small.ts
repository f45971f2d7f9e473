/** What the loop's tests share: 256 / 64 synthetic digits and a small VAE's config. */
import { TRAIN_DEFAULTS, type TrainConfig } from "../../lib/mod.ts";
import { syntheticDigits } from "../synthetic.ts";

export const data = { train: syntheticDigits(256, 1), test: syntheticDigits(64, 2) };

/** A 784-32-4 VAE, batches of 32, two epochs. */
export const SMALL: TrainConfig = {
  ...TRAIN_DEFAULTS,
  hiddenSize: 32,
  latentSize: 4,
  batchSize: 32,
  epochs: 2,
};
