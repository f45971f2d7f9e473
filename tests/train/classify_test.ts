import { assertAlmostEquals } from "@std/assert";
import * as tf from "@tensorflow/tfjs";
import {
  buildModel,
  CLASSIFIER_DEFAULTS,
  classLogits,
  disposeModel,
  evaluateClassifier,
  IMAGE_SIZE,
  initBackend,
} from "../../lib/mod.ts";
import { syntheticDigits } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("evaluateClassifier() gives per-image means whatever the batch, partial last batch included", () => {
  const model = buildModel({ ...CLASSIFIER_DEFAULTS, latentSize: 8 });
  const data = syntheticDigits(23, 3);
  // By hand, on all 23 images at once.
  const [loss, accuracy] = tf.tidy(() => {
    const logits = classLogits(model, tf.tensor2d(data.images, [23, IMAGE_SIZE]));
    const labels = tf.tensor1d(data.labels, "int32");
    const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, 10)), 1);
    const right = tf.equal(tf.argMax(logits, 1), labels);
    return [-tf.mean(picked).dataSync()[0], tf.mean(tf.cast(right, "float32")).dataSync()[0]];
  });
  // 5 leaves a last batch of 3, 22 one of 1: a batch counted as full would move the mean. Other
  // batch sizes are other products (other BLAS kernels, last bits): the loss within 1e-4; the
  // accuracy exactly, as no prediction is near a tie (the smallest gap between the top two
  // logits here is 4.8e-4, against differences of at most 3e-8 between batchings on any core).
  for (const batchSize of [1, 5, 22, 23, 50]) {
    const result = evaluateClassifier(model, data, { batchSize });
    assertAlmostEquals(result.loss, loss, 1e-4, `batch ${batchSize}`);
    assertAlmostEquals(result.accuracy, accuracy, 1e-6, `batch ${batchSize}`);
  }
  disposeModel(model);
});
