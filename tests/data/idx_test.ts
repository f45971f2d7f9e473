import { assertEquals, assertThrows } from "@std/assert";
import { gzipSync } from "node:zlib";
import { encodeIdx, readIdx } from "../../lib/data/mod.ts";

Deno.test("readIdx() inverts encodeIdx(), gzipped or not", () => {
  const data = Uint8Array.from({ length: 24 }, (_, i) => i * 10);
  const bytes = encodeIdx([2, 3, 4], data);
  assertEquals(Array.from(bytes.subarray(0, 8)), [0, 0, 8, 3, 0, 0, 0, 2]);
  for (const file of [bytes, gzipSync(bytes)]) {
    const idx = readIdx(file);
    assertEquals(idx.dims, [2, 3, 4]);
    assertEquals(idx.data, data);
  }
});

Deno.test("readIdx() rejects a bad magic number and a truncated body, naming the data", () => {
  const bytes = encodeIdx([5], new Uint8Array(5));
  assertThrows(
    () => readIdx(bytes.subarray(0, 7), { name: "x.idx" }),
    RangeError,
    "x.idx: truncated header",
  );
  assertThrows(
    () => readIdx(bytes.subarray(0, 12), { name: "x.idx" }),
    RangeError,
    "need 5 data bytes; found 4",
  );
  const float = Uint8Array.from(bytes);
  float[2] = 0x0d;
  assertThrows(
    () => readIdx(float, { name: "x.idx" }),
    TypeError,
    "x.idx: bad magic number 0x00000d01",
  );
});

Deno.test("encodeIdx() rejects data that does not match the dims", () => {
  assertThrows(() => encodeIdx([2, 2], new Uint8Array(3)), RangeError, "must hold 4 bytes");
  assertThrows(() => encodeIdx([-1], new Uint8Array(0)), RangeError, "dims[0]");
});
