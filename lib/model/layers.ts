/**
 * The few layers our models use, as functions of explicit variables.
 *
 * `dense` carries its own gradient, so it can fuse bias and activation into the forward product
 * and skip the input's gradient for a layer fed with data.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Activations a layer may fuse. `leakyRelu` is max(x, 0.2 x), the DCGAN discriminator's. */
export type Activation = "linear" | "relu" | "leakyRelu";

/** The slope of `leakyRelu` below 0 (DCGAN's 0.2). */
export const LEAKY_SLOPE = 0.2;

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
  const y = activation === "leakyRelu"
    ? tf.fused.matMul({
      a: x,
      b: kernel,
      bias,
      activation: "leakyrelu",
      leakyreluAlpha: LEAKY_SLOPE,
    }) as tf.Tensor2D
    : tf.fused.matMul({ a: x, b: kernel, bias, activation }) as tf.Tensor2D;
  save([x, kernel, y]);
  return {
    value: y,
    gradFunc: (dy, saved) => {
      const [sx, sk, sy] = saved as tf.Tensor2D[];
      // The ReLU's gradient passes where its output is positive; the leaky one's is 0.2 elsewhere.
      const dz = activation === "linear" ? dy as tf.Tensor2D : tf.mul(
        dy,
        activation === "relu" ? tf.step(sy) : tf.step(sy, LEAKY_SLOPE),
      ) as tf.Tensor2D;
      const dKernel = tf.matMul(sx, dz, true, false); // x^T dz [in, out]
      const dBias = tf.sum(dz, 0); // [out]
      if (!inputGradient) return [dKernel, dBias];
      return [tf.matMul(dz, sk, false, true), dKernel, dBias]; // dx = dz W^T [B, in] first
    },
  };
}

/** A convolution's variables and options, for {@linkcode conv2d} and {@linkcode conv2dTranspose}. */
export interface ConvLayer {
  /** [h, w, Cin, Cout] for a convolution, [h, w, Cout, Cin] for a transposed one. */
  filter: tf.Tensor4D | tf.Variable;
  /** b [Cout]. */
  bias: tf.Tensor1D | tf.Variable;
  stride: number;
  /** Default `linear`. */
  activation?: Activation;
}

/** act(conv(x, filter, stride, 'same') + b): x [B, H, W, Cin] -> [B, H / stride, W / stride, Cout]. */
export function conv2d(x: tf.Tensor4D, layer: ConvLayer): tf.Tensor4D {
  const y = tf.add(
    tf.conv2d(x, layer.filter as tf.Tensor4D, layer.stride, "same"),
    layer.bias,
  ) as tf.Tensor4D;
  return activate(y, layer.activation);
}

/** `activation` applied elementwise (autodiff's gradient). */
export function activate<T extends tf.Tensor>(y: T, activation: Activation = "linear"): T {
  if (activation === "relu") return tf.relu(y);
  if (activation === "leakyRelu") return tf.leakyRelu(y, LEAKY_SLOPE);
  return y;
}

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
  return tf.tidy(() => {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(x, axes);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), gamma), beta);
  }) as T;
}

/**
 * act(convTranspose(x, filter, stride, 'same') + b): x [B, H, W, Cin], filter [h, w, Cout, Cin]
 * -> [B, H * stride, W * stride, Cout].
 */
export function conv2dTranspose(x: tf.Tensor4D, layer: ConvLayer): tf.Tensor4D {
  const { filter, stride } = layer;
  const [batch, height, width] = x.shape;
  const outShape: [number, number, number, number] = [
    batch,
    height * stride,
    width * stride,
    filter.shape[2] as number,
  ];
  const y = tf.add(
    tf.conv2dTranspose(x, filter as tf.Tensor4D, outShape, stride, "same"),
    layer.bias,
  ) as tf.Tensor4D;
  return activate(y, layer.activation);
}
