/**
 * Choose and initialise the TensorFlow.js backend, once per process.
 *
 * `wasm` (SIMD) is the default: about 4x the pure-JS `cpu` backend on our machines.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

/** A backend name, or `auto` (WebGPU on a hardware adapter, wasm otherwise). */
export type BackendName = "wasm" | "cpu" | "webgpu" | "auto";

/** Options of {@linkcode initBackend}. */
export interface BackendOptions {
  /** Which backend to use; default `wasm`. */
  backend?: BackendName;
  /** Print nothing (the chosen backend is printed once otherwise). */
  quiet?: boolean;
}

const BACKENDS: readonly BackendName[] = ["wasm", "cpu", "webgpu", "auto"];

/** The folder of the wasm binaries, resolved from the installed package. */
function wasmDistUrl(): string {
  return new URL("../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url).href;
}

let ready: Promise<string> | undefined;
let requested: BackendName | undefined;

/** Initialise TensorFlow.js on the requested backend and return the backend actually in use. */
export function initBackend(options: BackendOptions = {}): Promise<string> {
  const backend = options.backend ?? "wasm";
  if (!BACKENDS.includes(backend)) {
    throw new RangeError(`backend must be one of ${BACKENDS.join(", ")}; got "${backend}"`);
  }
  if (ready && requested === backend) return ready;
  requested = backend;
  ready = start(backend, options.quiet ?? false);
  return ready;
}

async function start(backend: BackendName, quiet: boolean): Promise<string> {
  let name = backend === "auto" ? "wasm" : backend;
  if (name === "wasm") {
    setWasmPaths(wasmDistUrl());
    if (!(await tf.setBackend("wasm"))) name = "cpu";
  }
  if (name !== "wasm" && !(await tf.setBackend(name))) {
    throw new Error(`TensorFlow.js backend "${name}" could not start`);
  }
  await tf.ready();
  if (!quiet) console.error(`vaelab: TensorFlow.js backend ${tf.getBackend()}`);
  return tf.getBackend();
}
