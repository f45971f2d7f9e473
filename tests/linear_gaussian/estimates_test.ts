import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import {
  bestDiagonalQ,
  exactElbo,
  fitDiagonalQ,
  iwaeBound,
  klToPosterior,
  logMarginal,
  monteCarloElbo,
} from "../../lib/linear_gaussian/mod.ts";
import { draw, nearbyQ } from "./_problems.ts";

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
