/**
 * Tables, figures and claims of notebook 06 (the reparameterisation trick): they only draw and
 * check what `toy.ts` and `encoder.ts` return.
 * @module
 */
import type { EpochRecord } from "../../train/mod.ts";
import { type Figure, type Series, seriesFigure, type Table, table } from "../../viz/mod.ts";
import { type Claim, claimAbove, claimBelow } from "../claims.ts";
import type { EncoderVariance } from "./encoder.ts";
import {
  type BlockedGradient,
  ESTIMATOR_NAMES,
  toyClosedForm,
  type ToyEstimate,
  type ToyProblem,
} from "./toy.ts";

/** What each way of drawing z gives as the gradient, beside the closed form. */
export function blockedGradientTable(result: BlockedGradient): Table {
  return table([
    {
      "z drawn as": "tf.randomNormal(shape, mean, std)",
      "d/d mean, d/d std": result.sampled,
    },
    {
      "z drawn as": `mean + std * eps (${result.draws} draws)`,
      "d/d mean, d/d std": `${result.pathwise.dMean.toFixed(4)}, ${
        result.pathwise.dStd.toFixed(4)
      }`,
    },
    {
      "z drawn as": "closed form of E[f]",
      "d/d mean, d/d std": `${result.closedForm.dMean.toFixed(4)}, ${
        result.closedForm.dStd.toFixed(4)
      }`,
    },
  ], { title: "The gradient of the mean of (z - a)^2 over draws of z ~ N(mean, std^2)" });
}

/** Each estimator's mean against the closed form, in standard errors, and its variance. */
export function toyEstimatorTable(problem: ToyProblem, rows: readonly ToyEstimate[]): Table {
  const exact = toyClosedForm(problem);
  return table(
    rows.map((r) => ({
      estimator: r.estimator,
      "draws per estimate": r.samples,
      "d/d mean": r.dMean.mean,
      "(closed form)": exact.dMean,
      "off by (SE)": (r.dMean.mean - exact.dMean) / r.dMean.stdError,
      "d/d std": r.dStd.mean,
      "(closed form) ": exact.dStd,
      "off by (SE) ": (r.dStd.mean - exact.dStd) / r.dStd.stdError,
      "variance per draw": r.variancePerSample,
    })),
    { title: "Estimates of the gradient of E[(z - a)^2] over repeated draws", digits: 4 },
  );
}

/** The variance per draw of each estimator against the number of draws per estimate. */
export function toyVarianceFigure(rows: readonly ToyEstimate[]): Figure {
  const series: Series[] = ESTIMATOR_NAMES.map((name) => {
    const mine = rows.filter((r) => r.estimator === name);
    return { name, x: mine.map((r) => r.samples), y: mine.map((r) => r.variancePerSample) };
  });
  return seriesFigure(series, {
    title: "Variance of one draw's gradient (both parameters), by draws per estimate",
    xTitle: "draws per estimate",
    yTitle: "variance per draw",
    xType: "log",
    yType: "log",
  });
}

/**
 * Claims on the toy estimators: every estimate within `sigmas` standard errors of the closed
 * form, and the pathwise variance per draw below the baseline score function's by `factor`.
 */
export function toyClaims(
  problem: ToyProblem,
  rows: readonly ToyEstimate[],
  { sigmas = 3, factor }: { sigmas?: number; factor: number },
): Claim[] {
  const exact = toyClosedForm(problem);
  const worst = (name: string) =>
    Math.max(
      ...rows.filter((r) => r.estimator === name).flatMap((r) => [
        Math.abs(r.dMean.mean - exact.dMean) / r.dMean.stdError,
        Math.abs(r.dStd.mean - exact.dStd) / r.dStd.stdError,
      ]),
    );
  const variance = (name: string) =>
    Math.max(...rows.filter((r) => r.estimator === name).map((r) => r.variancePerSample));
  const least = (name: string) =>
    Math.min(...rows.filter((r) => r.estimator === name).map((r) => r.variancePerSample));
  return [
    ...ESTIMATOR_NAMES.map((name) =>
      claimBelow(`${name}: unbiased, worst distance to the closed form (SE)`, worst(name), sigmas)
    ),
    claimAbove(
      "score function with a baseline: its smallest variance per draw over the pathwise's largest",
      least("score function, baseline") / variance("pathwise"),
      factor,
    ),
    claimAbove(
      "the baseline lowers the score function's variance: without over with (smallest ratio)",
      least("score function") / variance("score function, baseline"),
      1,
    ),
  ];
}

/** Per encoder layer, each estimator's gradient variance and their ratio. */
export function encoderVarianceTable(rows: readonly EncoderVariance[]): Table {
  return table(
    rows.map((r) => ({
      layer: r.layer,
      parameters: r.parameters,
      "pathwise variance": r.pathwise,
      "score-function variance": r.score,
      "ratio (score / pathwise)": r.ratio,
      "pathwise |mean|^2": r.pathwiseSquaredMean,
    })),
    { title: "The encoder's gradient of the reconstruction term, over draws of eps", digits: 4 },
  );
}

/** Claims: the score function's variance above the pathwise one's by `factor` in every layer. */
export function encoderClaims(rows: readonly EncoderVariance[], factor: number): Claim[] {
  return rows.map((r) =>
    claimAbove(`${r.layer}: score-function variance over pathwise variance`, r.ratio, factor)
  );
}

/** The test -ELBO per epoch of training runs, one curve each. */
export function estimatorTrainingFigure(runs: Record<string, readonly EpochRecord[]>): Figure {
  return seriesFigure(
    Object.entries(runs).map(([name, history]) => {
      const test = history.filter((r) => r.split === "test");
      return { name, x: test.map((r) => r.epoch), y: test.map((r) => r.loss) };
    }),
    { title: "Test -ELBO by epoch, nats per image", xTitle: "epoch", yTitle: "-ELBO (nats)" },
  );
}

/** The last test -ELBO of a run's history. */
export function lastTestLoss(history: readonly EpochRecord[]): number {
  return history.filter((r) => r.split === "test").at(-1)!.loss;
}
