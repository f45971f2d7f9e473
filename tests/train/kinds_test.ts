import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "@std/assert";
import {
  AAE_DEFAULTS,
  AaeStep,
  AdamStep,
  buildModel,
  CLASSIFIER_DEFAULTS,
  ClassifierStep,
  codeUse,
  disposeModel,
  GAN_DEFAULTS,
  GanStep,
  initBackend,
  singleThreadStep,
  testEvaluation,
  TRAIN_DEFAULTS,
  type TrainConfig,
  VAEGAN_DEFAULTS,
  VaeGanStep,
  vqTerms,
  VQVAE_DEFAULTS,
  VqVaeStep,
} from "../../lib/mod.ts";
import { syntheticDigits } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

/** |a - b| within float32 rounding of sums over a few hundred images (relative 1e-5). */
function assertNear(actual: number, expected: number, what: string): void {
  assert(
    Math.abs(actual - expected) <= 1e-5 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual}, expected ${expected}`,
  );
}

Deno.test("singleThreadStep() gives each kind its own step", () => {
  const small = { hiddenSize: 8, latentSize: 2 };
  const cases: [TrainConfig, new (...args: never[]) => unknown][] = [
    [{ ...TRAIN_DEFAULTS, ...small }, AdamStep],
    [{ ...TRAIN_DEFAULTS, ...small, kind: "ae" }, AdamStep],
    [{ ...GAN_DEFAULTS, ...small }, GanStep],
    [{ ...AAE_DEFAULTS, ...small }, AaeStep],
    [{ ...CLASSIFIER_DEFAULTS }, ClassifierStep],
    [{ ...VQVAE_DEFAULTS, latentSize: 2, codebookSize: 4 }, VqVaeStep],
    [{ ...VAEGAN_DEFAULTS, ...small }, VaeGanStep],
  ];
  for (const [config, kind] of cases) {
    const model = buildModel(config);
    const step = singleThreadStep(model, config);
    assert(step instanceof kind, `${config.kind}: ${step.constructor.name}`);
    step.close();
    disposeModel(model);
  }
});

Deno.test("testEvaluation() of a VQ-VAE: the run's commitment weight, every image once, the codes' use", () => {
  // 530 test images: a whole evaluation batch (500) and a partial one.
  const test = syntheticDigits(530, 9);
  const config: TrainConfig = { ...VQVAE_DEFAULTS, latentSize: 2, codebookSize: 8, commitment: 2 };
  const model = buildModel(config);
  const record = testEvaluation(model, config)!(test);
  // The commitment and codebook terms are one squared distance |z_e - e|^2, the commitment's
  // weighted by the run's commitment (2; the default is 0.25).
  assertNear(record.commitment as number, 2 * (record.codebook as number), "commitment");
  assertNear(
    record.loss as number,
    (record.reconstruction as number) + (record.codebook as number) +
      (record.commitment as number),
    "loss",
  );
  // The same terms over all 530 images in one pass (other products: within float32 rounding),
  // and the codes' use counted by hand from the codes of the evaluation's own batches (500 and
  // 30 images: the same products, so the same nearest codes on any BLAS core).
  const whole = tf.tidy(() => {
    const terms = vqTerms(model, tf.tensor2d(test.images, [530, 784]), { commitment: 2 });
    const mean = (t: tf.Tensor) => tf.mean(t).dataSync()[0];
    const codesOf = (from: number, to: number) =>
      Array.from(
        vqTerms(model, tf.tensor2d(test.images.subarray(from * 784, to * 784), [to - from, 784]), {
          commitment: 2,
        }).codes.dataSync(),
      );
    return {
      reconstruction: mean(terms.reconstruction),
      codebook: mean(terms.codebook),
      codes: [...codesOf(0, 500), ...codesOf(500, 530)],
    };
  });
  assertNear(record.reconstruction as number, whole.reconstruction, "reconstruction");
  assertNear(record.codebook as number, whole.codebook, "codebook");
  const counts = new Array(8).fill(0);
  for (const c of whole.codes) counts[c]++;
  const entropy = -counts.reduce(
    (h, c) => (c > 0 ? h + (c / whole.codes.length) * Math.log(c / whole.codes.length) : h),
    0,
  );
  assertNear(record.perplexity as number, Math.exp(entropy), "perplexity");
  assertEquals(record.unusedCodes, counts.filter((c) => c === 0).length);
  assertEquals(codeUse(whole.codes, 8).unused, record.unusedCodes);
  disposeModel(model);
});

Deno.test("testEvaluation() of a VAE weighs the KL by the run's beta; GANs and VAE-GANs have none", () => {
  const test = syntheticDigits(64, 3);
  const config: TrainConfig = { ...TRAIN_DEFAULTS, hiddenSize: 8, latentSize: 2, beta: 4 };
  const model = buildModel(config);
  const record = testEvaluation(model, config)!(test);
  assertNear(
    record.loss as number,
    (record.reconstruction as number) + 4 * (record.kl as number),
    "loss = reconstruction + beta kl",
  );
  assert((record.kl as number) > 0.01, `kl ${record.kl}`);
  disposeModel(model);
  for (const config of [GAN_DEFAULTS, VAEGAN_DEFAULTS]) {
    const other = buildModel({ ...config, hiddenSize: 8, latentSize: 2 });
    assertEquals(testEvaluation(other, config), undefined);
    disposeModel(other);
  }
});
