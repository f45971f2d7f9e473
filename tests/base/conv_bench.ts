/**
 * Speed of a small convolutional autoencoder on wasm (with our Conv2DBackpropFilter and
 * Conv2DBackpropInput) and cpu.
 *
 * Net: [B, 28, 28, 1] -conv 3x3/2-> [B, 14, 14, 32] -conv 3x3/2-> [B, 7, 7, 64]
 * -convT 3x3/2-> [B, 14, 14, 32] -convT 3x3/2-> [B, 28, 28, 1], ReLU between, squared error.
 * Images/s = BATCH / (time per iteration). Run: `deno bench -A tests/base/conv_bench.ts`.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/base/mod.ts";

const BATCH = 16;

interface Net {
  x: tf.Tensor4D; // [B, 28, 28, 1]
  filters: tf.Tensor4D[];
}

function makeNet(batch: number): Net {
  return {
    x: tf.randomUniform([batch, 28, 28, 1], 0, 1, "float32", 1),
    filters: [
      tf.randomNormal([3, 3, 1, 32], 0, 0.1, "float32", 2),
      tf.randomNormal([3, 3, 32, 64], 0, 0.1, "float32", 3),
      tf.randomNormal([3, 3, 32, 64], 0, 0.1, "float32", 4), // convT: [fh, fw, out, in]
      tf.randomNormal([3, 3, 1, 32], 0, 0.1, "float32", 5),
    ],
  };
}

function loss(x: tf.Tensor4D, filters: tf.Tensor[]): tf.Scalar {
  const [f0, f1, f2, f3] = filters as tf.Tensor4D[];
  const b = x.shape[0];
  const h1 = tf.relu(tf.conv2d(x, f0, 2, "same"));
  const h2 = tf.relu(tf.conv2d(h1, f1, 2, "same"));
  const h3 = tf.relu(tf.conv2dTranspose(h2, f2, [b, 14, 14, 32], 2, "same"));
  const y = tf.conv2dTranspose(h3, f3, [b, 28, 28, 1], 2, "same");
  return tf.sum(tf.squaredDifference(y, x));
}

// Reads happen inside tidy but return nothing: tidy walks a returned typed array element by
// element (~60 ns each), which would dwarf the kernels being timed.
function forward(net: Net): void {
  tf.tidy(() => {
    loss(net.x, net.filters).dataSync();
  });
}

function forwardBackward(net: Net): void {
  tf.tidy(() => {
    const grads = tf.grads((...fs: tf.Tensor[]) => loss(net.x, fs))(net.filters);
    for (const g of grads) g.dataSync();
  });
}

await initBackend({ backend: "wasm", quiet: true });
const wasmNet = makeNet(BATCH);
await tf.setBackend("cpu");
const cpuNet = makeNet(BATCH);
await tf.setBackend("wasm");

async function onCpu(f: () => void): Promise<void> {
  await tf.setBackend("cpu");
  f();
  await tf.setBackend("wasm");
}

Deno.bench("wasm forward", { group: "forward", baseline: true }, () => forward(wasmNet));
// Deno awaits a bench only when its function is declared async, not when it returns a promise.
Deno.bench("cpu forward", { group: "forward", n: 5, warmup: 1 }, async () => {
  await onCpu(() => forward(cpuNet));
});
Deno.bench(
  "wasm forward+backward",
  { group: "step", baseline: true },
  () => forwardBackward(wasmNet),
);
// The cpu backend's Conv2DBackpropFilter is a plain JS loop: seconds per batch, so few runs.
Deno.bench("cpu forward+backward", { group: "step", n: 2, warmup: 1 }, async () => {
  await onCpu(() => forwardBackward(cpuNet));
});

// The middle layer's three kernels on wasm, [B, 14, 14, 32] <-> [B, 7, 7, 64]:
const h1 = tf.randomNormal([BATCH, 14, 14, 32]) as tf.Tensor4D;
const h2 = tf.randomNormal([BATCH, 7, 7, 64]) as tf.Tensor4D;
const filter = wasmNet.filters[1];
const attrs = { strides: 2, pad: "same", dataFormat: "NHWC", filterShape: [3, 3, 32, 64] };
Deno.bench("wasm Conv2D", { group: "layer", baseline: true }, () => {
  tf.tidy(() => {
    tf.conv2d(h1, filter, 2, "same").dataSync();
  });
});
Deno.bench("wasm Conv2DBackpropInput (ours)", { group: "layer" }, () => {
  tf.tidy(() => {
    tf.conv2dTranspose(h2, filter, h1.shape, 2, "same").dataSync();
  });
});
// Our kernel hands NCHW to the native one: the same layer through tfjs-wasm's own direct loop.
const h2Nchw = tf.transpose(h2, [0, 3, 1, 2]); // [B, 64, 7, 7]
const inputAttrs = { inputShape: [BATCH, 32, 14, 14], strides: 2, pad: "same", dataFormat: "NCHW" };
Deno.bench("wasm Conv2DBackpropInput (native, via NCHW)", { group: "layer" }, () => {
  tf.tidy(() => {
    const dx = tf.engine().runKernel("Conv2DBackpropInput", { dy: h2Nchw, filter }, inputAttrs);
    (dx as tf.Tensor).dataSync();
  });
});
Deno.bench("wasm Conv2DBackpropFilter (ours)", { group: "layer" }, () => {
  tf.tidy(() => {
    const dw = tf.engine().runKernel("Conv2DBackpropFilter", { x: h1, dy: h2 }, attrs);
    (dw as tf.Tensor).dataSync();
  });
});
