/**
 * What the notebooks say is what their numbers show: every sentence about our runs cites the
 * `verify` claim that checks it, as (claim `id`) or (claims `a`, `b` and `c`), and
 *
 * - every cited id is a claim of the same section (a section runs from one `## ` heading to the
 *   next; the closing "What to take away" may cite any claim of its notebook),
 * - every claim is cited somewhere in its notebook,
 * - every "**What we expect**" and "**What we saw**" paragraph and every take-away bullet cites
 *   at least one claim,
 * - ids are unique within a notebook, and every `verify` call names its claims by literal keys
 *   (`verify({ "rate-falls": [...] }, title)`), so that this test reads them from the source.
 */
import { assertEquals } from "@std/assert";

const NOTEBOOKS = new URL("../../notebooks/", import.meta.url);

/** The id keys of each `verify({...})` call in code, or a problem where one is not literal. */
export function verifiedIds(code: string): { ids: string[]; problems: string[] } {
  const ids: string[] = [];
  const problems: string[] = [];
  const call = /\bverify\(\s*/g;
  let match: RegExpExecArray | null;
  while ((match = call.exec(code))) {
    let i = match.index + match[0].length;
    if (code[i] !== "{") {
      problems.push(`verify(${code.slice(i, i + 20)}...: give verify an object of claim ids`);
      continue;
    }
    // Walk the object literal: keys at depth 1, strings and nested brackets skipped.
    let depth = 0;
    let expectKey = true;
    for (; i < code.length; i++) {
      const c = code[i];
      if (c === "/" && (code[i + 1] === "/" || code[i + 1] === "*")) {
        // A comment: to the end of the line, or to its */.
        const end = code[i + 1] === "/" ? code.indexOf("\n", i) : code.indexOf("*/", i) + 1;
        i = end < 1 ? code.length : end;
      } else if (c === '"' || c === "'" || c === "`") {
        const end = skipString(code, i);
        if (depth === 1 && expectKey) {
          const after = code.slice(end).match(/^\s*:/);
          if (after && c !== "`") ids.push(code.slice(i + 1, end - 1));
          else problems.push(`a claim id must be a literal key; got ${code.slice(i, end)}`);
          expectKey = false;
        }
        i = end - 1;
      } else if ("([{".includes(c)) {
        depth++;
        if (depth === 1) expectKey = true;
      } else if (")]}".includes(c)) {
        depth--;
        if (depth === 0) break;
      } else if (c === "," && depth === 1) {
        expectKey = true;
      } else if (depth === 1 && expectKey && /[A-Za-z_.]/.test(c)) {
        const word = code.slice(i).match(/^([A-Za-z_$][\w$]*|\.\.\.)/)![0];
        const after = code.slice(i + word.length).match(/^\s*:/);
        if (after && word !== "...") ids.push(word);
        else problems.push(`a claim id must be a literal key; got ${word}`);
        expectKey = false;
        i += word.length - 1;
      }
    }
  }
  return { ids, problems };
}

/** The index just past the string literal starting at `start` (template literals' ${} too). */
function skipString(code: string, start: number): number {
  const quote = code[start];
  for (let i = start + 1; i < code.length; i++) {
    if (code[i] === "\\") i++;
    else if (code[i] === quote) return i + 1;
    else if (quote === "`" && code[i] === "$" && code[i + 1] === "{") {
      let depth = 1;
      for (i += 2; i < code.length && depth > 0; i++) {
        if (code[i] === "{") depth++;
        else if (code[i] === "}") depth--;
        else if ("\"'`".includes(code[i])) i = skipString(code, i) - 1;
      }
      i--;
    }
  }
  return code.length;
}

/** The ids a markdown text cites: "claim `a`", "claims `a`, `b` and `c`". */
export function citedIds(markdown: string): string[] {
  const cited: string[] = [];
  const citation = /\bclaims?\s+(`[^`]+`(?:(?:,\s*|,?\s+and\s+)`[^`]+`)*)/g;
  for (const match of markdown.matchAll(citation)) {
    for (const id of match[1].matchAll(/`([^`]+)`/g)) cited.push(id[1]);
  }
  return cited;
}

interface Cell {
  cell_type: string;
  source: string | string[];
}

/** Everything wrong with one notebook's citations, as sentences. */
export function citationProblems(name: string, cells: readonly Cell[]): string[] {
  const problems: string[] = [];
  const text = (cell: Cell) => typeof cell.source === "string" ? cell.source : cell.source.join("");
  // Sections: a markdown cell with a "## " heading starts one.
  let section = 0;
  const titles = ["(introduction)"];
  const made = new Map<string, number>(); // id -> section
  const cites: { id: string; section: number; where: string }[] = [];
  cells.forEach((cell, index) => {
    const source = text(cell);
    const where = `${name} cell ${index}`;
    if (cell.cell_type === "markdown") {
      const heading = source.match(/^## (.+)$/m);
      if (heading) {
        section++;
        titles.push(heading[1]);
      }
      for (const id of citedIds(source)) cites.push({ id, section, where });
      const takeAway = /what to take away/i.test(titles[section]);
      const paragraphs = source.split(/\n\s*\n|\n(?=- )/);
      for (const paragraph of paragraphs) {
        const needs = /^\*\*What we (expect|saw)/.test(paragraph.trim()) ||
          (takeAway && paragraph.trim().startsWith("- "));
        if (needs && citedIds(paragraph).length === 0) {
          problems.push(`${where}: cites no claim: "${paragraph.trim().slice(0, 70)}..."`);
        }
      }
    } else if (cell.cell_type === "code") {
      const { ids, problems: bad } = verifiedIds(source);
      for (const p of bad) problems.push(`${where}: ${p}`);
      for (const id of ids) {
        if (made.has(id)) problems.push(`${where}: claim id "${id}" is made twice`);
        made.set(id, section);
      }
    }
  });
  for (const { id, section: at, where } of cites) {
    const of = made.get(id);
    if (of === undefined) {
      problems.push(`${where}: cites claim "${id}", which no verify cell makes`);
    } else if (of !== at && !/what to take away/i.test(titles[at])) {
      problems.push(`${where}: cites claim "${id}" of another section ("${titles[of]}")`);
    }
  }
  const citedSet = new Set(cites.map((c) => c.id));
  for (const id of made.keys()) {
    if (!citedSet.has(id)) problems.push(`${name}: claim "${id}" is cited by no sentence`);
  }
  return problems;
}

Deno.test("verifiedIds() reads a verify call's literal keys and names what is not literal", () => {
  const code = `verify({
    "rate-falls": points.map((p) => claimBelow(\`rate \${p.beta} {\`, p.rate, 1)),
    // the best one's: see "here" below
    best: claimBelow("a, b: c", x, { y: 1 }.y), /* it's */
  }, "Title");
  verify([claimBelow("x", 1, 2)]);
  verify({ ...others, [name]: c });`;
  const { ids, problems } = verifiedIds(code);
  assertEquals(ids, ["rate-falls", "best"]);
  assertEquals(problems.length, 3, problems.join("; "));
});

Deno.test("citedIds() finds one claim, several, and none", () => {
  assertEquals(citedIds("rate falls (claim `rate-falls`); best (claims `a`, `b` and `c`)."), [
    "rate-falls",
    "a",
    "b",
    "c",
  ]);
  assertEquals(citedIds("the claims below; `code` here"), []);
});

Deno.test("citationProblems() names a missing claim, an uncited one, another section's, an uncited expectation", () => {
  const cells: Cell[] = [
    { cell_type: "markdown", source: "## One\n\n**What we expect:** it falls (claim `falls`)." },
    { cell_type: "code", source: 'verify({ falls: c, "never-cited": d });' },
    {
      cell_type: "markdown",
      source:
        "## Two\n\n**What we expect:** nothing cited.\n\nSee (claim `falls`), (claim `gone`).",
    },
    { cell_type: "markdown", source: "## What to take away\n\n- falls (claim `falls`)\n- uncited" },
  ];
  assertEquals(citationProblems("n", cells), [
    'n cell 2: cites no claim: "**What we expect:** nothing cited...."',
    'n cell 3: cites no claim: "- uncited..."',
    'n cell 2: cites claim "falls" of another section ("One")',
    'n cell 2: cites claim "gone", which no verify cell makes',
    'n: claim "never-cited" is cited by no sentence',
  ]);
});

Deno.test("every notebook's sentences about its numbers cite claims of their section, and every claim is cited", async () => {
  const problems: string[] = [];
  for (
    const entry of [...Deno.readDirSync(NOTEBOOKS)].sort((a, b) => a.name.localeCompare(b.name))
  ) {
    if (!entry.name.endsWith(".ipynb")) continue;
    const notebook = JSON.parse(await Deno.readTextFile(new URL(entry.name, NOTEBOOKS)));
    problems.push(...citationProblems(entry.name.replace(/\.ipynb$/, ""), notebook.cells));
  }
  assertEquals(problems, []);
});
