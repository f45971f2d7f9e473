/**
 * How the two threads of two-thread training hand each other gradients and weights
 * (`shared_step.ts` says when). Each thread updates about half of the variables; at every step
 * it gives the other its gradients of the other's variables, and then the new weights of its own.
 *
 * Two ways, the same values:
 * - `copies` (always available): through shared memory, written by one thread and read by the
 *   other, two copies each way;
 * - `direct` (on wasm with FFI permission, as with the system's BLAS): each thread publishes the
 *   address of a tensor on its wasm heap and the other reads it there, one copy each way. wasm
 *   memory grows in place, so an address stays valid while its tensor lives; the step's
 *   meetings keep each tensor alive until the other thread has read it.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { hasWasmHeap, hostValues } from "../base/mod.ts";

/** A variable with its place in the shared buffers (its first value's index, flat). */
export interface Slot {
  variable: tf.Variable;
  offset: number;
  /** Its index in the model's variables. */
  index: number;
}

/** The memory the exchange uses, shared by both threads. */
export interface ExchangeBuffers {
  /** `direct` or `copies`, as the main thread chose for both. */
  mode: "direct" | "copies";
  /**
   * Float32 [2, parameters], `copies` only: slot s holds shard s's gradients of the variables
   * the other thread updates, each at its offset in the model's variable order.
   */
  grads: SharedArrayBuffer;
  /** Float32 [parameters]: the weights, each variable's written by the thread that updates it. */
  weights: SharedArrayBuffer;
  /** Float64 [2, variables], `direct` only: the address of each thread's offered tensors. */
  addresses: SharedArrayBuffer;
}

/** The mode this thread can use: `direct` on wasm where FFI is permitted, else `copies`. */
export function exchangeMode(): "direct" | "copies" {
  try {
    const ffi = Deno.permissions.querySync({ name: "ffi" }).state === "granted";
    return ffi && hasWasmHeap() ? "direct" : "copies";
  } catch {
    return "copies";
  }
}

/** The exchange's buffers for a model with these weights, holding them; `mode` by default the
 * fastest this thread can use. */
export function exchangeBuffers(
  weights: readonly Float32Array[],
  mode: "direct" | "copies" = exchangeMode(),
): ExchangeBuffers {
  const parameters = weights.reduce((n, w) => n + w.length, 0);
  const buffers: ExchangeBuffers = {
    mode,
    grads: new SharedArrayBuffer(mode === "copies" ? 2 * parameters * 4 : 0),
    weights: new SharedArrayBuffer(parameters * 4),
    addresses: new SharedArrayBuffer(2 * weights.length * 8),
  };
  const flat = new Float32Array(buffers.weights);
  let offset = 0;
  for (const w of weights) {
    flat.set(w, offset);
    offset += w.length;
  }
  return buffers;
}

/** One thread's side of the exchange. */
export class Exchange {
  readonly #shard: 0 | 1;
  readonly #mode: "direct" | "copies";
  readonly #slots: Float32Array[];
  readonly #weights: Float32Array;
  readonly #addresses: Float64Array;
  readonly #variables: number;

  constructor(buffers: ExchangeBuffers, shard: 0 | 1, variables: number) {
    this.#shard = shard;
    this.#mode = buffers.mode;
    this.#weights = new Float32Array(buffers.weights);
    const parameters = this.#weights.length;
    this.#slots = buffers.mode === "copies"
      ? [0, 1].map((s) => new Float32Array(buffers.grads, s * parameters * 4, parameters))
      : [];
    this.#addresses = new Float64Array(buffers.addresses);
    this.#variables = variables;
  }

  /** How many weights the model has. */
  get parameters(): number {
    return this.#weights.length;
  }

  /** Give the other thread this thread's gradients of its variables (kept until it has read). */
  offerGradients(slots: readonly Slot[], grads: tf.NamedTensorMap): void {
    for (const { variable, offset, index } of slots) {
      const grad = grads[variable.name];
      if (!grad) throw new RangeError(`no gradient for variable "${variable.name}"`);
      if (this.#mode === "direct") this.#publish(index, grad);
      else this.#slots[this.#shard].set(hostValues(grad), offset);
    }
  }

  /** The other thread's gradients of `slots` (this thread's variables), as new tensors. */
  takeGradients(slots: readonly Slot[]): tf.NamedTensorMap {
    const other = 1 - this.#shard;
    return Object.fromEntries(slots.map(({ variable, offset, index }) => {
      const values = this.#mode === "direct"
        ? this.#read(other, index, variable.size)
        : this.#slots[other].subarray(offset, offset + variable.size);
      return [variable.name, tf.tensor(values, variable.shape)];
    }));
  }

  /** Give the other thread the new weights of `slots` (this thread's variables). */
  offerWeights(slots: readonly Slot[]): void {
    for (const { variable, offset, index } of slots) {
      if (this.#mode === "direct") this.#publish(index, variable);
      else this.#weights.set(hostValues(variable), offset);
    }
  }

  /** Assign `slots` (the other thread's variables) the weights it offered. */
  takeWeights(slots: readonly Slot[]): void {
    for (const { variable, offset, index } of slots) {
      const values = this.#mode === "direct"
        ? this.#read(1 - this.#shard, index, variable.size)
        : this.#sharedWeights(offset, variable.size);
      const next = tf.tensor(values, variable.shape);
      variable.assign(next);
      next.dispose();
    }
  }

  /** Assign every variable of `slots` its initial weights from the shared buffer. */
  loadInitial(slots: readonly Slot[]): void {
    for (const { variable, offset } of slots) {
      const next = tf.tensor(this.#sharedWeights(offset, variable.size), variable.shape);
      variable.assign(next);
      next.dispose();
    }
  }

  /** Weights from the shared buffer: a view on wasm (tf.tensor copies it onto the heap), a copy
   * elsewhere (the cpu backend would keep a reference to memory the next step rewrites). */
  #sharedWeights(offset: number, size: number): Float32Array {
    const values = this.#weights.subarray(offset, offset + size);
    return hasWasmHeap() ? values : values.slice();
  }

  /** Publish the address of `t`'s values on this thread's heap, for variable `index`. */
  #publish(index: number, t: tf.Tensor): void {
    const values = hostValues(t);
    const pointer = Deno.UnsafePointer.of(values);
    this.#addresses[this.#shard * this.#variables + index] = Number(
      Deno.UnsafePointer.value(pointer),
    );
  }

  /** The `size` floats the other thread published for variable `index`, viewed in place. */
  #read(shard: number, index: number, size: number): Float32Array {
    const address = this.#addresses[shard * this.#variables + index];
    const pointer = Deno.UnsafePointer.create(BigInt(address));
    if (pointer === null) throw new Error(`thread ${shard} published no address for ${index}`);
    return new Float32Array(Deno.UnsafePointerView.getArrayBuffer(pointer, size * 4));
  }
}
