import * as tf from "@tensorflow/tfjs";
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertNotEquals,
  assertThrows,
} from "@std/assert";
import {
  buildModel,
  CLASSIFIER_DEFAULTS,
  classifierView,
  criticScore,
  digitShares,
  disposeModel,
  featureStats,
  GAN_DEFAULTS,
  generatorImages,
  initBackend,
  laplacianVariance,
  nearDuplicateShare,
  type Run,
  runQuality,
  runSampleShape,
  sampleQuality,
  snapshotShares,
  VAE_DEFAULTS,
} from "../../lib/mod.ts";
import { syntheticDigits } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });
const data = syntheticDigits(7, 3);

Deno.test("criticScore() is the mean of sigmoid(critic(2x - 1)) over every batch, partial ones too", () => {
  const gan = buildModel({ ...GAN_DEFAULTS, latentSize: 8 });
  // The MLP GAN's critic has no batch normalisation: batches of 3 (3 + 3 + 1) give the mean of all.
  const expected = tf.tidy(() => {
    const x = tf.sub(tf.mul(tf.tensor2d(data.images, [7, 784]), 2), 1) as tf.Tensor2D;
    return tf.mean(tf.sigmoid(gan.critic!(x))).dataSync()[0];
  });
  const before = tf.memory().numTensors;
  assertAlmostEquals(criticScore(gan, data.images, { batchSize: 3 }), expected, 1e-6);
  assertEquals(tf.memory().numTensors, before);
  const vae = buildModel({ ...VAE_DEFAULTS, hiddenSize: 8, latentSize: 2 });
  assertThrows(() => criticScore(vae, data.images), TypeError, "needs a GAN");
  assertThrows(() => criticScore(gan, data.images.subarray(1)), RangeError, "multiple of 784");
});

Deno.test("snapshotShares() counts each epoch's own snapshot, and refuses a run that is not a GAN", () => {
  const classifier = buildModel({ ...CLASSIFIER_DEFAULTS });
  const gan = buildModel({ ...GAN_DEFAULTS, latentSize: 8 });
  // Two different epochs: the first snapshot real digits, the second blank images.
  const snapshots = [data.images, new Float32Array(data.images.length)];
  const run = { config: gan.config, snapshots } as unknown as Run;
  const shares = snapshotShares(run, classifier);
  assertEquals(shares.length, 2);
  snapshots.forEach((pixels, epoch) =>
    assertEquals(shares[epoch], digitShares(classifierView(classifier, pixels).probabilities))
  );
  // Blank images all get one guess: one share is 1.
  assertAlmostEquals(Math.max(...shares[1]), 1, 1e-9);
  assertNotEquals(shares[0], shares[1]);
  const notGan = { config: { kind: "vae" }, snapshots } as unknown as Run;
  assertThrows(() => snapshotShares(notGan, classifier), TypeError, "needs a GAN run");
});

Deno.test("runSampleShape() measures the samples (or the given images) once per key", async () => {
  const folder = await Deno.makeTempDir();
  try {
    const model = buildModel({ ...VAE_DEFAULTS, hiddenSize: 8, latentSize: 2 });
    const run = { folder, model, config: model.config } as unknown as Run;
    const samples = generatorImages(model, 20, 4);
    const shape = await runSampleShape(run, { n: 20, seed: 4, threshold: 0.99 });
    assertEquals(shape, {
      nearDuplicates: nearDuplicateShare(samples, { threshold: 0.99 }),
      sharpness: laplacianVariance(samples),
    });
    // Real images under their own key: not the samples' value.
    const real = await runSampleShape(run, {
      n: 7,
      seed: 4,
      threshold: 0.99,
      images: data.images,
      source: "7 synthetic digits",
    });
    assertEquals(real.sharpness, laplacianVariance(data.images));
    // A stricter threshold is another key: measured again.
    const loose = await runSampleShape(run, { n: 20, seed: 4, threshold: -0.5 });
    assertEquals(loose.nearDuplicates, 1);
    const kept = JSON.parse(await Deno.readTextFile(`${folder}/measures.json`));
    assertEquals(Object.keys(kept).length, 3);
    assert(Object.keys(kept).every((key) => key.startsWith("sample shape: ")));
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("runQuality() keeps one score per classifier, count, seed and reference", async () => {
  const folder = await Deno.makeTempDir();
  try {
    const model = buildModel({ ...VAE_DEFAULTS, hiddenSize: 8, latentSize: 2 });
    const classifierModel = buildModel({ ...CLASSIFIER_DEFAULTS, latentSize: 4 });
    const run = { folder, model, config: model.config } as unknown as Run;
    const classifier = { model: classifierModel, hash: "c1" } as unknown as Run;
    const stats = featureStats(classifierView(classifierModel, data.images).features, 4);
    const score = (n: number, seed: number, reference = "7 synthetic") =>
      runQuality(run, classifier, stats, { n, seed, reference });
    const first = await score(10, 1);
    assertEquals(first.count, 10);
    assertEquals(first, sampleQuality(classifierModel, generatorImages(model, 10, 1), stats));
    // Each of n, seed and reference is part of the key: each is measured anew.
    assertEquals((await score(20, 1)).count, 20);
    assertNotEquals((await score(10, 2)).frechet, first.frechet);
    await score(10, 1, "another reference");
    const other = { model: classifierModel, hash: "c2" } as unknown as Run;
    await runQuality(run, other, stats, { n: 10, seed: 1, reference: "7 synthetic" });
    const kept = JSON.parse(await Deno.readTextFile(`${folder}/measures.json`));
    assertEquals(Object.keys(kept).length, 5);
    // A second call with the same key reads the kept value.
    const key = Object.keys(kept).find((k) =>
      k.includes("10 samples, seed 1") && k.includes("7 synthetic")
    )!;
    kept[key].frechet = -1;
    await Deno.writeTextFile(`${folder}/measures.json`, JSON.stringify(kept));
    assertEquals((await score(10, 1)).frechet, -1);
    disposeModel(model);
    disposeModel(classifierModel);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
