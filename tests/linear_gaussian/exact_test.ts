import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  bestDiagonalQ,
  type DiagonalGaussian,
  exactElbo,
  exactPosterior,
  fitDiagonalQ,
  iwaeBound,
  klToPosterior,
  logMarginal,
  monteCarloElbo,
  randomLinearGaussian,
  sampleLinearGaussian,
} from "../../lib/linear_gaussian/mod.ts";
import { draw, eliminate, marginalCov, nearbyQ } from "./_problems.ts";

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
