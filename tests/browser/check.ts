/**
 * Browser check (run `deno task reproduce` first, for the executed notebooks and their reports):
 *
 * 1. every HTML report OUT/NAME.html in Chromium, opened with nothing but the file, from its folder
 *    and as a copy in another folder: all its figures drawn, its mathematics typeset (KaTeX, no raw
 *    TeX visible); screenshots OUT/screenshots/NAME.png and notebook 02's derivation;
 * 2. every notebook in the real JupyterLab (the project's .venv/), in a fresh workspace, Run > Run
 *    All Cells, in the quick profile with an empty run cache (so it trains and shows its progress):
 *    figures drawn by jupyterlab-plotly, progress displays updated in place, tables, math typeset by
 *    MathJax, no error output, opened unmodified; screenshot OUT/screenshots/NAME.lab.png;
 * 3. notebook 01 in JupyterLab without jupyterlab-plotly: the figures' HTML fallback draws them.
 *
 *   deno task browser [--out DIR] [--no-lab] [--cached] [--no-install] [NAME...]
 *
 * It first installs what it lacks (tools/install_jupyter.sh --browser: the project's Jupyter,
 * Debian's chromium) unless --no-install.
 * --cached runs the notebooks in JupyterLab from the repository's run cache (quicker; no progress
 * displays for runs it loads). Prints a line per check and exits 1 when one fails.
 * @module
 */
import { type Browser, chromium } from "playwright-core";
import { parseArgs } from "node:util";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { countFigures, JUPYTER } from "../../tools/run_notebooks.ts";
import { mathPieces } from "../../tools/report_math.ts";
import { checkReport } from "./reports.ts";
import { type LabCounts, runInLab, startLab, stopLab } from "./lab.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

interface Notebook {
  cells: { cell_type: string; source: string | string[]; outputs?: { data?: object }[] }[];
}

const source = (cell: Notebook["cells"][number]) => [cell.source].flat().join("");

/** What a notebook must show: figures, tables and math from its executed copy and its text. */
export function expectations(executed: Notebook) {
  const html = executed.cells.flatMap((c) => c.outputs ?? [])
    .map((o) =>
      [(o.data as Record<string, unknown> | undefined)?.["text/html"] ?? ""].flat().join("")
    );
  return {
    figures: countFigures(executed as Parameters<typeof countFigures>[0]),
    tables: html.reduce((n, h) => n + (h.match(/<table/g)?.length ?? 0), 0),
    math: executed.cells.filter((c) => c.cell_type === "markdown")
      .reduce((n, c) => n + mathPieces(source(c)).length, 0),
  };
}

/** Why a JupyterLab run falls short of the expectations (empty when it does not). */
export function labProblems(
  counts: LabCounts & { progressDone: number },
  expected: ReturnType<typeof expectations>,
  { fallback = false } = {},
): string[] {
  const problems: string[] = [];
  if (counts.executed !== counts.codeCells) {
    problems.push(`${counts.executed} of ${counts.codeCells} code cells executed`);
  }
  if (counts.errors.length) problems.push(`errors: ${counts.errors.join(" | ")}`);
  if (counts.dirtyOnOpen) problems.push("marked modified on open (its kernel metadata differs)");
  const [drawn, other] = fallback
    ? [counts.htmlFallback, counts.plotly]
    : [counts.plotly, counts.htmlFallback];
  const by = fallback ? "the HTML fallback" : "jupyterlab-plotly";
  if (drawn !== expected.figures) {
    problems.push(`${drawn} of ${expected.figures} figures drawn by ${by}`);
  }
  if (other !== 0) problems.push(`${other} figures drawn the other way`);
  if (counts.tables !== expected.tables) {
    problems.push(`${counts.tables} of ${expected.tables} tables`);
  }
  if (counts.math !== expected.math) {
    problems.push(`${counts.math} of ${expected.math} equations typeset`);
  }
  if (counts.progress !== counts.progressDone) {
    problems.push(`${counts.progress - counts.progressDone} progress displays not at their end`);
  }
  return problems;
}

async function launch(): Promise<Browser> {
  return await chromium.launch({
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
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string", default: join(ROOT, "out") },
      "no-lab": { type: "boolean", default: false },
      cached: { type: "boolean", default: false },
      "no-install": { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  const out = resolve(values.out!);
  const names = [...Deno.readDirSync(join(ROOT, "notebooks"))]
    .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
    .map((e) => basename(e.name, ".ipynb"))
    .filter((name) => positionals.length === 0 || positionals.includes(name))
    .sort();
  const expected = new Map<string, ReturnType<typeof expectations>>();
  for (const name of names) {
    try {
      expected.set(
        name,
        expectations(JSON.parse(await Deno.readTextFile(join(out, `${name}.ipynb`)))),
      );
    } catch {
      console.error(`no executed ${name} in ${out}: run \`deno task reproduce\` first`);
      return 1;
    }
  }
  if (!values["no-install"]) {
    // The project's Jupyter and Chromium, where missing (silent when all is there).
    const install = await new Deno.Command("bash", {
      args: [join(ROOT, "tools/install_jupyter.sh"), "--browser"],
      env: { DENO: Deno.execPath() },
      stdin: "null",
    }).spawn().status;
    if (!install.success) return 1;
  }
  try {
    Deno.statSync(CHROMIUM);
  } catch {
    console.error(`${CHROMIUM} is missing: run tools/install_jupyter.sh --browser`);
    return 1;
  }
  const shots = join(out, "screenshots");
  await Deno.mkdir(shots, { recursive: true });
  const failures: string[] = [];
  const report = (name: string, problems: string[] | string | undefined, detail = "") => {
    const list = [problems ?? []].flat();
    console.log(`${list.length ? "FAIL" : "ok  "}  ${name}${detail ? `  (${detail})` : ""}`);
    for (const p of list) failures.push(`${name}: ${p}`);
  };
  const browser = await launch();
  const elsewhere = await Deno.makeTempDir({ prefix: "vaelab-report-copy-" });
  const results: Record<string, unknown> = {};
  try {
    for (const name of names) {
      const { figures, math } = expected.get(name)!;
      const detail = `${figures} figures, ${math} equations`;
      const url = pathToFileURL(join(out, `${name}.html`)).href;
      report(
        `${name}.html`,
        await checkReport(browser, {
          name,
          url,
          figures,
          math,
          screenshot: join(shots, `${name}.png`),
        }),
        detail,
      );
      // Nothing of this machine and nothing from the network in the file itself.
      const html = await Deno.readTextFile(join(out, `${name}.html`));
      const leaks = [ROOT, "file://", "/usr/share/"].filter((s) => html.includes(s));
      const linked = html.match(/<script[^>]*\bsrc="https?:[^"]*"/g) ?? [];
      report(`${name}.html holds no local path and links no script`, [
        ...leaks.map((s) => `contains "${s}"`),
        ...linked.map((s) => `links ${s}`),
      ]);
      // A copy in another folder, as a report sent to someone else.
      const copy = join(elsewhere, `${name}.html`);
      await Deno.copyFile(join(out, `${name}.html`), copy);
      report(
        `${name}.html copied elsewhere`,
        await checkReport(browser, {
          name,
          url: pathToFileURL(copy).href,
          figures,
          math,
          mathShot: math > 0 ? join(shots, `${name}.math.png`) : undefined,
        }),
        detail,
      );
    }
    if (!values["no-lab"]) {
      const runs = await Deno.makeTempDir({ prefix: "vaelab-lab-runs-" });
      const env: Record<string, string> = {
        VAELAB_PROFILE: Deno.env.get("VAELAB_PROFILE") ?? "quick",
        ...(values.cached ? {} : { VAELAB_RUNS: runs }),
      };
      let progressShown = 0;
      for (const withoutPlotly of [false, true]) {
        const lab = await startLab({
          jupyter: JUPYTER,
          root: ROOT,
          env,
          withoutPlotly,
          log: join(shots, withoutPlotly ? "lab-fallback.log" : "lab.log"),
        });
        try {
          // Without the extension, one notebook (its runs are cached by then).
          for (const name of withoutPlotly ? names.slice(0, 1) : names) {
            const tag = withoutPlotly
              ? `${name} in JupyterLab without jupyterlab-plotly`
              : `${name} in JupyterLab`;
            try {
              const counts = await runInLab(browser, lab, `notebooks/${name}.ipynb`, {
                workspace: `${name}${withoutPlotly ? "-fallback" : ""}`,
                screenshot: join(shots, `${name}.lab${withoutPlotly ? "-fallback" : ""}.png`),
                timeout: 1800,
              });
              results[tag] = counts;
              const problems = labProblems(counts, expected.get(name)!, {
                fallback: withoutPlotly,
              });
              if (!withoutPlotly) progressShown += counts.progress;
              report(
                tag,
                problems,
                `${counts.plotly + counts.htmlFallback} figures, ` +
                  `${counts.progress} progress, ${counts.tables} tables, ${counts.math} math, ` +
                  `${counts.seconds.toFixed(0)} s`,
              );
            } catch (error) {
              report(tag, String(error));
            }
          }
        } finally {
          await stopLab(lab);
        }
      }
      await Deno.remove(runs, { recursive: true });
      // From an empty cache something trains (a notebook whose runs an earlier one trained only
      // loads them): its progress must have shown.
      if (!values.cached) {
        report(
          "progress displays shown while JupyterLab trained",
          progressShown > 0 ? [] : ["none"],
        );
      }
    }
  } finally {
    await browser.close();
    await Deno.remove(elsewhere, { recursive: true });
  }
  await Deno.writeTextFile(join(shots, "lab.json"), JSON.stringify(results, null, 1) + "\n");
  for (const failure of failures) console.error(`FAIL ${failure}`);
  console.log(`screenshots in ${shots}`);
  console.log(`browser: ${failures.length ? `${failures.length} failed` : "all passed"}`);
  return failures.length ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
