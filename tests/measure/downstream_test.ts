import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import * as tf from "@tensorflow/tfjs";
import {
  balancedDraw,
  clusterAccuracy,
  fitSoftmax,
  kmeansClusters,
  normal,
  normalizedMutualInformation,
  pickRows,
  rng,
  softmaxAccuracy,
  type SoftmaxFit,
  softmaxPredict,
} from "../../lib/mod.ts";

/** `each` points per class around class c's centre (c on axis c mod dim, at 4), noise `noise`. */
function blobs(classes: number, each: number, dim: number, noise: number, seed: number) {
  const random = rng(seed);
  const features = new Float32Array(classes * each * dim);
  const labels: number[] = [];
  for (let i = 0; i < classes * each; i++) {
    const c = i % classes;
    labels.push(c);
    for (let j = 0; j < dim; j++) {
      features[i * dim + j] = (j === c % dim ? 4 * (c < dim ? 1 : -1) : 0) + noise * normal(random);
    }
  }
  return { features, labels, dim };
}

Deno.test("balancedDraw() takes perClass of each label, seeded, without repeats", () => {
  const labels = Array.from({ length: 50 }, (_, i) => i % 5);
  const drawn = balancedDraw(labels, 3, 11);
  assertEquals(drawn.length, 15);
  assertEquals(new Set(drawn).size, 15);
  for (let c = 0; c < 5; c++) assertEquals(drawn.filter((i) => labels[i] === c).length, 3);
  assertEquals(balancedDraw(labels, 3, 11), drawn);
  assert(JSON.stringify(balancedDraw(labels, 3, 12)) !== JSON.stringify(drawn));
  // Every example of a label can be drawn: over many seeds, each index of label 0 comes up.
  const seen = new Set<number>();
  for (let seed = 0; seed < 200; seed++) balancedDraw(labels, 1, seed).forEach((i) => seen.add(i));
  assertEquals(seen.size, 50);
  assertThrows(() => balancedDraw(labels, 11, 0), RangeError, "label 0 has 10 examples; 11 asked");
});

Deno.test("pickRows() copies the rows asked for with their labels", () => {
  const data = { features: Float32Array.from([0, 1, 2, 3, 4, 5]), labels: [7, 8, 9], dim: 2 };
  const picked = pickRows(data, [2, 0]);
  assertEquals(Array.from(picked.features), [4, 5, 0, 1]);
  assertEquals(picked.labels, [9, 7]);
});

Deno.test("softmaxAccuracy() separates separable classes, is deterministic, leaks nothing", () => {
  const train = blobs(4, 30, 3, 0.5, 1);
  const test = blobs(4, 50, 3, 0.5, 2);
  const before = tf.memory().numTensors;
  const accuracy = softmaxAccuracy(train, test, { classes: 4, steps: 100 });
  assertEquals(tf.memory().numTensors, before);
  assertEquals(accuracy, 1);
  assertEquals(softmaxAccuracy(train, test, { classes: 4, steps: 100 }), accuracy);
  // Labels shuffled against the features: nothing to learn, about chance on 4 classes.
  const shuffled = { ...train, labels: train.labels.map((_, i) => (i * 7 + 3) % 4) };
  const chance = softmaxAccuracy(shuffled, test, { classes: 4, steps: 100 });
  assert(chance < 0.5, `accuracy with shuffled labels ${chance}`);
  // Noisy, overlapping classes: better than chance and below 1, and the fit uses every class.
  const noisyTest = blobs(4, 200, 3, 3, 4);
  const noisy = softmaxAccuracy(blobs(4, 200, 3, 3, 3), noisyTest, { classes: 4 });
  assert(noisy > 0.4 && noisy < 0.95, `noisy accuracy ${noisy}`);
  assertThrows(
    () => softmaxAccuracy(train, { ...test, labels: test.labels.map(() => 4) }, { classes: 4 }),
    RangeError,
    "labels must be integers in [0, 4); got 4",
  );
  assertThrows(
    () => softmaxAccuracy(train, blobs(4, 5, 2, 1, 0), { classes: 4 }),
    RangeError,
    "train has 3 features, test 2",
  );
});

Deno.test("softmaxAccuracy() standardises by the training rows: a scaled feature gives the same fit", () => {
  const train = blobs(3, 40, 3, 1.5, 5);
  const test = blobs(3, 60, 3, 1.5, 6);
  const scaled = (d: typeof train) => ({
    ...d,
    features: d.features.map((v, i) => (i % 3 === 1 ? 1000 * v + 50 : v)),
  });
  const plain = softmaxAccuracy(train, test, { classes: 3, steps: 150 });
  assertAlmostEquals(
    softmaxAccuracy(scaled(train), scaled(test), { classes: 3, steps: 150 }),
    plain,
    0.02,
  );
});

/**
 * The objective fitSoftmax() minimises, in float64, written from its definition: standardise each
 * feature, then mean cross-entropy + l2/2 |W|^2 (the bias row free). Returns its gradient at W.
 */
function objectiveGradient(
  data: { features: Float32Array; labels: number[]; dim: number },
  weights: Float64Array,
  classes: number,
  l2: number,
): Float64Array {
  const { dim } = data;
  const n = data.labels.length;
  const column = (j: number) => Array.from({ length: n }, (_, i) => data.features[i * dim + j]);
  const mean = Array.from({ length: dim }, (_, j) => column(j).reduce((a, b) => a + b) / n);
  const sd = mean.map((m, j) =>
    Math.sqrt(column(j).reduce((a, v) => a + (v - m) ** 2, 0) / n) + 1e-6
  );
  const grad = new Float64Array((dim + 1) * classes);
  for (let i = 0; i < n; i++) {
    const row = [
      ...Array.from({ length: dim }, (_, j) => (data.features[i * dim + j] - mean[j]) / sd[j]),
      1,
    ];
    const scores = Array.from(
      { length: classes },
      (_, c) => row.reduce((a, v, j) => a + v * weights[j * classes + c], 0),
    );
    const top = Math.max(...scores);
    const exps = scores.map((s) => Math.exp(s - top));
    const total = exps.reduce((a, b) => a + b);
    for (let j = 0; j <= dim; j++) {
      for (let c = 0; c < classes; c++) {
        grad[j * classes + c] += (row[j] * (exps[c] / total - (data.labels[i] === c ? 1 : 0))) / n;
      }
    }
  }
  for (let k = 0; k < dim * classes; k++) grad[k] += l2 * weights[k];
  return grad;
}

/** Adam (PyTorch's, bias corrected) on that objective, in float64. */
function adamFit(
  data: { features: Float32Array; labels: number[]; dim: number },
  { classes, steps, learningRate, l2 }: {
    classes: number;
    steps: number;
    learningRate: number;
    l2: number;
  },
): Float64Array {
  const size = (data.dim + 1) * classes;
  const [w, m, v] = [new Float64Array(size), new Float64Array(size), new Float64Array(size)];
  for (let t = 1; t <= steps; t++) {
    const g = objectiveGradient(data, w, classes, l2);
    for (let k = 0; k < size; k++) {
      m[k] = 0.9 * m[k] + 0.1 * g[k];
      v[k] = 0.999 * v[k] + 0.001 * g[k] ** 2;
      const mHat = m[k] / (1 - 0.9 ** t);
      const vHat = v[k] / (1 - 0.999 ** t);
      w[k] -= (learningRate * mHat) / (Math.sqrt(vHat) + 1e-8);
    }
  }
  return w;
}

Deno.test("fitSoftmax() is full-batch Adam on the standardised, penalised cross-entropy: written out in float64", () => {
  // Overlapping classes (no separating fit runs off to infinity), features on other scales, and
  // classes of unequal sizes (balanced ones make the biases' first gradients 0, where float32
  // rounding decides the sign of Adam's first step).
  const all = blobs(3, 20, 4, 2, 8);
  const rows = all.labels.flatMap((c, i) => (c === 2 && i % 2 === 0 ? [] : [i]));
  const data = pickRows(all, rows) as typeof all;
  data.features = data.features.map((x, i) => (i % 4 === 2 ? 30 * x - 7 : x));
  const options = { classes: 3, learningRate: 0.05, l2: 0.1 };
  for (const steps of [1, 2, 40]) {
    const ours = fitSoftmax(data, { ...options, steps });
    const theirs = adamFit(data, { ...options, steps });
    // Adam's steps are at most the learning rate per weight each; float32 rounding of the
    // gradients (sums of 60 terms, relative 1e-6) moves a step by far less, except where a
    // gradient is within rounding of 0. 1e-4 of the travel (steps x rate) bounds what 40 steps
    // can accumulate; a forgotten bias correction alone is off by 3.2 rates on the first step.
    const gap = ours.weights.reduce((worst, w, k) => Math.max(worst, Math.abs(w - theirs[k])), 0);
    assert(gap < 1e-4 * steps * options.learningRate + 1e-6, `${steps} steps: gap ${gap}`);
  }
  // Run to convergence, the fit is the objective's minimum: its gradient vanishes there (relative
  // to the gradient at 0, the start).
  const fit: SoftmaxFit = fitSoftmax(data, { ...options, steps: 3000 });
  const norm = (g: Float64Array) => Math.sqrt(g.reduce((a, x) => a + x * x, 0));
  const atStart = norm(objectiveGradient(data, new Float64Array(15), 3, 0.1));
  const atFit = norm(objectiveGradient(data, Float64Array.from(fit.weights), 3, 0.1));
  assert(atFit < 1e-3 * atStart, `gradient at the fit ${atFit}, at 0 ${atStart}`);
  // The prediction is each row's largest score under the fit.
  const predicted = softmaxPredict(fit, data);
  const accuracy = predicted.filter((p, i) => p === data.labels[i]).length / predicted.length;
  assertEquals(softmaxAccuracy(data, data, { ...options, steps: 3000 }), accuracy);
});

Deno.test("clusterAccuracy() matches clusters to labels one to one, the best way", () => {
  // Clusters are the labels renamed: accuracy 1, whatever the names.
  assertEquals(clusterAccuracy([2, 2, 0, 0, 1, 1], [0, 0, 1, 1, 2, 2]), 1);
  // Cluster 0 holds labels 0 0 1, cluster 1 holds 1 1 0: the best matching is 0->0, 1->1 (4 of 6
  // right); a greedy or many-to-one matching would differ on the next case.
  assertAlmostEquals(clusterAccuracy([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 0]), 4 / 6, 1e-12);
  // Both clusters are mostly label 0: one to one, only one of them may be 0 (3 + 1 of 7 right; a
  // majority vote per cluster would score 6 of 7).
  assertAlmostEquals(clusterAccuracy([0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 0, 0, 0]), 4 / 7, 1e-12);
  assertThrows(() => clusterAccuracy([0, 1], [0]), RangeError, "2 clusters for 1 labels");
});

Deno.test("normalizedMutualInformation() is 1 for a renaming, 0 for independence, and a hand value", () => {
  assertAlmostEquals(normalizedMutualInformation([1, 1, 0, 0, 2, 2], [0, 0, 1, 1, 2, 2]), 1, 1e-12);
  // Every cluster holds every label equally: independent.
  assertAlmostEquals(normalizedMutualInformation([0, 0, 1, 1], [0, 1, 0, 1]), 0, 1e-12);
  assertEquals(normalizedMutualInformation([0, 0, 0, 0], [0, 1, 0, 1]), 0);
  // Clusters [0 0 1 1 1 1], labels [0 0 0 0 1 1]: I = H(L) + H(C) - H(C, L) by hand.
  const h = (...p: number[]) => -p.reduce((s, q) => s + q * Math.log(q), 0);
  const mutual = h(2 / 3, 1 / 3) + h(1 / 3, 2 / 3) - h(1 / 3, 1 / 3, 1 / 3);
  assertAlmostEquals(
    normalizedMutualInformation([0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1]),
    mutual / Math.sqrt(h(1 / 3, 2 / 3) * h(2 / 3, 1 / 3)),
    1e-12,
  );
});

Deno.test("kmeansClusters() finds well-separated blobs, seeded", () => {
  const { features, labels } = blobs(5, 20, 5, 0.3, 9);
  const clusters = kmeansClusters(features, 5, { k: 5, seed: 1 });
  assertEquals(clusterAccuracy(clusters, labels), 1);
  assertEquals(kmeansClusters(features, 5, { k: 5, seed: 1 }), clusters);
  assertThrows(() => kmeansClusters(features.subarray(0, 15), 5, { k: 5, seed: 1 }), RangeError);
});

Deno.test("kmeansClusters() keeps the restart of the smallest within-cluster sum of squares", () => {
  // Overlapping blobs: k-means' local optima differ from seed to seed.
  const { features } = blobs(6, 30, 2, 2.5, 11);
  const sse = (clusters: number[]) => {
    const sums = new Map<number, { n: number; x: number; y: number }>();
    clusters.forEach((c, i) => {
      const s = sums.get(c) ?? { n: 0, x: 0, y: 0 };
      sums.set(c, { n: s.n + 1, x: s.x + features[2 * i], y: s.y + features[2 * i + 1] });
    });
    return clusters.reduce((total, c, i) => {
      const s = sums.get(c)!;
      return total + (features[2 * i] - s.x / s.n) ** 2 + (features[2 * i + 1] - s.y / s.n) ** 2;
    }, 0);
  };
  const single = [3, 4, 5, 6, 7].map((seed) =>
    sse(kmeansClusters(features, 2, { k: 6, seed, restarts: 1 }))
  );
  assert(
    new Set(single.map((v) => v.toFixed(6))).size > 1,
    "the seeds should reach different optima",
  );
  const best = sse(kmeansClusters(features, 2, { k: 6, seed: 3, restarts: 5 }));
  assertAlmostEquals(best, Math.min(...single), 1e-6);
});
