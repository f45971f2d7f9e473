import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { capacityAt, denoisingInput, initBackend } from "../../lib/mod.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("capacityAt() ramps C linearly from 0 to the target over the run", () => {
  const config = { epochs: 4, capacity: { gamma: 100, target: 20 } };
  assertEquals(capacityAt(config, { epoch: 1, step: 5, steps: 10 }), 20 * 0.5 / 4);
  assertEquals(capacityAt(config, { epoch: 3, step: 10, steps: 10 }), 15);
  assertEquals(capacityAt(config, { epoch: 4, step: 10, steps: 10 }), 20);
  assertEquals(capacityAt({ epochs: 4 }, { epoch: 2, step: 1 }), 0);
  assertThrows(() => capacityAt(config, { epoch: 1, step: 1 }), RangeError, "steps per epoch");
});

Deno.test("denoisingInput() adds the noise, clips to [0, 1], and cuts a shard from the whole batch's draw", () => {
  const x = tf.fill([6, 784], 0.5) as tf.Tensor2D;
  const values = (t: tf.Tensor) => {
    const v = t.dataSync();
    t.dispose();
    return v;
  };
  const loud = values(denoisingInput(x, { noise: 10, seed: 3 }));
  // Noise of std 10 around 0.5: P(x + noise > 1) = P(x + noise < 0) = 0.48, the rest in between.
  assert(loud.every((v) => v >= 0 && v <= 1), "outside [0, 1]");
  assertAlmostEquals(loud.filter((v) => v === 1).length / loud.length, 0.48, 0.03);
  assertAlmostEquals(loud.filter((v) => v === 0).length / loud.length, 0.48, 0.03);
  const quiet = values(denoisingInput(x, { noise: 0.01, seed: 3 }));
  assert(quiet.every((v) => Math.abs(v - 0.5) < 0.06) && quiet.some((v) => v !== 0.5));
  // Rows 2-4 of a 6-row batch drawn as a shard are those rows of the whole batch.
  const whole = values(denoisingInput(x, { noise: 0.3, seed: 4 }));
  const rows = tf.fill([3, 784], 0.5) as tf.Tensor2D;
  const shard = values(
    denoisingInput(rows, { noise: 0.3, seed: 4, shard: { offset: 2, total: 6 } }),
  );
  assertEquals(Array.from(shard), Array.from(whole.subarray(2 * 784, 5 * 784)));
  tf.dispose([x, rows]);
});
