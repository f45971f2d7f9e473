import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import {
  buildModel,
  disposeModel,
  elboTerms,
  evaluate,
  initBackend,
  latentUse,
  type Model,
  STANDARD_NORMAL,
  train,
} from "../../lib/mod.ts";

import { data, SMALL } from "./_small.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("evaluate() of the trained model reproduces its last test record", async () => {
  const result = await train(data, { ...SMALL, epochs: 1 });
  const last = result.history.at(-1)!;
  const again = evaluate(result.model, data.test, SMALL);
  assert(Math.abs(again.loss - last.loss) < 1e-3, `${again.loss} vs ${last.loss}`);
  disposeModel(result.model);
});

Deno.test("evaluate() is a mean per image, whatever the evaluation batch", () => {
  // The AE's loss and the VAE's KL draw no noise: a per-image mean cannot depend on the batches.
  const x = tf.tensor2d(data.test.images, [data.test.size, 784]);
  for (const kind of ["ae", "vae"] as const) {
    const model = buildModel({ ...SMALL, kind });
    const terms = elboTerms(model, x, { seed: 1 });
    const direct = (t: tf.Tensor1D) => tf.mean(t).dataSync()[0];
    const expected = kind === "ae" ? direct(terms.loss) : direct(terms.kl);
    for (const evaluationBatch of [7, 20, 64, 500]) {
      const got = evaluate(model, data.test, { ...SMALL, evaluationBatch });
      const value = kind === "ae" ? got.loss : got.kl;
      assertAlmostEquals(
        value,
        expected,
        1e-4 * expected,
        `${kind}, batches of ${evaluationBatch}`,
      );
    }
    tf.dispose(terms as unknown as tf.TensorContainer);
    disposeModel(model);
  }
  x.dispose();
});

Deno.test("latentUse() counts a unit whose KL is just above 0.01 nats and not one just below", () => {
  // With logVar = 0, a unit's KL is mean^2 / 2: 0.0101, 0.0099 and 0 nats.
  const means = [Math.sqrt(0.0202), Math.sqrt(0.0198), 0];
  const model = {
    config: { ...SMALL, latentSize: 3 },
    prior: STANDARD_NORMAL,
    encode: (x: tf.Tensor2D) => ({
      mean: tf.tile(tf.tensor2d([means]), [x.shape[0], 1]),
      logVar: tf.zeros([x.shape[0], 3]),
    }),
  } as unknown as Model;
  assertEquals(latentUse(model, data.test), { unitsInUse: 1, collapsed: false });
  means[0] = 0.1; // 0.005 nats
  assertEquals(latentUse(model, data.test), { unitsInUse: 0, collapsed: true });
});
