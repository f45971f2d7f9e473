/**
 * Adam, as PyTorch and TensorFlow.js define it, in one pass over each variable.
 *
 * `tf.train.adam` spends about a dozen elementwise ops (and as many passes over memory) per
 * variable and step. On the wasm backend our kernel (`VaelabAdam`, lib/base) does the whole
 * update in one SIMD pass over the heap, writing new weights and moments, which the variable is
 * then assigned (never written in place: kernels may cache its memory). Other backends use
 * `tf.train.adam`, which computes the same formula with tf ops. `update` is the same step on
 * plain arrays, for the two-thread step's shared memory.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { ADAM_KERNEL, type AdamAttrs, positiveNumber } from "../base/mod.ts";

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
   * gradients multiplied by `scale` first (gradient clipping; 1 leaves them as they are).
   */
  apply(variables: readonly tf.Variable[], grads: tf.NamedTensorMap, scale = 1): void {
    if (tf.getKernel(ADAM_KERNEL, tf.getBackend()) === undefined) {
      this.#fallback ??= tf.train.adam(this.learningRate, this.beta1, this.beta2, this.epsilon);
      const scaled = scale === 1
        ? grads
        : Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.mul(g, scale)]));
      this.#fallback.applyGradients(
        scaled as unknown as Parameters<tf.AdamOptimizer["applyGradients"]>[0],
      );
      if (scaled !== grads) tf.dispose(scaled);
      return;
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
    };
    for (const variable of variables) {
      const grad = grads[variable.name];
      if (!grad) throw new RangeError(`no gradient for variable "${variable.name}"`);
      // The moments outlive any tidy scope a step runs in: kept.
      const moments = this.#moments.get(variable) ??
        { m: tf.keep(tf.zeros(variable.shape)), v: tf.keep(tf.zeros(variable.shape)) };
      // One pass of our wasm kernel: new weights and moments.
      const [w, m, v] = tf.engine().runKernel(
        ADAM_KERNEL,
        { w: variable, g: grad, m: moments.m, v: moments.v },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
      tf.dispose([moments.m, moments.v]);
      this.#moments.set(variable, { m: tf.keep(m), v: tf.keep(v) });
      variable.assign(w);
      w.dispose();
    }
  }

  /** Release the fallback optimizer's state, if any. */
  dispose(): void {
    this.#fallback?.dispose();
    for (const { m, v } of this.#moments.values()) tf.dispose([m, v]);
    this.#moments.clear();
  }

  /**
   * Step `t` (from 1) on flat arrays: out = w - lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t))
   * + epsilon), updating the moments in place. `out` may be `w`.
   */
  update(
    w: Float32Array,
    g: Float32Array,
    out: Float32Array,
    { m, v }: { m: Float32Array; v: Float32Array },
    t: number,
  ): void {
    const { beta1, beta2, epsilon } = this;
    const stepSize = this.learningRate / (1 - beta1 ** t);
    const root = 1 / Math.sqrt(1 - beta2 ** t);
    const c1 = 1 - beta1;
    const c2 = 1 - beta2;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i];
      const mi = beta1 * m[i] + c1 * gi;
      const vi = beta2 * v[i] + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      out[i] = w[i] - stepSize * mi / (Math.sqrt(vi) * root + epsilon);
    }
  }
}

/** The Euclidean norm of a gradient given as flat arrays (one per variable), in float64. */
export function gradientNorm(grads: readonly Float32Array[]): number {
  let sum = 0;
  for (const g of grads) {
    for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
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
