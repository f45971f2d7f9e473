/**
 * How much work a notebook does: `quick` (CI: small subsets, few epochs) or `full` (default).
 * @module
 */
import { oneOf, productInfo } from "../base/mod.ts";
import type { MnistData } from "../data/mod.ts";

/** The MIME type of what a notebook runs on, in its outputs: a {@linkcode RunInfo}'s fields. */
export const RUN_INFO_MIME = "application/vnd.vaelab.run+json";

/** What a notebook runs on, shown by its setup cell and kept in `out/<notebook>.tables.json`. */
export interface RunInfo {
  profile: Profile;
  /** Where the data came from (`embedded`, `full` or `idx`, or a drawn set) and its split sizes. */
  source: string;
  /** The split sizes (MNIST only: a drawn set has none). */
  trainSize?: number;
  testSize?: number;
  backend: string;
  /** Anything else worth a line: epochs, sample counts... */
  [detail: string]: string | number | undefined;
}

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

/**
 * What a notebook runs on, as a setup cell's value: one line of text, and the same as data for
 * the notebook runner's tables file.
 * @param data the splits the notebook uses, or what it draws its data from (`{ source: "..." }`)
 * @param details the backend, and what else the notebook wants on the line (epochs...)
 * @example
 * ```ts
 * runInfo(data, { backend, epochs }); // "profile full: full MNIST, 60000 train / 10000 test, ..."
 * ```
 */
export function runInfo(
  data: MnistData | { source: string },
  details: { backend: string } & Record<string, string | number>,
): RunInfo & { [key: symbol]: () => Record<string, string | object> } {
  // What computes the products, as the backend reports it: the system's BLAS or our kernels.
  const products: Record<string, string> = details.backend === "wasm"
    ? { products: productInfo().description }
    : {};
  const sizes: Partial<RunInfo> = "train" in data
    ? { trainSize: data.train.size, testSize: data.test.size }
    : {};
  const info: RunInfo = {
    profile: profile(),
    source: data.source,
    ...sizes,
    ...details,
    ...products,
  };
  const extra = Object.entries({ ...details, ...products }).map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const what = "train" in data
    ? `${data.source} MNIST, ${info.trainSize} train / ${info.testSize} test images`
    : data.source;
  const text = `profile ${info.profile}: ${what}, ${extra}`;
  return {
    ...info,
    [Symbol.for("Jupyter.display")]: () => ({ "text/plain": text, [RUN_INFO_MIME]: info }),
  };
}
