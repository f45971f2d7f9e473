/**
 * One sample-quality score for every generator: a digit classifier's view of a set of images.
 *
 * - the Fréchet distance between the classifier's penultimate features of the images and of the
 *   test set, each summarised by a Gaussian (mean and covariance): the MNIST analogue of FID;
 * - the classifier score exp(E_x KL(p(y|x) || p(y))), the Inception-score analogue: high when each
 *   image is clearly one digit and all digits appear (10 at most);
 * - the share of each predicted digit (mode coverage): a generator that collapses onto a few
 *   digits leaves the others near 0.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { concatArrays, positiveInteger, readOnce } from "../base/mod.ts";
import { IMAGE_SIZE, NUM_CLASSES } from "../data/mod.ts";
import type { Model } from "../model/mod.ts";
import { EigenvalueDecomposition, Matrix } from "ml-matrix";

/** Mean and covariance of a set of feature vectors, in float64. */
export interface FeatureStats {
  dim: number;
  /** Vectors summarised. */
  count: number;
  mean: Float64Array;
  /** Row-major [dim, dim], normalised by count - 1. */
  covariance: Float64Array;
}

/** Mean and covariance of `n` vectors of `dim` values, row-major in `values`. */
export function featureStats(values: ArrayLike<number>, dim: number): FeatureStats {
  positiveInteger("dim", dim);
  const count = values.length / dim;
  if (!Number.isInteger(count) || count < 2) {
    throw new RangeError(
      `featureStats needs at least 2 vectors of ${dim} values; got ${values.length} values`,
    );
  }
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dim; j++) mean[j] += values[i * dim + j];
  }
  for (let j = 0; j < dim; j++) mean[j] /= count;
  const covariance = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dim; j++) centred[j] = values[i * dim + j] - mean[j];
    for (let a = 0; a < dim; a++) {
      const ca = centred[a];
      if (ca === 0) continue;
      for (let b = a; b < dim; b++) covariance[a * dim + b] += ca * centred[b];
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = covariance[a * dim + b] / (count - 1);
      covariance[a * dim + b] = v;
      covariance[b * dim + a] = v;
    }
  }
  return { dim, count, mean, covariance };
}

/**
 * Eigenvalues and eigenvectors of a symmetric matrix (row-major [n, n]), by npm `ml-matrix`
 * (Householder tridiagonalisation and QL: at n = 128, the classifier's features, 17 times faster
 * than the cyclic Jacobi rotations it replaced and as accurate, max |A - V diag(lambda) V^T| 1e-15).
 * Returns the eigenvalues and the eigenvectors as the columns of a row-major matrix.
 */
export function symmetricEigen(
  matrix: ArrayLike<number>,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  const rows = Array.from(
    { length: n },
    (_, i) => Array.from({ length: n }, (_, j) => matrix[i * n + j]),
  );
  const evd = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const v = evd.eigenvectorMatrix;
  const vectors = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) vectors[i * n + k] = v.get(i, k);
  return { values: Float64Array.from(evd.realEigenvalues), vectors };
}

/** tr sqrt(A^1/2 B A^1/2) for symmetric positive semi-definite A and B, [n, n]. */
function traceSqrtProduct(a: Float64Array, b: Float64Array, n: number): number {
  const { values, vectors } = symmetricEigen(a, n);
  // S = A^1/2 = V diag(sqrt(max(lambda, 0))) V^T.
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) {
        sum += vectors[i * n + k] * Math.sqrt(Math.max(values[k], 0)) * vectors[j * n + k];
      }
      s[i * n + j] = sum;
    }
  }
  const product = (x: Float64Array, y: Float64Array) => {
    const out = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        const xik = x[i * n + k];
        if (xik === 0) continue;
        for (let j = 0; j < n; j++) out[i * n + j] += xik * y[k * n + j];
      }
    }
    return out;
  };
  const m = product(product(s, b), s);
  // Symmetrise against rounding before the eigenvalues.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const mean = (m[i * n + j] + m[j * n + i]) / 2;
      m[i * n + j] = mean;
      m[j * n + i] = mean;
    }
  }
  return symmetricEigen(m, n).values.reduce(
    (sum, lambda) => sum + Math.sqrt(Math.max(lambda, 0)),
    0,
  );
}

/**
 * The Fréchet distance between the Gaussians N(mu_a, S_a) and N(mu_b, S_b):
 * |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2). 0 for a set against itself.
 * @example
 * ```ts
 * const d = frechetDistance(featureStats(generated, 128), featureStats(real, 128));
 * ```
 */
export function frechetDistance(a: FeatureStats, b: FeatureStats): number {
  if (a.dim !== b.dim) throw new RangeError(`feature sizes differ: ${a.dim} and ${b.dim}`);
  const n = a.dim;
  let distance = 0;
  for (let j = 0; j < n; j++) {
    distance += (a.mean[j] - b.mean[j]) ** 2 + a.covariance[j * n + j] + b.covariance[j * n + j];
  }
  return Math.max(0, distance - 2 * traceSqrtProduct(a.covariance, b.covariance, n));
}

/** What the classifier makes of a set of images. */
export interface ClassifierView {
  /** Penultimate features, [n, dim] row-major. */
  features: Float32Array;
  dim: number;
  /** Class probabilities p(y | x), [n, 10]. */
  probabilities: Float32Array;
  count: number;
}

/**
 * The classifier's features and class probabilities for `images` (pixels in [0, 1], [n * 784]).
 * @param classifier a trained model of kind `classifier`
 * @param images the images
 * @param options `batchSize` images per call (default 500)
 */
export function classifierView(
  classifier: Model,
  images: Float32Array,
  { batchSize = 500 }: { batchSize?: number } = {},
): ClassifierView {
  if (classifier.config.kind !== "classifier") {
    throw new TypeError(
      `classifierView needs a classifier; got a model of kind "${classifier.config.kind}"`,
    );
  }
  positiveInteger("batchSize", batchSize);
  const count = images.length / IMAGE_SIZE;
  if (!Number.isInteger(count) || count === 0) {
    throw new RangeError(
      `images must hold a positive multiple of ${IMAGE_SIZE} pixels; got ${images.length}`,
    );
  }
  const features: Float32Array[] = [];
  const probabilities: Float32Array[] = [];
  for (let from = 0; from < count; from += batchSize) {
    const rows = Math.min(batchSize, count - from);
    const [f, p] = tf.tidy(() => {
      const x = tf.tensor2d(images.subarray(from * IMAGE_SIZE, (from + rows) * IMAGE_SIZE), [
        rows,
        IMAGE_SIZE,
      ]);
      const { mean } = classifier.encode(x);
      return [tf.keep(mean), tf.keep(tf.softmax(classifier.decode(mean)))];
    });
    features.push(readOnce(f));
    probabilities.push(readOnce(p));
  }
  return {
    features: concatArrays(features),
    dim: classifier.config.latentSize,
    probabilities: concatArrays(probabilities),
    count,
  };
}

/**
 * exp(mean_x KL(p(y|x) || p(y))), p(y) the mean of p(y|x) over the set: between 1 (every image
 * the same vague guess) and 10 (every image one sure digit, all digits equally often).
 */
export function classifierScore(probabilities: Float32Array): number {
  const n = probabilities.length / NUM_CLASSES;
  const marginal = new Float64Array(NUM_CLASSES);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < NUM_CLASSES; c++) marginal[c] += probabilities[i * NUM_CLASSES + c] / n;
  }
  let kl = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < NUM_CLASSES; c++) {
      const p = probabilities[i * NUM_CLASSES + c];
      if (p > 0) kl += p * (Math.log(p) - Math.log(marginal[c]));
    }
  }
  return Math.exp(kl / n);
}

/** Each image's most probable digit (the first of equals), from probabilities [n * 10]. */
export function readDigits(probabilities: Float32Array): number[] {
  const n = probabilities.length / NUM_CLASSES;
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let c = 1; c < NUM_CLASSES; c++) {
      if (probabilities[i * NUM_CLASSES + c] > probabilities[i * NUM_CLASSES + best]) best = c;
    }
    return best;
  });
}

/** The share of the images whose most probable digit is each of 0-9 (sums to 1). */
export function digitShares(probabilities: Float32Array): number[] {
  const read = readDigits(probabilities);
  const shares = new Array<number>(NUM_CLASSES).fill(0);
  for (const digit of read) shares[digit] += 1 / read.length;
  return shares;
}

/** A set of images scored against the reference set. */
export interface SampleQuality {
  /** Fréchet distance of the classifier's features to the reference's (lower is better). */
  frechet: number;
  /** {@linkcode classifierScore} (higher is better, at most 10). */
  classifierScore: number;
  /** The smallest of the ten {@linkcode digitShares} (0.1 when all digits are equally frequent). */
  smallestShare: number;
  shares: number[];
  count: number;
}

/**
 * Score `images` with the classifier against `reference` (the features' statistics of real test
 * digits, {@linkcode featureStats} of {@linkcode classifierView}).
 * @example
 * ```ts
 * const reference = referenceStats(classifier, data.test.images);
 * const { frechet } = sampleQuality(classifier, decodeCodes(vae, priorCodes({ ... })), reference);
 * ```
 */
export function sampleQuality(
  classifier: Model,
  images: Float32Array,
  reference: FeatureStats,
): SampleQuality {
  const view = classifierView(classifier, images);
  const shares = digitShares(view.probabilities);
  return {
    frechet: frechetDistance(featureStats(view.features, view.dim), reference),
    classifierScore: classifierScore(view.probabilities),
    smallestShare: Math.min(...shares),
    shares,
    count: view.count,
  };
}

/** The statistics of the classifier's features of `images`: the reference of the score. */
export function referenceStats(classifier: Model, images: Float32Array): FeatureStats {
  const view = classifierView(classifier, images);
  return featureStats(view.features, view.dim);
}
