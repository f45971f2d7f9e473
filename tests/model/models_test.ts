import * as tf from "@tensorflow/tfjs";
import { assertEquals, assertThrows } from "@std/assert";
import {
  AE_DEFAULTS,
  buildModel,
  disposeModel,
  elboTerms,
  gaussianKl,
  getWeights,
  initBackend,
  type ModelConfig,
  type Prior,
  setWeights,
  STANDARD_NORMAL,
  VAE_DEFAULTS,
} from "../../lib/mod.ts";

await initBackend({ backend: "wasm", quiet: true });

const CASES: ModelConfig[] = [
  { ...VAE_DEFAULTS, latentSize: 5, hiddenSize: 32 },
  { ...AE_DEFAULTS, latentSize: 5, hiddenSize: 32 },
  { ...VAE_DEFAULTS, arch: "conv", latentSize: 3, hiddenSize: 16 },
  { ...AE_DEFAULTS, arch: "conv", latentSize: 3, hiddenSize: 16 },
];

for (const config of CASES) {
  Deno.test(`${config.arch} ${config.kind}: encoder and decoder give the documented shapes`, () => {
    const before = tf.memory().numTensors;
    const model = buildModel(config);
    tf.tidy(() => {
      const x = tf.zeros([6, 784]) as tf.Tensor2D;
      const { mean, logVar } = model.encode(x);
      assertEquals(mean.shape, [6, config.latentSize]);
      assertEquals(logVar?.shape, config.kind === "vae" ? [6, config.latentSize] : undefined);
      assertEquals(model.decode(mean).shape, [6, 784]);
    });
    disposeModel(model);
    assertEquals(tf.memory().numTensors, before);
  });
}

Deno.test("buildModel() with the same seed gives the same weights, another seed others", () => {
  const config = { ...VAE_DEFAULTS, hiddenSize: 8, latentSize: 2 };
  const [a, b, c] = [config, config, { ...config, seed: 1 }].map(buildModel);
  assertEquals(getWeights(a), getWeights(b));
  assertEquals(getWeights(a)[0].length, 784 * 8);
  assertEquals(getWeights(a)[0].some((v, i) => v !== getWeights(c)[0][i]), true);
  [a, b, c].forEach(disposeModel);
});

Deno.test("setWeights() restores what getWeights() saved and rejects wrong sizes", () => {
  const config = { ...AE_DEFAULTS, hiddenSize: 8, latentSize: 2 };
  const a = buildModel(config);
  const b = buildModel({ ...config, seed: 3 });
  setWeights(b, getWeights(a));
  assertEquals(getWeights(b), getWeights(a));
  assertThrows(() => setWeights(b, getWeights(a).slice(1)), RangeError, "expected 8");
  const wrong = getWeights(a);
  wrong[1] = new Float32Array(3);
  assertThrows(() => setWeights(b, wrong), RangeError, "weight 1 must have 8 values; got 3");
  [a, b].forEach(disposeModel);
});

Deno.test("buildModel() names the bad field and value", () => {
  assertThrows(() => buildModel({ ...VAE_DEFAULTS, latentSize: 0 }), RangeError, "latentSize");
  assertThrows(() => buildModel({ ...VAE_DEFAULTS, hiddenSize: 2.5 }), RangeError, "2.5");
  assertThrows(
    () => buildModel({ ...VAE_DEFAULTS, kind: "flow" as "ae" }),
    RangeError,
    'kind must be one of "ae", "vae", "aae", "gan", "classifier", "vqvae", "vaegan"; got "flow"',
  );
  assertThrows(() => buildModel({ ...VAE_DEFAULTS, arch: "rnn" as "mlp" }), RangeError, "rnn");
});

Deno.test("elboTerms() takes the KL from the model's prior, and N(0, I)'s is gaussianKl()", () => {
  const model = buildModel({ ...VAE_DEFAULTS, hiddenSize: 8, latentSize: 3 });
  const x = tf.randomUniform([5, 784], 0, 1, "float32", 1) as tf.Tensor2D;
  const standard = elboTerms(model, x, { seed: 2 });
  const { mean, logVar } = model.encode(x);
  assertEquals(model.prior, STANDARD_NORMAL);
  assertEquals(
    Array.from(standard.kl.dataSync()),
    Array.from(gaussianKl(mean, logVar!).dataSync()),
  );
  // A prior whose KL is 7 nats for every code: the loss moves by beta * 7 - the standard KL.
  const other: Prior = {
    ...STANDARD_NORMAL,
    name: "constant KL",
    kl: (m) => tf.fill([m.shape[0]], 7),
  };
  const shifted = elboTerms({ ...model, prior: other }, x, { seed: 2, beta: 2 });
  assertEquals(Array.from(shifted.kl.dataSync()), [7, 7, 7, 7, 7]);
  const rec = standard.reconstruction.dataSync();
  shifted.loss.dataSync().forEach((l, i) => assertEquals(Math.abs(l - (rec[i] + 14)) < 1e-3, true));
  tf.dispose([x, mean, logVar!, standard.kl, standard.loss, standard.reconstruction]);
  tf.dispose([shifted.kl, shifted.loss, shifted.reconstruction]);
  disposeModel(model);
});
