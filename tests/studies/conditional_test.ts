import { assert, assertEquals } from "@std/assert";
import * as tf from "@tensorflow/tfjs";
import {
  askedDigits,
  buildModel,
  CLASSIFIER_DEFAULTS,
  disposeModel,
  initBackend,
  type Run,
  TRAIN_DEFAULTS,
} from "../../lib/mod.ts";
import { syntheticDigits } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("askedDigits() counts the samples read as the digit asked for, digit by digit", async () => {
  const model = buildModel({ ...TRAIN_DEFAULTS, conditional: true, hiddenSize: 32, latentSize: 2 });
  // A stand-in classifier that reads every image as a 3 (features: a constant pair).
  const classifier = {
    config: { ...CLASSIFIER_DEFAULTS, latentSize: 2 },
    prior: model.prior,
    variables: [],
    names: [],
    encode: (x: tf.Tensor2D) => ({ mean: tf.zeros([x.shape[0], 2]) as tf.Tensor2D }),
    decode: (f: tf.Tensor2D) =>
      tf.tidy(() =>
        tf.mul(tf.oneHot(tf.fill([f.shape[0]], 3, "int32") as tf.Tensor1D, 10), 9)
      ) as tf.Tensor2D,
  };
  const dir = await Deno.makeTempDir();
  try {
    const run = { model, folder: dir, hash: "cvae" } as unknown as Run;
    const reader = { model: classifier, folder: dir, hash: "reads-3" } as unknown as Run;
    const asked = await askedDigits(run, reader, syntheticDigits(200, 7), {
      perDigit: 4,
      seed: 1,
      reference: "synthetic",
    });
    assertEquals(asked.perDigit, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assertEquals(asked.overall, 0.1);
    assertEquals(asked.frechetPerDigit.length, 10);
    assert(asked.frechetPerDigit.every((d) => Math.abs(d) < 1e-6), "equal (constant) features");
  } finally {
    await Deno.remove(dir, { recursive: true });
    disposeModel(model);
  }
});
