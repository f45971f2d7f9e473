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

/** y = act(x W + b): x [B, in], W [in, out], b [out] -> y [B, out]. */
export function dense(
  x: tf.Tensor2D,
  kernel: tf.Tensor2D | tf.Variable,
  bias: tf.Tensor1D | tf.Variable,
  activation: Activation = "linear",
): tf.Tensor2D {
  return denseOp(activation)(x, kernel as tf.Tensor2D, bias as tf.Tensor1D) as tf.Tensor2D;
}

const denseOps = new Map<Activation, (...inputs: tf.Tensor[]) => tf.Tensor>();

function denseOp(activation: Activation): (...inputs: tf.Tensor[]) => tf.Tensor {
  let op = denseOps.get(activation);
  if (op) return op;
  op = tf.customGrad((...args) => {
    const [x, kernel, bias] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const save = args[3] as unknown as tf.GradSaveFunc;
    const y = tf.fused.matMul({ a: x, b: kernel, bias, activation });
    save([x, kernel, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sk, sy] = saved as tf.Tensor2D[];
        // The ReLU's gradient passes where its output is positive.
        const dz = activation === "relu"
          ? tf.mul(dy, tf.step(sy)) as tf.Tensor2D
          : dy as tf.Tensor2D;
        return [
          tf.matMul(dz, tf.transpose(sk)), // dx [B, in]
          tf.matMul(tf.transpose(sx), dz), // dW [in, out]
          tf.sum(dz, 0), // db [out]
        ];
      },
    };
  });
  denseOps.set(activation, op);
  return op;
}

/** act(conv(x, filter, stride, 'same') + b): x [B, H, W, Cin], filter [h, w, Cin, Cout]. */
export function conv2d(
  x: tf.Tensor4D,
  filter: tf.Tensor4D | tf.Variable,
  bias: tf.Tensor1D | tf.Variable,
  stride: number,
  activation: Activation = "linear",
): tf.Tensor4D {
  const y = tf.add(tf.conv2d(x, filter as tf.Tensor4D, stride, "same"), bias) as tf.Tensor4D;
  return activation === "relu" ? tf.relu(y) : y;
}

/**
 * act(convTranspose(x, filter, stride, 'same') + b): x [B, H, W, Cin], filter [h, w, Cout, Cin]
 * -> [B, H * stride, W * stride, Cout].
 */
export function conv2dTranspose(
  x: tf.Tensor4D,
  filter: tf.Tensor4D | tf.Variable,
  bias: tf.Tensor1D | tf.Variable,
  stride: number,
  activation: Activation = "linear",
): tf.Tensor4D {
  const [batch, height, width] = x.shape;
  const outShape: [number, number, number, number] = [
    batch,
    height * stride,
    width * stride,
    filter.shape[2] as number,
  ];
  const y = tf.add(
    tf.conv2dTranspose(x, filter as tf.Tensor4D, outShape, stride, "same"),
    bias,
  ) as tf.Tensor4D;
  return activation === "relu" ? tf.relu(y) : y;
}
