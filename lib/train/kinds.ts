/**
 * What each model kind trains with on one thread, and what is measured on its test split after
 * every epoch: the loop (`loop.ts`) asks here and knows nothing of kinds.
 * @module
 */
import type { Dataset } from "../data/mod.ts";
import type { Model } from "../model/mod.ts";
import { AaeStep, GanStep } from "./adversarial.ts";
import { ClassifierStep, evaluateClassifier } from "./classify.ts";
import type { TrainConfig } from "./config.ts";
import { evaluate, latentUse } from "./evaluate.ts";
import { AdamStep, type Step } from "./step.ts";
import { VaeGanStep } from "./vaegan_step.ts";
import { evaluateVq, VqVaeStep } from "./vqvae_step.ts";

/** The step that trains a model of this kind on one thread. */
export function singleThreadStep(model: Model, config: TrainConfig): Step<string> {
  switch (config.kind) {
    case "gan":
      return new GanStep(model, config);
    case "aae":
      return new AaeStep(model, config);
    case "classifier":
      return new ClassifierStep(model, config);
    case "vqvae":
      return new VqVaeStep(model, config);
    case "vaegan":
      return new VaeGanStep(model, config);
    default:
      return new AdamStep(model, config);
  }
}

/**
 * What is measured on the test split after each epoch: the ELBO's terms (and the code's use) for
 * an AE, a VAE or an AAE (its reconstruction); cross-entropy and accuracy for the classifier; the
 * VQ-VAE's terms and codebook use; nothing for a GAN or a VAE-GAN, which have no pixel likelihood
 * to evaluate (their samples are scored afterwards).
 */
export function testEvaluation(
  model: Model,
  config: TrainConfig,
): ((test: Dataset) => Record<string, number | boolean>) | undefined {
  switch (config.kind) {
    case "gan":
    case "vaegan":
      return undefined;
    case "classifier":
      return (test) => evaluateClassifier(model, test);
    case "vqvae":
      return (test) => evaluateVq(model, test, config);
    default:
      return (test) => ({ ...evaluate(model, test, config), ...latentUse(model, test) });
  }
}
