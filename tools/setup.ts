/**
 * Install what the project needs beyond Deno, where it is missing, and say what it did: the
 * system BLAS (`tools/install_blas.sh`), the project's Python environment `.venv/` with the pinned
 * JupyterLab, nbclient and nbconvert of requirements.txt and the Deno kernel
 * (`tools/install_jupyter.sh`), and the npm packages. `deno task reproduce` does the same before it runs the notebooks.
 *
 *   deno task setup
 * @module
 */
import { prepare } from "./run_notebooks.ts";

if (import.meta.main) {
  try {
    const started = performance.now();
    await prepare("deno");
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.error(`vaelab: set up in ${seconds} s (Jupyter in .venv/: .venv/bin/jupyter lab)`);
  } catch (error) {
    console.error(`setup: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
