import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  IDENTITY_DEFAULTS,
  identityCheck,
  identityClaims,
  identityFigure,
  identityTable,
  Q_KINDS,
  verify,
} from "../../../lib/mod.ts";
import { initBackend } from "../../../lib/mod.ts";

await initBackend({ backend: "cpu", quiet: true });

Deno.test("identityCheck() cycles through the kinds of q and the identity holds in both precisions", () => {
  const draws = identityCheck({ ...IDENTITY_DEFAULTS, draws: 40, maxData: 20 });
  assertEquals(draws.map((r) => r.kind).slice(0, 5), [...Q_KINDS]);
  for (const r of draws) {
    assert(r.latentSize >= 2 && r.latentSize <= 10 && r.dataSize >= r.latentSize);
    assert(r.sigma >= 0.1 && r.sigma <= 2);
    assertAlmostEquals(r.logPx - r.elbo, r.kl, 1e-9);
    assert(Math.abs(r.error32) <= 1e-5 * r.scale, `${r.kind}: ${r.error32} vs ${r.scale}`);
  }
  assert(verify({ identity: identityClaims(draws) }).rows.length === 5);
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
