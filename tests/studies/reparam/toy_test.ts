import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertStringIncludes } from "@std/assert";
import {
  blockedGradient,
  buildModel,
  disposeModel,
  encoderGradientVariance,
  initBackend,
  pathwiseVariancePerDraw,
  scoreVariancePerDraw,
  toyClaims,
  toyClosedForm,
  toyEstimators,
  toyRatios,
  train,
  TRAIN_DEFAULTS,
  type TrainConfig,
} from "../../../lib/mod.ts";
import { shardGradients } from "../../../lib/train/mod.ts";
import { syntheticDigits } from "../../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

const PROBLEM = { mean: 1, std: 0.5, target: 3 };

Deno.test("a draw by tf.randomNormal gives no gradient; z = mean + std eps gives the closed form's", () => {
  const result = blockedGradient(PROBLEM, { draws: 4000, seed: 1 });
  assertStringIncludes(result.sampled, "none: Cannot find a connection between any variable");
  assertEquals(result.closedForm, { dMean: -4, dStd: 1 });
  // Over 4,000 draws: within about 3 standard errors (0.016 and 0.07).
  assertAlmostEquals(result.pathwise.dMean, -4, 0.05);
  assertAlmostEquals(result.pathwise.dStd, 1, 0.2);
});

Deno.test("the three estimators are unbiased; the pathwise one's variance per draw is its closed form", () => {
  const rows = toyEstimators(PROBLEM, { samples: [2, 16, 128], repeats: 3000, seed: 4 });
  assertEquals(rows.length, 9);
  const claims = Object.values(toyClaims(PROBLEM, rows, { sigmas: 4, factor: 5 })).flat();
  assertEquals(claims.length, 13);
  assert(claims.every((c) => c.holds), JSON.stringify(claims.filter((c) => !c.holds)));
  // Var 2(z - a) + Var 2(z - a) eps = 4 std^2 + 4 (mean - a)^2 + 8 std^2 = 19 here.
  const { mean, std, target } = PROBLEM;
  const exact = 4 * std ** 2 + 4 * (mean - target) ** 2 + 8 * std ** 2;
  assertEquals(pathwiseVariancePerDraw(PROBLEM), exact);
  for (const r of rows.filter((r) => r.estimator === "pathwise")) {
    assertAlmostEquals(r.variancePerSample, exact, 0.1 * exact, `${r.samples} draws`);
  }
  assertEquals(toyClosedForm(PROBLEM).value, 4.25);
});

Deno.test("the score function's variance per draw is its closed form, by moments and by draws", () => {
  // f = (-2 + eps / 2)^2; E[f^2 eps^2] / std^2 + E[f^2 (eps^2 - 1)^2] / std^2 - 16 - 1, with
  // the Gaussian moments 1, 3, 15, 105, 945 of eps^0, ^2, ..., ^8, is 510.25 (worked by hand).
  assertAlmostEquals(scoreVariancePerDraw(PROBLEM), 510.25, 1e-9);
  // At std = 1, mean = target, f = eps^2: E[eps^6] + E[eps^4 (eps^2 - 1)^2] - 0^2 - 2^2
  // = 15 + (105 - 30 + 3) - 4.
  assertAlmostEquals(scoreVariancePerDraw({ mean: 0, std: 1, target: 0 }), 89, 1e-9);
  const rows = toyEstimators(PROBLEM, { samples: [64], repeats: 4000, seed: 5 });
  const score = rows.find((r) => r.estimator === "score function")!.variancePerSample;
  assertAlmostEquals(score, 510.25, 0.1 * 510.25);
});

Deno.test("toyRatios() divides the variances per draw at each number of draws, fewest first", () => {
  const rows = toyEstimators(PROBLEM, { samples: [8, 2], repeats: 200, seed: 6 });
  const ratios = toyRatios(rows);
  assertEquals(ratios.map((r) => r.samples), [2, 8]);
  for (const r of ratios) {
    const of = (name: string) =>
      rows.find((x) => x.samples === r.samples && x.estimator === name)!.variancePerSample;
    assertAlmostEquals(r.scoreOverPathwise, of("score function") / of("pathwise"), 1e-12);
    assertAlmostEquals(
      r.scoreOverBaseline,
      of("score function") / of("score function, baseline"),
      1e-12,
    );
    assertAlmostEquals(
      r.baselineOverPathwise,
      of("score function, baseline") / of("pathwise"),
      1e-12,
    );
  }
});

const SMALL: TrainConfig = { ...TRAIN_DEFAULTS, hiddenSize: 24, latentSize: 3, batchSize: 16 };

/** The mean over `draws` steps' seeds of each encoder variable's gradient, flat. */
function meanEncoderGradient(config: TrainConfig, draws: number): Float64Array {
  const model = buildModel(config);
  const batch = syntheticDigits(16, 7).images;
  const names = model.variables.filter((_, i) => model.names[i].startsWith("encoder."));
  const size = names.reduce((n, v) => n + v.size, 0);
  const sum = new Float64Array(size);
  for (let step = 1; step <= draws; step++) {
    const { grads, means } = shardGradients(model, { batch, config, position: { epoch: 1, step } });
    let offset = 0;
    for (const v of names) {
      const values = grads[v.name].dataSync();
      for (let i = 0; i < values.length; i++) sum[offset + i] += values[i] / draws;
      offset += values.length;
    }
    tf.dispose([grads, means] as tf.TensorContainer);
  }
  disposeModel(model);
  return sum;
}

Deno.test("estimator score: over many draws its encoder gradient averages to the pathwise one", () => {
  const pathwise = meanEncoderGradient(SMALL, 600);
  const score = meanEncoderGradient({ ...SMALL, estimator: "score" }, 600);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < pathwise.length; i++) {
    diff += (score[i] - pathwise[i]) ** 2;
    norm += pathwise[i] ** 2;
  }
  // Unbiased, noisy: 600 draws bring the score function's mean within a fifth of the gradient.
  assert(Math.sqrt(diff / norm) < 0.2, `relative distance ${Math.sqrt(diff / norm)}`);
});

Deno.test("estimator score trains, reports the -ELBO itself, and the encoders' gradients differ in spread", async () => {
  const data = { train: syntheticDigits(256, 1), test: syntheticDigits(64, 2) };
  const run = await train(data, { ...SMALL, epochs: 2, estimator: "score" }, { workers: 1 });
  const [first, last] = [run.history[0], run.history.at(-2)!];
  assertAlmostEquals(first.loss, first.reconstruction + first.kl, 1e-3);
  assert(last.loss < first.loss, `${first.loss} then ${last.loss}`);
  const rows = encoderGradientVariance(run.model, data.test, { draws: 20, seed: 3 });
  assertEquals(rows.map((r) => r.layer), ["encoder.hidden", "encoder.head"]);
  assert(rows.every((r) => r.ratio > 1), JSON.stringify(rows));
  disposeModel(run.model);
});
