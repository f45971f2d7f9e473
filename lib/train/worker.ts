/**
 * The worker of two-thread training (see `parallel.ts`): it builds its copy of the model from
 * the shared weights, replays the main thread's batches, and trains on the second half of each.
 * @module
 */
/// <reference lib="deno.worker" />
import { type BackendName, initBackend } from "../base/mod.ts";
import { buildModel, getWeights, type Model } from "../model/mod.ts";
import { blockingWait, type FromWorker, SharedStep, type ToWorker } from "./shared_step.ts";
import { epochBatches } from "./step.ts";

const send = (message: FromWorker) => self.postMessage(message);
let started = false;
let shared: SharedStep | undefined;
let model: Model | undefined;

async function start(message: ToWorker): Promise<void> {
  if (message.type !== "start") throw new Error(`expected "start", got "${message.type}"`);
  const { config, train, buffers } = message;
  await initBackend({ backend: message.backend as BackendName, quiet: true });
  model = buildModel(config);
  shared = new SharedStep({ buffers, shard: 1, model, config, wait: blockingWait });
  const size = model.variables.reduce((n, v) => n + v.size, 0);
  if (size !== shared.parameters) {
    throw new RangeError(
      `the config builds a model of ${size} weights; the model to train has ${shared.parameters}`,
    );
  }
  // The weights come from the shared buffer, like after every step.
  shared.load();
  send({ type: "ready" });
  const steps = Math.ceil(train.size / config.batchSize);
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    let step = 0;
    for (const batch of epochBatches(train, { ...config, epoch })) {
      step += 1;
      await shared.step(batch, { epoch, step, steps });
    }
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (!started) {
    started = true;
    start(message).catch((error) => {
      // The message first: the main thread reads it once it sees the flag.
      send({ type: "error", message: error?.stack ?? String(error) });
      shared?.fail();
    });
  } else if (message.type === "weights" && model) {
    send({ type: "weights", weights: getWeights(model) });
  }
};
