/**
 * Grids across machines: a run belongs to one of N shares by its hash, the same on every machine,
 * so N processes on one shared run cache (`VAELAB_RUNS`) each train their share of the runs a
 * notebook asks for (`deno task grid NOTEBOOK --shard I/N`, one per Slurm array task or
 * Kubernetes indexed Job) and load the others' from the cache as they land there.
 * @module
 */
import { integer } from "../base/mod.ts";

/** Shard `index` (from 0) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** "I/N" as a shard; a RangeError names what is wrong (0 <= I < N). */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const [index, count] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!match || !(count >= 1) || !(index < count)) {
    throw new RangeError(`a shard is I/N with 0 <= I < N (e.g. 0/4); got "${text}"`);
  }
  return { index: integer("shard index", index), count: integer("shard count", count) };
}

/** The shard `VAELAB_SHARD` names, or undefined when it is not set. */
export function shardFromEnv(): Shard | undefined {
  let text: string | undefined;
  try {
    text = Deno.env.get("VAELAB_SHARD") || undefined;
  } catch {
    return undefined; // no permission to read the environment
  }
  return text === undefined ? undefined : parseShard(text);
}

/** Which of `count` shards trains the run of this hash (16 hex digits): its first 8 mod count. */
export function shardOf(hash: string, count: number): number {
  return parseInt(hash.slice(0, 8), 16) % count;
}

/** Whether this shard trains the run of this hash (every run, without a shard). */
export function owns(shard: Shard | undefined, hash: string): boolean {
  return shard === undefined || shardOf(hash, shard.count) === shard.index;
}

/** Options of {@linkcode waitFor}. */
export interface WaitOptions {
  /** Seconds between looks; default `VAELAB_SHARD_POLL` or 5. */
  poll?: number;
  /** Seconds before giving up; default `VAELAB_SHARD_WAIT` or 86,400 (a day). */
  timeout?: number;
  /** Told once what is awaited. */
  onNotice?: (message: string) => void;
  /** The clock: `Date.now` and `setTimeout` unless a test gives its own. */
  clock?: Clock;
}

/** Milliseconds now, and a wait of some milliseconds. */
export interface Clock {
  now(): number;
  sleep(milliseconds: number): Promise<void>;
}

const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
};

function envSeconds(name: string, fallback: number): number {
  try {
    const value = Number(Deno.env.get(name));
    return value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

/**
 * Wait until `look()` finds what another shard is to write (a run, in the shared cache), and
 * return it: look, and while nothing is found, wait `poll` seconds and look again; throws when a
 * look finds nothing after the timeout, naming what it waited for.
 */
export async function waitFor<T>(
  what: string,
  look: () => Promise<T | undefined>,
  options: WaitOptions = {},
): Promise<T> {
  const poll = options.poll ?? envSeconds("VAELAB_SHARD_POLL", 5);
  const timeout = options.timeout ?? envSeconds("VAELAB_SHARD_WAIT", 86_400);
  const clock = options.clock ?? SYSTEM_CLOCK;
  const deadline = clock.now() + timeout * 1000;
  (options.onNotice ?? console.warn)(`vaelab: waiting for ${what}`);
  while (true) {
    const found = await look();
    if (found !== undefined) return found;
    if (clock.now() > deadline) {
      throw new Error(`gave up after ${timeout} s waiting for ${what}: did that shard fail?`);
    }
    await clock.sleep(poll * 1000);
  }
}
