/**
 * The system's BLAS, reached through Deno's FFI, for the wasm backend's matrix products.
 *
 * `cblas_sgemm` reads and writes the backend's own heap in place: a tensor's address is the
 * heap's base address plus its offset, so no value is copied. Found once per thread (a worker
 * opens its own handle to the same library): OpenBLAS on Linux (Debian's
 * `libopenblas0-pthread`, or the names other distributions give it), Accelerate on macOS, or a
 * library named by `VAELAB_BLAS`. Where none loads, or FFI is not permitted, or `VAELAB_BLAS=off`,
 * the products run our wasm kernels, and {@linkcode productInfo} says why.
 *
 * OpenBLAS runs on one thread: our two-thread training gives each thread its own half of every
 * batch (two OpenBLAS threads inside each of the MLP VAE's products bought about 20% on its
 * products and nothing on the step, measured here). Its `OPENBLAS_*` environment variables are
 * left as the user set them (`OPENBLAS_CORETYPE` can slow a current OpenBLAS down); the core it
 * chose is reported.
 * @module
 */

/** What computes the wasm backend's matrix products. */
export interface ProductInfo {
  /** `openblas`, `accelerate`, `blas` (another library named by `VAELAB_BLAS`) or `wasm`. */
  product: "openblas" | "accelerate" | "blas" | "wasm";
  /** One line for people, e.g. `OpenBLAS 0.3.21 (SkylakeX core), libopenblas.so.0`. */
  description: string;
  /** The library's file, when one is used. */
  library?: string;
  /** Why no BLAS is used, when none is (e.g. `VAELAB_BLAS=off`). */
  reason?: string;
}

const SGEMM = {
  parameters: [
    "i32", // order
    "i32", // transA
    "i32", // transB
    "i32", // M
    "i32", // N
    "i32", // K
    "f32", // alpha
    "usize", // A
    "i32", // lda
    "usize", // B
    "i32", // ldb
    "f32", // beta
    "usize", // C
    "i32", // ldc
  ],
  result: "void",
} as const;

const SYMBOLS = {
  cblas_sgemm: SGEMM,
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_get_config: { parameters: [], result: "pointer", optional: true },
  openblas_get_corename: { parameters: [], result: "pointer", optional: true },
} as const;

type Library = Deno.DynamicLibrary<typeof SYMBOLS>;

/** The libraries tried in turn on each platform; the first that loads is used. */
export const BLAS_CANDIDATES: Readonly<Record<string, readonly string[]>> = {
  // Debian and Ubuntu (libopenblas0-*), Fedora (openblas-serial, -threads, -openmp), Arch;
  // libblas.so.3 is OpenBLAS where the distribution's alternatives point it there.
  linux: [
    "libopenblas.so.0",
    "libopenblas.so",
    "libopenblasp.so.0",
    "libopenblaso.so.0",
    "libblas.so.3",
  ],
  darwin: ["/System/Library/Frameworks/Accelerate.framework/Accelerate"],
};

const ROW_MAJOR = 101;
const NO_TRANSPOSE = 111;
const TRANSPOSE = 112;

/** A loaded BLAS: its description and a row-major `sgemm` on byte addresses. */
export interface Blas {
  info: ProductInfo;
  /**
   * C [M, N] = op(A) op(B) + beta C, row-major float32 at byte addresses: A is [M, K] (or [K, M]
   * when transA), B is [K, N] (or [N, K] when transB).
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: number,
    b: number,
    beta: number,
    c: number,
  ): void;
}

/** Read an environment variable, or undefined without the permission to. */
function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function cString(pointer: Deno.PointerValue): string {
  return pointer === null ? "" : Deno.UnsafePointerView.getCString(pointer).trim();
}

/** What a loaded library is: OpenBLAS names itself; Accelerate is known by its path. */
function describe(library: Library, path: string): ProductInfo | undefined {
  const s = library.symbols;
  if (s.openblas_get_config) {
    const config = cString(s.openblas_get_config());
    const version = /OpenBLAS\s+(\S+)/.exec(config)?.[1] ?? "";
    const core = s.openblas_get_corename ? cString(s.openblas_get_corename()) : "";
    return {
      product: "openblas",
      description: `OpenBLAS ${version}${core ? ` (${core} core)` : ""}, ${path}`.replace(
        "  ",
        " ",
      ),
      library: path,
    };
  }
  if (path.includes("Accelerate.framework")) {
    return { product: "accelerate", description: "Accelerate (macOS), cblas_sgemm", library: path };
  }
  return undefined;
}

function tryOpen(path: string): Library | undefined {
  try {
    return Deno.dlopen(path, SYMBOLS);
  } catch {
    return undefined;
  }
}

/** The wasm product, and why it is used. */
function wasmProduct(reason: string): ProductInfo {
  return { product: "wasm", description: `our wasm SIMD kernels (${reason})`, reason };
}

/**
 * Find the BLAS this thread's products should use, per `VAELAB_BLAS`: unset or `auto` tries
 * {@linkcode BLAS_CANDIDATES}; `off` uses none; a path loads that library or throws (an explicit
 * request must not silently become another product).
 */
export function findBlas(): { blas?: Blas; info: ProductInfo } {
  const wanted = env("VAELAB_BLAS")?.trim() || "auto";
  if (wanted === "off") return { info: wasmProduct("VAELAB_BLAS=off") };
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return { info: wasmProduct("no FFI permission: run Deno with --allow-ffi or -A") };
  }
  const paths = wanted === "auto" ? BLAS_CANDIDATES[Deno.build.os] ?? [] : [wanted];
  for (const path of paths) {
    const library = tryOpen(path);
    if (library === undefined) continue;
    const known = describe(library, path);
    // An unknown libblas.so.3 may be the reference BLAS, slower than our kernels: skip it.
    if (known === undefined && wanted === "auto") {
      library.close();
      continue;
    }
    const info = known ??
      { product: "blas", description: `cblas_sgemm from ${path}`, library: path };
    library.symbols.openblas_set_num_threads?.(1);
    return { blas: bind(library, info), info };
  }
  if (wanted !== "auto") {
    throw new Error(`VAELAB_BLAS=${wanted}: cannot load it, or it has no cblas_sgemm`);
  }
  const where = Deno.build.os === "linux"
    ? "no OpenBLAS found (Debian: apt-get install libopenblas0-pthread)"
    : `no BLAS known on ${Deno.build.os}`;
  return { info: wasmProduct(where) };
}

function bind(library: Library, info: ProductInfo): Blas {
  // Addresses go as numbers (exact below 2^53); Deno's FFI takes them for usize, though its types
  // ask for bigint.
  const sgemm = library.symbols.cblas_sgemm as unknown as (...args: number[]) => void;
  return {
    info,
    sgemm(transA, transB, m, n, k, a, b, beta, c) {
      sgemm(
        ROW_MAJOR,
        transA ? TRANSPOSE : NO_TRANSPOSE,
        transB ? TRANSPOSE : NO_TRANSPOSE,
        m,
        n,
        k,
        1,
        a,
        transA ? m : k,
        b,
        transB ? k : n,
        beta,
        c,
        n,
      );
    },
  };
}

let cachedBuffer: ArrayBufferLike | undefined;
let cachedBase = 0;

/**
 * The address of a wasm memory's first byte, as a number. Read again whenever the memory has
 * grown (growth replaces its buffer, detaching views of the old one).
 */
export function memoryAddress(memory: WebAssembly.Memory): number {
  const buffer = memory.buffer;
  if (buffer !== cachedBuffer) {
    const pointer = Deno.UnsafePointer.of(new Uint8Array(buffer));
    if (pointer === null) throw new Error("wasm memory has no address (a detached buffer?)");
    cachedBase = Number(Deno.UnsafePointer.value(pointer));
    cachedBuffer = buffer;
  }
  return cachedBase;
}
