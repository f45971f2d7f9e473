/**
 * Adam, as PyTorch and TensorFlow.js define it, in one pass over each variable.
 *
 * `tf.train.adam` spends about a dozen elementwise ops (and as many passes over memory) per
 * variable and step. On the wasm backend our kernel (`VaelabAdam`, lib/base) does the whole
 * update in one SIMD pass over the heap, writing new weights and moments, which the variable is
 * then assigned (never written in place: other tensors may share its values). Other backends
 * use `tf.train.adam`, which computes the same formula with tf ops.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  ADAM_KERNEL,
  type AdamAttrs,
  lastAdamSquares,
  positiveNumber,
  sumOfSquares,
} from "../base/mod.ts";

/** Adam's hyper-parameters. */
export interface AdamOptions {
  /** Step size; default 1e-3. */
  learningRate?: number;
  /** Decay of the first moment; default 0.9. */
  beta1?: number;
  /** Decay of the second moment; default 0.999. */
  beta2?: number;
  /** Added to the root of the second moment; default 1e-8 (PyTorch's). */
  epsilon?: number;
}

/** A second shard's gradients and each shard's share: the gradient is a g + b g1. */
export interface GradientMix {
  grads: tf.NamedTensorMap;
  a: number;
  b: number;
}

function gradientOf(grads: tf.NamedTensorMap, variable: tf.Variable): tf.Tensor {
  const grad = grads[variable.name];
  if (!grad) throw new RangeError(`no gradient for variable "${variable.name}"`);
  return grad;
}

/** Adam over a fixed list of variables. */
export class Adam {
  /** Step size; a schedule may change it between steps. */
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  #step = 0;
  #moments = new Map<tf.Variable, { m: tf.Tensor; v: tf.Tensor }>();
  #fallback?: tf.AdamOptimizer;

  /** Check the hyper-parameters. */
  constructor(options: AdamOptions = {}) {
    this.learningRate = options.learningRate ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    positiveNumber("learningRate", this.learningRate);
    for (const field of ["beta1", "beta2"] as const) {
      if (!(this[field] >= 0 && this[field] < 1)) {
        throw new RangeError(`${field} must be in [0, 1); got ${this[field]}`);
      }
    }
  }

  /**
   * One step: w <- w - lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + epsilon), with the
   * gradients multiplied by `scale` first (gradient clipping; 1 leaves them as they are). With
   * `mix`, each variable's gradient is a g + b g1 (two shards' gradients, a and b their shares).
   * @returns the sum of the squares of the gradients applied (after `scale`), in float64, from
   * the same pass on wasm: the squared norm, to check after the update; undefined elsewhere
   */
  apply(
    variables: readonly tf.Variable[],
    grads: tf.NamedTensorMap,
    scale = 1,
    mix?: GradientMix,
  ): number | undefined {
    if (tf.getKernel(ADAM_KERNEL, tf.getBackend()) === undefined) {
      this.#applyFallback(variables, grads, scale, mix);
      return undefined;
    }
    this.#step += 1;
    const t = this.#step;
    const attrs: AdamAttrs = {
      stepSize: this.learningRate / (1 - this.beta1 ** t),
      root: 1 / Math.sqrt(1 - this.beta2 ** t),
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      scale,
      ...(mix ? { a: mix.a, b: mix.b } : {}),
    };
    let squares = 0;
    for (const variable of variables) {
      const grad = gradientOf(grads, variable);
      // The moments outlive any tidy scope a step runs in: kept.
      const moments = this.#moments.get(variable) ??
        { m: tf.keep(tf.zeros(variable.shape)), v: tf.keep(tf.zeros(variable.shape)) };
      const inputs: tf.NamedTensorMap = { w: variable, g: grad, m: moments.m, v: moments.v };
      if (mix) inputs.g1 = gradientOf(mix.grads, variable);
      // One pass of our wasm kernel: new weights and moments.
      const [w, m, v] = tf.engine().runKernel(
        ADAM_KERNEL,
        inputs,
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
      squares += lastAdamSquares();
      tf.dispose([moments.m, moments.v]);
      this.#moments.set(variable, { m: tf.keep(m), v: tf.keep(v) });
      variable.assign(w);
      w.dispose();
    }
    return squares;
  }

  /** `tf.train.adam` on the (mixed, scaled) gradients, where our kernel is missing. */
  #applyFallback(
    variables: readonly tf.Variable[],
    grads: tf.NamedTensorMap,
    scale: number,
    mix?: GradientMix,
  ): void {
    this.#fallback ??= tf.train.adam(this.learningRate, this.beta1, this.beta2, this.epsilon);
    const used = variables.map((variable) => {
      const g = gradientOf(grads, variable);
      const tensor = scale === 1 && !mix ? g : tf.tidy(() => {
        const mixed = mix
          ? tf.add(tf.mul(g, mix.a), tf.mul(gradientOf(mix.grads, variable), mix.b))
          : g;
        return tf.mul(mixed, scale);
      });
      return { name: variable.name, tensor };
    });
    this.#fallback.applyGradients(used);
    for (const { name, tensor } of used) if (tensor !== grads[name]) tensor.dispose();
  }

  /** Release the fallback optimizer's state, if any. */
  dispose(): void {
    this.#fallback?.dispose();
    for (const { m, v } of this.#moments.values()) tf.dispose([m, v]);
    this.#moments.clear();
  }
}

/**
 * The Euclidean norm of a gradient given as tensors (one per variable), summed in float64: one
 * SIMD pass over each on wasm.
 */
export function tensorsNorm(grads: readonly tf.Tensor[]): number {
  let sum = 0;
  for (const g of grads) {
    if (!g) throw new RangeError("a variable has no gradient");
    sum += sumOfSquares(g);
  }
  return Math.sqrt(sum);
}

/**
 * The factor that clips a gradient of norm `norm` to at most `clipNorm`: min(1, clipNorm / norm);
 * 1 without clipping.
 */
export function clipScale(norm: number, clipNorm: number | undefined): number {
  return clipNorm === undefined || norm <= clipNorm ? 1 : clipNorm / norm;
}
