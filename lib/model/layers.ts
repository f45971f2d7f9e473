/**
 * The few layers our models use, as functions of explicit variables.
 *
 * `dense` carries its own gradient: on wasm, a matMul with a transposed operand (what autodiff
 * of a dense layer emits) runs about 15x slower than a plain one, while an explicit transpose
 * followed by a plain matMul keeps the fast path.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Activations a layer may fuse. */
export type Activation = "linear" | "relu";

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

/** The fused forward product and a backward pass made of plain (untransposed) matMuls. */
function denseForward(
  x: tf.Tensor2D,
  kernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  activation: Activation,
  save: tf.GradSaveFunc,
  inputGradient: boolean,
): CustomOpResult<tf.Tensor2D> {
  const y = tf.fused.matMul({ a: x, b: kernel, bias, activation }) as tf.Tensor2D;
  save([x, kernel, y]);
  return {
    value: y,
    gradFunc: (dy, saved) => {
      const [sx, sk, sy] = saved as tf.Tensor2D[];
      // The ReLU's gradient passes where its output is positive.
      const dz = activation === "relu" ? tf.mul(dy, tf.step(sy)) as tf.Tensor2D : dy as tf.Tensor2D;
      const dKernel = tf.matMul(tf.transpose(sx), dz); // [in, out]
      const dBias = tf.sum(dz, 0); // [out]
      if (!inputGradient) return [dKernel, dBias];
      return [tf.matMul(dz, tf.transpose(sk)), dKernel, dBias]; // dx [B, in] first
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
  return layer.activation === "relu" ? tf.relu(y) : y;
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
  return layer.activation === "relu" ? tf.relu(y) : y;
}
