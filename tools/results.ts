/**
 * The results of a reproduction as one Markdown file: every table of every notebook, with the
 * profile, the data, the commit, the date, the machine and the product kernel it ran on.
 * `deno task reproduce` writes `out/RESULTS.md` when it ran every notebook and all passed;
 * `deno task results` copies a `full` one to `results/full.md`, the file the README's results
 * come from (`tests/tools/results_test.ts` checks that they do).
 *
 *   deno task results            # out/RESULTS.md (profile full) -> results/full.md
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { table } from "../lib/mod.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The tables a notebook showed and what it ran on, as `out/<notebook>.tables.json` holds them. */
export interface NotebookTables {
  notebook: string;
  profile: string;
  /** The setup cell's `runInfo(...)`: the data's source and split sizes, the backend... */
  run: Record<string, unknown> | null;
  tables: {
    cell: number;
    title: string;
    columns: string[];
    rows: Record<string, string | number>[];
    /** The digits the notebook showed (4 when the table is older than this field). */
    digits?: number;
  }[];
}

/** Where and from what a reproduction ran. */
export interface RunContext {
  profile: string;
  /** The commit, with "+ uncommitted changes" when the tree was not clean. */
  commit: string;
  date: string;
  /** e.g. "Intel(R) Xeon(R) Processor, 2 cores". */
  machine: string;
  /** Seconds each notebook took, by name. */
  seconds: Record<string, number>;
}

/** The commit of the repository, marked when the tree has changes; "unknown" outside git. */
export async function commitOf(root = ROOT): Promise<string> {
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", { args, cwd: root, stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  };
  const head = await git("rev-parse", "--short=12", "HEAD").catch(() => undefined);
  if (!head) return "unknown";
  const changes = await git("status", "--porcelain", "--untracked-files=no");
  return changes ? `${head} + uncommitted changes` : head;
}

/** The processor's name and the number of cores, as far as the system says. */
export function machineOf(): string {
  let cpu = "unknown processor";
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    cpu = info.match(/^model name\s*:\s*(.+)$/m)?.[1].trim() ?? cpu;
  } catch {
    // not Linux
  }
  return `${cpu}, ${navigator.hardwareConcurrency} cores, ${Deno.build.os} ${Deno.build.arch}`;
}

/** A notebook's run information as one line: data, sizes, backend, products and its settings. */
function runLine(run: Record<string, unknown> | null): string {
  if (!run) return "";
  const { source, trainSize, testSize, backend, products, profile: _profile, ...rest } = run;
  const settings = Object.entries(rest).map(([k, v]) => `${k} ${v}`).join(", ");
  return [
    source === undefined
      ? ""
      : trainSize === undefined
      ? `data ${source}`
      : `data ${source} ${trainSize} train / ${testSize} test`,
    backend === undefined ? "" : `backend ${backend}`,
    products === undefined ? "" : `products on ${products}`,
    settings,
  ].filter(Boolean).join("; ");
}

/** A table cell as the notebook had it: JSON keeps a NaN (a spread's too) as null. */
function nanFromJson<T>(value: T): T {
  if (value === null) return NaN as T;
  if (typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(nanFromJson) as T;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, nanFromJson(v)]),
  ) as T;
}

/** The Markdown of every notebook's tables, headed by where and from what they ran. */
export function resultsMarkdown(notebooks: readonly NotebookTables[], context: RunContext): string {
  const products = [...new Set(notebooks.map((n) => n.run?.products).filter(Boolean))];
  const lines = [
    `# Results of a \`${context.profile}\` reproduction`,
    "",
    `Every table the notebooks showed, from \`out/*.tables.json\` (\`deno task reproduce\`, profile ` +
    `\`${context.profile}\`). Commit ${context.commit}, ${context.date}; ${context.machine}; ` +
    `matrix products on ${products.join(", ") || "unknown"}.`,
    "",
  ];
  for (const notebook of notebooks) {
    const seconds = context.seconds[notebook.notebook];
    lines.push(`## ${notebook.notebook}`, "");
    const line = runLine(notebook.run);
    const time = seconds === undefined ? "" : `; ran in ${Math.round(seconds)} s`;
    if (line || time) lines.push(`${line}${time}.`.replace(/^; /, ""), "");
    for (const t of notebook.tables) {
      const rows = t.rows.map((row) =>
        Object.fromEntries(t.columns.map((c) => [c, nanFromJson(row[c])]))
      );
      lines.push(
        table(rows, { title: t.title || undefined, digits: t.digits ?? 4 }).toMarkdown(),
        "",
      );
    }
  }
  return lines.join("\n");
}

/** `deno task results`: copy out/RESULTS.md of a full reproduction to results/full.md. */
async function main(): Promise<number> {
  const source = join(ROOT, "out/RESULTS.md");
  let text: string;
  try {
    text = await Deno.readTextFile(source);
  } catch {
    console.error(`results: no ${source}: run \`deno task reproduce\` (profile full) first`);
    return 1;
  }
  if (!text.startsWith("# Results of a `full` reproduction")) {
    console.error(`results: ${source} is not from the full profile: ${text.split("\n")[0]}`);
    return 1;
  }
  await Deno.mkdir(join(ROOT, "results"), { recursive: true });
  await Deno.writeTextFile(join(ROOT, "results/full.md"), text);
  console.error(
    "results: wrote results/full.md (check the README's results against it: deno task test)",
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
