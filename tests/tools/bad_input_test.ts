/**
 * Every bad input gets a clear error before any work starts: a table of bad values for the
 * library's entry points and the CLI's flags, each with the error class and the words it must say
 * (the field and the bad value).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "@std/assert";
import {
  Adam,
  aggregatePosteriorCodes,
  batches,
  buildModel,
  type Dataset,
  encodeAll,
  evaluate,
  initBackend,
  interpolateCodes,
  iwaeEstimate,
  latentGridCodes,
  loadMnist,
  noisyImages,
  priorCodes,
  runGrid,
  runOrLoad,
  subset,
  train,
  TRAIN_DEFAULTS,
  type TrainConfig,
  traversalCodes,
} from "../../lib/mod.ts";
import { syntheticDigits, syntheticMnist } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

const SMALL: TrainConfig = { ...TRAIN_DEFAULTS, hiddenSize: 16, latentSize: 2, epochs: 1 };
const data = syntheticMnist();
const model = buildModel(SMALL);
const autoencoder = buildModel({ ...SMALL, kind: "ae" });

/** A copy of a split with one change, to make a bad one. */
function broken(change: (split: Dataset) => Partial<Dataset> | void): Dataset {
  const split = syntheticDigits(8, 3);
  return { ...split, ...change(split) };
}

/** `train()` of SMALL with one field changed. */
const trainWith = (change: Record<string, unknown>) => () =>
  train(data, { ...SMALL, ...change } as TrainConfig, { workers: 1 });

type Row = [string, () => unknown, typeof RangeError | typeof TypeError, string];

const ROWS: Row[] = [
  // The training config, through train().
  [
    "latent size 0",
    trainWith({ latentSize: 0 }),
    RangeError,
    "latentSize must be a positive integer; got 0",
  ],
  [
    "latent size 2.5",
    trainWith({ latentSize: 2.5 }),
    RangeError,
    "latentSize must be a positive integer; got 2.5",
  ],
  [
    "hidden size -4",
    trainWith({ hiddenSize: -4 }),
    RangeError,
    "hiddenSize must be a positive integer; got -4",
  ],
  [
    "hidden size as text",
    trainWith({ hiddenSize: "400" }),
    TypeError,
    'hiddenSize must be a number; got "400" (string)',
  ],
  ["beta -1", trainWith({ beta: -1 }), RangeError, "beta must be a non-negative number; got -1"],
  ["beta NaN", trainWith({ beta: NaN }), RangeError, "beta must be a non-negative number; got NaN"],
  [
    "beta Infinity",
    trainWith({ beta: Infinity }),
    RangeError,
    "beta must be a non-negative number; got Infinity",
  ],
  [
    "learning rate 0",
    trainWith({ learningRate: 0 }),
    RangeError,
    "learningRate must be a positive number; got 0",
  ],
  [
    "learning rate -1e-3",
    trainWith({ learningRate: -1e-3 }),
    RangeError,
    "learningRate must be a positive number; got -0.001",
  ],
  [
    "batch size 0",
    trainWith({ batchSize: 0 }),
    RangeError,
    "batchSize must be a positive integer; got 0",
  ],
  [
    "batch size 12.5",
    trainWith({ batchSize: 12.5 }),
    RangeError,
    "batchSize must be a positive integer; got 12.5",
  ],
  ["epochs 0", trainWith({ epochs: 0 }), RangeError, "epochs must be a positive integer; got 0"],
  ["epochs null", trainWith({ epochs: null }), TypeError, "epochs must be a number; got null"],
  ["seed 1.5", trainWith({ seed: 1.5 }), RangeError, "seed must be an integer; got 1.5"],
  [
    "seed 2^60",
    trainWith({ seed: 2 ** 60 }),
    RangeError,
    "seed must be an integer; got 1152921504606847000",
  ],
  [
    "likelihood poisson",
    trainWith({ likelihood: "poisson" }),
    RangeError,
    'likelihood must be one of "bernoulli", "gaussian", "laplace"; got "poisson"',
  ],
  [
    "scale 0",
    trainWith({ likelihood: "gaussian", scale: 0 }),
    RangeError,
    "scale must be a positive number; got 0",
  ],
  [
    "noise -0.1",
    trainWith({ noise: -0.1 }),
    RangeError,
    "noise must be a non-negative number; got -0.1",
  ],
  [
    "kind flow",
    trainWith({ kind: "flow" }),
    RangeError,
    'kind must be one of "ae", "vae", "aae", "gan", "classifier", "vqvae", "vaegan"; got "flow"',
  ],
  [
    "prior gamma",
    trainWith({ prior: "gamma" }),
    RangeError,
    'prior must be one of "normal", "mixture"; got "gamma"',
  ],
  [
    "components 0",
    trainWith({ prior: "mixture", components: 0 }),
    RangeError,
    "components must be a positive integer; got 0",
  ],
  [
    "mixture prior on a GAN",
    trainWith({ kind: "gan", prior: "mixture" }),
    RangeError,
    'prior: "mixture" needs kind "vae" or "aae"; got "gan"',
  ],
  [
    "conv AAE",
    trainWith({ kind: "aae", arch: "conv" }),
    RangeError,
    'kind "aae" has only the "mlp" arch; got "conv"',
  ],
  [
    "MLP classifier",
    trainWith({ kind: "classifier" }),
    RangeError,
    'kind "classifier" has only the "conv" arch; got "mlp"',
  ],
  [
    "ganLoss wasserstein",
    trainWith({ kind: "gan", ganLoss: "wasserstein" }),
    RangeError,
    'ganLoss must be one of "non-saturating", "saturating"; got "wasserstein"',
  ],
  [
    "featureMatching in the DCGAN",
    trainWith({ kind: "gan", arch: "conv", featureMatching: true }),
    RangeError,
    'featureMatching applies to the unconditional MLP GAN; got "gan", "conv"',
  ],
  [
    "featureMatching in a cGAN",
    trainWith({ kind: "gan", conditional: true, featureMatching: true }),
    RangeError,
    'featureMatching applies to the unconditional MLP GAN; got "gan", "mlp", conditional',
  ],
  [
    "featureMatching with a ganLoss",
    trainWith({ kind: "gan", featureMatching: true, ganLoss: "saturating" }),
    RangeError,
    "featureMatching replaces the generator's ganLoss: give one",
  ],
  [
    "labelSmoothing 0.6",
    trainWith({ kind: "gan", labelSmoothing: 0.6 }),
    RangeError,
    "labelSmoothing must be below 0.5; got 0.6",
  ],
  [
    "generatorNoise new",
    trainWith({ kind: "gan", generatorNoise: "new" as "fresh" }),
    RangeError,
    'generatorNoise must be one of "shared", "fresh"; got "new"',
  ],
  [
    "generatorNoise on a VAE",
    trainWith({ generatorNoise: "fresh" }),
    RangeError,
    'generatorNoise applies to kind "gan" only; got "vae"',
  ],
  [
    "conditional conv VAE",
    trainWith({ conditional: true, arch: "conv" }),
    RangeError,
    'conditional: true needs kind "ae", "vae" or "gan" with arch "mlp"; got "vae", "conv"',
  ],
  [
    "conditional AAE",
    trainWith({ conditional: true, kind: "aae" }),
    RangeError,
    'conditional: true needs kind "ae", "vae" or "gan" with arch "mlp"; got "aae", "mlp"',
  ],
  [
    "conditional VAE, mixture prior",
    trainWith({ conditional: true, prior: "mixture" }),
    RangeError,
    'conditional: true needs the N(0, I) prior; got prior "mixture"',
  ],
  [
    "conditioning 'label'",
    trainWith({ kind: "gan", conditional: true, conditioning: "label" as "input" }),
    RangeError,
    'conditioning must be one of "input", "projection"; got "label"',
  ],
  [
    "projection on an unconditional GAN",
    trainWith({ kind: "gan", conditioning: "projection" }),
    RangeError,
    'conditioning applies to a conditional GAN (kind "gan", conditional: true)',
  ],
  [
    "generatorNorm on a VAE",
    trainWith({ generatorNorm: true }),
    RangeError,
    'generatorNorm applies to the MLP GAN; got "vae", "mlp"',
  ],
  [
    "conditional 'yes'",
    trainWith({ conditional: "yes" as unknown as boolean }),
    TypeError,
    'conditional must be true or false; got "yes"',
  ],
  [
    "MLP VQ-VAE",
    trainWith({ kind: "vqvae" }),
    RangeError,
    'kind "vqvae" has only the "conv" arch and its own discrete code; got "mlp"',
  ],
  [
    "codebookSize 0",
    trainWith({ kind: "vqvae", arch: "conv", codebookSize: 0 }),
    RangeError,
    "codebookSize must be a positive integer; got 0",
  ],
  [
    "commitment for a VAE",
    trainWith({ commitment: 0.25 }),
    RangeError,
    'commitment applies to kind "vqvae" only; got "vae"',
  ],
  [
    "commitment -1",
    trainWith({ kind: "vqvae", arch: "conv", commitment: -1 }),
    RangeError,
    "commitment must be a non-negative number; got -1",
  ],
  [
    "Gaussian VQ-VAE",
    trainWith({ kind: "vqvae", arch: "conv", likelihood: "gaussian" }),
    RangeError,
    'a VQ-VAE here has Bernoulli pixels; got likelihood "gaussian"',
  ],
  [
    "featureWeight for a VAE",
    trainWith({ featureWeight: 1 }),
    RangeError,
    'featureWeight applies to kind "vaegan" only; got "vae"',
  ],
  [
    "conv VAE-GAN",
    trainWith({ kind: "vaegan", arch: "conv" }),
    RangeError,
    'kind "vaegan" has only the "mlp" arch; got "conv"',
  ],
  [
    "estimator reinforce",
    trainWith({ estimator: "reinforce" }),
    RangeError,
    'estimator must be one of "pathwise", "score"; got "reinforce"',
  ],
  [
    "estimator score for an AE",
    trainWith({ kind: "ae", estimator: "score" }),
    RangeError,
    'estimator "score" trains a VAE on the (beta-)ELBO; got kind "ae"',
  ],
  [
    "criticSteps 0",
    trainWith({ kind: "gan", criticSteps: 0 }),
    RangeError,
    "criticSteps must be a positive integer; got 0",
  ],
  ["beta1 1", trainWith({ kind: "gan", beta1: 1 }), RangeError, "beta1 must be in [0, 1); got 1"],
  [
    "two threads for a GAN",
    () => train(data, { ...SMALL, kind: "gan" } as TrainConfig, { workers: 2 }),
    RangeError,
    'workers: 2 trains only kind "ae" or "vae", not conditional; got "gan"',
  ],
  [
    "two threads for a conditional VAE",
    () => train(data, { ...SMALL, conditional: true } as TrainConfig, { workers: 2 }),
    RangeError,
    'workers: 2 trains only kind "ae" or "vae", not conditional; got conditional: true',
  ],
  [
    "arch resnet",
    trainWith({ arch: "resnet" }),
    RangeError,
    'arch must be one of "mlp", "conv"; got "resnet"',
  ],
  [
    "clipNorm 0",
    trainWith({ clipNorm: 0 }),
    RangeError,
    "clipNorm must be a positive number; got 0",
  ],
  [
    "capacity gamma -1",
    trainWith({ capacity: { gamma: -1, target: 5 } }),
    RangeError,
    "capacity.gamma must be a positive number; got -1",
  ],
  [
    "workers 3",
    () => train(data, SMALL, { workers: 3 as 1 }),
    RangeError,
    'workers must be one of 1, 2, "auto"; got 3',
  ],
  // The data handed to training and measurement.
  [
    "pixels above 1 (Bernoulli)",
    () => train({ train: broken((s) => void (s.images[5] = 1.5)) }, SMALL),
    RangeError,
    "train.images[5] (image 0) is 1.5; pixels must be in [0, 1]",
  ],
  [
    "a NaN pixel",
    () =>
      train({ train: broken((s) => void (s.images[800] = NaN)) }, {
        ...SMALL,
        likelihood: "gaussian",
      }),
    RangeError,
    "train.images[800] (image 1) is NaN; pixels must be finite",
  ],
  [
    "a label of 10",
    () => train({ train: data.train, test: broken((s) => void (s.labels[2] = 10)) }, SMALL),
    RangeError,
    "test.labels[2] is 10; labels must be digits 0-9",
  ],
  [
    "images one pixel short",
    () => train({ train: broken((s) => ({ images: s.images.subarray(1) })) }, SMALL),
    RangeError,
    "train.images must hold size * 784 = 6272 pixels; got 6271",
  ],
  [
    "labels too few",
    () => train({ train: broken((s) => ({ labels: s.labels.subarray(1) })) }, SMALL),
    RangeError,
    "train.labels must hold size = 8 labels; got 7",
  ],
  [
    "images as a plain array",
    () =>
      train(
        { train: broken((s) => ({ images: Array.from(s.images) as unknown as Float32Array })) },
        SMALL,
      ),
    TypeError,
    "train.images must be a Float32Array; got Array",
  ],
  [
    "an empty split",
    () =>
      evaluate(model, { images: new Float32Array(0), labels: new Uint8Array(0), size: 0 }, SMALL),
    RangeError,
    "data.size must be a positive integer; got 0",
  ],
  [
    "no split at all",
    () => encodeAll(model, undefined as unknown as Dataset),
    TypeError,
    "data must be a split { images, labels, size }; got undefined",
  ],
  [
    "evaluation batch 0",
    () => evaluate(model, data.test, { ...SMALL, evaluationBatch: 0 }),
    RangeError,
    "evaluationBatch must be a positive integer; got 0",
  ],
  // Measurements.
  [
    "k 0",
    () => iwaeEstimate(model, data.test, { k: 0 }),
    RangeError,
    "k must be a positive integer; got 0",
  ],
  [
    "k 1.5",
    () => iwaeEstimate(model, data.test, { k: 1.5 }),
    RangeError,
    "k must be a positive integer; got 1.5",
  ],
  [
    "IWAE of an AE",
    () => iwaeEstimate(autoencoder, data.test, { k: 5 }),
    TypeError,
    'importanceCurve needs a VAE; got a model of kind "ae"',
  ],
  [
    "IWAE limit 0",
    () => iwaeEstimate(model, data.test, { k: 5, limit: 0 }),
    RangeError,
    "limit must be a positive integer; got 0",
  ],
  [
    "prior codes n 0",
    () => priorCodes({ latentSize: 2, n: 0, seed: 1 }),
    RangeError,
    "n must be a positive integer; got 0",
  ],
  [
    "prior codes seed 0.5",
    () => priorCodes({ latentSize: 2, n: 4, seed: 0.5 }),
    RangeError,
    "seed must be an integer; got 0.5",
  ],
  [
    "aggregate posterior n -1",
    () => aggregatePosteriorCodes(encodeAll(model, data.test), { n: -1, seed: 0 }),
    RangeError,
    "n must be a positive integer; got -1",
  ],
  [
    "noise -1",
    () => noisyImages(data.test, { noise: -1, seed: 0 }),
    RangeError,
    "noise must be a non-negative number; got -1",
  ],
  [
    "interpolation of 1 step",
    () => interpolateCodes([0, 0], [1, 1], { steps: 1 }),
    RangeError,
    "steps must be an integer >= 2; got 1",
  ],
  [
    "latent grid side 0",
    () => latentGridCodes(0),
    RangeError,
    "side must be a positive integer; got 0",
  ],
  [
    "traversal of unit 5 of 2",
    () => traversalCodes([0, 0], { units: [5], steps: 3 }),
    RangeError,
    "units[0] must be a unit in [0, 2); got 5",
  ],
  // Data loading, batching, backend, optimizer, grid, profile.
  [
    "data source s3",
    () => loadMnist({ source: "s3" as "full" }),
    RangeError,
    'source must be one of "auto", "embedded", "full", "idx"; got "s3"',
  ],
  [
    "train size 0",
    () => loadMnist({ source: "embedded", trainSize: 0 }),
    RangeError,
    "trainSize must be a positive integer; got 0",
  ],
  [
    "test size 20000 of 2000",
    () => loadMnist({ source: "embedded", testSize: 20000 }),
    RangeError,
    "testSize",
  ],
  [
    "binarize maybe",
    () => loadMnist({ binarize: "maybe" as "none" }),
    RangeError,
    'binarize must be one of "none", "static"; got "maybe"',
  ],
  [
    "batches of 0",
    () => batches(data.test, 0),
    RangeError,
    "batchSize must be a positive integer; got 0",
  ],
  [
    "subset index 99 of 32",
    () => subset(data.test, [0, 99]),
    RangeError,
    "indices[1] must be an integer in [0, 32); got 99",
  ],
  [
    "backend tpu",
    () => initBackend({ backend: "tpu" as "wasm" }),
    RangeError,
    'backend must be one of "wasm", "cpu", "webgpu", "auto"; got "tpu"',
  ],
  ["Adam beta1 1", () => new Adam({ beta1: 1 }), RangeError, "beta1 must be in [0, 1); got 1"],
  [
    "grid concurrency 0",
    () => runGrid(data, [{ name: "a", config: SMALL }], { concurrency: 0 }),
    RangeError,
    'concurrency must be a positive integer or "auto"; got 0',
  ],
  [
    "cache run of epochs 0",
    () => runOrLoad(data, { ...SMALL, epochs: 0 }),
    RangeError,
    "epochs must be a positive integer; got 0",
  ],
];

Deno.test(`${ROWS.length} bad inputs to the library each throw the right error, naming the field and the value`, async () => {
  assert(ROWS.length >= 40);
  const wrong: string[] = [];
  for (const [name, call, expected, words] of ROWS) {
    const before = tf.memory().numTensors;
    let error: unknown;
    try {
      await call();
    } catch (caught) {
      error = caught;
    }
    const message = (error as Error | undefined)?.message ?? "no error";
    if (!(error instanceof expected) || !message.includes(words)) {
      wrong.push(`${name}: ${(error as Error)?.name ?? "no error"}: ${message}`);
    }
    // Refused before any work: no tensor was left behind.
    const leaked = tf.memory().numTensors - before;
    if (leaked) wrong.push(`${name}: ${leaked} tensor(s) left`);
  }
  assertEquals(wrong, []);
});

/** `deno task train ARGS` (the CLI itself), its exit code and stderr. */
async function cli(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../tools/train.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stderr: decode(output.stderr), stdout: decode(output.stdout) };
}

const CLI_ROWS: [string[], string][] = [
  [["--beta", "-1"], "train: --beta must be a non-negative number; got -1"],
  [["--beta=-1"], "train: --beta must be a non-negative number; got -1"],
  [["--latent", "0"], "train: --latent must be a positive integer; got 0"],
  [["--latent", "two"], 'train: --latent must be a number; got "two"'],
  [["--epochs", "-3"], "train: --epochs must be a positive integer; got -3"],
  [["--lr", "-.5"], "train: --lr must be a positive number; got -0.5"],
  [["--seed", "1.5"], "train: --seed must be an integer; got 1.5"],
  [
    ["--model", "flow"],
    'train: --model must be one of "ae", "vae", "aae", "gan", "classifier", "vqvae", "vaegan"; got "flow"',
  ],
  [
    ["--model", "vae", "--critic-steps", "2"],
    "train: --critic-steps applies to --model gan; got --model vae",
  ],
  [
    ["--model", "gan", "--critic-steps", "0"],
    "train: --critic-steps must be a positive integer; got 0",
  ],
  [
    ["--model", "vae", "--feature-matching"],
    "train: --feature-matching applies to --model gan; got --model vae",
  ],
  [
    ["--model", "gan", "--arch", "conv", "--feature-matching"],
    'train: featureMatching applies to the unconditional MLP GAN; got "gan", "conv"',
  ],
  [
    ["--model", "gan", "--arch", "conv", "--minibatch-discrimination"],
    'train: minibatchDiscrimination applies to the unconditional MLP GAN; got "gan", "conv"',
  ],
  [
    ["--model", "gan", "--critic-arch", "conv"],
    "train: --critic-arch applies to --model vaegan; got --model gan",
  ],
  [
    ["--model", "vaegan", "--critic-arch", "deep"],
    'train: --critic-arch must be one of "mlp", "conv"; got "deep"',
  ],
  [
    ["--model", "gan", "--gan-loss", "wasserstein"],
    'train: --gan-loss must be one of "non-saturating", "saturating"; got "wasserstein"',
  ],
  [
    ["--model", "gan", "--real-targets", "0.9"],
    'train: --real-targets must be two numbers A,B; got "0.9"',
  ],
  [
    ["--model", "gan", "--label-smoothing", "0.6"],
    "train: labelSmoothing must be below 0.5; got 0.6",
  ],
  [
    ["--generator-noise", "fresh"],
    "train: --generator-noise applies to --model gan; got --model vae",
  ],
  [["--prior", "flow"], 'train: --prior must be one of "normal", "mixture"; got "flow"'],
  [["--components", "3"], "train: --components needs --prior mixture"],
  [
    ["--sigma", "0.2", "--scale", "0.3"],
    "train: --sigma and --scale are one setting (the pixel scale): give one",
  ],
  [
    ["--model", "ae", "--codebook", "8"],
    "train: --codebook applies to --model vqvae; got --model ae",
  ],
  [["--beta1", "1"], "train: beta1 must be in [0, 1); got 1"],
  [
    ["--config", "run.json", "--beta", "2"],
    "train: --config takes the run's own config and data; drop --beta",
  ],
  [["--workers", "3"], 'train: --workers must be one of "1", "2", "auto"; got "3"'],
  [
    ["--backend", "tpu"],
    'train: --backend must be one of "wasm", "cpu", "webgpu", "auto"; got "tpu"',
  ],
  [["--data", "s3"], 'train: --data must be one of "auto", "embedded", "full", "idx"; got "s3"'],
  [["--iwae", "0"], "train: --iwae must be a positive integer; got 0"],
  [["--model", "ae", "--iwae", "10"], "train: --iwae applies to --model vae; got --model ae"],
  [
    ["--estimator", "reinforce"],
    'train: --estimator must be one of "pathwise", "score"; got "reinforce"',
  ],
  [
    ["--model", "ae", "--estimator", "score"],
    "train: --estimator applies to --model vae; got --model ae",
  ],
  [["--train-size", "-10"], "train: --train-size must be a positive integer; got -10"],
  [["--bogus"], "train: Unknown option '--bogus'"],
];

Deno.test(`${CLI_ROWS.length} bad flags: one line on stderr, no stack trace, a non-zero exit, nothing trained`, async () => {
  // Two at a time: each is a Deno process that imports the library.
  for (let i = 0; i < CLI_ROWS.length; i += 2) {
    const rows = CLI_ROWS.slice(i, i + 2);
    const results = await Promise.all(rows.map(([args]) => cli(args)));
    results.forEach(({ code, stderr, stdout }, j) => {
      const [args, line] = rows[j];
      assertEquals(stderr.trimEnd().split("\n"), [line], args.join(" "));
      assertEquals([code, stdout], [1, ""], args.join(" "));
    });
  }
});
