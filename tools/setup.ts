/**
 * Install what the project needs beyond Deno, where it is missing, and say what it did: the
 * system BLAS (`tools/install_blas.sh`), Jupyter and the Deno kernel (`tools/install_jupyter.sh`)
 * and the npm packages. `deno task reproduce` does the same before it runs the notebooks.
 *
 *   deno task setup
 * @module
 */
import { prepare } from "./run_notebooks.ts";

if (import.meta.main) {
  try {
    await prepare("deno");
    console.error("vaelab: set up");
  } catch (error) {
    console.error(`setup: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
