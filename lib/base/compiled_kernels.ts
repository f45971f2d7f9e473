/**
 * Our compiled kernels (`kernels.c`, built into `kernels_wasm.ts`) as TensorFlow.js wasm kernel
 * functions: the matrix product behind `BatchMatMul` and `_FusedMatMul`, and one Adam step.
 * `wasm_kernels.ts` registers them.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { KERNELS_WASM } from "./kernels_wasm.ts";

type Info = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** Our compiled kernels, bound to one backend's memory, with a scratch buffer on its heap. */
interface Kernels {
  gemm: (...args: number[]) => void;
  adam: (...args: number[]) => void;
  /** Byte offset and size of the buffer `gemm` packs B into. */
  scratch: { offset: number; bytes: number };
}

type Module = BackendWasm["wasm"] & {
  asm: { memory: WebAssembly.Memory };
  _malloc(bytes: number): number;
  _free(offset: number): void;
};

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<BackendWasm, Kernels>();

/** The kernels instantiated on `backend`'s memory (once per backend). */
function kernels(backend: BackendWasm): Kernels {
  let found = instances.get(backend);
  if (found) return found;
  compiled ??= new WebAssembly.Module(Uint8Array.from(atob(KERNELS_WASM), (c) => c.charCodeAt(0)));
  const memory = (backend.wasm as Module).asm.memory;
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  found = {
    gemm: instance.exports.gemm as Kernels["gemm"],
    adam: instance.exports.adam as Kernels["adam"],
    scratch: { offset: 0, bytes: 0 },
  };
  instances.set(backend, found);
  return found;
}

/** A scratch buffer of at least `bytes` on the backend's heap (kept, grown when too small). */
function scratch(backend: BackendWasm, own: Kernels, bytes: number): number {
  if (own.scratch.bytes < bytes) {
    const module = backend.wasm as Module;
    const offset = module._malloc(bytes);
    if (offset === 0) throw new RangeError(`wasm heap: cannot allocate ${bytes} bytes`);
    if (own.scratch.bytes > 0) module._free(own.scratch.offset);
    own.scratch = { offset, bytes };
  }
  return own.scratch.offset;
}

/** Where a tensor's values start in the backend's memory, in bytes. */
function heapOffset(backend: BackendWasm, t: Info): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset;
}

// kernels.c's activation codes.
const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, leakyrelu: 2 };

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}

/**
 * act(op(a) op(b) + bias) for a [1, M, K] (or [1, K, M] transposed) and b [1, K, N] (or
 * [1, N, K]) float32, or the same without the leading 1, bias [N] or none; undefined for what
 * our product does not cover (a batch of matrices, other types, prelu, a broadcast bias), which
 * the native kernel computes.
 */
function ourMatMul(
  backend: BackendWasm,
  { a, b, bias }: { a: Info; b: Info; bias?: Info },
  attrs: MatMulAttrs,
): Info | undefined {
  const activation = ACTIVATIONS[attrs.activation ?? "linear"];
  const slope = attrs.leakyreluAlpha ?? 0.2;
  if (activation === undefined || (activation === 2 && !(slope >= 0 && slope < 1))) return;
  if (a.dtype !== "float32" || b.dtype !== "float32") return;
  // One matrix each: [rows, columns] or [1, rows, columns].
  const rank = a.shape.length;
  if (rank !== b.shape.length || (rank === 3 ? a.shape[0] !== 1 || b.shape[0] !== 1 : rank !== 2)) {
    return;
  }
  const [a0, a1] = a.shape.slice(-2);
  const [b0, b1] = b.shape.slice(-2);
  const [m, k] = attrs.transposeA ? [a1, a0] : [a0, a1];
  const [kB, n] = attrs.transposeB ? [b1, b0] : [b0, b1];
  if (k !== kB || k === 0 || m === 0 || n === 0) return;
  if (bias && (bias.dtype !== "float32" || bias.shape.join() !== String(n))) return;
  const own = kernels(backend);
  const packed = scratch(backend, own, k * Math.ceil(n / 8) * 8 * 4);
  const out = backend.makeOutput(rank === 3 ? [1, m, n] : [m, n], "float32");
  own.gemm(
    heapOffset(backend, a),
    heapOffset(backend, b),
    heapOffset(backend, out),
    bias ? heapOffset(backend, bias) : 0,
    packed,
    m,
    n,
    k,
    attrs.transposeA ? 1 : 0,
    attrs.transposeB ? 1 : 0,
    activation,
    slope,
  );
  return out;
}

/** Our product where it applies, else `native` (which must then exist). */
function withFallback(
  args: KernelArgs,
  native: tf.KernelFunc | undefined,
  inputs: { a: Info; b: Info; bias?: Info },
  attrs: MatMulAttrs,
  name: string,
): Info {
  const out = ourMatMul(args.backend as BackendWasm, inputs, attrs);
  if (out) return out;
  if (native === undefined) throw new RangeError(`${name} on wasm: no kernel for these inputs`);
  return native(args as Parameters<tf.KernelFunc>[0]) as Info;
}

/** `BatchMatMul` (a, b; transposeA, transposeB): ours for one matrix, else `native`. */
export function batchMatMul(args: KernelArgs, native: tf.KernelFunc | undefined): Info {
  const { a, b } = args.inputs as { a: Info; b: Info };
  return withFallback(args, native, { a, b }, args.attrs as unknown as MatMulAttrs, "BatchMatMul");
}

/** `_FusedMatMul` (a, b, bias, prelu weights; activation): ours without prelu, else `native`. */
export function fusedMatMul(args: KernelArgs, native: tf.KernelFunc | undefined): Info {
  const { a, b, bias, preluActivationWeights } = args.inputs as {
    a: Info;
    b: Info;
    bias?: Info;
    preluActivationWeights?: Info;
  };
  const attrs = args.attrs as unknown as MatMulAttrs;
  // prelu (a weight per output) is left to the native kernel.
  const covered = preluActivationWeights === undefined ? attrs : { ...attrs, activation: "prelu" };
  return withFallback(args, native, { a, b, bias }, covered, "_FusedMatMul");
}

/** The name of our Adam kernel: {@linkcode AdamAttrs}, inputs w, g, m, v -> [w', m', v']. */
export const ADAM_KERNEL = "VaelabAdam";

/** One Adam step's constants (step t from 1), as the Adam kernel takes them. */
export interface AdamAttrs {
  /** lr / (1 - beta1^t). */
  stepSize: number;
  /** 1 / sqrt(1 - beta2^t). */
  root: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Gradient scale (clipping); 1 leaves it. */
  scale: number;
}

/**
 * One Adam step for a variable, in one SIMD pass over the wasm heap: w' = w - stepSize m' /
 * (sqrt(v') root + epsilon), with m', v' the moments updated with g * scale. float32 inputs of
 * one shape; three new tensors out, so nothing a cached native operator packed is overwritten.
 */
export function adamKernel(args: KernelArgs): Info[] {
  const backend = args.backend as BackendWasm;
  const { w, g, m, v } = args.inputs as { w: Info; g: Info; m: Info; v: Info };
  const attrs = args.attrs as unknown as AdamAttrs;
  for (const t of [g, m, v]) {
    if (t.shape.join() !== w.shape.join() || t.dtype !== "float32" || w.dtype !== "float32") {
      throw new RangeError(
        `${ADAM_KERNEL}: w, g, m, v must be float32 of one shape; got [${w.shape}] ${w.dtype} ` +
          `and [${t.shape}] ${t.dtype}`,
      );
    }
  }
  const own = kernels(backend);
  const outs = [0, 1, 2].map(() => backend.makeOutput(w.shape, "float32"));
  own.adam(
    ...[w, g, m, v, ...outs].map((t) => heapOffset(backend, t)),
    tf.util.sizeFromShape(w.shape),
    attrs.stepSize,
    attrs.root,
    attrs.beta1,
    attrs.beta2,
    attrs.epsilon,
    attrs.scale,
  );
  return outs;
}
