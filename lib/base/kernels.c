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

// x with its subnormal lanes set to 0. A moment whose gradient stays 0 decays geometrically (m by
// 0.9 a step) into the subnormal range within a thousand steps, where x86 arithmetic takes a
// hundred cycles an operation: the step then slows by a quarter. Below 2^-126 a moment counts
// for nothing in the update anyway.
// NaN compares false, so it stays NaN.
static inline v128_t flush(v128_t x) {
  return wasm_v128_andnot(x, wasm_f32x4_lt(wasm_f32x4_abs(x), wasm_f32x4_splat(1.17549435e-38f)));
}

// acc_lo + the squares of v's two low lanes in float64; the two high lanes' into *acc_hi.
static inline v128_t square_halves(v128_t v, v128_t acc_lo, v128_t *acc_hi) {
  const v128_t lo = wasm_f64x2_promote_low_f32x4(v);
  const v128_t hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  *acc_hi = wasm_f64x2_add(*acc_hi, wasm_f64x2_mul(hi, hi));
  return wasm_f64x2_add(acc_lo, wasm_f64x2_mul(lo, lo));
}

// One Adam step on n values: m' = beta1 m + (1 - beta1) g, v' = beta2 v + (1 - beta2) g^2 and
// w' = w - step_size m' / (sqrt(v') root + epsilon), with g the gradient times `scale`
// (clipping), step_size = lr / (1 - beta1^t) and root = 1 / sqrt(1 - beta2^t). With a second
// gradient g1 (two threads' shards), g is the weighted average (a g0 + b g1) times `scale`.
// Returns sum g^2 in float64 (the norm's share of these values: finite or not, known after one
// pass). beta1 and beta2 come in float64, so 1 - beta is rounded once: in float32, 1 - beta2 for
// beta2 = 0.9999 would be off by 6e-4 of itself (fast-check's counterexample).
__attribute__((export_name("adam"))) double adam(const float *w, const float *g, const float *g1,
                                             const float *m, const float *v, float *w_out,
                                             float *m_out, float *v_out, int n, float step_size,
                                             float root, double beta1_64, double beta2_64, float epsilon,
                                             float scale, float a, float b) {
  const float beta1 = (float)beta1_64, beta2 = (float)beta2_64;
  const float one_minus_beta1 = (float)(1.0 - beta1_64), one_minus_beta2 = (float)(1.0 - beta2_64);
  const v128_t b1 = wasm_f32x4_splat(beta1), c1 = wasm_f32x4_splat(one_minus_beta1);
  const v128_t b2 = wasm_f32x4_splat(beta2), c2 = wasm_f32x4_splat(one_minus_beta2);
  const v128_t lr = wasm_f32x4_splat(step_size), r = wasm_f32x4_splat(root);
  const v128_t eps = wasm_f32x4_splat(epsilon), s = wasm_f32x4_splat(scale);
  const v128_t wa = wasm_f32x4_splat(a), wb = wasm_f32x4_splat(b);
  v128_t lo = wasm_f64x2_splat(0.0), hi = lo;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t gi = wasm_v128_load(g + i);
    if (g1) gi = wasm_f32x4_add(wasm_f32x4_mul(wa, gi), wasm_f32x4_mul(wb, wasm_v128_load(g1 + i)));
    gi = wasm_f32x4_mul(gi, s);
    lo = square_halves(gi, lo, &hi);
    const v128_t mi = flush(wasm_f32x4_add(wasm_f32x4_mul(b1, wasm_v128_load(m + i)),
                                           wasm_f32x4_mul(c1, gi)));
    const v128_t vi = flush(wasm_f32x4_add(wasm_f32x4_mul(b2, wasm_v128_load(v + i)),
                                           wasm_f32x4_mul(c2, wasm_f32x4_mul(gi, gi))));
    const v128_t denominator = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sqrt(vi), r), eps);
    wasm_v128_store(m_out + i, mi);
    wasm_v128_store(v_out + i, vi);
    wasm_v128_store(w_out + i, wasm_f32x4_sub(wasm_v128_load(w + i),
                                              wasm_f32x4_div(wasm_f32x4_mul(lr, mi), denominator)));
  }
  double squares = (wasm_f64x2_extract_lane(lo, 0) + wasm_f64x2_extract_lane(lo, 1)) +
                   (wasm_f64x2_extract_lane(hi, 0) + wasm_f64x2_extract_lane(hi, 1));
  for (; i < n; i++) {
    float gi = g[i];
    if (g1) gi = a * gi + b * g1[i];
    gi *= scale;
    squares += (double)gi * (double)gi;
    float mi = beta1 * m[i] + one_minus_beta1 * gi;
    float vi = beta2 * v[i] + one_minus_beta2 * gi * gi;
    if (__builtin_fabsf(mi) < 1.17549435e-38f) mi = 0.0f;
    if (__builtin_fabsf(vi) < 1.17549435e-38f) vi = 0.0f;
    m_out[i] = mi;
    v_out[i] = vi;
    w_out[i] = w[i] - step_size * mi / (__builtin_sqrtf(vi) * root + epsilon);
  }
  return squares;
}

// ---- The epilogue of a product or a convolution, and its gradient ----------------------------

static inline v128_t activate(v128_t x, int activation, v128_t alpha) {
  if (activation == 1) return wasm_f32x4_pmax(wasm_f32x4_splat(0.0f), x);
  if (activation == 2) return wasm_f32x4_pmax(wasm_f32x4_mul(x, alpha), x);
  return x;
}

// Lanes [0, count) of x from p (count < 4), the others 0; and their store back.
static inline v128_t load_part(const float *p, int count) {
  return wasm_f32x4_make(p[0], count > 1 ? p[1] : 0.0f, count > 2 ? p[2] : 0.0f, 0.0f);
}
static inline void store_part(float *p, v128_t x, int count) {
  p[0] = wasm_f32x4_extract_lane(x, 0);
  if (count > 1) p[1] = wasm_f32x4_extract_lane(x, 1);
  if (count > 2) p[2] = wasm_f32x4_extract_lane(x, 2);
}

// In place, C [M, N] = act(C + bias): bias [N] or 0; activation as in `gemm`.
__attribute__((export_name("bias_act"))) void bias_act(float *c, const float *bias, int M, int N,
                                                     int activation, float alpha) {
  const v128_t slope = wasm_f32x4_splat(alpha), zero = wasm_f32x4_splat(0.0f);
  for (int i = 0; i < M; i++, c += N) {
    int j = 0;
    for (; j + 4 <= N; j += 4) {
      const v128_t b = bias ? wasm_v128_load(bias + j) : zero;
      wasm_v128_store(c + j, activate(wasm_f32x4_add(wasm_v128_load(c + j), b), activation, slope));
    }
    if (j < N) {
      const v128_t b = bias ? load_part(bias + j, N - j) : zero;
      store_part(c + j, activate(wasm_f32x4_add(load_part(c + j, N - j), b), activation, slope),
                 N - j);
    }
  }
}

// The gradient through y = act(z + bias) given dy, both [M, N]: dz = dy * act'(z), read off y
// (relu: 1 where y > 0, else 0; leaky relu: 1 where y > 0, else alpha), and dbias [N] = the
// column sums of dz, row after row. dz is not written for the linear activation (it is dy);
// dbias may be 0.
__attribute__((export_name("activation_grad"))) void activation_grad(
    const float *dy, const float *y, float *dz, float *dbias, int M, int N, int activation,
    float alpha) {
  const v128_t zero = wasm_f32x4_splat(0.0f), one = wasm_f32x4_splat(1.0f);
  const v128_t below = wasm_f32x4_splat(activation == 2 ? alpha : 0.0f);
  if (dbias) {
    for (int j = 0; j < N; j++) dbias[j] = 0.0f;
  }
  for (int i = 0; i < M; i++, dy += N, y += N) {
    float *out = activation == 0 ? 0 : dz + i * N;
    int j = 0;
    for (; j + 4 <= N; j += 4) {
      v128_t g = wasm_v128_load(dy + j);
      if (out) {
        g = wasm_f32x4_mul(g, wasm_v128_bitselect(one, below, wasm_f32x4_gt(wasm_v128_load(y + j), zero)));
        wasm_v128_store(out + j, g);
      }
      if (dbias) wasm_v128_store(dbias + j, wasm_f32x4_add(wasm_v128_load(dbias + j), g));
    }
    for (; j < N; j++) {
      float g = dy[j];
      if (out) {
        g *= y[j] > 0.0f ? 1.0f : (activation == 2 ? alpha : 0.0f);
        out[j] = g;
      }
      if (dbias) dbias[j] += g;
    }
  }
}

// ---- Convolutions as products: im2row and its adjoint --------------------------------------

// dst[0, count) = src[0, count): memory.copy for long runs, a loop for the short runs of a
// one-channel image.
static inline void copy(float *dst, const float *src, int count) {
  if (count >= 16) {
    __builtin_memcpy(dst, src, (unsigned long)count * 4);
  } else {
    for (int t = 0; t < count; t++) dst[t] = src[t];
  }
}

static inline void zero(float *dst, int count) {
  if (count >= 16) {
    __builtin_memset(dst, 0, (unsigned long)count * 4);
  } else {
    for (int t = 0; t < count; t++) dst[t] = 0.0f;
  }
}

// dst[0, count) += src[0, count).
static inline void add_into(float *dst, const float *src, int count) {
  int t = 0;
  for (; t + 4 <= count; t += 4) {
    wasm_v128_store(dst + t, wasm_f32x4_add(wasm_v128_load(dst + t), wasm_v128_load(src + t)));
  }
  for (; t < count; t++) dst[t] += src[t];
}

// The rows of a convolution's product, for an NHWC image x [N, H, W, C] and a filter of FH x FW
// taps at strides (SH, SW) with `top` and `left` rows and columns of zero padding: row (n, oy,
// ox), column (i, j, c) of rows [N * OH * OW, FH * FW * C] holds x[n, oy SH + i - top, ox SW + j -
// left, c], 0 in the padding. Then conv(x, W) = rows W, W read as [FH * FW * C, Cout], and the
// filter's gradient is rows^T dy.
__attribute__((export_name("im2row"))) void im2row(const float *x, float *rows, int N, int H,
                                                 int W, int C, int FH, int FW, int SH, int SW,
                                                 int top, int left, int OH, int OW) {
  const int width = FW * C;
  for (int n = 0; n < N; n++) {
    for (int oy = 0; oy < OH; oy++) {
      for (int ox = 0; ox < OW; ox++) {
        for (int i = 0; i < FH; i++, rows += width) {
          const int iy = oy * SH + i - top;
          if (iy < 0 || iy >= H) {
            zero(rows, width);
            continue;
          }
          // Taps j0 <= j < j1 fall inside the image: one contiguous run of x.
          const int x0 = ox * SW - left;
          const int j0 = x0 < 0 ? -x0 : 0;
          const int j1 = W - x0 < FW ? W - x0 : FW;
          if (j1 <= j0) {
            zero(rows, width);
            continue;
          }
          zero(rows, j0 * C);
          copy(rows + j0 * C, x + ((n * H + iy) * W + x0 + j0) * C, (j1 - j0) * C);
          zero(rows + j1 * C, (FW - j1) * C);
        }
      }
    }
  }
}

// The adjoint of im2row: dx [N, H, W, C] = the sum, over the rows and columns of `rows` that
// im2row would have read from each pixel, of their values. Then the input gradient of a
// convolution is row2im(dy W^T), and a transposed convolution is row2im(x W^T).
__attribute__((export_name("row2im"))) void row2im(const float *rows, float *dx, int N, int H,
                                                 int W, int C, int FH, int FW, int SH, int SW,
                                                 int top, int left, int OH, int OW) {
  const int width = FW * C;
  zero(dx, N * H * W * C);
  for (int n = 0; n < N; n++) {
    for (int oy = 0; oy < OH; oy++) {
      for (int ox = 0; ox < OW; ox++) {
        for (int i = 0; i < FH; i++, rows += width) {
          const int iy = oy * SH + i - top;
          if (iy < 0 || iy >= H) continue;
          const int x0 = ox * SW - left;
          const int j0 = x0 < 0 ? -x0 : 0;
          const int j1 = W - x0 < FW ? W - x0 : FW;
          if (j1 <= j0) continue;
          add_into(dx + ((n * H + iy) * W + x0 + j0) * C, rows + j0 * C, (j1 - j0) * C);
        }
      }
    }
  }
}

// ---- The Bernoulli likelihood and its gradient --------------------------------------------

// exp(x) (Cephes' expf: x = n log 2 + r, |r| <= log(2) / 2, a degree-7 polynomial of r, times
// 2^n); about 1 ulp. x is clamped to [-87, 89] first: below -87 the result is a tiny normal
// number instead of 0 or a denormal; from about 88.4 up it is +Infinity (float32 overflows at
// 88.72); NaN stays NaN.
static inline v128_t exp_clamped(v128_t x) {
  // pmin/pmax: one instruction each on x86 (min/max add NaN and -0 handling); NaN passes through.
  x = wasm_f32x4_pmax(wasm_f32x4_splat(-87.0f), wasm_f32x4_pmin(wasm_f32x4_splat(89.0f), x));
  // n = round(x / log 2) by the magic-number trick: adding 1.5 * 2^23 leaves n in the low bits.
  const v128_t magic = wasm_f32x4_splat(12582912.0f);
  const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)), magic);
  const v128_t n = wasm_f32x4_sub(t, magic);
  x = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  x = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.9875691500E-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), wasm_f32x4_splat(1.3981999507E-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), wasm_f32x4_splat(8.3334519073E-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), wasm_f32x4_splat(4.1665795894E-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), wasm_f32x4_splat(1.6666665459E-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), wasm_f32x4_splat(5.0000001201E-1f));
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, wasm_f32x4_mul(x, x)), x),
                     wasm_f32x4_splat(1.0f));
  // 2^n from n's bits in t: (n + 127) << 23.
  const v128_t bits = wasm_i32x4_sub(t, magic);
  const v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(bits, wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, scale);
}

// log(1 + t) for t in [0, 1] (Cephes' logf polynomial on 1 + t, or on (1 + t) / 2 above sqrt(2),
// with the reduced argument formed without rounding 1 + t, so tiny t keep their digits).
static inline v128_t log1p_unit(v128_t t) {
  const v128_t big = wasm_f32x4_gt(t, wasm_f32x4_splat(0.41421356237f));
  const v128_t f = wasm_v128_bitselect(
      wasm_f32x4_mul(wasm_f32x4_sub(t, wasm_f32x4_splat(1.0f)), wasm_f32x4_splat(0.5f)), t, big);
  const v128_t z = wasm_f32x4_mul(f, f);
  v128_t p = wasm_f32x4_splat(7.0376836292E-2f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(-1.1514610310E-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(1.1676998740E-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(-1.2420140846E-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(1.4249322787E-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(-1.6668057665E-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(2.0000714765E-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(-2.4999993993E-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(3.3333331174E-1f));
  v128_t y = wasm_f32x4_mul(wasm_f32x4_mul(p, z), f);
  y = wasm_f32x4_sub(y, wasm_f32x4_mul(z, wasm_f32x4_splat(0.5f)));
  y = wasm_f32x4_add(y, f);
  return wasm_f32x4_add(y, wasm_v128_and(big, wasm_f32x4_splat(0.693147180559945f)));
}

// x l - softplus(l) = x l - max(l, 0) - log(1 + exp(-|l|)).
static inline v128_t bernoulli_term(v128_t x, v128_t l) {
  const v128_t soft = wasm_f32x4_add(wasm_f32x4_pmax(wasm_f32x4_splat(0.0f), l),
                                     log1p_unit(exp_clamped(wasm_f32x4_neg(wasm_f32x4_abs(l)))));
  return wasm_f32x4_sub(wasm_f32x4_mul(x, l), soft);
}

// sigmoid(l) = 1 / (1 + e) for l >= 0 and e / (1 + e) below, e = exp(-|l|).
static inline v128_t sigmoid(v128_t l) {
  const v128_t e = exp_clamped(wasm_f32x4_neg(wasm_f32x4_abs(l)));
  const v128_t s = wasm_f32x4_div(wasm_f32x4_splat(1.0f), wasm_f32x4_add(e, wasm_f32x4_splat(1.0f)));
  return wasm_v128_bitselect(s, wasm_f32x4_mul(e, s), wasm_f32x4_ge(l, wasm_f32x4_splat(0.0f)));
}

static inline float lanes_sum(v128_t x) {
  return (wasm_f32x4_extract_lane(x, 0) + wasm_f32x4_extract_lane(x, 1)) +
         (wasm_f32x4_extract_lane(x, 2) + wasm_f32x4_extract_lane(x, 3));
}

// out[i] = log p(x_i | l_i) = sum_j x_ij l_ij - softplus(l_ij), for x, l [M, N].
__attribute__((export_name("bernoulli_ll"))) void bernoulli_ll(const float *x, const float *l,
                                                             float *out, int M, int N) {
  for (int i = 0; i < M; i++, x += N, l += N) {
    // Two accumulators: two independent chains for the processor to overlap.
    v128_t sum = wasm_f32x4_splat(0.0f), other = sum;
    int j = 0;
    for (; j + 8 <= N; j += 8) {
      sum = wasm_f32x4_add(sum, bernoulli_term(wasm_v128_load(x + j), wasm_v128_load(l + j)));
      other = wasm_f32x4_add(other,
                             bernoulli_term(wasm_v128_load(x + j + 4), wasm_v128_load(l + j + 4)));
    }
    sum = wasm_f32x4_add(sum, other);
    for (; j + 4 <= N; j += 4) {
      sum = wasm_f32x4_add(sum, bernoulli_term(wasm_v128_load(x + j), wasm_v128_load(l + j)));
    }
    if (j < N) {
      // Padding lanes: x = l = 0 add 0 - log 2 each; take only the real lanes.
      const v128_t tail = bernoulli_term(load_part(x + j, N - j), load_part(l + j, N - j));
      float rest = 0.0f;
      for (int t = 0; t < N - j; t++) {
        rest += t == 0 ? wasm_f32x4_extract_lane(tail, 0)
                : t == 1 ? wasm_f32x4_extract_lane(tail, 1)
                         : wasm_f32x4_extract_lane(tail, 2);
      }
      out[i] = lanes_sum(sum) + rest;
    } else {
      out[i] = lanes_sum(sum);
    }
  }
}

// dl = (x - sigmoid(l)) dy_i, row i scaled by dy[i]: the gradient of sum_i dy_i log p(x_i | l_i).
__attribute__((export_name("bernoulli_grad"))) void bernoulli_grad(const float *x, const float *l,
                                                                 const float *dy, float *dl,
                                                                 int M, int N) {
  for (int i = 0; i < M; i++, x += N, l += N, dl += N) {
    const v128_t scale = wasm_f32x4_splat(dy[i]);
    int j = 0;
    for (; j + 4 <= N; j += 4) {
      const v128_t g = wasm_f32x4_sub(wasm_v128_load(x + j), sigmoid(wasm_v128_load(l + j)));
      wasm_v128_store(dl + j, wasm_f32x4_mul(g, scale));
    }
    if (j < N) {
      const v128_t g = wasm_f32x4_sub(load_part(x + j, N - j), sigmoid(load_part(l + j, N - j)));
      store_part(dl + j, wasm_f32x4_mul(g, scale), N - j);
    }
  }
}

// ---- Reductions -------------------------------------------------------------------------------


// sum_i x_i^2 in float64 (two lanes of two accumulators each, added at the end). With a second
// array x1, of the float32 weighted average a x_i + b x1_i (what the two-thread Adam step reads).
__attribute__((export_name("sum_squares"))) double sum_squares(const float *x, const float *x1,
                                                             float a, float b, int n) {
  const v128_t wa = wasm_f32x4_splat(a), wb = wasm_f32x4_splat(b);
  v128_t lo = wasm_f64x2_splat(0.0), hi = lo;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    if (x1) v = wasm_f32x4_add(wasm_f32x4_mul(wa, v), wasm_f32x4_mul(wb, wasm_v128_load(x1 + i)));
    lo = square_halves(v, lo, &hi);
  }
  double sum = (wasm_f64x2_extract_lane(lo, 0) + wasm_f64x2_extract_lane(lo, 1)) +
               (wasm_f64x2_extract_lane(hi, 0) + wasm_f64x2_extract_lane(hi, 1));
  for (; i < n; i++) {
    const float v = x1 ? a * x[i] + b * x1[i] : x[i];
    sum += (double)v * (double)v;
  }
  return sum;
}

// ---- The Gaussian latent layer: the reparameterisation trick and the KL to N(0, I) ------------

// z = mean + exp(logVar / 2) eps, elementwise over n values.
__attribute__((export_name("reparam"))) void reparam(const float *mean, const float *log_var,
                                                   const float *eps, float *z, int n) {
  const v128_t half = wasm_f32x4_splat(0.5f);
  for (int i = 0; i < n; i += 4) {
    const int count = n - i < 4 ? n - i : 4;
    const v128_t lv = count == 4 ? wasm_v128_load(log_var + i) : load_part(log_var + i, count);
    const v128_t e = count == 4 ? wasm_v128_load(eps + i) : load_part(eps + i, count);
    const v128_t mu = count == 4 ? wasm_v128_load(mean + i) : load_part(mean + i, count);
    const v128_t out = wasm_f32x4_add(mu, wasm_f32x4_mul(exp_clamped(wasm_f32x4_mul(lv, half)), e));
    if (count == 4) {
      wasm_v128_store(z + i, out);
    } else {
      store_part(z + i, out, count);
    }
  }
}

// The gradient of z's reparameterisation with respect to logVar: dlogVar = dz eps exp(logVar / 2)
// / 2 (the mean's is dz itself).
__attribute__((export_name("reparam_grad"))) void reparam_grad(const float *log_var,
                                                             const float *eps, const float *dz,
                                                             float *dlv, int n) {
  const v128_t half = wasm_f32x4_splat(0.5f);
  for (int i = 0; i < n; i += 4) {
    const int count = n - i < 4 ? n - i : 4;
    const v128_t lv = count == 4 ? wasm_v128_load(log_var + i) : load_part(log_var + i, count);
    const v128_t e = count == 4 ? wasm_v128_load(eps + i) : load_part(eps + i, count);
    const v128_t g = count == 4 ? wasm_v128_load(dz + i) : load_part(dz + i, count);
    const v128_t s = exp_clamped(wasm_f32x4_mul(lv, half));
    const v128_t out = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(g, e), s), half);
    if (count == 4) {
      wasm_v128_store(dlv + i, out);
    } else {
      store_part(dlv + i, out, count);
    }
  }
}

// kl[i] = -1/2 sum_j ((1 + logVar_ij) - mean_ij^2) - exp(logVar_ij): KL(N(mean, exp(logVar)) ||
// N(0, I)) per row of [M, N].
__attribute__((export_name("gaussian_kl"))) void gaussian_kl(const float *mean, const float *log_var,
                                                           float *kl, int M, int N) {
  const v128_t one = wasm_f32x4_splat(1.0f);
  for (int i = 0; i < M; i++, mean += N, log_var += N) {
    v128_t sum = wasm_f32x4_splat(0.0f);
    float rest = 0.0f;
    for (int j = 0; j < N; j += 4) {
      const int count = N - j < 4 ? N - j : 4;
      const v128_t lv = count == 4 ? wasm_v128_load(log_var + j) : load_part(log_var + j, count);
      const v128_t mu = count == 4 ? wasm_v128_load(mean + j) : load_part(mean + j, count);
      const v128_t t = wasm_f32x4_sub(wasm_f32x4_sub(wasm_f32x4_add(lv, one), wasm_f32x4_mul(mu, mu)),
                                      exp_clamped(lv));
      if (count == 4) {
        sum = wasm_f32x4_add(sum, t);
      } else {
        // Padding lanes hold 1 + 0 - 0 - exp(0) = 0, but keep only the real ones.
        rest += wasm_f32x4_extract_lane(t, 0);
        if (count > 1) rest += wasm_f32x4_extract_lane(t, 1);
        if (count > 2) rest += wasm_f32x4_extract_lane(t, 2);
      }
    }
    kl[i] = (lanes_sum(sum) + rest) * -0.5f;
  }
}

// The KL's gradient given dkl [M]: dmean = dkl_i mean, dlogVar = dkl_i (exp(logVar) - 1) / 2.
__attribute__((export_name("gaussian_kl_grad"))) void gaussian_kl_grad(
    const float *mean, const float *log_var, const float *dkl, float *dmean, float *dlv, int M,
    int N) {
  const v128_t one = wasm_f32x4_splat(1.0f), half = wasm_f32x4_splat(0.5f);
  for (int i = 0; i < M; i++, mean += N, log_var += N, dmean += N, dlv += N) {
    const v128_t g = wasm_f32x4_splat(dkl[i]);
    for (int j = 0; j < N; j += 4) {
      const int count = N - j < 4 ? N - j : 4;
      const v128_t lv = count == 4 ? wasm_v128_load(log_var + j) : load_part(log_var + j, count);
      const v128_t mu = count == 4 ? wasm_v128_load(mean + j) : load_part(mean + j, count);
      const v128_t a = wasm_f32x4_mul(g, mu);
      const v128_t b = wasm_f32x4_mul(wasm_f32x4_mul(g, wasm_f32x4_sub(exp_clamped(lv), one)), half);
      if (count == 4) {
        wasm_v128_store(dmean + j, a);
        wasm_v128_store(dlv + j, b);
      } else {
        store_part(dmean + j, a, count);
        store_part(dlv + j, b, count);
      }
    }
  }
}

// ---- One MLP VAE's training step without the autodiff engine (`mlp_vae_kernel.ts`) ---------

// The latent layer, forward: head [B, 2L] holds (mean | logVar) row by row; z = mean +
// exp(logVar / 2) eps [B, L], and kl[i] = -1/2 sum_j (1 + logVar - mean^2 - exp(logVar)) (KL to
// N(0, I)), in the order of `reparam` and `gaussian_kl`.
__attribute__((export_name("latent_forward"))) void latent_forward(const float *head,
                                                                 const float *eps, float *z,
                                                                 float *kl, int B, int L) {
  for (int i = 0; i < B; i++, head += 2 * L, eps += L, z += L) {
    reparam(head, head + L, eps, z, L);
    gaussian_kl(head, head + L, kl + i, 1, L);
  }
}

// The latent layer, backward, given dz [B, L] and coef [B], the loss's derivative with respect
// to each row's KL: dhead [B, 2L] = (dz + coef mean | dz eps exp(logVar / 2) / 2 + coef
// (exp(logVar) - 1) / 2), each part in the order of the separate kernels' sum.
__attribute__((export_name("latent_backward"))) void latent_backward(
    const float *head, const float *eps, const float *dz, const float *coef, float *dhead, int B,
    int L) {
  for (int i = 0; i < B; i++, head += 2 * L, eps += L, dz += L, dhead += 2 * L) {
    // The KL's share first, into dhead; then the reparameterisation's added to it.
    gaussian_kl_grad(head, head + L, coef + i, dhead, dhead + L, 1, L);
    for (int j = 0; j < L; j += 4) {
      const int count = L - j < 4 ? L - j : 4;
      const v128_t g = count == 4 ? wasm_v128_load(dz + j) : load_part(dz + j, count);
      const v128_t lv = count == 4 ? wasm_v128_load(head + L + j) : load_part(head + L + j, count);
      const v128_t e = count == 4 ? wasm_v128_load(eps + j) : load_part(eps + j, count);
      const v128_t half = wasm_f32x4_splat(0.5f);
      const v128_t dlv =
          wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(g, e), exp_clamped(wasm_f32x4_mul(lv, half))),
                         half);
      const v128_t m0 = count == 4 ? wasm_v128_load(dhead + j) : load_part(dhead + j, count);
      const v128_t l0 = count == 4 ? wasm_v128_load(dhead + L + j) : load_part(dhead + L + j, count);
      const v128_t mean = wasm_f32x4_add(g, m0), logv = wasm_f32x4_add(dlv, l0);
      if (count == 4) {
        wasm_v128_store(dhead + j, mean);
        wasm_v128_store(dhead + L + j, logv);
      } else {
        store_part(dhead + j, mean, count);
        store_part(dhead + L + j, logv, count);
      }
    }
  }
}

// One block of a row's per-pixel log-likelihood terms and gradients: a full block of 4 goes to
// one of two accumulators (alternating, as the other kernels sum), a last partial block to the
// scalar tail; the gradient g is stored at dl + j.
static inline void add_term(v128_t term, v128_t g, float *dl, int j, int count, v128_t *sum,
                            v128_t *other, float *rest) {
  if (count == 4) {
    if (j & 4) {
      *other = wasm_f32x4_add(*other, term);
    } else {
      *sum = wasm_f32x4_add(*sum, term);
    }
    wasm_v128_store(dl + j, g);
  } else {
    *rest += wasm_f32x4_extract_lane(term, 0);
    if (count > 1) *rest += wasm_f32x4_extract_lane(term, 1);
    if (count > 2) *rest += wasm_f32x4_extract_lane(term, 2);
    store_part(dl + j, g, count);
  }
}

// The Bernoulli likelihood with its gradient in one pass: ll[i] = sum_j x l - softplus(l) as in
// `bernoulli_ll`, and dl = scale (sigmoid(l) - x), the gradient of scale * sum_i -ll[i].
__attribute__((export_name("bernoulli_fused"))) void bernoulli_fused(const float *x,
                                                                   const float *l, float *ll,
                                                                   float *dl, float scale, int M,
                                                                   int N) {
  const v128_t s = wasm_f32x4_splat(scale), one = wasm_f32x4_splat(1.0f);
  const v128_t zero = wasm_f32x4_splat(0.0f);
  for (int i = 0; i < M; i++, x += N, l += N, dl += N) {
    v128_t sum = zero, other = zero;
    float rest = 0.0f;
    for (int j = 0; j < N; j += 4) {
      const int count = N - j < 4 ? N - j : 4;
      const v128_t xv = count == 4 ? wasm_v128_load(x + j) : load_part(x + j, count);
      const v128_t lv = count == 4 ? wasm_v128_load(l + j) : load_part(l + j, count);
      const v128_t e = exp_clamped(wasm_f32x4_neg(wasm_f32x4_abs(lv)));
      const v128_t soft = wasm_f32x4_add(wasm_f32x4_pmax(zero, lv), log1p_unit(e));
      const v128_t term = wasm_f32x4_sub(wasm_f32x4_mul(xv, lv), soft);
      const v128_t r = wasm_f32x4_div(one, wasm_f32x4_add(e, one));
      const v128_t sig = wasm_v128_bitselect(r, wasm_f32x4_mul(e, r), wasm_f32x4_ge(lv, zero));
      const v128_t g = wasm_f32x4_mul(wasm_f32x4_sub(sig, xv), s);
      add_term(term, g, dl, j, count, &sum, &other, &rest);
    }
    ll[i] = lanes_sum(wasm_f32x4_add(sum, other)) + rest;
  }
}

// A Gaussian (kind 1) or Laplace (kind 2) likelihood of x given the pixel means m = sigmoid(l)
// and a scale sigma, with its gradient in one pass: ll[i] = -1/2 inv sum_j (x - m)^2 - constant
// (inv = 1 / sigma^2, constant = N (log sigma + log(2 pi) / 2)) or -inv sum_j |x - m| - constant
// (inv = 1 / sigma, constant = N log(2 sigma)), as `gaussianLogLikelihood` and
// `laplaceLogLikelihood` sum them; and dl = scale d(-ll[i])/dl: inv (m - x) m (1 - m), or inv
// sign(m - x) m (1 - m) (0 where m = x).
__attribute__((export_name("pixel_fused"))) void pixel_fused(const float *x, const float *l,
                                                           float *ll, float *dl, float scale,
                                                           int M, int N, int kind, float inv,
                                                           float constant) {
  const v128_t s = wasm_f32x4_splat(scale), one = wasm_f32x4_splat(1.0f);
  const v128_t zero = wasm_f32x4_splat(0.0f);
  const v128_t w = wasm_f32x4_mul(s, wasm_f32x4_splat(inv));
  for (int i = 0; i < M; i++, x += N, l += N, dl += N) {
    v128_t sum = zero, other = zero;
    float rest = 0.0f;
    for (int j = 0; j < N; j += 4) {
      const int count = N - j < 4 ? N - j : 4;
      const v128_t xv = count == 4 ? wasm_v128_load(x + j) : load_part(x + j, count);
      const v128_t lv = count == 4 ? wasm_v128_load(l + j) : load_part(l + j, count);
      const v128_t e = exp_clamped(wasm_f32x4_neg(wasm_f32x4_abs(lv)));
      const v128_t r = wasm_f32x4_div(one, wasm_f32x4_add(e, one));
      const v128_t m = wasm_v128_bitselect(r, wasm_f32x4_mul(e, r), wasm_f32x4_ge(lv, zero));
      const v128_t diff = wasm_f32x4_sub(m, xv);
      const v128_t slope = wasm_f32x4_mul(m, wasm_f32x4_sub(one, m));
      v128_t term, g;
      if (kind == 1) {
        term = wasm_f32x4_mul(diff, diff);
        g = wasm_f32x4_mul(wasm_f32x4_mul(diff, slope), w);
      } else {
        term = wasm_f32x4_abs(diff);
        const v128_t sign = wasm_v128_or(
            wasm_v128_and(wasm_f32x4_gt(diff, zero), one),
            wasm_v128_and(wasm_f32x4_lt(diff, zero), wasm_f32x4_splat(-1.0f)));
        g = wasm_f32x4_mul(wasm_f32x4_mul(sign, slope), w);
      }
      add_term(term, g, dl, j, count, &sum, &other, &rest);
    }
    const float total = lanes_sum(wasm_f32x4_add(sum, other)) + rest;
    ll[i] = (kind == 1 ? total * (-0.5f * inv) : total * -inv) - constant;
  }
}

// ---- Max pooling's gradient ------------------------------------------------------------------

// dx [N, H, W, C] = the gradient of max pooling x (NHWC) with FH x FW windows at strides (SH,
// SW), `top` and `left` rows and columns of padding, output [N, OH, OW, C], given dy: each
// dy value goes to the first largest input of its window in row-major order (as TensorFlow.js's
// cpu backend picks it). Channels are taken four at a time.
__attribute__((export_name("max_pool_grad"))) void max_pool_grad(
    const float *dy, const float *x, float *dx, int N, int H, int W, int C, int FH, int FW,
    int SH, int SW, int top, int left, int OH, int OW) {
  zero(dx, N * H * W * C);
  for (int n = 0; n < N; n++) {
    const float *image = x + n * H * W * C;
    float *grad = dx + n * H * W * C;
    for (int oy = 0; oy < OH; oy++) {
      for (int ox = 0; ox < OW; ox++, dy += C) {
        for (int c = 0; c < C; c += 4) {
          const int count = C - c < 4 ? C - c : 4;
          v128_t best = wasm_f32x4_splat(-__builtin_inff());
          v128_t where = wasm_i32x4_splat(-1);
          for (int i = 0; i < FH; i++) {
            const int iy = oy * SH + i - top;
            if (iy < 0 || iy >= H) continue;
            for (int j = 0; j < FW; j++) {
              const int ix = ox * SW + j - left;
              if (ix < 0 || ix >= W) continue;
              const int at = (iy * W + ix) * C + c;
              const v128_t v = count == 4 ? wasm_v128_load(image + at) : load_part(image + at, count);
              // Strictly greater: the first maximum keeps its place.
              const v128_t greater = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, greater);
              where = wasm_v128_bitselect(wasm_i32x4_add(wasm_i32x4_splat(at),
                                                         wasm_i32x4_make(0, 1, 2, 3)),
                                          where, greater);
            }
          }
          const v128_t g = count == 4 ? wasm_v128_load(dy + c) : load_part(dy + c, count);
          const int w0 = wasm_i32x4_extract_lane(where, 0), w1 = wasm_i32x4_extract_lane(where, 1);
          const int w2 = wasm_i32x4_extract_lane(where, 2), w3 = wasm_i32x4_extract_lane(where, 3);
          if (w0 >= 0) grad[w0] += wasm_f32x4_extract_lane(g, 0);
          if (count > 1 && w1 >= 0) grad[w1] += wasm_f32x4_extract_lane(g, 1);
          if (count > 2 && w2 >= 0) grad[w2] += wasm_f32x4_extract_lane(g, 2);
          if (count > 3 && w3 >= 0) grad[w3] += wasm_f32x4_extract_lane(g, 3);
        }
      }
    }
  }
}

// ---- Batch normalisation over the rows of [M, C] (every axis but the channels) ---------------

// y = gamma (x - mean) rstd + beta per channel, with mean and rstd = 1 / sqrt(var + eps) of this
// batch's rows (the variance divides by M), written to mean_out and rstd_out for the backward
// pass. Sums in float32, row after row, four channels at a time.
__attribute__((export_name("batch_norm"))) void batch_norm(const float *x, const float *gamma,
                                                         const float *beta, float *y,
                                                         float *mean_out, float *rstd_out, int M,
                                                         int C, float eps) {
  for (int c = 0; c < C; c++) mean_out[c] = rstd_out[c] = 0.0f;
  for (int i = 0; i < M; i++) add_into(mean_out, x + i * C, C);
  const float inv = 1.0f / (float)M;
  for (int c = 0; c < C; c++) mean_out[c] *= inv;
  // The variance as the mean square deviation (two passes: no cancellation).
  for (int i = 0; i < M; i++) {
    const float *row = x + i * C;
    for (int c = 0; c < C; c++) {
      const float d = row[c] - mean_out[c];
      rstd_out[c] += d * d;
    }
  }
  for (int c = 0; c < C; c++) rstd_out[c] = 1.0f / __builtin_sqrtf(rstd_out[c] * inv + eps);
  for (int i = 0; i < M; i++) {
    const float *row = x + i * C;
    float *out = y + i * C;
    for (int c = 0; c < C; c++) out[c] = gamma[c] * ((row[c] - mean_out[c]) * rstd_out[c]) + beta[c];
  }
}

// The gradient of batch_norm given dy, from x (its statistics computed again into `stats`, 2C
// floats): with xhat = (x - mean) rstd, dbeta = sum dy, dgamma = sum dy xhat, and dx = gamma
// rstd (dy - dbeta / M - xhat dgamma / M), sums over the rows.
__attribute__((export_name("batch_norm_grad"))) void batch_norm_grad(
    const float *dy, const float *x, const float *gamma, float *stats, float *dx, float *dgamma,
    float *dbeta, int M, int C, float eps) {
  float *mean = stats, *rstd = stats + C;
  // The forward pass's statistics, the same way (its y is not needed: dx below).
  for (int c = 0; c < C; c++) mean[c] = rstd[c] = 0.0f;
  for (int i = 0; i < M; i++) add_into(mean, x + i * C, C);
  const float inv = 1.0f / (float)M;
  for (int c = 0; c < C; c++) mean[c] *= inv;
  for (int i = 0; i < M; i++) {
    const float *row = x + i * C;
    for (int c = 0; c < C; c++) {
      const float d = row[c] - mean[c];
      rstd[c] += d * d;
    }
  }
  for (int c = 0; c < C; c++) rstd[c] = 1.0f / __builtin_sqrtf(rstd[c] * inv + eps);
  for (int c = 0; c < C; c++) dgamma[c] = dbeta[c] = 0.0f;
  for (int i = 0; i < M; i++) {
    const float *g = dy + i * C, *row = x + i * C;
    for (int c = 0; c < C; c++) {
      dbeta[c] += g[c];
      dgamma[c] += g[c] * ((row[c] - mean[c]) * rstd[c]);
    }
  }
  for (int i = 0; i < M; i++) {
    const float *g = dy + i * C, *row = x + i * C;
    float *out = dx + i * C;
    for (int c = 0; c < C; c++) {
      const float xhat = (row[c] - mean[c]) * rstd[c];
      out[c] = gamma[c] * rstd[c] * (g[c] - dbeta[c] * inv - xhat * dgamma[c] * inv);
    }
  }
}
