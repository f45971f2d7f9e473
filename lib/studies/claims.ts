/**
 * Claims a notebook makes about its numbers, checked where they are computed: {@linkcode verify}
 * shows them as a table, or throws naming every claim that fails, so that running the notebook
 * fails loudly when the mathematics (or the code) breaks.
 * @module
 */
import { type Table, table } from "../viz/mod.ts";

/** A statement checked against a measured number. */
export interface Claim {
  claim: string;
  measured: number;
  /** What the measured number must satisfy, e.g. "< 0.001". */
  needs: string;
  holds: boolean;
}

/** A claim that `measured < limit` (NaN fails). */
export function claimBelow(claim: string, measured: number, limit: number): Claim {
  return { claim, measured, needs: `< ${limit}`, holds: measured < limit };
}

/** A claim that `measured > limit` (NaN fails). */
export function claimAbove(claim: string, measured: number, limit: number): Claim {
  return { claim, measured, needs: `> ${limit}`, holds: measured > limit };
}

/**
 * The claims as a table; throws an Error listing every claim that fails.
 * @param claims the claims, each with its measured value
 * @param title the table's title
 * @example
 * ```ts
 * verify([claimBelow("identity error (nats)", error, 1e-3)], "The identity");
 * ```
 */
export function verify(claims: readonly Claim[], title = "Claims"): Table {
  const failed = claims.filter((c) => !c.holds);
  if (failed.length) {
    const list = failed.map((c) => `${c.claim}: measured ${c.measured}, needs ${c.needs}`);
    throw new Error(`${failed.length} claim(s) failed: ${list.join("; ")}`);
  }
  return table(claims.map((c) => ({ claim: c.claim, measured: c.measured, needs: c.needs })), {
    title: `${title}: all ${claims.length} hold`,
    digits: 4,
  });
}
