/**
 * Compact encodings of figure data, so an executed notebook stays small (internal to `viz`).
 * @module
 */

/**
 * A typed array as Plotly's typed-array spec (plotly.js >= 2.28): its bytes in base64, 4 to 12
 * times smaller than a JSON list of numbers, and one line in a saved notebook.
 */
export function packed(array: Uint8Array | Float32Array, shape?: [number, number]) {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  const dtype = array instanceof Uint8Array ? "u1" : "f4";
  return { dtype, bdata: btoa(binary), ...(shape ? { shape: shape.join(",") } : {}) };
}

/**
 * `k` of the indices `0..n-1` in increasing order, picked by a fixed hash rather than a stride,
 * which could keep only some labels of periodically ordered data.
 */
export function subset(n: number, k: number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (k >= n) return all;
  const hash = (i: number) => Math.imul(i + 1, 0x9e3779b1) >>> 0;
  return all.sort((a, b) => hash(a) - hash(b)).slice(0, k).sort((a, b) => a - b);
}

/** `x` to `digits` significant digits; null (a gap for Plotly) when not finite. */
export function round(x: number, digits: number): number | null {
  return Number.isFinite(x) ? Number(x.toPrecision(digits)) : null;
}
