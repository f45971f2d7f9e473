/**
 * Browser check of executed notebooks (run `deno task reproduce` first): in Debian's chromium,
 * with no network, every Plotly figure of OUT/NAME.ipynb must render
 *
 * - in the HTML report OUT/NAME.html opened from file:// as written (Debian's nbconvert links
 *   require.js and MathJax from /usr/share/javascript, so plotly.js meets requirejs's `define`);
 *   screenshot OUT/screenshots/NAME.png,
 * - in the same report with nothing but the file itself (a report copied to another machine),
 * - in classic Notebook serving the executed, signed notebook (OUT/screenshots/NAME.notebook.png).
 *
 *   deno task browser [--out DIR] [--no-server] [NAME...]
 * @module
 */
import { chromium, type Page } from "playwright-core";
import { parseArgs } from "node:util";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { countFigures, trustNotebook } from "../../tools/run_notebooks.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
const JUPYTER = Deno.env.get("JUPYTER") ?? "jupyter";
const REQUIRE_JS = "/usr/share/javascript/requirejs/require.min.js";
/** Seconds to wait for a page's figures. */
const WAIT = 60;

/** Plotly plots drawn on the page: containers holding an SVG (a string: it runs in the page). */
function renderedPlots(page: Page): Promise<number> {
  return page.evaluate(
    `[...document.querySelectorAll(".js-plotly-plot")].filter((e) => e.querySelector(".main-svg")).length`,
  );
}

/** Wait until `expected` plots are drawn; returns how many were. */
async function waitForPlots(page: Page, expected: number): Promise<number> {
  const deadline = Date.now() + WAIT * 1000;
  let drawn = await renderedPlots(page);
  while (drawn < expected && Date.now() < deadline) {
    await page.waitForTimeout(250);
    drawn = await renderedPlots(page);
  }
  return drawn;
}

interface Check {
  name: string;
  url: string;
  expected: number;
  screenshot?: string;
  fullPage?: boolean;
  /** Load nothing but the page itself. */
  alone?: boolean;
}

async function runCheck(
  browser: Awaited<ReturnType<typeof chromium.launch>>,
  check: Check,
): Promise<string | undefined> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  // No network. A CDN link to require.js (stock nbconvert) gets Debian's copy, as online.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (check.alone) return url === check.url ? route.continue() : route.abort();
    if (url.startsWith("file:") || url.startsWith("http://127.0.0.1")) return route.continue();
    if (/require(\.min)?\.js$/.test(url)) {
      return route.fulfill({ path: REQUIRE_JS, contentType: "text/javascript" });
    }
    return route.abort();
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(error.message));
  try {
    await page.goto(check.url, { waitUntil: "load", timeout: WAIT * 1000 });
    const drawn = await waitForPlots(page, check.expected);
    if (check.screenshot) {
      await page.screenshot({ path: check.screenshot, fullPage: check.fullPage ?? false });
    }
    if (drawn !== check.expected) {
      const notes = errors.length ? `; page errors: ${errors.slice(0, 3).join(" | ")}` : "";
      return `${drawn} of ${check.expected} Plotly figures rendered after ${WAIT} s${notes}`;
    }
    return undefined;
  } catch (error) {
    return String(error);
  } finally {
    await context.close();
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Start classic Notebook on 127.0.0.1 over `dir`, without a token; resolves when it answers. */
async function startNotebookServer(dir: string, log: string) {
  const port = freePort();
  // Checkpoints go to a temporary folder, not beside the executed notebooks.
  const checkpoints = await Deno.makeTempDir({ prefix: "vaelab-checkpoints-" });
  const process = new Deno.Command(JUPYTER, {
    args: [
      "notebook",
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      "--allow-root",
      "--NotebookApp.token=",
      "--NotebookApp.password=",
      `--notebook-dir=${dir}`,
      `--FileCheckpoints.checkpoint_dir=${checkpoints}`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logFile = await Deno.open(log, { write: true, create: true, truncate: true });
  process.stderr.pipeTo(logFile.writable).catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  process.status.then(() => exited = true);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !exited) {
    try {
      const response = await fetch(`${url}/api/status`);
      await response.body?.cancel();
      if (response.ok) return { url, process, checkpoints };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!exited) process.kill("SIGKILL");
  const why = exited ? "exited" : "did not answer within 60 s";
  throw new Error(`classic Notebook on ${url} ${why} (log: ${log})`);
}

/** Stop the server (SIGTERM: it shuts its kernels down) and remove its checkpoints. */
async function stop(server: { process: Deno.ChildProcess; checkpoints: string }): Promise<void> {
  server.process.kill("SIGTERM");
  const timer = setTimeout(() => server.process.kill("SIGKILL"), 15_000);
  await server.process.status;
  clearTimeout(timer);
  await Deno.remove(server.checkpoints, { recursive: true });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string", default: join(ROOT, "out") },
      "no-server": { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  const out = resolve(values.out!);
  const names = [...Deno.readDirSync(out)]
    .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
    .map((e) => basename(e.name, ".ipynb"))
    .filter((name) => positionals.length === 0 || positionals.includes(name))
    .sort();
  if (names.length === 0) {
    console.error(`no executed notebooks in ${out}: run \`deno task reproduce\` first`);
    return 1;
  }
  const shots = join(out, "screenshots");
  await Deno.mkdir(shots, { recursive: true });
  const checks: Check[] = [];
  const expected = new Map<string, number>();
  for (const name of names) {
    expected.set(
      name,
      countFigures(JSON.parse(await Deno.readTextFile(join(out, `${name}.ipynb`)))),
    );
    const url = pathToFileURL(join(out, `${name}.html`)).href;
    const figures = expected.get(name)!;
    checks.push(
      {
        name: `${name}.html`,
        url,
        expected: figures,
        screenshot: join(shots, `${name}.png`),
        fullPage: true,
      },
      { name: `${name}.html alone`, url, expected: figures, alone: true },
    );
  }
  try {
    Deno.statSync(CHROMIUM);
  } catch {
    console.error(`${CHROMIUM} is missing: run tools/install_jupyter.sh --browser`);
    return 1;
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  let server: Awaited<ReturnType<typeof startNotebookServer>> | undefined;
  const failures: string[] = [];
  try {
    for (const check of checks) {
      const error = await runCheck(browser, check);
      console.log(`${error ? "FAIL" : "ok  "}  ${check.name}  (${check.expected} figures)`);
      if (error) failures.push(`${check.name}: ${error}`);
    }
    if (!values["no-server"]) {
      server = await startNotebookServer(out, join(shots, "notebook-server.log"));
      for (const name of names) {
        const check: Check = {
          name: `${name}.ipynb in classic Notebook`,
          url: `${server.url}/notebooks/${encodeURIComponent(name)}.ipynb`,
          expected: expected.get(name)!,
          screenshot: join(shots, `${name}.notebook.png`),
        };
        // Classic Notebook runs an output's scripts only in a trusted notebook.
        const trusted = await trustNotebook(join(out, `${name}.ipynb`));
        const error = trusted ? await runCheck(browser, check) : "could not sign (trust) it";
        console.log(`${error ? "FAIL" : "ok  "}  ${check.name}  (${check.expected} figures)`);
        if (error) failures.push(`${check.name}: ${error}`);
      }
    }
  } finally {
    await browser.close();
    if (server) await stop(server);
  }
  const total = checks.length + (values["no-server"] ? 0 : names.length);
  for (const failure of failures) console.error(`FAIL ${failure}`);
  console.log(`screenshots in ${shots}`);
  console.log(`browser: ${total - failures.length} passed, ${failures.length} failed`);
  return failures.length ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
