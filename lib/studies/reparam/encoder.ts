/**
 * The two estimators of a VAE's encoder gradient at the same parameters (notebook 06): for a
 * fixed batch and many draws eps, each draw's gradient of the batch's mean reconstruction term
 * -log p(x | z) with respect to each encoder variable, through z = mean + sigma eps (pathwise) or
 * through the score function with the reconstruction at the mean code as baseline (what
 * `estimator: "score"` trains with). The KL term is left out: its gradient is exact either way.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { mixSeeds, positiveInteger } from "../../base/mod.ts";
import { type Dataset, toTensor } from "../../data/mod.ts";
import { elboTerms, type Model, scoreFunctionTerms } from "../../model/mod.ts";

/** One encoder layer's gradient spread under both estimators. */
export interface EncoderVariance {
  /** The layer, e.g. `encoder.hidden` (its kernel and bias). */
  layer: string;
  parameters: number;
  /** The sum over the layer's parameters of each one's variance over the draws. */
  pathwise: number;
  score: number;
  /** score / pathwise. */
  ratio: number;
  /** The mean over the draws of each estimator's gradient, the sum of its squares: the signal. */
  pathwiseSquaredMean: number;
  scoreSquaredMean: number;
}

/** Running means and variances of a vector over draws (Welford, float64). */
class Moments {
  readonly #mean: Float64Array;
  readonly #m2: Float64Array;
  #n = 0;
  constructor(size: number) {
    this.#mean = new Float64Array(size);
    this.#m2 = new Float64Array(size);
  }
  add(values: ArrayLike<number>): void {
    this.#n += 1;
    for (let i = 0; i < values.length; i++) {
      const delta = values[i] - this.#mean[i];
      this.#mean[i] += delta / this.#n;
      this.#m2[i] += delta * (values[i] - this.#mean[i]);
    }
  }
  /** The sum of the (n - 1)-normalised variances, and the sum of the squared means. */
  totals(): { variance: number; squaredMean: number } {
    let variance = 0;
    let squaredMean = 0;
    for (let i = 0; i < this.#mean.length; i++) {
      variance += this.#m2[i] / (this.#n - 1);
      squaredMean += this.#mean[i] ** 2;
    }
    return { variance, squaredMean };
  }
}

/**
 * Per encoder layer, the variance over `draws` draws of each estimator's gradient of the mean
 * reconstruction term over `images`, at the model's current parameters. Both estimators see the
 * same draws.
 */
export function encoderGradientVariance(
  model: Model,
  images: Dataset,
  { draws, seed }: { draws: number; seed: number },
): EncoderVariance[] {
  positiveInteger("draws", draws);
  if (draws < 2) throw new RangeError(`draws must be 2 or more; got ${draws}`);
  if (model.config.kind !== "vae") {
    throw new RangeError(
      `encoder gradients compare a VAE's estimators; got kind "${model.config.kind}"`,
    );
  }
  const indices = model.variables.map((_, i) => i).filter((i) =>
    model.names[i].startsWith("encoder.")
  );
  const variables = indices.map((i) => model.variables[i]);
  const layerOf = (i: number) => model.names[i].split(".").slice(0, 2).join(".");
  const layers = [...new Set(indices.map(layerOf))];
  const moments = {
    pathwise: layers.map((layer) => new Moments(sizeOf(layer))),
    score: layers.map((layer) => new Moments(sizeOf(layer))),
  };
  function sizeOf(layer: string): number {
    return indices.filter((i) => layerOf(i) === layer).reduce(
      (n, i) => n + model.variables[i].size,
      0,
    );
  }
  const x = toTensor(images);
  try {
    for (let d = 0; d < draws; d++) {
      const options = { seed: mixSeeds(seed, d), beta: 0 };
      for (const estimator of ["pathwise", "score"] as const) {
        const { value, grads } = tf.variableGrads(() =>
          tf.mean(
            estimator === "pathwise"
              ? elboTerms(model, x, options).loss
              : scoreFunctionTerms(model, x, options).surrogate,
          ) as tf.Scalar, variables);
        layers.forEach((layer, l) => {
          const flat = indices.filter((i) => layerOf(i) === layer).flatMap((i) =>
            Array.from(grads[model.variables[i].name].dataSync())
          );
          moments[estimator][l].add(flat);
        });
        tf.dispose([value, grads] as tf.TensorContainer);
      }
    }
  } finally {
    x.dispose();
  }
  return layers.map((layer, l) => {
    const pathwise = moments.pathwise[l].totals();
    const score = moments.score[l].totals();
    return {
      layer,
      parameters: sizeOf(layer),
      pathwise: pathwise.variance,
      score: score.variance,
      ratio: score.variance / pathwise.variance,
      pathwiseSquaredMean: pathwise.squaredMean,
      scoreSquaredMean: score.squaredMean,
    };
  });
}
