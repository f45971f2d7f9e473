/**
 * What notebook 07 needs of conditional models: samples of each digit on demand, how often the
 * digit classifier reads the digit that was asked for, a sample-quality score per digit, and one
 * image's style decoded with every label (Kingma et al., 2014's analogies).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type Dataset, NUM_CLASSES, subset } from "../data/mod.ts";
import {
  type ClassifierView,
  classifierView,
  decodeCodes,
  digitShares,
  encodeAll,
  featureStats,
  frechetDistance,
  priorCodes,
  readDigits,
} from "../measure/mod.ts";
import { type Model, withLabels } from "../model/mod.ts";
import { imagesOf, measureOnce, type Run } from "../train/mod.ts";
import { generatorImages } from "./generators.ts";

/** The labels of `perDigit` samples of each digit, digit by digit: 0 0 ... 1 1 ... 9. */
export function digitRows(perDigit: number): number[] {
  return Array.from({ length: NUM_CLASSES * perDigit }, (_, i) => Math.floor(i / perDigit));
}

/**
 * `perDigit` samples of each digit from a conditional model, digit by digit (a grid of one row
 * per digit when `perDigit` is its width): decodes of prior draws z with the asked label.
 */
export function digitSamples(model: Model, perDigit: number, seed: number): Float32Array {
  if (!model.config.conditional) {
    throw new TypeError("digitSamples needs a conditional model (conditional: true)");
  }
  const n = NUM_CLASSES * perDigit;
  const z = priorCodes({ latentSize: model.config.latentSize, n, seed, prior: model.prior });
  return decodeCodes(model, z, { labels: digitRows(perDigit) });
}

/** How a conditional generator's samples read, digit by digit. */
export interface AskedDigits {
  /** For each asked digit, the share of its samples the classifier reads as that digit. */
  perDigit: number[];
  /** The same over all samples. */
  overall: number;
  /** For each digit, the Fréchet distance of its samples to the real test digits of its class. */
  frechetPerDigit: number[];
}

/**
 * {@linkcode AskedDigits} of `perDigit` samples of each digit (seed `seed`), against the test
 * images of `test` of each class, computed once and kept in the run's folder under a key naming
 * the classifier run, the count, the seed and `reference` (a description of `test`).
 */
export function askedDigits(
  run: Run,
  classifier: Run,
  test: Dataset,
  { perDigit, seed, reference }: { perDigit: number; seed: number; reference: string },
): Promise<AskedDigits> {
  const key = `asked digits: classifier ${classifier.hash}, ${perDigit} per digit, seed ${seed}, ` +
    `reference ${reference}`;
  return measureOnce(run, key, () => {
    const samples = classifierView(classifier.model, digitSamples(run.model, perDigit, seed));
    const real = classifierView(classifier.model, test.images);
    const asked = digitRows(perDigit);
    const read = readDigits(samples.probabilities);
    const perDigitRight = new Array<number>(NUM_CLASSES).fill(0);
    for (let i = 0; i < asked.length; i++) {
      if (read[i] === asked[i]) perDigitRight[asked[i]] += 1 / perDigit;
    }
    return {
      perDigit: perDigitRight,
      overall: perDigitRight.reduce((a, b) => a + b, 0) / NUM_CLASSES,
      frechetPerDigit: frechetByClass(samples, asked, real, test.labels),
    };
  });
}

/**
 * For each digit, the Fréchet distance between the samples whose class `groups` gives as that
 * digit and the real images of that class, in the classifier's features; NaN for a digit with
 * fewer than 2 samples (no covariance to compare).
 */
function frechetByClass(
  samples: ClassifierView,
  groups: ArrayLike<number>,
  real: ClassifierView,
  realLabels: ArrayLike<number>,
): number[] {
  const statsOf = (view: ClassifierView, rows: number[]) => {
    const out = new Float32Array(rows.length * view.dim);
    rows.forEach((r, i) =>
      out.set(view.features.subarray(r * view.dim, (r + 1) * view.dim), i * view.dim)
    );
    return featureStats(out, view.dim);
  };
  const rowsOf = (labels: ArrayLike<number>, digit: number) =>
    Array.from(labels).flatMap((d, i) => (d === digit ? [i] : []));
  return Array.from({ length: NUM_CLASSES }, (_, digit) => {
    const mine = rowsOf(groups, digit);
    if (mine.length < 2) return NaN;
    return frechetDistance(statsOf(samples, mine), statsOf(real, rowsOf(realLabels, digit)));
  });
}

/** How a generator's samples read: the digits it draws, and how well. */
export interface DigitsAsRead {
  /** For each digit, the share of the samples the classifier reads as that digit. */
  share: number[];
  /**
   * For each digit, the Fréchet distance of the samples read as that digit to the real test
   * digits of that class (NaN when fewer than 2 samples are read as it).
   */
  frechetPerDigit: number[];
}

/**
 * {@linkcode DigitsAsRead} of `n` samples of a run's generator (seed `seed`; a conditional one is
 * asked for the digits 0, 1, ..., 9 in turn), read by `classifier` and compared to the test images
 * of `test` of each class: the per-class counterpart of {@linkcode askedDigits} for a model that
 * cannot be asked, and for a conditional one, which digits it draws whatever it is asked. Computed
 * once and kept in the run's folder.
 */
export function digitsAsRead(
  run: Run,
  classifier: Run,
  test: Dataset,
  { n, seed, reference }: { n: number; seed: number; reference: string },
): Promise<DigitsAsRead> {
  const key = `digits as read: classifier ${classifier.hash}, ${n} samples, seed ${seed}, ` +
    `reference ${reference}`;
  return measureOnce(run, key, () => {
    const samples = classifierView(classifier.model, generatorImages(run.model, n, seed));
    const real = classifierView(classifier.model, test.images);
    return {
      share: digitShares(samples.probabilities),
      frechetPerDigit: frechetByClass(
        samples,
        readDigits(samples.probabilities),
        real,
        test.labels,
      ),
    };
  }).then((kept) => ({
    ...kept,
    // JSON keeps NaN as null.
    frechetPerDigit: kept.frechetPerDigit.map((v) => v ?? NaN),
  }));
}

/** How much a conditional GAN's critic uses the label, on real images. */
export interface CriticLabelReading {
  /** The share of images whose critic logit is highest with their own label of the ten. */
  ownLabelHighest: number;
  /** The mean of (logit with the own label) - (mean logit with the nine others). */
  logitGap: number;
}

/**
 * {@linkcode CriticLabelReading} of a conditional GAN's critic on `images` (real digits in [0, 1]
 * with their labels): each image is shown to the critic with each of the ten labels. A critic
 * that ignores the label gives every label the same logit: gap 0, and its own label is never
 * strictly highest (about one time in ten if rounding breaks the ties); one that uses it scores
 * the true label highest.
 */
export function criticLabelReading(model: Model, images: Dataset): CriticLabelReading {
  if (model.config.kind !== "gan" || !model.config.conditional || !model.critic) {
    throw new TypeError("criticLabelReading needs a conditional GAN (kind gan, conditional: true)");
  }
  const n = images.size;
  const logits = tf.tidy(() => {
    const x = tf.sub(tf.mul(imagesOf(images), 2), 1) as tf.Tensor2D; // what a critic sees
    return tf.stack(
      Array.from(
        { length: NUM_CLASSES },
        (_, label) => withLabels(model, new Array<number>(n).fill(label)).critic!(x),
      ),
      1,
    ).dataSync() as Float32Array;
  });
  let highest = 0;
  let gap = 0;
  for (let i = 0; i < n; i++) {
    const row = Array.from(logits.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES));
    const own = row[images.labels[i]];
    if (own === Math.max(...row) && row.filter((v) => v === own).length === 1) highest++;
    gap += own - (row.reduce((a, b) => a + b, 0) - own) / (NUM_CLASSES - 1);
  }
  return { ownLabelHighest: highest / n, logitGap: gap / n };
}

/**
 * Analogies: each image of `images` encoded with its own label, then decoded with every label
 * 0-9: [n * 10 * 784], image by image (a grid of one row per image, one column per label).
 */
export function styleAcrossLabels(model: Model, images: Dataset): Float32Array {
  if (!model.config.conditional || model.config.kind === "gan") {
    throw new TypeError("styleAcrossLabels needs a conditional AE or VAE");
  }
  const { mean, latentSize } = encodeAll(model, images);
  const n = images.size;
  const codes = new Float32Array(n * NUM_CLASSES * latentSize);
  for (let i = 0; i < n; i++) {
    for (let label = 0; label < NUM_CLASSES; label++) {
      codes.set(
        mean.subarray(i * latentSize, (i + 1) * latentSize),
        (i * NUM_CLASSES + label) * latentSize,
      );
    }
  }
  const labels = Array.from({ length: n * NUM_CLASSES }, (_, i) => i % NUM_CLASSES);
  return decodeCodes(model, codes, { labels });
}

/** The first `perDigit` images of each digit of `data`, digit by digit. */
export function firstOfEachDigit(data: Dataset, perDigit: number): Dataset {
  const chosen: number[] = [];
  for (let digit = 0; digit < NUM_CLASSES; digit++) {
    let found = 0;
    for (let i = 0; i < data.size && found < perDigit; i++) {
      if (data.labels[i] === digit) {
        chosen.push(i);
        found++;
      }
    }
  }
  return subset(data, chosen);
}
