/**
 * The foundation every other folder stands on: the TensorFlow.js backend and our wasm kernels,
 * seeded randomness, small statistics, tensor helpers, the shared validators and the one module
 * that resolves paths. It imports only packages.
 * @module
 */
export * from "./backend.ts";
export { ADAM_KERNEL, type AdamAttrs } from "./compiled_kernels.ts";
export * from "./paths.ts";
export * from "./random.ts";
export * from "./stats.ts";
export * from "./tensor.ts";
export * from "./validate.ts";
export * from "./wasm_kernels.ts";
