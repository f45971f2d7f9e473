/**
 * The real JupyterLab, from the project's environment (.venv/), driven in headless Chromium as a
 * user would drive it: open a notebook in a fresh workspace, Run > Run All Cells, wait until every
 * code cell has its execution count and the kernel is idle, then count what the page shows.
 * @module
 */
import type { Browser, Page } from "playwright-core";
import { join } from "node:path";

/** A running JupyterLab server: its URL, token and process. */
export interface Lab {
  url: string;
  token: string;
  process: Deno.ChildProcess;
  /** Its settings, workspaces and checkpoints, removed when it stops. */
  scratch: string;
}

/** Options of {@linkcode startLab}. */
export interface LabOptions {
  jupyter: string;
  /** The folder the server serves (the repository: notebooks import ../lib/mod.ts). */
  root: string;
  /** Where its log goes. */
  log: string;
  /** Extra environment for the server and its kernels (VAELAB_PROFILE). */
  env?: Record<string, string>;
  /** Disable jupyterlab-plotly: what a user without it sees. */
  withoutPlotly?: boolean;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Start JupyterLab on 127.0.0.1 with a random token. Autosave is off (its own settings folder),
 * so running the committed notebooks never writes them; workspaces and checkpoints go to a
 * scratch folder. Resolves when the server answers.
 */
export async function startLab(options: LabOptions): Promise<Lab> {
  const port = freePort();
  const token = crypto.randomUUID().replaceAll("-", "");
  const scratch = await Deno.makeTempDir({ prefix: "vaelab-lab-" });
  const settings = join(scratch, "settings/@jupyterlab/docmanager-extension");
  await Deno.mkdir(settings, { recursive: true });
  await Deno.writeTextFile(join(settings, "plugin.jupyterlab-settings"), '{ "autosave": false }');
  // No "get notified about Jupyter news?" toast over the screenshots.
  const apputils = join(scratch, "settings/@jupyterlab/apputils-extension");
  await Deno.mkdir(apputils, { recursive: true });
  await Deno.writeTextFile(
    join(apputils, "notification.jupyterlab-settings"),
    '{ "fetchNews": "false", "checkForUpdates": false }',
  );
  const env: Record<string, string> = { ...options.env };
  if (options.withoutPlotly) {
    // The user's config folder of this server alone: jupyterlab-plotly disabled in its page config.
    const labconfig = join(scratch, "config/labconfig");
    await Deno.mkdir(labconfig, { recursive: true });
    await Deno.writeTextFile(
      join(labconfig, "page_config.json"),
      // Its renderer's plugin id is not its package's name: disabling the package is not enough.
      JSON.stringify({
        disabledExtensions: { "jupyterlab-plotly": true, "@jupyterlab/plotly-extension": true },
      }),
    );
    env.JUPYTER_CONFIG_DIR = join(scratch, "config");
  }
  const process = new Deno.Command(options.jupyter, {
    args: [
      "lab",
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      "--allow-root",
      `--ServerApp.token=${token}`,
      `--ServerApp.root_dir=${options.root}`,
      `--LabApp.user_settings_dir=${join(scratch, "settings")}`,
      `--LabApp.workspaces_dir=${join(scratch, "workspaces")}`,
      `--FileCheckpoints.checkpoint_dir=${join(scratch, "checkpoints")}`,
      "--LabApp.expose_app_in_browser=True",
    ],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logFile = await Deno.open(options.log, { write: true, create: true, truncate: true });
  process.stderr.pipeTo(logFile.writable).catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  process.status.then(() => exited = true);
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && !exited) {
    try {
      const response = await fetch(`${url}/api/status?token=${token}`);
      await response.body?.cancel();
      if (response.ok) return { url, token, process, scratch };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!exited) process.kill("SIGKILL");
  await Deno.remove(scratch, { recursive: true });
  throw new Error(
    `JupyterLab on ${url} ${exited ? "exited" : "did not answer"} (log: ${options.log})`,
  );
}

/** A call to the server's REST API with the token. */
async function api(lab: Lab, method: string, path: string): Promise<Response> {
  const response = await fetch(`${lab.url}${path}`, {
    method,
    headers: { Authorization: `token ${lab.token}` },
  });
  await response.body?.cancel();
  return response;
}

/** Shut the server down through its API (it stops its kernels), then wait for the process. */
export async function stopLab(lab: Lab): Promise<void> {
  await api(lab, "POST", "/api/shutdown").catch(() => undefined);
  const timer = setTimeout(() => lab.process.kill("SIGKILL"), 20_000);
  await lab.process.status;
  clearTimeout(timer);
  await Deno.remove(lab.scratch, { recursive: true });
}

/** What a notebook showed in JupyterLab once all its cells ran. */
export interface LabCounts {
  codeCells: number;
  executed: number;
  /** Figures drawn by jupyterlab-plotly (an SVG inside .jp-RenderedPlotly). */
  plotly: number;
  /** Figures drawn by the HTML fallback (plotly.js in a text/html output). */
  htmlFallback: number;
  /** Progress displays (each updated in place: one per display, not one per update). */
  progress: number;
  /** Progress displays showing their end ("done in"). */
  progressDone: number;
  tables: number;
  /** Math typeset by JupyterLab's MathJax (mjx-container). */
  math: number;
  errors: string[];
  /** Whether the notebook was marked modified right after it opened (before running). */
  dirtyOnOpen: boolean;
  seconds: number;
}

// Strings: they run in the page, where the app is window.jupyterapp (expose_app_in_browser).
const NOTEBOOK_STATE = `(() => {
  const widget = window.jupyterapp?.shell.currentWidget;
  const model = widget?.content?.model;
  if (!model) return undefined;
  const cells = [...model.cells].filter((c) => c.type === "code");
  const errors = [];
  for (const cell of cells) {
    for (let i = 0; i < cell.outputs.length; i++) {
      const output = cell.outputs.get(i).toJSON();
      if (output.output_type === "error") errors.push(output.ename + ": " + output.evalue);
    }
  }
  return {
    codeCells: cells.length,
    executed: cells.filter((c) => c.executionCount !== null).length,
    kernel: widget.sessionContext.session?.kernel?.status ?? "none",
    kernelId: widget.sessionContext.session?.kernel?.id,
    sessionId: widget.sessionContext.session?.id,
    dirty: widget.context.model.dirty,
    errors,
  };
})()`;

const COUNTS = `(() => {
  const count = (selector) => document.querySelectorAll(selector).length;
  const drawn = (selector) =>
    [...document.querySelectorAll(selector)].filter((e) => e.querySelector(".main-svg")).length;
  return {
    plotly: drawn(".jp-RenderedPlotly"),
    htmlFallback: drawn(".jp-RenderedHTML .js-plotly-plot"),
    progress: count(".jp-OutputArea-output .vaelab-progress"),
    progressDone: [...document.querySelectorAll(".jp-OutputArea-output .vaelab-progress")]
      .filter((e) => e.textContent.includes("done in")).length,
    tables: count(".jp-OutputArea-output table"),
    math: count(".jp-MarkdownCell mjx-container"),
  };
})()`;

interface State {
  codeCells: number;
  executed: number;
  kernel: string;
  kernelId?: string;
  sessionId?: string;
  dirty: boolean;
  errors: string[];
}

async function state(page: Page): Promise<State | undefined> {
  return await page.evaluate(NOTEBOOK_STATE) as State | undefined;
}

/** Wait until `done(state)` holds twice in a row, a second apart; throws after `seconds`. */
async function waitFor(page: Page, done: (s: State) => boolean, seconds: number, what: string) {
  const deadline = Date.now() + seconds * 1000;
  let streak = 0;
  let last: State | undefined;
  while (Date.now() < deadline) {
    last = await state(page);
    streak = last && done(last) ? streak + 1 : 0;
    if (streak >= 2) return last!;
    await page.waitForTimeout(1000);
  }
  throw new Error(`${what} not reached in ${seconds} s: ${JSON.stringify(last)}`);
}

/**
 * Open `path` (relative to the server's root) in a fresh workspace, run all its cells from the
 * Run menu, wait for every execution count and an idle kernel, count what shows, screenshot the
 * notebook panel, and shut its kernel down by its session's id.
 */
export async function runInLab(
  browser: Browser,
  lab: Lab,
  path: string,
  options: { workspace: string; screenshot: string; timeout: number },
): Promise<LabCounts> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  // Nothing but the server: JupyterLab and its extensions are served by it.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    return url.startsWith(lab.url) || url.startsWith("data:") ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  const started = Date.now();
  let session: State | undefined;
  try {
    const url = `${lab.url}/lab/workspaces/${encodeURIComponent(options.workspace)}/tree/${path}` +
      `?token=${lab.token}`;
    await page.goto(url, { waitUntil: "load", timeout: 120_000 });
    const opened = await waitFor(
      page,
      (s) => s.kernel === "idle",
      120,
      "an idle kernel after open",
    );
    session = opened;
    const dirtyOnOpen = opened.dirty;
    await page.locator(".lm-MenuBar-itemLabel", { hasText: /^Run$/ }).click();
    await page.locator(".lm-Menu-itemLabel", { hasText: /^Run All Cells$/ }).click();
    const done = await waitFor(
      page,
      (s) => s.executed === s.codeCells && s.kernel === "idle",
      options.timeout,
      "every cell executed and the kernel idle",
    );
    session = done;
    // Figures draw once the page has laid them out: scroll through the notebook once.
    await page.evaluate(`(async () => {
      const panel = document.querySelector(".jp-WindowedPanel-outer");
      for (let y = 0; y < panel.scrollHeight; y += 600) {
        panel.scrollTop = y;
        await new Promise((r) => setTimeout(r, 100));
      }
    })()`);
    await page.waitForTimeout(1000);
    const counts = await page.evaluate(COUNTS) as Omit<
      LabCounts,
      "codeCells" | "executed" | "errors" | "dirtyOnOpen" | "seconds"
    >;
    // The first figure in view, in the scrolled panel (not the page).
    await page.evaluate(`(() => {
      const first = document.querySelector(".jp-RenderedPlotly, .jp-RenderedHTML .js-plotly-plot");
      first?.scrollIntoView({ block: "center" });
    })()`);
    await page.waitForTimeout(500);
    await page.locator(".jp-WindowedPanel-outer").first().screenshot({ path: options.screenshot });
    return {
      ...counts,
      codeCells: done.codeCells,
      executed: done.executed,
      errors: done.errors,
      dirtyOnOpen,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    if (session?.sessionId) await api(lab, "DELETE", `/api/sessions/${session.sessionId}`);
    if (session?.kernelId) await api(lab, "DELETE", `/api/kernels/${session.kernelId}`);
    await context.close();
  }
}
