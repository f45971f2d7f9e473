/**
 * Several training seeds for every run a comparison rests on: the seed moves a model's numbers
 * by more than the evaluation's noise, so a ranking of models holds only when it holds across
 * seeds (in each, or on the mean with a margin of two standard errors: `claims.ts`).
 * @module
 */
import type { MnistData } from "../data/mod.ts";
import { type GridOptions, type Run, runGrid, type TrainConfig } from "../train/mod.ts";
import { byProfile } from "./profile.ts";

/**
 * The training seeds a notebook's comparisons use: 0, 1 and 2 in the `full` profile; the first
 * `quick` of them in the `quick` one (default 1: CI's small runs are checks of the code, not of
 * rankings).
 */
export function trainingSeeds(quick = 1): number[] {
  return byProfile({ quick: Array.from({ length: quick }, (_, i) => i), full: [0, 1, 2] });
}

/** The config of seed `seed`: the entry's own seed plus `seed` (seed 0 is the entry itself). */
export function seededConfig(config: TrainConfig, seed: number): TrainConfig {
  return { ...config, seed: config.seed + seed };
}

/**
 * Train (or load) every entry once per seed, under one progress display; returns each entry's
 * runs in the seeds' order. Each seed's run is a run of its own in the cache (and a shard's share
 * of the grid like any other).
 * @example
 * ```ts
 * const runs = await runSeeded(data, [{ name: "VAE", config: TRAIN_DEFAULTS }], trainingSeeds());
 * spread(runs.VAE.map((run) => run.history.at(-1)!.loss)); // mean ± s.e. over the seeds
 * ```
 */
export async function runSeeded<N extends string>(
  data: MnistData,
  entries: readonly { name: N; config: TrainConfig }[],
  seeds: readonly number[],
  options: GridOptions = {},
): Promise<Record<N, Run[]>> {
  if (seeds.length === 0) throw new RangeError("runSeeded needs at least one seed");
  if (new Set(seeds).size !== seeds.length) {
    throw new RangeError(`seeds must differ; got ${seeds.join(", ")}`);
  }
  const label = (
    name: string,
    seed: number,
  ) => (seeds.length === 1 ? name : `${name}, seed ${seed}`);
  const runs = await runGrid(
    data,
    entries.flatMap(({ name, config }) =>
      seeds.map((seed) => ({ name: label(name, seed), config: seededConfig(config, seed) }))
    ),
    options,
  );
  return Object.fromEntries(
    entries.map(({ name }) => [name, seeds.map((seed) => runs[label(name, seed)])]),
  ) as Record<N, Run[]>;
}
