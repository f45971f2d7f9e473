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
  pixelMse,
  posteriorCodes,
  priorCodes,
  reconstruct,
  reconstructionError,
  subset,
  TRAIN_DEFAULTS,
  VAE_DEFAULTS,
} from "../../lib/mod.ts";
import { syntheticDigits } from "../synthetic.ts";

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
