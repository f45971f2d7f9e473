/**
 * What notebook 05 needs to compare every generator of the project on one scale: each model's
 * samples, their scores by the digit classifier (kept in the run's folder), and the decodes of a
 * mixture prior's components.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { readOnce } from "../base/mod.ts";
import { IMAGE_SIZE } from "../data/mod.ts";
import {
  classifierView,
  decodeCodes,
  digitShares,
  type FeatureStats,
  laplacianVariance,
  nearDuplicateShare,
  priorCodes,
  type SampleQuality,
  sampleQuality,
} from "../measure/mod.ts";
import { digitCycle, type Model, partVariables } from "../model/mod.ts";
import { measureOnce, type Run } from "../train/mod.ts";
import { vqSamples } from "./vq.ts";

/**
 * `n` samples of a generator: the decoder's pixel means sigmoid(decode(z)) for z drawn from the
 * model's prior (N(0, I) for an AE, whose decoder was never trained on such codes). A conditional
 * model's samples are asked for the digits 0, 1, ..., 9, 0, ... in turn; a VQ-VAE's decode grids
 * of uniformly drawn codes. [n * 784].
 */
export function generatorImages(model: Model, n: number, seed: number): Float32Array {
  if (model.quantizer) {
    // A VQ-VAE's prior here is uniform over its codes, cell by cell.
    return vqSamples(model, n, seed);
  }
  const { latentSize, conditional } = model.config;
  return decodeCodes(model, priorCodes({ latentSize, n, seed, prior: model.prior }), {
    labels: conditional ? digitCycle(n) : undefined,
  });
}

/**
 * {@linkcode sampleQuality} of `n` samples of a run's generator (seed `seed`), computed once and
 * kept in the run's folder under a key naming the classifier run, `n`, the seed and the reference
 * images (`reference`, a description such as "test 0-4999").
 */
export function runQuality(
  run: Run,
  classifier: Run,
  stats: FeatureStats,
  { n, seed, reference }: { n: number; seed: number; reference: string },
): Promise<SampleQuality> {
  return measureOnce(
    run,
    `sample quality: classifier ${classifier.hash}, reference ${reference}, ` +
      `${n} samples, seed ${seed}`,
    () => sampleQuality(classifier.model, generatorImages(run.model, n, seed), stats),
  );
}

/** The decodes of a learnt mixture prior's component means, [K * 784]. */
export function componentMeans(model: Model): Float32Array {
  const [means] = partVariables(model, "prior");
  if (!means) throw new TypeError("this model's prior has no learnt components");
  return decodeCodes(model, readOnce(tf.clone(means)));
}

/** How alike and how sharp a generator's samples are ({@linkcode runSampleShape}). */
export interface SampleShape {
  /** {@linkcode nearDuplicateShare}: the share of sample pairs closer than the threshold. */
  nearDuplicates: number;
  /** {@linkcode laplacianVariance} of the samples (pixel means): larger is sharper. */
  sharpness: number;
}

/**
 * {@linkcode SampleShape} of `n` samples of a run's generator (seed `seed`), or of `images` when
 * given (real digits, with a description in `source`), computed once and kept in the run's folder
 * under a key naming `n`, the seed (or the source) and the threshold.
 */
export function runSampleShape(
  run: Run,
  { n, seed, threshold, images, source }: {
    n: number;
    seed: number;
    threshold: number;
    images?: Float32Array;
    source?: string;
  },
): Promise<SampleShape> {
  const of = images ? `${source ?? "given images"}` : `${n} samples, seed ${seed}`;
  return measureOnce(run, `sample shape: ${of}, near-duplicate cosine > ${threshold}`, () => {
    const pixels = images ?? generatorImages(run.model, n, seed);
    return {
      nearDuplicates: nearDuplicateShare(pixels, { threshold }),
      sharpness: laplacianVariance(pixels),
    };
  });
}

/**
 * The digit shares (`digitShares`, by the classifier) of a GAN's snapshot decodes, epoch by
 * epoch: [epochs][10]. The decodes are of the same fixed draws z at every epoch
 * (`SNAPSHOT.gan` of them), so a change of shares is the generator's, not the draws'.
 */
export function snapshotShares(run: Run, classifier: Model): number[][] {
  if (run.config.kind !== "gan") {
    throw new TypeError(`snapshotShares needs a GAN run; got a run of kind "${run.config.kind}"`);
  }
  return run.snapshots.map((pixels) =>
    digitShares(classifierView(classifier, pixels).probabilities)
  );
}

/**
 * A GAN discriminator's mean D(x) = sigmoid(critic(2x - 1)) over `images` (pixels in [0, 1],
 * [n * 784]), in batches of `batchSize` (its batch normalisation uses each batch's statistics,
 * as in training: keep the training batch size).
 */
export function criticScore(
  model: Model,
  images: Float32Array,
  { batchSize = 64 }: { batchSize?: number } = {},
): number {
  const critic = model.critic;
  if (model.config.kind !== "gan" || !critic) {
    throw new TypeError(`criticScore needs a GAN; got a model of kind "${model.config.kind}"`);
  }
  const n = images.length / IMAGE_SIZE;
  if (!(Number.isInteger(n) && n >= 1)) {
    throw new RangeError(
      `images must hold a multiple of ${IMAGE_SIZE} pixels; got ${images.length}`,
    );
  }
  let total = 0;
  for (let from = 0; from < n; from += batchSize) {
    const rows = Math.min(batchSize, n - from);
    const pixels = images.subarray(from * IMAGE_SIZE, (from + rows) * IMAGE_SIZE);
    total += readOnce(tf.tidy(() => {
      const x = tf.sub(tf.mul(tf.tensor2d(pixels, [rows, IMAGE_SIZE]), 2), 1) as tf.Tensor2D;
      return tf.sum(tf.sigmoid(critic(x)));
    }))[0];
  }
  return total / n;
}
