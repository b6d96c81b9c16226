/*===- kernel-tests.c - the kernels generated code calls --------*- C -*-===*
 *
 * Calls runtime/cpu/kernels.c directly, as generated code does, and compares
 * with naive f64 loops written here: linear with bias (f32, bf16 products
 * into a bf16 result, f64), batched matmul, conv2d with stride, padding,
 * dilation and groups (f32 and f64), both poolings with padding, scatter_add
 * with repeated and out-of-range indices, memrefCopy between strided
 * descriptors, and the gradient kernels: conv2d's (adjoint identities in f64,
 * f32 and bf16 against the definition), both poolings' (ties, padding) and
 * embedding's (repeated and out-of-range ids). Tolerances: f32 sums of K
 * terms 2 K 2^-24 of the sum of |terms|; bf16 results add half a bf16 ulp
 * (2^-8 relative); f64 1e-12.
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

/*--- Gradient kernels ---*/

/* Buffers of f32, bf16 or f64 made from doubles (rounded to the type), read
 * back as doubles, or filled with NaN so that an element a kernel forgets to
 * write shows. */
static size_t typeSize(int64_t type) { return type == MPCRT_F64 ? 8 : type == MPCRT_F32 ? 4 : 2; }

static double getTyped(const void *p, int64_t type, int64_t i) {
  switch (type) {
  case MPCRT_BF16: return mpcrtBF16ToF32(((const MpcrtBF16 *)p)[i]);
  case MPCRT_F32: return ((const float *)p)[i];
  default: return ((const double *)p)[i];
  }
}

static void setTyped(void *p, int64_t type, int64_t i, double v) {
  switch (type) {
  case MPCRT_BF16: ((MpcrtBF16 *)p)[i] = mpcrtBF16FromF32((float)v); break;
  case MPCRT_F32: ((float *)p)[i] = (float)v; break;
  default: ((double *)p)[i] = v; break;
  }
}

/* A buffer of `type` holding values[0..n) rounded to it. */
static void *newTyped(int64_t type, const double *values, int64_t n) {
  void *p = malloc((size_t)n * typeSize(type));
  for (int64_t i = 0; i < n; ++i)
    setTyped(p, type, i, values[i]);
  return p;
}

/* n random values in [-1, 1) with 32 bits as `type`; `values` gets what was stored. */
static void *randomTyped(int64_t type, int64_t n, unsigned seed, double *values) {
  for (int64_t i = 0; i < n; ++i)
    values[i] = frand(&seed) + frand(&seed) * 0x1p-16;
  void *p = newTyped(type, values, n);
  for (int64_t i = 0; i < n; ++i)
    values[i] = getTyped(p, type, i);
  return p;
}

static void *nanTyped(int64_t type, int64_t n) {
  void *p = malloc((size_t)n * typeSize(type));
  for (int64_t i = 0; i < n; ++i)
    setTyped(p, type, i, NAN);
  return p;
}

static double toBF16(double v) { return mpcrtBF16ToF32(mpcrtBF16FromF32((float)v)); }

/* A conv2d; OH and OW follow from the four pads (the kernel's meta has only
 * the top and left ones). */
typedef struct {
  int N, C, H, W, O, G, KH, KW, sh, sw, pt, pb, pl, pr, dh, dw;
} ConvCase;

static int convOH(const ConvCase *c) { return (c->H + c->pt + c->pb - c->dh * (c->KH - 1) - 1) / c->sh + 1; }
static int convOW(const ConvCase *c) { return (c->W + c->pl + c->pr - c->dw * (c->KW - 1) - 1) / c->sw + 1; }

static void convMeta(const ConvCase *c, int64_t xT, int64_t wT, int64_t yT, int64_t compute, int64_t *meta) {
  int64_t m[22] = {xT, wT, yT, -1, c->N, c->C, c->H, c->W, c->O, c->KH, c->KW,
                   convOH(c), convOW(c), c->sh, c->sw, c->pt, c->pl, c->dh, c->dw, c->G, compute,
                   MPCRT_EPILOGUE_NONE};
  memcpy(meta, m, sizeof m);
}

/* The definition, in f64: every (image, output, input channel of its group,
 * kh, kw, oh, ow) term that reads no padding adds x w to y, dy w to dx and
 * dy x to dw; the *m arrays get the sums of |terms|, total the sum of
 * |dy x w|. */
typedef struct {
  double *y, *dx, *dxm, *dw, *dwm, total;
} ConvRef;

static ConvRef convNaive(const ConvCase *c, const double *x, const double *w, const double *dy) {
  int OH = convOH(c), OW = convOW(c), Cg = c->C / c->G, Og = c->O / c->G;
  size_t nx = (size_t)c->N * c->C * c->H * c->W, nw = (size_t)c->O * Cg * c->KH * c->KW;
  ConvRef r = {calloc((size_t)c->N * c->O * OH * OW, sizeof(double)), calloc(nx, sizeof(double)),
               calloc(nx, sizeof(double)), calloc(nw, sizeof(double)), calloc(nw, sizeof(double)), 0};
  for (int n = 0; n < c->N; ++n)
    for (int o = 0; o < c->O; ++o)
      for (int i = 0; i < OH; ++i)
        for (int j = 0; j < OW; ++j)
          for (int ci = 0; ci < Cg; ++ci)
            for (int u = 0; u < c->KH; ++u)
              for (int v = 0; v < c->KW; ++v) {
                int ih = i * c->sh - c->pt + u * c->dh, iw = j * c->sw - c->pl + v * c->dw;
                if (ih < 0 || ih >= c->H || iw < 0 || iw >= c->W)
                  continue;
                int xi = ((n * c->C + o / Og * Cg + ci) * c->H + ih) * c->W + iw;
                int wi = ((o * Cg + ci) * c->KH + u) * c->KW + v, yi = ((n * c->O + o) * OH + i) * OW + j;
                r.y[yi] += x[xi] * w[wi];
                r.dx[xi] += dy[yi] * w[wi];
                r.dxm[xi] += fabs(dy[yi] * w[wi]);
                r.dw[wi] += dy[yi] * x[xi];
                r.dwm[wi] += fabs(dy[yi] * x[xi]);
                r.total += fabs(dy[yi] * x[xi] * w[wi]);
              }
  return r;
}

static void convRefFree(ConvRef *r) {
  free(r->y);
  free(r->dx);
  free(r->dxm);
  free(r->dw);
  free(r->dwm);
}

static double dot(const double *a, const double *b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i)
    s += a[i] * b[i];
  return s;
}

/* Adjoint identities in f64: <conv(x, w), dy> = <x, grad_input(dy, w)> =
 * <w, grad_weight(dy, x)>, to 1e-12 of the sum of |dy x w| over the terms. */
static void testConvGradAdjoint(const ConvCase *c) {
  int64_t nx = (int64_t)c->N * c->C * c->H * c->W, nw = (int64_t)c->O * (c->C / c->G) * c->KH * c->KW;
  int64_t ny = (int64_t)c->N * c->O * convOH(c) * convOW(c);
  double *x = malloc((size_t)nx * 8), *w = malloc((size_t)nw * 8), *dy = malloc((size_t)ny * 8);
  free(randomTyped(MPCRT_F64, nx, 21, x));
  free(randomTyped(MPCRT_F64, nw, 22, w));
  free(randomTyped(MPCRT_F64, ny, 23, dy));
  double *y = nanTyped(MPCRT_F64, ny), *dx = nanTyped(MPCRT_F64, nx), *dw = nanTyped(MPCRT_F64, nw);
  int64_t meta[22];
  convMeta(c, MPCRT_F64, MPCRT_F64, MPCRT_F64, MPCRT_F64, meta);
  mpcrt_kernel_conv2d(meta, y, x, w, NULL);
  mpcrt_kernel_conv2d_grad_input(meta, dx, dy, w, NULL);
  mpcrt_kernel_conv2d_grad_weight(meta, dw, dy, x, NULL);
  ConvRef r = convNaive(c, x, w, dy);
  double ydy = dot(y, dy, ny);
  CHECK(r.total > 0 && fabs(ydy - dot(x, dx, nx)) <= 1e-12 * r.total);
  CHECK(r.total > 0 && fabs(ydy - dot(w, dw, nw)) <= 1e-12 * r.total);
  convRefFree(&r);
  free(x);
  free(w);
  free(dy);
  free(y);
  free(dx);
  free(dw);
}

/* grad_input and grad_weight against the definition for one choice of
 * types: x and dx xT, w and dw wT, dy yT, products in `compute`. The
 * reference rounds the operands to bf16 for bf16 products. Tolerances: a
 * sum of n products accumulated in f32, 2 n 2^-24 of the sum of |terms|
 * (n = Og KH KW for dx, N OH OW for dw); a bf16 result adds half a bf16 ulp
 * (2^-8 relative); f64 1e-12 of the sum of |terms|. */
static void testConvGradTypes(const ConvCase *c, int64_t xT, int64_t wT, int64_t yT, int64_t compute) {
  int64_t nx = (int64_t)c->N * c->C * c->H * c->W, nw = (int64_t)c->O * (c->C / c->G) * c->KH * c->KW;
  int64_t ny = (int64_t)c->N * c->O * convOH(c) * convOW(c);
  double *xv = malloc((size_t)nx * 8), *wv = malloc((size_t)nw * 8), *dyv = malloc((size_t)ny * 8);
  void *x = randomTyped(xT, nx, 31, xv), *w = randomTyped(wT, nw, 32, wv), *dy = randomTyped(yT, ny, 33, dyv);
  if (compute == MPCRT_BF16) {
    for (int64_t i = 0; i < nx; ++i)
      xv[i] = toBF16(xv[i]);
    for (int64_t i = 0; i < nw; ++i)
      wv[i] = toBF16(wv[i]);
    for (int64_t i = 0; i < ny; ++i)
      dyv[i] = toBF16(dyv[i]);
  }
  void *dx = nanTyped(xT, nx), *dw = nanTyped(wT, nw);
  int64_t meta[22];
  convMeta(c, xT, wT, yT, compute, meta);
  mpcrt_kernel_conv2d_grad_input(meta, dx, dy, w, NULL);
  mpcrt_kernel_conv2d_grad_weight(meta, dw, dy, x, NULL);
  ConvRef r = convNaive(c, xv, wv, dyv);
  bool f64 = compute == MPCRT_F64;
  double dxSum = f64 ? 1e-12 : 2.0 * (c->O / c->G) * c->KH * c->KW * 0x1p-24;
  double dwSum = f64 ? 1e-12 : 2.0 * c->N * convOH(c) * convOW(c) * 0x1p-24;
  double dxRound = xT == MPCRT_BF16 ? 0x1p-8 : 0, dwRound = wT == MPCRT_BF16 ? 0x1p-8 : 0;
  int bad = 0;
  for (int64_t i = 0; i < nx; ++i)
    bad += !(fabs(getTyped(dx, xT, i) - r.dx[i]) <= dxSum * r.dxm[i] + dxRound * fabs(r.dx[i]) + 1e-30);
  CHECK(bad == 0);
  bad = 0;
  for (int64_t i = 0; i < nw; ++i)
    bad += !(fabs(getTyped(dw, wT, i) - r.dw[i]) <= dwSum * r.dwm[i] + dwRound * fabs(r.dw[i]) + 1e-30);
  CHECK(bad == 0);
  convRefFree(&r);
  free(xv);
  free(wv);
  free(dyv);
  free(x);
  free(w);
  free(dy);
  free(dx);
  free(dw);
}

static void testConvGrads(void) {
  /* N C H W O G KH KW sh sw pt pb pl pr dh dw */
  const ConvCase plain = {2, 3, 5, 6, 4, 1, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1};
  /* stride 2, dilation 2 and groups 2; padding 2 on top, none at the bottom, 1 left and 2 right */
  const ConvCase mixed = {2, 4, 9, 8, 6, 2, 3, 2, 2, 1, 2, 0, 1, 2, 2, 2};
  /* strides 3 and 2 larger than the windows along H: rows no output reads get a zero gradient */
  const ConvCase sparse = {1, 2, 10, 7, 4, 2, 2, 3, 3, 2, 0, 1, 2, 0, 1, 2};
  const ConvCase *cases[] = {&plain, &mixed, &sparse};
  for (int i = 0; i < 3; ++i) {
    testConvGradAdjoint(cases[i]);
    testConvGradTypes(cases[i], MPCRT_F64, MPCRT_F64, MPCRT_F64, MPCRT_F64);
    testConvGradTypes(cases[i], MPCRT_F32, MPCRT_F32, MPCRT_F32, MPCRT_F32);
    /* bf16 products of f32 operands into f32 results (operands rounded while packing) */
    testConvGradTypes(cases[i], MPCRT_F32, MPCRT_F32, MPCRT_F32, MPCRT_BF16);
    /* bf16-mixed: bf16 activations and gradients, f32 weights */
    testConvGradTypes(cases[i], MPCRT_BF16, MPCRT_F32, MPCRT_BF16, MPCRT_BF16);
  }
}

/* Max and average pooling gradients against loops written here, on 3x3
 * windows with stride 2 (neighbours overlap) and padding 1, whose last
 * column of windows also reads padding on the right. Channel 0 has values
 * on a grid of 1/4, so that windows have ties; channel 1 is all negative,
 * so that a zero from padding would win if padding were let in. */
static void testPoolGrads(void) {
  enum { N = 2, C = 2, H = 6, W = 7, K = 3, S = 2, P = 1, OH = 3, OW = 4, NX = N * C * H * W, NY = N * C * OH * OW };
  double xv[NX], dyv[NY];
  unsigned seed = 41;
  for (int i = 0; i < NX; ++i) {
    double r = floor(frand(&seed) * 4) / 4;
    xv[i] = (i / (H * W)) % C == 0 ? r : -fabs(r) - 0.25;
  }
  for (int i = 0; i < NY; ++i) /* exact in bf16 too */
    dyv[i] = toBF16(frand(&seed));

  /* The reference: max routes dy to the first maximal element in row-major
   * window order, average spreads dy / K^2 over the window's elements. */
  double maxRef[NX] = {0}, maxMag[NX] = {0}, avgRef[NX] = {0}, avgMag[NX] = {0};
  int chosen[NY], ties = 0, padWouldWin = 0;
  for (int nc = 0; nc < N * C; ++nc)
    for (int i = 0; i < OH; ++i)
      for (int j = 0; j < OW; ++j) {
        int o = (nc * OH + i) * OW + j, best = -1, count = 0, readsPadding = 0;
        for (int u = 0; u < K; ++u)
          for (int v = 0; v < K; ++v) {
            int ih = i * S - P + u, iw = j * S - P + v, at = (nc * H + ih) * W + iw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
              readsPadding = 1;
              continue;
            }
            avgRef[at] += dyv[o] / (K * K);
            avgMag[at] += fabs(dyv[o] / (K * K));
            if (best < 0 || xv[at] > xv[best])
              best = at;
          }
        for (int u = 0; u < K; ++u)
          for (int v = 0; v < K; ++v) {
            int ih = i * S - P + u, iw = j * S - P + v;
            count += ih >= 0 && ih < H && iw >= 0 && iw < W && xv[(nc * H + ih) * W + iw] == xv[best];
          }
        ties += count > 1;
        padWouldWin += readsPadding && xv[best] < 0;
        chosen[o] = best;
        maxRef[best] += dyv[o];
        maxMag[best] += fabs(dyv[o]);
      }
  CHECK(ties > 0 && padWouldWin > 0); /* the data has what the test is about */

  /* f32, and bf16 x, dy and dx (the data is exact in bf16). At most
   * ceil(K/S)^2 = 4 windows cover an element: sums of up to 4 terms in f32,
   * 2 4 2^-24 of the sum of |terms|; a bf16 result adds 2^-8 relative. */
  const int64_t types[2] = {MPCRT_F32, MPCRT_BF16};
  for (int t = 0; t < 2; ++t) {
    int64_t T = types[t];
    void *x = newTyped(T, xv, NX), *dy = newTyped(T, dyv, NY), *y = nanTyped(T, NY);
    void *dxMax = nanTyped(T, NX), *dxAvg = nanTyped(T, NX);
    int64_t metaMax[15] = {T, T, 1, N, C, H, W, OH, OW, K, K, S, S, P, P};
    int64_t metaAvg[15] = {T, T, 0, N, C, H, W, OH, OW, K, K, S, S, P, P};
    mpcrt_kernel_pool2d(metaMax, y, x, NULL, NULL);
    mpcrt_kernel_pool2d_grad(metaMax, dxMax, dy, x, NULL);
    mpcrt_kernel_pool2d_grad(metaAvg, dxAvg, dy, x, NULL);
    double rel = T == MPCRT_BF16 ? 0x1p-8 : 0;
    int bad = 0, badMax = 0, badAvg = 0;
    for (int o = 0; o < NY; ++o) /* the forward kernel's maximum is the element the reference routes to */
      bad += getTyped(y, T, o) != xv[chosen[o]];
    for (int i = 0; i < NX; ++i) {
      badMax += !(fabs(getTyped(dxMax, T, i) - maxRef[i]) <= 8 * 0x1p-24 * maxMag[i] + rel * fabs(maxRef[i]) + 1e-30);
      badAvg += !(fabs(getTyped(dxAvg, T, i) - avgRef[i]) <= 8 * 0x1p-24 * avgMag[i] + rel * fabs(avgRef[i]) + 1e-30);
    }
    CHECK(bad == 0);
    CHECK(badMax == 0);
    CHECK(badAvg == 0);
    free(x);
    free(dy);
    free(y);
    free(dxMax);
    free(dxAvg);
  }

  /* Average pooling is linear: <avgpool(x), dy> = <x, avgpool_grad(dy)> in
   * f64, to 1e-12 of the sum of |x dy| / K^2. */
  double yd[NY], dxd[NX], mag = 0;
  int64_t meta64[15] = {MPCRT_F64, MPCRT_F64, 0, N, C, H, W, OH, OW, K, K, S, S, P, P};
  mpcrt_kernel_pool2d(meta64, yd, xv, NULL, NULL);
  mpcrt_kernel_pool2d_grad(meta64, dxd, dyv, xv, NULL);
  for (int i = 0; i < NX; ++i)
    mag += fabs(xv[i]) * avgMag[i];
  CHECK(mag > 0 && fabs(dot(yd, dyv, NY) - dot(xv, dxd, NX)) <= 1e-12 * mag);
}

/* Embedding gradients against a loop written here: ids repeat, and some are
 * negative or >= V (they add nothing); rows no id names must be zeros.
 * i32 ids into f32 and bf16 tables, i64 ids (some beyond 32 bits) into an
 * f64 table. Tolerances: up to 3 rows add into one in f32, 2 3 2^-24 of the
 * sum of |terms|; a bf16 table adds 2^-8 relative; f64 1e-12. */
static void testEmbeddingGrad(void) {
  enum { V = 6, D = 5, NI = 10 };
  const int32_t ids32[NI] = {3, 0, 3, -1, 6, 1, 3, 0, 100, -7};
  const int64_t ids64[NI] = {2, 5, 2, INT64_C(1) << 32, -(INT64_C(1) << 40), 0, 5, 5, 6, 2};
  const int64_t tableTypes[3] = {MPCRT_F32, MPCRT_BF16, MPCRT_F64};
  for (int t = 0; t < 3; ++t) {
    int64_t T = tableTypes[t], idsT = T == MPCRT_F64 ? MPCRT_I64 : MPCRT_I32;
    double dyGot[NI * D], ref[V * D] = {0}, mag[V * D] = {0};
    void *dy = randomTyped(T == MPCRT_F64 ? MPCRT_F64 : MPCRT_F32, NI * D, 51, dyGot);
    for (int i = 0; i < NI; ++i) {
      int64_t id = idsT == MPCRT_I32 ? ids32[i] : ids64[i];
      if (id < 0 || id >= V)
        continue;
      for (int d = 0; d < D; ++d) {
        ref[id * D + d] += dyGot[i * D + d];
        mag[id * D + d] += fabs(dyGot[i * D + d]);
      }
    }
    void *table = nanTyped(T, V * D);
    int64_t meta[6] = {T, T == MPCRT_F64 ? MPCRT_F64 : MPCRT_F32, idsT, V, D, NI};
    mpcrt_kernel_embedding_grad(meta, table, dy, idsT == MPCRT_I32 ? (const void *)ids32 : (const void *)ids64,
                                NULL);
    double sum = T == MPCRT_F64 ? 1e-12 : 6 * 0x1p-24, rel = T == MPCRT_BF16 ? 0x1p-8 : 0;
    int bad = 0, zeroRows = 0;
    for (int i = 0; i < V * D; ++i) {
      bad += !(fabs(getTyped(table, T, i) - ref[i]) <= sum * mag[i] + rel * fabs(ref[i]) + 1e-30);
      zeroRows += mag[i] == 0;
    }
    CHECK(bad == 0 && zeroRows > 0);
    free(dy);
    free(table);
  }
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
  testConvGrads();
  testPoolGrads();
  testEmbeddingGrad();
  testScatterAdd();
  testMemrefCopy();
  return MPC_CHECK_SUMMARY();
}
