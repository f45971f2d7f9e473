import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  blurredImages,
  buildModel,
  CLASSIFIER_DEFAULTS,
  classifierScore,
  digitShares,
  disposeModel,
  featureStats,
  frechetDistance,
  initBackend,
  noisyImages,
  normal,
  referenceStats,
  rng,
  sampleQuality,
  slicedWasserstein,
  symmetricEigen,
} from "../../lib/mod.ts";
import { syntheticDigits } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

/** R diag(lambda) R^T for a rotation R in the (0, 1) and (1, 2) planes, row-major [3, 3]. */
function rotatedCovariance(lambda: number[]): Float64Array {
  const rotation = (i: number, j: number, angle: number) => {
    const r = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    r[i * 3 + i] = Math.cos(angle);
    r[j * 3 + j] = Math.cos(angle);
    r[i * 3 + j] = -Math.sin(angle);
    r[j * 3 + i] = Math.sin(angle);
    return r;
  };
  const multiply = (a: number[], b: number[]) =>
    Array.from({ length: 9 }, (_, k) => {
      const [i, j] = [Math.floor(k / 3), k % 3];
      return a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
    });
  const r = multiply(rotation(0, 1, 0.7), rotation(1, 2, -0.4));
  const d = [lambda[0], 0, 0, 0, lambda[1], 0, 0, 0, lambda[2]];
  const rt = [r[0], r[3], r[6], r[1], r[4], r[7], r[2], r[5], r[8]];
  return Float64Array.from(multiply(multiply(r, d), rt));
}

/** n draws of N(mean, C) for C = L L^T given by its Cholesky factor, row-major [n, 3]. */
function gaussianDraws(n: number, mean: number[], cov: Float64Array, seed: number): Float64Array {
  const l = [Math.sqrt(cov[0]), 0, 0, 0, 0, 0, 0, 0, 0];
  l[3] = cov[3] / l[0];
  l[4] = Math.sqrt(cov[4] - l[3] ** 2);
  l[6] = cov[6] / l[0];
  l[7] = (cov[7] - l[6] * l[3]) / l[4];
  l[8] = Math.sqrt(cov[8] - l[6] ** 2 - l[7] ** 2);
  const random = rng(seed);
  const out = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    const e = [normal(random), normal(random), normal(random)];
    for (let r = 0; r < 3; r++) {
      out[i * 3 + r] = mean[r] + l[r * 3] * e[0] + l[r * 3 + 1] * e[1] + l[r * 3 + 2] * e[2];
    }
  }
  return out;
}

Deno.test("symmetricEigen: A v = lambda v for each pair, eigenvalues those A was built from", () => {
  const a = rotatedCovariance([4, 1, 0.25]);
  const { values, vectors } = symmetricEigen(a, 3);
  assertEquals(Array.from(values).map((v) => Math.round(v * 1e9) / 1e9).sort((x, y) => x - y), [
    0.25,
    1,
    4,
  ]);
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < 3; i++) {
      let av = 0;
      for (let j = 0; j < 3; j++) av += a[i * 3 + j] * vectors[j * 3 + k];
      assertAlmostEquals(av, values[k] * vectors[i * 3 + k], 1e-9);
    }
  }
});

Deno.test("frechetDistance: exact statistics give the closed form, a set against itself 0", () => {
  // A = a I and B = R diag(lambda) R^T: tr sqrt(A^1/2 B A^1/2) = sqrt(a) sum sqrt(lambda).
  const a = 2;
  const lambda = [4, 1, 0.25];
  const first = {
    dim: 3,
    count: 2,
    mean: Float64Array.from([0, 0, 0]),
    covariance: Float64Array.from([a, 0, 0, 0, a, 0, 0, 0, a]),
  };
  const second = {
    dim: 3,
    count: 2,
    mean: Float64Array.from([1, -2, 0.5]),
    covariance: rotatedCovariance(lambda),
  };
  const closed = 1 + 4 + 0.25 + 3 * a + 5.25 - 2 * Math.sqrt(a) * (2 + 1 + 0.5);
  assertAlmostEquals(frechetDistance(first, second), closed, 1e-9);
  assertAlmostEquals(frechetDistance(second, first), closed, 1e-9);
  assertAlmostEquals(frechetDistance(second, second), 0, 1e-9);
  // Commuting diagonal covariances: sum (sqrt(a_i) - sqrt(b_i))^2.
  const diagonal = (d: number[]) => Float64Array.from([d[0], 0, 0, 0, d[1], 0, 0, 0, d[2]]);
  const diag = frechetDistance(
    { ...first, covariance: diagonal([1, 4, 9]) },
    { ...first, covariance: diagonal([4, 4, 1]) },
  );
  assertAlmostEquals(diag, 1 + 0 + 4, 1e-9);
});

Deno.test("frechetDistance: from 20,000 draws of two Gaussians, within 3% of the closed form", () => {
  const lambda = [4, 1, 0.25];
  const meanB = [1, -2, 0.5];
  const covA = Float64Array.from([2, 0, 0, 0, 2, 0, 0, 0, 2]);
  const covB = rotatedCovariance(lambda);
  const closed = 5.25 + 6 + 5.25 - 2 * Math.sqrt(2) * 3.5;
  const statsA = featureStats(gaussianDraws(20000, [0, 0, 0], covA, 1), 3);
  const statsB = featureStats(gaussianDraws(20000, meanB, covB, 2), 3);
  const measured = frechetDistance(statsA, statsB);
  assert(
    Math.abs(measured - closed) < 0.03 * closed,
    `measured ${measured}, closed form ${closed}`,
  );
  const again = featureStats(gaussianDraws(20000, [0, 0, 0], covA, 3), 3);
  assert(frechetDistance(statsA, again) < 0.01, "two samples of one Gaussian are close");
});

Deno.test("sampleQuality: the distance rises monotonically as noise or blur is added", () => {
  // An untrained classifier's features are enough to see images move away from the reference.
  const classifier = buildModel({ ...CLASSIFIER_DEFAULTS, latentSize: 32 });
  const data = syntheticDigits(600, 4);
  const reference = referenceStats(classifier, syntheticDigits(600, 5).images);
  const score = (images: Float32Array) => sampleQuality(classifier, images, reference).frechet;
  const noisy = [0, 0.1, 0.2, 0.4].map((noise) =>
    score(noisyImages(data, { noise, seed: 1 }).images)
  );
  const blurred = [0, 0.7, 1.4, 2.8].map((sigma) => score(blurredImages(data, { sigma }).images));
  for (const series of [noisy, blurred]) {
    for (let i = 1; i < series.length; i++) {
      assert(series[i] > series[i - 1], `not increasing: ${series.join(", ")}`);
    }
  }
  assert(noisy[0] < 0.2 * noisy[3], `clean images are close to the reference: ${noisy}`);
  disposeModel(classifier);
});

Deno.test("classifierScore and digitShares: 10 and even shares for sure, balanced guesses", () => {
  const sure = new Float32Array(100 * 10);
  for (let i = 0; i < 100; i++) sure[i * 10 + (i % 10)] = 1;
  assertAlmostEquals(classifierScore(sure), 10, 1e-9);
  assertEquals(digitShares(sure).map((s) => Math.round(s * 1e9) / 1e9), new Array(10).fill(0.1));
  const vague = new Float32Array(100 * 10).fill(0.1);
  assertAlmostEquals(classifierScore(vague), 1, 1e-6);
  // Collapsed onto two digits, surely: score 2, eight shares 0.
  const two = new Float32Array(100 * 10);
  for (let i = 0; i < 100; i++) two[i * 10 + (i % 2)] = 1;
  assertAlmostEquals(classifierScore(two), 2, 1e-6);
  assertEquals(Math.min(...digitShares(two)), 0);
});

Deno.test("slicedWasserstein: 0 for a set against itself, the shift for shifted sets in 1-D", () => {
  const random = rng(3);
  const points = Float64Array.from({ length: 2000 }, () => normal(random));
  assertEquals(slicedWasserstein(points, points, 2), 0);
  const shifted = points.map((v) => v + 1.5);
  assertAlmostEquals(slicedWasserstein(points, shifted, 1), 1.5, 1e-9);
  assertThrows(() => slicedWasserstein(points, new Float64Array(0), 2), RangeError);
});

Deno.test("sampleQuality leaves no tensor behind and refuses a model that is not a classifier", () => {
  const classifier = buildModel({ ...CLASSIFIER_DEFAULTS, latentSize: 8 });
  const images = syntheticDigits(40, 6).images;
  const before = tf.memory().numTensors;
  const reference = referenceStats(classifier, images);
  const quality = sampleQuality(classifier, images, reference);
  assertEquals(tf.memory().numTensors, before);
  assertAlmostEquals(quality.frechet, 0, 1e-6);
  assertEquals(quality.count, 40);
  const vae = buildModel({ ...CLASSIFIER_DEFAULTS, kind: "vae", arch: "mlp", latentSize: 8 });
  assertThrows(() => sampleQuality(vae, images, reference), TypeError, "needs a classifier");
  disposeModel(classifier);
  disposeModel(vae);
});
