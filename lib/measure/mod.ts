/**
 * Measures of trained models: codes, reconstructions, samples, active units, reconstruction
 * errors, and importance-weighted estimates of log p(x). It imports `base`, `data` and `model`.
 * @module
 */
export * from "./downstream.ts";
export * from "./embedding.ts";
export * from "./images.ts";
export * from "./importance.ts";
export * from "./latent.ts";
export * from "./metrics.ts";
export * from "./quality.ts";
