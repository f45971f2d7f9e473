import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  bestDiagonalQ,
  type DiagonalGaussian,
  exactElbo,
  exactPosterior,
  fitDiagonalQ,
  iwaeBound,
  klToPosterior,
  type LinearGaussian,
  logMarginal,
  monteCarloElbo,
  randomLinearGaussian,
  sampleLinearGaussian,
} from "../lib/linear_gaussian/mod.ts";

/** Dense Gaussian elimination with partial pivoting, independent of the library's Cholesky. */
function eliminate(a: Float64Array, n: number, rhs: Float64Array, m: number) {
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
function marginalCov(model: LinearGaussian): Float64Array {
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

function draw(d: number, D: number, seed: number, sigma = 0.5, orthogonal = false) {
  const model = randomLinearGaussian({ latentSize: d, dataSize: D, seed, sigma, orthogonal });
  return { model, x: sampleLinearGaussian(model, { count: 1, seed: seed + 1 }).x };
}

/** A diagonal q near the posterior: mean and logVar of bestDiagonalQ plus uniform(-spread, spread). */
function nearbyQ(model: LinearGaussian, x: Float64Array, seed: number, spread = 0.5) {
  const best = bestDiagonalQ(model, x);
  let state = seed + 1;
  const noise = () => ((state = (state * 16807) % 2147483647) / 2147483647 - 0.5) * 2 * spread;
  return { mean: best.mean.map((v) => v + noise()), logVar: best.logVar.map((v) => v + noise()) };
}

Deno.test("logMarginal() equals the dense D x D Gaussian density of x ~ N(b, W W^T + s^2 I)", () => {
  for (const [d, D, sigma] of [[1, 1, 0.3], [3, 8, 0.5], [10, 10, 1], [20, 40, 0.2]]) {
    const { model, x } = draw(d, D, d * 100 + D, sigma);
    const residual = x.map((v, i) => v - model.b[i]);
    const { logDet, solution } = eliminate(marginalCov(model), D, residual, 1);
    const quad = residual.reduce((sum, v, i) => sum + v * solution[i], 0);
    const expected = -0.5 * (D * Math.log(2 * Math.PI) + logDet + quad);
    assertAlmostEquals(logMarginal(model, x), expected, 1e-9);
  }
});

Deno.test("logMarginal() equals log of the integral of p(x|z) p(z) by quadrature for d = 1", () => {
  const { model, x } = draw(1, 6, 7, 0.4);
  const [lo, hi, n] = [-12, 12, 24001];
  const h = (hi - lo) / (n - 1);
  let integral = 0;
  for (let t = 0; t < n; t++) {
    const z = lo + t * h;
    let logJoint = -0.5 * (Math.log(2 * Math.PI) + z * z);
    for (let i = 0; i < 6; i++) {
      const r = x[i] - model.W[i] * z - model.b[i];
      logJoint -= 0.5 * (Math.log(2 * Math.PI * model.sigma ** 2) + r * r / model.sigma ** 2);
    }
    integral += (t === 0 || t === n - 1 ? 0.5 : 1) * h * Math.exp(logJoint);
  }
  assertAlmostEquals(logMarginal(model, x), Math.log(integral), 1e-8);
});

Deno.test("exactPosterior() equals conditioning the joint Gaussian of (z, x) on x", () => {
  for (const [d, D] of [[1, 3], [4, 9], [12, 30]]) {
    const { model, x } = draw(d, D, 3 * d + D);
    // z | x ~ N(W^T C^-1 (x - b), I - W^T C^-1 W) with the full D x D C.
    const rhs = new Float64Array(D * (d + 1));
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < d; j++) rhs[i * (d + 1) + j] = model.W[i * d + j];
      rhs[i * (d + 1) + d] = x[i] - model.b[i];
    }
    const { solution } = eliminate(marginalCov(model), D, rhs, d + 1); // C^-1 [W, x - b]
    const posterior = exactPosterior(model, x);
    for (let j = 0; j < d; j++) {
      let mean = 0;
      for (let i = 0; i < D; i++) mean += model.W[i * d + j] * solution[i * (d + 1) + d];
      assertAlmostEquals(posterior.mean[j], mean, 1e-9);
      for (let k = 0; k < d; k++) {
        let wcw = 0;
        for (let i = 0; i < D; i++) wcw += model.W[i * d + j] * solution[i * (d + 1) + k];
        assertAlmostEquals(posterior.cov[j * d + k], (j === k ? 1 : 0) - wcw, 1e-9);
      }
    }
  }
});

Deno.test("log p(x) = ELBO + KL(q || p(z|x)) within 1e-3 nats in float32 for d, D up to 50", () => {
  // float32 rounds each term to ~1e-7 of its size, so the check is absolute for a q within a few
  // posterior widths (ELBO and KL up to a few hundred nats) and relative for a q far away.
  let worst32 = 0;
  let worstRelative32 = 0;
  let worst64 = 0;
  for (let seed = 0; seed < 24; seed++) {
    const d = 1 + (seed * 17) % 50;
    const D = Math.max(d, 1 + (seed * 29) % 50);
    const { model, x } = draw(d, D, seed, [0.1, 0.3, 1, 2][seed % 4]);
    const logPx = logMarginal(model, x); // float64, by its own formula
    const prior = { mean: new Float64Array(d), logVar: new Float64Array(d) };
    const qs = [nearbyQ(model, x, seed), nearbyQ(model, x, seed + 50, 2), prior];
    for (const [i, q] of qs.entries()) {
      const elbo32 = exactElbo(model, x, q, { precision: "float32" }).elbo;
      const kl32 = klToPosterior(model, x, q, { precision: "float32" });
      const error32 = Math.abs(logPx - (elbo32 + kl32));
      if (i === 0) worst32 = Math.max(worst32, error32);
      worstRelative32 = Math.max(worstRelative32, error32 / (Math.abs(elbo32) + kl32));
      const identity64 = logPx - (exactElbo(model, x, q).elbo + klToPosterior(model, x, q));
      worst64 = Math.max(worst64, Math.abs(identity64));
    }
  }
  assert(worst32 < 1e-3, `float32 identity error ${worst32}`);
  assert(worstRelative32 < 1e-6, `float32 identity relative error ${worstRelative32}`);
  assert(worst64 < 1e-9, `float64 identity error ${worst64}`);
});

Deno.test("float32 closed forms return float32 values that differ from float64 only by rounding", () => {
  const { model, x } = draw(30, 50, 11, 0.3);
  const q = nearbyQ(model, x, 3);
  const values64 = [logMarginal(model, x), exactElbo(model, x, q).elbo, klToPosterior(model, x, q)];
  const options = { precision: "float32" } as const;
  const values32 = [
    logMarginal(model, x, options),
    exactElbo(model, x, q, options).elbo,
    klToPosterior(model, x, q, options),
  ];
  values32.forEach((v, i) => {
    assertEquals(Math.fround(v), v);
    assert(v !== values64[i] && Math.abs(v - values64[i]) < 1e-3 * (1 + Math.abs(v)));
  });
});

Deno.test("float32 logMarginal() keeps 1e-4 nats at small sigma, where x - b is nearly W z", () => {
  // (x - b)^T C^-1 (x - b) as ||x - b||^2 / s^2 minus a near-equal term lost ~1e-3 nats here.
  for (let seed = 0; seed < 12; seed++) {
    const { model, x } = draw(1 + seed % 10, 30 + seed, seed, 0.1, seed % 2 === 0);
    const error = Math.abs(logMarginal(model, x, { precision: "float32" }) - logMarginal(model, x));
    assert(error < 1e-4, `seed ${seed}: float32 log p(x) off by ${error}`);
  }
});

Deno.test("ELBO < log p(x) unless q is the posterior, where they are equal (orthogonal columns)", () => {
  const { model, x } = draw(6, 15, 5);
  const logPx = logMarginal(model, x);
  for (const q of [bestDiagonalQ(model, x), nearbyQ(model, x, 1), nearbyQ(model, x, 2, 0.05)]) {
    assert(exactElbo(model, x, q).elbo < logPx - 1e-4);
  }
  const orthogonal = draw(6, 15, 5, 0.5, true);
  const posterior = exactPosterior(orthogonal.model, orthogonal.x);
  const q = bestDiagonalQ(orthogonal.model, orthogonal.x);
  for (let j = 0; j < 6; j++) {
    for (let k = 0; k < 6; k++) {
      const expected = j === k ? Math.exp(q.logVar[j]) : 0;
      assertAlmostEquals(posterior.cov[j * 6 + k], expected, 1e-12);
    }
  }
  const gap = logMarginal(orthogonal.model, orthogonal.x) -
    exactElbo(orthogonal.model, orthogonal.x, q).elbo;
  assertAlmostEquals(gap, 0, 1e-10);
  assert(
    exactElbo(orthogonal.model, orthogonal.x, nearbyQ(orthogonal.model, orthogonal.x, 4)).elbo <
      logMarginal(orthogonal.model, orthogonal.x) - 1e-4,
  );
});

Deno.test("bestDiagonalQ() maximises the ELBO and its KL is (sum log diag(P) - log det P) / 2", () => {
  const { model, x } = draw(5, 12, 21);
  const best = bestDiagonalQ(model, x);
  const elbo = (q: DiagonalGaussian) => exactElbo(model, x, q).elbo;
  for (const field of ["mean", "logVar"] as const) {
    for (let j = 0; j < 5; j++) {
      for (const step of [-1e-3, 1e-3]) {
        const moved = { ...best, [field]: best[field].map((v, k) => k === j ? v + step : v) };
        assert(elbo(moved) < elbo(best));
      }
    }
  }
  const { precision } = exactPosterior(model, x);
  const { logDet } = eliminate(precision, 5, new Float64Array(5), 1);
  const sumLogDiag = [0, 1, 2, 3, 4].reduce((sum, j) => sum + Math.log(precision[j * 6]), 0);
  assertAlmostEquals(klToPosterior(model, x, best), (sumLogDiag - logDet) / 2, 1e-10);
});

Deno.test("monteCarloElbo() is within 4 standard errors of exactElbo() and repeats with its seed", () => {
  const { model, x } = draw(8, 20, 9);
  for (const [i, q] of [bestDiagonalQ(model, x), nearbyQ(model, x, 8, 1)].entries()) {
    const exact = exactElbo(model, x, q).elbo;
    for (const analyticKl of [true, false]) {
      const estimate = monteCarloElbo(model, x, q, { samples: 2000, seed: i, analyticKl });
      assert(
        Math.abs(estimate.mean - exact) < 4 * estimate.stdError,
        `${estimate.mean} vs ${exact}`,
      );
      assertEquals(monteCarloElbo(model, x, q, { samples: 2000, seed: i, analyticKl }), estimate);
    }
  }
});

Deno.test("iwaeBound() climbs towards log p(x): L_1 < L_10 < L_1000, L_5000 within 0.05 nats", () => {
  const { model, x } = draw(5, 20, 1);
  // A diagonal q narrower than a correlated posterior gives heavy-tailed weights p/q; this modest
  // model's posterior is correlated little enough that one L_5000 varies by ~0.05 nats.
  const q = bestDiagonalQ(model, x);
  const logPx = logMarginal(model, x);
  const bound = (samples: number, repeats: number) =>
    iwaeBound(model, x, q, { samples, repeats, seed: samples });
  const [l1, l10, l1000, l5000] = [bound(1, 2000), bound(10, 400), bound(1000, 8), bound(5000, 8)];
  assert(l1.mean + 2 * l1.stdError < l10.mean, `L_1 ${l1.mean} vs L_10 ${l10.mean}`);
  assert(l10.mean + 2 * l10.stdError < l1000.mean, `L_10 ${l10.mean} vs L_1000 ${l1000.mean}`);
  assert(Math.abs(l1.mean - exactElbo(model, x, q).elbo) < 4 * l1.stdError); // L_1 is the ELBO
  assert(Math.abs(l5000.mean - logPx) < 0.05, `L_5000 ${l5000.mean} vs log p(x) ${logPx}`);
  assertEquals(l5000.values.length, 8);
});

Deno.test("fitDiagonalQ() closes the gap to the best diagonal KL, and to 0 for orthogonal columns", () => {
  for (const orthogonal of [false, true]) {
    const { model, x } = draw(10, 30, 2, 0.5, orthogonal);
    const floor = klToPosterior(model, x, bestDiagonalQ(model, x));
    const { gap, q } = fitDiagonalQ(model, x, { steps: 400 });
    assertEquals(gap.length, 401);
    assert(gap.every((g) => g >= floor - 1e-9), "no diagonal q beats bestDiagonalQ");
    assert(gap[400] - floor < 1e-4, `gap ${gap[400]} vs floor ${floor}`);
    assertAlmostEquals(gap[400], klToPosterior(model, x, q), 1e-9);
    if (orthogonal) assert(floor < 1e-12 && gap[400] < 1e-4);
    else assert(floor > 0.1, `a correlated posterior keeps a gap: ${floor}`);
  }
});

Deno.test("sampleLinearGaussian() draws x with mean b, and the same seed gives the same draws", () => {
  const model = randomLinearGaussian({ latentSize: 3, dataSize: 4, seed: 4 });
  const { x, z } = sampleLinearGaussian(model, { count: 4000, seed: 1 });
  assertEquals([x.length, z.length], [16000, 12000]);
  const C = marginalCov(model);
  for (let i = 0; i < 4; i++) {
    let mean = 0;
    for (let n = 0; n < 4000; n++) mean += x[n * 4 + i] / 4000;
    assert(Math.abs(mean - model.b[i]) < 4 * Math.sqrt(C[i * 5] / 4000));
  }
  assertEquals(sampleLinearGaussian(model, { count: 4000, seed: 1 }), { x, z });
  assertEquals(randomLinearGaussian({ latentSize: 3, dataSize: 4, seed: 4 }), model);
});

Deno.test("bad inputs throw a RangeError naming the field and the value", () => {
  const { model, x } = draw(2, 3, 0);
  const q = bestDiagonalQ(model, x);
  const cases: [() => unknown, string][] = [
    [() => randomLinearGaussian({ latentSize: 2, dataSize: 3, sigma: 0 }), "sigma"],
    [() => randomLinearGaussian({ latentSize: 0, dataSize: 3 }), "latentSize"],
    [() => randomLinearGaussian({ latentSize: 4, dataSize: 3, orthogonal: true }), "orthogonal"],
    [() => logMarginal({ ...model, sigma: -1 }, x), "sigma must be positive and finite; got -1"],
    [() => logMarginal({ ...model, W: new Float64Array(5) }, x), "W must have"],
    [() => logMarginal(model, [1, 2]), "x must have dataSize = 3 entries; got 2"],
    [() => exactElbo(model, x, { ...q, mean: [0] }), "q.mean"],
    [() => klToPosterior(model, x, { ...q, logVar: [0, 0, 0] }), "q.logVar"],
    // @ts-expect-error: an unknown precision, as from untyped JavaScript
    [() => exactElbo(model, x, q, { precision: "float16" }), "float16"],
    [() => monteCarloElbo(model, x, q, { samples: 0 }), "samples must be a positive integer"],
    [() => iwaeBound(model, x, q, { samples: 5, repeats: 1.5 }), "repeats"],
    [() => fitDiagonalQ(model, x, { learningRate: -1 }), "learningRate"],
  ];
  for (const [call, message] of cases) assertThrows(call, RangeError, message);
});
