/**
 * What a kernel that runs a whole forward and backward pass on the wasm heap needs
 * (`mlp_vae_kernel.ts`, `conv_vae_kernel.ts`): scratch buffers freed at the end, products,
 * convolutions' patch matrices and their adjoint, and the checks of its inputs.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { type Compiled, compiled, heapOffset, product } from "./compiled_kernels.ts";

type Info = tf.TensorInfo;

/** kernels.c's activation codes used by the plans. */
export const LINEAR = 0;
export const RELU = 1;

/** A 'same' convolution's geometry, as im2row and row2im take it. */
export interface ConvGeometry {
  /** Batch, height, width and channels of the image the patches are read from. */
  image: [number, number, number, number];
  /** Output height and width. */
  out: [number, number];
  /** The arguments of kernels.c's im2row and row2im after their two buffers. */
  args: number[];
}

/** The geometry of a 'same' convolution of `image` [N, H, W, C] with an h x w filter at `stride`. */
export function sameConv(
  image: [number, number, number, number],
  [h, w]: [number, number],
  stride: number,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    image,
    [h, w, image[3], 1],
    stride,
    1,
    "same",
    undefined,
    false,
    "channelsLast",
  );
  const { top, left } = info.padInfo;
  const args = [...image, h, w, stride, stride, top, left, info.outHeight, info.outWidth];
  return { image, out: [info.outHeight, info.outWidth], args };
}

/** Scratch buffers and operations on one backend's heap, for one kernel call. */
export class HeapPlan {
  readonly backend: BackendWasm;
  readonly kernels: Compiled;
  #temps: Info[] = [];

  constructor(backend: BackendWasm) {
    this.backend = backend;
    this.kernels = compiled(backend);
  }

  /** A float32 scratch buffer, freed by {@linkcode HeapPlan.free}. */
  temp(shape: number[]): Info {
    const t = this.backend.makeOutput(shape, "float32");
    this.#temps.push(t);
    return t;
  }

  /** A tensor's byte offset on the heap (it does not move when the heap grows). */
  at(t: Info): number {
    return heapOffset(this.backend, t);
  }

  /** c [m, n] = act(op(a) op(b) + bias), a [m, k] and b [k, n] before the transposes. */
  mul(
    a: Info,
    b: Info,
    c: Info,
    [m, n, k]: [number, number, number],
    options: { transA?: boolean; transB?: boolean; bias?: Info; relu?: boolean } = {},
  ): void {
    product(this.backend, {
      a: this.at(a),
      b: this.at(b),
      c: this.at(c),
      bias: options.bias ? this.at(options.bias) : 0,
      m,
      n,
      k,
      transA: options.transA ?? false,
      transB: options.transB ?? false,
      activation: options.relu ? RELU : LINEAR,
      alpha: 0,
    });
  }

  /** The patch matrix of `image` for `geometry` into `rows`. */
  im2row(image: Info, rows: Info, geometry: ConvGeometry): void {
    this.kernels.im2row(this.at(image), this.at(rows), ...geometry.args);
  }

  /** The adjoint of im2row: `rows` added back into `image` (zeroed first). */
  row2im(rows: Info, image: Info, geometry: ConvGeometry): void {
    this.kernels.row2im(this.at(rows), this.at(image), ...geometry.args);
  }

  /** dz = dy act'(y) (not written for linear) and dbias = dz's column sums, [m, n]. */
  activationGrad(dy: Info, y: Info, dz: Info | undefined, dBias: Info, relu: boolean): void {
    const [m, n] = [tf.util.sizeFromShape(dy.shape) / dBias.shape[0], dBias.shape[0]];
    this.kernels.activation_grad(
      this.at(dy),
      this.at(y),
      dz ? this.at(dz) : 0,
      this.at(dBias),
      m,
      n,
      relu ? RELU : LINEAR,
      0,
    );
  }

  /** A float32 view of a buffer (read it before the next allocation). */
  view(t: Info): Float32Array {
    return this.backend.typedArrayFromHeap(t) as Float32Array;
  }

  /** Free the scratch buffers. */
  free(): void {
    for (const t of this.#temps) this.backend.disposeData(t.dataId);
    this.#temps = [];
  }
}

/** Throw a RangeError unless `t` is float32 of `shape`, naming the kernel and the input. */
export function expectShape(kernel: string, name: string, t: Info, shape: number[]): void {
  if (t.dtype !== "float32" || t.shape.join() !== shape.join()) {
    throw new RangeError(
      `${kernel}: ${name} must be float32 [${shape}]; got ${t.dtype} [${t.shape}]`,
    );
  }
}

/** The attributes of the whole-step gradient kernels. */
export interface VaeLossAttrs {
  /** The pixels' likelihood: 0 Bernoulli, 1 Gaussian, 2 Laplace (of `scale`). */
  likelihood: 0 | 1 | 2;
  /** The Gaussian's or the Laplace's scale (unused for Bernoulli pixels). */
  scale: number;
  /** Weight of the KL term. */
  beta: number;
  /** Capacity C of capacity annealing at this step (used when gamma > 0). */
  capacity: number;
  /** Weight of |KL - C|; 0 trains the beta-ELBO. */
  gamma: number;
}

/**
 * Each row's log-likelihood `ll` of `x` given the decoder's `logits` [rows, d], and `dLogits`, the
 * gradient of the batch's mean negative log-likelihood: Bernoulli, Gaussian or Laplace pixels.
 */
export function pixelLoss(
  plan: HeapPlan,
  { x, logits, ll, dLogits }: { x: Info; logits: Info; ll: Info; dLogits: Info },
  [rows, d]: [number, number],
  { likelihood, scale }: Pick<VaeLossAttrs, "likelihood" | "scale">,
): void {
  const at = (t: Info) => plan.at(t);
  if (likelihood === 0) {
    plan.kernels.bernoulli_fused(at(x), at(logits), at(ll), at(dLogits), 1 / rows, rows, d);
    return;
  }
  // The constant in float64, as gaussianLogLikelihood and laplaceLogLikelihood compute it.
  const [inv, constant] = likelihood === 1
    ? [1 / (scale * scale), d * (Math.log(scale) + 0.5 * Math.log(2 * Math.PI))]
    : [1 / scale, d * Math.log(2 * scale)];
  plan.kernels.pixel_fused(
    at(x),
    at(logits),
    at(ll),
    at(dLogits),
    1 / rows,
    rows,
    d,
    likelihood,
    inv,
    constant,
  );
}

/**
 * The batch's mean terms [loss, reconstruction, KL] into `terms`, and each row's weight on its
 * KL in the mean loss into `coef`, from the rows' log-likelihoods and KLs (an AE's KL is 0).
 */
export function lossTerms(
  plan: HeapPlan,
  { ll, kl, coef, terms }: { ll: Info; kl?: Info; coef: Info; terms: Info },
  { beta, capacity, gamma }: VaeLossAttrs,
): void {
  const rows = ll.shape[0];
  const [llRows, klRows, coefs] = [plan.view(ll), kl ? plan.view(kl) : undefined, plan.view(coef)];
  let [loss, rec, rate] = [0, 0, 0];
  for (let i = 0; i < rows; i++) {
    const r = -llRows[i];
    const klI = klRows ? klRows[i] : 0;
    const deviation = klI - capacity;
    loss += gamma > 0 ? r + gamma * Math.abs(deviation) : r + beta * klI;
    rec += r;
    rate += klI;
    coefs[i] = (gamma > 0 ? gamma * Math.sign(deviation) : beta) / rows;
  }
  plan.view(terms).set([loss / rows, rec / rows, rate / rows]);
}
