/**
 * The registration of our kernels on the wasm backend of TensorFlow.js 4.22.
 *
 * - Products: `BatchMatMul` and `_FusedMatMul` (one matrix, float32) run `product()`: the
 *   system's BLAS through FFI where one loads, else our wasm SIMD product, which reads a
 *   transposed operand at full speed (the native one runs XNNPACK only without transposes, and
 *   a direct loop, 10-15x slower, otherwise). `compiled_kernels.ts`.
 * - Convolutions as one product each: `Conv2D`, `FusedConv2D`, `Conv2DBackpropInput` and
 *   `Conv2DBackpropFilter` (missing from tfjs-wasm: without it `tf.grad` through `tf.conv2d` and
 *   `tf.conv2dTranspose` throws), and max pooling's gradient. `conv_kernels.ts`.
 * - Fused elementwise work (the Bernoulli likelihood and its gradient, an activation's gradient
 *   with its bias gradient, bias and activation), `Identity` without a copy
 *   (`fused_kernels.ts`), one Adam step (`compiled_kernels.ts`), and the whole gradient of the
 *   MLP and the conv VAE on a batch (`mlp_vae_kernel.ts`, `conv_vae_kernel.ts`).
 *
 * Native kernels we replace stay reachable as the fallbacks of cases ours do not cover.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  ADAM_KERNEL,
  adamKernel,
  batchMatMul,
  fusedMatMul,
  type KernelArgs,
  productInfo,
} from "./compiled_kernels.ts";
import {
  conv2d,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  IM2ROW_KERNEL,
  im2rowKernel,
  maxPoolGrad,
} from "./conv_kernels.ts";
import { FUSED_KERNELS, identity } from "./fused_kernels.ts";
import { CONV_VAE_GRADIENTS_KERNEL, convVaeGradients } from "./conv_vae_kernel.ts";
import { MLP_VAE_GRADIENTS_KERNEL, mlpVaeGradients } from "./mlp_vae_kernel.ts";

type Info = tf.TensorInfo;

/** Register `name` on wasm as our kernel unless a kernel of that name exists (a later tfjs's). */
function addKernel(name: string, kernelFunc: tf.KernelFunc): void {
  if (tf.getKernel(name, "wasm") !== undefined) return;
  OURS.add(kernelFunc);
  tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc });
}

/** Register `name` on wasm as our kernel, keeping the native one as its fallback. */
function replaceKernel(
  name: string,
  ours: (args: KernelArgs, native: tf.KernelFunc | undefined) => Info | Info[],
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

/** The native kernels ours replace (each keeps the native one as its fallback). */
const REPLACED = [
  "BatchMatMul",
  "_FusedMatMul",
  "Conv2D",
  "FusedConv2D",
  "Conv2DBackpropInput",
  "Identity",
  "MaxPoolGrad",
] as const;

/**
 * Find this thread's product (the system's BLAS or our wasm one: `productInfo()`), then register
 * our kernels on the wasm backend: new ones unless a later tfjs ships them, and ours in place of
 * {@linkcode REPLACED}'s native ones, which stay reachable as their fallbacks. Idempotent.
 */
export function registerWasmKernels(): void {
  productInfo();
  // A later tfjs may ship a native Conv2DBackpropFilter: keep it rather than replace it with ours.
  addKernel("Conv2DBackpropFilter", conv2dBackpropFilter as tf.KernelFunc);
  addKernel(ADAM_KERNEL, adamKernel as unknown as tf.KernelFunc);
  for (const [name, kernel] of Object.entries(FUSED_KERNELS)) addKernel(name, kernel);
  addKernel(MLP_VAE_GRADIENTS_KERNEL, mlpVaeGradients as unknown as tf.KernelFunc);
  addKernel(CONV_VAE_GRADIENTS_KERNEL, convVaeGradients as unknown as tf.KernelFunc);
  addKernel(IM2ROW_KERNEL, im2rowKernel as tf.KernelFunc);
  replaceKernel("BatchMatMul", batchMatMul);
  replaceKernel("_FusedMatMul", fusedMatMul);
  replaceKernel("Conv2D", conv2d);
  replaceKernel("FusedConv2D", conv2d);
  replaceKernel("Conv2DBackpropInput", conv2dBackpropInput);
  replaceKernel("MaxPoolGrad", maxPoolGrad);
  replaceKernel("Identity", (args, native) => {
    const { x } = args.inputs as { x: Info };
    return x.dtype === "string"
      ? native!(args as Parameters<tf.KernelFunc>[0]) as Info
      : identity(args);
  });
}

/** The wasm kernels that run this module's code now, e.g. `["BatchMatMul", ...]`. */
export function ourWasmKernels(): string[] {
  const names = [
    "Conv2DBackpropFilter",
    ...REPLACED,
    ADAM_KERNEL,
    MLP_VAE_GRADIENTS_KERNEL,
    CONV_VAE_GRADIENTS_KERNEL,
    IM2ROW_KERNEL,
    ...Object.keys(FUSED_KERNELS),
  ];
  return names.filter((name) => {
    const kernel = tf.getKernel(name, "wasm");
    return kernel !== undefined && OURS.has(kernel.kernelFunc);
  });
}
