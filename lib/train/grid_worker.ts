/**
 * A grid worker (see `grid.ts`): it trains one run of a grid on its own backend and writes it to
 * the run cache, reporting progress as it goes.
 * @module
 */
/// <reference lib="deno.worker" />
import { type BackendName, initBackend } from "../base/mod.ts";
import type { FromGridWorker, ToGridWorker } from "./grid.ts";
import { TrainingInterrupted } from "./interrupt.ts";
import { runOrLoad } from "./runs.ts";

const send = (message: FromGridWorker) => self.postMessage(message);

self.onmessage = async (event: MessageEvent<ToGridWorker>) => {
  const { data, config, dir, retrain, backend, workers } = event.data;
  try {
    await initBackend({ backend: backend as BackendName, quiet: true });
    await runOrLoad(data, config, {
      dir,
      retrain,
      workers,
      onProgress: (progress) => send({ type: "progress", progress }),
    });
    send({ type: "done" });
  } catch (error) {
    if (error instanceof TrainingInterrupted) {
      const { epoch, step } = error.state;
      send({ type: "interrupted", message: `stopped after epoch ${epoch}, step ${step}` });
      return;
    }
    send({
      type: "error",
      message: error instanceof Error ? error.stack ?? error.message : String(error),
    });
  }
};
