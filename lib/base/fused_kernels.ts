/**
 * Elementwise work fused into one pass each on the wasm backend (kernels.c), where TensorFlow.js
 * would run several ops, each a pass over memory and an engine call:
 *
 * - {@linkcode BERNOULLI_KERNEL}: log p(x | logits) per row, sum of x l - softplus(l);
 * - {@linkcode BERNOULLI_GRAD_KERNEL}: its gradient (x - sigmoid(l)) dy, row by row;
 * - {@linkcode ACTIVATION_GRAD_KERNEL}: a layer's dz = dy act'(y) and its bias gradient;
 * - {@linkcode BIAS_ACTIVATION_KERNEL}: act(x + bias) over the last axis;
 * - {@linkcode REPARAMETERIZE_KERNEL}, {@linkcode GAUSSIAN_KL_KERNEL} and their gradients: the
 *   latent layer of a VAE, z = mean + exp(logVar / 2) eps and KL(q(z | x) || N(0, I));
 * - {@linkcode BATCH_NORM_KERNEL} and its gradient: batch normalisation over every axis but the
 *   last, forward in one pass over the statistics and one over the values, backward in three;
 * - `Identity` without a copy (tfjs-wasm copies; a clone shares its values, as on `cpu`).
 *
 * The model code (`lib/model/`) calls them through `runKernel` where the backend has them and
 * runs the same formula with tf ops elsewhere.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { ACTIVATIONS, compiled, heapOffset, type KernelArgs } from "./compiled_kernels.ts";

type Info = tf.TensorInfo;

/** Inputs x, logits [B, D] -> [B]: sum_j x l - softplus(l). */
export const BERNOULLI_KERNEL = "VaelabBernoulli";
/** Inputs x, logits [B, D], dy [B] -> [B, D]: (x - sigmoid(l)) dy[row]. */
export const BERNOULLI_GRAD_KERNEL = "VaelabBernoulliGrad";
/**
 * Inputs dy, y [..., N] (y = act(z + b)); attrs activation (`linear`, `relu`, `leakyrelu`) and
 * leakyreluAlpha -> [dz = dy act'(y), dbias [N] = dz summed over every axis but the last].
 */
export const ACTIVATION_GRAD_KERNEL = "VaelabActivationGrad";
/** Inputs x [..., N], bias [N]; attrs activation, leakyreluAlpha -> act(x + bias). */
export const BIAS_ACTIVATION_KERNEL = "VaelabBiasActivation";

/** Inputs mean, logVar, eps [B, L] -> z = mean + exp(logVar / 2) eps. */
export const REPARAMETERIZE_KERNEL = "VaelabReparameterize";
/** Inputs logVar, eps, dz [B, L] -> dlogVar = dz eps exp(logVar / 2) / 2. */
export const REPARAMETERIZE_GRAD_KERNEL = "VaelabReparameterizeGrad";
/** Inputs mean, logVar [B, L] -> [B]: -1/2 sum_j (1 + logVar - mean^2 - exp(logVar)). */
export const GAUSSIAN_KL_KERNEL = "VaelabGaussianKl";
/** Inputs mean, logVar [B, L], dkl [B] -> [dmean = dkl mean, dlogVar = dkl (exp(logVar) - 1) / 2]. */
export const GAUSSIAN_KL_GRAD_KERNEL = "VaelabGaussianKlGrad";

/**
 * Inputs x [..., C], gamma, beta [C]; attr epsilon -> gamma (x - mean) / sqrt(var + epsilon) +
 * beta, with this batch's mean and (biased) variance over every axis but the last.
 */
export const BATCH_NORM_KERNEL = "VaelabBatchNorm";
/** Inputs dy, x [..., C], gamma [C]; attr epsilon -> [dx, dgamma, dbeta]. */
export const BATCH_NORM_GRAD_KERNEL = "VaelabBatchNormGrad";

/** Whether the current backend has kernel `name` (ours on wasm; elsewhere use tf ops). */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

function float32(name: string, ...tensors: Info[]): void {
  for (const t of tensors) {
    if (t.dtype !== "float32") throw new TypeError(`${name} needs float32 inputs; got ${t.dtype}`);
  }
}

/** The rows and columns of a [..., N] tensor read as a matrix [M, N]. */
function matrix(t: Info): [number, number] {
  const n = t.shape.at(-1) ?? 1;
  return [n === 0 ? 0 : tf.util.sizeFromShape(t.shape) / n, n];
}

function sameShape(name: string, a: Info, b: Info): void {
  if (a.shape.join() !== b.shape.join()) {
    throw new RangeError(`${name}: shapes [${a.shape}] and [${b.shape}] must agree`);
  }
}

function activationCode(name: string, attrs: tf.NamedAttrMap | undefined): [number, number] {
  const code = ACTIVATIONS[(attrs?.activation as string | undefined) ?? "linear"];
  if (code === undefined) throw new RangeError(`${name}: unknown activation ${attrs?.activation}`);
  return [code, (attrs?.leakyreluAlpha as number | undefined) ?? 0.2];
}

function bernoulli(args: KernelArgs): Info {
  const backend = args.backend as BackendWasm;
  const { x, logits } = args.inputs as { x: Info; logits: Info };
  float32(BERNOULLI_KERNEL, x, logits);
  sameShape(BERNOULLI_KERNEL, x, logits);
  const [m, n] = matrix(logits);
  const out = backend.makeOutput([m], "float32");
  compiled(backend).bernoulli_ll(
    heapOffset(backend, x),
    heapOffset(backend, logits),
    heapOffset(backend, out),
    m,
    n,
  );
  return out;
}

function bernoulliGrad(args: KernelArgs): Info {
  const backend = args.backend as BackendWasm;
  const { x, logits, dy } = args.inputs as { x: Info; logits: Info; dy: Info };
  float32(BERNOULLI_GRAD_KERNEL, x, logits, dy);
  sameShape(BERNOULLI_GRAD_KERNEL, x, logits);
  const [m, n] = matrix(logits);
  if (dy.shape.join() !== String(m)) {
    throw new RangeError(`${BERNOULLI_GRAD_KERNEL}: dy must have shape [${m}]; got [${dy.shape}]`);
  }
  const out = backend.makeOutput(logits.shape, "float32");
  compiled(backend).bernoulli_grad(
    heapOffset(backend, x),
    heapOffset(backend, logits),
    heapOffset(backend, dy),
    heapOffset(backend, out),
    m,
    n,
  );
  return out;
}

function activationGrad(args: KernelArgs): Info[] {
  const backend = args.backend as BackendWasm;
  const { dy, y } = args.inputs as { dy: Info; y: Info };
  float32(ACTIVATION_GRAD_KERNEL, dy, y);
  sameShape(ACTIVATION_GRAD_KERNEL, dy, y);
  const [code, alpha] = activationCode(ACTIVATION_GRAD_KERNEL, args.attrs);
  const [m, n] = matrix(dy);
  // The linear activation passes dy through: the same values, shared.
  const dz = code === 0
    ? identity({ inputs: { x: dy }, backend })
    : backend.makeOutput(dy.shape, "float32");
  const dbias = backend.makeOutput([n], "float32");
  compiled(backend).activation_grad(
    heapOffset(backend, dy),
    heapOffset(backend, y),
    code === 0 ? 0 : heapOffset(backend, dz),
    heapOffset(backend, dbias),
    m,
    n,
    code,
    alpha,
  );
  return [dz, dbias];
}

function biasActivation(args: KernelArgs): Info {
  const backend = args.backend as BackendWasm;
  const { x, bias } = args.inputs as { x: Info; bias: Info };
  float32(BIAS_ACTIVATION_KERNEL, x, bias);
  const [code, alpha] = activationCode(BIAS_ACTIVATION_KERNEL, args.attrs);
  const [m, n] = matrix(x);
  if (bias.shape.join() !== String(n)) {
    throw new RangeError(
      `${BIAS_ACTIVATION_KERNEL}: bias must have shape [${n}]; got [${bias.shape}]`,
    );
  }
  const out = backend.makeOutput(x.shape, "float32");
  const values = backend.typedArrayFromHeap(out) as Float32Array;
  values.set(backend.typedArrayFromHeap(x) as Float32Array);
  compiled(backend).bias_act(
    heapOffset(backend, out),
    heapOffset(backend, bias),
    m,
    n,
    code,
    alpha,
  );
  return out;
}

/** The heap offsets of `tensors`, checked float32 and of one shape, and that shape as [M, N]. */
function alike(name: string, backend: BackendWasm, tensors: Info[]): [number[], number, number] {
  float32(name, ...tensors);
  for (const t of tensors.slice(1)) sameShape(name, tensors[0], t);
  return [tensors.map((t) => heapOffset(backend, t)), ...matrix(tensors[0])];
}

function reparameterize(args: KernelArgs): Info {
  const backend = args.backend as BackendWasm;
  const { mean, logVar, eps } = args.inputs as Record<string, Info>;
  const [offsets, m, n] = alike(REPARAMETERIZE_KERNEL, backend, [mean, logVar, eps]);
  const z = backend.makeOutput(mean.shape, "float32");
  compiled(backend).reparam(...offsets, heapOffset(backend, z), m * n);
  return z;
}

function reparameterizeGrad(args: KernelArgs): Info {
  const backend = args.backend as BackendWasm;
  const { logVar, eps, dz } = args.inputs as Record<string, Info>;
  const [offsets, m, n] = alike(REPARAMETERIZE_GRAD_KERNEL, backend, [logVar, eps, dz]);
  const dLogVar = backend.makeOutput(logVar.shape, "float32");
  compiled(backend).reparam_grad(...offsets, heapOffset(backend, dLogVar), m * n);
  return dLogVar;
}

function gaussianKl(args: KernelArgs): Info {
  const backend = args.backend as BackendWasm;
  const { mean, logVar } = args.inputs as Record<string, Info>;
  const [offsets, m, n] = alike(GAUSSIAN_KL_KERNEL, backend, [mean, logVar]);
  const kl = backend.makeOutput([m], "float32");
  compiled(backend).gaussian_kl(...offsets, heapOffset(backend, kl), m, n);
  return kl;
}

function gaussianKlGrad(args: KernelArgs): Info[] {
  const backend = args.backend as BackendWasm;
  const { mean, logVar, dkl } = args.inputs as Record<string, Info>;
  const [offsets, m, n] = alike(GAUSSIAN_KL_GRAD_KERNEL, backend, [mean, logVar]);
  float32(GAUSSIAN_KL_GRAD_KERNEL, dkl);
  if (dkl.shape.join() !== String(m)) {
    throw new RangeError(
      `${GAUSSIAN_KL_GRAD_KERNEL}: dkl must have shape [${m}]; got [${dkl.shape}]`,
    );
  }
  const outs = [0, 1].map(() => backend.makeOutput(mean.shape, "float32"));
  compiled(backend).gaussian_kl_grad(
    ...offsets,
    heapOffset(backend, dkl),
    ...outs.map((t) => heapOffset(backend, t)),
    m,
    n,
  );
  return outs;
}

function batchNorm(args: KernelArgs): Info[] {
  const backend = args.backend as BackendWasm;
  const { x, gamma, beta } = args.inputs as Record<string, Info>;
  float32(BATCH_NORM_KERNEL, x, gamma, beta);
  const [m, c] = matrix(x);
  for (const t of [gamma, beta]) {
    if (t.shape.join() !== String(c)) {
      throw new RangeError(
        `${BATCH_NORM_KERNEL}: gamma and beta must have shape [${c}]; got [${t.shape}]`,
      );
    }
  }
  const y = backend.makeOutput(x.shape, "float32");
  const stats = backend.makeOutput([2 * c], "float32");
  compiled(backend).batch_norm(
    ...[x, gamma, beta, y].map((t) => heapOffset(backend, t)),
    heapOffset(backend, stats),
    heapOffset(backend, stats) + 4 * c,
    m,
    c,
    (args.attrs?.epsilon as number | undefined) ?? 1e-5,
  );
  backend.disposeData(stats.dataId);
  return [y];
}

function batchNormGrad(args: KernelArgs): Info[] {
  const backend = args.backend as BackendWasm;
  const { dy, x, gamma } = args.inputs as Record<string, Info>;
  const [offsets, m, c] = alike(BATCH_NORM_GRAD_KERNEL, backend, [dy, x]);
  float32(BATCH_NORM_GRAD_KERNEL, gamma);
  const stats = backend.makeOutput([2 * c], "float32");
  const outs = [x.shape, [c], [c]].map((shape) => backend.makeOutput(shape, "float32"));
  compiled(backend).batch_norm_grad(
    ...offsets,
    heapOffset(backend, gamma),
    heapOffset(backend, stats),
    ...outs.map((t) => heapOffset(backend, t)),
    m,
    c,
    (args.attrs?.epsilon as number | undefined) ?? 1e-5,
  );
  backend.disposeData(stats.dataId);
  return outs;
}

/**
 * `Identity` sharing its input's values (one more reference), as the cpu backend's does:
 * tensors are never written in place, so a clone need not copy. tfjs-wasm's copies, and
 * `tf.customGrad` clones every tensor a gradient saves.
 */
export function identity(args: KernelArgs): Info {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: Info };
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** The kernels of this module, by name, for `wasm_kernels.ts` to register. */
export const FUSED_KERNELS: Readonly<Record<string, tf.KernelFunc>> = {
  [BERNOULLI_KERNEL]: bernoulli as tf.KernelFunc,
  [BERNOULLI_GRAD_KERNEL]: bernoulliGrad as tf.KernelFunc,
  [ACTIVATION_GRAD_KERNEL]: activationGrad as unknown as tf.KernelFunc,
  [BIAS_ACTIVATION_KERNEL]: biasActivation as tf.KernelFunc,
  [REPARAMETERIZE_KERNEL]: reparameterize as tf.KernelFunc,
  [REPARAMETERIZE_GRAD_KERNEL]: reparameterizeGrad as tf.KernelFunc,
  [GAUSSIAN_KL_KERNEL]: gaussianKl as tf.KernelFunc,
  [GAUSSIAN_KL_GRAD_KERNEL]: gaussianKlGrad as unknown as tf.KernelFunc,
  [BATCH_NORM_KERNEL]: batchNorm as unknown as tf.KernelFunc,
  [BATCH_NORM_GRAD_KERNEL]: batchNormGrad as unknown as tf.KernelFunc,
};

/**
 * sum x^2 over a float32 tensor's values in float64, or with `mix` of the float32 weighted
 * average a x + b x1 (two shards' gradients): in one SIMD pass over the heap on wasm, through
 * tf ops and `dataSync()` elsewhere.
 */
export function sumOfSquares(
  x: tf.Tensor,
  mix?: { x1: tf.Tensor; a: number; b: number },
): number {
  if (tf.getBackend() === "wasm" && x.dtype === "float32") {
    const backend = tf.backend() as unknown as BackendWasm;
    const x1 = mix ? heapOffset(backend, mix.x1) : 0;
    return compiled(backend).sum_squares(
      heapOffset(backend, x),
      x1,
      mix?.a ?? 1,
      mix?.b ?? 0,
      x.size,
    );
  }
  const mixed = mix ? tf.tidy(() => tf.add(tf.mul(x, mix.a), tf.mul(mix.x1, mix.b))) : x;
  const values = mixed.dataSync();
  if (mixed !== x) mixed.dispose();
  let sum = 0;
  for (const v of values) sum += v * v;
  return sum;
}
