import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  activeUnits,
  AE_DEFAULTS,
  aggregatePosteriorCodes,
  bernoulliImages,
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
  laplacianVariance,
  mean,
  nearDuplicateShare,
  nearestImageSimilarity,
  noisyImages,
  pixelMse,
  posteriorCodes,
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

Deno.test("aggregatePosteriorCodes() of a VAE draws from each picked image's Gaussian", () => {
  // Two images: q(z | x1) = N((-10, 0), diag(4, 0.25)), q(z | x2) = N((10, 0), diag(4, 0.25)).
  const codes = {
    mean: Float32Array.of(-10, 0, 10, 0),
    logVar: Float32Array.of(Math.log(4), Math.log(0.25), Math.log(4), Math.log(0.25)),
    latentSize: 2,
    size: 2,
  };
  const n = 20000;
  const drawn = aggregatePosteriorCodes(codes, { n, seed: 5 });
  // Each draw belongs to the image on its side of 0: its distance to that mean has sd 2 and 0.5.
  const deviations = [0, 1].map((j) =>
    Array.from(
      { length: n },
      (_, s) => drawn[2 * s + j] - (j === 0 ? Math.sign(drawn[2 * s]) * 10 : 0),
    )
  );
  const sd = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);
  assertAlmostEquals(sd(deviations[0]), 2, 0.04); // standard error about 0.01
  assertAlmostEquals(sd(deviations[1]), 0.5, 0.01);
  const left = Array.from({ length: n }, (_, s) => drawn[2 * s] < 0).filter(Boolean).length;
  assertAlmostEquals(left / n, 0.5, 0.02);
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
  // Variances 1, 0.0121 and 1e-4 across four codes: two units above 0.01, one below, so a flipped
  // comparison (1 unit) or a threshold on the std (3 units) changes the count.
  const rows = [[1, 0.11, 0.01], [-1, -0.11, -0.01], [1, 0.11, 0.01], [-1, -0.11, -0.01]];
  const mean = new Float32Array(rows.flat());
  const { count, variances } = activeUnits({ mean, latentSize: 3, size: 4 });
  assertEquals(count, 2);
  assertAlmostEquals(variances[0], 1, 1e-6);
  assertAlmostEquals(variances[1], 0.0121, 1e-7);
  assertAlmostEquals(variances[2], 1e-4, 1e-8);
  assertEquals(activeUnits({ mean, latentSize: 3, size: 4 }, 0.02).count, 1);
});

Deno.test("reconstructionError() of an autoencoder equals evaluate()'s reconstruction term", () => {
  const model = buildModel({ ...AE_DEFAULTS, hiddenSize: 16, latentSize: 2 });
  const expected = evaluate(model, data, TRAIN_DEFAULTS).reconstruction;
  assertAlmostEquals(reconstructionError(model, data), expected, 1e-2);
  disposeModel(model);
});

Deno.test("iwaeEstimate() gives the mean and standard error of its per-image values, rising with k", () => {
  const model = buildModel({ ...VAE_DEFAULTS, hiddenSize: 16, latentSize: 2 });
  const l1 = iwaeEstimate(model, data, { k: 1, seed: 1, limit: 20 });
  const l50 = iwaeEstimate(model, data, { k: 50, seed: 1, limit: 20 });
  assertEquals(l1.values.length, 20);
  // The mean and the standard error are those of the per-image values.
  const values = Array.from(l1.values);
  const m = values.reduce((a, b) => a + b, 0) / 20;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / 19);
  assertAlmostEquals(l1.mean, m, 1e-9 * Math.abs(m));
  assertAlmostEquals(l1.stdError, sd / Math.sqrt(20), 1e-9 * sd);
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

/** An image with pixel value `value` at each of `at` (pixel indices), 0 elsewhere. */
function imageWith(at: number[], value = 1): Float32Array {
  const image = new Float32Array(784);
  for (const i of at) image[i] = value;
  return image;
}

Deno.test("nearDuplicateShare() counts the pairs above the cosine threshold", () => {
  // A, a fainter A (cosine 1), A with one more pixel, and an image disjoint from A.
  const a = Array.from({ length: 10 }, (_, i) => 300 + i);
  const images = concatImages(
    imageWith(a),
    imageWith(a, 0.5),
    imageWith([...a, 500]),
    imageWith([100]),
  );
  // Cosine of A and A + 1 pixel: 10 / sqrt(10 * 11) = 0.9535; every pair with the last is 0.
  assertEquals(nearDuplicateShare(images, { threshold: 0.99 }), 1 / 6);
  assertEquals(nearDuplicateShare(images, { threshold: 0.95 }), 3 / 6);
  assertEquals(nearDuplicateShare(images, { threshold: 0.96 }), 1 / 6);
  assertThrows(
    () => nearDuplicateShare(imageWith([1]), { threshold: 0.9 }),
    RangeError,
    "2 or more",
  );
  assertThrows(() => nearDuplicateShare(images, { threshold: 1 }), RangeError, "threshold");
});

Deno.test("laplacianVariance() of one bright pixel is 20 / 676, of a flat image 0, and a blur lowers it", () => {
  const dot = imageWith([10 * 28 + 10]);
  // Inside the 26 x 26 interior: 4 at the pixel, -1 at its four neighbours: mean 0, variance 20 / 676.
  assertAlmostEquals(laplacianVariance(dot), 20 / 676, 1e-9);
  assertEquals(laplacianVariance(new Float32Array(784).fill(0.3)), 0);
  // The mean over images: a flat image and the dot average to half the dot's.
  assertAlmostEquals(laplacianVariance(concatImages(dot, new Float32Array(784))), 10 / 676, 1e-9);
  const blurred = imageWith([10 * 28 + 10, 10 * 28 + 11, 11 * 28 + 10, 11 * 28 + 11], 0.25);
  assert(laplacianVariance(blurred) < laplacianVariance(dot));
});

Deno.test("bernoulliImages() draws 0/1 pixels at the means' rates, the same for a seed", () => {
  const means = new Float32Array(784 * 50).map((_, i) => [0, 1, 0.3][i % 3]);
  const drawn = bernoulliImages(means, { seed: 4 });
  assert(drawn.every((v) => v === 0 || v === 1));
  assert(drawn.every((v, i) => i % 3 === 2 || v === means[i]));
  const share = mean(Array.from(drawn).filter((_, i) => i % 3 === 2));
  const se = Math.sqrt(0.3 * 0.7 / (784 * 50 / 3));
  assert(Math.abs(share - 0.3) < 3 * se, `share of 1s at p = 0.3: ${share}`);
  assertEquals(bernoulliImages(means, { seed: 4 }), drawn);
  assertThrows(
    () => bernoulliImages(new Float32Array(784).fill(1.5), { seed: 1 }),
    RangeError,
    "[0, 1]",
  );
  assertThrows(
    () => bernoulliImages(new Float32Array(10), { seed: 1 }),
    RangeError,
    "multiple of 784",
  );
});

Deno.test("posteriorCodes() draws z ~ q(z|x) for one image: its mean and spread, copies for an AE", () => {
  const codes = {
    mean: Float32Array.from([0, 0, 5, -3]),
    logVar: Float32Array.from([0, 0, Math.log(0.25), Math.log(4)]),
    size: 2,
    latentSize: 2,
  };
  const n = 4000;
  const z = posteriorCodes(codes, { index: 1, n, seed: 2 });
  const unit = (j: number) => Array.from({ length: n }, (_, s) => z[s * 2 + j]);
  const std = (v: number[]) => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));
  assertAlmostEquals(mean(unit(0)), 5, 3 * 0.5 / Math.sqrt(n));
  assertAlmostEquals(mean(unit(1)), -3, 3 * 2 / Math.sqrt(n));
  assertAlmostEquals(std(unit(0)), 0.5, 0.03);
  assertAlmostEquals(std(unit(1)), 2, 0.1);
  const ae = posteriorCodes({ ...codes, logVar: undefined }, { index: 1, n: 3, seed: 2 });
  assertEquals(Array.from(ae), [5, -3, 5, -3, 5, -3]);
  assertThrows(() => posteriorCodes(codes, { index: 2, n: 1, seed: 0 }), RangeError, "index");
});
