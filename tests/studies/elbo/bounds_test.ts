import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  linearBoundsClaims,
  linearBoundsFigure,
  linearBoundsTable,
  linearGaussianBounds,
  linearGaussianProblem,
  verify,
} from "../../../lib/mod.ts";
import { initBackend, linearGaussian as lg } from "../../../lib/mod.ts";

await initBackend({ backend: "cpu", quiet: true });
const PROBLEM = { latentSize: 4, dataSize: 10, sigma: 0.5, seed: 3 };

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
  verify({ bounds: linearBoundsClaims(bounds, 0.05) });
  assertEquals(linearBoundsFigure(bounds).data.length, 3);
  assertEquals(linearBoundsTable(bounds).rows.length, 3);
  assertThrows(
    () => linearGaussianBounds({ ...PROBLEM, ks: [1], budget: 0, minRepeats: 1 }),
    RangeError,
    "budget",
  );
});
