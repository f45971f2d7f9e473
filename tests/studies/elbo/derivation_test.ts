import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import {
  derivationClaims,
  derivationLines,
  derivationTable,
  gapClosing,
  gapClosingClaims,
  gapClosingFigure,
  linearGaussianProblem,
  momentMatchedQ,
  verify,
} from "../../../lib/mod.ts";
import { initBackend, linearGaussian as lg } from "../../../lib/mod.ts";

await initBackend({ backend: "cpu", quiet: true });
const PROBLEM = { latentSize: 4, dataSize: 10, sigma: 0.5, seed: 3 };

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
  verify({ gap: gapClosingClaims(runs, 1e-4) });
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
  verify({ lines: derivationClaims(lines, 4.5) });
  // The same draws as the library's own Monte-Carlo ELBO, within their standard errors.
  const sampled = lg.monteCarloElbo(model, x, q, { samples: 20_000, seed: 9, analyticKl: false });
  assert(
    Math.abs(sampled.mean - jensen.estimate) <
      4 * Math.hypot(sampled.stdError, jensen["std. error"]),
  );
  assertEquals(derivationTable(lines).rows.length, 7);
});
