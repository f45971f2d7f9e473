import { assert, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import * as tf from "@tensorflow/tfjs";
import {
  buildModel,
  disposeModel,
  getWeights,
  initBackend,
  partVariables,
  train,
  type TrainConfig,
  VAEGAN_DEFAULTS,
  VaeGanStep,
} from "../../lib/mod.ts";
import { syntheticDigits, syntheticMnist } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

const SMALL: TrainConfig = { ...VAEGAN_DEFAULTS, hiddenSize: 32, latentSize: 4, epochs: 1 };

Deno.test("a VAE-GAN is the MLP VAE plus a discriminator with 128 features", () => {
  const model = buildModel(SMALL);
  const x = tf.zeros([3, 784]) as tf.Tensor2D;
  assertEquals(model.criticFeatures!(x).shape, [3, 128]);
  assertEquals(model.critic!(x).shape, [3]);
  assertEquals(model.encode(x).logVar!.shape, [3, 4]);
  assertEquals(partVariables(model, "critic").length, 6);
  assertEquals(partVariables(model, "encoder").length + partVariables(model, "decoder").length, 8);
  assertThrows(
    () => buildModel({ ...SMALL, arch: "conv" }),
    RangeError,
    'kind "vaegan" has only the "mlp" arch',
  );
  tf.dispose(x);
  disposeModel(model);
});

Deno.test("criticArch conv: the VAE-GAN's discriminator is the DCGAN's, its features 7 x 7 x 32", () => {
  const model = buildModel({ ...SMALL, criticArch: "conv" });
  const dcgan = buildModel({ ...SMALL, kind: "gan", arch: "conv" });
  const x = tf.randomUniform([3, 784], -1, 1, "float32", 5) as tf.Tensor2D;
  assertEquals(model.criticFeatures!(x).shape, [3, 7 * 7 * 32]);
  assertEquals(
    partVariables(model, "critic").map((v) => v.shape),
    partVariables(dcgan, "critic").map((v) => v.shape),
  );
  // The same layers: with the DCGAN's critic weights copied in, the same logits.
  partVariables(model, "critic").forEach((v, i) => v.assign(partVariables(dcgan, "critic")[i]));
  const [ours, theirs] = [model.critic!(x), dcgan.critic!(x)];
  assertEquals(Array.from(ours.dataSync()), Array.from(theirs.dataSync()));
  assertThrows(
    () => buildModel({ ...SMALL, kind: "vae", criticArch: "conv" }),
    RangeError,
    'criticArch applies to kind "vaegan" only; got "vae"',
  );
  assertThrows(
    () => buildModel({ ...SMALL, criticArch: "deep" as "conv" }),
    RangeError,
    'criticArch must be one of "mlp", "conv"; got "deep"',
  );
  tf.dispose([x, ours, theirs]);
  disposeModel(model);
  disposeModel(dcgan);
});

Deno.test("VaeGanStep: beta changes only the encoder's update", async () => {
  const batch = syntheticDigits(16, 4);
  const after = async (beta: number) => {
    const model = buildModel(SMALL);
    const step = new VaeGanStep(model, { ...SMALL, beta });
    (await step.run(batch, { epoch: 1, step: 1 })).dispose();
    step.close();
    const weights = getWeights(model);
    const names = model.names;
    disposeModel(model);
    return { weights, names };
  };
  const [one, tenth] = [await after(1), await after(0.1)];
  one.names.forEach((name, i) => {
    const same = one.weights[i].every((v, j) => v === tenth.weights[i][j]);
    assertEquals(
      same,
      !name.startsWith("encoder."),
      `${name}: same update for both betas? ${same}`,
    );
  });
});

Deno.test("VaeGanStep: featureWeight changes only the decoder's update; every part learns", async () => {
  const batch = syntheticDigits(16, 4);
  const after = async (featureWeight: number) => {
    const model = buildModel(SMALL);
    const before = getWeights(model);
    const step = new VaeGanStep(model, { ...SMALL, featureWeight });
    const terms = await step.run(batch, { epoch: 1, step: 1 });
    const values = Array.from(terms.dataSync());
    terms.dispose();
    step.close();
    const weights = getWeights(model);
    const names = model.names;
    disposeModel(model);
    return { before, weights, names, values };
  };
  const plain = await after(1);
  const none = await after(0);
  plain.names.forEach((name, i) => {
    const moved = plain.weights[i].some((v, j) => v !== plain.before[i][j]);
    assert(moved, `${name} did not move`);
    const same = plain.weights[i].every((v, j) => v === none.weights[i][j]);
    // The encoder's loss (KL + feature error) and the critic's do not depend on featureWeight.
    assertEquals(
      same,
      !name.startsWith("decoder."),
      `${name}: same update for both weights? ${same}`,
    );
  });
  // Terms: loss = beta * kl + featureReconstruction; scores are probabilities.
  const [loss, kl, feature, , , real, fake] = plain.values;
  assert(
    Math.abs(loss - (SMALL.beta * kl + feature)) < 1e-3 * Math.max(1, loss),
    `${loss} vs ${SMALL.beta} * ${kl} + ${feature}`,
  );
  assert(real > 0 && real < 1 && fake > 0 && fake < 1);
  assertNotEquals(plain.values[4], none.values[4]);
});

Deno.test("VaeGanStep leaves no tensor behind after its first step (Adam's moments)", async () => {
  const model = buildModel(SMALL);
  const step = new VaeGanStep(model, SMALL);
  const batch = syntheticDigits(16, 5);
  (await step.run(batch, { epoch: 1, step: 1 })).dispose();
  const before = tf.memory().numTensors;
  (await step.run(batch, { epoch: 1, step: 2 })).dispose();
  assertEquals(tf.memory().numTensors, before);
  step.close();
  disposeModel(model);
});

Deno.test("a VAE-GAN trains through the loop, with train records and no test records", async () => {
  const { history, model } = await train(syntheticMnist(128, 32), SMALL);
  assertEquals(history.map((r) => r.split), ["train"]);
  assert(Number.isFinite(history[0].loss));
  disposeModel(model);
});
