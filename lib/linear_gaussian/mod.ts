/**
 * The linear-Gaussian model p(z) = N(0, I_d), p(x | z) = N(W z + b, sigma^2 I_D), where every
 * term of log p(x) = ELBO(q) + KL(q(z|x) || p(z|x)) has a closed form: the exact terms, the
 * sampled estimators checked against them, and the small linear algebra they need (float64, or
 * float32 rounded at every operation). Exported from `lib/mod.ts` as the namespace
 * `linearGaussian`. It imports only `base`.
 * @module
 */
export * from "./estimates.ts";
export * from "./exact.ts";
export * from "./linalg.ts";
