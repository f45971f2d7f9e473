/**
 * What notebook 07 asks of codes besides generating: a softmax regression on frozen codes with
 * few labels, and k-means clusters against the digits, each computed once and kept beside the run
 * whose codes they use (or, for raw pixels, in a folder named by the data).
 * @module
 */
import { runsDir } from "../base/mod.ts";
import { type MnistData, NUM_CLASSES } from "../data/mod.ts";
import {
  balancedDraw,
  clusterAccuracy,
  encodeAll,
  type Features,
  kmeansClusters,
  normalizedMutualInformation,
  pickRows,
  softmaxAccuracy,
} from "../measure/mod.ts";
import { describeData, measureOnce, type Run, runHash, TRAIN_DEFAULTS } from "../train/mod.ts";

/** Features of both splits: a model's mean codes, or the pixels themselves. */
export interface CodeSet {
  train: Features;
  test: Features;
  /** Where measures of these features are kept. */
  cache: Pick<Run, "folder">;
}

/**
 * The mean codes of a run's encoder on both splits, encoded when first read: a notebook whose
 * measures are all kept in the run's folder never encodes.
 */
export function runCodes(run: Run, data: MnistData): CodeSet {
  const encoded: Partial<Record<"train" | "test", Features>> = {};
  const of = (split: "train" | "test"): Features => {
    if (!encoded[split]) {
      const { mean, latentSize } = encodeAll(run.model, data[split]);
      encoded[split] = { features: mean, labels: data[split].labels, dim: latentSize };
    }
    return encoded[split];
  };
  return {
    get train() {
      return of("train");
    },
    get test() {
      return of("test");
    },
    cache: run,
  };
}

/**
 * The pixels of both splits as features, their measures kept in a folder of the run cache (`dir`,
 * default `data/runs/`) named by the data.
 */
export async function pixelCodes(
  data: MnistData,
  { dir = runsDir() }: { dir?: string } = {},
): Promise<CodeSet> {
  // The data's own hash: the run hash of a fixed config, so that each split has one folder.
  const folder = `${dir}/pixels-${await runHash(TRAIN_DEFAULTS, describeData(data))}`;
  await Deno.mkdir(folder, { recursive: true });
  const of = (split: "train" | "test") => ({
    features: data[split].images,
    labels: data[split].labels,
    dim: data[split].images.length / data[split].size,
  });
  return { train: of("train"), test: of("test"), cache: { folder } };
}

/**
 * Test accuracies of a softmax regression trained on `perClass` labelled examples of each digit
 * (one accuracy per seeded balanced draw, seeds 1 to `draws`), or on every training example when
 * `perClass` is `"all"` (one accuracy: no draw).
 */
export function fewLabelAccuracy(
  codes: CodeSet,
  { perClass, draws }: { perClass: number | "all"; draws: number },
): Promise<number[]> {
  const key = perClass === "all"
    ? "softmax regression: all training labels"
    : `softmax regression: ${perClass} labels per digit, ${draws} draws`;
  return measureOnce(codes.cache, key, () => {
    if (perClass === "all") return [softmaxAccuracy(codes.train, codes.test)];
    return Array.from({ length: draws }, (_, i) => {
      const rows = balancedDraw(codes.train.labels, perClass, i + 1);
      return softmaxAccuracy(pickRows(codes.train, rows), codes.test);
    });
  });
}

/**
 * Clustering accuracy and NMI of k-means (k = 10, the best of 5 runs from seed `seed`, by their
 * within-cluster sum of squares) on the test split's codes.
 */
export function clusterScores(
  codes: CodeSet,
  { seed }: { seed: number },
): Promise<{ accuracy: number; nmi: number }> {
  const key = `k-means, k = ${NUM_CLASSES}, best of 5 from seed ${seed}, test split`;
  return measureOnce(codes.cache, key, () => {
    const { features, dim, labels } = codes.test;
    const clusters = kmeansClusters(features, dim, { k: NUM_CLASSES, seed, restarts: 5 });
    return {
      accuracy: clusterAccuracy(clusters, labels),
      nmi: normalizedMutualInformation(clusters, labels),
    };
  });
}
