/**
 * Small dense linear algebra behind the linear-Gaussian model (`estimates.ts`, `exact.ts`).
 *
 * Plain JS on row-major `Float64Array`s (tfjs has no Cholesky), exact enough for sizes up to ~100.
 * Every function takes a rounding function: {@linkcode exact} computes in float64, `Math.fround`
 * rounds the result of every operation to float32, which for + - * / and sqrt is exactly IEEE
 * single precision (double rounding is harmless there), so one code path serves both precisions.
 * @module
 */

/** Rounds one arithmetic result: `Math.fround` for float32, {@linkcode exact} for float64. */
export type Round = (v: number) => number;

/** The identity rounding: float64 arithmetic. */
export function exact(v: number): number {
  return v;
}

/** A copy of `a` with every entry rounded: [n]. */
export function cast(a: ArrayLike<number>, round: Round): Float64Array {
  return Float64Array.from(a, (v) => round(v));
}

/** Inner product sum_i a_i b_i over the first `n` entries (default all of `a`). */
export function dot(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  round: Round,
  n = a.length,
): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum = round(sum + round(a[i] * b[i]));
  return sum;
}

/** Gram matrix W^T W: [d, d] from W: [D, d]. */
export function gram(w: Float64Array, rows: number, cols: number, round: Round): Float64Array {
  const g = new Float64Array(cols * cols);
  for (let j = 0; j < cols; j++) {
    for (let k = 0; k <= j; k++) {
      let sum = 0;
      for (let i = 0; i < rows; i++) sum = round(sum + round(w[i * cols + j] * w[i * cols + k]));
      g[j * cols + k] = sum;
      g[k * cols + j] = sum;
    }
  }
  return g;
}

/** W z: [D] from W: [D, d] and z: [d]. */
export function matVec(w: Float64Array, z: ArrayLike<number>, round: Round): Float64Array {
  const cols = z.length;
  const rows = w.length / cols;
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let j = 0; j < cols; j++) sum = round(sum + round(w[i * cols + j] * z[j]));
    out[i] = sum;
  }
  return out;
}

/** W^T v: [d] from W: [D, d] and v: [D]. */
export function matTVec(w: Float64Array, v: ArrayLike<number>, round: Round): Float64Array {
  const rows = v.length;
  const cols = w.length / rows;
  const out = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[j] = round(out[j] + round(w[i * cols + j] * v[i]));
  }
  return out;
}

/** Lower Cholesky factor L of a symmetric positive definite A = L L^T: [n, n]. */
export function cholesky(a: Float64Array, n: number, round: Round): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let diag = a[j * n + j];
    for (let k = 0; k < j; k++) diag = round(diag - round(l[j * n + k] * l[j * n + k]));
    if (!(diag > 0)) throw new RangeError(`matrix is not positive definite at pivot ${j}: ${diag}`);
    const ljj = round(Math.sqrt(diag));
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let sum = a[i * n + j];
      for (let k = 0; k < j; k++) sum = round(sum - round(l[i * n + k] * l[j * n + k]));
      l[i * n + j] = round(sum / ljj);
    }
  }
  return l;
}

/** The solution y of L L^T y = v: [n], from the Cholesky factor L: [n, n]. */
export function cholSolve(l: Float64Array, v: ArrayLike<number>, round: Round): Float64Array {
  const n = v.length;
  const y = Float64Array.from(v);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) y[i] = round(y[i] - round(l[i * n + k] * y[k]));
    y[i] = round(y[i] / l[i * n + i]);
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) y[i] = round(y[i] - round(l[k * n + i] * y[k]));
    y[i] = round(y[i] / l[i * n + i]);
  }
  return y;
}

/** log det A = 2 sum_i log L_ii, from the Cholesky factor L: [n, n] of A. */
export function cholLogDet(l: Float64Array, n: number, round: Round): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum = round(sum + round(Math.log(l[i * n + i])));
  return round(2 * sum);
}

/** A^-1: [n, n], from the Cholesky factor L: [n, n] of A, one column at a time. */
export function cholInverse(l: Float64Array, n: number, round: Round): Float64Array {
  const inv = new Float64Array(n * n);
  const unit = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    unit.fill(0);
    unit[j] = 1;
    const col = cholSolve(l, unit, round);
    for (let i = 0; i < n; i++) inv[i * n + j] = col[i];
  }
  return inv;
}
