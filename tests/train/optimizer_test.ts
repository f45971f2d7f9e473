import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { Adam, ADAM_KERNEL, initBackend } from "../../lib/mod.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("Adam on wasm takes the same steps as tf.train.adam, leaking nothing", () => {
  const start = tf.randomNormal([50, 7], 0, 1, "float32", 1);
  const target = tf.randomNormal([50, 7], 0, 1, "float32", 2);
  const ours = tf.variable(start, true, "adam_test_ours");
  const theirs = tf.variable(start.clone(), true, "adam_test_theirs");
  const loss = (v: tf.Variable) => () => tf.sum(tf.pow(tf.sub(v, target), 4)) as tf.Scalar;
  const adam = new Adam({ learningRate: 0.05 });
  const reference = tf.train.adam(0.05, 0.9, 0.999, 1e-8);
  const before = tf.memory().numTensors;
  for (let step = 0; step < 20; step++) {
    const { value, grads } = tf.variableGrads(loss(ours), [ours]);
    adam.apply([ours], grads);
    tf.dispose([value, grads[ours.name]]);
    reference.minimize(loss(theirs), false, [theirs]);
  }
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]);
  // Both in float32, in different orders of operations, through a quartic loss: 1e-4 is rounding
  // (a wrong bias correction or epsilon moves weights by 1e-3 or more here).
  assert(diff < 1e-4, `after 20 steps the weights differ by ${diff}`);
  // Each keeps two moment tensors for its variable, and nothing more.
  assertEquals(tf.memory().numTensors, before + 4);
  adam.dispose();
  assertEquals(tf.memory().numTensors, before + 2);
  tf.dispose([start, target, ours, theirs]);
  reference.dispose();
});

Deno.test("Adam's wasm kernel takes three steps of the formula in float64 to float32 rounding, clipping scale included", () => {
  const w0 = [0.5, -1.25, 2, 0.001, -3, 7, 0.25];
  const grads = [[0.1, -2, 0.003, 5, -0.7, 0, 1e-4], [1, 1, -1, -1, 0.5, 0.5, 0], [
    -0.2,
    3,
    0.01,
    -4,
    0.7,
    1,
    -1e-3,
  ]];
  const [lr, beta1, beta2, epsilon, scale] = [0.01, 0.8, 0.99, 1e-3, 0.5];
  const w = tf.variable(tf.tensor1d(w0), true, "adam_formula_test");
  const adam = new Adam({ learningRate: lr, beta1, beta2, epsilon });
  const expected = [...w0];
  const m = w0.map(() => 0);
  const v = w0.map(() => 0);
  grads.forEach((g, step) => {
    const t = step + 1;
    const grad = tf.tensor1d(g);
    adam.apply([w], { [w.name]: grad }, scale);
    grad.dispose();
    for (let i = 0; i < w0.length; i++) {
      const gi = g[i] * scale;
      m[i] = beta1 * m[i] + (1 - beta1) * gi;
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
      const mHat = m[i] / (1 - beta1 ** t);
      const vHat = v[i] / (1 - beta2 ** t);
      expected[i] -= lr * mHat / (Math.sqrt(vHat) + epsilon);
    }
  });
  const got = w.dataSync();
  for (let i = 0; i < w0.length; i++) {
    assert(
      Math.abs(got[i] - expected[i]) <= 1e-6 * Math.max(1, Math.abs(expected[i])),
      `weight ${i}: ${got[i]} against ${expected[i]}`,
    );
  }
  adam.dispose();
  w.dispose();
});

Deno.test("Adam applied inside tf.tidy keeps its moments for the next step", () => {
  const w = tf.variable(tf.tensor1d([1, 2, 3]), true, "adam_tidy_test");
  const adam = new Adam({ learningRate: 0.1 });
  for (let step = 0; step < 3; step++) {
    tf.tidy(() => adam.apply([w], { [w.name]: tf.tensor1d([1, -1, 0.5]) }));
  }
  // Three steps of a constant gradient move each weight by lr * 3 against its sign.
  const got = w.dataSync();
  [0.7, 2.3, 2.7].forEach((want, i) => assert(Math.abs(got[i] - want) < 1e-5, `${got[i]}`));
  adam.dispose();
  w.dispose();
});

Deno.test("Adam names a missing gradient and bad hyper-parameters", () => {
  const v = tf.variable(tf.zeros([2]), true, "adam_test_missing");
  assertThrows(
    () => new Adam().apply([v], {}),
    RangeError,
    'no gradient for variable "adam_test_missing"',
  );
  assertThrows(
    () => new Adam({ learningRate: 0 }),
    RangeError,
    "learningRate must be a positive number; got 0",
  );
  assertThrows(() => new Adam({ beta2: 1 }), RangeError, "beta2 must be in [0, 1); got 1");
  v.dispose();
});

Deno.test("Adam's wasm kernel sets subnormal moments to 0 and keeps a NaN a NaN", () => {
  // g = 1e-20: v' = (1 - 0.999) g^2 = 1e-43 is subnormal (below 2^-126 = 1.2e-38); m' = 1e-21 is
  // not. A moment at 1.2e-38 with a zero gradient decays by 0.9 into the subnormal range.
  const run = (g: number[], m: number[], v: number[]) =>
    tf.tidy(() => {
      const t = (values: number[]) => tf.tensor1d(values);
      const outs = tf.engine().runKernel(
        ADAM_KERNEL,
        { w: t([1, 1, 1]), g: t(g), m: t(m), v: t(v) },
        { stepSize: 1e-3, root: 1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, scale: 1 },
      ) as tf.Tensor[];
      return outs.map((o) => Array.from(o.dataSync()));
    });
  const [w, m, v] = run([1e-20, 0, NaN], [0, 1.2e-38, 0], [0, 1e-30, 0]);
  assertEquals(v[0], 0);
  assertAlmostEquals(m[0], 1e-21, 1e-27);
  assertEquals(m[1], 0, "1.08e-38 is subnormal");
  assertAlmostEquals(v[1], 0.999e-30, 1e-36);
  assert(Number.isNaN(m[2]) && Number.isNaN(v[2]) && Number.isNaN(w[2]), "NaN propagates");
  assert(Number.isFinite(w[0]) && Number.isFinite(w[1]));
});
