import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import {
  BLAS_CANDIDATES,
  findBlas,
  initBackend,
  productInfo,
  productName,
  withWasmProduct,
} from "../../lib/base/mod.ts";
import { backendDescription } from "../../lib/base/mod.ts";
import { assertClose, read, values } from "../numeric.ts";

await initBackend({ backend: "wasm", quiet: true });

/** Run `f` with VAELAB_BLAS set to `value` (or unset), then put the variable back. */
function withBlasVariable<T>(value: string | undefined, f: () => T): T {
  const before = Deno.env.get("VAELAB_BLAS");
  if (value === undefined) Deno.env.delete("VAELAB_BLAS");
  else Deno.env.set("VAELAB_BLAS", value);
  try {
    return f();
  } finally {
    if (before === undefined) Deno.env.delete("VAELAB_BLAS");
    else Deno.env.set("VAELAB_BLAS", before);
  }
}

Deno.test("initBackend() found a product and says which: the system's BLAS where one loads, else ours and why", () => {
  const info = productInfo();
  assertEquals(productName(), info.product);
  assertStringIncludes(backendDescription(), `products on ${info.description}`);
  if (info.product === "wasm") {
    assert(info.reason, "the wasm product says why no BLAS is used");
    assertStringIncludes(info.description, info.reason);
  } else {
    assert(info.library, "a BLAS product names its library");
  }
  // CI installs OpenBLAS and sets this, so that the BLAS path is the one its tests exercise.
  if (Deno.env.get("VAELAB_REQUIRE_BLAS")) assertEquals(info.product, "openblas");
});

Deno.test("VAELAB_BLAS=off keeps our wasm product; a library that does not load is an error naming it", () => {
  const off = withBlasVariable("off", () => findBlas());
  assertEquals(off.blas, undefined);
  assertEquals(off.info.product, "wasm");
  assertEquals(off.info.reason, "VAELAB_BLAS=off");
  assertThrows(
    () => withBlasVariable("/nowhere/libnothing.so", () => findBlas()),
    Error,
    "VAELAB_BLAS=/nowhere/libnothing.so: cannot load it",
  );
});

Deno.test("auto tries the platform's libraries in turn, and names what it found or how to get one", () => {
  assert(BLAS_CANDIDATES.linux.includes("libopenblas.so.0"));
  assert(BLAS_CANDIDATES.darwin[0].includes("Accelerate.framework"));
  const found = withBlasVariable(undefined, () => findBlas());
  if (found.blas) {
    assertEquals(found.info, found.blas.info);
    assert(["openblas", "accelerate"].includes(found.info.product), found.info.description);
  } else if (Deno.build.os === "linux") {
    assertStringIncludes(found.info.reason!, "apt-get install libopenblas0-pthread");
  }
});

Deno.test("a loaded BLAS computes row-major products with either operand transposed, in place", () => {
  const { blas } = withBlasVariable(undefined, () => findBlas());
  if (!blas) return; // nothing to check without one: the wasm product is tested elsewhere
  const [m, n, k] = [3, 5, 4];
  const a = values(m * k, 1);
  const b = values(k * n, 2);
  const expected = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      for (let p = 0; p < k; p++) expected[i * n + j] += a[i * k + p] * b[p * n + j];
    }
  }
  const address = (x: Float32Array) => Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(x)));
  const c = new Float32Array(m * n).fill(7);
  // beta = 1 adds to what C held.
  blas.sgemm(false, false, m, n, k, address(a), address(b), 1, address(c));
  assertClose(c, expected.map((v) => v + 7), "A B + C");
  // op(A) = (A^T)^T: pass A^T [k, m] with transA.
  const at = new Float32Array(k * m);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) at[p * m + i] = a[i * k + p];
  const bt = new Float32Array(n * k);
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) bt[j * k + p] = b[p * n + j];
  blas.sgemm(true, true, m, n, k, address(at), address(bt), 0, address(c));
  assertClose(c, expected, "A^T^T B^T^T");
});

Deno.test("both products give the same matMul to float32 rounding, and ours is what withWasmProduct runs", () => {
  const product = () =>
    read(() =>
      tf.matMul(tf.tensor2d(values(37 * 65, 3), [37, 65]), tf.tensor2d(values(65 * 9, 4), [65, 9]))
    );
  const loaded = product();
  const ours = withWasmProduct(product);
  assertClose(ours, loaded, "37x65x9");
  // And withWasmProduct comes back to the loaded product, also after a throw.
  assertThrows(
    () =>
      withWasmProduct(() => {
        throw new Error("inside");
      }),
    Error,
    "inside",
  );
  assertEquals(Array.from(product()), Array.from(loaded));
});
