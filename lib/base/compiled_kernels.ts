/**
 * Our compiled kernels (`kernels.c`, built into `kernels_wasm.ts`) bound to the wasm backend's
 * memory, and the matrix product every product-shaped kernel runs: the system's BLAS through FFI
 * where one loads (`blas.ts`), our wasm SIMD `gemm` otherwise. Here as TensorFlow.js kernel
 * functions: `BatchMatMul`, `_FusedMatMul` and one Adam step; `conv_kernels.ts` and
 * `fused_kernels.ts` hold the others, `wasm_kernels.ts` registers them all.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { type Blas, findBlas, memoryAddress, type ProductInfo } from "./blas.ts";
import { KERNELS_WASM } from "./kernels_wasm.ts";

type Info = tf.TensorInfo;
/** A kernel function's argument, as TensorFlow.js passes it. */
export type KernelArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
};

/** The functions `kernels.c` exports, on byte offsets into the backend's memory. */
export interface Compiled {
  gemm: (...args: number[]) => void;
  adam: (...args: number[]) => number;
  bias_act: (...args: number[]) => void;
  activation_grad: (...args: number[]) => void;
  im2row: (...args: number[]) => void;
  row2im: (...args: number[]) => void;
  bernoulli_ll: (...args: number[]) => void;
  bernoulli_grad: (...args: number[]) => void;
  sum_squares: (x: number, x1: number, a: number, b: number, n: number) => number;
  reparam: (...args: number[]) => void;
  reparam_grad: (...args: number[]) => void;
  gaussian_kl: (...args: number[]) => void;
  gaussian_kl_grad: (...args: number[]) => void;
  latent_forward: (...args: number[]) => void;
  latent_backward: (...args: number[]) => void;
  bernoulli_fused: (...args: number[]) => void;
  pixel_fused: (...args: number[]) => void;
  max_pool_grad: (...args: number[]) => void;
  batch_norm: (...args: number[]) => void;
  batch_norm_grad: (...args: number[]) => void;
}

/** Our compiled kernels, bound to one backend's memory, with a scratch buffer on its heap. */
interface Kernels {
  compiled: Compiled;
  memory: WebAssembly.Memory;
  /** Byte offset and size of the buffer `gemm` packs B into. */
  scratch: { offset: number; bytes: number };
}

type Module = BackendWasm["wasm"] & {
  asm: { memory: WebAssembly.Memory };
  _malloc(bytes: number): number;
  _free(offset: number): void;
};

let compiledModule: WebAssembly.Module | undefined;
const instances = new WeakMap<BackendWasm, Kernels>();

/** The kernels instantiated on `backend`'s memory (once per backend). */
function kernels(backend: BackendWasm): Kernels {
  let found = instances.get(backend);
  if (found) return found;
  compiledModule ??= new WebAssembly.Module(
    Uint8Array.from(atob(KERNELS_WASM), (c) => c.charCodeAt(0)),
  );
  const memory = (backend.wasm as Module).asm.memory;
  const instance = new WebAssembly.Instance(compiledModule, { env: { memory } });
  found = {
    compiled: instance.exports as unknown as Compiled,
    memory,
    scratch: { offset: 0, bytes: 0 },
  };
  instances.set(backend, found);
  return found;
}

/** `kernels.c`'s functions on `backend`'s memory. */
export function compiled(backend: BackendWasm): Compiled {
  return kernels(backend).compiled;
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
export function heapOffset(backend: BackendWasm, t: Info): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset;
}

let found: { blas?: Blas; info: ProductInfo } | undefined;
let forcedWasm = false;

/**
 * Run `f` with our wasm product even where a BLAS is loaded, so that tests and benchmarks can
 * compare the two products in one process.
 */
export function withWasmProduct<T>(f: () => T): T {
  const before = forcedWasm;
  forcedWasm = true;
  try {
    return f();
  } finally {
    forcedWasm = before;
  }
}

/**
 * What computes the wasm backend's matrix products in this thread: the system's BLAS, or our
 * wasm kernels and why. Found once per thread, as `VAELAB_BLAS` asks (`blas.ts`), by
 * `initBackend()` or at the first product.
 * @example
 * ```ts
 * await initBackend();
 * productInfo().product; // "openblas"
 * ```
 */
export function productInfo(): ProductInfo {
  found ??= findBlas();
  return found.info;
}

/**
 * What computes the current backend's matrix products, in a word: `openblas`, `accelerate` or
 * `blas` (the system's, on wasm), `wasm` (our kernels), or the backend's name elsewhere (`cpu`,
 * `webgpu`). Recorded with every run.
 */
export function productName(): string {
  return tf.getBackend() === "wasm" ? productInfo().product : tf.getBackend();
}

/** One product C = act(op(A) op(B) + bias), every operand a byte offset into the heap. */
export interface ProductSpec {
  a: number;
  b: number;
  c: number;
  /** Bias [N], or 0. */
  bias: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  /** kernels.c's activation code: 0 linear, 1 relu, 2 leaky relu. */
  activation: number;
  /** Leaky relu's slope below 0. */
  alpha: number;
}

/**
 * Compute `spec`'s product on `backend`'s heap: `sgemm` then, for a bias or an activation, one
 * pass of `bias_act` when a BLAS is loaded; our wasm `gemm`, which fuses both, otherwise.
 */
export function product(backend: BackendWasm, spec: ProductSpec): void {
  const own = kernels(backend);
  const blas = forcedWasm ? undefined : (found ?? (productInfo(), found!)).blas;
  const { a, b, c, bias, m, n, k, transA, transB, activation, alpha } = spec;
  if (blas) {
    // The address is read after the last allocation: growth moves nothing but replaces views.
    const base = memoryAddress(own.memory);
    blas.sgemm(transA, transB, m, n, k, base + a, base + b, 0, base + c);
    if (bias !== 0 || activation !== 0) own.compiled.bias_act(c, bias, m, n, activation, alpha);
    return;
  }
  const packed = scratch(backend, own, k * Math.ceil(n / 8) * 8 * 4);
  own.compiled.gemm(
    a,
    b,
    c,
    bias,
    packed,
    m,
    n,
    k,
    transA ? 1 : 0,
    transB ? 1 : 0,
    activation,
    alpha,
  );
}

// kernels.c's activation codes.
export const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, leakyrelu: 2 };

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
  const out = backend.makeOutput(rank === 3 ? [1, m, n] : [m, n], "float32");
  product(backend, {
    a: heapOffset(backend, a),
    b: heapOffset(backend, b),
    c: heapOffset(backend, out),
    bias: bias ? heapOffset(backend, bias) : 0,
    m,
    n,
    k,
    transA: attrs.transposeA,
    transB: attrs.transposeB,
    activation,
    alpha: slope,
  });
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

/**
 * The name of our Adam kernel: {@linkcode AdamAttrs}, inputs w, g, m, v (and g1, a second
 * shard's gradient) -> [w', m', v'].
 */
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
  /** With a second gradient g1: the gradient is a g + b g1 (each shard's share of the rows). */
  a?: number;
  b?: number;
}

let adamSquares = NaN;

/**
 * The sum of the squares (in float64) of the gradient the last Adam kernel applied, after its
 * scale: the step's share of the gradient's squared norm, without another pass. NaN before any.
 */
export function lastAdamSquares(): number {
  return adamSquares;
}

/**
 * One Adam step for a variable, in one SIMD pass over the wasm heap: w' = w - stepSize m' /
 * (sqrt(v') root + epsilon), with m', v' the moments updated with g * scale, or with
 * (a g + b g1) * scale given g1. float32 inputs of one shape; three new tensors out, so nothing a
 * tensor shares is overwritten.
 */
export function adamKernel(args: KernelArgs): Info[] {
  const backend = args.backend as BackendWasm;
  const { w, g, g1, m, v } = args.inputs as { w: Info; g: Info; g1?: Info; m: Info; v: Info };
  const attrs = args.attrs as unknown as AdamAttrs;
  for (const t of [g, m, v, ...(g1 ? [g1] : [])]) {
    if (t.shape.join() !== w.shape.join() || t.dtype !== "float32" || w.dtype !== "float32") {
      throw new RangeError(
        `${ADAM_KERNEL}: w, g, m, v must be float32 of one shape; got [${w.shape}] ${w.dtype} ` +
          `and [${t.shape}] ${t.dtype}`,
      );
    }
  }
  const outs = [0, 1, 2].map(() => backend.makeOutput(w.shape, "float32"));
  adamSquares = compiled(backend).adam(
    heapOffset(backend, w),
    heapOffset(backend, g),
    g1 ? heapOffset(backend, g1) : 0,
    ...[m, v, ...outs].map((t) => heapOffset(backend, t)),
    tf.util.sizeFromShape(w.shape),
    attrs.stepSize,
    attrs.root,
    attrs.beta1,
    attrs.beta2,
    attrs.epsilon,
    attrs.scale,
    attrs.a ?? 1,
    attrs.b ?? 0,
  );
  return outs;
}
