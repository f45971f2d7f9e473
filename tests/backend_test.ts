import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  type AdapterInfo,
  chooseBackend,
  initBackend,
  isHardwareAdapter,
  probeWebGpuAdapter,
} from "../lib/backend.ts";

type Shape4 = [number, number, number, number];
type Pad = "same" | "valid" | number;

/** Deterministic values in [-1, 1) (a small LCG), so both backends see the same inputs. */
function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Run `f` on `backend` and come back to wasm, whatever happens. */
async function on<T>(backend: string, f: () => T): Promise<T> {
  await tf.setBackend(backend);
  try {
    return f();
  } finally {
    await tf.setBackend("wasm");
  }
}

/** Max |a - b| must stay within float32 rounding of sums of this size (relative to max |b|). */
function assertClose(actual: Float32Array, expected: Float32Array, label: string): number {
  assertEquals(actual.length, expected.length, label);
  let err = 0;
  let scale = 1;
  for (let i = 0; i < actual.length; i++) {
    err = Math.max(err, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  assert(err <= 1e-5 * scale, `${label}: max abs error ${err} (scale ${scale})`);
  return err;
}

interface ConvCase {
  x: Shape4; // [N, H, W, Cin]
  filter: Shape4; // [fh, fw, Cin, Cout]
  strides: number | [number, number];
  pad: Pad;
}

/** d/dfilter of sum(conv2d(x, filter) * weights), a scalar whose gradient uses every tap. */
function conv2dFilterGrad(c: ConvCase): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(sizeOf(c.x), 1), c.x);
    const filter = tf.tensor4d(values(sizeOf(c.filter), 2), c.filter);
    const y0 = tf.conv2d(x, filter, c.strides, c.pad);
    const weights = tf.tensor(values(y0.size, 3), y0.shape);
    const loss = (f: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, c.strides, c.pad), weights));
    return tf.grad(loss)(filter).dataSync() as Float32Array;
  });
}

/** d/dfilter through conv2dTranspose, which x (here [N, h, w, Cout]) upsamples to c.x. */
function conv2dTransposeFilterGrad(c: ConvCase): Float32Array {
  return tf.tidy(() => {
    const probe = tf.conv2d(
      tf.zeros(c.x) as tf.Tensor4D,
      tf.zeros(c.filter) as tf.Tensor4D,
      c.strides,
      c.pad,
    );
    const x = tf.tensor4d(values(probe.size, 4), probe.shape);
    const filter = tf.tensor4d(values(sizeOf(c.filter), 5), c.filter);
    const weights = tf.tensor(values(sizeOf(c.x), 6), c.x);
    const loss = (f: tf.Tensor) =>
      tf.sum(
        tf.mul(
          tf.conv2dTranspose(x, f as tf.Tensor4D, c.x, c.strides, c.pad as "same" | "valid"),
          weights,
        ),
      );
    return tf.grad(loss)(filter).dataSync() as Float32Array;
  });
}

const CASES: ConvCase[] = [
  { x: [2, 6, 6, 3], filter: [3, 3, 3, 4], strides: 1, pad: "same" },
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 5], strides: 2, pad: "same" },
  { x: [2, 8, 8, 2], filter: [3, 3, 2, 4], strides: 2, pad: "same" },
  { x: [3, 9, 7, 2], filter: [3, 2, 2, 3], strides: [2, 1], pad: "valid" },
  { x: [1, 5, 5, 1], filter: [5, 5, 1, 2], strides: 1, pad: "valid" },
  { x: [2, 7, 6, 2], filter: [3, 3, 2, 3], strides: 2, pad: 1 },
];

function describe(c: ConvCase): string {
  return `x [${c.x}] filter [${c.filter}] strides ${c.strides} pad ${JSON.stringify(c.pad)}`;
}

await initBackend({ backend: "wasm", quiet: true });

Deno.test("initBackend() starts wasm with a Conv2DBackpropFilter kernel registered", () => {
  assertEquals(tf.getBackend(), "wasm");
  assert(tf.getKernel("Conv2DBackpropFilter", "wasm") !== undefined);
});

Deno.test("Conv2DBackpropFilter on wasm matches cpu through conv2d (same, valid, numeric pad, strides 1 and 2)", async () => {
  for (const c of CASES) {
    const wasm = conv2dFilterGrad(c);
    const cpu = await on("cpu", () => conv2dFilterGrad(c));
    assertClose(wasm, cpu, describe(c));
  }
});

Deno.test("Conv2DBackpropFilter on wasm matches cpu through conv2dTranspose (same and valid)", async () => {
  for (const c of CASES.filter((c) => typeof c.pad === "string")) {
    const wasm = conv2dTransposeFilterGrad(c);
    const cpu = await on("cpu", () => conv2dTransposeFilterGrad(c));
    assertClose(wasm, cpu, describe(c));
  }
});

Deno.test("Conv2DBackpropFilter on wasm matches cpu for NCHW inputs", async () => {
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor4d(values(2 * 3 * 7 * 6, 7), [2, 3, 7, 6]); // [N, C, H, W]
      const dy = tf.tensor4d(values(2 * 4 * 4 * 3, 8), [2, 4, 4, 3]); // [N, Cout, oh, ow]
      const attrs = { strides: 2, pad: "same", dataFormat: "NCHW", filterShape: [3, 3, 3, 4] };
      const dw = tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, attrs) as tf.Tensor;
      return dw.dataSync() as Float32Array;
    });
  assertClose(run(), await on("cpu", run), "NCHW x [2,3,7,6] strides 2 same");
});

Deno.test("Conv2DBackpropFilter on wasm leaves no tensor or wasm buffer behind", () => {
  const engine = tf.engine();
  const c = CASES[1];
  conv2dFilterGrad(c); // warm up: first calls may allocate lasting state
  const tensors = tf.memory().numTensors;
  const buffers = engine.backend.numDataIds();
  // IS_TEST makes the engine check every kernel for data ids it leaked.
  const wasTest = tf.env().getBool("IS_TEST");
  tf.env().set("IS_TEST", true);
  try {
    conv2dFilterGrad(c);
    conv2dTransposeFilterGrad(c);
  } finally {
    tf.env().set("IS_TEST", wasTest);
  }
  assertEquals(tf.memory().numTensors, tensors);
  assertEquals(engine.backend.numDataIds(), buffers);
});

Deno.test("Conv2DBackpropFilter on wasm rejects dilation other than 1 with a RangeError", () => {
  const x = tf.zeros([1, 5, 5, 1]);
  const dy = tf.zeros([1, 5, 5, 1]);
  const attrs = {
    strides: 1,
    pad: "same",
    dataFormat: "NHWC",
    filterShape: [3, 3, 1, 1],
    dilations: 2,
  };
  assertThrows(
    () => tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, attrs),
    RangeError,
    "dilation",
  );
  tf.dispose([x, dy]);
});

const LLVMPIPE: AdapterInfo = {
  vendor: "65541",
  architecture: "",
  device: "0",
  description: "llvmpipe (LLVM 15.0.6, 256 bits)",
  isFallbackAdapter: true,
};
const SOFTWARE: AdapterInfo[] = [
  LLVMPIPE,
  { ...LLVMPIPE, isFallbackAdapter: undefined }, // older WebGPU: no flag, the name tells
  { vendor: "google", architecture: "", device: "", description: "SwiftShader Device (Subzero)" },
  { vendor: "mesa", device: "lavapipe", description: "Vulkan lavapipe" },
  { vendor: "Microsoft", description: "Microsoft Basic Render Driver" },
  { vendor: "4318", description: "NVIDIA GeForce RTX 3060", isFallbackAdapter: true },
];
const HARDWARE: AdapterInfo[] = [
  { vendor: "4318", architecture: "", device: "9476", description: "NVIDIA GeForce RTX 3060" },
  { vendor: "apple", architecture: "metal-3", device: "", description: "Apple M2" },
  {
    vendor: "intel",
    architecture: "gen-12lp",
    description: "Intel(R) Iris(R) Xe Graphics",
    isFallbackAdapter: false,
  },
];

Deno.test("isHardwareAdapter() rejects software adapters and accepts GPUs", () => {
  for (const info of SOFTWARE) assertEquals(isHardwareAdapter(info), false, JSON.stringify(info));
  for (const info of HARDWARE) assertEquals(isHardwareAdapter(info), true, JSON.stringify(info));
});

Deno.test("chooseBackend('auto') picks wasm on a software adapter or none, webgpu on hardware", async () => {
  for (const info of SOFTWARE) {
    assertEquals(await chooseBackend("auto", () => Promise.resolve(info)), "wasm");
  }
  assertEquals(await chooseBackend("auto", () => Promise.resolve(undefined)), "wasm");
  assertEquals(await chooseBackend("auto", () => Promise.resolve(HARDWARE[0])), "webgpu");
});

Deno.test("chooseBackend() keeps an explicit backend without probing for an adapter", async () => {
  const probe = () => Promise.reject(new Error("probed"));
  for (const name of ["wasm", "cpu", "webgpu"] as const) {
    assertEquals(await chooseBackend(name, probe), name);
  }
});

Deno.test("probeWebGpuAdapter() returns adapter info or undefined, never throws", async () => {
  const info = await probeWebGpuAdapter();
  assert(info === undefined || typeof info.description === "string");
});

Deno.test("a bad backend name throws a RangeError naming the value", async () => {
  // @ts-expect-error: the bad name is the point
  assertThrows(() => initBackend({ backend: "tpu" }), RangeError, '"tpu"');
  // @ts-expect-error: the bad name is the point
  await assertRejects(() => chooseBackend("gpu"), RangeError, '"gpu"');
  assertEquals(tf.getBackend(), "wasm");
});

Deno.test("initBackend('auto') ends on a backend whose results dataSync() can read", async () => {
  // A fake hardware adapter sends auto to webgpu; under Deno (no 2-D canvas for tfjs-webgpu's
  // synchronous read-back) it must come back to wasm.
  const probe = () => Promise.resolve(HARDWARE[0]);
  try {
    const name = await initBackend({ backend: "auto", quiet: true, probe });
    assertEquals(tf.tidy(() => tf.square(tf.ones([2048])).dataSync()[0]), 1, name);
  } finally {
    await initBackend({ backend: "wasm", quiet: true });
  }
});
