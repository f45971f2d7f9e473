/**
 * Text made safe for HTML, shared by the figures, the tables and the progress display.
 * @module
 */

/** Escape `&`, `<` and `>` so a text shows as written inside HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Keep a text safe inside an inline `<script>`: no `</script` or `<!--` can end or upset it. */
export function escapeScript(text: string): string {
  return text.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}
