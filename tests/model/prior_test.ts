import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertThrows } from "@std/assert";
import {
  buildModel,
  disposeModel,
  elboTerms,
  getWeights,
  initBackend,
  mixturePrior,
  partVariables,
  ringMixture,
  setWeights,
  STANDARD_NORMAL,
  train,
  TRAIN_DEFAULTS,
} from "../../lib/mod.ts";
import { syntheticMnist } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("mixture prior: log p(z) is the log of the weighted sum of the components' densities", () => {
  const means = [[0, 0], [2, -1], [-3, 1]];
  const logVars = [[0, 0], [0.5, -0.5], [-1, 1]];
  const logits = [0, 1, -0.5];
  const prior = mixturePrior({
    means: tf.tensor2d(means),
    logVars: tf.tensor2d(logVars),
    logits: tf.tensor1d(logits),
  });
  const z = [[0.3, -0.2], [1.5, -1.2], [-2, 2]];
  const got = prior.logDensity(tf.tensor2d(z)).arraySync() as number[];
  const weights = logits.map(Math.exp);
  const total = weights.reduce((a, b) => a + b, 0);
  z.forEach((point, i) => {
    let density = 0;
    means.forEach((mean, k) => {
      let component = weights[k] / total;
      for (let j = 0; j < 2; j++) {
        const variance = Math.exp(logVars[k][j]);
        component *= Math.exp(-((point[j] - mean[j]) ** 2) / (2 * variance)) /
          Math.sqrt(2 * Math.PI * variance);
      }
      density += component;
    });
    assertAlmostEquals(got[i], Math.log(density), 1e-4);
  });
});

Deno.test("mixture prior: draws have the mixture's mean and variance", () => {
  const parameters = ringMixture(4, 2, { radius: 3, std: 0.5 });
  const prior = mixturePrior(parameters);
  const draws = prior.sample(20000, 2, 5);
  const { mean, variance } = tf.moments(draws, 0);
  const [mx, my] = mean.arraySync() as number[];
  const [vx, vy] = variance.arraySync() as number[];
  // Means at (3, 0), (0, 3), (-3, 0), (0, -3): mean 0, variance 9 / 2 + 0.25 on each axis.
  assertAlmostEquals(mx, 0, 0.06);
  assertAlmostEquals(my, 0, 0.06);
  assertAlmostEquals(vx, 4.75, 0.15);
  assertAlmostEquals(vy, 4.75, 0.15);
  assertThrows(() => prior.sample(3, 5), RangeError, "latentSize 2");
  assertThrows(() => prior.kl(draws, draws), RangeError, "needs the draw z");
  tf.dispose([draws, mean, variance, parameters.means, parameters.logVars, parameters.logits]);
});

Deno.test("mixture prior with K = 1 standard component reproduces the standard VAE's loss", () => {
  const config = { ...TRAIN_DEFAULTS, latentSize: 3, hiddenSize: 16 };
  const standard = buildModel(config);
  const mixture = buildModel({ ...config, prior: "mixture", components: 1 });
  // Same network weights; the component N(0, I): means and log-variances 0.
  const weights = getWeights(standard);
  setWeights(mixture, [...weights, new Float32Array(3), new Float32Array(3), new Float32Array(1)]);
  const x = tf.tensor2d(syntheticMnist(16, 1).train.images, [16, 784]);
  const z = tf.randomNormal([16, 3], 0, 1, "float32", 1) as tf.Tensor2D;
  assertAlmostEquals(
    tf.sum(tf.sub(mixture.prior.logDensity(z), STANDARD_NORMAL.logDensity(z)))
      .arraySync() as number,
    0,
    1e-4,
  );
  // The reconstruction term is the same draw for the same seed; the KL is Monte Carlo, whose
  // mean over many draws is the closed form the standard VAE uses.
  const differences: number[] = [];
  for (let seed = 1; seed <= 400; seed++) {
    tf.tidy(() => {
      const a = elboTerms(standard, x, { seed });
      const b = elboTerms(mixture, x, { seed });
      assertAlmostEquals(
        tf.max(tf.abs(tf.sub(a.reconstruction, b.reconstruction))).arraySync() as number,
        0,
        1e-4,
      );
      differences.push(tf.mean(tf.sub(b.loss, a.loss)).arraySync() as number);
    });
  }
  const mean = differences.reduce((s, d) => s + d, 0) / differences.length;
  const sd = Math.sqrt(differences.reduce((s, d) => s + (d - mean) ** 2, 0) / differences.length);
  assert(Math.abs(mean) < 3 * sd / Math.sqrt(differences.length) + 1e-3, `mean ${mean}, sd ${sd}`);
  assert(sd > 0, "the mixture's KL is a Monte Carlo estimate");
  tf.dispose([x, z]);
  disposeModel(standard);
  disposeModel(mixture);
});

Deno.test("a learnt mixture prior trains: its variables change and the ELBO falls", async () => {
  const data = syntheticMnist(128, 32);
  const config = {
    ...TRAIN_DEFAULTS,
    prior: "mixture" as const,
    components: 3,
    latentSize: 2,
    hiddenSize: 32,
    batchSize: 32,
    epochs: 4,
  };
  const { model, history } = await train(data, config, { workers: 1 });
  const test = history.filter((r) => r.split === "test");
  assert(test.at(-1)!.loss < test[0].loss, `test loss ${test.map((r) => r.loss)}`);
  const means = partVariables(model, "prior")[0].arraySync() as number[][];
  const fresh = buildModel(config);
  const initial = partVariables(fresh, "prior")[0].arraySync() as number[][];
  assert(means.flat().some((v, i) => v !== initial.flat()[i]), "the prior's means moved");
  disposeModel(model);
  disposeModel(fresh);
});
