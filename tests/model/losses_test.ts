import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  AE_DEFAULTS,
  bernoulliLogLikelihood,
  buildModel,
  disposeModel,
  elboTerms,
  gaussianKl,
  gaussianLogDensity,
  gaussianLogLikelihood,
  initBackend,
  laplaceLogLikelihood,
  logLikelihood,
  type Model,
  reparameterize,
  standardNormalLogDensity,
  VAE_DEFAULTS,
} from "../../lib/mod.ts";

await initBackend({ backend: "wasm", quiet: true });

function values(t: tf.Tensor): number[] {
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
}

Deno.test("gaussianKl() is 0 for a standard normal", () => {
  const zero = tf.zeros([3, 4]) as tf.Tensor2D;
  assertEquals(values(gaussianKl(zero, zero)), [0, 0, 0]);
  zero.dispose();
});

Deno.test("gaussianKl() matches hand-computed values", () => {
  // mean 1, var 1: 1/2 per dimension; mean 0, var 4: (4 - 1 - log 4) / 2.
  const mean = tf.tensor2d([[1, 1], [0, 0]]);
  const logVar = tf.tensor2d([[0, 0], [Math.log(4), 0]]);
  const [a, b] = values(gaussianKl(mean, logVar));
  assertAlmostEquals(a, 1, 1e-6);
  assertAlmostEquals(b, (4 - 1 - Math.log(4)) / 2, 1e-5);
  tf.dispose([mean, logVar]);
});

Deno.test("gaussianKl() agrees with a Monte-Carlo estimate of E_q[log q - log p]", () => {
  const n = 200_000;
  const mean = tf.tile(tf.tensor2d([[0.7, -1.2, 0.1]]), [n, 1]) as tf.Tensor2D;
  const logVar = tf.tile(tf.tensor2d([[-0.5, 0.8, -2]]), [n, 1]) as tf.Tensor2D;
  const eps = tf.randomNormal([n, 3], 0, 1, "float32", 11) as tf.Tensor2D;
  const z = reparameterize(mean, logVar, eps);
  const samples = values(tf.sub(gaussianLogDensity(z, mean, logVar), standardNormalLogDensity(z)));
  const mc = samples.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(samples.reduce((s, v) => s + (v - mc) ** 2, 0) / (n - 1));
  const exact = values(gaussianKl(mean.slice([0, 0], [1, 3]), logVar.slice([0, 0], [1, 3])))[0];
  assert(Math.abs(mc - exact) < 4 * sd / Math.sqrt(n), `MC ${mc} vs closed form ${exact}`);
  tf.dispose([mean, logVar, eps, z]);
});

Deno.test("bernoulliLogLikelihood() matches x log p + (1 - x) log(1 - p) and stays finite", () => {
  const x = tf.tensor2d([[0.3, 1, 0]]);
  const logits = tf.tensor2d([[0.5, -2, 3]]);
  const expected = [[0.3, 0.5], [1, -2], [0, 3]].reduce((s, [xi, l]) => {
    const p = 1 / (1 + Math.exp(-l));
    return s + xi * Math.log(p) + (1 - xi) * Math.log(1 - p);
  }, 0);
  assertAlmostEquals(values(bernoulliLogLikelihood(x, logits))[0], expected, 1e-5);
  const extreme = tf.tensor2d([[200, -200, 200]]);
  const [v] = values(bernoulliLogLikelihood(x, extreme));
  // x l - softplus(l) per pixel: (60 - 200) + (-200 - 0) + (0 - 200), with no overflow.
  assertAlmostEquals(v, -540, 1e-3);
  tf.dispose([x, logits, extreme]);
});

Deno.test("gaussian and laplace log-likelihoods match their densities at sigmoid(logits)", () => {
  const x = tf.tensor2d([[0.2, 0.9]]);
  const logits = tf.tensor2d([[0, 2]]);
  const m = [0.5, 1 / (1 + Math.exp(-2))];
  const s = 0.3;
  const gauss = [0.2, 0.9].reduce(
    (acc, xi, i) =>
      acc - (xi - m[i]) ** 2 / (2 * s * s) - Math.log(s) - 0.5 * Math.log(2 * Math.PI),
    0,
  );
  const laplace = [0.2, 0.9].reduce(
    (acc, xi, i) => acc - Math.abs(xi - m[i]) / s - Math.log(2 * s),
    0,
  );
  assertAlmostEquals(values(gaussianLogLikelihood(x, logits, s))[0], gauss, 1e-5);
  assertAlmostEquals(values(laplaceLogLikelihood(x, logits, s))[0], laplace, 1e-5);
  assertAlmostEquals(
    values(logLikelihood(x, logits, { likelihood: "laplace", scale: s }))[0],
    laplace,
    1e-5,
  );
  assertThrows(
    () => gaussianLogLikelihood(x, logits, 0),
    RangeError,
    "scale must be a positive number; got 0",
  );
  assertThrows(
    () => logLikelihood(x, logits, { likelihood: "poisson" as "laplace" }),
    RangeError,
    "poisson",
  );
  tf.dispose([x, logits]);
});

/** A small VAE and a batch of inputs in [0, 1]. */
function smallVae(): { model: Model; x: tf.Tensor2D } {
  const model = buildModel({ ...VAE_DEFAULTS, hiddenSize: 16, latentSize: 3, seed: 4 });
  const x = tf.randomUniform([4, 784], 0, 1, "float32", 9) as tf.Tensor2D;
  return { model, x };
}

Deno.test("elboTerms(): loss = reconstruction + beta * kl, per example, leaking nothing", () => {
  const { model, x } = smallVae();
  const before = tf.memory().numTensors;
  const terms = elboTerms(model, x, { beta: 4, seed: 1 });
  assertEquals(terms.loss.shape, [4]);
  const [loss, rec, kl] = [terms.loss, terms.reconstruction, terms.kl].map(values);
  loss.forEach((l, i) => assertAlmostEquals(l, rec[i] + 4 * kl[i], 1e-3));
  assertEquals(tf.memory().numTensors, before);
  assertThrows(
    () => elboTerms(model, x, { beta: -1 }),
    RangeError,
    "beta must be a non-negative number; got -1",
  );
  disposeModel(model);
  x.dispose();
});

Deno.test("elboTerms() of an autoencoder is its reconstruction with a zero KL", () => {
  const model = buildModel({ ...AE_DEFAULTS, hiddenSize: 16, latentSize: 3 });
  const x = tf.randomUniform([2, 784], 0, 1, "float32", 2) as tf.Tensor2D;
  const terms = elboTerms(model, x);
  assertEquals(values(terms.kl), [0, 0]);
  assertEquals(values(terms.loss), values(terms.reconstruction));
  disposeModel(model);
  x.dispose();
});
