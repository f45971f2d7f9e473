/**
 * Training and evaluating a VQ-VAE (kind `vqvae`): one Adam on reconstruction + codebook +
 * commitment (`vqTerms`), and the same terms with the codebook's use on a split.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { readOnce } from "../base/mod.ts";
import { batches, type Dataset, IMAGE_SIZE } from "../data/mod.ts";
import { codeUse, type Model, vqTerms } from "../model/mod.ts";
import type { TrainConfig } from "./config.ts";
import { Adam, tensorsNorm } from "./optimizer.ts";
import { VQ_TERMS, type VqTerm } from "./records.ts";
import { NonFiniteGradient, type Step, type StepPosition } from "./step.ts";

/** The commitment weight when the config gives none (van den Oord et al.). */
export const DEFAULT_COMMITMENT = 0.25;

/** The codebook's size of a VQ-VAE model. */
function codebookSize(model: Model): number {
  return model.quantizer!.codebook.shape[0];
}

/** One Adam step on a VQ-VAE's loss. Terms: {@linkcode VQ_TERMS}. */
export class VqVaeStep implements Step<VqTerm> {
  readonly terms = VQ_TERMS;
  #model: Model;
  #adam: Adam;
  #commitment: number;

  constructor(model: Model, config: Pick<TrainConfig, "learningRate" | "commitment">) {
    if (!model.quantizer) throw new TypeError("a VQ-VAE step needs a model with a quantizer");
    this.#model = model;
    this.#commitment = config.commitment ?? DEFAULT_COMMITMENT;
    this.#adam = new Adam({ learningRate: config.learningRate });
  }

  run(batch: Dataset, _position: StepPosition): Promise<tf.Tensor1D> {
    const model = this.#model;
    const x = tf.tensor2d(batch.images, [batch.size, IMAGE_SIZE]);
    let kept: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const terms = vqTerms(model, x, { commitment: this.#commitment });
      const means = [terms.loss, terms.reconstruction, terms.codebook, terms.commitment].map((t) =>
        tf.mean(t)
      );
      kept = [tf.keep(tf.stack(means)), tf.keep(terms.codes)];
      return means[0] as tf.Scalar;
    }, model.variables);
    x.dispose();
    value.dispose();
    const norm = tensorsNorm(model.variables.map((v) => grads[v.name]));
    if (!Number.isFinite(norm)) {
      tf.dispose([grads, kept] as tf.TensorContainer);
      return Promise.reject(new NonFiniteGradient(norm));
    }
    this.#adam.apply(model.variables, grads);
    tf.dispose(grads);
    const [means, codes] = kept;
    const use = codeUse(readOnce(codes), codebookSize(model));
    const terms = tf.concat([means, tf.tensor1d([use.perplexity, use.unused])]) as tf.Tensor1D;
    tf.dispose(kept);
    return Promise.resolve(terms);
  }

  close(): void {
    this.#adam.dispose();
  }
}

/**
 * A VQ-VAE's mean terms per image on `data` and its codebook's use over all of the split's codes
 * (the perplexity of their frequencies, the codes never chosen).
 */
export function evaluateVq(
  model: Model,
  data: Dataset,
  { commitment = DEFAULT_COMMITMENT }: Pick<TrainConfig, "commitment"> = {},
): Record<VqTerm, number> {
  const sums = new Float64Array(4);
  const codes: Int32Array[] = [];
  for (const batch of batches(data, 500, { shuffle: false })) {
    tf.tidy(() => {
      const terms = vqTerms(model, tf.tensor2d(batch.images, [batch.size, IMAGE_SIZE]), {
        commitment,
      });
      const totals = [terms.loss, terms.reconstruction, terms.codebook, terms.commitment].map((t) =>
        tf.sum(t).dataSync()[0]
      );
      totals.forEach((t, i) => sums[i] += t);
      codes.push(terms.codes.dataSync() as Int32Array);
    });
  }
  const all = codes.flatMap((c) => Array.from(c));
  const use = codeUse(all, codebookSize(model));
  const [loss, reconstruction, codebook, commitmentTerm] = Array.from(sums, (s) => s / data.size);
  return {
    loss,
    reconstruction,
    codebook,
    commitment: commitmentTerm,
    perplexity: use.perplexity,
    unusedCodes: use.unused,
  };
}
