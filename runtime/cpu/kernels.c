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

/* meta: xType wType yType biasType N C H W O KH KW OH OW strideH strideW
 *       padTop padLeft dilationH dilationW groups compute epilogue
 * Each image and group is one product: W[Og, Cg*KH*KW] . col[Cg*KH*KW, OH*OW]
 * with col gathered (im2col) in f32, or f64 for f64. */
void mpcrt_kernel_conv2d(const int64_t *meta, void *out, const void *x, const void *w, const void *bias) {
  int64_t xT = meta[0], wT = meta[1], yT = meta[2], bT = meta[3];
  int64_t N = meta[4], C = meta[5], H = meta[6], W = meta[7], O = meta[8], KH = meta[9], KW = meta[10];
  int64_t OH = meta[11], OW = meta[12], sh = meta[13], sw = meta[14], pt = meta[15], pl = meta[16];
  int64_t dh = meta[17], dw = meta[18], groups = meta[19] > 0 ? meta[19] : 1, compute = meta[20];
  int64_t epilogue = meta[21];
  int64_t Cg = C / groups, Og = O / groups, K = Cg * KH * KW, P = OH * OW;
  bool f64 = compute == MPCRT_F64;
  int64_t colType = f64 ? MPCRT_F64 : MPCRT_F32;
  void *col = kernelAlloc("conv2d", (size_t)(K * P) * (f64 ? sizeof(double) : sizeof(float)));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t c = 0; c < Cg; ++c)
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw) {
            int64_t row = (c * KH + kh) * KW + kw;
            const int64_t plane = (n * C + g * Cg + c) * H * W;
            for (int64_t oh = 0; oh < OH; ++oh)
              for (int64_t ow = 0; ow < OW; ++ow) {
                int64_t ih = oh * sh - pt + kh * dh, iw = ow * sw - pl + kw * dw;
                double v = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? load(x, xT, plane + ih * W + iw) : 0.0;
                store(col, colType, row * P + oh * OW + ow, v);
              }
          }
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
        if (epilogue == MPCRT_EPILOGUE_RELU)
          reluInPlace(y, yT, Og * P);
        free(a);
        free(c);
        continue;
      }
      MpcrtGemmArgs args = {.M = Og, .N = P, .K = K, .A = byteOffset(w, wT, g * Og * K), .lda = K,
                            .aType = (MpcrtDType)wT, .B = col, .ldb = P, .bType = MPCRT_F32, .C = y, .ldc = P,
                            .cType = (MpcrtDType)yT, .compute = (MpcrtDType)compute, .accumulate = bg != NULL,
                            .epilogue = (MpcrtEpilogue)epilogue};
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
