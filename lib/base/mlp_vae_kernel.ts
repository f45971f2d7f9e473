/**
 * The gradients of the lab's MLP VAE (or AE) on a batch, in one kernel: the forward and the
 * backward pass written out layer by layer on the wasm heap, nine products and a few fused
 * passes, with no autodiff engine between them.
 *
 * Through TensorFlow.js's autodiff the same step runs about 90 kernels, each with its engine
 * bookkeeping and its JavaScript garbage; here the JavaScript work is a handful of calls. The
 * model is x -> relu(x W1 + b1) -> head = h1 W2 + b2 (mean | logVar, or the AE's code) -> z =
 * mean + exp(logVar / 2) eps -> relu(z W3 + b3) -> logits = h2 W4 + b4, Bernoulli pixels on the
 * logits, KL to N(0, I); the loss is the batch mean of -log p(x | z) + beta KL (or, with
 * capacity annealing, + gamma |KL - C|). `tests/` checks it against the autodiff path.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { compiled, heapOffset, type KernelArgs, product } from "./compiled_kernels.ts";

type Info = tf.TensorInfo;

/**
 * Inputs x [B, D] (the target), input [B, D] (what the encoder sees; x unless denoising), eps
 * [B, L] (a VAE's noise; absent for an AE), w1, b1, w2, b2, w3, b3, w4, b4; attrs beta, and
 * capacity, gamma (capacity annealing when gamma > 0) -> the eight gradients in that order and
 * [mean loss, mean reconstruction, mean KL].
 */
export const MLP_VAE_GRADIENTS_KERNEL = "VaelabMlpVaeGradients";

/** The attributes of {@linkcode MLP_VAE_GRADIENTS_KERNEL}. */
export interface MlpVaeAttrs {
  /** Weight of the KL term. */
  beta: number;
  /** Capacity C of capacity annealing at this step (used when gamma > 0). */
  capacity: number;
  /** Weight of |KL - C|; 0 trains the beta-ELBO. */
  gamma: number;
}

const RELU = 1;
const LINEAR = 0;

function check(name: string, t: Info, shape: number[]): void {
  if (t.dtype !== "float32" || t.shape.join() !== shape.join()) {
    throw new RangeError(
      `${MLP_VAE_GRADIENTS_KERNEL}: ${name} must be float32 [${shape}]; got ${t.dtype} [${t.shape}]`,
    );
  }
}

/** The kernel function (wasm). */
export function mlpVaeGradients(args: KernelArgs): Info[] {
  const backend = args.backend as BackendWasm;
  const inputs = args.inputs as Record<string, Info | undefined>;
  const { x, w1, b1, w2, b2, w3, b3, w4, b4 } = inputs as Record<string, Info>;
  const input = inputs.input ?? x;
  const eps = inputs.eps;
  const { beta, capacity, gamma } = args.attrs as unknown as MlpVaeAttrs;
  const [rows, d] = x.shape;
  const h = w1.shape[1];
  const k = w2.shape[1];
  const l = w3.shape[0];
  const vae = eps !== undefined;
  check("x", x, [rows, d]);
  check("input", input, [rows, d]);
  check("w1", w1, [d, h]);
  check("b1", b1, [h]);
  check("w2", w2, [h, vae ? 2 * l : l]);
  check("b2", b2, [k]);
  check("w3", w3, [l, h]);
  check("b3", b3, [h]);
  check("w4", w4, [h, d]);
  check("b4", b4, [d]);
  if (eps) check("eps", eps, [rows, l]);

  const temps: Info[] = [];
  const temp = (shape: number[]) => {
    const t = backend.makeOutput(shape, "float32");
    temps.push(t);
    return t;
  };
  const grads = [w1, b1, w2, b2, w3, b3, w4, b4].map((w) => backend.makeOutput(w.shape, "float32"));
  const [dw1, db1, dw2, db2, dw3, db3, dw4, db4] = grads;
  const terms = backend.makeOutput([3], "float32");
  try {
    const h1 = temp([rows, h]);
    const head = temp([rows, k]);
    const z = vae ? temp([rows, l]) : head;
    const kl = temp([rows]);
    const h2 = temp([rows, h]);
    const logits = temp([rows, d]);
    const ll = temp([rows]);
    const dLogits = temp([rows, d]);
    const dh2 = temp([rows, h]);
    const dz2 = temp([rows, h]);
    const dz = temp([rows, l]);
    const coef = temp([rows]);
    const dHead = vae ? temp([rows, k]) : dz;
    const dh1 = temp([rows, h]);
    const dz1 = temp([rows, h]);
    // Offsets are read after every allocation: they do not move when the heap grows.
    const at = (t: Info) => heapOffset(backend, t);
    const own = compiled(backend);
    const mul = (
      a: Info,
      b: Info,
      c: Info,
      [m, n, kk]: number[],
      options: { transA?: boolean; transB?: boolean; bias?: Info; relu?: boolean } = {},
    ) =>
      product(backend, {
        a: at(a),
        b: at(b),
        c: at(c),
        bias: options.bias ? at(options.bias) : 0,
        m,
        n,
        k: kk,
        transA: options.transA ?? false,
        transB: options.transB ?? false,
        activation: options.relu ? RELU : LINEAR,
        alpha: 0,
      });

    // Forward.
    mul(input, w1, h1, [rows, h, d], { bias: b1, relu: true });
    mul(h1, w2, head, [rows, k, h], { bias: b2 });
    if (vae) own.latent_forward(at(head), at(eps!), at(z), at(kl), rows, l);
    mul(z, w3, h2, [rows, h, l], { bias: b3, relu: true });
    mul(h2, w4, logits, [rows, d, h], { bias: b4 });
    own.bernoulli_fused(at(x), at(logits), at(ll), at(dLogits), 1 / rows, rows, d);

    // The terms, and each row's weight on its KL in the mean loss.
    const heap = (t: Info) => backend.typedArrayFromHeap(t) as Float32Array;
    const [llRows, klRows, coefs] = [heap(ll), heap(kl), heap(coef)];
    let [loss, rec, rate] = [0, 0, 0];
    for (let i = 0; i < rows; i++) {
      const r = -llRows[i];
      const klI = vae ? klRows[i] : 0;
      const deviation = klI - capacity;
      loss += gamma > 0 ? r + gamma * Math.abs(deviation) : r + beta * klI;
      rec += r;
      rate += klI;
      coefs[i] = (gamma > 0 ? gamma * Math.sign(deviation) : beta) / rows;
    }
    heap(terms).set([loss / rows, rec / rows, rate / rows]);

    // Backward, from the last layer to the first.
    mul(h2, dLogits, dw4, [h, d, rows], { transA: true });
    own.activation_grad(at(dLogits), at(dLogits), 0, at(db4), rows, d, LINEAR, 0);
    mul(dLogits, w4, dh2, [rows, h, d], { transB: true });
    own.activation_grad(at(dh2), at(h2), at(dz2), at(db3), rows, h, RELU, 0);
    mul(z, dz2, dw3, [l, h, rows], { transA: true });
    mul(dz2, w3, dz, [rows, l, h], { transB: true });
    if (vae) own.latent_backward(at(head), at(eps!), at(dz), at(coef), at(dHead), rows, l);
    mul(h1, dHead, dw2, [h, k, rows], { transA: true });
    own.activation_grad(at(dHead), at(dHead), 0, at(db2), rows, k, LINEAR, 0);
    mul(dHead, w2, dh1, [rows, h, k], { transB: true });
    own.activation_grad(at(dh1), at(h1), at(dz1), at(db1), rows, h, RELU, 0);
    mul(input, dz1, dw1, [d, h, rows], { transA: true });
    return [...grads, terms];
  } catch (error) {
    for (const t of [...grads, terms]) backend.disposeData(t.dataId);
    throw error;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}
