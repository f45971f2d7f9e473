/**
 * Make an nbconvert HTML report stand alone: its mathematics typeset when the report is written
 * (npm `katex`), KaTeX's stylesheet and fonts inlined, and the scripts nbconvert links from a CDN
 * (MathJax, require.js, mermaid) removed. The report then shows its equations offline, on any
 * machine it is copied to, with no path of the machine that wrote it.
 *
 *   const html = standaloneReport(await Deno.readTextFile("out/02.html"));
 * @module
 */
import katex from "katex";
import { packageUrl } from "../lib/mod.ts";

/** Bytes as base64, in chunks (a spread of a whole font would overflow the call's arguments). */
function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return btoa(binary);
}

/** One piece of TeX found in a markdown cell's HTML. */
export interface MathPiece {
  tex: string;
  display: boolean;
}

/** HTML's escapes in the text nbconvert wrote, undone (the TeX as the author typed it). */
function unescapeHtml(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&amp;/g, "&");
}

/**
 * The delimiters a markdown cell's math may use, display first: `$$...$$`, `\[...\]`,
 * `\begin{env}...\end{env}` (typeset whole, as display), `\(...\)` and `$...$` (no space after the
 * opening `$` nor before the closing one, so "costs $5 and $6" stays text).
 */
const MATH =
  /\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|(\\begin\{([a-z]+\*?)\}[\s\S]+?\\end\{\4\})|\\\(([\s\S]+?)\\\)|\$(?=\S)([^$\n]*?\S)\$(?!\d)/g;

/** Typeset the math of one markdown cell's HTML; `render` turns a piece into HTML. */
export function typesetMarkdown(
  html: string,
  render: (piece: MathPiece) => string = renderKatex,
): string {
  // Tags are left alone: math lives in the text between them.
  return html.split(/(<[^>]*>)/).map((part, i) => {
    if (i % 2 === 1) return part;
    return part.replace(MATH, (_all, display, bracket, env, _name, paren, inline) => {
      const tex = display ?? bracket ?? env ?? paren ?? inline;
      return render({
        tex: unescapeHtml(tex),
        display: paren === undefined && inline === undefined,
      });
    });
  }).join("");
}

/** The math pieces of a markdown cell's source (what JupyterLab's MathJax and the report typeset). */
export function mathPieces(markdown: string): MathPiece[] {
  const found: MathPiece[] = [];
  typesetMarkdown(markdown, (piece) => {
    found.push(piece);
    return "";
  });
  return found;
}

/** KaTeX's HTML for a piece; a TeX error shows as the source in red, not as a failure. */
export function renderKatex({ tex, display }: MathPiece): string {
  return katex.renderToString(tex, {
    displayMode: display,
    throwOnError: false,
    output: "html",
    strict: "ignore",
  });
}

/** A markdown cell's rendered output in nbconvert's lab template. */
const MARKDOWN_CELL = /(<div class="[^"]*jp-RenderedMarkdown[^"]*"[^>]*>)([\s\S]*?)(<\/div>)/g;

/** Script tags that load from a CDN or configure MathJax; nothing in a report needs them. */
const LINKED_SCRIPTS = [
  /<script[^>]*\bsrc="https?:\/\/[^"]*"[^>]*>\s*<\/script>\s*/g,
  /<script type="text\/x-mathjax-config">[\s\S]*?<\/script>\s*/g,
  /<script type="module">(?:(?!<\/script>)[\s\S])*?mermaid[\s\S]*?<\/script>\s*/g,
  /<!-- (?:Load mathjax|MathJax configuration|End of mathjax configuration) -->\s*/g,
];

let inlinedCss: string | undefined;

/** KaTeX's stylesheet with its woff2 fonts as data URLs (the woff and ttf fallbacks dropped). */
export function katexCss(): string {
  if (inlinedCss !== undefined) return inlinedCss;
  const css = Deno.readTextFileSync(packageUrl("katex", "dist/katex.min.css"));
  inlinedCss = css.replace(/src:([^;}]*)/g, (_all, sources: string) => {
    const woff2 = sources.match(/url\(([^)]+\.woff2)\)/)?.[1];
    if (!woff2) return `src:${sources}`;
    const bytes = Deno.readFileSync(
      packageUrl("katex", `dist/${woff2.replace(/^["']|["']$/g, "")}`),
    );
    return `src:url(data:font/woff2;base64,${base64(bytes)}) format("woff2")`;
  });
  return inlinedCss;
}

/**
 * The report with its markdown cells' math typeset, KaTeX's CSS inlined in the head, and the
 * linked scripts removed. Counts what it typeset, so the runner can say so.
 */
export function standaloneReport(html: string): { html: string; typeset: number } {
  let typeset = 0;
  const count = (piece: MathPiece) => {
    typeset++;
    return renderKatex(piece);
  };
  let out = html.replace(
    MARKDOWN_CELL,
    (_all, open, body, close) => open + typesetMarkdown(body, count) + close,
  );
  for (const pattern of LINKED_SCRIPTS) out = out.replace(pattern, "");
  if (typeset > 0) {
    out = out.replace("</head>", `<style>${katexCss()}</style>\n</head>`);
  }
  return { html: out, typeset };
}
