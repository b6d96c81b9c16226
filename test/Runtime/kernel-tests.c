/*===- kernel-tests.c - the kernels generated code calls --------*- C -*-===*
 *
 * Calls runtime/cpu/kernels.c directly, as generated code does, and compares
 * with naive f64 loops written here: linear with bias (f32, bf16 products
 * into a bf16 result, f64), batched matmul, conv2d with stride, padding,
 * dilation and groups (f32 and f64), both poolings with padding, scatter_add
 * with repeated and out-of-range indices, and memrefCopy between strided
 * descriptors. Tolerances: f32 products over K terms 2 K 2^-24 of the sum of
 * |terms|; bf16 results add half a bf16 ulp (2^-8 relative); f64 1e-12.
 *===----------------------------------------------------------------------===*/
#include "mpc-check.h"
#include "mpc/runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double frand(unsigned *state) {
  *state = *state * 1103515245u + 12345u;
  return ((*state >> 8) & 0xffff) / 32768.0 - 1.0; /* [-1, 1) */
}

static void fillF32(float *p, int64_t n, unsigned seed) {
  for (int64_t i = 0; i < n; ++i)
    p[i] = (float)frand(&seed);
}

/* linear: y[M,N] = x[M,K] w[N,K]^T + b[N] */
static void testLinear(void) {
  enum { M = 7, N = 40, K = 37 };
  float x[M * K], w[N * K], b[N], y[M * N];
  double ref[M * N], mag[M * N];
  fillF32(x, M * K, 1);
  fillF32(w, N * K, 2);
  fillF32(b, N, 3);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      ref[i * N + j] = b[j];
      mag[i * N + j] = fabs(b[j]);
      for (int k = 0; k < K; ++k) {
        ref[i * N + j] += (double)x[i * K + k] * w[j * K + k];
        mag[i * N + j] += fabs((double)x[i * K + k] * w[j * K + k]);
      }
    }
  int64_t meta[11] = {MPCRT_F32, MPCRT_F32, MPCRT_F32, MPCRT_F32, 1, M, N, K, 1, MPCRT_F32, MPCRT_EPILOGUE_NONE};
  mpcrt_kernel_matmul(meta, y, x, w, b);
  int bad = 0;
  for (int i = 0; i < M * N; ++i)
    bad += !(fabs(y[i] - ref[i]) <= 2.0 * K * 0x1p-24 * mag[i] + 1e-30);
  CHECK(bad == 0);

  /* bf16 products (operands rounded while packing) into a bf16 result. */
  MpcrtBF16 y16[M * N];
  int64_t meta16[11] = {MPCRT_F32, MPCRT_F32, MPCRT_BF16, MPCRT_F32, 1, M, N, K, 1, MPCRT_BF16, MPCRT_EPILOGUE_NONE};
  mpcrt_kernel_matmul(meta16, y16, x, w, b);
  bad = 0;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double r = mpcrtBF16ToF32(mpcrtBF16FromF32(b[j])), m = fabs(r);
      for (int k = 0; k < K; ++k) {
        double p = (double)mpcrtBF16ToF32(mpcrtBF16FromF32(x[i * K + k])) *
                   mpcrtBF16ToF32(mpcrtBF16FromF32(w[j * K + k]));
        r += p;
        m += fabs(p);
      }
      bad += !(fabs(mpcrtBF16ToF32(y16[i * N + j]) - r) <= 2.0 * K * 0x1p-24 * m + 0x1p-8 * fabs(r) + 1e-30);
    }
  CHECK(bad == 0);

  /* f64: no bias, C = A B^T exactly as the loop computes it (to 1e-12). */
  double xd[M * K], wd[N * K], yd[M * N];
  for (int i = 0; i < M * K; ++i)
    xd[i] = x[i];
  for (int i = 0; i < N * K; ++i)
    wd[i] = w[i];
  int64_t meta64[11] = {MPCRT_F64, MPCRT_F64, MPCRT_F64, -1, 1, M, N, K, 1, MPCRT_F64, MPCRT_EPILOGUE_RELU};
  mpcrt_kernel_matmul(meta64, yd, xd, wd, NULL);
  bad = 0;
  for (int i = 0; i < M * N; ++i)
    bad += !(fabs(yd[i] - fmax(ref[i] - b[i % N], 0.0)) <= 1e-12 * (1 + mag[i])); /* with the ReLU epilogue */
  CHECK(bad == 0);
}

/* Batched matmul: c[B,M,N] = a[B,M,K] b[B,K,N]. */
static void testBatchedMatmul(void) {
  enum { B = 3, M = 5, N = 6, K = 4 };
  float a[B * M * K], b[B * K * N], c[B * M * N];
  fillF32(a, B * M * K, 4);
  fillF32(b, B * K * N, 5);
  int64_t meta[11] = {MPCRT_F32, MPCRT_F32, MPCRT_F32, -1, B, M, N, K, 0, MPCRT_F32, MPCRT_EPILOGUE_NONE};
  mpcrt_kernel_matmul(meta, c, a, b, NULL);
  int bad = 0;
  for (int t = 0; t < B; ++t)
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        double r = 0, m = 0;
        for (int k = 0; k < K; ++k) {
          double p = (double)a[(t * M + i) * K + k] * b[(t * K + k) * N + j];
          r += p;
          m += fabs(p);
        }
        bad += !(fabs(c[(t * M + i) * N + j] - r) <= 2.0 * K * 0x1p-24 * m + 1e-30);
      }
  CHECK(bad == 0);
}

/* conv2d against the definition, f32 and f64. */
static void testConv2d(void) {
  enum { N = 2, C = 4, H = 7, W = 6, O = 6, G = 2, KH = 3, KW = 2 };
  const int sh = 2, sw = 1, pt = 1, pl = 2, dh = 2, dw = 2;
  const int OH = (H + 2 * pt - dh * (KH - 1) - 1) / sh + 1, OW = (W + 2 * pl - dw * (KW - 1) - 1) / sw + 1;
  float x[N * C * H * W], w[O * (C / G) * KH * KW], b[O];
  fillF32(x, N * C * H * W, 6);
  fillF32(w, O * (C / G) * KH * KW, 7);
  fillF32(b, O, 8);
  float *y = calloc((size_t)(N * O * OH * OW), sizeof(float));
  double *yd = calloc((size_t)(N * O * OH * OW), sizeof(double));
  double xd[N * C * H * W], wd[O * (C / G) * KH * KW], bd[O];
  for (int i = 0; i < N * C * H * W; ++i)
    xd[i] = x[i];
  for (int i = 0; i < O * (C / G) * KH * KW; ++i)
    wd[i] = w[i];
  for (int i = 0; i < O; ++i)
    bd[i] = b[i];
  int64_t meta[22] = {MPCRT_F32, MPCRT_F32, MPCRT_F32, MPCRT_F32, N, C, H, W, O, KH, KW, OH, OW, sh, sw, pt, pl,
                      dh, dw, G, MPCRT_F32, MPCRT_EPILOGUE_NONE};
  mpcrt_kernel_conv2d(meta, y, x, w, b);
  int64_t meta64[22] = {MPCRT_F64, MPCRT_F64, MPCRT_F64, MPCRT_F64, N, C, H, W, O, KH, KW, OH, OW, sh, sw, pt, pl,
                        dh, dw, G, MPCRT_F64, MPCRT_EPILOGUE_RELU};
  mpcrt_kernel_conv2d(meta64, yd, xd, wd, bd);
  int bad = 0, bad64 = 0;
  for (int n = 0; n < N; ++n)
    for (int o = 0; o < O; ++o)
      for (int i = 0; i < OH; ++i)
        for (int j = 0; j < OW; ++j) {
          int g = o / (O / G);
          double r = b[o], m = fabs(b[o]);
          for (int c = 0; c < C / G; ++c)
            for (int u = 0; u < KH; ++u)
              for (int v = 0; v < KW; ++v) {
                int ih = i * sh - pt + u * dh, iw = j * sw - pl + v * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                  continue;
                double p = (double)x[((n * C + g * (C / G) + c) * H + ih) * W + iw] *
                           w[((o * (C / G) + c) * KH + u) * KW + v];
                r += p;
                m += fabs(p);
              }
          int at = ((n * O + o) * OH + i) * OW + j;
          bad += !(fabs(y[at] - r) <= 2.0 * (C / G) * KH * KW * 0x1p-24 * m + 1e-30);
          bad64 += !(fabs(yd[at] - fmax(r, 0.0)) <= 1e-12 * (1 + m)); /* with the ReLU epilogue */
        }
  CHECK(bad == 0);
  CHECK(bad64 == 0);
  free(y);
  free(yd);
}

static void testPools(void) {
  enum { N = 1, C = 2, H = 5, W = 5, K = 3, S = 2, P = 1, OH = 3, OW = 3 };
  float x[N * C * H * W], ymax[N * C * OH * OW], yavg[N * C * OH * OW];
  fillF32(x, N * C * H * W, 9);
  int64_t metaMax[15] = {MPCRT_F32, MPCRT_F32, 1, N, C, H, W, OH, OW, K, K, S, S, P, P};
  int64_t metaAvg[15] = {MPCRT_F32, MPCRT_F32, 0, N, C, H, W, OH, OW, K, K, S, S, P, P};
  mpcrt_kernel_pool2d(metaMax, ymax, x, NULL, NULL);
  mpcrt_kernel_pool2d(metaAvg, yavg, x, NULL, NULL);
  int bad = 0;
  for (int c = 0; c < C; ++c)
    for (int i = 0; i < OH; ++i)
      for (int j = 0; j < OW; ++j) {
        double mx = -INFINITY, sum = 0;
        for (int u = 0; u < K; ++u)
          for (int v = 0; v < K; ++v) {
            int ih = i * S - P + u, iw = j * S - P + v;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W)
              continue; /* max ignores padding; the average counts it as zeros */
            mx = fmax(mx, x[(c * H + ih) * W + iw]);
            sum += x[(c * H + ih) * W + iw];
          }
        bad += ymax[(c * OH + i) * OW + j] != (float)mx;
        bad += !(fabs(yavg[(c * OH + i) * OW + j] - sum / (K * K)) <= 1e-6);
      }
  CHECK(bad == 0);
}

static void testScatterAdd(void) {
  float x[4 * 3], upd[3 * 3], out[4 * 3];
  int64_t idx[3 * 3] = {0, 1, 3, 3, 1, 0, 9, -2, 1}; /* repeats; 9 and -2 clamp to 3 and 0 */
  fillF32(x, 12, 10);
  fillF32(upd, 9, 11);
  int64_t meta[6 + 4] = {MPCRT_F32, MPCRT_I64, MPCRT_F32, MPCRT_F32, 2, 0, 4, 3, 3, 3};
  mpcrt_kernel_scatter_add(meta, out, x, idx, upd);
  double ref[12];
  for (int i = 0; i < 12; ++i)
    ref[i] = x[i];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      int64_t t = idx[i * 3 + j] < 0 ? 0 : idx[i * 3 + j] > 3 ? 3 : idx[i * 3 + j];
      ref[t * 3 + j] += upd[i * 3 + j];
    }
  int bad = 0;
  for (int i = 0; i < 12; ++i)
    bad += !(fabs(out[i] - ref[i]) <= 1e-6);
  CHECK(bad == 0);
}

/* memrefCopy: upstream's ABI, {rank, descriptor}; a 2x3 window of a 4x5
 * buffer (offset 6, strides 5, 1) into a dense 2x3. */
typedef struct {
  int64_t rank;
  void *descriptor;
} Unranked;
void memrefCopy(int64_t elemSize, Unranked *src, Unranked *dst);

static void testMemrefCopy(void) {
  float big[20], small[6] = {0};
  for (int i = 0; i < 20; ++i)
    big[i] = (float)i;
  struct {
    void *allocated, *aligned;
    int64_t offset, sizes[2], strides[2];
  } s = {big, big, 6, {2, 3}, {5, 1}}, d = {small, small, 0, {2, 3}, {3, 1}};
  Unranked us = {2, &s}, ud = {2, &d};
  memrefCopy(sizeof(float), &us, &ud);
  const float want[6] = {6, 7, 8, 11, 12, 13};
  CHECK(memcmp(small, want, sizeof want) == 0);
  /* Rank 0: one element at an offset. */
  float one = 0;
  struct {
    void *allocated, *aligned;
    int64_t offset;
  } s0 = {big, big, 17}, d0 = {&one, &one, 0};
  Unranked u0 = {0, &s0}, v0 = {0, &d0};
  memrefCopy(sizeof(float), &u0, &v0);
  CHECK(one == 17.0f);
}

int main(void) {
  testLinear();
  testBatchedMatmul();
  testConv2d();
  testPools();
  testScatterAdd();
  testMemrefCopy();
  return MPC_CHECK_SUMMARY();
}
