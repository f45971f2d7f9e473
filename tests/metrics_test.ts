import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  activeUnits,
  AE_DEFAULTS,
  aggregatePosteriorCodes,
  buildModel,
  codeSpread,
  concatImages,
  decodeCodes,
  disposeModel,
  encodeAll,
  evaluate,
  initBackend,
  interpolateCodes,
  interpolation,
  iwaeEstimate,
  mean,
  nearestImageSimilarity,
  noisyImages,
  pixelMse,
  priorCodes,
  reconstruct,
  reconstructionError,
  subset,
  TRAIN_DEFAULTS,
  VAE_DEFAULTS,
} from "../lib/mod.ts";
import { syntheticDigits } from "./synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });
const data = syntheticDigits(40, 7);

Deno.test("encodeAll(), decodeCodes() and reconstruct() give [n, latent] codes and [n, 784] pixels in [0, 1]", () => {
  const model = buildModel({ ...VAE_DEFAULTS, hiddenSize: 16, latentSize: 3 });
  const before = tf.memory().numTensors;
  const codes = encodeAll(model, data, { batchSize: 16 });
  assertEquals([codes.mean.length, codes.logVar?.length, codes.size], [120, 120, 40]);
  const pixels = reconstruct(model, data);
  assertEquals(pixels.length, 40 * 784);
  assert(pixels.every((p) => p >= 0 && p <= 1));
  assertEquals(decodeCodes(model, priorCodes({ latentSize: 3, n: 5, seed: 1 })).length, 5 * 784);
  assertThrows(
    () => decodeCodes(model, new Float32Array(4)),
    RangeError,
    "multiple of latentSize = 3",
  );
  assertEquals(tf.memory().numTensors, before);
  disposeModel(model);
});

Deno.test("aggregatePosteriorCodes() of an autoencoder draws among its codes", () => {
  const model = buildModel({ ...AE_DEFAULTS, hiddenSize: 16, latentSize: 2 });
  const codes = encodeAll(model, data);
  const drawn = aggregatePosteriorCodes(codes, { n: 10, seed: 3 });
  for (let s = 0; s < 10; s++) {
    const found = Array.from({ length: 40 }, (_, i) => i).some((i) =>
      codes.mean[2 * i] === drawn[2 * s] && codes.mean[2 * i + 1] === drawn[2 * s + 1]
    );
    assert(found, `sample ${s} is not one of the codes`);
  }
  disposeModel(model);
});

Deno.test("interpolateCodes() starts at a, ends at b, and is linear", () => {
  const path = interpolateCodes([0, 2], [4, -2], { steps: 5 });
  assertEquals(Array.from(path), [0, 2, 1, 1, 2, 0, 3, -1, 4, -2]);
  assertThrows(() => interpolateCodes([0], [1, 2], { steps: 3 }), RangeError, "1 and 2");
  assertThrows(
    () => interpolateCodes([0], [1], { steps: 1 }),
    RangeError,
    "steps must be an integer >= 2; got 1",
  );
});

Deno.test("activeUnits() counts the dimensions whose mean varies across the data", () => {
  // Dimension 0 varies (variance 1), dimension 1 barely (variance 1e-4).
  const mean = new Float32Array([1, 0.01, -1, -0.01, 1, 0.01, -1, -0.01]);
  const { count, variances } = activeUnits({ mean, latentSize: 2, size: 4 });
  assertEquals(count, 1);
  assertAlmostEquals(variances[0], 1, 1e-6);
  assertAlmostEquals(variances[1], 1e-4, 1e-8);
});

Deno.test("reconstructionError() of an autoencoder equals evaluate()'s reconstruction term", () => {
  const model = buildModel({ ...AE_DEFAULTS, hiddenSize: 16, latentSize: 2 });
  const expected = evaluate(model, data, TRAIN_DEFAULTS).reconstruction;
  assertAlmostEquals(reconstructionError(model, data), expected, 1e-2);
  disposeModel(model);
});

Deno.test("iwaeEstimate() gives a finite mean and standard error per image, rising with k", () => {
  const model = buildModel({ ...VAE_DEFAULTS, hiddenSize: 16, latentSize: 2 });
  const l1 = iwaeEstimate(model, data, { k: 1, seed: 1, limit: 20 });
  const l50 = iwaeEstimate(model, data, { k: 50, seed: 1, limit: 20 });
  assertEquals(l1.values.length, 20);
  assert(Number.isFinite(l1.stdError) && l1.stdError > 0);
  assert(l50.mean > l1.mean, `L_50 ${l50.mean} <= L_1 ${l1.mean}`);
  disposeModel(model);
});

Deno.test("nearestImageSimilarity() is 1 for images of the reference set and lower for noise", () => {
  const first = data.images.slice(0, 3 * 784);
  assertEquals(Array.from(nearestImageSimilarity(first, data), (v) => Math.round(v * 1e4)), [
    1e4,
    1e4,
    1e4,
  ]);
  const noise = noisyImages({ ...data, images: new Float32Array(784).fill(0.5), size: 1 }, {
    noise: 0.5,
    seed: 1,
  });
  assert(nearestImageSimilarity(noise.images, data)[0] < 0.6);
  assertThrows(() => nearestImageSimilarity(new Float32Array(5), data), RangeError, "got 5");
});

Deno.test("noisyImages() stays in [0, 1] and pixelMse() measures the noise it added", () => {
  const noisy = noisyImages(data, { noise: 0.3, seed: 2 });
  assert(noisy.images.every((p) => p >= 0 && p <= 1));
  const errors = pixelMse(noisy.images, data.images);
  assertEquals(errors.length, 40);
  assert(mean(errors) > 0.02 && mean(errors) < 0.09, `mse ${mean(errors)}`);
  assertEquals(Array.from(pixelMse(data.images, data.images)).every((e) => e === 0), true);
  assertThrows(
    () => noisyImages(data, { noise: -1, seed: 0 }),
    RangeError,
    "noise must be a non-negative number; got -1",
  );
});

Deno.test("codeSpread() is center 0 and scale 1 for standard normal codes", () => {
  const mean = priorCodes({ latentSize: 4, n: 20_000, seed: 5 });
  const { center, scale } = codeSpread({ mean, latentSize: 4, size: 20_000 });
  assert(center < 0.03 && Math.abs(scale - 1) < 0.03, `center ${center}, scale ${scale}`);
});

Deno.test("interpolation() starts and ends at the two images' reconstructions", () => {
  const model = buildModel({ ...VAE_DEFAULTS, hiddenSize: 16, latentSize: 2 });
  const path = interpolation(model, data, { from: 3, to: 8, steps: 6 });
  const ends = reconstruct(model, subset(data, [3, 8]));
  assertEquals(path.length, 6 * 784);
  assert(mean(pixelMse(concatImages(path.slice(0, 784), path.slice(5 * 784)), ends)) < 1e-10);
  disposeModel(model);
});
