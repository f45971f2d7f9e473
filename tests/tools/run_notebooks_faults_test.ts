/**
 * The notebook runner and the kernel under faults, with a real Jupyter and Deno kernel: a kernel
 * that dies, a cell that hangs, a kernel that is missing or cannot start, and the interrupt
 * button during training. Skipped (with a warning) where Jupyter is not installed, unless
 * VAELAB_REQUIRE_JUPYTER=1 (as in CI), which makes a missing Jupyter a failure.
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { JUPYTER, jupyterPython } from "../../tools/run_notebooks.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const RUNNER = new URL("../../tools/run_notebooks.ts", import.meta.url).pathname;

async function hasJupyter(): Promise<boolean> {
  try {
    const specs = await new Deno.Command(JUPYTER, { args: ["kernelspec", "list", "--json"] })
      .output();
    return specs.success &&
      "deno" in JSON.parse(new TextDecoder().decode(specs.stdout)).kernelspecs;
  } catch {
    return false;
  }
}

const required = Deno.env.get("VAELAB_REQUIRE_JUPYTER") === "1";
const ready = await hasJupyter();
if (!ready) {
  console.warn(
    required
      ? "runner_faults_test: Jupyter and the Deno kernel are required here but missing"
      : "runner_faults_test: skipped: no Jupyter with the Deno kernel (deno task reproduce installs them)",
  );
}
const ignore = !ready && !required;

/** A notebook of code cells for the Deno kernel. */
function notebook(...cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((source) => ({
      cell_type: "code",
      execution_count: null,
      metadata: {},
      outputs: [],
      source,
    })),
    metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

/** Run the runner; its exit code and what it printed. */
async function runner(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    // Installing is reproduce's job, not the tests': nothing is installed from here.
    args: ["run", "-A", RUNNER, "--no-install", ...args],
    env: { VAELAB_PROFILE: "quick", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** The text outputs of each cell of an executed notebook. */
async function outputs(path: string): Promise<string[]> {
  const executed = JSON.parse(await Deno.readTextFile(path));
  return executed.cells.map((cell: { outputs: { text?: string | string[] }[] }) =>
    cell.outputs.map((o) => [o.text ?? ""].flat().join("")).join("")
  );
}

Deno.test({
  name:
    "a dying kernel, a hanging cell and a missing kernel each fail their notebook by name and cell, outputs kept",
  ignore,
  fn: async () => {
    assert(ready, "Jupyter and the Deno kernel must be installed (deno task reproduce does it)");
    const dir = await Deno.makeTempDir();
    const out = `${dir}/out`;
    const first = 'console.log("first cell ran");';
    await Deno.writeTextFile(`${dir}/a_dies.ipynb`, notebook(first, "Deno.exit(3);", "1 + 1;"));
    await Deno.writeTextFile(
      `${dir}/b_hangs.ipynb`,
      notebook(first, "await new Promise(() => setInterval(() => {}, 1000));", "1 + 1;"),
    );
    await Deno.writeTextFile(`${dir}/c_fine.ipynb`, notebook(first, "1 + 1;"));
    const { code, stdout } = await runner(["--timeout", "5", "--out", out, dir]);
    assertEquals(code, 1, stdout);
    assertStringIncludes(
      stdout,
      "a_dies.ipynb: execution stopped: cell 2 (Deno.exit(3);): DeadKernelError",
    );
    assertStringIncludes(
      stdout,
      "b_hangs.ipynb: execution stopped: cell 2 (await new Promise(() => setInterval(() => {}, " +
        "1000));): CellTimeoutError: A cell timed out while it was being executed, after 5 seconds",
    );
    assert(/^ok {4}c_fine\.ipynb/m.test(stdout), stdout);
    assertStringIncludes(stdout, "notebooks: 1 passed, 2 failed");
    // The executed copies keep what ran before the fault.
    for (const name of ["a_dies", "b_hangs"]) {
      assertEquals((await outputs(`${out}/${name}.ipynb`))[0], "first cell ran\n", name);
      await Deno.stat(`${out}/${name}.html`);
    }

    // A kernel that is not installed, and one whose program is gone (an npx cache cleared).
    const kernels = `${dir}/jupyter/kernels/vaelab-broken`;
    await Deno.mkdir(kernels, { recursive: true });
    await Deno.writeTextFile(
      `${kernels}/kernel.json`,
      JSON.stringify({
        argv: ["/nonexistent/deno", "jupyter", "--kernel", "--conn", "{connection_file}"],
        display_name: "broken",
        language: "typescript",
      }),
    );
    const notebookPath = `${dir}/c_fine.ipynb`;
    const missing = await runner(["--kernel", "vaelab-missing", "--out", out, notebookPath]);
    assertEquals(missing.code, 1);
    assertStringIncludes(
      missing.stdout,
      'c_fine.ipynb: execution stopped: kernel "vaelab-missing" did not start (before cell 1): ' +
        "NoSuchKernel",
    );
    const broken = await runner(["--kernel", "vaelab-broken", "--out", out, notebookPath], {
      JUPYTER_PATH: `${dir}/jupyter`,
    });
    assertEquals(broken.code, 1);
    assertStringIncludes(
      broken.stdout,
      'c_fine.ipynb: execution stopped: kernel "vaelab-broken" did not start (before cell 1): ' +
        "FileNotFoundError: [Errno 2] No such file or directory: '/nonexistent/deno'",
    );
    await Deno.remove(dir, { recursive: true });
  },
});

/**
 * In a Deno kernel started as JupyterLab starts it: a cell trains (40 epochs of synthetic
 * digits), the interrupt button is pressed 4 s in, then the next cells read what was kept.
 */
const INTERRUPT = `
import json, sys, time
from jupyter_client.manager import start_new_kernel

root = sys.argv[1]
km, kc = start_new_kernel(kernel_name="deno", cwd=root)
result = {}

def run(code, timeout=120):
    """Execute code; its reply and its result's text. Deno's kernel may publish the result after
    its idle status, so read until the result comes (or 10 s of nothing)."""
    msg_id = kc.execute(code)
    reply = kc.get_shell_msg(timeout=timeout)
    value = None
    deadline = time.monotonic() + 10
    while value is None and time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except Exception:
            continue
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_result":
            value = msg["content"]["data"]["text/plain"]
    return reply["content"], value

try:
    setup, _ = run(f'''
import {{ initBackend, lastInterruption, train, TRAIN_DEFAULTS }} from "{root}lib/mod.ts";
import {{ syntheticMnist }} from "{root}tests/synthetic.ts";
await initBackend({{ backend: "wasm", quiet: true }});
globalThis.before = 41;
''')
    result["setup"] = setup["status"]
    started = time.monotonic()
    msg_id = kc.execute('''
await train(syntheticMnist(2048, 256), {
  ...TRAIN_DEFAULTS, hiddenSize: 64, latentSize: 4, epochs: 4000, batchSize: 32,
}, { workers: 1 });
''')
    time.sleep(4)
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=60)
    result["training"] = reply["content"]["status"]
    result["error"] = reply["content"].get("evalue", "")
    result["seconds"] = time.monotonic() - started
    result["alive"] = km.is_alive()
    _, value = run("JSON.stringify([globalThis.before, lastInterruption().epoch, lastInterruption().history.length, lastInterruption().model.variables.length])")
    result["after"] = json.loads(json.loads(value.replace("\\x1b[32m", "").replace("\\x1b[39m", "")))
finally:
    km.shutdown_kernel(now=True)
print(json.dumps(result))
`;

Deno.test({
  name:
    "Jupyter's interrupt button stops a training cell; the kernel lives on with the model and history",
  ignore,
  fn: async () => {
    assert(ready, "Jupyter and the Deno kernel must be installed (deno task reproduce does it)");
    const output = await new Deno.Command(jupyterPython(), {
      args: ["-c", INTERRUPT, ROOT],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
    assertEquals(result.setup, "ok");
    assertEquals(result.training, "error", "the cell ends with TrainingInterrupted");
    assertStringIncludes(result.error, "training interrupted after epoch");
    assert(result.seconds < 30, `stopped ${result.seconds} s after it started`);
    assertEquals(result.alive, true);
    const [before, epoch, records, variables] = result.after;
    assertEquals(before, 41, "the kernel's state is kept");
    // Long enough (about 20 ms an epoch here) that the interrupt comes in the middle.
    assert(epoch >= 1 && epoch < 4000, `epoch ${epoch}`);
    assertEquals(records, 2 * (epoch - 1), "train and test records of every complete epoch");
    assertEquals(variables, 8);
  },
});
