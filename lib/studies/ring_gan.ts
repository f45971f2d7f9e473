/**
 * The GANs of notebook 08 (the game in two dimensions), on the ring of `ring.ts`: the course's
 * mode collapse (`004_*`: a generator that models one mode at a time and moves between modes as
 * the discriminator learns to reject each), and the unrolled GAN that the slides cite as a remedy
 * (Metz et al., 2016).
 *
 * Three schedules of the same two networks:
 * - `alternating`: one discriminator step, then one generator step (the usual GAN);
 * - `generator-inner`: several generator steps per discriminator step, G near its best response
 *   to a fixed D: the max-min ordering max_D min_G of the slides, whose generator "produces the
 *   sample the discriminator judges most realistic";
 * - `unrolled`: the generator's loss is taken against the discriminator after k further steps of
 *   its own training, and differentiated through them, so G sees how D would answer: an
 *   approximation of min_G max_D.
 *
 * The networks are small MLPs (G: z -> h -> h -> 2, D: 2 -> h -> h -> 1, ReLU; h = 128 by default,
 * 64 in the notebook), written with plain TensorFlow.js ops, whose gradients can themselves be
 * differentiated (the unrolled loss needs second derivatives). Everything is seeded: a schedule
 * and a seed give the same run, in this process or in a worker ({@linkcode trainRingGans}).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { integer, mixSeeds, oneOf, positiveInteger, ringWorkerUrl } from "../base/mod.ts";
import { Adam, type TrainProgress } from "../train/mod.ts";
import { RING_GRID, ringCoverage, ringSamples, type RingSnapshot } from "./ring.ts";

/** How G and D take turns. */
export type RingSchedule = "alternating" | "generator-inner" | "unrolled";

/** Options of {@linkcode trainRingGan}. */
export interface RingGanOptions {
  schedule: RingSchedule;
  seed: number;
  /** Discriminator steps (each followed by the generator's). @default 2000 */
  steps?: number;
  /** Unrolled steps of D inside the generator's loss (`unrolled`). @default 5 */
  unroll?: number;
  /** Generator steps per discriminator step (`generator-inner`). @default 10 */
  generatorSteps?: number;
  /** Samples per batch, real and generated. @default 256 */
  batch?: number;
  /** Units in each of the two hidden layers of G and of D. @default 128 */
  hidden?: number;
  /** A snapshot every this many steps (and at the end). @default 100 */
  every?: number;
  /** Samples drawn at each snapshot for the measures. @default 1000 */
  samples?: number;
  /** Adam's learning rates (beta1 0.5). @default { generator: 1e-3, critic: 1e-4 } */
  learningRates?: { generator: number; critic: number };
  /** The step size of the unrolled discriminator steps. @default 1e-2 */
  unrollRate?: number;
  /** Called at each snapshot (a training display: {@linkcode progressDisplay}); the loss is D's. */
  onProgress?: (event: TrainProgress) => Promise<void> | void;
  /** The display's label for this run. */
  label?: string;
}

/** A dense layer's weights, PyTorch's uniform initialisation, seeded. */
function layer(inputs: number, outputs: number, seed: number): tf.Variable[] {
  const bound = 1 / Math.sqrt(inputs);
  const make = (shape: number[], s: number) =>
    tf.tidy(() => tf.variable(tf.randomUniform(shape, -bound, bound, "float32", s)));
  return [make([inputs, outputs], seed), make([outputs], seed + 1)];
}

/** An MLP with ReLU hidden layers on weights [w, b, w, b, ...]. */
function mlp(x: tf.Tensor2D, weights: readonly tf.Tensor[]): tf.Tensor2D {
  let h = x;
  for (let i = 0; i < weights.length; i += 2) {
    h = tf.add(tf.matMul(h, weights[i] as tf.Tensor2D), weights[i + 1]);
    if (i + 2 < weights.length) h = tf.relu(h);
  }
  return h;
}

/** The generator's code size. */
export const RING_LATENT = 16;

/** The discriminator's loss: cross-entropy of real (target 1) against generated (target 0). */
export function ringCriticLoss(
  d: readonly tf.Tensor[],
  real: tf.Tensor2D,
  fake: tf.Tensor2D,
): tf.Scalar {
  return tf.add(
    tf.mean(tf.softplus(tf.neg(mlp(real, d)))),
    tf.mean(tf.softplus(mlp(fake, d))),
  ) as tf.Scalar;
}

/** The generator's non-saturating loss against critic weights `d`. */
export function ringGeneratorLoss(d: readonly tf.Tensor[], fake: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.softplus(tf.neg(mlp(fake, d)))) as tf.Scalar;
}

/**
 * The critic's weights after `k` plain gradient steps of size `rate` on its loss for this batch,
 * as tensors that stay differentiable in `fake` (and so in G's weights): the unrolled GAN's
 * look-ahead, through which G's gradient takes D's answer into account.
 */
export function unrolledCritic(
  d: readonly tf.Tensor[],
  real: tf.Tensor2D,
  fake: tf.Tensor2D,
  k: number,
  rate: number,
): tf.Tensor[] {
  let dk: tf.Tensor[] = [...d];
  for (let u = 0; u < k; u++) {
    const grads = tf.grads((...w: tf.Tensor[]) => ringCriticLoss(w, real, fake))(dk);
    dk = dk.map((w, i) => tf.sub(w, tf.mul(grads[i], rate)));
  }
  return dk;
}

function gridPoints(): tf.Tensor2D {
  const { side, extent } = RING_GRID;
  const values = new Float32Array(side * side * 2);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      values[2 * (r * side + c)] = -extent + (2 * extent * c) / (side - 1);
      values[2 * (r * side + c) + 1] = -extent + (2 * extent * r) / (side - 1);
    }
  }
  return tf.tensor2d(values, [side * side, 2]);
}

/**
 * Train the ring GAN with `schedule`; returns its snapshots (step 0, every `every` steps, the
 * last). G and D each have their own Adam with beta1 0.5, by default at Metz et al.'s 2-D rates
 * (1e-3 for G, 1e-4 for D); the unrolled steps of D are plain gradient steps of `unrollRate`.
 */
export async function trainRingGan(options: RingGanOptions): Promise<RingSnapshot[]> {
  const { schedule, seed } = options;
  const steps = positiveInteger("steps", options.steps ?? 2000);
  const unroll = integer("unroll", options.unroll ?? 5);
  const generatorSteps = positiveInteger("generatorSteps", options.generatorSteps ?? 10);
  const batch = positiveInteger("batch", options.batch ?? 256);
  const every = positiveInteger("every", options.every ?? 100);
  const n = positiveInteger("samples", options.samples ?? 1000);
  const hidden = positiveInteger("hidden", options.hidden ?? 128);
  const g = [
    ...layer(RING_LATENT, hidden, mixSeeds(seed, 1)),
    ...layer(hidden, hidden, mixSeeds(seed, 2)),
    ...layer(hidden, 2, mixSeeds(seed, 3)),
  ];
  const d = [
    ...layer(2, hidden, mixSeeds(seed, 4)),
    ...layer(hidden, hidden, mixSeeds(seed, 5)),
    ...layer(hidden, 1, mixSeeds(seed, 6)),
  ];
  const rates = options.learningRates ?? { generator: 1e-3, critic: 1e-4 };
  const unrollRate = options.unrollRate ?? 1e-2;
  const [gAdam, dAdam] = [
    new Adam({ learningRate: rates.generator, beta1: 0.5 }),
    new Adam({ learningRate: rates.critic, beta1: 0.5 }),
  ];
  const minimize = (adam: Adam, variables: tf.Variable[], loss: () => tf.Scalar, read = false) => {
    const { value, grads } = tf.variableGrads(loss, variables);
    adam.apply(variables, grads);
    const lossValue = read ? value.dataSync()[0] : NaN; // read only when shown: a read waits
    tf.dispose([value, grads] as tf.TensorContainer);
    return lossValue;
  };
  const draw = (s: number) =>
    tf.randomNormal([batch, RING_LATENT], 0, 1, "float32", s) as tf.Tensor2D;
  const shown = tf.randomNormal(
    [n, RING_LATENT],
    0,
    1,
    "float32",
    mixSeeds(seed, 7),
  ) as tf.Tensor2D;
  const grid = gridPoints();
  const snapshots: RingSnapshot[] = [];
  const snapshot = (step: number) =>
    tf.tidy(() => {
      const samples = mlp(shown, g);
      const arrowsAt = tf.slice(samples, [0, 0], [40, 2]);
      // Where G's loss pushes a sample: minus the gradient of -log D at it.
      const push = tf.neg(
        tf.grad((x: tf.Tensor) => ringGeneratorLoss(d, x as tf.Tensor2D))(arrowsAt),
      );
      const data = samples.dataSync() as Float32Array;
      snapshots.push({
        step,
        samples: data.slice(),
        coverage: ringCoverage(data),
        critic: tf.sigmoid(mlp(grid, d)).dataSync() as Float32Array,
        arrows: push.dataSync() as Float32Array,
      });
    });
  snapshot(0);
  const started = performance.now();
  for (let step = 1; step <= steps; step++) {
    const stepSeed = mixSeeds(seed, 11, step);
    const atSnapshot = step % every === 0 || step === steps;
    let criticValue = NaN;
    tf.tidy(() => {
      const real = tf.tensor2d(ringSamples(batch, stepSeed), [batch, 2]);
      const z = draw(mixSeeds(stepSeed, 1));
      const fake = tf.tidy(() => mlp(z, g)); // constant for D's step
      criticValue = minimize(dAdam, d, () => ringCriticLoss(d, real, fake), atSnapshot);
      const gSteps = schedule === "generator-inner" ? generatorSteps : 1;
      for (let k = 0; k < gSteps; k++) {
        const zg = draw(mixSeeds(stepSeed, 2, k));
        minimize(gAdam, g, () => {
          const fakeG = mlp(zg, g);
          if (schedule !== "unrolled" || unroll === 0) return ringGeneratorLoss(d, fakeG);
          return ringGeneratorLoss(unrolledCritic(d, real, fakeG, unroll, unrollRate), fakeG);
        });
      }
    });
    if (!atSnapshot) continue;
    snapshot(step);
    await options.onProgress?.({
      epoch: 1,
      epochs: 1,
      step,
      steps,
      loss: criticValue,
      seconds: (performance.now() - started) / 1000,
      history: [],
      label: options.label,
    });
  }
  tf.dispose([...g, ...d, shown, grid]);
  gAdam.dispose();
  dAdam.dispose();
  return snapshots;
}

/** Messages between {@linkcode trainRingGans} and a ring worker. */
export type ToRingWorker = { options: Omit<RingGanOptions, "onProgress">; backend: string };
/** What a ring worker reports: progress, its snapshots, or an error. */
export type FromRingWorker =
  | { type: "progress"; progress: TrainProgress }
  | { type: "done"; snapshots: RingSnapshot[] }
  | { type: "error"; message: string };

function trainInWorker(
  options: Omit<RingGanOptions, "onProgress">,
  onProgress: (progress: TrainProgress) => Promise<void>,
): Promise<RingSnapshot[]> {
  const worker = new Worker(ringWorkerUrl(), { type: "module" });
  const backend = oneOf("backend", tf.getBackend(), ["wasm", "cpu", "webgpu"]);
  return new Promise<RingSnapshot[]>((resolve, reject) => {
    worker.onmessage = async (event: MessageEvent<FromRingWorker>) => {
      const message = event.data;
      if (message.type === "progress") await onProgress(message.progress);
      else if (message.type === "done") resolve(message.snapshots);
      else reject(new Error(`ring worker: ${message.message}`));
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      reject(new Error(`ring worker: ${event.message}`));
    };
    worker.postMessage({ options, backend } satisfies ToRingWorker);
  }).finally(() => worker.terminate());
}

/**
 * Train several ring GANs, `concurrency` at a time, each in a worker with its own backend (one
 * at a time: in this process). A run's snapshots do not depend on where it trained. One display
 * follows them all: each run's label is "run i/n" and its own `label`.
 * @param runs each run's options (their `onProgress` is ignored)
 * @param options `concurrency` (default: the processor's cores, at most the number of runs)
 */
export async function trainRingGans(
  runs: readonly RingGanOptions[],
  options: {
    concurrency?: number;
    onProgress?: (event: TrainProgress) => Promise<void> | void;
  } = {},
): Promise<RingSnapshot[][]> {
  const concurrency = Math.min(
    positiveInteger("concurrency", options.concurrency ?? navigator.hardwareConcurrency ?? 1),
    Math.max(runs.length, 1),
  );
  const results: RingSnapshot[][] = new Array(runs.length);
  let finished = 0;
  let next = 0;
  const label = (i: number) =>
    [`run ${i + 1}/${runs.length}`, runs[i].label].filter(Boolean).join(" ");
  // While other runs remain, a run's end is not the end of the display.
  const report = (i: number) => async (progress: TrainProgress) => {
    const last = progress.step >= progress.steps;
    const remaining = finished + (last ? 1 : 0) < runs.length ? Infinity : 0;
    await options.onProgress?.({ ...progress, label: label(i), remaining });
  };
  const lane = async () => {
    while (next < runs.length) {
      const i = next++;
      const { onProgress: _ignored, ...rest } = runs[i];
      results[i] = concurrency === 1
        ? await trainRingGan({ ...rest, onProgress: report(i) })
        : await trainInWorker(rest, report(i));
      finished++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return results;
}
