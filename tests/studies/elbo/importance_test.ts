import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  boundsFigure,
  importanceClaims,
  importanceCurve,
  importanceFigure,
  importanceTable,
  klGrid,
  klGridClaims,
  klGridFigure,
  perImageFigure,
  verify,
} from "../../../lib/mod.ts";
import {
  buildModel,
  disposeModel,
  initBackend,
  iwaeEstimate,
  VAE_DEFAULTS,
} from "../../../lib/mod.ts";
import { syntheticDigits } from "../../synthetic.ts";

await initBackend({ backend: "cpu", quiet: true });

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
  verify({ kl: klGridClaims(grid) });
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
  // Increments: by default no fall below -3 SE; with `rise`, a rise of that many SE is claimed.
  assertEquals(claims.slice(0, 3).map((c) => c.needs), ["> -3", "> -3", "> -3"]);
  const rising = importanceClaims(curve, { rise: 1e6 }).slice(0, 3);
  assert(rising.every((c) => c.needs === "> 1000000" && !c.holds));
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
