/**
 * The few layers our models use, as functions of explicit variables (convolutions in
 * `conv_layers.ts`).
 *
 * `dense`, `conv2d` and `conv2dTranspose` carry their own gradients: the forward pass fuses bias
 * and activation into the product (or follows it with one fused pass), the backward pass takes
 * the activation's gradient and the bias gradient in one pass ({@linkcode activationGrad}), and
 * a layer fed with data skips its input's gradient.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  ACTIVATION_GRAD_KERNEL,
  BATCH_NORM_GRAD_KERNEL,
  BATCH_NORM_KERNEL,
  BIAS_ACTIVATION_KERNEL,
  hasKernel,
} from "../base/mod.ts";

/** Activations a layer may fuse. `leakyRelu` is max(x, 0.2 x), the DCGAN discriminator's. */
export type Activation = "linear" | "relu" | "leakyRelu";

/** The slope of `leakyRelu` below 0 (DCGAN's 0.2). */
export const LEAKY_SLOPE = 0.2;

/** tfjs' name of an activation in fused ops and our kernels. */
export function fusedName(activation: Activation): "linear" | "relu" | "leakyrelu" {
  return activation === "leakyRelu" ? "leakyrelu" : activation;
}

/**
 * The gradient through y = act(z + b), from dy and y, both [..., N]: dz = dy act'(z) (ReLU's
 * derivative is 1 where y > 0 and 0 elsewhere, the leaky one's 0.2 elsewhere) and the bias
 * gradient dBias [N], dz summed over every axis but the last. One pass on wasm.
 */
export function activationGrad<T extends tf.Tensor>(
  dy: T,
  y: T,
  activation: Activation,
): { dz: T; dBias: tf.Tensor1D } {
  if (hasKernel(ACTIVATION_GRAD_KERNEL)) {
    const attrs = { activation: fusedName(activation), leakyreluAlpha: LEAKY_SLOPE };
    const [dz, dBias] = tf.engine().runKernel(
      ACTIVATION_GRAD_KERNEL,
      { dy, y },
      attrs,
    ) as tf.Tensor[];
    return { dz: dz as T, dBias: dBias as tf.Tensor1D };
  }
  const dz = activation === "linear"
    ? dy
    : tf.mul(dy, activation === "relu" ? tf.step(y) : tf.step(y, LEAKY_SLOPE)) as T;
  const axes = dy.shape.slice(0, -1).map((_, i) => i);
  return { dz, dBias: tf.sum(dz, axes) as tf.Tensor1D };
}

/** act(x + bias), bias [N] added along x's last axis. One pass on wasm. */
export function biasActivation<T extends tf.Tensor>(
  x: T,
  bias: tf.Tensor1D,
  activation: Activation,
): T {
  if (hasKernel(BIAS_ACTIVATION_KERNEL)) {
    const attrs = { activation: fusedName(activation), leakyreluAlpha: LEAKY_SLOPE };
    return tf.engine().runKernel(BIAS_ACTIVATION_KERNEL, { x, bias }, attrs) as T;
  }
  return tf.tidy(() => activate(tf.add(x, bias) as T, activation));
}

/** A forward value and the gradient of a scalar with respect to each input, given dy. */
export interface CustomOpResult<T extends tf.Tensor> {
  value: T;
  gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor[];
}

/** `tf.customGrad` with typed inputs: `f` gets the input tensors and a function to save some. */
export function customOp<T extends tf.Tensor>(
  f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => CustomOpResult<T>,
): (...inputs: tf.Tensor[]) => T {
  const op = tf.customGrad(
    ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const save = args.pop() as tf.GradSaveFunc;
      return f(args as tf.Tensor[], save);
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return (...inputs) => op(...inputs) as T;
}

/** A dense layer's variables and options, for {@linkcode dense}. */
export interface DenseLayer {
  /** W [in, out]. */
  kernel: tf.Tensor2D | tf.Variable;
  /** b [out]. */
  bias: tf.Tensor1D | tf.Variable;
  /** Default `linear`. */
  activation?: Activation;
  /** Compute the gradient with respect to x (default true); false for a layer fed with data. */
  inputGradient?: boolean;
}

/**
 * y = act(x W + b): x [B, in], W [in, out], b [out] -> y [B, out].
 * @example
 * ```ts
 * const h = dense(x, { kernel: w, bias: b, activation: "relu" }); // [B, out]
 * ```
 */
export function dense(x: tf.Tensor2D, layer: DenseLayer): tf.Tensor2D {
  const k = layer.kernel as tf.Tensor2D;
  const b = layer.bias as tf.Tensor1D;
  const activation = layer.activation ?? "linear";
  if (layer.inputGradient === false) {
    // x is a constant of this op, so backprop skips the [B, in] product nobody needs.
    return customOp(([k, b], save) =>
      denseForward(x, k as tf.Tensor2D, b as tf.Tensor1D, activation, save, false)
    )(k, b);
  }
  return customOp(([x, k, b], save) =>
    denseForward(x as tf.Tensor2D, k as tf.Tensor2D, b as tf.Tensor1D, activation, save, true)
  )(x, k, b);
}

/** The fused forward product and a backward pass of two products with a transposed operand. */
function denseForward(
  x: tf.Tensor2D,
  kernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  activation: Activation,
  save: tf.GradSaveFunc,
  inputGradient: boolean,
): CustomOpResult<tf.Tensor2D> {
  // The fused kernel itself: tf.fused.matMul would unfuse under a gradient tape (it leaves the
  // activation's gradient to autodiff), and this op supplies its own gradient.
  const y = tf.engine().runKernel("_FusedMatMul", { a: x, b: kernel, bias }, {
    transposeA: false,
    transposeB: false,
    activation: fusedName(activation),
    leakyreluAlpha: LEAKY_SLOPE,
  }) as tf.Tensor2D;
  save([x, kernel, y]);
  return {
    value: y,
    gradFunc: (dy, saved) => {
      const [sx, sk, sy] = saved as tf.Tensor2D[];
      const { dz, dBias } = activationGrad(dy, sy, activation);
      const dKernel = tf.matMul(sx, dz, true, false); // x^T dz [in, out]
      if (!inputGradient) return [dKernel, dBias];
      return [tf.matMul(dz, sk, false, true), dKernel, dBias]; // dx = dz W^T [B, in] first
    },
  };
}

/** `activation` applied elementwise (autodiff's gradient). */
export function activate<T extends tf.Tensor>(y: T, activation: Activation = "linear"): T {
  if (activation === "relu") return tf.relu(y);
  if (activation === "leakyRelu") return tf.leakyRelu(y, LEAKY_SLOPE);
  return y;
}

/** The epsilon of batch normalisation's variance. */
const BATCH_NORM_EPSILON = 1e-5;

/**
 * Batch normalisation over every axis but the last (features or channels), with the statistics
 * of this batch: gamma * (x - mean) / sqrt(var + 1e-5) + beta. x [B, ..., C], gamma, beta [C].
 * A generator trained with it generates with it too, so decode codes in batches (of 16 or more),
 * never one at a time.
 */
export function batchNorm<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D | tf.Variable,
  beta: tf.Tensor1D | tf.Variable,
): T {
  if (x.shape[0] < 2) {
    throw new RangeError(`batch normalisation needs a batch of 2 or more; got ${x.shape[0]}`);
  }
  if (hasKernel(BATCH_NORM_KERNEL)) {
    // Its own gradient, in one kernel each way (wasm), instead of autodiff through a dozen ops.
    return customOp<T>(([x, gamma, beta], save) => {
      save([x, gamma]);
      const attrs = { epsilon: BATCH_NORM_EPSILON };
      return {
        value: (tf.engine().runKernel(BATCH_NORM_KERNEL, { x, gamma, beta }, attrs) as tf.Tensor[])[
          0
        ] as T,
        gradFunc: (dy, [x, gamma]) =>
          tf.engine().runKernel(BATCH_NORM_GRAD_KERNEL, { dy, x, gamma }, attrs) as tf.Tensor[],
      };
    })(x, gamma, beta);
  }
  return tf.tidy(() => {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(x, axes);
    return tf.add(
      tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, BATCH_NORM_EPSILON))), gamma),
      beta,
    );
  }) as T;
}
