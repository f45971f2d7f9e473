import * as tf from "@tensorflow/tfjs";
import { assert } from "@std/assert";
import { dense, initBackend } from "../lib/mod.ts";

await initBackend({ backend: "wasm", quiet: true });

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

for (const activation of ["linear", "relu"] as const) {
  Deno.test(`dense() ${activation}: value and gradients match tf autodiff of the plain layer`, () => {
    const x = tf.randomNormal([16, 30], 0, 1, "float32", 1) as tf.Tensor2D;
    const w = tf.randomNormal([30, 7], 0, 1, "float32", 2) as tf.Tensor2D;
    const b = tf.randomNormal([7], 0, 1, "float32", 3) as tf.Tensor1D;
    const weights = tf.randomNormal([16, 7], 0, 1, "float32", 4);
    const plain = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => {
      const y = tf.add(tf.matMul(x, w), b);
      return activation === "relu" ? tf.relu(y) : y;
    };
    const objective = (f: typeof plain) => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(f(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D), weights));
    const ours = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) =>
      dense(x, { kernel: w, bias: b, activation });
    const expected = tf.grads(objective(plain))([x, w, b]);
    const actual = tf.grads(objective(ours))([x, w, b]);
    assert(maxAbsDiff(plain(x, w, b), ours(x, w, b)) < 1e-4);
    for (let i = 0; i < 3; i++) {
      const diff = maxAbsDiff(expected[i], actual[i]);
      assert(diff < 1e-3, `gradient ${i} differs by ${diff}`);
    }
    tf.dispose([x, w, b, weights, ...expected, ...actual]);
  });
}

Deno.test("dense() gradient matches central finite differences", () => {
  const x = tf.randomNormal([4, 5], 0, 1, "float32", 5) as tf.Tensor2D;
  const w = tf.randomNormal([5, 3], 0, 1, "float32", 6) as tf.Tensor2D;
  const b = tf.randomNormal([3], 0, 1, "float32", 7) as tf.Tensor1D;
  const f = (w: tf.Tensor) =>
    tf.sum(tf.square(dense(x, { kernel: w as tf.Tensor2D, bias: b, activation: "relu" })));
  const grad = tf.grad(f)(w).dataSync();
  const base = w.dataSync();
  const h = 1e-2;
  for (let i = 0; i < base.length; i++) {
    const plus = base.slice();
    const minus = base.slice();
    plus[i] += h;
    minus[i] -= h;
    const fd = tf.tidy(() =>
      (f(tf.tensor(plus, w.shape)).dataSync()[0] - f(tf.tensor(minus, w.shape)).dataSync()[0]) /
      (2 * h)
    );
    assert(
      Math.abs(fd - grad[i]) < 2e-2 * Math.max(1, Math.abs(fd)),
      `w[${i}]: ${fd} vs ${grad[i]}`,
    );
  }
  tf.dispose([x, w, b]);
});
