/**
 * Rules that hold for every input, stated as fast-check properties: seeded, bounded runs (the
 * suite's time stays in minutes). A counterexample fast-check finds is kept as a plain test.
 */
import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs";
import { gzipSync } from "node:zlib";
import {
  Adam,
  buildModel,
  clusterAccuracy,
  codeUse,
  disposeModel,
  encodeIdx,
  evaluate,
  featureStats,
  frechetDistance,
  gaussianKl,
  initBackend,
  iwaeEstimate,
  logMeanExp,
  meanWithError,
  normalizedMutualInformation,
  permutation,
  readIdx,
  rng,
  runHash,
  stratifiedSplit,
  subset,
  TRAIN_DEFAULTS,
  VAE_DEFAULTS,
} from "../lib/mod.ts";
import { syntheticDigits } from "./synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

/** Every property runs from this seed, 100 cases unless a case is slow. */
const RUNS = { seed: 20261203, numRuns: 100 };
const finite = (min: number, max: number) =>
  fc.double({ min, max, noNaN: true, noDefaultInfinity: true });

Deno.test("property: logMeanExp(v) lies between max(v) - log n and max(v)", () => {
  fc.assert(
    fc.property(fc.array(finite(-1e3, 1e3), { minLength: 1, maxLength: 50 }), (values) => {
      const max = Math.max(...values);
      const value = logMeanExp(values);
      const slack = 1e-9 * Math.max(1, Math.abs(max));
      return value <= max + slack && value >= max - Math.log(values.length) - slack;
    }),
    RUNS,
  );
});

Deno.test("property: KL(N(m, e^lv) || N(0, 1)) >= 0, and 0 exactly at m = 0, lv = 0", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(finite(-5, 5), finite(-5, 5)), { minLength: 1, maxLength: 8 }),
      (units) => {
        const kl = tf.tidy(() =>
          gaussianKl(
            tf.tensor2d([units.map(([m]) => m)]),
            tf.tensor2d([units.map(([, lv]) => lv)]),
          ).dataSync()[0]
        );
        return kl >= -1e-5;
      },
    ),
    { ...RUNS, numRuns: 50 },
  );
  const zero = tf.tidy(() => gaussianKl(tf.zeros([1, 7]), tf.zeros([1, 7])).dataSync()[0]);
  assertEquals(zero, 0);
});

Deno.test("property: stratifiedSplit() counts are within 1 of proportional and sum to the sizes", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 10, maxLength: 200 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.integer(),
      (labels, share, seed) => {
        const first = Math.floor(share * labels.length);
        const [a, b] = stratifiedSplit(labels, [first, labels.length - first], rng(seed));
        if (a.length !== first || b.length !== labels.length - first) return false;
        if (new Set([...a, ...b]).size !== labels.length) return false;
        for (const label of new Set(labels)) {
          const inClass = labels.filter((l) => l === label).length;
          const picked = Array.from(a).filter((i) => labels[i] === label).length;
          if (Math.abs(picked - (inClass * first) / labels.length) >= 1 + 1e-9) return false;
        }
        return true;
      },
    ),
    RUNS,
  );
});

Deno.test("property: the run hash ignores key order and changes with every field it is given", async () => {
  const data = { source: "embedded", trainSize: 10, testSize: 5, checksum: 1 };
  const base = await runHash(TRAIN_DEFAULTS, data);
  const reversed = Object.fromEntries(Object.entries(TRAIN_DEFAULTS).reverse());
  assertEquals(await runHash(reversed as typeof TRAIN_DEFAULTS, data), base);
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...Object.keys(TRAIN_DEFAULTS) as (keyof typeof TRAIN_DEFAULTS)[]),
      async (field) => {
        const value = TRAIN_DEFAULTS[field];
        const changed = typeof value === "number" ? value + 1 : `${value}-other`;
        return await runHash({ ...TRAIN_DEFAULTS, [field]: changed }, data) !== base;
      },
    ),
    { ...RUNS, numRuns: 30 },
  );
  for (const key of Object.keys(data) as (keyof typeof data)[]) {
    const changed = { ...data, [key]: typeof data[key] === "number" ? 2 : "full" };
    assert(await runHash(TRAIN_DEFAULTS, changed) !== base, key);
  }
});

Deno.test("property: the Fréchet distance is symmetric, 0 on equal statistics, >= 0", () => {
  const sample = (values: number[], dim: number) => featureStats(Float64Array.from(values), dim);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }).chain((dim) =>
        fc.tuple(
          fc.constant(dim),
          fc.array(finite(-3, 3), { minLength: dim * 6, maxLength: dim * 6 }),
          fc.array(finite(-3, 3), { minLength: dim * 6, maxLength: dim * 6 }),
        )
      ),
      ([dim, a, b]) => {
        const [sa, sb] = [sample(a, dim), sample(b, dim)];
        const ab = frechetDistance(sa, sb);
        const ba = frechetDistance(sb, sa);
        const scale = 1e-6 * Math.max(1, Math.abs(ab));
        return Math.abs(ab - ba) <= scale && ab >= -scale &&
          Math.abs(frechetDistance(sa, sa)) <= 1e-6;
      },
    ),
    RUNS,
  );
});

Deno.test("property: cluster accuracy and NMI ignore how the clusters are named", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })), {
        minLength: 2,
        maxLength: 60,
      }),
      fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 5, maxLength: 5 }),
      (pairs, renaming) => {
        const clusters = pairs.map(([c]) => c);
        const labels = pairs.map(([, l]) => l);
        const renamed = clusters.map((c) => renaming[c]);
        const accuracy = clusterAccuracy(clusters, labels);
        // One to one, the matching does at least as well as its best single pair.
        const bestPair = Math.max(
          ...clusters.map((c, i) =>
            pairs.filter(([c2, l2]) => c2 === c && l2 === labels[i]).length
          ),
        );
        return Math.abs(accuracy - clusterAccuracy(renamed, labels)) < 1e-12 &&
          Math.abs(
              normalizedMutualInformation(clusters, labels) -
                normalizedMutualInformation(renamed, labels),
            ) < 1e-9 &&
          accuracy >= bestPair / labels.length - 1e-12;
      },
    ),
    RUNS,
  );
});

Deno.test("clusterAccuracy() matches one to one, not by majority (fast-check's counterexample)", () => {
  // Two clusters of one label: only one of them may be matched to it. (A first version of the
  // property above claimed the largest label's share as a lower bound, a majority vote's.)
  assertEquals(clusterAccuracy([0, 1], [3, 3]), 0.5);
});

Deno.test("property: a codebook's perplexity lies between 1 and the number of codes used", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 100 }),
      (codes) => {
        const { perplexity, unused } = codeUse(codes, 16);
        const used = new Set(codes).size;
        return unused === 16 - used && perplexity >= 1 - 1e-12 && perplexity <= used + 1e-9;
      },
    ),
    RUNS,
  );
  assertAlmostEquals(codeUse([1, 1, 1], 16).perplexity, 1, 1e-12);
});

Deno.test("property: readIdx() reads back what encodeIdx() wrote, gzipped or not, for any shape", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }).chain((dims) =>
        fc.tuple(
          fc.constant(dims),
          fc.uint8Array({
            minLength: dims.reduce((a, b) => a * b, 1),
            maxLength: dims.reduce((a, b) => a * b, 1),
          }),
          fc.boolean(),
        )
      ),
      ([dims, data, zipped]) => {
        const encoded = encodeIdx(dims, data);
        const { dims: back, data: bytes } = readIdx(zipped ? gzipSync(encoded) : encoded);
        return JSON.stringify(back) === JSON.stringify(dims) &&
          bytes.length === data.length && bytes.every((b, i) => b === data[i]);
      },
    ),
    RUNS,
  );
});

Deno.test("property: the Fréchet distance of diagonal Gaussians is |m1 - m2|^2 + sum (s1 - s2)^2", () => {
  // Commuting (here diagonal) covariances: tr(S1 + S2 - 2 (S1 S2)^1/2) = sum (s1 - s2)^2.
  const stats = (mean: number[], std: number[]) => ({
    dim: mean.length,
    count: 2,
    mean: Float64Array.from(mean),
    covariance: Float64Array.from(
      mean.flatMap((_, i) => mean.map((_, j) => (i === j ? std[i] * std[i] : 0))),
    ),
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }).chain((d) =>
        fc.tuple(
          ...[0, 1, 2, 3].map((k) =>
            fc.array(k % 2 ? finite(0, 3) : finite(-3, 3), { minLength: d, maxLength: d })
          ),
        )
      ),
      ([m1, s1, m2, s2]) => {
        const closed = m1.reduce((t, m, i) => t + (m - m2[i]) ** 2 + (s1[i] - s2[i]) ** 2, 0);
        const value = frechetDistance(stats(m1, s1), stats(m2, s2));
        return Math.abs(value - closed) <= 1e-6 * Math.max(1, closed);
      },
    ),
    RUNS,
  );
});

Deno.test("property: evaluate()'s per-image means do not depend on the evaluation batch (no noise)", () => {
  const data = syntheticDigits(37, 9);
  const model = buildModel({ ...TRAIN_DEFAULTS, kind: "ae", hiddenSize: 8, latentSize: 3 });
  const reference = evaluate(model, data, { ...TRAIN_DEFAULTS, evaluationBatch: 37 });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), (batch) => {
      const value = evaluate(model, data, { ...TRAIN_DEFAULTS, evaluationBatch: batch });
      return Math.abs(value.loss - reference.loss) <= 1e-4 * reference.loss;
    }),
    { ...RUNS, numRuns: 20 },
  );
  // Nor on the order of the images.
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.integer({ min: 1, max: 40 }),
      (seed, batch) => {
        const shuffled = subset(data, permutation(37, rng(seed)));
        const value = evaluate(model, shuffled, { ...TRAIN_DEFAULTS, evaluationBatch: batch });
        return Math.abs(value.loss - reference.loss) <= 1e-4 * reference.loss;
      },
    ),
    { ...RUNS, numRuns: 20 },
  );
  disposeModel(model);
});

Deno.test("property: Adam's kernel takes the float64 formula's steps, for any size and settings", () => {
  fc.assert(
    fc.property(
      fc.record({
        size: fc.integer({ min: 1, max: 70 }),
        steps: fc.integer({ min: 1, max: 3 }),
        learningRate: finite(1e-4, 0.1),
        beta1: finite(0, 0.95),
        beta2: finite(0.9, 0.9999),
        epsilon: finite(1e-8, 1e-3),
        scale: finite(0.05, 1),
        mix: fc.option(finite(0.05, 0.95)),
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      }),
      ({ size, steps, learningRate, beta1, beta2, epsilon, scale, mix, seed }) => {
        const random = rng(seed);
        const draw = () => Float32Array.from({ length: size }, () => 2 * random() - 1);
        const w64 = Float64Array.from(draw());
        const variable = tf.variable(tf.tensor1d(Float32Array.from(w64)), true, "w");
        const adam = new Adam({ learningRate, beta1, beta2, epsilon });
        const [m, v] = [new Float64Array(size), new Float64Array(size)];
        let ok = true;
        for (let t = 1; t <= steps; t++) {
          const [g0, g1] = [draw(), draw()];
          const grads = { w: tf.tensor1d(g0) };
          const other = { w: tf.tensor1d(g1) };
          const [a, b] = mix === null ? [1, 0] : [mix, 1 - mix];
          const squares = adam.apply(
            [variable],
            grads,
            scale,
            mix === null ? undefined : { grads: other, a, b },
          );
          tf.dispose([grads.w, other.w]);
          let sum = 0;
          for (let i = 0; i < size; i++) {
            const g = scale * (a * g0[i] + b * g1[i]);
            sum += g * g;
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            const step = learningRate / (1 - beta1 ** t);
            w64[i] -= step * m[i] / (Math.sqrt(v[i] / (1 - beta2 ** t)) + epsilon);
          }
          if (squares !== undefined && Math.abs(squares - sum) > 1e-5 * sum) ok = false;
        }
        const w32 = variable.dataSync();
        // float32 weights and moments: rounding of the weights' size, and of a step's.
        for (let i = 0; i < size; i++) {
          if (Math.abs(w32[i] - w64[i]) > 2e-7 * Math.abs(w64[i]) + 1e-4 * learningRate) ok = false;
        }
        adam.dispose();
        variable.dispose();
        return ok;
      },
    ),
    { ...RUNS, numRuns: 60 },
  );
});

Deno.test("property: L_k does not fall as k grows, in expectation over the draws", () => {
  const vae = buildModel({ ...VAE_DEFAULTS, hiddenSize: 16, latentSize: 3, seed: 2 });
  const data = syntheticDigits(12, 5);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 30 }),
      fc.integer({ min: 0, max: 1000 }),
      (k, more, seed) => {
        const small = iwaeEstimate(vae, data, { k, seed }).values;
        const large = iwaeEstimate(vae, data, { k: k + more, seed: seed + 1 }).values;
        const gain = meanWithError(Array.from(large, (v, i) => v - small[i]));
        return gain.mean >= -3 * gain.stdError;
      },
    ),
    { ...RUNS, numRuns: 15 },
  );
  disposeModel(vae);
});
