/*===- kernels.c - the kernels that generated code calls -------*- C -*-===*
 *
 * mpc-lower-to-linalg turns elementwise ops, reductions and data movement
 * into linalg, and the ops that need packing and blocking into calls to the
 * functions here. Every kernel has one C signature,
 *
 *   void mpcrt_kernel_NAME(const int64_t *meta, void *out,
 *                          const void *in0, const void *in1, const void *in2)
 *
 * where `meta` is a constant array the compiler writes (element types as
 * MpcrtDType codes, sizes and attributes; layouts below) and absent inputs
 * are NULL. Tensors are dense and row-major.
 *
 * Matrix products go to mpcrtGemm (runtime/cpu/gemm.c), which converts f16,
 * bf16 and f32 operands while packing: that is how casts fuse into them.
 * f64 (64-true) has its own blocked loop here: 64-true is for checking
 * numerics, not for speed.
 *===----------------------------------------------------------------------===*/
#include "mpc/runtime.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Generated code has no way to handle an error: a kernel that cannot run
 * (a bug in the compiler, or out of memory) stops the program. */
static void kernelDie(const char *kernel, const char *message) {
  fprintf(stderr, "mpc runtime: %s: %s\n", kernel, message);
  exit(70);
}

static void *kernelAlloc(const char *kernel, size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p)
    kernelDie(kernel, "out of memory");
  return p;
}

static double load(const void *p, int64_t type, int64_t i) {
  switch (type) {
  case MPCRT_F16: return mpcrtF16ToF32(((const MpcrtF16 *)p)[i]);
  case MPCRT_BF16: return mpcrtBF16ToF32(((const MpcrtBF16 *)p)[i]);
  case MPCRT_F32: return ((const float *)p)[i];
  case MPCRT_F64: return ((const double *)p)[i];
  case MPCRT_I32: return ((const int32_t *)p)[i];
  case MPCRT_I64: return (double)((const int64_t *)p)[i];
  default: return 0;
  }
}

static int64_t loadIndex(const void *p, int64_t type, int64_t i) {
  return type == MPCRT_I32 ? ((const int32_t *)p)[i] : ((const int64_t *)p)[i];
}

/* Stores with one rounding from f64 (f16 and bf16 go through f32: the
 * double rounding cannot differ from a direct one for values that came
 * from f32 arithmetic, and the f64 modes never store f16). */
static void store(void *p, int64_t type, int64_t i, double v) {
  switch (type) {
  case MPCRT_F16: ((MpcrtF16 *)p)[i] = mpcrtF16FromF32((float)v); break;
  case MPCRT_BF16: ((MpcrtBF16 *)p)[i] = mpcrtBF16FromF32((float)v); break;
  case MPCRT_F32: ((float *)p)[i] = (float)v; break;
  case MPCRT_F64: ((double *)p)[i] = v; break;
  default: break;
  }
}

static size_t elemBytes(int64_t type) { return mpcrtDTypeInfo((MpcrtDType)type)->size; }

static const char *byteOffset(const void *p, int64_t type, int64_t elements) {
  return (const char *)p + (size_t)elements * elemBytes(type);
}

/* C[M,N] (+)= A[M,K] op(B) in f64, A and B f64 arrays. Blocked over K and N
 * so that a row of C and a panel of B stay in cache. */
static void gemmF64(int64_t M, int64_t N, int64_t K, const double *A, int64_t lda, const double *B, int64_t ldb,
                    bool transB, double *C, int64_t ldc) {
  enum { KB = 256, NB = 512 };
  for (int64_t k0 = 0; k0 < K; k0 += KB)
    for (int64_t n0 = 0; n0 < N; n0 += NB) {
      int64_t k1 = k0 + KB < K ? k0 + KB : K, n1 = n0 + NB < N ? n0 + NB : N;
      for (int64_t i = 0; i < M; ++i) {
        double *c = C + i * ldc;
        if (transB) {
          for (int64_t j = n0; j < n1; ++j) {
            double s = 0;
            for (int64_t k = k0; k < k1; ++k)
              s += A[i * lda + k] * B[j * ldb + k];
            c[j] += s;
          }
        } else {
          for (int64_t k = k0; k < k1; ++k) {
            double a = A[i * lda + k];
            const double *b = B + k * ldb;
            for (int64_t j = n0; j < n1; ++j)
              c[j] += a * b[j];
          }
        }
      }
    }
}

/* gemmF64 split along M across the online CPUs (64-true trains too). */
typedef struct {
  int64_t M, N, K;
  const double *A, *B;
  double *C;
} F64Part;

static void *runF64Part(void *arg) {
  F64Part *p = arg;
  gemmF64(p->M, p->N, p->K, p->A, p->K, p->B, p->N, false, p->C, p->N);
  return NULL;
}

static void gemmF64Threads(int64_t M, int64_t N, int64_t K, const double *A, const double *B, double *C) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int threads = cpus < 1 ? 1 : cpus > 16 ? 16 : (int)cpus;
  if ((double)M * (double)N * (double)K < 1e6 || M < threads)
    threads = 1;
  pthread_t ids[16];
  F64Part parts[16];
  bool started[16] = {false};
  int64_t per = (M + threads - 1) / threads;
  for (int t = 0; t < threads; ++t) {
    int64_t begin = t * per, end = begin + per < M ? begin + per : M;
    parts[t] = (F64Part){end > begin ? end - begin : 0, N, K, A + begin * K, B, C + begin * N};
    if (t == 0 || parts[t].M == 0)
      continue;
    started[t] = pthread_create(&ids[t], NULL, runF64Part, &parts[t]) == 0;
    if (!started[t])
      runF64Part(&parts[t]);
  }
  runF64Part(&parts[0]);
  for (int t = 1; t < threads; ++t)
    if (started[t])
      pthread_join(ids[t], NULL);
}

static double *toF64(const void *p, int64_t type, int64_t n) {
  double *d = kernelAlloc("matmul", (size_t)n * sizeof(double));
  for (int64_t i = 0; i < n; ++i)
    d[i] = load(p, type, i);
  return d;
}

/* One product C = A op(B) (+ bias rows), any supported types. */
static void reluInPlace(void *C, int64_t cType, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    double v = load(C, cType, i);
    if (!(v > 0 || v != v))
      store(C, cType, i, 0.0);
  }
}

static void product(int64_t M, int64_t N, int64_t K, const void *A, int64_t aType, const void *B, int64_t bType,
                    bool transB, void *C, int64_t cType, const void *bias, int64_t biasType, int64_t compute,
                    int64_t epilogue) {
  if (compute == MPCRT_F64) {
    double *a = aType == MPCRT_F64 ? (double *)A : toF64(A, aType, M * K);
    double *b = bType == MPCRT_F64 ? (double *)B : toF64(B, bType, K * N);
    double *c = cType == MPCRT_F64 ? C : kernelAlloc("matmul", (size_t)(M * N) * sizeof(double));
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j)
        c[i * N + j] = bias ? load(bias, biasType, j) : 0.0;
    if (transB) { /* transpose once, so that the inner loop is an axpy the compiler vectorises */
      double *bt = kernelAlloc("matmul", (size_t)(K * N) * sizeof(double));
      for (int64_t j = 0; j < N; ++j)
        for (int64_t k = 0; k < K; ++k)
          bt[k * N + j] = b[j * K + k];
      gemmF64Threads(M, N, K, a, bt, c);
      free(bt);
    } else {
      gemmF64Threads(M, N, K, a, b, c);
    }
    if ((void *)c != C) {
      for (int64_t i = 0; i < M * N; ++i)
        store(C, cType, i, c[i]);
      free(c);
    }
    if ((const void *)a != A)
      free(a);
    if ((const void *)b != B)
      free(b);
    if (epilogue == MPCRT_EPILOGUE_RELU)
      reluInPlace(C, cType, M * N);
    return;
  }
  if (bias) { /* C starts as the bias rows (in C's type), the product accumulates */
    size_t rowBytes = (size_t)N * elemBytes(cType);
    for (int64_t j = 0; j < N; ++j)
      store(C, cType, j, load(bias, biasType, j));
    for (int64_t i = 1; i < M; ++i)
      memcpy((char *)C + (size_t)i * rowBytes, C, rowBytes);
  }
  MpcrtGemmArgs args = {.M = M, .N = N, .K = K, .A = A, .lda = K, .aType = (MpcrtDType)aType, .B = B,
                        .ldb = transB ? K : N, .bType = (MpcrtDType)bType, .transB = transB, .C = C, .ldc = N,
                        .cType = (MpcrtDType)cType, .compute = (MpcrtDType)compute, .accumulate = bias != NULL,
                        .epilogue = (MpcrtEpilogue)epilogue};
  MpcrtError err;
  if (!mpcrtGemm(&args, &err))
    kernelDie("matmul", err.message);
}

/* meta: aType bType cType biasType batch M N K transB compute epilogue */
void mpcrt_kernel_matmul(const int64_t *meta, void *out, const void *a, const void *b, const void *bias) {
  int64_t batch = meta[4], M = meta[5], N = meta[6], K = meta[7];
  for (int64_t i = 0; i < batch; ++i)
    product(M, N, K, byteOffset(a, meta[0], i * M * K), meta[0], byteOffset(b, meta[1], i * K * N), meta[1],
            meta[8] != 0, (char *)out + (size_t)(i * M * N) * elemBytes(meta[2]), meta[2], bias, meta[3], meta[9],
            meta[10]);
}

/* conv2d's meta, shared with its gradients:
 *   xType wType yType biasType N C H W O KH KW OH OW strideH strideW
 *   padTop padLeft dilationH dilationW groups compute epilogue */
typedef struct {
  int64_t xT, wT, yT, bT, N, C, H, W, O, KH, KW, OH, OW, sh, sw, pt, pl, dh, dw, groups, compute, epilogue;
  int64_t Cg, Og, K, P; /* per group: input and output channels, the product's depth; output pixels */
} Conv;

static Conv convFromMeta(const int64_t *meta) {
  Conv s = {.xT = meta[0], .wT = meta[1], .yT = meta[2], .bT = meta[3], .N = meta[4], .C = meta[5],
            .H = meta[6], .W = meta[7], .O = meta[8], .KH = meta[9], .KW = meta[10], .OH = meta[11],
            .OW = meta[12], .sh = meta[13], .sw = meta[14], .pt = meta[15], .pl = meta[16], .dh = meta[17],
            .dw = meta[18], .groups = meta[19] > 0 ? meta[19] : 1, .compute = meta[20], .epilogue = meta[21]};
  s.Cg = s.C / s.groups;
  s.Og = s.O / s.groups;
  s.K = s.Cg * s.KH * s.KW;
  s.P = s.OH * s.OW;
  return s;
}

/* im2col: col[Cg*KH*KW, OH*OW] (colType) = the inputs that image n's group
 * g multiplies, a row per (channel, kh, kw) and a column per output pixel,
 * zero where the window reads padding. */
static void im2col(const Conv *s, const void *x, int64_t n, int64_t g, void *col, int64_t colType) {
  for (int64_t c = 0; c < s->Cg; ++c)
    for (int64_t kh = 0; kh < s->KH; ++kh)
      for (int64_t kw = 0; kw < s->KW; ++kw) {
        int64_t row = (c * s->KH + kh) * s->KW + kw;
        const int64_t plane = (n * s->C + g * s->Cg + c) * s->H * s->W;
        for (int64_t oh = 0; oh < s->OH; ++oh)
          for (int64_t ow = 0; ow < s->OW; ++ow) {
            int64_t ih = oh * s->sh - s->pt + kh * s->dh, iw = ow * s->sw - s->pl + kw * s->dw;
            double v = (ih >= 0 && ih < s->H && iw >= 0 && iw < s->W) ? load(x, s->xT, plane + ih * s->W + iw) : 0.0;
            store(col, colType, row * s->P + oh * s->OW + ow, v);
          }
      }
}

/* col2im, im2col's adjoint: adds each entry of col[Cg*KH*KW, OH*OW]
 * (colType) into the input element it was gathered from, in group g of one
 * image's acc[C, H, W] (colType too); entries from padding are dropped. */
static void col2im(const Conv *s, const void *col, int64_t g, void *acc, int64_t colType) {
  for (int64_t c = 0; c < s->Cg; ++c)
    for (int64_t kh = 0; kh < s->KH; ++kh)
      for (int64_t kw = 0; kw < s->KW; ++kw) {
        int64_t row = (c * s->KH + kh) * s->KW + kw;
        const int64_t plane = (g * s->Cg + c) * s->H * s->W;
        for (int64_t oh = 0; oh < s->OH; ++oh)
          for (int64_t ow = 0; ow < s->OW; ++ow) {
            int64_t ih = oh * s->sh - s->pt + kh * s->dh, iw = ow * s->sw - s->pl + kw * s->dw;
            if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W)
              continue;
            int64_t at = plane + ih * s->W + iw;
            store(acc, colType, at, load(acc, colType, at) + load(col, colType, row * s->P + oh * s->OW + ow));
          }
      }
}

/* meta: conv2d's (above)
 * Each image and group is one product: W[Og, Cg*KH*KW] . col[Cg*KH*KW, OH*OW]
 * with col gathered (im2col) in f32, or f64 for f64. */
void mpcrt_kernel_conv2d(const int64_t *meta, void *out, const void *x, const void *w, const void *bias) {
  Conv s = convFromMeta(meta);
  int64_t wT = s.wT, yT = s.yT, bT = s.bT, O = s.O, Og = s.Og, K = s.K, P = s.P;
  bool f64 = s.compute == MPCRT_F64;
  int64_t colType = f64 ? MPCRT_F64 : MPCRT_F32;
  void *col = kernelAlloc("conv2d", (size_t)(K * P) * elemBytes(colType));
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t g = 0; g < s.groups; ++g) {
      im2col(&s, x, n, g, col, colType);
      const void *bg = bias ? byteOffset(bias, bT, g * Og) : NULL;
      void *y = (char *)out + (size_t)((n * O + g * Og) * P) * elemBytes(yT);
      /* Bias is per output channel, i.e. per row of this product. */
      if (bg)
        for (int64_t o = 0; o < Og; ++o)
          for (int64_t p = 0; p < P; ++p)
            store(y, yT, o * P + p, load(bg, bT, o));
      if (f64) {
        double *a = toF64(byteOffset(w, wT, g * Og * K), wT, Og * K);
        double *c = kernelAlloc("conv2d", (size_t)(Og * P) * sizeof(double));
        for (int64_t i = 0; i < Og * P; ++i)
          c[i] = bg ? load(y, yT, i) : 0.0;
        gemmF64(Og, P, K, a, K, col, P, false, c, P);
        for (int64_t i = 0; i < Og * P; ++i)
          store(y, yT, i, c[i]);
        if (s.epilogue == MPCRT_EPILOGUE_RELU)
          reluInPlace(y, yT, Og * P);
        free(a);
        free(c);
        continue;
      }
      MpcrtGemmArgs args = {.M = Og, .N = P, .K = K, .A = byteOffset(w, wT, g * Og * K), .lda = K,
                            .aType = (MpcrtDType)wT, .B = col, .ldb = P, .bType = MPCRT_F32, .C = y, .ldc = P,
                            .cType = (MpcrtDType)yT, .compute = (MpcrtDType)s.compute, .accumulate = bg != NULL,
                            .epilogue = (MpcrtEpilogue)s.epilogue};
      MpcrtError err;
      if (!mpcrtGemm(&args, &err))
        kernelDie("conv2d", err.message);
    }
  free(col);
}

/* meta: xType yType isMax N C H W OH OW KH KW strideH strideW padTop padLeft
 * Max pooling ignores padding (it pads with -inf); average pooling divides
 * by the whole window (PyTorch's count_include_pad=True default). */
void mpcrt_kernel_pool2d(const int64_t *meta, void *out, const void *x, const void *unused1, const void *unused2) {
  (void)unused1;
  (void)unused2;
  int64_t xT = meta[0], yT = meta[1];
  bool isMax = meta[2] != 0;
  int64_t N = meta[3], C = meta[4], H = meta[5], W = meta[6], OH = meta[7], OW = meta[8];
  int64_t KH = meta[9], KW = meta[10], sh = meta[11], sw = meta[12], pt = meta[13], pl = meta[14];
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        double acc = isMax ? -INFINITY : 0.0;
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw) {
            int64_t ih = oh * sh - pt + kh, iw = ow * sw - pl + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W)
              continue;
            double v = load(x, xT, (nc * H + ih) * W + iw);
            if (isMax)
              acc = (v > acc || isnan(v)) ? v : acc;
            else
              acc += v;
          }
        store(out, yT, (nc * OH + oh) * OW + ow, isMax ? acc : acc / (double)(KH * KW));
      }
}

/* meta: xType indexType updatesType outType rank axis xDims[rank] indexDims[rank]
 * out = x; out[i with i[axis] = index[j]] += updates[j] for every j in the
 * index shape (PyTorch's scatter_add_). Out-of-range indices are clamped,
 * as the generated gathers clamp. */
void mpcrt_kernel_scatter_add(const int64_t *meta, void *out, const void *x, const void *index, const void *updates) {
  int64_t xT = meta[0], iT = meta[1], uT = meta[2], oT = meta[3], rank = meta[4], axis = meta[5];
  const int64_t *xd = meta + 6, *id = meta + 6 + rank;
  int64_t nx = 1, ni = 1;
  for (int64_t d = 0; d < rank; ++d) {
    nx *= xd[d];
    ni *= id[d];
  }
  double *acc = kernelAlloc("scatter_add", (size_t)nx * sizeof(double));
  for (int64_t i = 0; i < nx; ++i)
    acc[i] = load(x, xT, i);
  for (int64_t j = 0; j < ni; ++j) {
    int64_t rem = j, target = 0, stride = 1;
    int64_t coord[MPCRT_MAX_RANK];
    for (int64_t d = rank; d-- > 0;) {
      coord[d] = rem % id[d];
      rem /= id[d];
    }
    int64_t to = loadIndex(index, iT, j);
    to = to < 0 ? 0 : to >= xd[axis] ? xd[axis] - 1 : to;
    coord[axis] = to;
    for (int64_t d = rank; d-- > 0;) {
      target += coord[d] * stride;
      stride *= xd[d];
    }
    acc[target] += load(updates, uT, j);
  }
  for (int64_t i = 0; i < nx; ++i)
    store(out, oT, i, acc[i]);
  free(acc);
}

/* The gradient kernels accumulate in f32, or f64 when the result is f64,
 * and round into the result's type once at the end. */
static int64_t accTypeFor(int64_t type) { return type == MPCRT_F64 ? MPCRT_F64 : MPCRT_F32; }

static void *accZeros(const char *kernel, int64_t n, int64_t accType) {
  void *acc = kernelAlloc(kernel, (size_t)n * elemBytes(accType));
  memset(acc, 0, (size_t)n * elemBytes(accType));
  return acc;
}

static void accAdd(void *acc, int64_t accType, int64_t i, double v) {
  store(acc, accType, i, load(acc, accType, i) + v);
}

static void accRound(void *out, int64_t type, const void *acc, int64_t accType, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    store(out, type, i, load(acc, accType, i));
}

/* meta: conv2d's; xType is dx's type
 * dx = the adjoint of conv2d in x. Per image and group, col[Cg*KH*KW, OH*OW]
 * = W_g^T . dy_g, a product in conv2d's compute type, then col2im adds col
 * into the image's f32 accumulator (f64 for f64). W is transposed once,
 * keeping its type (f64 for f64), so that the GEMM rounds it while packing
 * as the forward product does. */
void mpcrt_kernel_conv2d_grad_input(const int64_t *meta, void *dx, const void *dy, const void *w, const void *unused) {
  (void)unused;
  Conv s = convFromMeta(meta);
  int64_t Og = s.Og, K = s.K, P = s.P, image = s.C * s.H * s.W;
  bool f64 = s.compute == MPCRT_F64;
  int64_t accType = f64 ? MPCRT_F64 : MPCRT_F32, wtType = f64 ? MPCRT_F64 : s.wT;
  /* wt[g][k][o] = w[g * Og + o][k] */
  void *wt = kernelAlloc("conv2d_grad_input", (size_t)(s.O * K) * elemBytes(wtType));
  for (int64_t g = 0; g < s.groups; ++g)
    for (int64_t o = 0; o < Og; ++o)
      for (int64_t k = 0; k < K; ++k)
        store(wt, wtType, (g * K + k) * Og + o, load(w, s.wT, (g * Og + o) * K + k));
  void *col = kernelAlloc("conv2d_grad_input", (size_t)(K * P) * elemBytes(accType));
  double *dy64 = f64 ? kernelAlloc("conv2d_grad_input", (size_t)(Og * P) * sizeof(double)) : NULL;
  void *acc = kernelAlloc("conv2d_grad_input", (size_t)image * elemBytes(accType));
  for (int64_t n = 0; n < s.N; ++n) {
    memset(acc, 0, (size_t)image * elemBytes(accType));
    for (int64_t g = 0; g < s.groups; ++g) {
      const void *dyg = byteOffset(dy, s.yT, (n * s.O + g * Og) * P), *wtg = byteOffset(wt, wtType, g * K * Og);
      if (f64) {
        for (int64_t i = 0; i < Og * P; ++i)
          dy64[i] = load(dyg, s.yT, i);
        memset(col, 0, (size_t)(K * P) * sizeof(double));
        gemmF64(K, P, Og, wtg, Og, dy64, P, false, col, P);
      } else {
        MpcrtGemmArgs args = {.M = K, .N = P, .K = Og, .A = wtg, .lda = Og, .aType = (MpcrtDType)wtType,
                              .B = dyg, .ldb = P, .bType = (MpcrtDType)s.yT, .C = col, .ldc = P,
                              .cType = MPCRT_F32, .compute = (MpcrtDType)s.compute};
        MpcrtError err;
        if (!mpcrtGemm(&args, &err))
          kernelDie("conv2d_grad_input", err.message);
      }
      col2im(&s, col, g, acc, accType);
    }
    accRound((char *)dx + (size_t)(n * image) * elemBytes(s.xT), s.xT, acc, accType, image);
  }
  free(acc);
  free(dy64);
  free(col);
  free(wt);
}

/* meta: conv2d's; xType is x's type, wType dw's
 * dw[O, Cg, KH, KW] = the sum over images of dy_g . col_g^T, col_g being
 * x's im2col: a product in conv2d's compute type accumulated across images
 * in f32 (f64 for f64). */
void mpcrt_kernel_conv2d_grad_weight(const int64_t *meta, void *dw, const void *dy, const void *x,
                                     const void *unused) {
  (void)unused;
  Conv s = convFromMeta(meta);
  int64_t Og = s.Og, K = s.K, P = s.P;
  bool f64 = s.compute == MPCRT_F64;
  int64_t accType = f64 ? MPCRT_F64 : MPCRT_F32;
  void *acc = accZeros("conv2d_grad_weight", s.O * K, accType);
  void *col = kernelAlloc("conv2d_grad_weight", (size_t)(K * P) * elemBytes(accType));
  double *dy64 = f64 ? kernelAlloc("conv2d_grad_weight", (size_t)(Og * P) * sizeof(double)) : NULL;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t g = 0; g < s.groups; ++g) {
      im2col(&s, x, n, g, col, accType);
      const void *dyg = byteOffset(dy, s.yT, (n * s.O + g * Og) * P);
      void *accg = (char *)acc + (size_t)(g * Og * K) * elemBytes(accType);
      if (f64) {
        for (int64_t i = 0; i < Og * P; ++i)
          dy64[i] = load(dyg, s.yT, i);
        gemmF64(Og, K, P, dy64, P, col, P, true, accg, K);
        continue;
      }
      MpcrtGemmArgs args = {.M = Og, .N = K, .K = P, .A = dyg, .lda = P, .aType = (MpcrtDType)s.yT, .B = col,
                            .ldb = P, .bType = MPCRT_F32, .transB = true, .C = accg, .ldc = K,
                            .cType = MPCRT_F32, .compute = (MpcrtDType)s.compute, .accumulate = true};
      MpcrtError err;
      if (!mpcrtGemm(&args, &err))
        kernelDie("conv2d_grad_weight", err.message);
    }
  accRound(dw, s.wT, acc, accType, s.O * K);
  free(dy64);
  free(col);
  free(acc);
}

/* meta: pool2d's; xType is dx's and x's type, yType dy's
 * dx = the adjoint of pool2d in x. Max pooling adds each window's dy to the
 * element the forward kernel picks, found with its comparison: the first
 * maximal element in row-major window order (the last NaN if there are
 * NaNs), never padding. Average pooling adds dy / (KH*KW) to each element
 * of the window that is not padding. */
void mpcrt_kernel_pool2d_grad(const int64_t *meta, void *dx, const void *dy, const void *x, const void *unused) {
  (void)unused;
  int64_t xT = meta[0], yT = meta[1];
  bool isMax = meta[2] != 0;
  int64_t N = meta[3], C = meta[4], H = meta[5], W = meta[6], OH = meta[7], OW = meta[8];
  int64_t KH = meta[9], KW = meta[10], sh = meta[11], sw = meta[12], pt = meta[13], pl = meta[14];
  int64_t accType = accTypeFor(xT);
  void *acc = accZeros("pool2d_grad", N * C * H * W, accType);
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        double grad = load(dy, yT, (nc * OH + oh) * OW + ow), best = -INFINITY;
        int64_t chosen = -1;
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw) {
            int64_t ih = oh * sh - pt + kh, iw = ow * sw - pl + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W)
              continue;
            int64_t at = (nc * H + ih) * W + iw;
            if (!isMax) {
              accAdd(acc, accType, at, grad / (double)(KH * KW));
              continue;
            }
            double v = load(x, xT, at);
            if (chosen < 0 || v > best || isnan(v)) {
              best = v;
              chosen = at;
            }
          }
        if (chosen >= 0)
          accAdd(acc, accType, chosen, grad);
      }
  accRound(dx, xT, acc, accType, N * C * H * W);
  free(acc);
}

/* meta: tableType dyType idsType V D numIds
 * dtable[V, D] = zeros plus, for each i with 0 <= ids[i] < V, dy's row i
 * added to row ids[i]; ids are i32 or i64. */
void mpcrt_kernel_embedding_grad(const int64_t *meta, void *dtable, const void *dy, const void *ids,
                                 const void *unused) {
  (void)unused;
  int64_t tT = meta[0], yT = meta[1], iT = meta[2], V = meta[3], D = meta[4], numIds = meta[5];
  int64_t accType = accTypeFor(tT);
  void *acc = accZeros("embedding_grad", V * D, accType);
  for (int64_t i = 0; i < numIds; ++i) {
    int64_t id = loadIndex(ids, iT, i);
    if (id < 0 || id >= V)
      continue;
    for (int64_t d = 0; d < D; ++d)
      accAdd(acc, accType, id * D + d, load(dy, yT, i * D + d));
  }
  accRound(dtable, tT, acc, accType, V * D);
  free(acc);
}

/* The copy that MLIR's memref-to-LLVM lowering calls for memref.copy between
 * non-contiguous buffers (a slice returned as a result, say). The ABI is
 * upstream's: each memref comes as {rank, descriptor}, the descriptor being
 * {allocated, aligned, offset, sizes[rank], strides[rank]}. */
typedef struct {
  int64_t rank;
  void *descriptor;
} MpcrtUnrankedMemRef;

typedef struct {
  void *allocated, *aligned;
  int64_t offset;
  int64_t sizesAndStrides[];
} MpcrtMemRefDescriptor;

void memrefCopy(int64_t elemSize, MpcrtUnrankedMemRef *src, MpcrtUnrankedMemRef *dst) {
  int64_t rank = src->rank;
  const MpcrtMemRefDescriptor *s = src->descriptor, *d = dst->descriptor;
  const int64_t *sizes = s->sizesAndStrides, *sStrides = s->sizesAndStrides + rank;
  const int64_t *dStrides = d->sizesAndStrides + rank;
  const char *from = (const char *)s->aligned + s->offset * elemSize;
  char *to = (char *)d->aligned + d->offset * elemSize;
  int64_t total = 1;
  for (int64_t i = 0; i < rank; ++i)
    total *= sizes[i];
  if (total == 0)
    return;
  int64_t index[MPCRT_MAX_RANK] = {0};
  if (rank > MPCRT_MAX_RANK)
    kernelDie("memrefCopy", "rank too large");
  for (int64_t n = 0; n < total; ++n) {
    int64_t so = 0, dOff = 0;
    for (int64_t i = 0; i < rank; ++i) {
      so += index[i] * sStrides[i];
      dOff += index[i] * dStrides[i];
    }
    memcpy(to + dOff * elemSize, from + so * elemSize, (size_t)elemSize);
    for (int64_t i = rank; i-- > 0;) {
      if (++index[i] < sizes[i])
        break;
      index[i] = 0;
    }
  }
}
