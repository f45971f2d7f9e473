import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows } from "@std/assert";
import { Adam, initBackend } from "../lib/mod.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("Adam on wasm takes the same steps as tf.train.adam, leaking nothing", () => {
  const start = tf.randomNormal([50, 7], 0, 1, "float32", 1);
  const target = tf.randomNormal([50, 7], 0, 1, "float32", 2);
  const ours = tf.variable(start, true, "adam_test_ours");
  const theirs = tf.variable(start.clone(), true, "adam_test_theirs");
  const loss = (v: tf.Variable) => () => tf.sum(tf.pow(tf.sub(v, target), 4)) as tf.Scalar;
  const adam = new Adam({ learningRate: 0.05 });
  const reference = tf.train.adam(0.05, 0.9, 0.999, 1e-8);
  const before = tf.memory().numTensors;
  for (let step = 0; step < 20; step++) {
    const { value, grads } = tf.variableGrads(loss(ours), [ours]);
    adam.apply([ours], grads);
    tf.dispose([value, grads[ours.name]]);
    reference.minimize(loss(theirs), false, [theirs]);
  }
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]);
  assert(diff < 1e-5, `after 20 steps the weights differ by ${diff}`);
  // tf.train.adam keeps two moment tensors for its variable; ours keeps its moments in JS.
  assertEquals(tf.memory().numTensors, before + 2);
  tf.dispose([start, target, ours, theirs]);
  reference.dispose();
});

Deno.test("Adam names a missing gradient and bad hyper-parameters", () => {
  const v = tf.variable(tf.zeros([2]), true, "adam_test_missing");
  assertThrows(
    () => new Adam().apply([v], {}),
    RangeError,
    'no gradient for variable "adam_test_missing"',
  );
  assertThrows(
    () => new Adam({ learningRate: 0 }),
    RangeError,
    "learningRate must be a positive number; got 0",
  );
  assertThrows(() => new Adam({ beta2: 1 }), RangeError, "beta2 must be in [0, 1); got 1");
  v.dispose();
});
