import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  katexCss,
  type MathPiece,
  standaloneReport,
  typesetMarkdown,
} from "../../tools/report_math.ts";

const show = ({ tex, display }: MathPiece) => `[${display ? "D" : "I"}:${tex}]`;

Deno.test("typesetMarkdown() finds each delimiter, unescapes the TeX and leaves tags and prices", () => {
  assertEquals(
    typesetMarkdown(
      "<p>$$a &lt; b$$ and \\[c\\], $x_i$ or \\(y\\); it costs $5 and $6.</p>" +
        "<p>\\begin{align}u &amp;= v\\end{align}</p>",
      show,
    ),
    "<p>[D:a < b] and [D:c], [I:x_i] or [I:y]; it costs $5 and $6.</p>" +
      "<p>[D:\\begin{align}u &= v\\end{align}]</p>",
  );
  // A $ in an attribute is not math; text that spans lines is (display math often does).
  assertEquals(
    typesetMarkdown('<a title="$x$">$$\na\n$$</a>', show),
    '<a title="$x$">[D:\na\n]</a>',
  );
});

Deno.test("standaloneReport() typesets markdown cells only, inlines KaTeX and drops CDN scripts", () => {
  const page = [
    "<html><head>",
    '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script>',
    '<!-- Load mathjax -->\n<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"> </script>',
    '<script type="text/x-mathjax-config">init_mathjax = function() {};</script>',
    '<script type="module">const m = await import("https://cdn/mermaid.esm.min.mjs");</script>',
    "</head><body>",
    '<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput"><p>$$\\log p(x)$$</p></div>',
    '<div class="jp-CodeMirrorEditor"><pre>const s = `${a}$$`;</pre></div>',
    "</body></html>",
  ].join("\n");
  const { html, typeset } = standaloneReport(page);
  assertEquals(typeset, 1);
  assertStringIncludes(html, 'class="katex-display"');
  assertStringIncludes(html, "const s = `${a}$$`;"); // code is not math
  assert(!/https?:\/\/|mathjax|mermaid/i.test(html), html.slice(0, 500));
  assertStringIncludes(html, "<style>");
  // Nothing typeset, nothing added.
  const plain = standaloneReport("<html><head></head><body><p>no math</p></body></html>");
  assertEquals(plain, {
    html: "<html><head></head><body><p>no math</p></body></html>",
    typeset: 0,
  });
});

Deno.test("katexCss() carries its fonts inline: no url() left but data URLs", () => {
  const css = katexCss();
  const urls = [...css.matchAll(/url\(([^)]*)\)/g)].map((m) => m[1]);
  assert(urls.length >= 20, `${urls.length} fonts`);
  assert(
    urls.every((u) => u.startsWith("data:font/woff2;base64,")),
    urls.find((u) => !u.startsWith("data:")),
  );
});
