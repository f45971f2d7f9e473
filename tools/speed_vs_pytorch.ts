/**
 * Training speed against PyTorch as users install it (`pip install torch`), measured side by side
 * in one run: for each of the lab's two reference VAEs (the MLP 784-400-20 and the conv VAE),
 * `--rounds` rounds on the same synthetic images, each side in its own process and timing its
 * last epochs after a warm-up one. A round runs, in turn: ours (`train()`'s default: two threads
 * on this backend, the products on the system's BLAS), ours on our wasm product
 * (`VAELAB_BLAS=off`), and PyTorch's recipe (`tools/pytorch_speed.py`) at each thread setting.
 * It prints every round, the median ratio against each PyTorch setting and against the
 * fastest, and what the numbers came from (processor, product, PyTorch's version and BLAS).
 *
 *   deno run -A tools/speed_vs_pytorch.ts [--rounds 3] [--arch mlp|conv|both] [--threads 1,2]
 *
 * The Python is `VAELAB_PYTHON`, else the first of `.venv-torch/bin/python`, `python3` and
 * `/usr/bin/python3` that imports torch; with none, the tool makes `.venv-torch` (git-ignored)
 * and installs torch and numpy into it with pip, or, when that fails, measures ours alone.
 * PyTorch runs with `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` unset.
 * @module
 */
import { parseArgs } from "node:util";
import { initBackend, productInfo, repoUrl, rng, train, TRAIN_DEFAULTS } from "../lib/mod.ts";
import type { TrainConfig } from "../lib/mod.ts";

/** The two architectures compared and the data each trains on per epoch. */
const ARCHS = {
  mlp: { images: 8192, epochs: 2, config: { ...TRAIN_DEFAULTS } },
  // 50 steps an epoch: with the warm-up epoch, 100 steps, so `train()` takes two threads as on
  // real data.
  conv: { images: 6400, epochs: 1, config: { ...TRAIN_DEFAULTS, arch: "conv" } },
} as const satisfies Record<string, { images: number; epochs: number; config: TrainConfig }>;
type Arch = keyof typeof ARCHS;

/** One side's measurement, as both children print it. */
interface Speed {
  imagesPerSecond: number;
  threads: number;
  product?: string;
}

const PYTORCH_SCRIPT = new URL("./pytorch_speed.py", import.meta.url).pathname;
const SELF = new URL(import.meta.url).pathname;
const VENV = repoUrl(".venv-torch/").pathname;

/** `n` images of uniform noise in [0, 1], written as raw float32 to a temporary file. */
function writeImages(n: number, seed: number): string {
  const random = rng(seed);
  const images = new Float32Array(n * 784);
  for (let i = 0; i < images.length; i++) images[i] = random();
  const path = Deno.makeTempFileSync({ prefix: "vaelab-speed-", suffix: ".f32" });
  Deno.writeFileSync(path, new Uint8Array(images.buffer));
  return path;
}

/** Ours, in this process: one warm-up epoch, then `epochs` timed by the epoch callbacks. */
async function oursChild(arch: Arch, data: string): Promise<Speed> {
  await initBackend({ backend: "wasm", quiet: true });
  const { epochs, config } = ARCHS[arch];
  const images = new Float32Array(Deno.readFileSync(data).buffer);
  const size = images.length / 784;
  const marks: number[] = [];
  const result = await train(
    { train: { images, labels: new Uint8Array(size), size } },
    { ...config, epochs: epochs + 1 },
    { progressEvery: 1e9, onEpoch: () => void marks.push(performance.now()) },
  );
  const seconds = (marks[epochs] - marks[0]) / 1000;
  return {
    imagesPerSecond: (size * epochs) / seconds,
    threads: result.workers,
    product: result.product,
  };
}

/** Run a child process with `env` set and the `unset` variables removed; parse its last line. */
async function runChild(
  command: string,
  args: string[],
  { env = {}, unset = [] }: { env?: Record<string, string>; unset?: string[] } = {},
): Promise<Speed> {
  const output = await new Deno.Command("env", {
    args: [...unset.flatMap((name) => ["-u", name]), command, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  if (!output.success) {
    const error = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-3).join("\n");
    throw new Error(`${command} ${args.join(" ")} failed:\n${error}`);
  }
  return JSON.parse(text.split("\n").at(-1)!) as Speed;
}

async function importsTorch(python: string): Promise<boolean> {
  try {
    const probe = await new Deno.Command(python, {
      args: ["-c", "import torch"],
      stdout: "null",
      stderr: "null",
    }).output();
    return probe.success;
  } catch {
    return false; // not installed: try the next
  }
}

/** The first Python that imports torch; else one made in `.venv-torch`, or undefined. */
async function findPython(): Promise<string | undefined> {
  const venvPython = `${VENV}bin/python`;
  const candidates = [Deno.env.get("VAELAB_PYTHON"), venvPython, "python3", "/usr/bin/python3"];
  for (const python of candidates) {
    if (python && await importsTorch(python)) return python;
  }
  console.log(
    `speed vs PyTorch: no Python imports torch; making ${VENV} (pip install torch numpy)`,
  );
  const steps: [string, string[]][] = [
    ["python3", ["-m", "venv", VENV]],
    [venvPython, ["-m", "pip", "install", "--quiet", "--retries", "0", "torch", "numpy"]],
  ];
  for (const [command, args] of steps) {
    try {
      const done = await new Deno.Command(command, { args, stdout: "inherit", stderr: "inherit" })
        .output();
      if (!done.success) throw new Error(`exit ${done.code}`);
    } catch (error) {
      console.log(`speed vs PyTorch: ${command} ${args.join(" ")} failed (${error}); ours alone`);
      return undefined;
    }
  }
  return await importsTorch(venvPython) ? venvPython : undefined;
}

/** PyTorch's version and what its products and convolutions run on. */
async function describeTorch(python: string): Promise<string> {
  const script = "import torch, re\n" +
    "c = torch.__config__.show()\n" +
    "blas = re.search(r'BLAS_INFO=(\\w+)', c)\n" +
    "cpu = re.search(r'CPU capability usage: (\\w+)', c)\n" +
    "dnn = re.search(r'(MKL-DNN|oneDNN) v?([\\d.]+)', c)\n" +
    "print(f\"PyTorch {torch.__version__}, BLAS {blas.group(1) if blas else '?'}, \" +\n" +
    "      f\"{'oneDNN ' + dnn.group(2) if dnn else 'no oneDNN'}, CPU capability \" +\n" +
    "      f\"{cpu.group(1) if cpu else '?'}, default threads {torch.get_num_threads()}\")";
  const out = await new Deno.Command(python, { args: ["-c", script], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** The processor's model name (lscpu), or the OS and architecture elsewhere. */
async function describeProcessor(): Promise<string> {
  try {
    const out = await new Deno.Command("lscpu", { stdout: "piped", stderr: "null" }).output();
    const model = new TextDecoder().decode(out.stdout).match(/Model name:\s*(.+)/)?.[1]?.trim();
    const flags = new TextDecoder().decode(out.stdout).match(/Flags:\s*(.+)/)?.[1] ?? "";
    const simd = flags.includes("avx512f") ? "AVX-512" : flags.includes("avx2") ? "AVX2" : "";
    if (model) return `${model}${simd ? ` (${simd})` : ""}, ${navigator.hardwareConcurrency} cores`;
  } catch {
    // not Linux
  }
  return `${Deno.build.os} ${Deno.build.arch}, ${navigator.hardwareConcurrency} cores`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmt = (x: number) => Math.round(x).toLocaleString("en-US");

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "3" },
      arch: { type: "string", default: "both" },
      threads: { type: "string", default: "1,2" },
      child: { type: "string" },
      data: { type: "string" },
    },
  });
  if (values.child !== undefined) {
    const arch = values.child as Arch;
    console.log(JSON.stringify(await oursChild(arch, values.data!)));
    Deno.exit(0); // a worker left running must not keep the child alive
  }
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`--rounds must be a positive integer; got "${values.rounds}"`);
  }
  if (!["mlp", "conv", "both"].includes(values.arch!)) {
    throw new RangeError(`--arch must be mlp, conv or both; got "${values.arch}"`);
  }
  const threads = values.threads!.split(",").map(Number);
  if (threads.some((t) => !Number.isInteger(t) || t < 1)) {
    throw new RangeError(`--threads must list positive integers; got "${values.threads}"`);
  }
  const archs: Arch[] = values.arch === "both" ? ["mlp", "conv"] : [values.arch as Arch];
  await initBackend({ backend: "wasm", quiet: true });
  const python = await findPython();
  console.log(`machine: ${await describeProcessor()}`);
  console.log(`ours: wasm backend, products on ${productInfo().description}`);
  if (python !== undefined) console.log(`PyTorch: ${await describeTorch(python)} (${python})`);
  for (const arch of archs) {
    const { images, epochs, config } = ARCHS[arch];
    const data = writeImages(images, 1);
    const torchArgs = (t: number) => [
      PYTORCH_SCRIPT,
      ...["--arch", arch, "--data", data, "--epochs", String(epochs), "--threads", String(t)],
      ...["--hidden", String(config.hiddenSize), "--latent", String(config.latentSize)],
    ];
    const oursArgs = ["run", "-A", SELF, "--child", arch, "--data", data];
    console.log(
      `\n${arch} VAE (hidden ${config.hiddenSize}, latent ${config.latentSize}, batch ` +
        `${config.batchSize}), ${images} synthetic images, ${epochs} timed epoch(s) after one ` +
        `warm-up, images per second:`,
    );
    const ours: number[] = [];
    const wasm: number[] = [];
    const torch = new Map<number, number[]>(threads.map((t) => [t, []]));
    for (let round = 1; round <= rounds; round++) {
      const mine = await runChild(Deno.execPath(), oursArgs);
      const noBlas = await runChild(Deno.execPath(), oursArgs, { env: { VAELAB_BLAS: "off" } });
      ours.push(mine.imagesPerSecond);
      wasm.push(noBlas.imagesPerSecond);
      let line = `  round ${round}: ours ${fmt(mine.imagesPerSecond)} (${mine.threads} ` +
        `thread${mine.threads > 1 ? "s" : ""}, ${mine.product}), ours on wasm ` +
        `${fmt(noBlas.imagesPerSecond)}`;
      for (const t of python === undefined ? [] : threads) {
        const result = await runChild(python!, torchArgs(t), {
          unset: ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"],
        });
        torch.get(t)!.push(result.imagesPerSecond);
        line += `, PyTorch ${t} thread${t > 1 ? "s" : ""} ${fmt(result.imagesPerSecond)}`;
      }
      console.log(line);
    }
    const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]));
    console.log(
      `  median ours ${fmt(median(ours))}; with the BLAS / without: ${
        ratio(ours, wasm).toFixed(2)
      }x`,
    );
    if (python !== undefined) {
      const medians = threads.map((t) => [t, median(torch.get(t)!)] as const);
      const [fastest] = [...medians].sort((a, b) => b[1] - a[1])[0];
      for (const [t, m] of medians) {
        const best = t === fastest ? " (PyTorch's fastest here)" : "";
        console.log(
          `  PyTorch ${t} thread${t > 1 ? "s" : ""}: median ${fmt(m)}; ours / PyTorch ` +
            `${ratio(ours, torch.get(t)!).toFixed(2)}x${best}`,
        );
      }
    }
    Deno.removeSync(data);
  }
}

if (import.meta.main) await main();
