/**
 * Choose and initialise the TensorFlow.js backend, once per process.
 *
 * `wasm` (SIMD) is the default: about 4x the pure-JS `cpu` backend on our machines. `auto` takes
 * WebGPU only on a hardware adapter (on a software one such as llvmpipe it is slower than wasm).
 * Backend packages are imported on demand, so importing this module changes nothing.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { packageUrl } from "./paths.ts";
import { productInfo } from "./compiled_kernels.ts";
import { oneOf } from "./validate.ts";
import { registerWasmKernels } from "./wasm_kernels.ts";

/** A backend name, or `auto` (WebGPU on a hardware adapter, wasm otherwise). */
export type BackendName = "wasm" | "cpu" | "webgpu" | "auto";

/** Options of {@linkcode initBackend}. */
export interface BackendOptions {
  /** Which backend to use; default `wasm`. */
  backend?: BackendName;
  /** Print nothing (the chosen backend is printed once otherwise). */
  quiet?: boolean;
  /** How `auto` finds the WebGPU adapter; default {@linkcode probeWebGpuAdapter}. */
  probe?: AdapterProbe;
}

/** The fields of a WebGPU `GPUAdapterInfo` that tell hardware from software adapters. */
export interface AdapterInfo {
  /** PCI vendor id or name, e.g. `"4318"` (NVIDIA) or `"65541"` (Mesa's software renderers). */
  vendor?: string;
  /** Architecture family, often empty. */
  architecture?: string;
  /** Device id or name. */
  device?: string;
  /** Human-readable name, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"`. */
  description?: string;
  /** True for a software (fallback) adapter; absent in older WebGPU implementations. */
  isFallbackAdapter?: boolean;
}

/** Finds the default WebGPU adapter's info, or `undefined` when there is no adapter. */
export type AdapterProbe = () => Promise<AdapterInfo | undefined>;

export const BACKENDS: readonly BackendName[] = ["wasm", "cpu", "webgpu", "auto"];
// Adapters answer in ~50-200 ms here; a driver that never answers must not stall start-up.
const PROBE_TIMEOUT_MS = 5000;

// Software rasterisers and CPU device types that WebGPU implementations expose as adapters.
const SOFTWARE_ADAPTER =
  /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render|\bwarp\b|\bcpu\b/i;
// Vulkan's vendor id for Mesa (0x10005), used by llvmpipe and lavapipe.
const MESA_CPU_VENDOR = new Set(["65541", "0x10005"]);

/** Whether a WebGPU adapter is a hardware GPU (not a fallback or software rasteriser). */
export function isHardwareAdapter(info: AdapterInfo): boolean {
  if (info.isFallbackAdapter === true) return false;
  if (MESA_CPU_VENDOR.has((info.vendor ?? "").toLowerCase())) return false;
  const text = [info.vendor, info.architecture, info.device, info.description].join(" ");
  return !SOFTWARE_ADAPTER.test(text);
}

/** Probe the default WebGPU adapter through `navigator.gpu` (absent in older Deno: undefined). */
export async function probeWebGpuAdapter(): Promise<AdapterInfo | undefined> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (gpu === undefined) return undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A broken driver can leave requestAdapter pending; wasm is then the answer, not a hang.
  const timeout = new Promise<null>((resolve) =>
    timer = setTimeout(() => resolve(null), PROBE_TIMEOUT_MS)
  );
  try {
    const adapter = await Promise.race([gpu.requestAdapter(), timeout]);
    if (adapter === null) return undefined;
    // GPUAdapterInfo's fields are prototype getters: copy them one by one.
    const info = adapter.info;
    const legacy = adapter as { isFallbackAdapter?: boolean };
    return {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isFallbackAdapter: info.isFallbackAdapter ?? legacy.isFallbackAdapter,
    };
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Check a backend name, throwing a RangeError that names the bad value. */
function checkName(backend: unknown): BackendName {
  return oneOf("backend", backend as BackendName, BACKENDS);
}

/** Resolve `auto` to `webgpu` on a hardware adapter and to `wasm` otherwise; other names pass. */
export async function chooseBackend(
  requested: BackendName,
  probe: AdapterProbe = probeWebGpuAdapter,
): Promise<Exclude<BackendName, "auto">> {
  const name = checkName(requested);
  if (name !== "auto") return name;
  const info = await probe();
  return info !== undefined && isHardwareAdapter(info) ? "webgpu" : "wasm";
}

/** The folder of the wasm binaries, resolved from the installed package. */
function wasmDistUrl(): string {
  return packageUrl("@tensorflow/tfjs-backend-wasm", "dist/").href;
}

async function startWasm(): Promise<boolean> {
  try {
    const { setWasmPaths } = await import("@tensorflow/tfjs-backend-wasm");
    setWasmPaths(wasmDistUrl());
    if (!(await tf.setBackend("wasm"))) return false;
  } catch {
    return false;
  }
  registerWasmKernels();
  return true;
}

async function startWebGpu(): Promise<boolean> {
  try {
    await import("@tensorflow/tfjs-backend-webgpu");
    return await tf.setBackend("webgpu");
  } catch {
    return false;
  }
}

/** Whether a result computed on the current backend can be read with `dataSync()`. */
function syncReadWorks(): boolean {
  try {
    return tf.tidy(() => tf.add(tf.ones([1024]), tf.ones([1024])).dataSync()[1023] === 2);
  } catch {
    return false;
  }
}

let ready: Promise<string> | undefined;
let requested: BackendName | undefined;

/**
 * The backend in use and, on wasm, what computes its products, e.g. `TensorFlow.js backend wasm,
 * products on OpenBLAS 0.3.21 (SkylakeX core), libopenblas.so.0`.
 */
export function backendDescription(): string {
  const backend = tf.getBackend();
  if (backend !== "wasm") return `TensorFlow.js backend ${backend}`;
  return `TensorFlow.js backend wasm, products on ${productInfo().description}`;
}

/**
 * Initialise TensorFlow.js on the requested backend and return the backend actually in use. On
 * wasm it also finds the product (`productInfo()`: the system's BLAS, or our wasm kernels and
 * why) and, unless `quiet`, prints both ({@linkcode backendDescription}).
 * @param options the backend (default wasm), and whether to print it
 * @example
 * ```ts
 * const backend = await initBackend(); // "wasm"
 * ```
 */
export function initBackend(options: BackendOptions = {}): Promise<string> {
  const backend = checkName(options.backend ?? "wasm");
  if (ready && requested === backend) return ready;
  requested = backend;
  ready = start(backend, options.quiet ?? false, options.probe ?? probeWebGpuAdapter);
  return ready;
}

async function start(backend: BackendName, quiet: boolean, probe: AdapterProbe): Promise<string> {
  const name = await chooseBackend(backend, probe);
  let started = false;
  if (name === "webgpu") {
    started = await startWebGpu();
    // tfjs-webgpu reads back synchronously through a 2-D canvas, which Deno lacks, and our
    // library reads with dataSync(): auto must then prefer wasm. An explicit request is kept.
    if (started && backend === "auto" && !syncReadWorks()) started = false;
    // An explicit request must not silently become another backend; auto may.
    if (!started && backend === "webgpu") {
      throw new Error(`TensorFlow.js backend "webgpu" could not start`);
    }
  }
  // wasm falls back to cpu: slower, but everything still runs.
  if (!started && name !== "cpu") started = await startWasm();
  if (!started && !(await tf.setBackend("cpu"))) {
    throw new Error(`TensorFlow.js backend "cpu" could not start`);
  }
  await tf.ready();
  if (!quiet) console.error(`vaelab: ${backendDescription()}`);
  return tf.getBackend();
}
