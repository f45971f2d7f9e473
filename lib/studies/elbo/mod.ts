/**
 * What notebook 02 needs and nothing else: the ELBO derivation checked with numbers. The
 * identity log p(x) = ELBO(q) + KL(q(z|x) || p(z|x)) exactly on the linear-Gaussian model, the gap
 * closed by gradient ascent, each line of the derivation by Monte Carlo, the bounds L_k, the
 * closed-form KL against sampling, and what must hold of L_k on a trained VAE.
 *
 * Each check returns data; `*Figure` and `*Table` functions draw it; `*Claims` say what must hold,
 * and `verify` throws when a claim fails, so an executed notebook fails loudly.
 * @module
 */
export { boundsFigure } from "./_traces.ts";
export * from "./bounds.ts";
export * from "./derivation.ts";
export * from "./figures.ts";
export * from "./identity.ts";
export * from "./importance.ts";
