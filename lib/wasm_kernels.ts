/**
 * Kernels the wasm backend of TensorFlow.js 4.22 lacks, written in terms of kernels it has.
 *
 * Only `Conv2DBackpropFilter` so far: without it `tf.grad` through `tf.conv2d` and through
 * `tf.conv2dTranspose` (whose filter gradient is the same kernel) throws on wasm.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

type Info = tf.TensorInfo;
type Padding = tf.Conv2DBackpropFilterAttrs["pad"];

/** Run another wasm kernel on backend data directly; its output is ours to dispose. */
function run(
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

/**
 * Write the im2col matrix `[fh*fw*C, N*oh*ow]` of `x` into `col`: row (i, j, c), column
 * (n, y, x) holds x[n, y*sh + i - top, x*sw + j - left, c], 0 in the padding.
 */
function im2col(x: Float32Array, col: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize: n, inChannels: c, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } =
    info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // Element strides of x for (n, c, row, column), so one loop serves NHWC and NCHW.
  const [sN, sC, sH, sW] = info.dataFormat === "channelsLast"
    ? [h * w * c, 1, w * c, c]
    : [c * h * w, h * w, w, 1];
  let k = 0;
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      // Output columns whose input column ox*sw + j - left lies inside [0, w).
      const x0 = Math.min(ow, Math.max(0, Math.ceil((left - j) / sw)));
      const x1 = Math.max(x0, Math.min(ow, Math.floor((w - 1 + left - j) / sw) + 1));
      for (let ch = 0; ch < c; ch++) {
        for (let b = 0; b < n; b++) {
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * sh + i - top;
            if (iy < 0 || iy >= h) {
              col.fill(0, k, k + ow);
              k += ow;
              continue;
            }
            const base = b * sN + ch * sC + iy * sH + (j - left) * sW;
            const step = sw * sW;
            for (let ox = 0; ox < x0; ox++) col[k++] = 0;
            for (let ox = x0; ox < x1; ox++) col[k++] = x[base + ox * step];
            for (let ox = x1; ox < ow; ox++) col[k++] = 0;
          }
        }
      }
    }
  }
}

/**
 * dW[i, j, c, o] = sum over (n, y, x) of x[n, y*sh + i - top, x*sw + j - left, c] * dy[n, y, x, o].
 *
 * im2col written straight into wasm memory by one JS loop (wasm's StridedSlice takes ~10 ms per
 * tap at batch 64, so slicing tap by tap was 20x slower), then one plain matMul
 * `[fh*fw*C, M] x [M, Cout]`: plain, because on wasm `matMul` with a transposed operand is ~15x
 * slower, and with the taps as rows neither operand needs a transpose.
 */
function conv2dBackpropFilter(
  args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
): Info {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DBackpropFilterAttrs & {
    dilations?: number | [number, number];
  };
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
  const channelsLast = (attrs.dataFormat ?? "NHWC") === "NHWC";
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad as Padding,
    attrs.dimRoundingMode,
    false,
    channelsLast ? "channelsLast" : "channelsFirst",
  );
  const { batchSize: n, inChannels: c, outChannels: cOut, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw } = info;
  const expected = channelsLast ? [n, oh, ow, cOut] : [n, cOut, oh, ow];
  if (dy.shape.join() !== expected.join()) {
    throw new RangeError(
      `Conv2DBackpropFilter: dy must have shape [${expected}]; got [${dy.shape}]`,
    );
  }
  const m = n * oh * ow;
  const temps: Info[] = [];
  const temp = (t: Info): Info => (temps.push(t), t);
  try {
    const col = temp(backend.makeOutput([fh * fw * c, m], "float32"));
    // Views taken after the last allocation: growing wasm memory detaches older ones.
    im2col(
      backend.typedArrayFromHeap(x) as Float32Array,
      backend.typedArrayFromHeap(col) as Float32Array,
      info,
    );
    const dyNhwc = channelsLast
      ? dy
      : temp(run(backend, "Transpose", { x: dy }, { perm: [0, 2, 3, 1] }));
    const dy2 = temp(run(backend, "Reshape", { x: dyNhwc }, { shape: [m, cOut] }));
    const dw = temp(run(backend, "BatchMatMul", { a: col, b: dy2 }, {
      transposeA: false,
      transposeB: false,
    })); // [fh*fw*C, Cout]
    return run(backend, "Reshape", { x: dw }, { shape: [fh, fw, c, cOut] });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** Register on the wasm backend the kernels it lacks (idempotent; native kernels win). */
export function registerWasmKernels(): void {
  // A later tfjs may ship a native kernel: keep it rather than replace it with ours.
  if (tf.getKernel("Conv2DBackpropFilter", "wasm") !== undefined) return;
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: conv2dBackpropFilter as tf.KernelFunc,
  });
}
