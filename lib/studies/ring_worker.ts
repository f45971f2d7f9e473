/**
 * A ring worker (see `trainRingGans` in `ring.ts`): it trains one ring GAN on its own backend and
 * sends its snapshots back, reporting progress as it goes.
 * @module
 */
/// <reference lib="deno.worker" />
import { type BackendName, initBackend } from "../base/mod.ts";
import { type FromRingWorker, type ToRingWorker, trainRingGan } from "./ring_gan.ts";

const send = (message: FromRingWorker) => self.postMessage(message);

self.onmessage = async (event: MessageEvent<ToRingWorker>) => {
  const { options, backend } = event.data;
  try {
    await initBackend({ backend: backend as BackendName, quiet: true });
    const snapshots = await trainRingGan({
      ...options,
      onProgress: (progress) => send({ type: "progress", progress }),
    });
    send({ type: "done", snapshots });
  } catch (error) {
    send({
      type: "error",
      message: error instanceof Error ? error.stack ?? error.message : String(error),
    });
  }
};
