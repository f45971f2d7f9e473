/**
 * Tables, figures and claims of notebook 06 (the reparameterisation trick): they only draw and
 * check what `toy.ts` and `encoder.ts` return.
 * @module
 */
import type { EpochRecord } from "../../train/mod.ts";
import { type Figure, type Series, seriesFigure, type Table, table } from "../../viz/mod.ts";
import { spread } from "../../base/mod.ts";
import { type Claim, claimAbove, claimBelow } from "../claims.ts";
import type { EncoderVariance, TermGradient } from "./encoder.ts";
import {
  type BlockedGradient,
  ESTIMATOR_NAMES,
  pathwiseVariancePerDraw,
  scoreVariancePerDraw,
  toyClosedForm,
  type ToyEstimate,
  type ToyProblem,
  toyRatios,
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

/** The three estimators' variance-per-draw ratios at each number of draws per estimate. */
export function toyRatioTable(rows: readonly ToyEstimate[]): Table {
  return table(
    toyRatios(rows).map((r) => ({
      "draws per estimate": r.samples,
      "score function / pathwise": r.scoreOverPathwise,
      "score function, baseline / pathwise": r.baselineOverPathwise,
      "score function / score function, baseline": r.scoreOverBaseline,
    })),
    { title: "Ratios of the variances per draw", digits: 2 },
  );
}

/** The limits {@linkcode toyClaims} holds the toy estimators to. */
export interface ToyClaimLimits {
  /** Every estimator's mean within this many standard errors of the closed form (default 3). */
  sigmas?: number;
  /**
   * The pathwise and the score function's variances per draw within this relative distance of
   * their closed forms (default 0.1).
   */
  closedForm?: number;
  /** A flat line: its largest variance per draw over its smallest below this (default 1.25). */
  flat?: number;
  /**
   * The baseline's variance per draw at the fewest draws over its largest at more draws, above
   * this (default 1.2): with two draws the baseline is one other draw's f.
   */
  noisyAtFewest?: number;
  /** The baseline score function's variance per draw over the pathwise one's, above at every N. */
  factor: number;
}

/** The toy's claims, by what they check (the notebook gives each group its id). */
export interface ToyClaims {
  /** Each estimator's worst distance to the closed form, in standard errors. */
  unbiased: Claim[];
  /** The pathwise and score-function variances per draw at their closed forms, at every N. */
  closedForms: Claim[];
  /** The pathwise and score-function lines flat in N; the baseline's from the second N on. */
  flatInN: Claim[];
  /** At the fewest draws the baseline is noisy: higher variance, and less than halved. */
  baselineNoisyAtFewest: Claim[];
  /** From the second N on, the baseline more than halves the score function's variance. */
  baselineHalves: Claim;
  /** The baseline score function's variance per draw above the pathwise one's by `factor`. */
  ordered: Claim;
}

/**
 * Claims on the toy estimators: unbiased, the pathwise variance at its closed form, which lines
 * are flat in the number of draws N, and how the three variances per draw compare at each N.
 */
export function toyClaims(
  problem: ToyProblem,
  rows: readonly ToyEstimate[],
  limits: ToyClaimLimits,
): ToyClaims {
  const { sigmas = 3, closedForm = 0.1, flat = 1.25, noisyAtFewest = 1.2 } = limits;
  const exact = toyClosedForm(problem);
  const of = (name: string, from = 0) =>
    rows.filter((r) => r.estimator === name && r.samples >= from).sort((a, b) =>
      a.samples - b.samples
    );
  const worst = (name: string) =>
    Math.max(
      ...of(name).flatMap((r) => [
        Math.abs(r.dMean.mean - exact.dMean) / r.dMean.stdError,
        Math.abs(r.dStd.mean - exact.dStd) / r.dStd.stdError,
      ]),
    );
  const variances = (name: string, from = 0) => of(name, from).map((r) => r.variancePerSample);
  const ratios = toyRatios(rows);
  const [fewest, second] = ratios.map((r) => r.samples);
  if (second === undefined) throw new RangeError("the toy's claims need two numbers of draws");
  const later = ratios.slice(1);
  const baseline = "score function, baseline";
  const spreadOf = (values: number[]) => Math.max(...values) / Math.min(...values);
  const pathwiseExact = pathwiseVariancePerDraw(problem);
  const scoreExact = scoreVariancePerDraw(problem);
  const round = (v: number) => Number(v.toFixed(2));
  return {
    unbiased: ESTIMATOR_NAMES.map((name) =>
      claimBelow(`${name}: unbiased, worst distance to the closed form (SE)`, worst(name), sigmas)
    ),
    closedForms: ([["pathwise", pathwiseExact], ["score function", scoreExact]] as const).map((
      [name, exact],
    ) =>
      claimBelow(
        `${name}: variance per draw, worst |v / ${round(exact)} - 1| over N`,
        Math.max(...variances(name).map((v) => Math.abs(v / exact - 1))),
        closedForm,
      )
    ),
    flatInN: [
      ...(["pathwise", "score function"] as const).map((name) =>
        claimBelow(
          `${name}: largest over smallest variance per draw`,
          spreadOf(variances(name)),
          flat,
        )
      ),
      claimBelow(
        `${baseline}, N = ${second} on: largest over smallest variance per draw`,
        spreadOf(variances(baseline, second)),
        flat,
      ),
    ],
    baselineNoisyAtFewest: [
      claimAbove(
        `${baseline}: variance per draw at N = ${fewest} over its largest from N = ${second} on`,
        variances(baseline)[0] / Math.max(...variances(baseline, second)),
        noisyAtFewest,
      ),
      claimAbove(`N = ${fewest}: without baseline over with`, ratios[0].scoreOverBaseline, 1),
      claimBelow(`N = ${fewest}: without baseline over with`, ratios[0].scoreOverBaseline, 2),
    ],
    baselineHalves: claimAbove(
      `without baseline over with, smallest from N = ${second} on`,
      Math.min(...later.map((r) => r.scoreOverBaseline)),
      2,
    ),
    ordered: claimAbove(
      `${baseline} over pathwise, smallest over N`,
      Math.min(...ratios.map((r) => r.baselineOverPathwise)),
      limits.factor,
    ),
  };
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

/** Per layer, the norm of each loss term's gradient (0 where the term has no path to it). */
export function termGradientTable(rows: readonly TermGradient[]): Table {
  return table(
    rows.map((r) => ({
      layer: r.layer,
      parameters: r.parameters,
      "|grad KL|": r.kl,
      "KL connected": r.klConnected ? "yes" : "no",
      "|grad reconstruction|": r.reconstruction,
    })),
    { title: "The gradient of each term of the loss, per layer (norm over its parameters)" },
  );
}

/** Claims: the score function's variance above the pathwise one's by `factor` in every layer. */
export function encoderClaims(rows: readonly EncoderVariance[], factor: number): Claim[] {
  return rows.map((r) =>
    claimAbove(`${r.layer}: score-function variance over pathwise variance`, r.ratio, factor)
  );
}

/** The test -ELBO after each epoch of a run's history. */
export function testLossByEpoch(history: readonly EpochRecord[]): number[] {
  return history.filter((r) => r.split === "test").map((r) => r.loss);
}

/**
 * The test -ELBO per epoch of each estimator's runs (one history per training seed): the mean
 * over the seeds, with error bars of one standard error (none with one seed).
 */
export function estimatorTrainingFigure(
  runs: Record<string, readonly (readonly EpochRecord[])[]>,
): Figure {
  return seriesFigure(
    Object.entries(runs).map(([name, histories]) => {
      const losses = histories.map(testLossByEpoch);
      const epochs = losses[0].map((_, e) => spread(losses.map((l) => l[e])));
      return {
        name,
        x: epochs.map((_, e) => e + 1),
        y: epochs.map((e) => e.mean),
        error: histories.length > 1 ? epochs.map((e) => e.stdError) : undefined,
      };
    }),
    {
      title: `Test -ELBO by epoch, nats per image (mean ± s.e. over ${
        Object.values(runs)[0].length
      } seed(s))`,
      xTitle: "epoch",
      yTitle: "-ELBO (nats)",
    },
  );
}

/** The last test -ELBO of a run's history. */
export function lastTestLoss(history: readonly EpochRecord[]): number {
  return history.filter((r) => r.split === "test").at(-1)!.loss;
}
