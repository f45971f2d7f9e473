/**
 * Convolutions on the wasm backend as one matrix product each, in a layout that needs no
 * transpose: `im2row` (kernels.c) writes one row per output pixel (n, y, x) holding the input
 * patch it sees, columns (i, j, c), so that for an NHWC image x, a filter W [fh, fw, C, Cout]
 * read as [fh * fw * C, Cout] and its output y [N * oh * ow, Cout]:
 *
 * - `Conv2D` and `FusedConv2D`: y = rows(x) W (+ bias, activation);
 * - `Conv2DBackpropFilter`: dW = rows(x)^T dy;
 * - `Conv2DBackpropInput` (also the forward pass of a transposed convolution): dx =
 *   row2im(dy W^T), row2im being im2row's adjoint (kernels.c).
 *
 * The products run `product()` (the system's BLAS, or our wasm gemm), the copies run in wasm.
 * Cases outside NHWC float32 with dilation 1 go to the native kernels (`Conv2DBackpropFilter`,
 * which tfjs-wasm lacks, takes NCHW through two transposes).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { ACTIVATIONS, compiled, heapOffset, type KernelArgs, product } from "./compiled_kernels.ts";

type Info = tf.TensorInfo;
type Shape4 = [number, number, number, number];
type ConvInfo = tf.backend_util.Conv2DInfo;

/** Run another wasm kernel on backend data directly; its output is ours to dispose. */
export function run(
  backend: BackendWasm,
  name: string,
  inputs: tf.NamedTensorInfoMap | Info[],
  attrs: tf.NamedAttrMap = {},
): Info {
  // Kernels call kernels (as tfjs-backend-wasm's own do) rather than public ops, so no engine
  // tensors, tape entries or profiler records are made for the intermediates.
  const kernel = tf.getKernel(name, "wasm");
  if (kernel === undefined) throw new Error(`wasm backend has no "${name}" kernel`);
  return kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend, attrs }) as Info;
}

function isOne(value: number | [number, number] | undefined): boolean {
  return value === undefined || (Array.isArray(value) ? value.every((v) => v === 1) : value === 1);
}

/** The arguments kernels.c's im2row and row2im take after their two buffers. */
function geometry(info: ConvInfo): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.outHeight,
    info.outWidth,
  ];
}

/** Rows of the product and columns of a patch: [N * oh * ow, fh * fw * C]. */
function patchShape(info: ConvInfo): [number, number] {
  return [
    info.batchSize * info.outHeight * info.outWidth,
    info.filterHeight * info.filterWidth * info.inChannels,
  ];
}

/** im2row(x) as a new [M, K] buffer on the heap (the caller disposes it). */
function rowsOf(backend: BackendWasm, x: Info, info: ConvInfo): Info {
  const rows = backend.makeOutput(patchShape(info), "float32");
  compiled(backend).im2row(heapOffset(backend, x), heapOffset(backend, rows), ...geometry(info));
  return rows;
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: "same" | "valid" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
  activation?: string;
  leakyreluAlpha?: number;
}

function convInfo(inShape: number[], filterShape: number[], attrs: ConvAttrs): ConvInfo {
  return tf.backend_util.computeConv2DInfo(
    inShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    1,
    attrs.pad as "same",
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
}

/**
 * `Conv2D` and `FusedConv2D` (x, filter, bias?; activation linear, relu or leaky relu): ours for
 * NHWC float32 with dilation 1, a bias of one value per channel and no prelu; else `native`.
 */
export function conv2d(args: KernelArgs, native: tf.KernelFunc | undefined): Info {
  const backend = args.backend as BackendWasm;
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, Info>;
  const attrs = (args.attrs ?? {}) as unknown as ConvAttrs;
  const activation = ACTIVATIONS[attrs.activation ?? "linear"];
  const alpha = attrs.leakyreluAlpha ?? 0.2;
  const cOut = filter.shape[3];
  const covered = (attrs.dataFormat ?? "NHWC") === "NHWC" && isOne(attrs.dilations) &&
    x.dtype === "float32" && filter.dtype === "float32" && preluActivationWeights === undefined &&
    activation !== undefined && (bias === undefined || bias.shape.join() === String(cOut));
  if (!covered) return fallback("Conv2D", args, native);
  const info = convInfo(x.shape, filter.shape, attrs);
  const [m, k] = patchShape(info);
  const rows = rowsOf(backend, x, info);
  try {
    const out = backend.makeOutput(info.outShape, "float32");
    product(backend, {
      a: heapOffset(backend, rows),
      b: heapOffset(backend, filter),
      c: heapOffset(backend, out),
      bias: bias ? heapOffset(backend, bias) : 0,
      m,
      n: cOut,
      k,
      transA: false,
      transB: false,
      activation,
      alpha,
    });
    return out;
  } finally {
    backend.disposeData(rows.dataId);
  }
}

/** dW [fh, fw, C, Cout] = rows(x)^T dy, for NHWC (NCHW through transposes), dilation 1. */
export function conv2dBackpropFilter(args: KernelArgs): Info {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = (args.attrs ?? {}) as unknown as ConvAttrs & { filterShape: Shape4 };
  if (!isOne(attrs.dilations)) {
    throw new RangeError(
      `Conv2DBackpropFilter on wasm supports dilation 1 only; got ${
        JSON.stringify(attrs.dilations)
      }`,
    );
  }
  if (x.dtype !== "float32" || dy.dtype !== "float32") {
    throw new TypeError(`Conv2DBackpropFilter needs float32 x and dy; got ${x.dtype}, ${dy.dtype}`);
  }
  const temps: Info[] = [];
  const temp = (t: Info): Info => (temps.push(t), t);
  try {
    const toNhwc = (t: Info) => temp(run(backend, "Transpose", { x: t }, { perm: [0, 2, 3, 1] }));
    const nchw = attrs.dataFormat === "NCHW";
    const xs = nchw ? toNhwc(x) : x;
    const dys = nchw ? toNhwc(dy) : dy;
    const info = convInfo(xs.shape, attrs.filterShape, attrs);
    const [m, k] = patchShape(info);
    const cOut = info.outChannels;
    const expected = [info.batchSize, info.outHeight, info.outWidth, cOut];
    if (dys.shape.join() !== expected.join()) {
      const shape = nchw ? [dy.shape[0], cOut, info.outHeight, info.outWidth] : expected;
      throw new RangeError(
        `Conv2DBackpropFilter: dy must have shape [${shape}]; got [${dy.shape}]`,
      );
    }
    const rows = temp(rowsOf(backend, xs, info));
    const dw = backend.makeOutput(attrs.filterShape, "float32");
    product(backend, {
      a: heapOffset(backend, rows),
      b: heapOffset(backend, dys),
      c: heapOffset(backend, dw),
      bias: 0,
      m: k,
      n: cOut,
      k: m,
      transA: true,
      transB: false,
      activation: 0,
      alpha: 0,
    });
    return dw;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/**
 * dx = row2im(dy W^T) (NHWC; `Conv2DBackpropInput` with tfjs-backend-cpu's semantics). NCHW,
 * other types and a `dy` whose shape differs from the one `inputShape` implies (tfjs-cpu then
 * reads only its top-left part) go to `native`.
 */
export function conv2dBackpropInput(args: KernelArgs, native: tf.KernelFunc | undefined): Info {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = (args.attrs ?? {}) as unknown as ConvAttrs & { inputShape: Shape4 };
  const nhwc = (attrs.dataFormat ?? "NHWC") === "NHWC";
  const info = nhwc ? convInfo(attrs.inputShape, filter.shape, attrs) : undefined;
  const supported = info !== undefined && dy.dtype === "float32" &&
    filter.dtype === "float32" &&
    dy.shape.join() === [info.batchSize, info.outHeight, info.outWidth, info.outChannels].join();
  if (!supported) return fallback("Conv2DBackpropInput", args, native);
  const [m, k] = patchShape(info);
  const columns = backend.makeOutput([m, k], "float32");
  try {
    product(backend, {
      a: heapOffset(backend, dy),
      b: heapOffset(backend, filter),
      c: heapOffset(backend, columns),
      bias: 0,
      m,
      n: k,
      k: info.outChannels,
      transA: false,
      transB: true,
      activation: 0,
      alpha: 0,
    });
    const dx = backend.makeOutput(info.inShape, "float32");
    compiled(backend).row2im(
      heapOffset(backend, columns),
      heapOffset(backend, dx),
      ...geometry(info),
    );
    return dx;
  } finally {
    backend.disposeData(columns.dataId);
  }
}

/**
 * Inputs x [N, H, W, C] (NHWC float32); attrs filterShape [h, w, ...], strides and pad ->
 * rows(x) [N * oh * ow, h * w * C]: the patch matrix a convolution multiplies by its filter.
 */
export const IM2ROW_KERNEL = "VaelabIm2Row";

/** {@linkcode IM2ROW_KERNEL}'s kernel function. */
export function im2rowKernel(args: KernelArgs): Info {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: Info };
  const attrs = (args.attrs ?? {}) as unknown as ConvAttrs & { filterShape: number[] };
  if (x.dtype !== "float32" || x.shape.length !== 4) {
    throw new TypeError(`${IM2ROW_KERNEL} needs a float32 NHWC image; got ${x.dtype} [${x.shape}]`);
  }
  const [h, w] = attrs.filterShape;
  return rowsOf(backend, x, convInfo(x.shape, [h, w, x.shape[3], 1], attrs));
}

/**
 * `MaxPoolGrad` (dy, input, output; filterSize, strides, pad, dimRoundingMode): ours for float32,
 * one pass over each window on the heap (kernels.c's max_pool_grad); else `native`, a direct
 * loop about 20 times slower on the digit classifier's pools.
 */
export function maxPoolGrad(args: KernelArgs, native: tf.KernelFunc | undefined): Info {
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs as { dy: Info; input: Info };
  const attrs = (args.attrs ?? {}) as unknown as tf.MaxPoolGradAttrs;
  if (dy.dtype !== "float32" || input.dtype !== "float32") {
    return fallback("MaxPoolGrad", args, native);
  }
  const info = tf.backend_util.computePool2DInfo(
    input.shape as Shape4,
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const dx = backend.makeOutput(input.shape, "float32");
  compiled(backend).max_pool_grad(
    heapOffset(backend, dy),
    heapOffset(backend, input),
    heapOffset(backend, dx),
    ...geometry(info),
  );
  return dx;
}

function fallback(name: string, args: KernelArgs, native: tf.KernelFunc | undefined): Info {
  if (native === undefined) {
    throw new RangeError(`${name} on wasm: no kernel for these inputs`);
  }
  return native(args as Parameters<tf.KernelFunc>[0]) as Info;
}
