// The matrix product and Adam's step for the wasm backend of TensorFlow.js, compiled to wasm32
// with SIMD by `tools/build_kernels.sh` into `kernels_wasm.ts`, wrapped as kernels by
// `compiled_kernels.ts` and registered by `wasm_kernels.ts`.
//
// The module imports the backend's own memory, so it reads and writes tensors in place. It uses
// no stack and no static data (the build checks this): every buffer is the caller's.

#include <wasm_simd128.h>

// Columns of a packed panel of B: two 4-lane vectors.
#define NR 8

// Copy op(B) [K, N] into panels of NR columns, panel p holding B(k, NR p .. NR p + NR - 1) for
// k = 0 .. K - 1 in a row of NR floats, zero past column N. B is [K, N], or [N, K] if trans_b.
static void pack_b(const float *b, float *packed, int K, int N, int trans_b) {
  for (int j0 = 0; j0 < N; j0 += NR) {
    const int width = N - j0 < NR ? N - j0 : NR;
    float *dst = packed + j0 * K;
    if (!trans_b && width == NR) {
      const float *src = b + j0;
      for (int k = 0; k < K; k++, src += N, dst += NR) {
        wasm_v128_store(dst, wasm_v128_load(src));
        wasm_v128_store(dst + 4, wasm_v128_load(src + 4));
      }
    } else if (!trans_b) {
      const float *src = b + j0;
      for (int k = 0; k < K; k++, src += N, dst += NR) {
        for (int t = 0; t < NR; t++) dst[t] = t < width ? src[t] : 0.0f;
      }
    } else {
      for (int t = 0; t < NR; t++) {
        const float *src = b + (j0 + t) * K;
        for (int k = 0; k < K; k++) dst[k * NR + t] = t < width ? src[k] : 0.0f;
      }
    }
  }
}

// x + bias, then the activation: 0 linear, 1 relu, 2 leaky relu max(x, alpha x) (alpha < 1).
static inline v128_t finish(v128_t x, v128_t bias, int activation, v128_t alpha) {
  x = wasm_f32x4_add(x, bias);
  if (activation == 1) x = wasm_f32x4_max(x, wasm_f32x4_splat(0.0f));
  if (activation == 2) x = wasm_f32x4_max(x, wasm_f32x4_mul(x, alpha));
  return x;
}

// Store the first `cols` of the 8 values (lo, hi) at c.
static inline void store_row(float *c, v128_t lo, v128_t hi, int cols) {
  if (cols == NR) {
    wasm_v128_store(c, lo);
    wasm_v128_store(c + 4, hi);
    return;
  }
  if (cols > 0) c[0] = wasm_f32x4_extract_lane(lo, 0);
  if (cols > 1) c[1] = wasm_f32x4_extract_lane(lo, 1);
  if (cols > 2) c[2] = wasm_f32x4_extract_lane(lo, 2);
  if (cols > 3) c[3] = wasm_f32x4_extract_lane(lo, 3);
  if (cols > 4) c[4] = wasm_f32x4_extract_lane(hi, 0);
  if (cols > 5) c[5] = wasm_f32x4_extract_lane(hi, 1);
  if (cols > 6) c[6] = wasm_f32x4_extract_lane(hi, 2);
}

// C [M, N] = act(op(A) op(B) + bias), row-major float32. A is [M, K], or [K, M] if trans_a; B is
// [K, N], or [N, K] if trans_b; bias is [N] or 0. `packed` holds K * (N rounded up to 8) floats.
// Tiles of 4 rows x 8 columns: 8 accumulators, each k adding a broadcast A value times a row
// of the packed B panel. A row of a tile past M repeats row 0 and is not stored.
__attribute__((export_name("gemm"))) void gemm(const float *a, const float *b, float *c,
                                             const float *bias, float *packed, int M, int N,
                                             int K, int trans_a, int trans_b, int activation,
                                             float alpha) {
  pack_b(b, packed, K, N, trans_b);
  // Element strides of A along its rows (i) and along k.
  const int si = trans_a ? 1 : K, sk = trans_a ? M : 1;
  const v128_t slope = wasm_f32x4_splat(alpha);
  for (int j0 = 0; j0 < N; j0 += NR) {
    const int cols = N - j0 < NR ? N - j0 : NR;
    const float *panel = packed + j0 * K;
    v128_t bias0 = wasm_f32x4_splat(0.0f), bias1 = bias0;
    if (bias) {
#define BIAS(q) ((q) < cols ? bias[j0 + (q)] : 0.0f)
      bias0 = wasm_f32x4_make(BIAS(0), BIAS(1), BIAS(2), BIAS(3));
      bias1 = wasm_f32x4_make(BIAS(4), BIAS(5), BIAS(6), BIAS(7));
#undef BIAS
    }
    for (int i0 = 0; i0 < M; i0 += 4) {
      const int rows = M - i0 < 4 ? M - i0 : 4;
      const float *a0 = a + i0 * si;
      const float *a1 = rows > 1 ? a0 + si : a0;
      const float *a2 = rows > 2 ? a0 + 2 * si : a0;
      const float *a3 = rows > 3 ? a0 + 3 * si : a0;
      v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00;
      v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      for (const float *p = panel, *end = panel + K * NR; p < end; p += NR) {
        const v128_t b0 = wasm_v128_load(p), b1 = wasm_v128_load(p + 4);
        v128_t x = wasm_v128_load32_splat(a0);
        c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x, b0));
        c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x, b1));
        x = wasm_v128_load32_splat(a1);
        c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x, b0));
        c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x, b1));
        x = wasm_v128_load32_splat(a2);
        c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x, b0));
        c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x, b1));
        x = wasm_v128_load32_splat(a3);
        c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x, b0));
        c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x, b1));
        a0 += sk;
        a1 += sk;
        a2 += sk;
        a3 += sk;
      }
      float *out = c + i0 * N + j0;
      store_row(out, finish(c00, bias0, activation, slope), finish(c01, bias1, activation, slope),
                cols);
      if (rows > 1) {
        store_row(out + N, finish(c10, bias0, activation, slope),
                  finish(c11, bias1, activation, slope), cols);
      }
      if (rows > 2) {
        store_row(out + 2 * N, finish(c20, bias0, activation, slope),
                  finish(c21, bias1, activation, slope), cols);
      }
      if (rows > 3) {
        store_row(out + 3 * N, finish(c30, bias0, activation, slope),
                  finish(c31, bias1, activation, slope), cols);
      }
    }
  }
}

// One Adam step on n values: m' = beta1 m + (1 - beta1) g, v' = beta2 v + (1 - beta2) g^2 and
// w' = w - step_size m' / (sqrt(v') root + epsilon), with g the gradient times `scale`
// (clipping), step_size = lr / (1 - beta1^t) and root = 1 / sqrt(1 - beta2^t).
__attribute__((export_name("adam"))) void adam(const float *w, const float *g, const float *m,
                                             const float *v, float *w_out, float *m_out,
                                             float *v_out, int n, float step_size, float root,
                                             float beta1, float beta2, float epsilon,
                                             float scale) {
  const v128_t b1 = wasm_f32x4_splat(beta1), c1 = wasm_f32x4_splat(1.0f - beta1);
  const v128_t b2 = wasm_f32x4_splat(beta2), c2 = wasm_f32x4_splat(1.0f - beta2);
  const v128_t lr = wasm_f32x4_splat(step_size), r = wasm_f32x4_splat(root);
  const v128_t eps = wasm_f32x4_splat(epsilon), s = wasm_f32x4_splat(scale);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t gi = wasm_f32x4_mul(wasm_v128_load(g + i), s);
    const v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(b1, wasm_v128_load(m + i)),
                                     wasm_f32x4_mul(c1, gi));
    const v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(b2, wasm_v128_load(v + i)),
                                     wasm_f32x4_mul(c2, wasm_f32x4_mul(gi, gi)));
    const v128_t denominator = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sqrt(vi), r), eps);
    wasm_v128_store(m_out + i, mi);
    wasm_v128_store(v_out + i, vi);
    wasm_v128_store(w_out + i, wasm_f32x4_sub(wasm_v128_load(w + i),
                                              wasm_f32x4_div(wasm_f32x4_mul(lr, mi), denominator)));
  }
  for (; i < n; i++) {
    const float gi = g[i] * scale;
    const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m_out[i] = mi;
    v_out[i] = vi;
    w_out[i] = w[i] - step_size * mi / (__builtin_sqrtf(vi) * root + epsilon);
  }
}
