import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  buildModel,
  type Dataset,
  disposeModel,
  elboTerms,
  importanceCurve,
  initBackend,
  iwaeEstimate,
  logWeightTerms,
  meanWithError,
  mixturePrior,
  normalSeed,
  VAE_DEFAULTS,
} from "../../lib/mod.ts";

await initBackend({ backend: "wasm", quiet: true });

/** `n` images of seeded uniform pixels. */
function images(n: number, seed: number): Dataset {
  const pixels = tf.randomUniform([n, 784], 0, 1, "float32", seed);
  const data = { images: pixels.dataSync() as Float32Array, labels: new Uint8Array(n), size: n };
  pixels.dispose();
  return data;
}

const model = () => buildModel({ ...VAE_DEFAULTS, hiddenSize: 16, latentSize: 3, seed: 4 });

Deno.test("iwaeEstimate() with k = 1 equals the ELBO in expectation", () => {
  const vae = model();
  const one = images(1, 9);
  const repeats = 400;
  const many: Dataset = {
    images: new Float32Array(repeats * 784).map((_, i) => one.images[i % 784]),
    labels: new Uint8Array(repeats),
    size: repeats,
  };
  const iwae = meanWithError(iwaeEstimate(vae, many, { k: 1, seed: 5 }).values);
  const loss = tf.tidy(() =>
    elboTerms(vae, tf.tensor2d(many.images, [repeats, 784]), { seed: 6 }).loss.dataSync()
  );
  const elbo = meanWithError(loss.map((v) => -v));
  assert(
    Math.abs(iwae.mean - elbo.mean) < 4 * Math.hypot(iwae.stdError, elbo.stdError),
    `L_1 ${iwae.mean} ± ${iwae.stdError} vs ELBO ${elbo.mean} ± ${elbo.stdError}`,
  );
  disposeModel(vae);
});

Deno.test("iwaeEstimate() grows with k, does not depend on chunking, and leaks nothing", () => {
  const vae = model();
  const data = images(4, 9);
  const before = tf.memory().numTensors;
  const mean = (k: number, chunkSize?: number) =>
    iwaeEstimate(vae, data, { k, seed: 3, chunkSize }).mean;
  const [l1, l10, l100] = [mean(1), mean(10), mean(100)];
  assert(l1 < l10 && l10 < l100, `L_1 ${l1}, L_10 ${l10}, L_100 ${l100}`);
  // Chunks of 7 rows draw other samples: the same bound up to Monte-Carlo noise.
  const chunked = mean(100, 7);
  assert(chunked !== l100 && Math.abs(chunked - l100) < 0.5, `chunked ${chunked} vs ${l100}`);
  assertEquals(tf.memory().numTensors, before);
  assertThrows(() => iwaeEstimate(vae, data, { k: 0 }), RangeError, "k must be a positive integer");
  disposeModel(vae);
});

Deno.test("iwaeEstimate() is importanceCurve()'s L_k for one k, drawn the same way", () => {
  const vae = model();
  const data = images(6, 2);
  const curve = importanceCurve(vae, data, { ks: [20], seed: 11 });
  const estimate = iwaeEstimate(vae, data, { k: 20, seed: 11 });
  assertEquals(Array.from(estimate.values), Array.from(curve.bounds[0]));
  // Another seed draws other samples.
  const other = iwaeEstimate(vae, data, { k: 20, seed: 12 });
  assert(other.values.some((v, i) => v !== estimate.values[i]));
  disposeModel(vae);
});

Deno.test("logWeightTerms() are log p(x|z) and log p(z) - log q(z|x), row i * s + j for image i", () => {
  const vae = model();
  const x = tf.tensor2d(images(2, 1).images, [2, 784]);
  const { mean, logVar } = vae.encode(x);
  const terms = logWeightTerms(vae, { x, mean, logVar: logVar!, samples: 3, seed: 4 });
  assertEquals(terms.shape, [2, 6]);
  const [logLik, logRatio] = terms.arraySync() as number[][];
  // A Bernoulli log-likelihood of 784 pixels is negative; the ratio is finite.
  assert(logLik.every((v) => v < 0) && logRatio.every(Number.isFinite));
  // A q far narrower than the prior: log p(z) - log q(z|x) < 0 at every draw.
  const sharp = tf.fill(logVar!.shape, -12) as tf.Tensor2D;
  const narrow = logWeightTerms(vae, { x, mean, logVar: sharp, samples: 3, seed: 4 });
  assert((narrow.arraySync() as number[][])[1].every((v) => v < 0));
  tf.dispose([x, mean, logVar!, terms, sharp, narrow]);
  disposeModel(vae);
});

Deno.test("logWeightTerms() under a mixture prior: log p(z) - log q(z|x) in float64 at the same draws", () => {
  // Three components of unequal weights and spreads near the codes: each counts in log p(z).
  const means = [[0.5, -0.3, 0.2], [-0.6, 0.4, 0], [0.1, 0.8, -0.7]];
  const logVars = [[0, -0.5, 0.3], [-0.2, 0.4, 0], [0.6, -0.3, -0.1]];
  const logits = [0.7, -0.4, 0.1];
  const prior = mixturePrior({
    means: tf.tensor2d(means),
    logVars: tf.tensor2d(logVars),
    logits: tf.tensor1d(logits),
  });
  const vae = { ...model(), prior };
  const [g, s, L] = [2, 4, 3];
  const x = tf.tensor2d(images(g, 1).images, [g, 784]);
  const mean = tf.tensor2d([[0.2, -0.1, 0.4], [-0.5, 0.3, 0.1]]);
  const logVar = tf.tensor2d([[-0.4, 0.2, -1], [0.1, -0.6, -0.2]]);
  const terms = logWeightTerms(vae, { x, mean, logVar, samples: s, seed: 8 });
  const eps = tf.tidy(() =>
    tf.randomNormal([g * s, L], 0, 1, "float32", normalSeed(8)).arraySync()
  );
  const [m, lv] = [mean.arraySync(), logVar.arraySync()];
  const total = logits.reduce((a, l) => a + Math.exp(l), 0);
  const halfLog2Pi = 0.5 * Math.log(2 * Math.PI);
  const ratios = (eps as number[][]).map((e, row) => {
    const i = Math.floor(row / s);
    const z = e.map((v, l) => m[i][l] + Math.exp(lv[i][l] / 2) * v);
    const logQ = e.reduce((a, v, l) => a - halfLog2Pi - lv[i][l] / 2 - v * v / 2, 0);
    const perComponent = means.map((mu, k) =>
      Math.log(Math.exp(logits[k]) / total) +
      z.reduce((a, v, l) =>
        a - halfLog2Pi - logVars[k][l] / 2 - (v - mu[l]) ** 2 / (2 * Math.exp(logVars[k][l])), 0)
    );
    const top = Math.max(...perComponent);
    return top + Math.log(perComponent.reduce((a, c) => a + Math.exp(c - top), 0)) - logQ;
  });
  const got = (terms.arraySync() as number[][])[1];
  for (const [row, want] of ratios.entries()) {
    assert(Math.abs(got[row] - want) < 1e-4, `row ${row}: ${got[row]} vs ${want} (float64)`);
  }
  tf.dispose([x, mean, logVar, terms]);
  disposeModel(vae);
});

Deno.test("importanceCurve()'s peak memory is set by chunkSize, not by the images or k", async () => {
  const vae = buildModel({ ...VAE_DEFAULTS, hiddenSize: 16, latentSize: 4 });
  const data = images(64, 1);
  const peak = async (limit: number, k: number, chunkSize: number) => {
    const before = tf.memory().numBytes;
    const info = await tf.profile(() => {
      importanceCurve(vae, data, { ks: [1, k], limit, chunkSize, seed: 1 });
    });
    assertEquals(tf.memory().numBytes, before, "nothing is left behind");
    return info.peakBytes - before;
  };
  const small = await peak(8, 64, 512); // 8 images of 64 samples: one full chunk
  // 8 times the images, 16 times the samples: the same peak.
  assertEquals(await peak(64, 64, 512), small);
  const manySamples = await peak(64, 1024, 512);
  assertEquals(await peak(4, 1024, 512), manySamples);
  assert(Math.abs(manySamples - small) < 0.01 * small, `${manySamples} against ${small}`);
  // About six [chunkSize, 784] float32 arrays at once (x repeated, logits, their products).
  assert(small < 8 * 512 * 784 * 4, `${small} bytes`);
  assert(await peak(8, 1024, 2048) > 3 * small, "a larger chunk holds more at once");
  disposeModel(vae);
});
