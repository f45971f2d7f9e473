/**
 * How much work a notebook does: `quick` (CI: small subsets, few epochs) or `full` (default).
 * @module
 */
import { oneOf } from "../base/mod.ts";

/** How much work a notebook does: `quick` (CI: small subsets, few epochs) or `full` (default). */
export type Profile = "quick" | "full";

/**
 * The profile named by the environment variable `VAELAB_PROFILE`; `full` when it is unset.
 * @example
 * ```ts
 * if (profile() === "quick") console.log("small subsets, few epochs");
 * ```
 */
export function profile(): Profile {
  return oneOf("VAELAB_PROFILE", Deno.env.get("VAELAB_PROFILE") ?? "full", [
    "quick",
    "full",
  ]) as Profile;
}

/**
 * The value for the current profile.
 * @example
 * ```ts
 * const epochs = byProfile({ quick: 2, full: 30 });
 * ```
 */
export function byProfile<T>(choices: Record<Profile, T>): T {
  return choices[profile()];
}
