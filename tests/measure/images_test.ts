import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  bernoulliImages,
  concatImages,
  initBackend,
  laplacianVariance,
  mean,
  nearDuplicateShare,
  nearestImageSimilarity,
  noisyImages,
  pixelMse,
} from "../../lib/mod.ts";
import { syntheticDigits } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });
const data = syntheticDigits(40, 7);

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
