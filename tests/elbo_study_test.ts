import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  boundsFigure,
  claimAbove,
  claimBelow,
  derivationClaims,
  derivationLines,
  derivationTable,
  gapClosing,
  gapClosingClaims,
  gapClosingFigure,
  IDENTITY_DEFAULTS,
  identityCheck,
  identityClaims,
  identityFigure,
  identityTable,
  importanceClaims,
  importanceCurve,
  importanceFigure,
  importanceTable,
  klGrid,
  klGridClaims,
  klGridFigure,
  linearBoundsClaims,
  linearBoundsFigure,
  linearBoundsTable,
  linearGaussianBounds,
  linearGaussianProblem,
  momentMatchedQ,
  perImageFigure,
  Q_KINDS,
  verify,
} from "../lib/mod.ts";
import {
  buildModel,
  disposeModel,
  initBackend,
  iwaeEstimate,
  linearGaussian as lg,
  VAE_DEFAULTS,
} from "../lib/mod.ts";
import { syntheticDigits } from "./synthetic.ts";

await initBackend({ backend: "cpu", quiet: true });

const PROBLEM = { latentSize: 4, dataSize: 10, sigma: 0.5, seed: 3 };

Deno.test("verify() shows holding claims as a table and throws naming every failing one", () => {
  const good = [claimBelow("a", 1, 2), claimAbove("b", 3, 2)];
  assertEquals(verify(good, "fine").rows.length, 2);
  const bad = [claimBelow("small", 5, 2), claimAbove("large", 1, 2), claimBelow("nan", NaN, 1)];
  const error = assertThrows(() => verify([...good, ...bad]), Error);
  for (const name of ["3 claim(s) failed", "small: measured 5, needs < 2", "large", "nan"]) {
    assert(error.message.includes(name), `${name} missing from: ${error.message}`);
  }
});

Deno.test("identityCheck() cycles through the kinds of q and the identity holds in both precisions", () => {
  const draws = identityCheck({ ...IDENTITY_DEFAULTS, draws: 40, maxData: 20 });
  assertEquals(draws.map((r) => r.kind).slice(0, 5), [...Q_KINDS]);
  for (const r of draws) {
    assert(r.latentSize >= 2 && r.latentSize <= 10 && r.dataSize >= r.latentSize);
    assert(r.sigma >= 0.1 && r.sigma <= 2);
    assertAlmostEquals(r.logPx - r.elbo, r.kl, 1e-9);
    assert(Math.abs(r.error32) <= 1e-5 * r.scale, `${r.kind}: ${r.error32} vs ${r.scale}`);
  }
  assert(verify(identityClaims(draws)).rows.length === 5);
  assertEquals(identityTable(draws).rows.length, Q_KINDS.length);
  assertEquals(identityFigure(draws).data.length, 3 + 4 + 5); // three guides, 4 + 5 kinds
  // The same seed gives the same draws.
  assertEquals(identityCheck({ ...IDENTITY_DEFAULTS, draws: 40, maxData: 20 }), draws);
});

Deno.test("identityCheck() rejects bad configs with a RangeError naming the field", () => {
  const bad: [Partial<typeof IDENTITY_DEFAULTS>, string][] = [
    [{ draws: 0 }, "draws"],
    [{ maxLatent: 1 }, "maxLatent"],
    [{ maxData: 5 }, "maxData"],
    [{ sigmaRange: [0, 1] }, "sigmaRange[0]"],
    [{ sigmaRange: [2, 1] }, "sigmaRange"],
  ];
  for (const [change, field] of bad) {
    assertThrows(() => identityCheck({ ...IDENTITY_DEFAULTS, ...change }), RangeError, field);
  }
});

Deno.test("gapClosing() stops at the best diagonal KL, and at 0 for a diagonal posterior", () => {
  const runs = gapClosing({
    ...PROBLEM,
    latentSize: 6,
    dataSize: 15,
    steps: 300,
    learningRate: 0.05,
  });
  assertEquals(runs.length, 2);
  assert(runs[0].floor > 1e-3 && Math.abs(runs[1].floor) < 1e-9);
  assertEquals(runs[0].gap.length, 301);
  verify(gapClosingClaims(runs, 1e-4));
  assertEquals(gapClosingFigure(runs).data.length, 3); // two gaps, one non-zero floor
});

Deno.test("momentMatchedQ() has the posterior's mean and marginal variances, wider than the best q", () => {
  const { model, x } = linearGaussianProblem(PROBLEM);
  const posterior = lg.exactPosterior(model, x);
  const q = momentMatchedQ(model, x);
  const best = lg.bestDiagonalQ(model, x);
  for (let j = 0; j < 4; j++) {
    assertAlmostEquals(q.mean[j], posterior.mean[j], 1e-12);
    assertAlmostEquals(Math.exp(q.logVar[j]), posterior.cov[j * 4 + j], 1e-12);
    assert(q.logVar[j] >= best.logVar[j] - 1e-12);
  }
});

Deno.test("derivationLines() agree with their closed forms, which satisfy the identity", () => {
  const lines = derivationLines({ ...PROBLEM, samples: 20_000 });
  assertEquals(lines.length, 7);
  const [prior, importance, jensen, reconstruction, kl, split, gap] = lines;
  const { model, x } = linearGaussianProblem(PROBLEM);
  const q = momentMatchedQ(model, x);
  assertEquals(prior.checked, "no");
  assertEquals(importance.exact, lg.logMarginal(model, x));
  assertEquals(jensen.exact, lg.exactElbo(model, x, q).elbo);
  assertAlmostEquals(reconstruction.exact - kl.exact, split.exact, 1e-12);
  assertAlmostEquals(importance.exact - jensen.exact, gap.exact, 1e-9);
  assert(jensen.estimate < importance.estimate);
  verify(derivationClaims(lines, 4.5));
  // The same draws as the library's own Monte-Carlo ELBO, within their standard errors.
  const sampled = lg.monteCarloElbo(model, x, q, { samples: 20_000, seed: 9, analyticKl: false });
  assert(
    Math.abs(sampled.mean - jensen.estimate) <
      4 * Math.hypot(sampled.stdError, jensen["std. error"]),
  );
  assertEquals(derivationTable(lines).rows.length, 7);
});

Deno.test("linearGaussianBounds(): L_1 is each proposal's ELBO and L_k rises to log p(x)", () => {
  const bounds = linearGaussianBounds({
    ...PROBLEM,
    ks: [1, 10, 1000],
    budget: 20_000,
    minRepeats: 20,
  });
  const { model, x } = linearGaussianProblem(PROBLEM);
  assertEquals(bounds.logPx, lg.logMarginal(model, x));
  for (const curve of bounds.curves) {
    const first = curve.points[0];
    assert(Math.abs(first.mean - (bounds.logPx - curve.kl)) < 4 * first.stdError);
    assertEquals(curve.points.map((p) => p.k), [1, 10, 1000]);
  }
  verify(linearBoundsClaims(bounds, 0.05));
  assertEquals(linearBoundsFigure(bounds).data.length, 3);
  assertEquals(linearBoundsTable(bounds).rows.length, 3);
  assertThrows(
    () => linearGaussianBounds({ ...PROBLEM, ks: [1], budget: 0, minRepeats: 1 }),
    RangeError,
    "budget",
  );
});

Deno.test("klGrid(): gaussianKl() agrees with sampling, is 0 at N(0, 1), and leaves no tensor", () => {
  const before = tf.memory().numTensors;
  const grid = klGrid({ means: [-1, 0, 2], sigmas: [0.5, 1], samples: 5000, seed: 1 });
  assertEquals(tf.memory().numTensors, before);
  assertEquals(grid.length, 6);
  const standard = grid.find((p) => p.mean === 0 && p.sigma === 1)!;
  assertAlmostEquals(standard.closedForm, 0, 1e-7);
  assertAlmostEquals(standard.monteCarlo, 0, 1e-6);
  const far = grid.find((p) => p.mean === 2 && p.sigma === 0.5)!;
  assertAlmostEquals(far.closedForm, -0.5 * (1 + Math.log(0.25) - 4 - 0.25), 1e-5);
  verify(klGridClaims(grid));
  assertEquals(klGridFigure(grid).data.length, 4);
  assertThrows(
    () => klGrid({ means: [0], sigmas: [0], samples: 10, seed: 0 }),
    RangeError,
    "sigmas[0]",
  );
});

Deno.test("importanceCurve(): L_1 is the ELBO, L_k rises per image, matches iwaeEstimate(), no leak", () => {
  const model = buildModel({ ...VAE_DEFAULTS, latentSize: 3, hiddenSize: 16 });
  const data = syntheticDigits(24, 5);
  const before = tf.memory().numTensors;
  // chunkSize 50 < K: each image's 64 samples are decoded in two chunks.
  const curve = importanceCurve(model, data, {
    ks: [1, 4, 16, 64],
    limit: 20,
    seed: 2,
    chunkSize: 50,
  });
  assertEquals(tf.memory().numTensors, before);
  assertEquals([curve.images, curve.samples, curve.bounds.length], [20, 64, 4]);
  for (let i = 0; i < 20; i++) {
    assertAlmostEquals(curve.bounds[0][i], curve.elbo[i], 1e-9);
    // Nested groups of the same draws: L_k can only rise (Jensen on the draws themselves).
    for (let c = 1; c < 4; c++) assert(curve.bounds[c][i] >= curve.bounds[c - 1][i] - 1e-9);
  }
  const independent = iwaeEstimate(model, data, { k: 16, limit: 20, seed: 7 });
  const claims = importanceClaims(curve, { independent: { k: 16, values: independent.values } });
  const agreement = claims.at(-1)!;
  assert(agreement.holds, `${agreement.claim}: ${agreement.measured}`);
  const analytic = claims.find((c) => c.claim.startsWith("|closed-form-KL ELBO"))!;
  assert(analytic.holds, `${analytic.claim}: ${analytic.measured}`);
  assertEquals(importanceTable(curve).rows.length, 5);
  assertEquals(importanceFigure(curve).data.length, 2);
  assertEquals(perImageFigure(curve).data.length, 3);
  assertEquals(boundsFigure([], { reference: { name: "zero", value: 0 } }).data.length, 1);
  assertThrows(() => importanceCurve(model, data, { ks: [] }), RangeError, "ks");
  assertThrows(() => importanceCurve(model, data, { ks: [0, 2] }), RangeError, "ks[0]");
  assertThrows(
    () => importanceClaims(curve, { independent: { k: 8, values: independent.values } }),
    RangeError,
    "independent.k",
  );
  disposeModel(model);
});
