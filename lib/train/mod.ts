/**
 * Training: the config and its defaults, Adam, the `Step` seam and its steps (one thread, two
 * threads through a worker), the loop, and the run cache that names a run by the hash of its
 * config and data. It imports `base`, `data` and `model`.
 * @module
 */
export * from "./adversarial.ts";
export * from "./classify.ts";
export * from "./config.ts";
export * from "./evaluate.ts";
export { type ExchangeBuffers, exchangeMode } from "./exchange.ts";
export * from "./grid.ts";
export * from "./interrupt.ts";
export { singleThreadStep, testEvaluation } from "./kinds.ts";
export * from "./loop.ts";
export * from "./optimizer.ts";
export * from "./parallel.ts";
export * from "./records.ts";
export * from "./run_folder.ts";
export * from "./runs.ts";
export * from "./shard.ts";
export * from "./shared_step.ts";
export * from "./step.ts";
export * from "./vaegan_step.ts";
export * from "./vqvae_step.ts";
