/**
 * The foundation every other folder stands on: the TensorFlow.js backend and our wasm kernels,
 * seeded randomness, small statistics, tensor helpers, the shared validators and the one module
 * that resolves paths. It imports only packages.
 * @module
 */
export * from "./backend.ts";
export { BLAS_CANDIDATES, findBlas, type ProductInfo } from "./blas.ts";
export { IM2ROW_KERNEL } from "./conv_kernels.ts";
export {
  ADAM_KERNEL,
  type AdamAttrs,
  lastAdamSquares,
  productInfo,
  productName,
  withWasmProduct,
} from "./compiled_kernels.ts";
export {
  ACTIVATION_GRAD_KERNEL,
  BATCH_NORM_GRAD_KERNEL,
  BATCH_NORM_KERNEL,
  BERNOULLI_GRAD_KERNEL,
  BERNOULLI_KERNEL,
  BIAS_ACTIVATION_KERNEL,
  GAUSSIAN_KL_GRAD_KERNEL,
  GAUSSIAN_KL_KERNEL,
  hasKernel,
  REPARAMETERIZE_GRAD_KERNEL,
  REPARAMETERIZE_KERNEL,
  sumOfSquares,
} from "./fused_kernels.ts";
export { CONV_VAE_GRADIENTS_KERNEL, CONV_VAE_VARIABLES } from "./conv_vae_kernel.ts";
export { MLP_VAE_GRADIENTS_KERNEL } from "./mlp_vae_kernel.ts";
export { type VaeLossAttrs } from "./heap_plan.ts";
export * from "./paths.ts";
export * from "./random.ts";
export * from "./stats.ts";
export * from "./tensor.ts";
export * from "./validate.ts";
export * from "./wasm_kernels.ts";
