/**
 * Claims a notebook makes about its numbers, checked where they are computed: {@linkcode verify}
 * shows them as a table, or throws naming every claim that fails, so that running the notebook
 * fails loudly when the mathematics (or the code) breaks.
 *
 * Each claim has an id, the key it is given to `verify` (`verify({ "rate-falls": [...] })`): the
 * notebook's prose cites it as (claim `rate-falls`), and `tests/notebooks/claims_test.ts` checks
 * that every citation names a claim of its section and that every claim is cited.
 *
 * A measure over several training seeds is claimed either in every seed
 * ({@linkcode claimBelowEverySeed}: the worst seed is what must hold) or on the mean with a margin
 * of two standard errors ({@linkcode claimMeanBelow}); each says which in its text.
 * @module
 */
import { meanWithError } from "../base/mod.ts";
import { type Table, table } from "../viz/mod.ts";
import { profile } from "./profile.ts";

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

function seedsNote(n: number, how: string): string {
  return n === 1 ? "one seed" : `${how} of ${n} seeds`;
}

function checkValues(claim: string, values: readonly number[]): void {
  if (values.length === 0) throw new RangeError(`claim "${claim}" has no seed's value`);
}

/** A claim that the measure is below `limit` in every seed: the largest value is measured. */
export function claimBelowEverySeed(
  claim: string,
  values: readonly number[],
  limit: number,
): Claim {
  checkValues(claim, values);
  return claimBelow(`${claim} (${seedsNote(values.length, "worst")})`, Math.max(...values), limit);
}

/** A claim that the measure is above `limit` in every seed: the smallest value is measured. */
export function claimAboveEverySeed(
  claim: string,
  values: readonly number[],
  limit: number,
): Claim {
  checkValues(claim, values);
  return claimAbove(`${claim} (${seedsNote(values.length, "worst")})`, Math.min(...values), limit);
}

/**
 * A claim that the seeds' mean is below `limit` by at least two standard errors: mean + 2 s.e. is
 * measured. With one seed, its value.
 */
export function claimMeanBelow(claim: string, values: readonly number[], limit: number): Claim {
  checkValues(claim, values);
  const { mean, stdError } = meanWithError(values);
  const margin = values.length > 1 ? 2 * stdError : 0;
  const how = values.length > 1 ? `mean + 2 s.e. over ${values.length} seeds` : "one seed";
  return claimBelow(`${claim} (${how})`, mean + margin, limit);
}

/** A claim that the seeds' mean is above `limit` by at least two standard errors. */
export function claimMeanAbove(claim: string, values: readonly number[], limit: number): Claim {
  checkValues(claim, values);
  const { mean, stdError } = meanWithError(values);
  const margin = values.length > 1 ? 2 * stdError : 0;
  const how = values.length > 1 ? `mean - 2 s.e. over ${values.length} seeds` : "one seed";
  return claimAbove(`${claim} (${how})`, mean - margin, limit);
}

/**
 * A claim about the full profile's runs (full MNIST, three seeds) that the quick profile's small
 * runs are not expected to show: checked in the full profile; in the quick one shown with its
 * measured value and marked "full profile only", and not failed.
 */
export function fullProfileOnly(claim: Claim): Claim {
  if (profile() === "full") return claim;
  return { ...claim, needs: `${claim.needs} (full profile only)`, holds: true };
}

/** A claim id: lower-case words joined by hyphens, e.g. `rate-falls`. */
export const CLAIM_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * The claims as a table, each under the id its prose cites; throws an Error listing every claim
 * that fails.
 * @param claims id -> one claim or several (a family measured the same way)
 * @param title the table's title
 * @example
 * ```ts
 * verify({ "identity": claimBelow("identity error (nats)", error, 1e-3) }, "The identity");
 * ```
 */
export function verify(
  claims: Readonly<Record<string, Claim | readonly Claim[]>>,
  title = "Claims",
): Table {
  const rows = Object.entries(claims).flatMap(([id, c]) => {
    if (!CLAIM_ID.test(id)) {
      throw new RangeError(`a claim id is lower-case words joined by hyphens; got "${id}"`);
    }
    const list = Array.isArray(c) ? c : [c as Claim];
    if (list.length === 0) throw new RangeError(`claim "${id}" is empty`);
    return list.map((claim) => ({ id, ...claim }));
  });
  if (rows.length === 0) throw new RangeError("verify needs at least one claim");
  const failed = rows.filter((c) => !c.holds);
  if (failed.length) {
    const list = failed.map((c) => `${c.id}: ${c.claim}: measured ${c.measured}, needs ${c.needs}`);
    throw new Error(`${failed.length} claim(s) failed: ${list.join("; ")}`);
  }
  return table(
    rows.map((c) => ({ id: c.id, claim: c.claim, measured: c.measured, needs: c.needs })),
    { title: `${title}: all ${rows.length} hold`, digits: 4 },
  );
}
