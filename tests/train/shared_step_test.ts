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
        fused.slice(0, -1).forEach((g, i) =>
          assertClose(g, autodiff[i], `${arch} ${label}: gradient ${i}`, 1e-6)
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
    [{ likelihood: "gaussian" }, undefined],
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
