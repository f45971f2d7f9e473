/**
 * Tables and figures of the ELBO checks (the other files of this folder): they only draw what the
 * checks return.
 * @module
 */
import { meanWithError } from "../../base/mod.ts";
import type { ImportanceCurve } from "../../measure/mod.ts";
import { type Data, Figure, PALETTE, subplots, type Table, table } from "../../viz/mod.ts";
import type { LinearBounds } from "./bounds.ts";
import type { DerivationLine, GapClosingRun } from "./derivation.ts";
import type { IdentityDraw, QKind } from "./identity.ts";
import { boundsFigure, floored, line, LOG_FLOOR, markers, short } from "./_traces.ts";
import { importancePoints, type KlGridPoint } from "./importance.ts";

/** The kinds of q present, in the order the draws cycle through them. */
function kindsOf(draws: readonly IdentityDraw[]): QKind[] {
  return [...new Set(draws.map((r) => r.kind))];
}

/**
 * Per kind of q: the largest errors of the identity and the range of the gap log p(x) - ELBO.
 * @param draws from `identityCheck`
 * @example
 * ```ts
 * identityTable(identityCheck());
 * ```
 */
export function identityTable(draws: readonly IdentityDraw[]): Table {
  const max = (values: number[]) => Math.max(...values);
  return table(
    kindsOf(draws).map((kind) => {
      const rows = draws.filter((r) => r.kind === kind);
      const gaps = rows.map((r) => r.logPx - r.elbo);
      return {
        q: kind,
        draws: rows.length,
        "max |error| float64": max(rows.map((r) => Math.abs(r.error64))),
        "max |error| float32": max(rows.map((r) => Math.abs(r.error32))),
        "max relative float32": max(rows.map((r) => Math.abs(r.error32) / r.scale)),
        "max |ELBO|": max(rows.map((r) => Math.abs(r.elbo))),
        "min log p(x) - ELBO": Math.min(...gaps),
        "max log p(x) - ELBO": max(gaps),
      };
    }),
    { title: "log p(x) - (ELBO + KL(q || p(z|x))) by kind of q (nats)", digits: 3 },
  );
}

/**
 * Left: the gap log p(x) - ELBO against KL(q || p(z|x)), both exact, on the diagonal. Right: the
 * float32 error of the identity against the size of its largest term, with the 1e-3 line and
 * float32's relative precision 2^-24.
 * @param draws from `identityCheck`
 * @param tolerance the line drawn at this error, nats
 * @example
 * ```ts
 * identityFigure(identityCheck());
 * ```
 */
export function identityFigure(draws: readonly IdentityDraw[], tolerance = 1e-3): Figure {
  const kinds = kindsOf(draws);
  const gaps = draws.filter((r) => r.kind !== "posterior");
  const range = [Math.min(...gaps.map((r) => r.kl)), Math.max(...gaps.map((r) => r.kl))];
  const left = new Figure([
    line("gap = KL", range, range, "#444"),
    ...kinds.filter((kind) => kind !== "posterior").map((kind) => {
      const rows = draws.filter((r) => r.kind === kind);
      const color = PALETTE[kinds.indexOf(kind)];
      return markers(kind, rows.map((r) => r.kl), rows.map((r) => r.logPx - r.elbo), color, {
        legendgroup: kind,
      });
    }),
  ], {
    title: { text: "log p(x) - ELBO against KL(q || p(z|x)) (q = posterior: both 0)" },
    height: 420,
    xaxis: { type: "log", title: { text: "KL(q || p(z|x)), nats" } },
    yaxis: { type: "log", title: { text: "log p(x) - ELBO, nats" } },
  });
  const scales = [Math.min(...draws.map((r) => r.scale)), Math.max(...draws.map((r) => r.scale))];
  const right = new Figure([
    line(`${tolerance} nats`, scales, [tolerance, tolerance], "#d62728"),
    line("2^-24 x size", scales, scales.map((s) => s * 2 ** -24), "#444", "dot"),
    ...kinds.map((kind) => {
      const rows = draws.filter((r) => r.kind === kind);
      const color = PALETTE[kinds.indexOf(kind)];
      return markers(
        kind,
        rows.map((r) => r.scale),
        rows.map((r) => floored(Math.abs(r.error32))),
        color,
        { legendgroup: kind },
      );
    }),
  ], {
    title: { text: "float32: |log p(x) - ELBO - KL| against the largest term" },
    height: 420,
    xaxis: { type: "log", title: { text: "largest |term|, nats" } },
    yaxis: { type: "log", title: { text: `|error| in float32, nats (0 drawn at ${LOG_FLOOR})` } },
  });
  const figure = subplots([left, right], { columns: 2 });
  // Below the x-axis titles rather than over them.
  figure.layout.legend = { orientation: "h", y: -0.1, yanchor: "top" };
  figure.layout.margin = { ...figure.layout.margin, b: 90 };
  return figure;
}

/**
 * The gap log p(x) - ELBO(q_t) as gradient ascent proceeds, and the floor each must stop at.
 * @param runs from `gapClosing`
 * @example
 * ```ts
 * gapClosingFigure(gapClosing(ASCENT));
 * ```
 */
export function gapClosingFigure(runs: readonly GapClosingRun[]): Figure {
  const data = runs.flatMap((run, i) => {
    const steps = Array.from(run.gap, (_, t) => t);
    const traces = [{
      type: "scatter",
      mode: "lines",
      name: `${run.name}: log p(x) - ELBO`,
      x: steps,
      y: Array.from(run.gap, (g) => short(floored(g))),
      line: { color: PALETTE[i] },
    } as Data];
    if (run.floor > LOG_FLOOR) {
      traces.push(
        line(`${run.name}: KL of the best diagonal q`, [0, steps.length - 1], [
          run.floor,
          run.floor,
        ], PALETTE[i]),
      );
    }
    return traces;
  });
  return new Figure(data, {
    title: { text: "Gradient ascent on q's mean and log-variance closes the gap" },
    height: 420,
    xaxis: { title: { text: "Adam step" } },
    yaxis: {
      type: "log",
      title: { text: `nats (values below ${LOG_FLOOR} drawn at ${LOG_FLOOR})` },
    },
    legend: { orientation: "h", y: -0.2 },
  });
}

/**
 * The lines of the derivation: closed form, Monte-Carlo estimate, its standard error and z-score.
 * @param lines from `derivationLines`
 * @example
 * ```ts
 * derivationTable(derivationLines(PROBLEM));
 * ```
 */
export function derivationTable(lines: readonly DerivationLine[]): Table {
  return table(lines.map((l) => ({ ...l })), {
    title: "Each line of the derivation: closed form against Monte Carlo (nats)",
    digits: 4,
  });
}

/**
 * L_k - log p(x) against k for each proposal, with the exact log p(x) at 0.
 * @param bounds from `linearGaussianBounds`
 * @example
 * ```ts
 * linearBoundsFigure(linearGaussianBounds(BOUNDS));
 * ```
 */
export function linearBoundsFigure(bounds: LinearBounds): Figure {
  const shifted = bounds.curves.map((c) => ({
    name: c.name,
    points: c.points.map((p) => ({ ...p, mean: p.mean - bounds.logPx })),
  }));
  return boundsFigure(shifted, {
    title: "L_k - log p(x) on the linear-Gaussian model (± SE over repeats)",
    yTitle: "L_k - log p(x), nats",
    reference: { name: "exact log p(x)", value: 0 },
  });
}

/**
 * For each k and proposal: L_k - log p(x) and its standard error.
 * @param bounds from `linearGaussianBounds`
 * @example
 * ```ts
 * linearBoundsTable(linearGaussianBounds(BOUNDS));
 * ```
 */
export function linearBoundsTable(bounds: LinearBounds): Table {
  const ks = bounds.curves[0].points.map((p) => p.k);
  return table(
    ks.map((k, i) => ({
      k,
      ...Object.fromEntries(bounds.curves.flatMap((c) => [
        [`${c.name}: L_k - log p(x)`, c.points[i].mean - bounds.logPx],
        [`${c.name.split(" (")[0]}: std. error`, c.points[i].stdError],
      ])),
    })),
    {
      title: `L_k - log p(x), exact log p(x) = ${bounds.logPx.toFixed(4)}; KL(q || p(z|x)) = ${
        bounds.curves.map((c) => `${c.kl.toFixed(3)} (${c.name.split(" (")[0]})`).join(", ")
      }`,
      digits: 4,
    },
  );
}

/**
 * Closed-form KL (lines) and Monte Carlo (points, +-2 standard errors) against the mean, one colour per sigma.
 * @param points from `klGrid`
 * @example
 * ```ts
 * klGridFigure(klGrid(GRID));
 * ```
 */
export function klGridFigure(points: readonly KlGridPoint[]): Figure {
  const sigmas = [...new Set(points.map((p) => p.sigma))];
  const data = sigmas.flatMap((sigma, i) => {
    const rows = points.filter((p) => p.sigma === sigma);
    const color = PALETTE[i % PALETTE.length];
    const x = rows.map((p) => p.mean);
    const group = { legendgroup: `σ = ${sigma}` };
    return [
      {
        ...line(`σ = ${sigma}`, x, rows.map((p) => short(p.closedForm)), color, "solid"),
        ...group,
      },
      markers(`σ = ${sigma}`, x, rows.map((p) => p.monteCarlo), color, {
        ...group,
        showlegend: false,
        error_y: { type: "data", array: rows.map((p) => short(2 * p.stdError)) },
      }),
    ] as Data[];
  });
  return new Figure(data, {
    title: {
      text: "KL(N(μ, σ²) || N(0, 1)): closed form (lines), Monte Carlo (points, ± 2 SE)",
    },
    height: 460,
    xaxis: { title: { text: "μ" } },
    yaxis: { title: { text: "KL, nats" } },
  });
}

/**
 * L_k against k (+- SE over images) beside L_k - ELBO (+- SE of the per-image differences).
 * @param curve from `importanceCurve`
 * @example
 * ```ts
 * importanceFigure(importanceCurve(model, data.test, { ks: [1, 5, 50] }));
 * ```
 */
export function importanceFigure(curve: ImportanceCurve): Figure {
  const { bounds, gaps } = importancePoints(curve);
  return subplots([
    boundsFigure([bounds], {
      title: `L_k, mean over ${curve.images} test images (± SE)`,
      yTitle: "nats per image",
    }),
    boundsFigure([gaps], {
      title: "L_k - ELBO, paired per image (± SE)",
      yTitle: "nats per image",
    }),
  ], { columns: 2 });
}

/**
 * Each test image: its ELBO against how much L_k adds to it, one colour per k.
 * @param curve from `importanceCurve`
 * @example
 * ```ts
 * perImageFigure(curve);
 * ```
 */
export function perImageFigure(curve: ImportanceCurve): Figure {
  const elbo = Array.from(curve.elbo);
  const data = curve.ks.map((k, c) =>
    markers(
      `L_${k} - ELBO`,
      elbo,
      elbo.map((e, i) => curve.bounds[c][i] - e),
      PALETTE[c % PALETTE.length],
    )
  ).filter((_, c) => curve.ks[c] !== 1);
  return new Figure(data, {
    title: { text: "Per test image: the ELBO and what L_k adds to it" },
    height: 460,
    xaxis: { title: { text: "ELBO (nats)" } },
    yaxis: { title: { text: "L_k - ELBO (nats)" } },
  });
}

/**
 * The ELBO both ways, each L_k and its paired distance to the ELBO, with standard errors.
 * @param curve from `importanceCurve`
 * @example
 * ```ts
 * importanceTable(curve);
 * ```
 */
export function importanceTable(curve: ImportanceCurve): Table {
  const { bounds, gaps } = importancePoints(curve);
  const analytic = meanWithError(curve.analyticElbo);
  const difference = meanWithError(curve.analyticElbo.map((v, i) => v - curve.elbo[i]));
  return table([
    {
      estimate: "ELBO, KL closed form",
      "mean (nats)": analytic.mean,
      "std. error": analytic.stdError,
      "minus ELBO (paired)": difference.mean,
      "its std. error": difference.stdError,
    },
    ...curve.ks.map((k, c) => ({
      estimate: k === 1
        ? "L_1 = ELBO, KL sampled"
        : k === curve.samples
        ? `L_${k} (log p(x) estimate)`
        : `L_${k}`,
      "mean (nats)": bounds.points[c].mean,
      "std. error": bounds.points[c].stdError,
      "minus ELBO (paired)": gaps.points[c].mean,
      "its std. error": gaps.points[c].stdError,
    })),
  ], {
    title:
      `ELBO and L_k over ${curve.images} test images, ${curve.samples} samples z ~ q(z|x) each`,
    digits: 3,
  });
}
