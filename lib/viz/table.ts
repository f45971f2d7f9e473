/**
 * Small tables of results that display themselves in a notebook (HTML, Markdown and plain text)
 * and print legibly elsewhere.
 * @module
 */
import { isSpread, type Spread } from "../base/mod.ts";
import { escapeHtml } from "./html.ts";

/**
 * A cell: numbers are rounded for display; strings are shown as they are; a measure over several
 * seeds ({@linkcode Spread}) as `mean ± standard error` (its one value when there is one seed).
 */
export type Cell = string | number | Spread;

/** Options of {@linkcode table}. */
export interface TableOptions {
  /** A caption above the table. */
  title?: string;
  /** Significant decimals of numbers; default 4 (integers are shown whole). */
  digits?: number;
}

/** The MIME type of a table's data in a notebook's outputs: `{ title, columns, rows }`. */
export const TABLE_MIME = "application/vnd.vaelab.table+json";

/** Rows of results with the same keys: the columns, in the order of the first row. */
export class Table {
  readonly rows: readonly Record<string, Cell>[];
  readonly columns: readonly string[];
  readonly options: TableOptions;

  /** A table of `rows`; every row must have the first row's keys. */
  constructor(rows: readonly Record<string, Cell>[], options: TableOptions = {}) {
    if (rows.length === 0) throw new RangeError("a table needs at least one row; got 0");
    this.columns = Object.keys(rows[0]);
    rows.forEach((row, i) => {
      const missing = this.columns.filter((c) => !(c in row));
      if (missing.length) throw new RangeError(`row ${i} lacks column(s) ${missing.join(", ")}`);
    });
    this.rows = rows;
    this.options = options;
  }

  /** A cell as text. */
  format(cell: Cell): string {
    if (typeof cell === "string") return cell;
    if (isSpread(cell)) {
      if (cell.values.length === 1) return this.format(cell.values[0]);
      const mean = this.format(cell.mean);
      // The error with the mean's decimals (an integer mean shows a whole error).
      const decimals = mean.includes("e") ? 2 : (mean.split(".")[1] ?? "").length;
      const error = cell.stdError === 0 || Math.abs(cell.stdError) >= 10 ** -decimals
        ? cell.stdError.toFixed(decimals)
        : cell.stdError.toExponential(1);
      return `${mean} ± ${error}`;
    }
    if (Number.isInteger(cell)) return String(cell);
    const digits = this.options.digits ?? 4;
    return Math.abs(cell) >= 1e-3 || cell === 0 ? cell.toFixed(digits) : cell.toExponential(2);
  }

  /** A Markdown table. */
  toMarkdown(): string {
    // A | inside a cell (p(x|z)) would end it: escaped, as Markdown tables need.
    const line = (cells: string[]) =>
      `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
    return [
      ...(this.options.title ? [`**${this.options.title}**`, ""] : []),
      line([...this.columns]),
      line(this.columns.map(() => "---")),
      ...this.rows.map((row) => line(this.columns.map((c) => this.format(row[c])))),
    ].join("\n");
  }

  /** An HTML table (what exported reports show). */
  toHtml(): string {
    const cells = (tag: string, values: string[]) =>
      values.map((v) => `<${tag}>${escapeHtml(v)}</${tag}>`).join("");
    const caption = this.options.title
      ? `<caption>${escapeHtml(this.options.title)}</caption>`
      : "";
    const body = this.rows.map((row) =>
      `<tr>${cells("td", this.columns.map((c) => this.format(row[c])))}</tr>`
    );
    return `<table>${caption}<thead><tr>${cells("th", [...this.columns])}</tr></thead>` +
      `<tbody>${body.join("")}</tbody></table>`;
  }

  /** Aligned plain text. */
  toString(): string {
    const text = this.rows.map((row) => this.columns.map((c) => this.format(row[c])));
    const widths = this.columns.map((c, j) => Math.max(c.length, ...text.map((r) => r[j].length)));
    const line = (cells: readonly string[]) =>
      cells.map((s, j) => s.padStart(widths[j])).join("  ");
    return [
      ...(this.options.title ? [this.options.title] : []),
      line(this.columns),
      ...text.map(line),
    ]
      .join("\n");
  }

  /**
   * The MIME bundle a notebook displays; {@linkcode TABLE_MIME} carries the rows as data, which
   * the notebook runner collects into `out/<notebook>.tables.json`.
   */
  bundle(): Record<string, string | object> {
    return {
      "text/html": this.toHtml(),
      "text/markdown": this.toMarkdown(),
      "text/plain": this.toString(),
      [TABLE_MIME]: {
        title: this.options.title ?? "",
        columns: this.columns,
        rows: this.rows,
        digits: this.options.digits ?? 4,
      },
    };
  }

  /** Called by Deno's kernel when the table is a cell's value. */
  [Symbol.for("Jupyter.display")](): Record<string, string | object> {
    return this.bundle();
  }
}

/**
 * A table of results: `table([{ model: "AE", mse: 0.012 }, ...], { title })`.
 * @param rows one object per row, column -> cell
 * @param options a title, digits to show
 * @example
 * ```ts
 * table([{ model: "VAE", "test -ELBO": 122.18 }], { title: "Results", digits: 2 });
 * ```
 */
export function table(rows: readonly Record<string, Cell>[], options: TableOptions = {}): Table {
  return new Table(rows, options);
}
