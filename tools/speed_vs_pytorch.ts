/**
 * Training speed against PyTorch, measured side by side in one run: for each of the lab's two
 * reference VAEs (the MLP 784-400-20 and the convolutional one), `--rounds` alternating pairs
 * (ours, then PyTorch's `tools/pytorch_speed.py`) on the same synthetic images, each in its own
 * process, each timing its last `--epochs` epochs after one warm-up epoch. Prints every pair's
 * ratio and the median. Without PyTorch it says so and measures ours alone.
 *
 *   deno run -A tools/speed_vs_pytorch.ts [--rounds 3] [--arch mlp|conv|both] [--threads N]
 *
 * `--threads` sets PyTorch's threads (default: its own, one per core); ours uses `train()`'s
 * default (two data-parallel workers on this backend). The Python is `VAELAB_PYTHON`, else the
 * first of `python3` and `/usr/bin/python3` that imports torch. PyTorch runs with
 * `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` unset (set, they slow Debian's OpenBLAS down).
 * @module
 */
import { parseArgs } from "node:util";
import { initBackend, rng, train, TRAIN_DEFAULTS, type TrainConfig } from "../lib/mod.ts";

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
}

const PYTORCH_SCRIPT = new URL("./pytorch_speed.py", import.meta.url).pathname;
const SELF = new URL(import.meta.url).pathname;

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
  return { imagesPerSecond: (size * epochs) / seconds, threads: result.workers };
}

/** Run a child process, with the `unset` variables removed, and parse its last JSON line. */
async function runChild(command: string, args: string[], unset: string[] = []): Promise<Speed> {
  const output = await new Deno.Command("env", {
    args: [...unset.flatMap((name) => ["-u", name]), command, ...args],
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

/** The first Python that imports torch, or undefined. */
async function findPython(): Promise<string | undefined> {
  const candidates = [Deno.env.get("VAELAB_PYTHON"), "python3", "/usr/bin/python3"];
  for (const python of candidates) {
    if (!python) continue;
    try {
      const probe = await new Deno.Command(python, {
        args: ["-c", "import torch"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (probe.success) return python;
    } catch {
      // not installed: try the next
    }
  }
  return undefined;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "3" },
      arch: { type: "string", default: "both" },
      threads: { type: "string" },
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
  const archs: Arch[] = values.arch === "both" ? ["mlp", "conv"] : [values.arch as Arch];
  const python = await findPython();
  if (python === undefined) {
    console.log(
      "speed vs PyTorch: PyTorch is not installed (no python3 imports torch); measuring ours " +
        "alone. On Debian: apt-get install python3-torch libopenblas0-pthread",
    );
  }
  for (const arch of archs) {
    const { images, epochs, config } = ARCHS[arch];
    const data = writeImages(images, 1);
    const torchArgs = [
      PYTORCH_SCRIPT,
      ...["--arch", arch, "--data", data, "--epochs", String(epochs)],
      ...["--hidden", String(config.hiddenSize), "--latent", String(config.latentSize)],
      ...(values.threads ? ["--threads", values.threads] : []),
    ];
    const ratios: number[] = [];
    console.log(
      `\n${arch} VAE (hidden ${config.hiddenSize}, latent ${config.latentSize}, batch ` +
        `${config.batchSize}), ${images} synthetic images, ${epochs} timed epoch(s) after one ` +
        `warm-up, images per second:`,
    );
    for (let round = 1; round <= rounds; round++) {
      const ours = await runChild(Deno.execPath(), [
        ...["run", "-A", SELF, "--child", arch, "--data", data],
      ]);
      let line = `  round ${round}: ours ${ours.imagesPerSecond.toFixed(0)} (${ours.threads} ` +
        `thread${ours.threads > 1 ? "s" : ""})`;
      if (python !== undefined) {
        const torch = await runChild(python, torchArgs, ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]);
        const ratio = ours.imagesPerSecond / torch.imagesPerSecond;
        ratios.push(ratio);
        line += `, PyTorch ${torch.imagesPerSecond.toFixed(0)} (${torch.threads} threads), ` +
          `ratio ${ratio.toFixed(2)}x`;
      }
      console.log(line);
    }
    if (ratios.length) console.log(`  median ratio, ours / PyTorch: ${median(ratios).toFixed(2)}x`);
    Deno.removeSync(data);
  }
}

if (import.meta.main) await main();
