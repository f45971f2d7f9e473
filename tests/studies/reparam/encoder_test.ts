import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  buildModel,
  disposeModel,
  elboTerms,
  encoderGradientVariance,
  initBackend,
  mixSeeds,
  scoreFunctionTerms,
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
