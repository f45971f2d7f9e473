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

/** One layer's gradient of each term of a VAE's loss, {@linkcode termGradients}. */
export interface TermGradient {
  /** The layer, e.g. `decoder.hidden` (its kernel and bias). */
  layer: string;
  parameters: number;
  /**
   * The gradient's norm (square root of the sum of squares over the layer's parameters) of the
   * batch's mean KL(q(z | x) || p(z)): exactly 0 where TensorFlow.js finds no path from the KL
   * to the layer's variables.
   */
  kl: number;
  /** Whether any of the layer's variables is connected to the KL at all. */
  klConnected: boolean;
  /** The same norm for the batch's mean reconstruction term -log p(x | z), at one draw of z. */
  reconstruction: number;
}

/**
 * Per layer of a VAE (encoder and decoder), the norm of the gradient of each term of its loss
 * over `images`, with z = mean + sigma eps drawn from `seed`: which parameters each term depends
 * on. The KL, the regulariser on q(z | x), reaches the encoder's only.
 */
export function termGradients(
  model: Model,
  images: Dataset,
  { seed }: { seed: number },
): TermGradient[] {
  if (model.config.kind !== "vae") {
    throw new RangeError(`the terms' gradients are a VAE's; got kind "${model.config.kind}"`);
  }
  const layerOf = (i: number) => model.names[i].split(".").slice(0, 2).join(".");
  const layers = [...new Set(model.variables.map((_, i) => layerOf(i)))];
  const x = toTensor(images);
  try {
    const norms = (["kl", "reconstruction"] as const).map((term) => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(elboTerms(model, x, { seed })[term]) as tf.Scalar,
        model.variables,
      );
      const squares = new Map(layers.map((layer) => [layer, 0]));
      const connected = new Set<string>();
      model.variables.forEach((v, i) => {
        const grad = grads[v.name]; // absent: no path from the term to v, a gradient of 0
        if (!grad) return;
        connected.add(layerOf(i));
        const values = grad.dataSync();
        let sum = 0;
        for (let k = 0; k < values.length; k++) sum += values[k] * values[k];
        squares.set(layerOf(i), squares.get(layerOf(i))! + sum);
      });
      tf.dispose([value, grads] as tf.TensorContainer);
      return { squares, connected };
    });
    const [kl, reconstruction] = norms;
    return layers.map((layer) => ({
      layer,
      parameters: model.variables.filter((_, i) => layerOf(i) === layer).reduce(
        (n, v) => n + v.size,
        0,
      ),
      kl: Math.sqrt(kl.squares.get(layer)!),
      klConnected: kl.connected.has(layer),
      reconstruction: Math.sqrt(reconstruction.squares.get(layer)!),
    }));
  } finally {
    x.dispose();
  }
}

/** The KL to N(0, I) read two ways, per image and per (image, latent unit) term. */
export interface KlReadings {
  /** Per image, 0.5 sum_j (sigma_j^2 + mean_j^2 - 1 - log sigma_j^2): the KL. */
  kl: Float64Array;
  /** Per image, 0.5 sum_j (sigma_j^2 + mean_j^2 + 1 + log sigma_j^2): two minus signs lost. */
  plusSigns: Float64Array;
  /** Per image and unit, row-major [images, units]: each unit's KL, never negative. */
  klTerms: Float64Array;
  /** The same terms read with plus signs. */
  plusSignTerms: Float64Array;
}

/**
 * The KL of q(z | x) = N(mean, diag sigma^2) to N(0, I) over `images` as it is,
 * 0.5 sum_j (sigma_j^2 + mean_j^2 - 1 - log sigma_j^2), and as it reads with its two minus signs
 * lost, 0.5 sum_j (sigma_j^2 + mean_j^2 + 1 + log sigma_j^2): the second is no KL (a term of it
 * is negative wherever log sigma_j^2 < -(1 + sigma_j^2 + mean_j^2)).
 */
export function klReadings(model: Model, images: Dataset): KlReadings {
  const x = toTensor(images);
  const { mean, logVar } = model.encode(x);
  x.dispose();
  if (!logVar) {
    mean.dispose();
    throw new RangeError("the KL needs a VAE's q(z | x)");
  }
  const [rows, columns] = mean.shape;
  const [m, lv] = [mean.dataSync(), logVar.dataSync()];
  tf.dispose([mean, logVar]);
  const klTerms = new Float64Array(rows * columns);
  const plusSignTerms = new Float64Array(rows * columns);
  const kl = new Float64Array(rows);
  const plusSigns = new Float64Array(rows);
  for (let j = 0; j < rows * columns; j++) {
    const squares = Math.exp(lv[j]) + m[j] * m[j];
    klTerms[j] = 0.5 * (squares - 1 - lv[j]);
    plusSignTerms[j] = 0.5 * (squares + 1 + lv[j]);
    kl[Math.floor(j / columns)] += klTerms[j];
    plusSigns[Math.floor(j / columns)] += plusSignTerms[j];
  }
  return { kl, plusSigns, klTerms, plusSignTerms };
}
