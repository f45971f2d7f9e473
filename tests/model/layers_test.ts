import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "@std/assert";
import { conv2d, conv2dTranspose, dense, initBackend } from "../../lib/mod.ts";
import { assertClose, assertNoLeak, on, values } from "../numeric.ts";

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

/** The values and gradients (x, filter, bias) of sum(layer(x) * weights) on this backend. */
function convLayerGrads(
  transposed: boolean,
  activation: "linear" | "relu" | "leakyRelu",
  inputGradient: boolean,
): Float32Array[] {
  // A 5 x 5 image with 3 channels, a 3 x 3 filter, stride 2: odd sizes and 'same' padding.
  const x = tf.tensor4d(values(2 * 5 * 5 * 3, 1), [2, 5, 5, 3]);
  const filter = tf.tensor4d(values(3 * 3 * 3 * 4, 2), transposed ? [3, 3, 4, 3] : [3, 3, 3, 4]);
  const bias = tf.tensor1d(values(4, 3));
  const f = (x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor) => {
    const layer = {
      filter: filter as tf.Tensor4D,
      bias: bias as tf.Tensor1D,
      stride: 2,
      activation,
      inputGradient,
    };
    return transposed ? conv2dTranspose(x as tf.Tensor4D, layer) : conv2d(x as tf.Tensor4D, layer);
  };
  const y = f(x, filter, bias);
  const weights = tf.tensor(values(y.size, 4), y.shape);
  const loss = (...args: tf.Tensor[]) => tf.sum(tf.mul(f(args[0], args[1], args[2]), weights));
  const grads = inputGradient
    ? tf.grads(loss)([x, filter, bias])
    : tf.grads((fl: tf.Tensor, b: tf.Tensor) => loss(x, fl, b))([filter, bias]);
  const out = [y, ...grads].map((t) => t.dataSync() as Float32Array);
  tf.dispose([x, filter, bias, y, weights, ...grads]);
  return out;
}

Deno.test("conv2d() and conv2dTranspose() through patch matrices (wasm) match the cpu backend's convolutions: values and gradients", async () => {
  for (const transposed of [false, true]) {
    for (const activation of ["linear", "relu", "leakyRelu"] as const) {
      for (const inputGradient of [true, false]) {
        if (transposed && !inputGradient) continue;
        const label = `${transposed ? "transposed" : "conv"} ${activation} ${inputGradient}`;
        const wasm = convLayerGrads(transposed, activation, inputGradient);
        const cpu = await on("cpu", () => convLayerGrads(transposed, activation, inputGradient));
        assertEquals(wasm.length, inputGradient ? 4 : 3, label);
        wasm.forEach((w, i) => assertClose(w, cpu[i], `${label}: output ${i}`));
      }
    }
  }
});

Deno.test("a conv layer fed with data returns no input gradient, and the patches it keeps leak nothing", () => {
  assertNoLeak(() => {
    convLayerGrads(false, "relu", false);
    convLayerGrads(true, "relu", true);
  });
});
