/**
 * A run's folder in the cache: what it holds (the manifest `run.json`, `weights.bin`,
 * `snapshots.bin`, documented in data/README.md), how it is written so that no reader sees half
 * of it, and how it is checked before it is loaded.
 * @module
 */
import { concatArrays } from "../base/mod.ts";
import { buildModel, disposeModel, getWeights, type Model, setWeights } from "../model/mod.ts";
import type { TrainConfig } from "./config.ts";
import type { TrainResult } from "./loop.ts";
import type { EpochRecord } from "./records.ts";

/** The format of the run folders this version writes and reads (see data/README.md). */
export const RUN_FORMAT = 3;

/** Where a variable sits in `weights.bin`: little-endian float32, row-major, one after another. */
export interface WeightEntry {
  /** The variable's stable name, e.g. `encoder.hidden.kernel` (shape [in, out]). */
  name: string;
  shape: number[];
  /** Byte offset of its first value in `weights.bin`. */
  offset: number;
}

/** The manifest `run.json` of a cached run (documented in data/README.md). */
export interface Manifest {
  /** {@linkcode RUN_FORMAT}; a folder of another format is trained again. */
  format: number;
  /** SHA-256 (hex) of `weights.bin` and `snapshots.bin`, checked before they are loaded. */
  checksums: { "weights.bin": string; "snapshots.bin": string };
  config: TrainConfig;
  data: DataDescription;
  history: EpochRecord[];
  seconds: number;
  imagesPerSecond: number;
  workers: 1 | 2;
  /** What computed the products (see `productName()`); absent in runs saved before it was. */
  product?: string;
  shapes: number[][];
  /** Each variable of `weights.bin`, in order. */
  variables: WeightEntry[];
  /** Snapshots in `snapshots.bin`, one per epoch. */
  snapshots: number;
}

/** What identifies a data set for caching: its source, split sizes and a checksum of its pixels. */
export interface DataDescription {
  source: string;
  trainSize: number;
  testSize: number;
  checksum: number;
}

/** What a run folder gives back: the trained model and what produced it. */
export interface LoadedRun extends TrainResult {
  /** After each epoch, the snapshot images (see `SNAPSHOT` in runs.ts). */
  snapshots: Float32Array[];
}

/** The folder's manifest; null when there is none; a string saying why it cannot be used. */
export async function readManifest(folder: string): Promise<Manifest | string | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${folder}/run.json`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text);
  } catch {
    return "run.json is not valid JSON";
  }
  if (manifest?.format !== RUN_FORMAT) {
    return `written in format ${manifest?.format ?? 1}; this version reads format ${RUN_FORMAT}`;
  }
  return manifest;
}

/** SHA-256 of `bytes`, in hex. */
async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The file's bytes if its SHA-256 is `expected`; else a string saying what is wrong. */
async function checkedFile(path: string, expected: string): Promise<Uint8Array | string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `${basename(path)} is missing`;
    throw error;
  }
  const actual = await sha256(bytes);
  if (actual !== expected) {
    return `${basename(path)} (${bytes.length} bytes) does not match its checksum`;
  }
  return bytes;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * The cached run in `folder`: null when there is none, a string saying why it cannot be used
 * (missing or corrupted file, older format, another config), else the run.
 */
export async function loadFolder(
  folder: string,
  config: TrainConfig,
): Promise<LoadedRun | string | null> {
  const manifest = await readManifest(folder);
  if (manifest === null || typeof manifest === "string") return manifest;
  if (JSON.stringify(sortedConfig(manifest.config)) !== JSON.stringify(sortedConfig(config))) {
    return "its config is not the one asked for";
  }
  const bytes = await checkedFile(`${folder}/weights.bin`, manifest.checksums["weights.bin"]);
  if (typeof bytes === "string") return bytes;
  const pixels = await checkedFile(`${folder}/snapshots.bin`, manifest.checksums["snapshots.bin"]);
  if (typeof pixels === "string") return pixels;
  const model = buildModel(config);
  const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const needed = model.variables.reduce((n, v) => n + v.size, 0);
  if (needed !== floats.length) {
    disposeModel(model);
    return `weights.bin holds ${floats.length} values; the model needs ${needed}`;
  }
  const weights: Float32Array[] = [];
  let offset = 0;
  for (const v of model.variables) {
    weights.push(floats.slice(offset, offset + v.size));
    offset += v.size;
  }
  setWeights(model, weights);
  const snapshots: Float32Array[] = [];
  const all = new Float32Array(pixels.buffer, pixels.byteOffset, pixels.byteLength / 4);
  const size = manifest.snapshots ? all.length / manifest.snapshots : 0;
  for (let e = 0; e < manifest.snapshots; e++) {
    snapshots.push(all.slice(e * size, (e + 1) * size));
  }
  const { history, seconds, imagesPerSecond, workers } = manifest;
  const product = manifest.product ?? "unrecorded";
  return {
    model,
    config: manifest.config,
    history,
    seconds,
    imagesPerSecond,
    workers,
    product,
    snapshots,
  };
}

/** A config with its keys sorted, as the run hash sees it. */
export function sortedConfig(config: TrainConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Write a run: every file into a temporary folder beside `folder`, which is then renamed into
 * place. A process killed before the rename leaves only a `.partial-*` folder (removed by a later
 * save once a day old); two processes saving the same run leave one complete folder.
 */
export async function saveFolder(
  folder: string,
  manifest: Omit<Manifest, "checksums">,
  { model, snapshots }: { model: Model; snapshots: Float32Array[] },
): Promise<void> {
  const parent = folder.slice(0, folder.lastIndexOf("/"));
  await Deno.mkdir(parent, { recursive: true });
  await removeStale(parent);
  const temporary = await Deno.makeTempDir({ dir: parent, prefix: ".partial-" });
  const weights = getWeights(model);
  const bytes = new Uint8Array(weights.reduce((n, w) => n + w.byteLength, 0));
  let offset = 0;
  for (const w of weights) {
    bytes.set(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), offset);
    offset += w.byteLength;
  }
  const pixels = concatArrays(snapshots);
  const pixelBytes = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  const checksums = {
    "weights.bin": await sha256(bytes),
    "snapshots.bin": await sha256(pixelBytes),
  };
  await Deno.writeFile(`${temporary}/weights.bin`, bytes);
  await Deno.writeFile(`${temporary}/snapshots.bin`, pixelBytes);
  const { format, ...rest } = manifest;
  // The format and the checksums first, where a reader looks.
  const text = JSON.stringify({ format, checksums, ...rest }, null, 1);
  await Deno.writeTextFile(`${temporary}/run.json`, text);
  // An older folder of this run is moved aside (a rename, so a reader sees it whole or not at
  // all), then ours takes its place.
  const aside = `${parent}/.partial-${crypto.randomUUID()}`;
  await Deno.rename(folder, aside).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  try {
    await Deno.rename(temporary, folder);
  } catch (error) {
    // Another process saved this run between the two renames: keep its folder if it loads.
    const theirs = await readManifest(folder).catch(() => null);
    if (typeof theirs !== "object" || theirs === null) throw error;
    await Deno.remove(temporary, { recursive: true });
  }
  await Deno.remove(aside, { recursive: true }).catch(() => {});
}

/** Remove `.partial-*` folders a day old or more: what killed processes left behind. */
async function removeStale(parent: string): Promise<void> {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for await (const entry of Deno.readDir(parent)) {
    if (!entry.isDirectory || !entry.name.startsWith(".partial-")) continue;
    const path = `${parent}/${entry.name}`;
    const info = await Deno.stat(path).catch(() => null);
    if (info?.mtime && info.mtime.getTime() < dayAgo) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }
}
