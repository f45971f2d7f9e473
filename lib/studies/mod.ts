/**
 * What one notebook needs and nothing else uses: the profile (`quick` or `full`), claims checked
 * by `verify`, and each notebook's own checks (`elbo/` for notebook 02). It may import every
 * other folder; only `lib/mod.ts` imports it.
 * @module
 */
export * from "./claims.ts";
export * from "./codes.ts";
export * from "./conditional.ts";
export * from "./elbo/mod.ts";
export * from "./generators.ts";
export * from "./profile.ts";
export * from "./reparam/mod.ts";
export * from "./ring.ts";
export * from "./ring_gan.ts";
export * from "./ring_figures.ts";
export * from "./seeds.ts";
export * from "./training_slider.ts";
export * from "./vq.ts";
