/**
 * Stopping training on request: SIGINT, which Ctrl-C sends in a terminal and Jupyter's interrupt
 * button sends to the kernel. While training listens, the first SIGINT stops it after the current
 * step (the kernel, and everything computed so far, stays); a second one ends the process, as a
 * SIGINT does when nothing listens.
 * @module
 */
import type { Model } from "../model/mod.ts";
import type { TrainConfig } from "./config.ts";
import type { EpochRecord } from "./records.ts";

/** A SIGINT listener held while work runs. */
export interface Interruption {
  /** Whether a SIGINT came since the listener was added. */
  readonly requested: boolean;
  /** Stop listening (a later SIGINT does what it does by default). */
  close(): void;
}

/**
 * Listen for SIGINT until `close()`; `onRequest` runs at the first one. Where signals cannot be
 * listened to (a worker, another OS), `requested` stays false.
 */
export function listenForInterrupt(onRequest?: () => void): Interruption {
  let requested = false;
  const handler = () => {
    if (requested) Deno.exit(130); // asked twice: stop now
    requested = true;
    onRequest?.();
  };
  let listening = false;
  try {
    Deno.addSignalListener("SIGINT", handler);
    listening = true;
  } catch {
    // Not available here: training cannot be interrupted, only stopped with its process.
  }
  return {
    get requested() {
      return requested;
    },
    close() {
      if (listening) Deno.removeSignalListener("SIGINT", handler);
      listening = false;
    },
  };
}

/** Where an interrupted training run stopped, and what it had done. */
export interface InterruptedTraining {
  /** The epoch and the step (within it) after which training stopped. */
  epoch: number;
  step: number;
  /** Every completed epoch's records. */
  history: EpochRecord<string>[];
  /** The model as the last step left it (set by `train`; absent from a bare `runEpochs`). */
  model?: Model;
  config?: TrainConfig;
}

/** Training stopped by an interrupt; nothing was cached. */
export class TrainingInterrupted extends Error {
  readonly state: InterruptedTraining;
  /** The epochs the run was to train. */
  readonly epochs: number;
  constructor(state: InterruptedTraining, epochs: number) {
    const records = state.history.filter((r) => r.split === "train").length;
    super(
      `training interrupted after epoch ${state.epoch}/${epochs}, step ${state.step}; ` +
        `nothing was cached; lastInterruption() holds the model and the ${records} complete ` +
        `epoch(s) of history`,
    );
    this.name = "TrainingInterrupted";
    this.state = state;
    this.epochs = epochs;
  }
}

let last: InterruptedTraining | undefined;

/**
 * The last interrupted training run of this process (its model and its history so far), or
 * undefined: what a notebook cell reads after the interrupt button stopped a training cell.
 * @example
 * ```ts
 * const { history, model } = lastInterruption()!;
 * ```
 */
export function lastInterruption(): InterruptedTraining | undefined {
  return last;
}

/** Remember `state` as the last interruption. */
export function recordInterruption(state: InterruptedTraining): void {
  last = state;
}
