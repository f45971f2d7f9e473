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
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { KernelArgs } from "./compiled_kernels.ts";
import { expectShape, HeapPlan, lossTerms, pixelLoss, type VaeLossAttrs } from "./heap_plan.ts";

type Info = tf.TensorInfo;

/**
 * Inputs x [B, D] (the target), input [B, D] (what the encoder sees; x unless denoising), eps
 * [B, L] (a VAE's noise; absent for an AE), w1, b1, w2, b2, w3, b3, w4, b4; attrs
 * {@linkcode VaeLossAttrs} -> the eight gradients in that order and [mean loss, mean
 * reconstruction, mean KL].
 */
export const MLP_VAE_GRADIENTS_KERNEL = "VaelabMlpVaeGradients";

/** The kernel function (wasm). */
export function mlpVaeGradients(args: KernelArgs): Info[] {
  const backend = args.backend as BackendWasm;
  const inputs = args.inputs as Record<string, Info | undefined>;
  const { x, w1, b1, w2, b2, w3, b3, w4, b4 } = inputs as Record<string, Info>;
  const input = inputs.input ?? x;
  const eps = inputs.eps;
  const [rows, d] = x.shape;
  const [h, k, l] = [w1.shape[1], w2.shape[1], w3.shape[0]];
  const vae = eps !== undefined;
  const expect = (name: string, t: Info, shape: number[]) =>
    expectShape(MLP_VAE_GRADIENTS_KERNEL, name, t, shape);
  expect("input", input, [rows, d]);
  expect("w1", w1, [d, h]);
  expect("b1", b1, [h]);
  expect("w2", w2, [h, vae ? 2 * l : l]);
  expect("b2", b2, [k]);
  expect("w3", w3, [l, h]);
  expect("b3", b3, [h]);
  expect("w4", w4, [h, d]);
  expect("b4", b4, [d]);
  if (eps) expect("eps", eps, [rows, l]);

  const plan = new HeapPlan(backend);
  const grads = [w1, b1, w2, b2, w3, b3, w4, b4].map((w) => backend.makeOutput(w.shape, "float32"));
  const [dw1, db1, dw2, db2, dw3, db3, dw4, db4] = grads;
  const terms = backend.makeOutput([3], "float32");
  try {
    const h1 = plan.temp([rows, h]);
    const head = plan.temp([rows, k]);
    const z = vae ? plan.temp([rows, l]) : head;
    const kl = vae ? plan.temp([rows]) : undefined;
    const h2 = plan.temp([rows, h]);
    const logits = plan.temp([rows, d]);
    const ll = plan.temp([rows]);
    const coef = plan.temp([rows]);
    const dLogits = plan.temp([rows, d]);
    const dh2 = plan.temp([rows, h]);
    const dz = plan.temp([rows, l]);
    const dHead = vae ? plan.temp([rows, k]) : dz;
    const dh1 = plan.temp([rows, h]);
    const at = (t: Info) => plan.at(t);

    // Forward.
    plan.mul(input, w1, h1, [rows, h, d], { bias: b1, relu: true });
    plan.mul(h1, w2, head, [rows, k, h], { bias: b2 });
    if (vae) plan.kernels.latent_forward(at(head), at(eps!), at(z), at(kl!), rows, l);
    plan.mul(z, w3, h2, [rows, h, l], { bias: b3, relu: true });
    plan.mul(h2, w4, logits, [rows, d, h], { bias: b4 });
    pixelLoss(plan, { x, logits, ll, dLogits }, [rows, d], args.attrs as unknown as VaeLossAttrs);
    lossTerms(plan, { ll, kl, coef, terms }, args.attrs as unknown as VaeLossAttrs);

    // Backward, from the last layer to the first (dz2 and dz1 overwrite dh2 and dh1 in place).
    plan.mul(h2, dLogits, dw4, [h, d, rows], { transA: true });
    plan.activationGrad(dLogits, dLogits, undefined, db4, false);
    plan.mul(dLogits, w4, dh2, [rows, h, d], { transB: true });
    plan.activationGrad(dh2, h2, dh2, db3, true);
    plan.mul(z, dh2, dw3, [l, h, rows], { transA: true });
    plan.mul(dh2, w3, dz, [rows, l, h], { transB: true });
    if (vae) plan.kernels.latent_backward(at(head), at(eps!), at(dz), at(coef), at(dHead), rows, l);
    plan.mul(h1, dHead, dw2, [h, k, rows], { transA: true });
    plan.activationGrad(dHead, dHead, undefined, db2, false);
    plan.mul(dHead, w2, dh1, [rows, h, k], { transB: true });
    plan.activationGrad(dh1, h1, dh1, db1, true);
    plan.mul(input, dh1, dw1, [d, h, rows], { transA: true });
    return [...grads, terms];
  } catch (error) {
    for (const t of [...grads, terms]) backend.disposeData(t.dataId);
    throw error;
  } finally {
    plan.free();
  }
}
