/**
 * Helpers of the kernel tests: deterministic inputs, reading a result with nothing left behind,
 * running on another backend, and comparisons at float32 precision.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "@std/assert";

/** Deterministic values in [-1, 1) (a small LCG), so both backends see the same inputs. */
export function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** The number of values of a tensor of `shape`. */
export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The values of the tensor `f` makes, every other tensor freed. Read inside tidy, returned
 * outside it: tidy walks a returned typed array element by element.
 */
export function read(f: () => tf.Tensor): Float32Array {
  let out: Float32Array = new Float32Array(0);
  tf.tidy(() => {
    out = f().dataSync() as Float32Array;
  });
  return out;
}

/** Run `f` on `backend` and come back to wasm, whatever happens. */
export async function on<T>(backend: string, f: () => T): Promise<T> {
  await tf.setBackend(backend);
  try {
    return f();
  } finally {
    await tf.setBackend("wasm");
  }
}

/**
 * Max |a - b| must stay within `tolerance` (float32 rounding of sums of this size by default)
 * of max(1, max |b|); returns the error.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label: string,
  tolerance = 1e-5,
): number {
  assertEquals(actual.length, expected.length, label);
  let err = 0;
  let scale = 1;
  for (let i = 0; i < actual.length; i++) {
    err = Math.max(err, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  assert(err <= tolerance * scale, `${label}: max abs error ${err} (scale ${scale})`);
  return err;
}

/**
 * Run `f` once to warm up (first calls may allocate lasting state), then again with IS_TEST, which
 * makes the engine check every kernel for data ids it leaked: no tensor and no wasm buffer may
 * be left behind.
 */
export function assertNoLeak(f: () => void): void {
  const engine = tf.engine();
  f();
  const tensors = tf.memory().numTensors;
  const buffers = engine.backend.numDataIds();
  const wasTest = tf.env().getBool("IS_TEST");
  tf.env().set("IS_TEST", true);
  try {
    f();
  } finally {
    tf.env().set("IS_TEST", wasTest);
  }
  assertEquals(tf.memory().numTensors, tensors);
  assertEquals(engine.backend.numDataIds(), buffers);
}
