/**
 * Kernels for the wasm backend of TensorFlow.js 4.22: convolution kernels written in terms of
 * the backend's kernels, and the registration of ours, compiled ones included
 * (`compiled_kernels.ts`).
 *
 * `BatchMatMul` and `_FusedMatMul` (one matrix, float32) run our product, which reads a
 * transposed operand at full speed: the native one runs XNNPACK only without transposes (and
 * on one thread whatever the thread count), and a direct loop, 10-15x slower, otherwise.
 *
 * `Conv2DBackpropFilter` is missing there: without it `tf.grad` through `tf.conv2d` and through
 * `tf.conv2dTranspose` (whose filter gradient is the same kernel) throws on wasm.
 * `Conv2DBackpropInput` (the forward pass of `tf.conv2dTranspose`, the input gradient of
 * `tf.conv2d`) exists but is a direct loop ~10x slower than `Conv2D` on the same layer; ours
 * replaces it and hands the cases it does not cover back to it.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { ADAM_KERNEL, adamKernel, batchMatMul, fusedMatMul } from "./compiled_kernels.ts";

type Info = tf.TensorInfo;
type Padding = tf.Conv2DBackpropFilterAttrs["pad"];
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

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
 * tap at batch 64, so slicing tap by tap was 20x slower), then one matMul
 * `[fh*fw*C, M] x [M, Cout]`: with the taps as rows neither operand needs a transpose.
 */
function conv2dBackpropFilter(args: KernelArgs): Info {
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

/**
 * Add the rows of `col` `[N*oh*ow, fh*fw*C]` back into the zeroed NHWC image `dx`: row (n, y, x),
 * column (i, j, c) adds to dx[n, y*sh + i - top, x*sw + j - left, c] when that lies inside.
 */
function col2im(col: Float32Array, dx: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize: n, inChannels: c, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } =
    info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  let k = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let i = 0; i < fh; i++) {
          const iy = oy * sh + i - top;
          if (iy < 0 || iy >= h) {
            k += fw * c;
            continue;
          }
          const row = (b * h + iy) * w;
          for (let j = 0; j < fw; j++) {
            const ix = ox * sw + j - left;
            if (ix < 0 || ix >= w) {
              k += c;
              continue;
            }
            const base = (row + ix) * c;
            for (let ch = 0; ch < c; ch++) dx[base + ch] += col[k++];
          }
        }
      }
    }
  }
}

/**
 * dx[n, y*sh + i - top, x*sw + j - left, c] += sum over o of dy[n, y, x, o] * W[i, j, c, o]
 * (NHWC; `Conv2DBackpropInput` with tfjs-backend-cpu's semantics).
 *
 * One matMul `[N*oh*ow, Cout] x [fh*fw*C, Cout]^T` (our product reads the transposed operand in
 * place), then one JS loop adding the columns back into the image. NCHW, non-float32 inputs and
 * a `dy` whose shape differs from the one `inputShape` implies (tfjs-cpu then reads only its
 * top-left part) go to `native`.
 */
function conv2dBackpropInput(args: KernelArgs, native: tf.KernelFunc | undefined): Info {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DBackpropInputAttrs;
  const channelsLast = (attrs.dataFormat ?? "NHWC") === "NHWC";
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    channelsLast ? "channelsLast" : "channelsFirst",
  );
  const { batchSize: n, inChannels: c, outChannels: cOut, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw } = info;
  const supported = channelsLast && dy.dtype === "float32" && filter.dtype === "float32" &&
    dy.shape.join() === [n, oh, ow, cOut].join();
  if (!supported) {
    if (native === undefined) {
      throw new RangeError(
        `Conv2DBackpropInput on wasm: no fallback for ${attrs.dataFormat} dy [${dy.shape}] ` +
          `${dy.dtype}, filter ${filter.dtype}, inputShape [${attrs.inputShape}]`,
      );
    }
    return native(args as Parameters<tf.KernelFunc>[0]) as Info;
  }
  const m = n * oh * ow;
  const k = fh * fw * c;
  const temps: Info[] = [];
  const temp = (t: Info): Info => (temps.push(t), t);
  let dx: Info | undefined;
  try {
    const w2 = temp(run(backend, "Reshape", { x: filter }, { shape: [1, k, cOut] }));
    const dy2 = temp(run(backend, "Reshape", { x: dy }, { shape: [1, m, cOut] }));
    const col = temp(run(backend, "BatchMatMul", { a: dy2, b: w2 }, {
      transposeA: false,
      transposeB: true,
    })); // [1, M, K]
    dx = backend.makeOutput(info.inShape, "float32");
    // Views taken after the last allocation: growing wasm memory detaches older ones.
    const dxValues = backend.typedArrayFromHeap(dx) as Float32Array;
    dxValues.fill(0); // fresh wasm memory is not zeroed
    col2im(backend.typedArrayFromHeap(col) as Float32Array, dxValues, info);
    return dx;
  } catch (error) {
    if (dx !== undefined) backend.disposeData(dx.dataId);
    throw error;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** Register `name` on wasm as our kernel unless a kernel of that name exists (a later tfjs's). */
function addKernel(name: string, kernelFunc: tf.KernelFunc): void {
  if (tf.getKernel(name, "wasm") !== undefined) return;
  OURS.add(kernelFunc);
  tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc });
}

/** Register `name` on wasm as our kernel, keeping the native one as its fallback. */
function replaceKernel(
  name: string,
  ours: (args: KernelArgs, native: tf.KernelFunc | undefined) => Info,
): void {
  const native = tf.getKernel(name, "wasm");
  if (native !== undefined && OURS.has(native.kernelFunc)) return;
  const kernelFunc = ((args: KernelArgs) => ours(args, native?.kernelFunc)) as tf.KernelFunc;
  OURS.add(kernelFunc);
  // registerKernel over an existing key only warns; unregister first to replace it quietly.
  if (native !== undefined) tf.unregisterKernel(name, "wasm");
  tf.registerKernel({
    kernelName: name,
    backendName: "wasm",
    kernelFunc,
    // Native kernels bind their wasm function in setupFunc, called by the engine on each
    // setBackend: keep it so the fallback works after a backend re-initialises.
    setupFunc: native?.setupFunc,
    disposeFunc: native?.disposeFunc,
  });
}

// Kernel functions registered by this module, so registering twice replaces nothing.
const OURS = new WeakSet<tf.KernelFunc>();

/**
 * Register on the wasm backend `Conv2DBackpropFilter` (unless a later tfjs ships one) and our
 * Adam step, and our `Conv2DBackpropInput`, `BatchMatMul` and `_FusedMatMul` in place of the
 * native ones, which stay reachable as their fallbacks. Idempotent.
 */
export function registerWasmKernels(): void {
  // A later tfjs may ship a native Conv2DBackpropFilter: keep it rather than replace it with ours.
  addKernel("Conv2DBackpropFilter", conv2dBackpropFilter as tf.KernelFunc);
  addKernel(ADAM_KERNEL, adamKernel as unknown as tf.KernelFunc);
  replaceKernel("Conv2DBackpropInput", conv2dBackpropInput);
  replaceKernel("BatchMatMul", batchMatMul);
  replaceKernel("_FusedMatMul", fusedMatMul);
}

/** The wasm kernels that run this module's code now, e.g. `["BatchMatMul", ...]`. */
export function ourWasmKernels(): string[] {
  const names = [
    "Conv2DBackpropFilter",
    "Conv2DBackpropInput",
    "BatchMatMul",
    "_FusedMatMul",
    ADAM_KERNEL,
  ];
  return names.filter((name) => {
    const kernel = tf.getKernel(name, "wasm");
    return kernel !== undefined && OURS.has(kernel.kernelFunc);
  });
}
