/**
 * The gradients of the lab's convolutional VAE (or AE) on a batch, in one kernel, like
 * `mlp_vae_kernel.ts`: every layer's forward and backward pass on the wasm heap, each
 * convolution one product of its patch matrix (im2row) and each transposed one a product and
 * row2im.
 *
 * The model (`buildConv` in lib/model): x [B, 28, 28, 1] -> conv 3x3/2 (32, relu) -> conv 3x3/2
 * (64, relu) -> dense hidden (relu) -> head (mean | logVar, or the AE's code) -> z -> dense
 * hidden (relu) -> dense 7x7x64 (relu) -> transposed conv 3x3/2 (32, relu) -> transposed conv
 * 3x3/2 (1 channel of logits); Bernoulli pixels, KL to N(0, I), the loss as in the MLP kernel.
 * The first convolution's input gradient is not computed (x is data).
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { KernelArgs } from "./compiled_kernels.ts";
import {
  expectShape,
  HeapPlan,
  lossTerms,
  pixelLoss,
  sameConv,
  type VaeLossAttrs,
} from "./heap_plan.ts";

type Info = tf.TensorInfo;

/**
 * Inputs x [B, 784] (the target), input (the encoder's; x unless denoising), eps [B, L] (a
 * VAE's), and the 16 variables c1f, c1b, c2f, c2b, e1k, e1b, e2k, e2b, d1k, d1b, d2k, d2b, t1f,
 * t1b, t2f, t2b; attrs {@linkcode VaeLossAttrs} -> the 16 gradients in that order and [mean
 * loss, mean reconstruction, mean KL].
 */
export const CONV_VAE_GRADIENTS_KERNEL = "VaelabConvVaeGradients";

/** The variables' names in the kernel's inputs, in the model's order. */
export const CONV_VAE_VARIABLES = [
  "c1f",
  "c1b",
  "c2f",
  "c2b",
  "e1k",
  "e1b",
  "e2k",
  "e2b",
  "d1k",
  "d1b",
  "d2k",
  "d2b",
  "t1f",
  "t1b",
  "t2f",
  "t2b",
] as const;

/** The kernel function (wasm). */
export function convVaeGradients(args: KernelArgs): Info[] {
  const backend = args.backend as BackendWasm;
  const inputs = args.inputs as Record<string, Info | undefined>;
  const w = inputs as Record<(typeof CONV_VAE_VARIABLES)[number] | "x", Info>;
  const { x } = w;
  const input = inputs.input ?? x;
  const eps = inputs.eps;
  const vae = eps !== undefined;
  const rows = x.shape[0];
  const [hidden, k, l] = [w.e1k.shape[1], w.e2k.shape[1], w.d1k.shape[0]];
  const expect = (name: string, t: Info, shape: number[]) =>
    expectShape(CONV_VAE_GRADIENTS_KERNEL, name, t, shape);
  expect("x", x, [rows, 784]);
  expect("input", input, [rows, 784]);
  const shapes: Record<string, number[]> = {
    c1f: [3, 3, 1, 32],
    c1b: [32],
    c2f: [3, 3, 32, 64],
    c2b: [64],
    e1k: [3136, hidden],
    e1b: [hidden],
    e2k: [hidden, vae ? 2 * l : l],
    e2b: [k],
    d1k: [l, hidden],
    d1b: [hidden],
    d2k: [hidden, 3136],
    d2b: [3136],
    t1f: [3, 3, 32, 64],
    t1b: [32],
    t2f: [3, 3, 1, 32],
    t2b: [1],
  };
  for (const name of CONV_VAE_VARIABLES) expect(name, w[name], shapes[name]);
  if (eps) expect("eps", eps, [rows, l]);

  // Each convolution's geometry, read from the image its patches come from.
  const g1 = sameConv([rows, 28, 28, 1], [3, 3], 2); // x -> 14 x 14
  const g2 = sameConv([rows, 14, 14, 32], [3, 3], 2); // 14 x 14 x 32 -> 7 x 7
  const plan = new HeapPlan(backend);
  const grads = CONV_VAE_VARIABLES.map((name) => backend.makeOutput(w[name].shape, "float32"));
  const d = Object.fromEntries(CONV_VAE_VARIABLES.map((name, i) => [name, grads[i]]));
  const terms = backend.makeOutput([3], "float32");
  const [p1, p2] = [rows * 196, rows * 49]; // output pixels of the two convolutions
  try {
    const r1 = plan.temp([p1, 9]); // patches of x
    const a1 = plan.temp([p1, 32]); // [B, 14, 14, 32]
    const r2 = plan.temp([p2, 288]); // patches of a1
    const t1Columns = plan.temp([p2, 288]); // transposed conv 1's columns; later dz's patches
    const a2 = plan.temp([rows, 3136]); // [B, 7, 7, 64]
    const h = plan.temp([rows, hidden]);
    const head = plan.temp([rows, k]);
    const z = vae ? plan.temp([rows, l]) : head;
    const kl = vae ? plan.temp([rows]) : undefined;
    const g = plan.temp([rows, hidden]);
    const grid = plan.temp([rows, 3136]); // [B, 7, 7, 64]
    const u = plan.temp([p1, 32]); // transposed conv 1's output [B, 14, 14, 32]
    const columns = plan.temp([p1, 9]); // transposed conv 2's columns; later patches of dlogits
    const logits = plan.temp([rows, 784]);
    const ll = plan.temp([rows]);
    const coef = plan.temp([rows]);
    const dLogits = plan.temp([rows, 784]);
    const du = plan.temp([p1, 32]);
    const dGrid = plan.temp([rows, 3136]);
    const dg = plan.temp([rows, hidden]);
    const dz = plan.temp([rows, l]);
    const dHead = vae ? plan.temp([rows, k]) : dz;
    const dh = plan.temp([rows, hidden]);
    const da2 = plan.temp([rows, 3136]);
    const da1 = plan.temp([p1, 32]);
    const at = (t: Info) => plan.at(t);

    // Forward: the encoder.
    plan.im2row(input, r1, g1);
    plan.mul(r1, w.c1f, a1, [p1, 32, 9], { bias: w.c1b, relu: true });
    plan.im2row(a1, r2, g2);
    plan.mul(r2, w.c2f, a2, [p2, 64, 288], { bias: w.c2b, relu: true });
    plan.mul(a2, w.e1k, h, [rows, hidden, 3136], { bias: w.e1b, relu: true });
    plan.mul(h, w.e2k, head, [rows, k, hidden], { bias: w.e2b });
    if (vae) plan.kernels.latent_forward(at(head), at(eps!), at(z), at(kl!), rows, l);
    // The decoder: a transposed convolution is columns = x W^T, added back by row2im.
    plan.mul(z, w.d1k, g, [rows, hidden, l], { bias: w.d1b, relu: true });
    plan.mul(g, w.d2k, grid, [rows, 3136, hidden], { bias: w.d2b, relu: true });
    plan.mul(grid, w.t1f, t1Columns, [p2, 288, 64], { transB: true });
    plan.row2im(t1Columns, u, g2);
    plan.kernels.bias_act(at(u), at(w.t1b), p1, 32, 1, 0);
    plan.mul(u, w.t2f, columns, [p1, 9, 32], { transB: true });
    plan.row2im(columns, logits, g1);
    plan.kernels.bias_act(at(logits), at(w.t2b), rows * 784, 1, 0, 0);
    pixelLoss(plan, { x, logits, ll, dLogits }, [rows, 784], args.attrs as unknown as VaeLossAttrs);
    lossTerms(plan, { ll, kl, coef, terms }, args.attrs as unknown as VaeLossAttrs);

    // Backward. Transposed conv 2: both gradients read the patches of dlogits.
    plan.activationGrad(dLogits, dLogits, undefined, d.t2b, false);
    plan.im2row(dLogits, columns, g1);
    plan.mul(columns, w.t2f, du, [p1, 32, 9]);
    plan.mul(columns, u, d.t2f, [9, 32, p1], { transA: true });
    // Transposed conv 1, through its relu.
    plan.activationGrad(du, u, du, d.t1b, true);
    plan.im2row(du, t1Columns, g2);
    plan.mul(t1Columns, w.t1f, dGrid, [p2, 64, 288]);
    plan.mul(t1Columns, grid, d.t1f, [288, 64, p2], { transA: true });
    // The decoder's dense layers, the latent layer, the encoder's dense layers.
    plan.activationGrad(dGrid, grid, dGrid, d.d2b, true);
    plan.mul(g, dGrid, d.d2k, [hidden, 3136, rows], { transA: true });
    plan.mul(dGrid, w.d2k, dg, [rows, hidden, 3136], { transB: true });
    plan.activationGrad(dg, g, dg, d.d1b, true);
    plan.mul(z, dg, d.d1k, [l, hidden, rows], { transA: true });
    plan.mul(dg, w.d1k, dz, [rows, l, hidden], { transB: true });
    if (vae) plan.kernels.latent_backward(at(head), at(eps!), at(dz), at(coef), at(dHead), rows, l);
    plan.mul(h, dHead, d.e2k, [hidden, k, rows], { transA: true });
    plan.activationGrad(dHead, dHead, undefined, d.e2b, false);
    plan.mul(dHead, w.e2k, dh, [rows, hidden, k], { transB: true });
    plan.activationGrad(dh, h, dh, d.e1b, true);
    plan.mul(a2, dh, d.e1k, [3136, hidden, rows], { transA: true });
    plan.mul(dh, w.e1k, da2, [rows, 3136, hidden], { transB: true });
    // Conv 2: its filter's gradient from the patches kept from the forward pass; conv 1's.
    plan.activationGrad(da2, a2, da2, d.c2b, true);
    plan.mul(r2, da2, d.c2f, [288, 64, p2], { transA: true });
    plan.mul(da2, w.c2f, t1Columns, [p2, 288, 64], { transB: true });
    plan.row2im(t1Columns, da1, g2);
    plan.activationGrad(da1, a1, da1, d.c1b, true);
    plan.mul(r1, da1, d.c1f, [9, 32, p1], { transA: true });
    return [...grads, terms];
  } catch (error) {
    for (const t of [...grads, terms]) backend.disposeData(t.dataId);
    throw error;
  } finally {
    plan.free();
  }
}
