import * as tf from "@tensorflow/tfjs";
import { assertEquals } from "@std/assert";
import {
  buildModel,
  CONV_VAE_GRADIENTS_KERNEL,
  disposeModel,
  initBackend,
  MLP_VAE_GRADIENTS_KERNEL,
  TRAIN_DEFAULTS,
  type TrainConfig,
  withWasmProduct,
} from "../../lib/mod.ts";
import { fusedGradients, shardGradients } from "../../lib/train/mod.ts";
import { assertClose, on, values } from "../numeric.ts";

await initBackend({ backend: "wasm", quiet: true });

/** Run `f` with kernel `name` unregistered from wasm (so the autodiff path runs), then restore it. */
function without<T>(name: string, f: () => T): T {
  const kernel = tf.getKernel(name, "wasm")!;
  tf.unregisterKernel(name, "wasm");
  try {
    return f();
  } finally {
    tf.registerKernel(kernel);
  }
}

/** The gradients (by variable, in order) and mean terms of rows [2, 11) of a 13-image batch. */
function gradients(config: TrainConfig): Float32Array[] {
  const model = buildModel(config);
  const batch = values(13 * 784, 5).map((v) => (v + 1) / 2);
  const { grads, means } = shardGradients(model, {
    batch,
    config,
    position: { epoch: 1, step: 3, steps: 10 },
    rows: [2, 11],
  });
  const out = [...model.variables.map((v) => grads[v.name]), means].map((t) =>
    t.dataSync().slice() as Float32Array
  );
  tf.dispose([grads, means] as tf.TensorContainer);
  disposeModel(model);
  return out;
}

const CASES: [string, Partial<TrainConfig>][] = [
  ["VAE", {}],
  ["AE", { kind: "ae" }],
  ["beta = 4", { beta: 4 }],
  ["denoising", { noise: 0.3 }],
  ["capacity annealing", { capacity: { target: 25, gamma: 30 } }],
  ["Gaussian pixels, sigma 0.1", { likelihood: "gaussian", scale: 0.1 }],
  ["Laplace pixels, b = 0.5", { likelihood: "laplace", scale: 0.5 }],
  ["Gaussian AE, the course's sigma^2 = 1/2", {
    kind: "ae",
    likelihood: "gaussian",
    scale: Math.SQRT1_2,
  }],
];

for (const arch of ["mlp", "conv"] as const) {
  const kernel = arch === "mlp" ? MLP_VAE_GRADIENTS_KERNEL : CONV_VAE_GRADIENTS_KERNEL;
  Deno.test(`the ${arch} VAE's one-kernel gradients equal the autodiff path's, with each product`, () => {
    for (const [label, extra] of CASES) {
      const config = {
        ...TRAIN_DEFAULTS,
        arch,
        hiddenSize: 24,
        latentSize: 3,
        ...extra,
      } as TrainConfig;
      for (const product of [(f: () => Float32Array[]) => f(), withWasmProduct]) {
        const fused = product(() => gradients(config));
        const autodiff = product(() => without(kernel, () => gradients(config)));
        // Relative 1e-6 (a few float32 units over sums of a few thousand terms); 1e-5 for other
        // pixels than Bernoulli's, whose 1/sigma^2 (100 at sigma 0.1) makes each term of a sum up to
        // 100 times larger than the sum it cancels to (the last bias: 2e-4 on 212 measured).
        const tolerance = (extra.likelihood ?? "bernoulli") === "bernoulli" ? 1e-6 : 1e-5;
        fused.slice(0, -1).forEach((g, i) =>
          assertClose(g, autodiff[i], `${arch} ${label}: gradient ${i}`, tolerance)
        );
        // The mean terms: summed in float64 by the kernel, in float32 by tf.mean.
        assertClose(fused.at(-1)!, autodiff.at(-1)!, `${arch} ${label}: terms`, 1e-6);
      }
    }
  });
}

Deno.test("fusedGradients() takes the one-kernel path only for what its kernels compute", async () => {
  const model = (config: Partial<TrainConfig>) =>
    buildModel({ ...TRAIN_DEFAULTS, hiddenSize: 8, latentSize: 2, ...config } as TrainConfig);
  const cases: [Partial<TrainConfig>, string | undefined][] = [
    [{}, MLP_VAE_GRADIENTS_KERNEL],
    [{ kind: "ae" }, MLP_VAE_GRADIENTS_KERNEL],
    [{ arch: "conv" }, CONV_VAE_GRADIENTS_KERNEL],
    [{ likelihood: "gaussian" }, MLP_VAE_GRADIENTS_KERNEL],
    [{ likelihood: "laplace", arch: "conv" }, CONV_VAE_GRADIENTS_KERNEL],
    [{ estimator: "score" }, undefined],
    [{ conditional: true }, undefined],
    [{ prior: "mixture", components: 3 }, undefined],
  ];
  for (const [config, expected] of cases) {
    const m = model(config);
    assertEquals(
      fusedGradients(m, { ...TRAIN_DEFAULTS, ...config } as TrainConfig),
      expected,
      JSON.stringify(config),
    );
    disposeModel(m);
  }
  // On the cpu backend the kernels do not exist: autodiff.
  const onCpu = await on("cpu", () => {
    const m = model({});
    const kernel = fusedGradients(m, TRAIN_DEFAULTS);
    disposeModel(m);
    return kernel;
  });
  assertEquals(onCpu, undefined);
});
