/**
 * Seeded pseudo-random numbers for JavaScript-side draws (shuffles, splits, binarisation).
 *
 * TensorFlow.js ops take their own integer seeds; this module covers what happens outside them.
 * @module
 */
import { integer } from "./validate.ts";

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** Folds a safe integer (possibly negative or above 2^32) into 32 bits without dropping bits. */
function fold(value: number): number {
  return (value >>> 0) ^ (Math.floor(value / 0x100000000) >>> 0);
}

/** The splitmix32 finaliser: a bijection on 32-bit integers that scatters nearby inputs. */
function mix32(value: number): number {
  let z = (value + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Combines integer parts (e.g. a seed and an epoch) into one 32-bit seed; order matters. */
export function mixSeeds(...parts: number[]): number {
  let hash = 0x2545f491;
  for (const [i, part] of parts.entries()) {
    integer(`seed part ${i}`, part);
    hash = mix32(hash ^ fold(part));
  }
  return hash;
}

/** A mulberry32 generator: uniform numbers in [0, 1) from an integer seed. */
export function rng(seed: number): Random {
  integer("seed", seed);
  // Scrambling the seed first keeps seeds 0, 1, 2, ... from starting on correlated streams.
  let state = mix32(fold(seed));
  return function next(): number {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  };
}

/** Shuffles `array` in place (Fisher-Yates) and returns it. */
export function shuffle<T extends { length: number; [i: number]: unknown }>(
  array: T,
  random: Random,
): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = array[i];
    array[i] = array[j];
    array[j] = tmp;
  }
  return array;
}

/** A random permutation of 0 .. n-1. */
export function permutation(n: number, random: Random): Uint32Array {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`n must be a non-negative integer; got ${n}`);
  }
  const indices = new Uint32Array(n);
  for (let i = 0; i < n; i++) indices[i] = i;
  return shuffle(indices, random);
}

/** One standard normal draw (Box-Muller). */
export function normal(random: Random): number {
  // 1 - u lies in (0, 1], so the logarithm is finite.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Disjoint seeded picks of `sizes[k]` indices each, every class (label) in proportion to its
 * share of `labels`: largest remainder, so each class count is within 1 of proportional.
 */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  sizes: number[],
  random: Random,
): Uint32Array[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (!sizes.every((n) => Number.isInteger(n) && n >= 0) || total > labels.length) {
    throw new RangeError(
      `sizes must be non-negative integers summing to at most ${labels.length}; got [${sizes}]`,
    );
  }
  const members = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = members.get(labels[i]) ?? members.set(labels[i], []).get(labels[i])!;
    list.push(i);
  }
  // Classes in label order, so the result depends only on the labels and the seed.
  const classes = [...members.keys()].sort((a, b) => a - b).map((c) => members.get(c)!);
  for (const list of classes) shuffle(list, random);
  const counts = classes.map((list) => list.length);
  const used = counts.map(() => 0);
  return sizes.map((size) => {
    const quota = apportion(size, counts, counts.map((n, c) => n - used[c]));
    const picked: number[] = [];
    quota.forEach((q, c) => {
      for (let k = 0; k < q; k++) picked.push(classes[c][used[c] + k]);
      used[c] += q;
    });
    // Shuffled again so a pick is not sorted by class (its first-n slices stay representative).
    return shuffle(Uint32Array.from(picked), random);
  });
}

/** Splits `total` in proportion to `weights`, at most `caps[c]` each; needs total <= sum(caps). */
function apportion(total: number, weights: number[], caps: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const quota = exact.map((x, c) => Math.min(Math.floor(x), caps[c]));
  let remaining = total - quota.reduce((a, b) => a + b, 0);
  // Largest fractional part first; ties by class, for determinism.
  const order = quota.map((_, c) => c).sort((a, b) => exact[b] - quota[b] - (exact[a] - quota[a]));
  while (remaining > 0) {
    for (const c of order) {
      if (remaining > 0 && quota[c] < caps[c]) {
        quota[c]++;
        remaining--;
      }
    }
  }
  return quota;
}

/**
 * The seed to hand `tf.randomNormal`. Its generator seeds with the seed's text, except that it
 * treats 0 as no seed at all (a fresh `Math.random()` on every call), so seed 0 is passed as the
 * text "0", what 0 means to `tf.randomUniform`. Every other seed passes unchanged; `undefined`
 * stays unseeded.
 * @example
 * ```ts
 * tf.randomNormal([2, 3], 0, 1, "float32", normalSeed(0)); // the same draws on every call
 * ```
 */
export function normalSeed(seed: number | undefined): number | undefined {
  return seed === 0 ? "0" as unknown as number : seed;
}
