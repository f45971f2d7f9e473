import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  buildModel,
  disposeModel,
  elboTerms,
  encoderGradientVariance,
  initBackend,
  klReadings,
  mixSeeds,
  scoreFunctionTerms,
  termGradients,
  toTensor,
  TRAIN_DEFAULTS,
} from "../../../lib/mod.ts";
import { syntheticDigits } from "../../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

/** Each draw's gradient of one encoder layer, collected draw by draw: [draws][parameters]. */
function gradientsByDraw(
  model: ReturnType<typeof buildModel>,
  x: tf.Tensor2D,
  layer: string,
  estimator: "pathwise" | "score",
  { draws, seed }: { draws: number; seed: number },
): number[][] {
  const variables = model.variables.filter((_, i) => model.names[i].startsWith(`${layer}.`));
  return Array.from({ length: draws }, (_, d) => {
    const options = { seed: mixSeeds(seed, d), beta: 0 };
    const { value, grads } = tf.variableGrads(() =>
      tf.mean(
        estimator === "pathwise"
          ? elboTerms(model, x, options).loss
          : scoreFunctionTerms(model, x, options).surrogate,
      ) as tf.Scalar, variables);
    const flat = variables.flatMap((v) => Array.from(grads[v.name].dataSync()));
    tf.dispose([value, grads] as tf.TensorContainer);
    return flat;
  });
}

/** Two passes in float64: the sum over parameters of the n - 1 variance, and of the squared mean. */
function spread(rows: number[][]): { variance: number; squaredMean: number } {
  const n = rows.length;
  let variance = 0;
  let squaredMean = 0;
  for (let k = 0; k < rows[0].length; k++) {
    const mean = rows.reduce((a, r) => a + r[k], 0) / n;
    variance += rows.reduce((a, r) => a + (r[k] - mean) ** 2, 0) / (n - 1);
    squaredMean += mean ** 2;
  }
  return { variance, squaredMean };
}

Deno.test("encoderGradientVariance() is each layer's variance over the draws, as two passes over them give", () => {
  const model = buildModel({ ...TRAIN_DEFAULTS, hiddenSize: 8, latentSize: 2 });
  const images = syntheticDigits(6, 4);
  const options = { draws: 5, seed: 3 };
  const rows = encoderGradientVariance(model, images, options);
  assertEquals(rows.map((r) => r.layer), ["encoder.hidden", "encoder.head"]);
  // 784 x 8 + 8 in the hidden layer; the head maps 8 to a mean and a log-variance of 2 each.
  assertEquals(rows.map((r) => r.parameters), [784 * 8 + 8, 8 * 4 + 4]);
  const x = toTensor(images);
  for (const row of rows) {
    const pathwise = spread(gradientsByDraw(model, x, row.layer, "pathwise", options));
    const score = spread(gradientsByDraw(model, x, row.layer, "score", options));
    // Per draw, the test takes one layer's gradients and the function all the encoder's: the
    // same graph, so today the same float32 bits, but another route to them (a fused kernel)
    // may round each gradient differently, by a few float32 units (1e-7 relative), which the
    // sums of squares carry over. Tolerance: relative 1e-6. A wrong accumulator (n for n - 1
    // over 5 draws: 25%; the old mean in Welford's update) or other draws is off by far more.
    const close = (a: number, b: number, what: string) =>
      assert(Math.abs(a - b) <= 1e-6 * Math.abs(b), `${row.layer} ${what}: ${a}, two passes ${b}`);
    close(row.pathwise, pathwise.variance, "pathwise variance");
    close(row.score, score.variance, "score variance");
    close(row.pathwiseSquaredMean, pathwise.squaredMean, "pathwise squared mean");
    close(row.scoreSquaredMean, score.squaredMean, "score squared mean");
    close(row.ratio, score.variance / pathwise.variance, "ratio");
  }
  x.dispose();
  assertThrows(() => encoderGradientVariance(model, images, { draws: 1, seed: 1 }), RangeError);
  disposeModel(model);
});

Deno.test("termGradients(): the KL reaches the encoder's layers only, the reconstruction all", () => {
  const model = buildModel({ ...TRAIN_DEFAULTS, hiddenSize: 8, latentSize: 2 });
  const images = syntheticDigits(6, 4);
  const rows = termGradients(model, images, { seed: 2 });
  assertEquals(rows.map((r) => r.layer), [
    "encoder.hidden",
    "encoder.head",
    "decoder.hidden",
    "decoder.output",
  ]);
  assertEquals(rows.map((r) => r.klConnected), [true, true, false, false]);
  for (const r of rows) {
    assert(r.reconstruction > 0, `${r.layer}: reconstruction gradient ${r.reconstruction}`);
    if (r.layer.startsWith("decoder.")) assertEquals(r.kl, 0);
    else assert(r.kl > 0, `${r.layer}: KL gradient ${r.kl}`);
  }
  // The head's KL gradient, by hand: d KL / d mean = mean, d KL / d logVar = (exp(logVar) - 1)
  // / 2 per image, over the batch's mean; the head's bias gets their mean over the images.
  const x = toTensor(images);
  const { mean, logVar } = model.encode(x);
  const n = images.size;
  const dMean = tf.div(tf.sum(mean, 0), n);
  const dLogVar = tf.div(tf.sum(tf.mul(tf.sub(tf.exp(logVar!), 1), 0.5), 0), n);
  const biasNorm = Math.sqrt(
    tf.sum(tf.square(dMean)).dataSync()[0] + tf.sum(tf.square(dLogVar)).dataSync()[0],
  );
  tf.dispose([x, mean, logVar!, dMean, dLogVar]);
  const head = model.names.indexOf("encoder.head.bias");
  const input = toTensor(images);
  const { value, grads } = tf.variableGrads(
    () => tf.mean(elboTerms(model, input, { seed: 2 }).kl) as tf.Scalar,
    [model.variables[head]],
  );
  input.dispose();
  const bias = grads[model.variables[head].name];
  assertAlmostEquals(Math.sqrt(tf.sum(tf.square(bias)).dataSync()[0]), biasNorm, 1e-5);
  tf.dispose([value, grads] as tf.TensorContainer);
  disposeModel(model);
});

Deno.test("klReadings(): the KL as elboTerms computes it; the plus-sign reading adds sum(1 + logVar)", () => {
  const model = buildModel({ ...TRAIN_DEFAULTS, hiddenSize: 8, latentSize: 3 });
  const images = syntheticDigits(5, 9);
  const { kl, plusSigns, klTerms, plusSignTerms } = klReadings(model, images);
  assertEquals(klTerms.length, 5 * 3);
  assert(klTerms.every((t) => t >= 0), "a unit's KL is never negative");
  const x = toTensor(images);
  const terms = elboTerms(model, x, { seed: 1 });
  const expected = terms.kl.dataSync();
  const { mean, logVar } = model.encode(x);
  const offset = tf.sum(tf.add(logVar!, 1), 1).dataSync();
  for (let i = 0; i < images.size; i++) {
    assertAlmostEquals(kl[i], expected[i], 1e-4);
    assertAlmostEquals(plusSigns[i] - kl[i], offset[i], 1e-4);
    const row = (terms: Float64Array) => terms.slice(3 * i, 3 * i + 3).reduce((a, b) => a + b);
    assertAlmostEquals(row(klTerms), kl[i], 1e-9);
    assertAlmostEquals(row(plusSignTerms), plusSigns[i], 1e-9);
  }
  tf.dispose([x, terms.kl, terms.loss, terms.reconstruction, mean, logVar!]);
  disposeModel(model);
});
