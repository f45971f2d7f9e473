/**
 * A process that trains and interrupts itself (SIGINT, as Ctrl-C or Jupyter's interrupt button
 * sends) as epoch 2 ends, then prints what it kept as JSON: for `interrupt_test.ts`.
 *
 *   deno run -A tests/train/interrupt_child.ts DIR WORKERS
 * @module
 */
import {
  disposeModel,
  evaluate,
  initBackend,
  lastInterruption,
  runningWorkers,
  runOrLoad,
  TrainingInterrupted,
} from "../../lib/mod.ts";
import { CACHE_TEST_CONFIG, syntheticMnist } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });
const [dir, workers] = Deno.args;
const data = syntheticMnist(256, 64);
const config = { ...CACHE_TEST_CONFIG, epochs: 40 };
let error: unknown;
try {
  await runOrLoad(data, config, {
    dir,
    workers: Number(workers) as 1 | 2,
    onEpoch: (record) => {
      if (record.epoch === 2 && record.split === "test") Deno.kill(Deno.pid, "SIGINT");
    },
  });
} catch (caught) {
  error = caught;
}
const state = lastInterruption();
console.log(JSON.stringify({
  error: error instanceof TrainingInterrupted ? error.message : String(error),
  same: error instanceof TrainingInterrupted && error.state === state,
  epoch: state?.epoch,
  testRecords: state?.history.filter((r) => r.split === "test").length,
  configEpochs: state?.config?.epochs,
  // The model is there, with the weights training reached: it evaluates.
  loss: state?.model ? evaluate(state.model, data.test, config).loss : null,
  runningWorkers: runningWorkers(),
  cached: Array.from(Deno.readDirSync(dir), (e) => e.name),
}));
if (state?.model) disposeModel(state.model);
