/**
 * Importance-weighted estimates of log p(x) for a trained VAE (Burda et al., 2016): the bounds
 * L_k = E[log (1/k) sum_i p(x, z_i) / q(z_i | x)], z_i ~ q(z | x), which rise with k from the
 * ELBO (k = 1) towards log p(x).
 *
 * One function draws the log-weights and one seed scheme names the draws: samples [first,
 * first + s) of images [start, start + g) come from mixSeeds(seed, start, first).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { logMeanExp, meanWithError, mixSeeds, normalSeed, positiveInteger } from "../base/mod.ts";
import { type Dataset, IMAGE_SIZE, validateDataset } from "../data/mod.ts";
import {
  gaussianLogDensity,
  type LikelihoodOptions,
  logLikelihood,
  type Model,
  reparameterize,
} from "../model/mod.ts";

/** Options of {@linkcode logWeightTerms}. */
export interface LogWeightOptions extends LikelihoodOptions {
  /** Images [g, 784], and their encoding [g, L]. */
  x: tf.Tensor2D;
  mean: tf.Tensor2D;
  logVar: tf.Tensor2D;
  /** Samples z ~ q(z | x) per image. */
  samples: number;
  /** Seed of the draws. */
  seed: number;
}

/**
 * The two parts of each log-weight log w = log p(x | z) + (log p(z) - log q(z | x)), for
 * `samples` draws z ~ q(z | x) per image: [2, g * samples], row i * samples + j is image i's
 * j-th draw. p(z) is the model's prior.
 */
export function logWeightTerms(model: Model, options: LogWeightOptions): tf.Tensor2D {
  const { x, mean, logVar, samples: s, seed } = options;
  const g = x.shape[0];
  return tf.tidy(() => {
    // [g, C] -> [g * s, C]: row i * s + j is image i
    const repeat = (t: tf.Tensor2D) =>
      tf.reshape(tf.tile(t, [1, s]), [g * s, t.shape[1]]) as tf.Tensor2D;
    const [m, lv] = [repeat(mean), repeat(logVar)];
    const eps = tf.randomNormal(
      [g * s, m.shape[1]],
      0,
      1,
      "float32",
      normalSeed(seed),
    ) as tf.Tensor2D;
    const z = reparameterize(m, lv, eps);
    return tf.stack([
      logLikelihood(repeat(x), model.decode(z), options),
      tf.sub(model.prior.logDensity(z), gaussianLogDensity(z, m, lv)),
    ]) as tf.Tensor2D;
  });
}

/** Options of {@linkcode importanceCurve}. */
export interface ImportanceOptions extends LikelihoodOptions {
  /** The k of each bound L_k; the largest is the number of samples K drawn per image. */
  ks: readonly number[];
  /** Use the first `limit` images; default all. */
  limit?: number;
  /** Seed of the samples; default 0. */
  seed?: number;
  /** Rows (image, sample) decoded at once; bounds memory. Default 4096. */
  chunkSize?: number;
}

/** Per-image bounds from K = max(ks) samples z ~ q(z|x) per image, each [images]. */
export interface ImportanceCurve {
  ks: number[];
  /** K, the samples per image. */
  samples: number;
  images: number;
  /** L_k per image for each k: the mean of L_k over the floor(K / k) disjoint groups of k samples. */
  bounds: Float64Array[];
  /** E_q[log p(x,z) - log q(z|x)]: the ELBO with the KL sampled (the same as L_1). */
  elbo: Float64Array;
  /**
   * E_q[log p(x|z)] - KL(q(z|x) || p(z)), the KL in closed form: the ELBO as a VAE trains it. For
   * a prior without a closed-form KL (a mixture), the KL is estimated from the same draws, so this
   * equals `elbo`.
   */
  analyticElbo: Float64Array;
}

/**
 * L_k = log (1/k) sum_i p(x, z_i) / q(z_i | x) for every k of `ks` from the same K samples per
 * image, so that L_k and L_k' are compared on the same draws (their difference is precise), and
 * small k are averaged over many groups. E[L_k] rises with k towards log p(x).
 * @param model a trained VAE
 * @param data the images
 * @param options the `ks`, how many images (`limit`), the `seed`
 * @example
 * ```ts
 * const curve = importanceCurve(model, data.test, { ks: [1, 10, 100], limit: 200, seed: 0 });
 * ```
 */
export function importanceCurve(
  model: Model,
  data: Dataset,
  options: ImportanceOptions,
): ImportanceCurve {
  validateDataset("data", data, { unitRange: (options.likelihood ?? "bernoulli") === "bernoulli" });
  if (model.config.kind !== "vae") {
    throw new TypeError(`importanceCurve needs a VAE; got a model of kind "${model.config.kind}"`);
  }
  const ks = [...options.ks];
  if (ks.length === 0) throw new RangeError("ks must hold at least one k; got []");
  ks.forEach((k, i) => positiveInteger(`ks[${i}]`, k));
  const K = Math.max(...ks);
  const n = Math.min(positiveInteger("limit", options.limit ?? data.size), data.size);
  const chunkSize = positiveInteger("chunkSize", options.chunkSize ?? 4096);
  const seed = options.seed ?? 0;
  const perGroup = Math.max(1, Math.floor(chunkSize / K)); // images per group
  const perChunk = Math.min(K, chunkSize); // samples per decoded chunk
  const bounds = ks.map(() => new Float64Array(n));
  const elbo = new Float64Array(n);
  const analyticElbo = new Float64Array(n);
  const logW = new Float64Array(K);
  for (let start = 0; start < n; start += perGroup) {
    const g = Math.min(perGroup, n - start);
    const images = data.images.subarray(start * IMAGE_SIZE, (start + g) * IMAGE_SIZE);
    const x = tf.tensor2d(images, [g, IMAGE_SIZE]);
    const { mean, logVar } = tf.tidy(() => model.encode(x) as unknown as tf.NamedTensorMap);
    if (!logVar) {
      tf.dispose([x, mean]);
      throw new TypeError("importanceCurve needs a VAE: the model's encoder gives no logVar");
    }
    // The closed-form KL where the prior has one; else (a mixture) the Monte Carlo estimate
    // -mean(log p(z) - log q(z|x)) over the same K draws, below.
    const kl = model.prior.closedFormKl
      ? model.prior.kl(mean as tf.Tensor2D, logVar as tf.Tensor2D)
      : undefined;
    const klValues = kl?.dataSync();
    const logLik = new Float32Array(g * K); // log p(x|z): [g, K]
    const logRatio = new Float32Array(g * K); // log p(z) - log q(z|x): [g, K]
    for (let first = 0; first < K; first += perChunk) {
      const s = Math.min(perChunk, K - first);
      const terms = logWeightTerms(model, {
        ...options,
        x,
        mean: mean as tf.Tensor2D,
        logVar: logVar as tf.Tensor2D,
        samples: s,
        seed: mixSeeds(seed, start, first),
      });
      const values = terms.dataSync();
      terms.dispose();
      for (let i = 0; i < g; i++) {
        logLik.set(values.subarray(i * s, (i + 1) * s), i * K + first);
        logRatio.set(values.subarray(g * s + i * s, g * s + (i + 1) * s), i * K + first);
      }
    }
    tf.dispose([x, mean, logVar, kl]);
    for (let i = 0; i < g; i++) {
      let sumW = 0;
      let sumLik = 0;
      let sumRatio = 0;
      for (let t = 0; t < K; t++) {
        logW[t] = logLik[i * K + t] + logRatio[i * K + t];
        sumW += logW[t];
        sumLik += logLik[i * K + t];
        sumRatio += logRatio[i * K + t];
      }
      elbo[start + i] = sumW / K;
      analyticElbo[start + i] = sumLik / K - (klValues ? klValues[i] : -sumRatio / K);
      ks.forEach((k, c) => {
        const groups = Math.floor(K / k);
        let sum = 0;
        for (let h = 0; h < groups; h++) sum += logMeanExp(logW.subarray(h * k, (h + 1) * k));
        bounds[c][start + i] = sum / groups;
      });
    }
  }
  return { ks, samples: K, images: n, bounds, elbo, analyticElbo };
}

/** A mean over images and its standard error. */
export interface Estimate {
  mean: number;
  stdError: number;
  /** One value per image. */
  values: Float64Array;
}

/** Options of {@linkcode iwaeEstimate}. */
export interface IwaeOptions extends LikelihoodOptions {
  /** Samples per image: the k of L_k. */
  k: number;
  /** Use the first `limit` images; default all. */
  limit?: number;
  /** Seed of the samples; default 0. */
  seed?: number;
  /** Rows (image, sample) decoded at once; bounds memory. Default 4096. */
  chunkSize?: number;
}

/**
 * L_k per image of `data` (at most `limit` images), its mean and standard error: the
 * importance-weighted estimate of log p(x) from k samples per image.
 * @example
 * ```ts
 * const { mean, stdError } = iwaeEstimate(model, data.test, { k: 1000, limit: 500 });
 * ```
 */
export function iwaeEstimate(model: Model, data: Dataset, options: IwaeOptions): Estimate {
  const curve = importanceCurve(model, data, { ...options, ks: [positiveInteger("k", options.k)] });
  const values = curve.bounds[0];
  return { ...meanWithError(values), values };
}
