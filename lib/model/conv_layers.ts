/**
 * Convolutions of explicit variables, each with its own gradient, for the conv VAE, the DCGAN
 * and the digit classifier. Padding is always 'same'; x is NHWC.
 *
 * On wasm our kernels compute a convolution as one product of its patch matrix rows(x)
 * [B * oh * ow, h * w * Cin] with the filter read as [h * w * Cin, Cout] (lib/base). Where the
 * backend has our im2row kernel, a transposed convolution's backward pass builds rows(dz) once
 * for both of its gradients; elsewhere the backend's own convolution kernels run.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { hasKernel, IM2ROW_KERNEL } from "../base/mod.ts";
import { IMAGE_SIDE } from "../data/mod.ts";
import {
  type Activation,
  activationGrad,
  biasActivation,
  customOp,
  fusedName,
  LEAKY_SLOPE,
} from "./layers.ts";

/** A convolution's variables and options, for {@linkcode conv2d} and {@linkcode conv2dTranspose}. */
export interface ConvLayer {
  /** [h, w, Cin, Cout] for a convolution, [h, w, Cout, Cin] for a transposed one. */
  filter: tf.Tensor4D | tf.Variable;
  /** b [Cout]. */
  bias: tf.Tensor1D | tf.Variable;
  stride: number;
  /** Default `linear`. */
  activation?: Activation;
  /** Compute the gradient with respect to x (default true); false for a layer fed with data. */
  inputGradient?: boolean;
}

/**
 * The patch matrix of x for a filter of `filterShape` [h, w, C, ...] at `stride`, 'same'
 * padding: [B * oh * ow, h * w * C], row (n, y, x) holding the patch output pixel (y, x) sees.
 */
export function patches(x: tf.Tensor4D, filterShape: number[], stride: number): tf.Tensor2D {
  const attrs = { filterShape, strides: [stride, stride], pad: "same" };
  return tf.engine().runKernel(
    IM2ROW_KERNEL,
    { x },
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor2D;
}

/**
 * act(conv(x, filter, stride, 'same') + b): x [B, H, W, Cin] -> [B, H / stride, W / stride, Cout].
 * Forward: one fused convolution; backward: {@linkcode activationGrad}, then the filter's
 * gradient and (unless the layer is fed with data) the input's.
 */
export function conv2d(x: tf.Tensor4D, layer: ConvLayer): tf.Tensor4D {
  const { stride } = layer;
  const activation = layer.activation ?? "linear";
  const strides: [number, number] = [stride, stride];
  const body = (
    [input, filter, bias]: tf.Tensor[],
    save: tf.GradSaveFunc,
  ): { value: tf.Tensor4D; gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => tf.Tensor[] } => {
    // The fused kernel itself: tf.fused.conv2d would unfuse under a gradient tape.
    const y = tf.engine().runKernel("FusedConv2D", { x: input, filter, bias }, {
      strides,
      pad: "same",
      dataFormat: "NHWC",
      dilations: [1, 1],
      activation: fusedName(activation),
      leakyreluAlpha: LEAKY_SLOPE,
    } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    save([input, filter, y]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [sx, sf, sy] = saved as tf.Tensor4D[];
        const { dz, dBias } = activationGrad(dy, sy, activation);
        const dFilter = filterGrad(sx, dz, sf.shape, strides);
        if (layer.inputGradient === false) return [dFilter, dBias];
        // Conv2DBackpropInput: on wasm, one product and row2im.
        const dx = tf.conv2dTranspose(dz, sf, sx.shape, strides, "same");
        return [dx, dFilter, dBias];
      },
    };
  };
  if (layer.inputGradient === false) {
    // x is a constant of this op, so backprop skips its gradient.
    return customOp<tf.Tensor4D>(([f, b], save) => body([x, f, b], save))(layer.filter, layer.bias);
  }
  return customOp<tf.Tensor4D>(body)(x, layer.filter, layer.bias);
}

/** The filter's gradient of conv(x, filter) given dy (`Conv2DBackpropFilter`, 'same' padding). */
function filterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: number[],
  strides: [number, number],
): tf.Tensor4D {
  const attrs = { strides, pad: "same", dataFormat: "NHWC", filterShape };
  return tf.engine().runKernel(
    "Conv2DBackpropFilter",
    { x, dy },
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;
}

/**
 * act(convTranspose(x, filter, stride, 'same') + b): x [B, H, W, Cin], filter [h, w, Cout, Cin]
 * -> [B, H * stride, W * stride, Cout]. Forward: the transposed convolution, then one pass of
 * bias and activation; backward: {@linkcode activationGrad}, then the input's gradient, a
 * convolution of dz, and the filter's, with the roles of image and gradient swapped: both read
 * rows(dz) where the backend has im2row.
 */
export function conv2dTranspose(x: tf.Tensor4D, layer: ConvLayer): tf.Tensor4D {
  const { stride } = layer;
  const activation = layer.activation ?? "linear";
  const strides: [number, number] = [stride, stride];
  const viaPatches = hasKernel(IM2ROW_KERNEL);
  return customOp<tf.Tensor4D>(([x, filter, bias], save) => {
    const xs = x as tf.Tensor4D;
    const f = filter as tf.Tensor4D;
    const [batch, height, width, cIn] = xs.shape;
    const outShape: [number, number, number, number] = [
      batch,
      height * stride,
      width * stride,
      f.shape[2],
    ];
    const convolved = tf.conv2dTranspose(xs, f, outShape, strides, "same");
    const y = biasActivation(convolved, bias as tf.Tensor1D, activation);
    convolved.dispose();
    save([xs, f, y]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [sx, sf, sy] = saved as tf.Tensor4D[];
        const { dz, dBias } = activationGrad(dy, sy, activation);
        if (!viaPatches) {
          return [tf.conv2d(dz, sf, strides, "same"), filterGrad(dz, sx, sf.shape, strides), dBias];
        }
        const rows = patches(dz, sf.shape, stride); // [B * H * W, h * w * Cout]
        const dx = tf.reshape(tf.matMul(rows, tf.reshape(sf, [-1, cIn])), sx.shape);
        const dFilter = tf.reshape(
          tf.matMul(rows, tf.reshape(sx, [-1, cIn]), true, false),
          sf.shape,
        );
        return [dx, dFilter, dBias];
      },
    };
  })(x, layer.filter, layer.bias);
}

/**
 * The convolutional encoders' first two layers: images x [B, 784] -> conv 3x3/2 (32) -> ReLU ->
 * conv 3x3/2 (64) -> ReLU -> [B, 7, 7, 64]. `layers` holds each layer's [filter, bias].
 */
export function encoderConvs(x: tf.Tensor2D, layers: tf.Variable[][]): tf.Tensor4D {
  const [c1, c2] = layers;
  const image = tf.reshape(x, [-1, IMAGE_SIDE, IMAGE_SIDE, 1]) as tf.Tensor4D; // [B, 28, 28, 1]
  const h1 = conv2d(image, {
    filter: c1[0],
    bias: c1[1],
    stride: 2,
    activation: "relu",
    inputGradient: false,
  }); // [B, 14, 14, 32]
  return conv2d(h1, { filter: c2[0], bias: c2[1], stride: 2, activation: "relu" }); // [B, 7, 7, 64]
}

/**
 * The convolutional decoders' last two layers: a grid [B, 7, 7, C] -> transposed conv 3x3/2 (32)
 * -> ReLU -> transposed conv 3x3/2 (1) -> logits [B, 784]. `layers` holds each [filter, bias].
 */
export function decoderDeconvs(grid: tf.Tensor4D, layers: tf.Variable[][]): tf.Tensor2D {
  const [t1, t2] = layers;
  const up1 = conv2dTranspose(grid, {
    filter: t1[0],
    bias: t1[1],
    stride: 2,
    activation: "relu",
  }); // [B, 14, 14, 32]
  const up2 = conv2dTranspose(up1, { filter: t2[0], bias: t2[1], stride: 2 }); // [B, 28, 28, 1]
  return tf.reshape(up2, [-1, IMAGE_SIDE * IMAGE_SIDE]) as tf.Tensor2D;
}
