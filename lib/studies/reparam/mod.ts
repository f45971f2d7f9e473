/**
 * Notebook 06: the reparameterisation trick with numbers. Why a draw blocks the gradient, the
 * pathwise and the score-function estimators on a closed form (`toy.ts`), the two on a trained
 * VAE's encoder (`encoder.ts`), and their tables, figures and claims (`figures.ts`).
 * @module
 */
export * from "./encoder.ts";
export * from "./figures.ts";
export * from "./toy.ts";
