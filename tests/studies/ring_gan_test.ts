import { assert, assertAlmostEquals, assertEquals, assertRejects } from "@std/assert";
import * as tf from "@tensorflow/tfjs";
import {
  initBackend,
  ringCriticLoss,
  ringGeneratorLoss,
  ringSamples,
  ringSliderFigure,
  trainRingGan,
  trainRingGans,
  unrolledCritic,
} from "../../lib/mod.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("trainRingGan(): seeded, leaves no tensor, and its snapshots draw", async () => {
  const before = tf.memory().numTensors;
  const options = {
    schedule: "alternating" as const,
    seed: 4,
    steps: 6,
    every: 3,
    batch: 32,
    samples: 64,
  };
  const a = await trainRingGan(options);
  assertEquals(tf.memory().numTensors, before);
  assertEquals(a.map((s) => s.step), [0, 3, 6]);
  assertEquals(a[2].samples, (await trainRingGan(options))[2].samples);
  assert(a[2].samples.some((v, i) => v !== a[0].samples[i]), "G did not move");
  assertEquals(a[2].critic.length, 41 * 41);
  assertEquals(a[2].arrows.length, 80);
  // Unrolling zero steps is the alternating schedule; five steps is another generator.
  const zero = await trainRingGan({ ...options, schedule: "unrolled", unroll: 0 });
  assertEquals(zero[2].samples, a[2].samples);
  const five = await trainRingGan({ ...options, schedule: "unrolled", unroll: 2 });
  assert(five[2].samples.some((v, i) => v !== a[2].samples[i]), "unrolling changed nothing");
  const figure = ringSliderFigure(a, "test");
  assertEquals(figure.frames?.length, 3);
  await assertRejects(() => trainRingGan({ ...options, steps: 0 }), RangeError);
});

Deno.test("trainRingGans(): two workers give each run the snapshots it has in this process", async () => {
  const base = { steps: 4, every: 2, batch: 16, samples: 32, hidden: 8 };
  const runs = [
    { ...base, schedule: "alternating" as const, seed: 1, label: "a" },
    { ...base, schedule: "unrolled" as const, seed: 2, unroll: 1, label: "b" },
    { ...base, schedule: "generator-inner" as const, seed: 3, generatorSteps: 2 },
  ];
  const seen: { label?: string; remaining?: number }[] = [];
  const inWorkers = await trainRingGans(runs, {
    concurrency: 2,
    onProgress: (p) => {
      seen.push({ label: p.label, remaining: p.remaining });
    },
  });
  const here = await trainRingGans(runs, { concurrency: 1 });
  for (let i = 0; i < runs.length; i++) {
    assertEquals(inWorkers[i].map((s) => s.step), [0, 2, 4]);
    assertEquals(inWorkers[i][2].samples, here[i][2].samples);
    assertEquals(inWorkers[i][2].critic, here[i][2].critic);
  }
  // Every run reports under its number; only the very last report ends the display.
  assertEquals(new Set(seen.map((s) => s.label)), new Set(["run 1/3 a", "run 2/3 b", "run 3/3"]));
  assertEquals(seen.filter((s) => s.remaining === 0).length, 1);
  assertEquals(seen.at(-1)?.remaining, 0);
});

Deno.test("unrolledCritic(): k descent steps on D's loss, and G's gradient flows through them", () => {
  const shapes = [[2, 6], [6], [6, 6], [6], [6, 1], [1]];
  const d = shapes.map((shape, i) => tf.randomNormal(shape, 0, 0.8, "float32", 10 + i));
  const real = tf.tensor2d(ringSamples(8, 1), [8, 2]);
  const fake = tf.randomNormal([8, 2], 0, 1, "float32", 3) as tf.Tensor2D;
  // One small step lowers D's loss by rate |grad|^2 to first order (descent, at the given rate).
  const rate = 1e-2;
  const grads = tf.grads((...w: tf.Tensor[]) => ringCriticLoss(w, real, fake))(d);
  const squared = grads.reduce((a, g) => a + tf.sum(tf.square(g)).dataSync()[0], 0);
  const before = ringCriticLoss(d, real, fake).dataSync()[0];
  const after = ringCriticLoss(unrolledCritic(d, real, fake, 1, rate), real, fake).dataSync()[0];
  assertAlmostEquals((before - after) / (rate * squared), 1, 0.05);
  // G's loss against the unrolled D, as a function of the generated points: its gradient matches
  // central differences (float64 sums of float32 losses, h = 1e-2), and a D held constant (the
  // look-ahead without its second-order term) does not.
  const lossAt = (points: tf.Tensor2D) =>
    ringGeneratorLoss(unrolledCritic(d, real, points, 3, 0.5), points);
  const analytic = tf.grad((p: tf.Tensor) => lossAt(p as tf.Tensor2D))(fake).dataSync();
  const held = unrolledCritic(d, real, fake, 3, 0.5).map((w) => tf.keep(tf.clone(w)));
  const firstOrder = tf.grad((p: tf.Tensor) => ringGeneratorLoss(held, p as tf.Tensor2D))(fake)
    .dataSync();
  const values = fake.dataSync();
  const h = 1e-2;
  let worst = 0;
  let gap = 0;
  for (const i of [0, 3, 5, 8]) { // coordinates away from a ReLU kink (13 sits on one)
    const shifted = (delta: number) => {
      const copy = Float32Array.from(values);
      copy[i] += delta;
      return lossAt(tf.tensor2d(copy, [8, 2])).dataSync()[0];
    };
    const numeric = (shifted(h) - shifted(-h)) / (2 * h);
    worst = Math.max(worst, Math.abs(analytic[i] - numeric));
    gap = Math.max(gap, Math.abs(firstOrder[i] - numeric));
  }
  assert(worst < 2e-3, `the unrolled gradient is off central differences by ${worst}`);
  assert(gap > 10 * worst, `the second-order term is too small to tell: ${gap} against ${worst}`);
  tf.dispose([...d, real, fake, ...grads, ...held]);
});
