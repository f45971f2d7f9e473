/**
 * The models: layers as functions of explicit variables, the MLP and convolutional autoencoders
 * and VAEs (encoders return `{ mean, logVar }`, decoders logits), the prior p(z) as a value, and
 * the per-example losses. It imports `base` and `data`.
 * @module
 */
export * from "./adversarial.ts";
export * from "./classifier.ts";
export * from "./conditional.ts";
export * from "./gaussian.ts";
export * from "./conv_layers.ts";
export * from "./layers.ts";
export * from "./losses.ts";
export * from "./models.ts";
export * from "./prior.ts";
export * from "./types.ts";
export * from "./vaegan.ts";
export * from "./variables.ts";
export * from "./vqvae.ts";
