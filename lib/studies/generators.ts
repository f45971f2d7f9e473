/**
 * What notebook 05 needs to compare every generator of the project on one scale: each model's
 * samples, their scores by the digit classifier (kept in the run's folder), and the decodes of a
 * mixture prior's components.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { readOnce } from "../base/mod.ts";
import {
  decodeCodes,
  type FeatureStats,
  priorCodes,
  type SampleQuality,
  sampleQuality,
} from "../measure/mod.ts";
import { type Model, partVariables } from "../model/mod.ts";
import { measureOnce, type Run } from "../train/mod.ts";

/**
 * `n` samples of a generator: the decoder's pixel means sigmoid(decode(z)) for z drawn from the
 * model's prior (N(0, I) for an AE, whose decoder was never trained on such codes). [n * 784].
 */
export function generatorImages(model: Model, n: number, seed: number): Float32Array {
  const { latentSize } = model.config;
  return decodeCodes(model, priorCodes({ latentSize, n, seed, prior: model.prior }));
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
