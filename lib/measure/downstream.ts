/**
 * What codes are good for besides generating: classification with few labels (a softmax
 * regression on frozen features) and clustering (k-means from npm `ml-kmeans`, scored after the
 * best matching of clusters to labels, found by npm `munkres`, and by normalised mutual
 * information).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { kmeans } from "ml-kmeans";
import munkres from "munkres";
import { positiveInteger, positiveNumber, rng } from "../base/mod.ts";

/** Features of n examples, [n * dim], with their n labels (0 to classes - 1). */
export interface Features {
  features: Float32Array;
  labels: ArrayLike<number>;
  dim: number;
}

function checkFeatures(name: string, { features, labels, dim }: Features): number {
  positiveInteger(`${name}.dim`, dim);
  const n = features.length / dim;
  if (!Number.isInteger(n) || n !== labels.length || n === 0) {
    throw new RangeError(
      `${name} must hold one row of ${dim} features per label; got ${features.length} values ` +
        `for ${labels.length} labels`,
    );
  }
  return n;
}

/**
 * Indices of a seeded draw of `perClass` examples of each label in `labels` (a balanced draw, as
 * a few-label study takes), sorted. Throws when a label has fewer examples than asked.
 *
 * @example balancedDraw([0, 1, 0, 1, 0, 1], 2, 7) // two 0s and two 1s, e.g. [0, 1, 2, 5]
 */
export function balancedDraw(
  labels: ArrayLike<number>,
  perClass: number,
  seed: number,
): number[] {
  positiveInteger("perClass", perClass);
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    byLabel.set(labels[i], [...(byLabel.get(labels[i]) ?? []), i]);
  }
  const random = rng(seed);
  const chosen: number[] = [];
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    const pool = byLabel.get(label)!;
    if (pool.length < perClass) {
      throw new RangeError(`label ${label} has ${pool.length} examples; ${perClass} asked`);
    }
    // A partial Fisher-Yates shuffle: the first perClass of the pool, drawn without replacement.
    for (let i = 0; i < perClass; i++) {
      const j = i + Math.floor(random() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j], pool[i]];
      chosen.push(pool[i]);
    }
  }
  return chosen.sort((a, b) => a - b);
}

/** The rows `indices` of `data`. */
export function pickRows(data: Features, indices: readonly number[]): Features {
  const { dim } = data;
  const features = new Float32Array(indices.length * dim);
  indices.forEach((row, i) =>
    features.set(data.features.subarray(row * dim, (row + 1) * dim), i * dim)
  );
  return { features, labels: indices.map((row) => data.labels[row]), dim };
}

/** How a softmax regression is fitted. */
export interface SoftmaxOptions {
  /** Classes. @default 10 */
  classes?: number;
  /** Full-batch Adam steps. @default 300 */
  steps?: number;
  /** Adam's learning rate. @default 0.01 */
  learningRate?: number;
  /** The weight of 1/2 |W|^2 against the mean cross-entropy. @default 1e-3 */
  l2?: number;
}

/** A fitted softmax regression: the standardisation and the weights, bias last. */
export interface SoftmaxFit {
  /** The training rows' mean and standard deviation (+ 1e-6) per feature, [dim] each. */
  center: Float32Array;
  scale: Float32Array;
  /** [dim + 1, classes], row by row: a weight row per standardised feature, the bias row last. */
  weights: Float32Array;
  classes: number;
}

/**
 * A softmax (multinomial logistic) regression fitted on `train`: features standardised by the
 * training rows' mean and standard deviation, weights and biases from 0, the mean cross-entropy
 * plus `l2` / 2 |W|^2 (biases free) minimised by full-batch Adam (β = 0.9, 0.999, ε = 1e-8, bias
 * corrected) on its closed-form gradient. Deterministic: no draw.
 */
export function fitSoftmax(
  train: Features,
  { classes = 10, steps = 300, learningRate = 0.01, l2 = 1e-3 }: SoftmaxOptions = {},
): SoftmaxFit {
  const n = checkFeatures("train", train);
  positiveInteger("classes", classes);
  positiveInteger("steps", steps);
  positiveNumber("learningRate", learningRate);
  checkLabels(train.labels, classes);
  const { dim } = train;
  return tf.tidy(() => {
    const x = tf.tensor2d(train.features, [n, dim]);
    const center = x.mean(0);
    const scale = x.sub(center).square().mean(0).sqrt().add(1e-6);
    // The bias as a last weight row on a column of ones: [n, dim + 1] against [dim + 1, classes].
    const xs = tf.concat([x.sub(center).div(scale), tf.ones([n, 1])], 1);
    const ys = tf.oneHot(tf.tensor1d(Array.from(train.labels), "int32"), classes);
    // The bias row is not penalised.
    const decay = tf.concat([tf.fill([dim, 1], l2), tf.zeros([1, 1])]);
    let weights: tf.Tensor2D = tf.zeros([dim + 1, classes]);
    let m: tf.Tensor2D = tf.zerosLike(weights);
    let v: tf.Tensor2D = tf.zerosLike(weights);
    for (let step = 1; step <= steps; step++) {
      const next = tf.tidy(() => {
        // The mean cross-entropy's gradient is X^T (softmax(X W) - Y) / n; the penalty's is l2 W.
        const residual = tf.softmax(xs.matMul(weights)).sub(ys);
        const grad = xs.matMul(residual, true, false).div(n).add(weights.mul(decay));
        const m1 = m.mul(0.9).add(grad.mul(0.1));
        const v1 = v.mul(0.999).add(grad.square().mul(0.001));
        const rate = learningRate * Math.sqrt(1 - 0.999 ** step) / (1 - 0.9 ** step);
        const w1 = weights.sub(m1.mul(rate).div(v1.sqrt().add(1e-8)));
        return [w1, m1, v1] as tf.Tensor2D[];
      });
      tf.dispose([weights, m, v]);
      [weights, m, v] = next;
    }
    const read = (t: tf.Tensor) => t.dataSync() as Float32Array;
    return { center: read(center), scale: read(scale), weights: read(weights), classes };
  });
}

/** Each row's most probable class under `fit` (float32, as the fit computed its scores). */
export function softmaxPredict(fit: SoftmaxFit, data: Features): Int32Array {
  const rows = checkFeatures("data", data);
  const dim = fit.center.length;
  if (data.dim !== dim) throw new RangeError(`the fit has ${dim} features, the data ${data.dim}`);
  return tf.tidy(() => {
    const x = tf.tensor2d(data.features, [rows, dim]);
    const standard = x.sub(tf.tensor1d(fit.center)).div(tf.tensor1d(fit.scale));
    const withOne = tf.concat([standard, tf.ones([rows, 1])], 1);
    const weights = tf.tensor2d(fit.weights, [dim + 1, fit.classes]);
    return withOne.matMul(weights).argMax(1).dataSync() as Int32Array;
  });
}

/** The test accuracy of {@linkcode fitSoftmax} fitted on `train`. */
export function softmaxAccuracy(
  train: Features,
  test: Features,
  options: SoftmaxOptions = {},
): number {
  checkFeatures("test", test);
  if (test.dim !== train.dim) {
    throw new RangeError(`train has ${train.dim} features, test ${test.dim}`);
  }
  checkLabels(test.labels, options.classes ?? 10);
  const predicted = softmaxPredict(fitSoftmax(train, options), test);
  let right = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === test.labels[i]) right++;
  return right / predicted.length;
}

function checkLabels(labels: ArrayLike<number>, classes: number): void {
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isInteger(labels[i]) || labels[i] < 0 || labels[i] >= classes) {
      throw new RangeError(`labels must be integers in [0, ${classes}); got ${labels[i]}`);
    }
  }
}

/**
 * k-means (npm `ml-kmeans`, k-means++) of the [n * dim] `features`, run from `restarts` seeds
 * (`seed`, `seed` + 1, ...) and the run of the smallest within-cluster sum of squares kept (a
 * single k-means run ends in one local optimum of many, as scikit-learn's `n_init` says): each
 * row's cluster, 0 to k - 1.
 */
export function kmeansClusters(
  features: Float32Array,
  dim: number,
  { k = 10, seed, restarts = 5 }: { k?: number; seed: number; restarts?: number },
): number[] {
  positiveInteger("k", k);
  positiveInteger("restarts", restarts);
  const n = checkFeatures("features", { features, dim, labels: { length: features.length / dim } });
  if (n < k) throw new RangeError(`k-means needs at least k = ${k} rows; got ${n}`);
  const rows = Array.from(
    { length: n },
    (_, i) => Array.from(features.subarray(i * dim, (i + 1) * dim)),
  );
  let best: { clusters: number[]; sse: number } | undefined;
  for (let r = 0; r < restarts; r++) {
    const { clusters, centroids } = kmeans(rows, k, {
      seed: seed + r,
      initialization: "kmeans++",
      maxIterations: 300,
    });
    let sse = 0;
    rows.forEach((row, i) => {
      const centre = centroids[clusters[i]];
      for (let j = 0; j < dim; j++) sse += (row[j] - centre[j]) ** 2;
    });
    if (!best || sse < best.sse) best = { clusters, sse };
  }
  return best!.clusters;
}

/** counts[c][l]: how many rows of cluster c carry label l. */
function contingency(clusters: ArrayLike<number>, labels: ArrayLike<number>): number[][] {
  if (clusters.length !== labels.length || clusters.length === 0) {
    throw new RangeError(`${clusters.length} clusters for ${labels.length} labels`);
  }
  const size = Math.max(...Array.from(clusters), ...Array.from(labels)) + 1;
  const counts = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (let i = 0; i < clusters.length; i++) counts[clusters[i]][labels[i]]++;
  return counts;
}

/**
 * Clustering accuracy: the share of rows whose cluster, matched one to one with a label so that
 * the most rows agree (the Hungarian method, npm `munkres`), is their label. 1 for any renaming
 * of the labels; about 1/k for clusters that ignore them.
 */
export function clusterAccuracy(clusters: ArrayLike<number>, labels: ArrayLike<number>): number {
  const counts = contingency(clusters, labels);
  const pairs: [number, number][] = munkres(counts.map((row) => row.map((c) => -c)));
  return pairs.reduce((sum, [c, l]) => sum + counts[c][l], 0) / clusters.length;
}

/**
 * Normalised mutual information I(C; L) / sqrt(H(C) H(L)) of clusters and labels, in [0, 1]: 1
 * when each determines the other, 0 when they are independent (and when either is constant).
 */
export function normalizedMutualInformation(
  clusters: ArrayLike<number>,
  labels: ArrayLike<number>,
): number {
  const counts = contingency(clusters, labels);
  const n = clusters.length;
  const rowSums = counts.map((row) => row.reduce((a, b) => a + b, 0));
  const colSums = counts[0].map((_, l) => counts.reduce((a, row) => a + row[l], 0));
  const entropy = (sums: number[]) =>
    -sums.reduce((h, s) => (s > 0 ? h + (s / n) * Math.log(s / n) : h), 0);
  let information = 0;
  counts.forEach((row, c) =>
    row.forEach((count, l) => {
      if (count > 0) information += (count / n) * Math.log((count * n) / (rowSums[c] * colSums[l]));
    })
  );
  const denominator = Math.sqrt(entropy(rowSums) * entropy(colSums));
  return denominator > 0 ? Math.max(0, information) / denominator : 0;
}
