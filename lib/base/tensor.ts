/**
 * Moving values between TensorFlow.js tensors and JavaScript arrays.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** The part of the wasm backend we use: views of tensors inside its heap. */
interface WasmHeap {
  typedArrayFromHeap(info: { shape: number[]; dtype: string; dataId: object }): Float32Array;
}

/** Whether the active backend is wasm and lets us view tensors inside its heap. */
export function hasWasmHeap(): boolean {
  const backend = tf.backend() as unknown as Partial<WasmHeap>;
  return tf.getBackend() === "wasm" && typeof backend.typedArrayFromHeap === "function";
}

/**
 * A tensor's float32 values without a copy on wasm (a view into the module's heap: read it at
 * once, before any other tensor is made) and through `dataSync()` elsewhere.
 */
export function hostValues(tensor: tf.Tensor): Float32Array {
  if (hasWasmHeap()) {
    return (tf.backend() as unknown as WasmHeap).typedArrayFromHeap(tensor);
  }
  return tensor.dataSync() as Float32Array;
}

/**
 * A tensor's values, disposing it. (Reading inside `tf.tidy` and returning the array is slow:
 * tidy walks a returned typed array element by element.)
 */
export function readOnce(tensor: tf.Tensor): Float32Array {
  const values = tensor.dataSync() as Float32Array;
  tensor.dispose();
  return values;
}

/** The arrays one after the other, in one new array. */
export function concatArrays(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
