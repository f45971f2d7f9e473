/**
 * The HTML reports in Chromium, with no network: every Plotly figure drawn, the mathematics
 * typeset (KaTeX, written into the report) with no raw TeX left visible, from the report's own
 * folder and from a copy in another folder with nothing but the file itself.
 * @module
 */
import type { Browser, Page } from "playwright-core";

/** Seconds to wait for a page's figures. */
const WAIT = 60;

/** What a report page shows. */
export interface ReportCounts {
  figures: number;
  /** Math typeset by KaTeX. */
  math: number;
  /** Raw TeX left visible in the markdown cells ($$, \begin, \[, \(). */
  rawTex: string[];
}

const COUNTS = `(() => ({
  figures: [...document.querySelectorAll(".js-plotly-plot")]
    .filter((e) => e.querySelector(".main-svg")).length,
  math: document.querySelectorAll(".jp-MarkdownCell .katex").length,
  rawTex: [...document.querySelectorAll(".jp-MarkdownCell")]
    .map((cell) => cell.textContent.match(/\\$\\$|\\\\begin\\{|\\\\\\[|\\\\\\(/)?.[0])
    .filter(Boolean),
}))()`;

/** A report to open: its URL and how many figures and math pieces it must show. */
export interface ReportCheck {
  name: string;
  url: string;
  figures: number;
  math: number;
  screenshot?: string;
  /** Screenshot the first display equation (the derivation) rather than the whole page. */
  mathShot?: string;
}

async function counts(page: Page): Promise<ReportCounts> {
  return await page.evaluate(COUNTS) as ReportCounts;
}

/** Open a report with nothing but its own file; undefined when all is as expected, else why. */
export async function checkReport(
  browser: Browser,
  check: ReportCheck,
): Promise<string | undefined> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    return url === check.url || url.startsWith("data:") ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(error.message));
  try {
    await page.goto(check.url, { waitUntil: "load", timeout: WAIT * 1000 });
    const deadline = Date.now() + WAIT * 1000;
    let seen = await counts(page);
    while (seen.figures < check.figures && Date.now() < deadline) {
      await page.waitForTimeout(250);
      seen = await counts(page);
    }
    if (check.screenshot) await page.screenshot({ path: check.screenshot, fullPage: true });
    if (check.mathShot && seen.math > 0) {
      await page.evaluate(`(() => {
        document.querySelector(".katex-display").scrollIntoView({ block: "start" });
        window.scrollBy(0, -120);
      })()`);
      await page.screenshot({ path: check.mathShot });
    }
    const problems = [];
    if (seen.figures !== check.figures) {
      problems.push(`${seen.figures} of ${check.figures} Plotly figures drawn after ${WAIT} s`);
    }
    if (seen.math !== check.math) problems.push(`${seen.math} of ${check.math} equations typeset`);
    if (seen.rawTex.length) problems.push(`raw TeX visible: ${seen.rawTex.join(", ")}`);
    if (problems.length && errors.length) {
      problems.push(`page errors: ${errors.slice(0, 3).join(" | ")}`);
    }
    return problems.length ? problems.join("; ") : undefined;
  } catch (error) {
    return String(error);
  } finally {
    await context.close();
  }
}
