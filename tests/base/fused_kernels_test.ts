import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import {
  activationGrad,
  Adam,
  batchNorm,
  bernoulliLogLikelihood,
  biasActivation,
  gaussianKl,
  initBackend,
  reparameterize,
  sumOfSquares,
  tensorsNorm,
} from "../../lib/mod.ts";
import { assertClose, assertNoLeak, on, read, values } from "../numeric.ts";

await initBackend({ backend: "wasm", quiet: true });

/** log p(x | l) per row in float64: sum x l - max(l, 0) - log1p(exp(-|l|)). */
function bernoulli64(x: Float32Array, l: Float32Array, columns: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.length / columns; i++) {
    let sum = 0;
    for (let j = i * columns; j < (i + 1) * columns; j++) {
      sum += x[j] * l[j] - Math.max(l[j], 0) - Math.log1p(Math.exp(-Math.abs(l[j])));
    }
    out.push(sum);
  }
  return out;
}

Deno.test("the Bernoulli likelihood and its gradient match float64 on extreme and tiny logits, rows of every length, wasm kernels and cpu ops", async () => {
  for (const backend of ["wasm", "cpu"]) {
    // Logits from -100 to 100 with tiny ones in between; 7 columns (off the 4-lane vectors).
    const specials = [-100, -30, -9, -1e-8, 0, 1e-8, 0.4, 0.5, 1, 9, 30, 100, -0.7, 3.3];
    for (const columns of [1, 3, 7, 784]) {
      const rows = 3;
      const l = Float32Array.from(
        { length: rows * columns },
        (_, i) => specials[i % specials.length] * (1 + i / 1000),
      );
      const x = values(rows * columns, 9).map((v) => (v + 1) / 2);
      const ll = await on(
        backend,
        () =>
          read(() =>
            bernoulliLogLikelihood(tf.tensor2d(x, [rows, columns]), tf.tensor2d(l, [rows, columns]))
          ),
      );
      assertClose(ll, bernoulli64(x, l, columns), `${backend}: log p, ${columns} columns`, 2e-6);
      const dy = Float32Array.of(1, -0.5, 2);
      const grad = await on(backend, () =>
        read(() =>
          tf.grad((logits: tf.Tensor) =>
            tf.sum(
              tf.mul(
                bernoulliLogLikelihood(tf.tensor2d(x, [rows, columns]), logits as tf.Tensor2D),
                tf.tensor1d(dy),
              ),
            )
          )(tf.tensor2d(l, [rows, columns]))
        ));
      const expected = Array.from(
        l,
        (v, i) => (x[i] - 1 / (1 + Math.exp(-v))) * dy[Math.floor(i / columns)],
      );
      assertClose(grad, expected, `${backend}: gradient, ${columns} columns`, 2e-7);
    }
  }
});

Deno.test("activationGrad() and biasActivation() on wasm match the cpu backend's ops, 2-D and 4-D", async () => {
  for (const shape of [[9, 13], [2, 3, 5, 6]]) {
    const n = shape.at(-1)!;
    const size = shape.reduce((a, b) => a * b, 1);
    for (const activation of ["linear", "relu", "leakyRelu"] as const) {
      const run = () => {
        const x = tf.tensor(values(size, 1), shape);
        const bias = tf.tensor1d(values(n, 2));
        const y = biasActivation(x, bias, activation);
        const { dz, dBias } = activationGrad(tf.tensor(values(size, 3), shape), y, activation);
        return [y, dz, dBias].map((t) => t.dataSync().slice() as Float32Array);
      };
      const wasm = tf.tidy(run);
      const cpu = await on("cpu", () => tf.tidy(run));
      wasm.forEach((w, i) => assertClose(w, cpu[i], `[${shape}] ${activation} output ${i}`));
    }
  }
});

Deno.test("gaussianKl() and reparameterize() on wasm match the cpu backend: values and gradients", async () => {
  const run = () =>
    tf.tidy(() => {
      // logVar from -12 to 12: exp(logVar) over many octaves.
      const mean = tf.tensor2d(values(5 * 7, 4).map((v) => 3 * v), [5, 7]);
      const logVar = tf.tensor2d(values(5 * 7, 5).map((v) => 12 * v), [5, 7]);
      const eps = tf.tensor2d(values(5 * 7, 6), [5, 7]);
      const weights = tf.tensor2d(values(5 * 7, 7), [5, 7]);
      const loss = (m: tf.Tensor, lv: tf.Tensor) =>
        tf.add(
          tf.sum(tf.mul(reparameterize(m as tf.Tensor2D, lv as tf.Tensor2D, eps), weights)),
          tf.sum(tf.mul(gaussianKl(m as tf.Tensor2D, lv as tf.Tensor2D), tf.range(1, 6))),
        );
      const outs = [
        gaussianKl(mean, logVar),
        reparameterize(mean, logVar, eps),
        ...tf.grads(loss)([mean, logVar]),
      ];
      return outs.map((t) => t.dataSync().slice() as Float32Array);
    });
  const wasm = run();
  const cpu = await on("cpu", run);
  wasm.forEach((w, i) => assertClose(w, cpu[i], `output ${i}`, 3e-6));
});

Deno.test("sumOfSquares() in float64, of one tensor and of a weighted average of two; NaN stays NaN", () => {
  const a = values(1003, 8);
  const b = values(1003, 9);
  const [ta, tb] = [tf.tensor1d(a), tf.tensor1d(b)];
  const plain = a.reduce((s, v) => s + v * v, 0);
  assertAlmostEquals(sumOfSquares(ta), plain, 1e-9 * plain);
  const mixed = a.reduce((s, v, i) => s + Math.fround(0.25 * v + 0.75 * b[i]) ** 2, 0);
  assertAlmostEquals(sumOfSquares(ta, { x1: tb, a: 0.25, b: 0.75 }), mixed, 1e-6 * mixed);
  assertAlmostEquals(
    tensorsNorm([ta, tb]),
    Math.sqrt(plain + b.reduce((s, v) => s + v * v, 0)),
    1e-9,
  );
  const withNaN = tf.tensor1d([1, NaN, 2]);
  assert(Number.isNaN(sumOfSquares(withNaN)));
  tf.dispose([ta, tb, withNaN]);
});

Deno.test("Adam's kernel returns the squares of the gradient it applied, after its scale", () => {
  const w = tf.variable(tf.tensor1d(values(37, 10)));
  const g = tf.tensor1d(values(37, 11));
  const adam = new Adam();
  const squares = adam.apply([w], { [w.name]: g }, 0.5)!;
  assertAlmostEquals(squares, sumOfSquares(g) * 0.25, 1e-9);
  adam.dispose();
  tf.dispose([w, g]);
});

Deno.test("Identity on wasm shares its input's values: a clone outlives its source, and nothing leaks", () => {
  const x = tf.tensor1d([1, 2, 3]);
  const copy = tf.clone(x);
  x.dispose();
  assertEquals(Array.from(copy.dataSync()), [1, 2, 3]);
  copy.dispose();
  assertNoLeak(() => {
    const ones = tf.ones([4]);
    tf.dispose([tf.clone(ones), ones]);
  });
});

Deno.test("MaxPoolGrad on wasm matches cpu: ties to the first maximum, padding, odd sizes and channels", async () => {
  const cases: [number[], number, number, "valid" | "same"][] = [
    [[2, 8, 8, 16], 2, 2, "valid"], // the digit classifier's pools
    [[1, 7, 5, 3], 3, 2, "same"],
    [[2, 5, 6, 5], 2, 1, "valid"],
  ];
  for (const [shape, size, stride, pad] of cases) {
    const run = () =>
      read(() => {
        // Rounded values: many ties inside a window.
        const x = tf.tensor4d(
          values(shape.reduce((a, b) => a * b), 12).map((v) => Math.round(v * 3)),
          shape as [number, number, number, number],
        );
        return tf.grad((x: tf.Tensor) => {
          const pooled = tf.maxPool(x as tf.Tensor4D, size, stride, pad);
          return tf.sum(tf.mul(pooled, tf.tensor(values(pooled.size, 13), pooled.shape)));
        })(x);
      });
    assertClose(run(), await on("cpu", run), `[${shape}] pool ${size}/${stride} ${pad}`, 1e-6);
  }
});

Deno.test("batchNorm() on wasm matches the cpu backend's autodiff: values and the three gradients", async () => {
  for (const shape of [[6, 5], [4, 3, 3, 7]]) {
    const run = () =>
      tf.tidy(() => {
        const size = shape.reduce((a, b) => a * b, 1);
        const c = shape.at(-1)!;
        const x = tf.tensor(values(size, 14).map((v) => 3 * v + 1), shape);
        const gamma = tf.tensor1d(values(c, 15));
        const beta = tf.tensor1d(values(c, 16));
        const weights = tf.tensor(values(size, 17), shape);
        const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(batchNorm(x, g as tf.Tensor1D, b as tf.Tensor1D), weights));
        return [batchNorm(x, gamma, beta), ...tf.grads(f)([x, gamma, beta])].map((t) =>
          t.dataSync().slice() as Float32Array
        );
      });
    const wasm = run();
    const cpu = await on("cpu", run);
    wasm.forEach((w, i) => assertClose(w, cpu[i], `[${shape}] output ${i}`, 2e-5));
  }
});
