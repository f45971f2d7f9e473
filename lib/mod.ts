/**
 * vaelab: autoencoders and VAEs on MNIST with TensorFlow.js. Notebooks and tests import this.
 * @module
 */
export * from "./backend.ts";
export * from "./data.ts";
export * from "./random.ts";
export * from "./layers.ts";
export * from "./models.ts";
export * from "./losses.ts";
export * from "./train.ts";
export * as linearGaussian from "./linear_gaussian.ts";
export * from "./optimizer.ts";
export * from "./metrics.ts";
export * from "./experiments.ts";
export * from "./table.ts";
export * from "./plots.ts";
export * from "./elbo_check.ts";
