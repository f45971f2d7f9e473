/**
 * Execute notebooks with Deno's Jupyter kernel and write executed copies and HTML reports.
 *
 *   deno task reproduce                          # every notebook in notebooks/, profile full
 *   VAELAB_PROFILE=quick deno task reproduce     # the quick profile (CI)
 *   deno task reproduce --out /tmp/out notebooks/01_autoencoder_vs_vae.ipynb
 *
 * Exits non-zero naming the notebook, the cell and the error when a cell fails.
 * @module
 */
import { parseArgs } from "node:util";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  findBlas,
  parseShard,
  PLOTLY_MIME,
  RUN_INFO_MIME,
  type Shard,
  TABLE_MIME,
} from "../lib/mod.ts";
import { standaloneReport } from "./report_math.ts";
import { commitOf, machineOf, type NotebookTables, resultsMarkdown } from "./results.ts";

const HELP = `Usage: deno task reproduce [options] [NOTEBOOK_OR_DIR...]

Executes notebooks (default: every *.ipynb in notebooks/) with the Deno kernel (nbclient),
and writes OUT/NAME.ipynb (executed, trusted), OUT/NAME.html (jupyter nbconvert, its math typeset
by KaTeX: it stands alone, offline) and
OUT/NAME.tables.json (every table the notebook showed, with the profile and the data it ran on).

  --out DIR          output folder (default out/)
  --timeout SECONDS  per-cell time limit (default 1200 for quick, 14400 for full)
  --keep-going       run the cells after a failing one too (default: stop there)
  --kernel NAME      the Jupyter kernel to run them with (default deno, registered when missing)
  --no-install       install nothing that is missing (OpenBLAS, Jupyter, the kernel, npm
                     packages); without OpenBLAS the products run our wasm kernels
  --shard I/N        train only the I-th of N shares of the runs the notebooks ask for (the
                     same split on every machine) and wait for the others' runs in the run cache
                     (VAELAB_RUNS, shared by the N processes); outputs go to OUT/shards/I-of-N/.
                     \`deno task grid NOTEBOOK --shard I/N\` is this: one per Slurm array task
  --help             this text

A notebook fails on a cell's error, on a cell that runs past the time limit, on a kernel that
dies or does not start; the message names the notebook and the cell, the executed copy keeps the
outputs of the cells that ran, and the exit status is 1.

Environment: VAELAB_PROFILE=quick|full (default full) is passed to the kernel;
JUPYTER names the jupyter command (default .venv/bin/jupyter, the project's environment that
tools/install_jupyter.sh makes).`;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The project's Jupyter, in the environment tools/install_jupyter.sh makes from requirements.txt. */
export const PROJECT_JUPYTER = join(ROOT, ".venv/bin/jupyter");
/** The jupyter command: $JUPYTER, else the project's. */
export const JUPYTER = Deno.env.get("JUPYTER") ?? PROJECT_JUPYTER;

/** One failing cell of an executed notebook. */
export interface CellFailure {
  /** 1-based position among all the notebook's cells. */
  cell: number;
  /** The cell's first non-empty source line. */
  firstLine: string;
  /** e.g. "TypeError: x is undefined". */
  error: string;
}

interface Notebook {
  cells: {
    cell_type: string;
    source: string | string[];
    execution_count?: number | null;
    outputs?: { output_type: string; ename?: string; evalue?: string; data?: object }[];
  }[];
}

/** The failing cells of an executed notebook: error outputs, and code cells never executed. */
export function notebookFailures(notebook: Notebook): CellFailure[] {
  const failures: CellFailure[] = [];
  const code = notebook.cells.map((cell, index) => ({ cell, index }))
    .filter(({ cell }) => cell.cell_type === "code" && source(cell).trim() !== "");
  const last = code.findLastIndex(({ cell }) => cell.execution_count != null);
  code.forEach(({ cell, index }, k) => {
    const firstLine = source(cell).split("\n").find((line) => line.trim() !== "")!.trim();
    for (const output of cell.outputs ?? []) {
      if (output.output_type === "error") {
        const error = stripAnsi(`${output.ename}: ${output.evalue}`);
        failures.push({ cell: index + 1, firstLine, error });
      }
    }
    if (cell.execution_count == null && k < last) {
      failures.push({ cell: index + 1, firstLine, error: "not executed" });
    }
  });
  // Execution stops at a failing cell: count the cells after it instead of listing each.
  const skipped = code.length - 1 - last;
  if (skipped > 0) {
    failures.push({ cell: 0, firstLine: "", error: `${skipped} later cell(s) not run` });
  }
  return failures;
}

function source(cell: Notebook["cells"][number]): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** How many outputs of a notebook are Plotly figures. */
export function countFigures(notebook: Notebook): number {
  return notebook.cells.flatMap((cell) => cell.outputs ?? [])
    .filter((output) => output.data && PLOTLY_MIME in output.data).length;
}

/** Every table a notebook displayed (in order, with its cell), and its run information. */
export function notebookTables(
  notebook: Notebook,
  { name, profile }: { name: string; profile: string },
): NotebookTables {
  const found: NotebookTables = { notebook: name, profile, run: null, tables: [] };
  notebook.cells.forEach((cell, index) => {
    for (const output of cell.outputs ?? []) {
      const data = (output.data ?? {}) as Record<string, unknown>;
      if (RUN_INFO_MIME in data) found.run ??= data[RUN_INFO_MIME] as Record<string, unknown>;
      if (TABLE_MIME in data) {
        const table = data[TABLE_MIME] as Omit<NotebookTables["tables"][number], "cell">;
        found.tables.push({ cell: index + 1, ...table });
      }
    }
  });
  return found;
}

function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

async function run(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const output = await new Deno.Command(command, {
      args,
      env: options.env,
      cwd: options.cwd,
      stdin: "null",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { ok: output.success, stdout: decode(output.stdout), stderr: decode(output.stderr) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { ok: false, stdout: "", stderr: `${command}: command not found` };
    }
    throw error;
  }
}

/**
 * The system BLAS the products run on: installed with apt-get where it is missing and can be
 * (tools/install_blas.sh); then say which product the notebooks will use.
 */
export async function prepareBlas(install = true): Promise<void> {
  if (install && findBlas().info.product === "wasm" && Deno.build.os === "linux") {
    await new Deno.Command("bash", {
      args: [join(ROOT, "tools/install_blas.sh")],
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
  }
  console.error(`vaelab: products on ${findBlas().info.description}`);
}

/**
 * Check OpenBLAS, jupyter nbconvert, the Deno kernelspec and plotly.js, installing what is
 * missing unless `install` is false.
 */
export async function prepare(kernel: string, install = true): Promise<void> {
  await prepareBlas(install);
  if (!install) return;
  if (JUPYTER === PROJECT_JUPYTER) {
    // The project's environment, made or brought up to requirements.txt (silent when it is), and
    // the kernel of the Deno running this (under npx, there is no deno on PATH).
    const install = await new Deno.Command("bash", {
      args: [join(ROOT, "tools/install_jupyter.sh")],
      env: { DENO: Deno.execPath() },
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!install.success) {
      throw new Error("tools/install_jupyter.sh failed (its messages are above)");
    }
    // It registered the Deno kernel too, when missing or stale.
    return await preparePlotly();
  }
  if (!(await run(JUPYTER, ["nbconvert", "--version"])).ok) {
    throw new Error(`JUPYTER=${JUPYTER}: "${JUPYTER} nbconvert" does not run`);
  }
  const specs = await run(JUPYTER, ["kernelspec", "list", "--json"]);
  // Another kernel is the caller's to install; a missing one fails each notebook, named.
  if (kernel !== "deno") return await preparePlotly();
  const deno = specs.ok ? JSON.parse(specs.stdout).kernelspecs?.deno : undefined;
  const argv0: string | undefined = deno?.spec?.argv?.[0];
  let stale = argv0 !== undefined;
  try {
    if (argv0 !== undefined) stale = !Deno.statSync(argv0).isFile;
  } catch {
    stale = true;
  }
  if (deno === undefined || stale) {
    console.error("vaelab: registering the Deno kernel (deno jupyter --install)");
    const install = await run(Deno.execPath(), ["jupyter", "--install", "--force"]);
    if (!install.ok) throw new Error(`deno jupyter --install failed:\n${install.stderr}`);
  }
  await preparePlotly();
}

/** Install the npm packages when plotly.js (which the HTML reports embed) is missing. */
async function preparePlotly(): Promise<void> {
  const plotly = join(ROOT, "node_modules/plotly.js-cartesian-dist-min/plotly-cartesian.min.js");
  try {
    Deno.statSync(plotly);
  } catch {
    console.error("vaelab: installing npm packages (deno install) for plotly.js");
    const install = await run(Deno.execPath(), ["install"], { cwd: ROOT });
    if (!install.ok) throw new Error(`deno install failed:\n${install.stderr}`);
  }
}

/** The notebooks named by the arguments (files, or folders of *.ipynb), sorted by name. */
function collect(paths: string[]): string[] {
  const found: string[] = [];
  for (const path of paths) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch {
      throw new Error(`no such notebook or folder: ${path}`);
    }
    if (info.isFile) {
      found.push(resolve(path));
      continue;
    }
    const names = [...Deno.readDirSync(path)]
      .filter((e) => e.isFile && e.name.endsWith(".ipynb") && !e.name.endsWith(".nbconvert.ipynb"))
      .map((e) => e.name)
      .sort();
    found.push(...names.map((name) => resolve(path, name)));
  }
  return found;
}

/**
 * Runs one notebook with nbclient: `python3 -c DRIVER IN OUT KERNEL TIMEOUT KEEP_GOING`.
 *
 * Not `jupyter nbconvert --execute`: Deno's kernel publishes a cell's result from a task that
 * races its "idle" status, and nbclient drops whatever comes after idle, so figures went missing
 * at random. This driver keeps reading for a quiet spell after idle and files late messages under
 * the cell they belong to. It stops at the first cell with an error unless KEEP_GOING is 1, and
 * writes the notebook in any case; it exits 1 (the reason on stderr) on a timeout or a dead kernel.
 */
const DRIVER = `
import asyncio, os, resource, sys, time
from queue import Empty
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete
from nbclient.util import ensure_async

QUIET = 0.25  # seconds without a message after a cell's idle status before the next cell
TTY = os.environ.get("VAELAB_PROGRESS_TTY") == "1"  # our output reaches a terminal
EVERY = 15  # seconds between two progress lines when it does not

class Client(NotebookClient):
    shown = False  # a progress line is on the terminal's last line
    last = 0.0

    def progress(self, line):
        """The notebook's progress display, live: in place on a terminal, a line now and then elsewhere."""
        now = time.monotonic()
        if TTY:
            sys.stdout.write("\\r    " + line[:150] + "\\x1b[K")
            sys.stdout.flush()
            self.shown = True
        elif now - self.last >= EVERY:
            print("    " + line[:150], flush=True)
            self.last = now

    def end_progress(self):
        if self.shown:
            sys.stdout.write("\\r\\x1b[K")
            self.shown = False

    def route(self, msg, current=None):
        if msg["msg_type"] in ("display_data", "update_display_data"):
            display_id = msg["content"].get("transient", {}).get("display_id", "")
            if display_id.startswith("vaelab-progress"):
                self.progress(msg["content"]["data"].get("text/plain", ""))
        msg_id = msg["parent_header"].get("msg_id")
        target = current if current and current[0] == msg_id else self.done.get(msg_id)
        if target is None:
            return False
        try:
            self.process_message(msg, target[1], target[2])
        except CellExecutionComplete:
            return True
        return False

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        current = (parent_msg_id, cell, cell_index)
        while not self.route(await ensure_async(self.kc.iopub_channel.get_msg(timeout=None)), current):
            pass
        self.done[parent_msg_id] = current
        while True:
            try:
                self.route(await ensure_async(self.kc.iopub_channel.get_msg(timeout=QUIET)))
            except Empty:
                return

class KernelStopped(Exception):
    """A cell timed out or the kernel died: already reported, with the cell."""

async def run(client, nb, keep_going):
    started = False
    try:
        async with client.async_setup_kernel():
            started = True
            return await run_cells(client, nb, keep_going)
    except KernelStopped:
        return 1
    except Exception as error:
        if started:
            raise
        # No such kernel, its program missing, or it died at once.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(f'vaelab-driver: kernel "{client.kernel_name}" did not start (before cell 1): '
              f"{type(error).__name__}: {reason}", file=sys.stderr)
        return 1

async def run_cells(client, nb, keep_going):
    reply = await client.async_wait_for_reply(await ensure_async(client.kc.kernel_info()))
    if reply and "language_info" in reply["content"]:
        nb.metadata["language_info"] = reply["content"]["language_info"]
    for index, cell in enumerate(nb.cells):
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        started = time.monotonic()
        try:
            await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        except Exception as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
            print(f"vaelab-driver: cell {index + 1} ({first}): {type(error).__name__}: {reason}",
                  file=sys.stderr)
            raise KernelStopped() from error
        client.end_progress()
        if cell.cell_type == "code" and first:
            print(f"  cell {index + 1}/{len(nb.cells)}  {time.monotonic() - started:7.1f} s  {first[:70]}",
                  flush=True)
        if not keep_going and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return 0
    return 0

def main():
    source, target, kernel, timeout, keep_going = sys.argv[1:6]
    nb = nbformat.read(source, as_version=4)
    client = Client(nb, kernel_name=kernel, timeout=int(timeout), allow_errors=True, record_timing=False,
                    resources={"metadata": {"path": os.path.dirname(os.path.abspath(source))}})
    client.done = {}
    try:
        status = asyncio.run(run(client, nb, keep_going == "1"))
    finally:
        nbformat.write(nb, target)
        # The kernel has exited and been waited for: its peak resident memory, in kB.
        print(f"vaelab-driver-peak-kb: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}",
              file=sys.stderr)
    sys.exit(status)

main()
`;

/** The Python that runs jupyter (from its #! line), so that nbclient is importable. */
export function jupyterPython(): string {
  const dirs = JUPYTER.includes("/") ? [""] : (Deno.env.get("PATH") ?? "").split(":");
  for (const dir of dirs) {
    try {
      const head = Deno.readTextFileSync(dir ? join(dir, JUPYTER) : JUPYTER).slice(0, 200);
      const line = head.split("\n")[0];
      if (!line.startsWith("#!")) continue;
      const words = line.slice(2).trim().split(/\s+/);
      return basename(words[0]) === "env" ? words[1] : words[0];
    } catch {
      // not in this directory
    }
  }
  return "python3";
}

/**
 * Sign a notebook so that classic Notebook runs its outputs' scripts (`jupyter trust`, which
 * Debian ships in another package, is `python3 -m nbformat.sign`).
 */
export async function trustNotebook(path: string): Promise<boolean> {
  return (await run(jupyterPython(), ["-m", "nbformat.sign", path])).ok;
}

/** Execute one notebook; returns its failures, the seconds it took and its figure count. */
async function execute(
  notebook: string,
  out: string,
  options: { env: Record<string, string>; timeout: number; keepGoing: boolean; kernel: string },
): Promise<{ failures: CellFailure[]; seconds: number; figures: number; peakMb?: number }> {
  const name = basename(notebook, ".ipynb");
  const executed = join(out, `${name}.ipynb`);
  const started = performance.now();
  const args = ["-c", DRIVER, notebook, executed, options.kernel, String(options.timeout)];
  // The driver's per-cell lines go to our stderr as they come; its stderr is kept for errors.
  const child = new Deno.Command(jupyterPython(), {
    args: [...args, options.keepGoing ? "1" : "0"],
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const [status, , stderr] = await Promise.all([
    child.status,
    child.stdout.pipeTo(Deno.stderr.writable, { preventClose: true }),
    new Response(child.stderr).text(),
  ]);
  const result = { ok: status.success, stderr };
  const seconds = (performance.now() - started) / 1000;
  const peak = stderr.match(/^vaelab-driver-peak-kb: (\d+)$/m);
  const peakMb = peak ? Number(peak[1]) / 1024 : undefined;
  let json: Notebook;
  try {
    json = JSON.parse(await Deno.readTextFile(executed));
  } catch {
    const error = `could not execute: ${
      stripAnsi(result.stderr.trim().split("\n").slice(-20).join("\n"))
    }`;
    return { failures: [{ cell: 0, firstLine: "", error }], seconds, figures: 0, peakMb };
  }
  const profile = options.env.VAELAB_PROFILE;
  await Deno.writeTextFile(
    join(out, `${name}.tables.json`),
    JSON.stringify(notebookTables(json, { name, profile }), null, 1) + "\n",
  );
  const trusted = await trustNotebook(executed);
  const html = await run(JUPYTER, ["nbconvert", "--to=html", `--output-dir=${out}`, executed]);
  if (html.ok) {
    // A report that stands alone: its math typeset now, nothing loaded from a CDN.
    const report = join(out, `${name}.html`);
    await Deno.writeTextFile(report, standaloneReport(await Deno.readTextFile(report)).html);
  }
  const failures = notebookFailures(json);
  if (!result.ok) {
    // A timeout or a dead kernel: the driver's line names the cell; else show the stderr's end.
    const lines = stripAnsi(result.stderr).trim().split("\n");
    const line = lines.findLast((l) => l.startsWith("vaelab-driver: "));
    const reason = line?.slice("vaelab-driver: ".length) ?? lines.slice(-20).join("\n");
    failures.unshift({ cell: 0, firstLine: "", error: `execution stopped: ${reason}` });
  }
  if (!trusted) failures.push({ cell: 0, firstLine: "", error: "could not sign (trust) it" });
  if (!html.ok) {
    failures.push({ cell: 0, firstLine: "", error: `HTML export failed:\n${html.stderr.trim()}` });
  }
  return { failures, seconds, figures: countFigures(json), peakMb };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string", default: join(ROOT, "out") },
      timeout: { type: "string" },
      "keep-going": { type: "boolean", default: false },
      kernel: { type: "string", default: "deno" },
      "no-install": { type: "boolean", default: false },
      shard: { type: "string" },
      help: { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  let shard: Shard | undefined;
  try {
    shard = values.shard === undefined ? undefined : parseShard(values.shard);
  } catch (error) {
    console.error(`vaelab: --shard: ${(error as Error).message}`);
    return 2;
  }
  if (Deno.env.get("VAELAB_GRID") === "1" && (!shard || positionals.length === 0)) {
    console.error("usage: deno task grid NOTEBOOK... --shard I/N (see deno task reproduce --help)");
    return 2;
  }
  const profile = Deno.env.get("VAELAB_PROFILE") || "full";
  if (profile !== "quick" && profile !== "full") {
    console.error(`VAELAB_PROFILE must be "quick" or "full"; got "${profile}"`);
    return 2;
  }
  const timeout = Number(values.timeout ?? (profile === "quick" ? 1200 : 14400));
  if (!(timeout > 0)) {
    console.error(`--timeout must be a positive number of seconds; got "${values.timeout}"`);
    return 2;
  }
  let notebooks: string[];
  try {
    notebooks = collect(positionals.length ? positionals : [join(ROOT, "notebooks")]);
  } catch (error) {
    console.error(`vaelab: ${(error as Error).message}`);
    return 2;
  }
  if (notebooks.length === 0) {
    console.error(`vaelab: no notebooks in ${positionals.join(" ") || "notebooks/"}`);
    return positionals.length ? 1 : 0;
  }
  await prepare(values.kernel!, !values["no-install"]);
  const out = shard
    ? join(resolve(values.out!), "shards", `${shard.index}-of-${shard.count}`)
    : resolve(values.out!);
  await Deno.mkdir(out, { recursive: true });
  // The kernel inherits this environment; NO_COLOR keeps ANSI codes out of saved tracebacks.
  const env = {
    VAELAB_PROFILE: profile,
    NO_COLOR: "1",
    // The driver shows the notebooks' progress displays live, in place when this is a terminal.
    VAELAB_PROGRESS_TTY: Deno.stderr.isTerminal() ? "1" : "0",
    ...(shard ? { VAELAB_SHARD: `${shard.index}/${shard.count}` } : {}),
  };
  const share = shard ? `, shard ${shard.index}/${shard.count} of the runs` : "";
  console.error(
    `vaelab: executing ${notebooks.length} notebook(s), profile ${profile}${share} -> ${out}`,
  );
  const failed: string[] = [];
  let failedNotebooks = 0;
  const commit = await commitOf(ROOT); // before the run: what it ran
  const seconds: Record<string, number> = {};
  for (const notebook of notebooks) {
    const name = basename(notebook);
    console.error(`vaelab: ${name}`);
    const { failures, seconds: took, figures, peakMb } = await execute(notebook, out, {
      env,
      timeout,
      keepGoing: values["keep-going"]!,
      kernel: values.kernel!,
    });
    seconds[basename(notebook, ".ipynb")] = took;
    const time = `${took.toFixed(1)} s` +
      (peakMb === undefined ? "" : `, kernel peak ${(peakMb / 1024).toFixed(2)} GB`);
    if (failures.length === 0) {
      console.log(`ok    ${name}  ${time}  ${figures} figure(s)`);
      continue;
    }
    console.log(`FAIL  ${name}  ${time}`);
    failedNotebooks += 1;
    for (const f of failures) {
      const where = f.cell ? `cell ${f.cell} (${f.firstLine})` : "";
      const message = `${name}: ${where}${where ? ": " : ""}${f.error}`;
      console.log(message.split("\n").map((line) => `      ${line}`).join("\n"));
      failed.push(message.split("\n")[0]);
    }
  }
  const passed = notebooks.length - failedNotebooks;
  console.log(`notebooks: ${passed} passed, ${failedNotebooks} failed`);
  // Every notebook, all passed: the results of a reproduction, in one file.
  const all = [...Deno.readDirSync(join(ROOT, "notebooks"))].filter((e) =>
    e.name.endsWith(".ipynb")
  );
  if (failedNotebooks === 0 && notebooks.length === all.length && !shard) {
    const tables = await Promise.all(
      notebooks.map(async (n) =>
        JSON.parse(await Deno.readTextFile(join(out, `${basename(n, ".ipynb")}.tables.json`)))
      ),
    );
    const date = new Date().toISOString().slice(0, 10);
    const context = { profile, commit, date, machine: machineOf(), seconds };
    await Deno.writeTextFile(join(out, "RESULTS.md"), resultsMarkdown(tables, context));
    console.error(`vaelab: wrote ${join(out, "RESULTS.md")}`);
  }
  if (failed.length) console.error(`first failure: ${failed[0]}`);
  return failed.length ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
