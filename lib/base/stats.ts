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

/**
 * One measure over several training seeds: the values, seed by seed, and their mean, standard
 * error (the n - 1 variance; 0 for one value) and range. Tables show it as `mean ± s.e.`.
 */
export interface Spread {
  readonly values: readonly number[];
  readonly mean: number;
  readonly stdError: number;
  readonly min: number;
  readonly max: number;
}

/**
 * The {@linkcode Spread} of values measured once per seed.
 * @example
 * ```ts
 * spread([71.8, 72.1, 71.9]); // { mean: 71.93, stdError: 0.088, min: 71.8, max: 72.1, ... }
 * ```
 */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError("a spread needs at least one value; got none");
  const { mean: m, stdError } = meanWithError(values);
  return {
    values: [...values],
    mean: m,
    stdError: values.length > 1 ? stdError : 0,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/** Whether a value is a {@linkcode Spread} (a table cell may be one). */
export function isSpread(value: unknown): value is Spread {
  return typeof value === "object" && value !== null && Array.isArray((value as Spread).values) &&
    typeof (value as Spread).mean === "number";
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

/**
 * The standard normal's quantile, Phi^-1(p) for p in (0, 1) (Acklam's rational approximation,
 * relative error below 1.2e-9).
 * @example
 * ```ts
 * normalQuantile(0.975); // 1.95996...
 * ```
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1); got ${p}`);
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.357751867269,
    -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406,
    161.5858368580409,
    -155.6989798598866,
    66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
