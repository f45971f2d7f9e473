/**
 * vaelab: autoencoders and VAEs on MNIST with TensorFlow.js. Notebooks and tests import this.
 *
 * The folders, in the one direction their imports point: `base` (backend, random, statistics,
 * validation, paths) <- `data` (MNIST) <- `model` (layers, models, priors, losses) <- `train`
 * (the Step seam, the loop, two threads, the run cache) and `measure` (metrics, importance
 * sampling) <- `studies` (what one notebook needs). `viz` (figures, progress, tables) needs only
 * `base`; `linear_gaussian` (the exact model) only `base`.
 * @module
 */
export * from "./base/mod.ts";
export * from "./data/mod.ts";
export * as linearGaussian from "./linear_gaussian/mod.ts";
export * from "./measure/mod.ts";
export * from "./model/mod.ts";
export * from "./studies/mod.ts";
export * from "./train/mod.ts";
export * from "./viz/mod.ts";
