/**
 * Small statistics in float64, shared by the measures and the studies.
 * @module
 */

/**
 * The mean of an array (NaN for none).
 * @param values numbers
 * @example
 * ```ts
 * mean([1, 2, 3]); // 2
 * ```
 */
export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/** A mean and its standard error. */
export interface MeanWithError {
  mean: number;
  /** sd / sqrt(n), with the n - 1 variance; NaN for fewer than two values. */
  stdError: number;
}

/**
 * The sample mean and its standard error sd / sqrt(n).
 * @example
 * ```ts
 * meanWithError([1, 2, 3]); // { mean: 2, stdError: 0.577... }
 * ```
 */
export function meanWithError(values: ArrayLike<number>): MeanWithError {
  const n = values.length;
  const m = mean(values);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - m) ** 2;
  return { mean: m, stdError: n > 1 ? Math.sqrt(ss / (n - 1) / n) : NaN };
}

/** log((1/n) sum_i exp(v_i)), shifted by the maximum so that nothing overflows. */
export function logMeanExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i]);
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i] - max);
  return max + Math.log(sum / values.length);
}
