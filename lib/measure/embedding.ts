/**
 * Codes seen in a plane, as the lab asks ("the embeddings coloured by label"): the first two
 * coordinates, a PCA projection (npm `ml-pca`) and a UMAP embedding (npm `umap-js`) of all the
 * coordinates, and a number for how well the digits separate in each (a k-nearest-neighbour
 * accuracy).
 * @module
 */
import { PCA } from "ml-pca";
import { UMAP } from "umap-js";
import { positiveInteger, rng } from "../base/mod.ts";

/** Points in a plane, [n * 2] (x0, y0, x1, y1, ...). */
export type Plane = Float32Array;

function rows(points: Float32Array, dim: number): number[][] {
  positiveInteger("dim", dim);
  const n = points.length / dim;
  if (!Number.isInteger(n) || n < 3) {
    throw new RangeError(`points must hold 3 or more rows of ${dim}; got ${points.length} values`);
  }
  return Array.from({ length: n }, (_, i) => Array.from(points.subarray(i * dim, (i + 1) * dim)));
}

function plane(points: number[][]): Plane {
  const out = new Float32Array(points.length * 2);
  points.forEach(([x, y], i) => {
    out[2 * i] = x;
    out[2 * i + 1] = y;
  });
  return out;
}

/** The first two coordinates of each of the [n * dim] `points` (the lab's "first two of mu"). */
export function firstTwo(points: Float32Array, dim: number): Plane {
  if (dim < 2) throw new RangeError(`dim must be 2 or more; got ${dim}`);
  return plane(rows(points, dim));
}

/** The projection of the [n * dim] `points` on their first two principal components. */
export function pcaPlane(points: Float32Array, dim: number): Plane {
  if (dim < 2) throw new RangeError(`dim must be 2 or more; got ${dim}`);
  const data = rows(points, dim);
  const pca = new PCA(data, { center: true, scale: false });
  return plane(pca.predict(data, { nComponents: 2 }).to2DArray());
}

/**
 * A 2-D UMAP embedding (McInnes et al., 2018) of the [n * dim] `points`, with npm `umap-js`'s
 * defaults (15 neighbours, min distance 0.1) and its random numbers from `seed`: the same points
 * and seed give the same plane.
 */
export function umapPlane(
  points: Float32Array,
  dim: number,
  { seed, neighbours = 15 }: { seed: number; neighbours?: number },
): Plane {
  const data = rows(points, dim);
  const umap = new UMAP({ nComponents: 2, nNeighbors: neighbours, random: rng(seed) });
  return plane(umap.fit(data));
}

/**
 * How well the labels separate in a plane: the share of points whose `k` nearest other points
 * (Euclidean, in the plane) vote for their own label (leave-one-out; a tie goes to the nearest of
 * the tied labels). 1 when each digit is its own island; about the largest label's share when the
 * plane says nothing of the labels.
 */
export function knnAccuracy(points: Plane, labels: ArrayLike<number>, { k = 5 } = {}): number {
  const n = points.length / 2;
  if (labels.length !== n) {
    throw new RangeError(`${n} points but ${labels.length} labels`);
  }
  positiveInteger("k", k);
  if (k >= n) throw new RangeError(`k must be smaller than the ${n} points; got ${k}`);
  let right = 0;
  const distances = new Float64Array(n);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const dx = points[2 * i] - points[2 * j];
      const dy = points[2 * i + 1] - points[2 * j + 1];
      distances[j] = j === i ? Infinity : dx * dx + dy * dy;
      order[j] = j;
    }
    order.sort((a, b) => distances[a] - distances[b] || a - b);
    const votes = new Map<number, number>();
    for (let r = 0; r < k; r++) {
      const label = labels[order[r]];
      votes.set(label, (votes.get(label) ?? 0) + 1);
    }
    // The most votes; among equals, the label met first (the nearest).
    let best = labels[order[0]];
    for (let r = 0; r < k; r++) {
      const label = labels[order[r]];
      if (votes.get(label)! > votes.get(best)!) best = label;
    }
    if (best === labels[i]) right++;
  }
  return right / n;
}
