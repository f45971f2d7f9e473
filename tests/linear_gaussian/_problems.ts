/** What the tests of `lib/linear_gaussian/` share: models, nearby q's, a dense solver. */
import {
  bestDiagonalQ,
  type LinearGaussian,
  randomLinearGaussian,
  sampleLinearGaussian,
} from "../../lib/linear_gaussian/mod.ts";

/** Dense Gaussian elimination with partial pivoting, independent of the library's Cholesky. */
export function eliminate(a: Float64Array, n: number, rhs: Float64Array, m: number) {
  const A = Float64Array.from(a);
  const B = Float64Array.from(rhs); // [n, m]
  let logDet = 0;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(A[i * n + c]) > Math.abs(A[p * n + c])) p = i;
    for (let k = 0; k < n; k++) [A[c * n + k], A[p * n + k]] = [A[p * n + k], A[c * n + k]];
    for (let k = 0; k < m; k++) [B[c * m + k], B[p * m + k]] = [B[p * m + k], B[c * m + k]];
    logDet += Math.log(Math.abs(A[c * n + c]));
    for (let i = 0; i < n; i++) {
      if (i === c) continue;
      const f = A[i * n + c] / A[c * n + c];
      for (let k = 0; k < n; k++) A[i * n + k] -= f * A[c * n + k];
      for (let k = 0; k < m; k++) B[i * m + k] -= f * B[c * m + k];
    }
  }
  for (let i = 0; i < n; i++) for (let k = 0; k < m; k++) B[i * m + k] /= A[i * n + i];
  return { logDet, solution: B };
}

/** C = W W^T + s^2 I: [D, D]. */
export function marginalCov(model: LinearGaussian): Float64Array {
  const { W, latentSize: d, dataSize: D, sigma } = model;
  const C = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let k = 0; k < D; k++) {
      for (let j = 0; j < d; j++) C[i * D + k] += W[i * d + j] * W[k * d + j];
    }
    C[i * D + i] += sigma * sigma;
  }
  return C;
}

/** A random linear-Gaussian model and one x drawn from it. */
export function draw(d: number, D: number, seed: number, sigma = 0.5, orthogonal = false) {
  const model = randomLinearGaussian({ latentSize: d, dataSize: D, seed, sigma, orthogonal });
  return { model, x: sampleLinearGaussian(model, { count: 1, seed: seed + 1 }).x };
}

/** A diagonal q near the posterior: mean and logVar of bestDiagonalQ plus uniform(-spread, spread). */
export function nearbyQ(model: LinearGaussian, x: Float64Array, seed: number, spread = 0.5) {
  const best = bestDiagonalQ(model, x);
  let state = seed + 1;
  const noise = () => ((state = (state * 16807) % 2147483647) / 2147483647 - 0.5) * 2 * spread;
  return { mean: best.mean.map((v) => v + noise()), logVar: best.logVar.map((v) => v + noise()) };
}
