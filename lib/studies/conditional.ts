/**
 * What notebook 07 needs of conditional models: samples of each digit on demand, how often the
 * digit classifier reads the digit that was asked for, a sample-quality score per digit, and one
 * image's style decoded with every label (Kingma et al., 2014's analogies).
 * @module
 */
import { type Dataset, NUM_CLASSES, subset } from "../data/mod.ts";
import {
  classifierView,
  decodeCodes,
  encodeAll,
  featureStats,
  frechetDistance,
  priorCodes,
} from "../measure/mod.ts";
import type { Model } from "../model/mod.ts";
import { measureOnce, type Run } from "../train/mod.ts";

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
    const perDigitRight = new Array<number>(NUM_CLASSES).fill(0);
    for (let i = 0; i < asked.length; i++) {
      const p = samples.probabilities.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES);
      const read = p.indexOf(Math.max(...p));
      if (read === asked[i]) perDigitRight[asked[i]] += 1 / perDigit;
    }
    const rowsOf = (features: Float32Array, rows: number[]) => {
      const out = new Float32Array(rows.length * samples.dim);
      rows.forEach((r, i) =>
        out.set(features.subarray(r * samples.dim, (r + 1) * samples.dim), i * samples.dim)
      );
      return featureStats(out, samples.dim);
    };
    const frechetPerDigit = Array.from({ length: NUM_CLASSES }, (_, digit) => {
      const mine = asked.flatMap((d, i) => (d === digit ? [i] : []));
      const theirs = Array.from(test.labels).flatMap((d, i) => (d === digit ? [i] : []));
      return frechetDistance(rowsOf(samples.features, mine), rowsOf(real.features, theirs));
    });
    return {
      perDigit: perDigitRight,
      overall: perDigitRight.reduce((a, b) => a + b, 0) / NUM_CLASSES,
      frechetPerDigit,
    };
  });
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
