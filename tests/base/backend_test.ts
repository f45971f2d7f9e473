import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  type AdapterInfo,
  chooseBackend,
  initBackend,
  isHardwareAdapter,
  probeWebGpuAdapter,
} from "../../lib/base/mod.ts";
import {
  ourWasmKernels,
  productInfo,
  registerWasmKernels,
  withWasmProduct,
} from "../../lib/base/mod.ts";
import { assertClose, assertNoLeak, on, read, sizeOf, values } from "../numeric.ts";

type Shape4 = [number, number, number, number];
type Pad = "same" | "valid" | number;
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/** The products to test: the one loaded (the system's BLAS where there is one), and ours. */
const PRODUCTS: [string, <T>(f: () => T) => T][] = [
  [productInfo().product, (f) => f()],
  ...(productInfo().product === "wasm" ? [] : [["wasm", withWasmProduct]] as [
    string,
    <T>(f: () => T) => T,
  ][]),
];

interface ConvCase {
  x: Shape4; // [N, H, W, Cin]
  filter: Shape4; // [fh, fw, Cin, Cout]
  strides: number | [number, number];
  pad: Pad;
}

/** d/dfilter of sum(conv2d(x, filter) * weights), a scalar whose gradient uses every tap. */
function conv2dFilterGrad(c: ConvCase): Float32Array {
  return read(() => {
    const x = tf.tensor4d(values(sizeOf(c.x), 1), c.x);
    const filter = tf.tensor4d(values(sizeOf(c.filter), 2), c.filter);
    const y0 = tf.conv2d(x, filter, c.strides, c.pad);
    const weights = tf.tensor(values(y0.size, 3), y0.shape);
    const loss = (f: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, c.strides, c.pad), weights));
    return tf.grad(loss)(filter);
  });
}

/** d/dfilter through conv2dTranspose, which x (here [N, h, w, Cout]) upsamples to c.x. */
function conv2dTransposeFilterGrad(c: ConvCase): Float32Array {
  return read(() => {
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
    return tf.grad(loss)(filter);
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

Deno.test("registerWasmKernels() a second time keeps the Conv2DBackpropInput it registered", () => {
  const before = tf.getKernel("Conv2DBackpropInput", "wasm");
  registerWasmKernels();
  assertEquals(tf.getKernel("Conv2DBackpropInput", "wasm"), before);
});

Deno.test("Conv2DBackpropFilter on wasm matches cpu through conv2d (same, valid, numeric pad, strides 1 and 2)", async () => {
  for (const c of CASES) {
    const cpu = await on("cpu", () => conv2dFilterGrad(c));
    for (const [product, using] of PRODUCTS) {
      assertClose(using(() => conv2dFilterGrad(c)), cpu, `${product}: ${describe(c)}`);
    }
  }
});

Deno.test("Conv2DBackpropFilter on wasm matches cpu through conv2dTranspose (same and valid)", async () => {
  for (const c of CASES.filter((c) => typeof c.pad === "string")) {
    const cpu = await on("cpu", () => conv2dTransposeFilterGrad(c));
    for (const [product, using] of PRODUCTS) {
      assertClose(using(() => conv2dTransposeFilterGrad(c)), cpu, `${product}: ${describe(c)}`);
    }
  }
});

Deno.test("Conv2DBackpropFilter on wasm matches cpu for NCHW inputs", async () => {
  const run = () =>
    read(() => {
      const x = tf.tensor4d(values(2 * 3 * 7 * 6, 7), [2, 3, 7, 6]); // [N, C, H, W]
      const dy = tf.tensor4d(values(2 * 4 * 4 * 3, 8), [2, 4, 4, 3]); // [N, Cout, oh, ow]
      const attrs = { strides: 2, pad: "same", dataFormat: "NCHW", filterShape: [3, 3, 3, 4] };
      return tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, attrs) as tf.Tensor;
    });
  assertClose(run(), await on("cpu", run), "NCHW x [2,3,7,6] strides 2 same");
});

Deno.test("Conv2DBackpropFilter on wasm leaves no tensor or wasm buffer behind", () => {
  assertNoLeak(() => {
    conv2dFilterGrad(CASES[1]);
    conv2dTransposeFilterGrad(CASES[1]);
  });
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

interface InputCase {
  dx: Shape4; // [N, H, W, Cin]: conv2d's input, conv2dTranspose's output
  filter: Shape4; // [fh, fw, Cin, Cout]
  strides: number | [number, number];
  pad: Pad | ExplicitPad;
  rounding?: "floor" | "round" | "ceil";
}

/** conv2dTranspose(dy, filter) to c.dx, dy [N, oh, ow, Cout] as conv2d(c.dx) would shape it. */
function conv2dTransposeForward(c: InputCase): Float32Array {
  const info = tf.backend_util.computeConv2DInfo(c.dx, c.filter, c.strides, 1, c.pad, c.rounding);
  return read(() => {
    const dy = tf.tensor4d(values(sizeOf(info.outShape), 9), info.outShape);
    const filter = tf.tensor4d(values(sizeOf(c.filter), 10), c.filter);
    return tf.conv2dTranspose(dy, filter, c.dx, c.strides, c.pad, c.rounding);
  });
}

/** d/dx of sum(conv2d(x, filter) * weights): Conv2DBackpropInput with dy = weights. */
function conv2dInputGrad(c: InputCase): Float32Array {
  return read(() => {
    const x = tf.tensor4d(values(sizeOf(c.dx), 11), c.dx);
    const filter = tf.tensor4d(values(sizeOf(c.filter), 12), c.filter);
    const conv = (t: tf.Tensor) => tf.conv2d(t as tf.Tensor4D, filter, c.strides, c.pad);
    const weights = tf.tensor(values(sizeOf(conv(x).shape), 13), conv(x).shape);
    return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(conv(t), weights)))(x);
  });
}

const INPUT_CASES: InputCase[] = [
  { dx: [3, 14, 14, 32], filter: [3, 3, 32, 64], strides: 2, pad: "same" }, // model: 7 -> 14
  { dx: [3, 28, 28, 1], filter: [3, 3, 1, 32], strides: 2, pad: "same" }, // model: 14 -> 28
  { dx: [2, 6, 6, 3], filter: [3, 3, 3, 4], strides: 1, pad: "same" },
  { dx: [2, 8, 8, 2], filter: [3, 3, 2, 4], strides: 2, pad: "same" },
  { dx: [3, 9, 7, 2], filter: [3, 2, 2, 3], strides: [2, 1], pad: "valid" },
  { dx: [1, 5, 5, 1], filter: [5, 5, 1, 2], strides: 1, pad: "valid" },
  { dx: [2, 8, 8, 2], filter: [2, 2, 2, 3], strides: 3, pad: "valid" }, // rows no tap reaches
  { dx: [2, 7, 6, 2], filter: [3, 3, 2, 3], strides: 2, pad: 1 },
  { dx: [2, 6, 7, 2], filter: [3, 3, 2, 2], strides: 2, pad: [[0, 0], [1, 0], [0, 2], [0, 0]] },
];

function describeInput(c: InputCase): string {
  const rounding = c.rounding === undefined ? "" : ` ${c.rounding}`;
  return `dx [${c.dx}] filter [${c.filter}] strides ${c.strides} pad ${
    JSON.stringify(c.pad)
  }${rounding}`;
}

Deno.test("Conv2DBackpropInput on wasm matches cpu as conv2dTranspose (model layers, strides 1-3, every padding)", async () => {
  // Numeric pad with ceil rounding: conv2d's output gets a column the floor rule would drop.
  const cases = [...INPUT_CASES, { ...INPUT_CASES[7], rounding: "ceil" as const }];
  for (const c of cases) {
    const cpu = await on("cpu", () => conv2dTransposeForward(c));
    for (const [product, using] of PRODUCTS) {
      const label = `${product}: ${describeInput(c)}`;
      assertClose(using(() => conv2dTransposeForward(c)), cpu, label);
    }
  }
});

Deno.test("Conv2DBackpropInput on wasm matches cpu as conv2d's input gradient", async () => {
  for (const c of INPUT_CASES) {
    const cpu = await on("cpu", () => conv2dInputGrad(c));
    for (const [product, using] of PRODUCTS) {
      assertClose(using(() => conv2dInputGrad(c)), cpu, `${product}: ${describeInput(c)}`);
    }
  }
});

Deno.test("Conv2DBackpropInput on wasm hands NCHW and an oversized dy to the native kernel, matching cpu", async () => {
  // NCHW: dy [N, Cout, oh, ow] to dx [N, C, H, W].
  const nchw = () =>
    read(() => {
      const dy = tf.tensor4d(values(2 * 4 * 4 * 3, 14), [2, 4, 4, 3]);
      const filter = tf.tensor4d(values(3 * 3 * 3 * 4, 15), [3, 3, 3, 4]);
      const attrs = { inputShape: [2, 3, 7, 6], strides: 2, pad: "same", dataFormat: "NCHW" };
      return tf.engine().runKernel("Conv2DBackpropInput", { dy, filter }, attrs) as tf.Tensor;
    });
  assertClose(nchw(), await on("cpu", nchw), "NCHW dx [2,3,7,6] strides 2 same");
  // 'valid' 7 -> 3 rows, but dy has 4: tfjs-cpu reads only its first 3 rows and columns.
  const oversized = () =>
    read(() => {
      const dy = tf.tensor4d(values(1 * 4 * 4 * 2, 16), [1, 4, 4, 2]);
      const filter = tf.tensor4d(values(3 * 3 * 3 * 2, 17), [3, 3, 3, 2]);
      return tf.conv2dTranspose(dy, filter, [1, 7, 7, 3], 2, "valid");
    });
  assertClose(oversized(), await on("cpu", oversized), "dy [1,4,4,2] for dx [1,7,7,3] valid");
});

Deno.test("Conv2DBackpropInput on wasm leaves no tensor or wasm buffer behind, native fallback included", () => {
  const nchw = () => {
    const dy = tf.zeros([1, 2, 3, 3]);
    const filter = tf.zeros([3, 3, 1, 2]);
    const attrs = { inputShape: [1, 1, 5, 5], strides: 2, pad: "same", dataFormat: "NCHW" };
    tf.dispose([tf.engine().runKernel("Conv2DBackpropInput", { dy, filter }, attrs) as tf.Tensor]);
    tf.dispose([dy, filter]);
  };
  assertNoLeak(() => {
    conv2dTransposeForward(INPUT_CASES[0]);
    conv2dInputGrad(INPUT_CASES[3]);
    nchw();
  });
});

interface MatMulCase {
  m: number;
  n: number;
  k: number;
}

// The reference VAE's products, and shapes off the kernel's 4 x 8 tiles (1, 3, 5, 7, 9, 13 ...).
const MATMUL_CASES: MatMulCase[] = [
  { m: 128, n: 400, k: 784 },
  { m: 400, n: 20, k: 128 },
  { m: 1, n: 1, k: 1 },
  { m: 5, n: 3, k: 7 },
  { m: 13, n: 17, k: 9 },
  { m: 33, n: 9, k: 65 },
  { m: 4, n: 8, k: 2 },
];
const ACTIVATIONS = ["linear", "relu", "leakyrelu"] as const;

/** act(op(a) op(b) + bias) through tf.fused.matMul, and the plain product, on one backend. */
function matMuls(
  { m, n, k }: MatMulCase,
  transposeA: boolean,
  transposeB: boolean,
  activation: (typeof ACTIVATIONS)[number],
): [Float32Array, Float32Array] {
  const a = () => tf.tensor2d(values(m * k, 11), transposeA ? [k, m] : [m, k]);
  const b = () => tf.tensor2d(values(k * n, 12), transposeB ? [n, k] : [k, n]);
  const fused = read(() =>
    tf.fused.matMul({
      a: a(),
      b: b(),
      transposeA,
      transposeB,
      bias: tf.tensor1d(values(n, 13)),
      activation,
      leakyreluAlpha: 0.2,
    })
  );
  return [fused, read(() => tf.matMul(a(), b(), transposeA, transposeB))];
}

Deno.test("our matMul on wasm matches cpu: each product, every transpose, bias, linear/relu/leaky relu, odd shapes", async () => {
  for (const [product, using] of PRODUCTS) {
    for (const c of MATMUL_CASES) {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          for (const activation of ACTIVATIONS) {
            const label =
              `[${c.m}x${c.k}]x[${c.k}x${c.n}] transposes ${+transposeA}${+transposeB} ` +
              activation;
            const wasm = using(() => matMuls(c, transposeA, transposeB, activation));
            const cpu = await on("cpu", () => matMuls(c, transposeA, transposeB, activation));
            // Sums of k products of values in [-1, 1): float32 rounding grows with k.
            assertClose(wasm[0], cpu[0], `${product}: fused ${label}`);
            assertClose(wasm[1], cpu[1], `${product}: ${label}`);
          }
        }
      }
    }
  }
});

Deno.test("BatchMatMul and _FusedMatMul on wasm are ours, and hand a batch of matrices and prelu to the native kernels", async () => {
  registerWasmKernels();
  assertEquals(ourWasmKernels().sort(), [
    "BatchMatMul",
    "Conv2D",
    "Conv2DBackpropFilter",
    "Conv2DBackpropInput",
    "FusedConv2D",
    "Identity",
    "MaxPoolGrad",
    "VaelabActivationGrad",
    "VaelabAdam",
    "VaelabBatchNorm",
    "VaelabBatchNormGrad",
    "VaelabBernoulli",
    "VaelabBernoulliGrad",
    "VaelabBiasActivation",
    "VaelabConvVaeGradients",
    "VaelabGaussianKl",
    "VaelabGaussianKlGrad",
    "VaelabIm2Row",
    "VaelabMlpVaeGradients",
    "VaelabReparameterize",
    "VaelabReparameterizeGrad",
    "_FusedMatMul",
  ]);
  const batched = () =>
    read(() =>
      tf.matMul(
        tf.tensor3d(values(3 * 4 * 5, 21), [3, 4, 5]),
        tf.tensor3d(values(3 * 5 * 2, 22), [3, 5, 2]),
        false,
        false,
      )
    );
  assertClose(batched(), await on("cpu", batched), "batch of 3 [4x5]x[5x2]");
  const prelu = () =>
    read(() =>
      tf.fused.matMul({
        a: tf.tensor2d(values(6 * 5, 23), [6, 5]),
        b: tf.tensor2d(values(5 * 3, 24), [5, 3]),
        activation: "prelu",
        preluActivationWeights: tf.tensor1d([0.1, 0.2, 0.3]),
      })
    );
  assertClose(prelu(), await on("cpu", prelu), "prelu [6x5]x[5x3]");
});

Deno.test("our matMul on wasm leaves no tensor or wasm buffer behind", () => {
  assertNoLeak(() => {
    for (const c of MATMUL_CASES.slice(2)) matMuls(c, true, true, "relu");
  });
});

Deno.test("lib/base/kernels_wasm.ts is the build of kernels.c (skipped without clang)", async () => {
  const clang = await new Deno.Command("sh", { args: ["-c", "command -v clang"], stdout: "null" })
    .output();
  if (!clang.success) {
    console.log("clang is not installed: kernels_wasm.ts not rebuilt");
    return;
  }
  const build = await new Deno.Command("bash", {
    args: ["tools/build_kernels.sh", "--check"],
    stderr: "piped",
  }).output();
  assert(build.success, new TextDecoder().decode(build.stderr));
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
