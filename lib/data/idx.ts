/**
 * The IDX file format of MNIST (LeCun et al.): a magic number, big-endian uint32 dimensions,
 * then the data. Only unsigned-byte data (type 0x08), the only kind MNIST uses.
 * @module
 */
import { gunzipSync } from "node:zlib";

/** A decoded IDX file: its dimensions and its unsigned bytes. */
export interface Idx {
  dims: number[];
  data: Uint8Array;
}

/** Options of {@linkcode readIdx}. */
export interface ReadIdxOptions {
  /** What to call the bytes in error messages, e.g. the file's path. */
  name?: string;
}

/** Decodes an unsigned-byte IDX file (gunzipping it first if it starts with the gzip magic). */
export function readIdx(bytes: Uint8Array, options: ReadIdxOptions = {}): Idx {
  const name = options.name ?? "IDX data";
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      const inflated = gunzipSync(bytes);
      // A plain Uint8Array view, not a node Buffer, so callers get one type either way.
      bytes = new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
    } catch (error) {
      throw new RangeError(`${name}: broken gzip stream (${(error as Error).message})`, {
        cause: error,
      });
    }
  }
  if (bytes.length < 4) throw new RangeError(`${name}: ${bytes.length} bytes, too short for IDX`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const rank = bytes[3];
  if ((magic & 0xffffff00) !== 0x00000800 || rank === 0) {
    const hex = magic.toString(16).padStart(8, "0");
    throw new TypeError(`${name}: bad magic number 0x${hex}; expected 0x0000080N (unsigned bytes)`);
  }
  const header = 4 + 4 * rank;
  if (bytes.length < header) {
    throw new RangeError(`${name}: truncated header (${bytes.length} bytes, need ${header})`);
  }
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const expected = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - header !== expected) {
    throw new RangeError(
      `${name}: dims [${dims.join(", ")}] need ${expected} data bytes; ` +
        `found ${bytes.length - header} (truncated or wrong file)`,
    );
  }
  return { dims, data: bytes.subarray(header) };
}

/** Encodes unsigned bytes with their dimensions as an (uncompressed) IDX file. */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  if (dims.length === 0 || dims.length > 255) {
    throw new RangeError(`dims must have 1 to 255 entries; got ${dims.length}`);
  }
  for (const [i, d] of dims.entries()) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw new RangeError(`dims[${i}] must be an unsigned 32-bit integer; got ${d}`);
    }
  }
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new RangeError(`data must hold ${expected} bytes for dims [${dims}]; got ${data.length}`);
  }
  const header = 4 + 4 * dims.length;
  const bytes = new Uint8Array(header + data.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x00000800 | dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  bytes.set(data, header);
  return bytes;
}
