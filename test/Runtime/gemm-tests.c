/*===- gemm-tests.c - the GEMM microkernels against a reference -*- C -*-===*
 *
 * Every kernel (AVX-512 where the CPU has it, and the portable one), one and
 * two threads, plain and transposed B, store and accumulate, on shapes that
 * hit every edge of the 12 x 32 tile and the 256-deep K blocks, with leading
 * dimensions wider than the matrices. The reference is computed in f64 from
 * the same (bf16-rounded) inputs. Tolerance, per element:
 *     |c - ref| <= 2 K u sum_k |a_ik b_kj| + 1e-30
 * with u = 2^-24: the classic bound for a K-term f32 sum (K u), doubled for
 * the blocked order of summation. Columns past N must stay untouched.
 *===----------------------------------------------------------------------===*/
#include "mpc-check.h"
#include "mpc/runtime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double next(uint64_t *s) { /* splitmix64 to [-1, 1) */
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return (double)(z >> 11) * 0x1.0p-52 - 1.0;
}

static void check(int64_t M, int64_t N, int64_t K, bool transB, bool accumulate, bool bf16, const char *kernel,
                  int threads) {
  int64_t lda = K + 3, ldb = (transB ? K : N) + 5, ldc = N + 7;
  int64_t rowsB = transB ? N : K;
  float *a = malloc(sizeof(float) * (size_t)(M * lda + 1)), *b = malloc(sizeof(float) * (size_t)(rowsB * ldb + 1));
  MpcrtBF16 *ah = malloc(sizeof(MpcrtBF16) * (size_t)(M * lda + 1)), *bh = malloc(sizeof(MpcrtBF16) * (size_t)(rowsB * ldb + 1));
  float *c = malloc(sizeof(float) * (size_t)(M * ldc + 1));
  uint64_t seed = (uint64_t)(M * 131 + N * 17 + K);
  for (int64_t i = 0; i < M * lda; ++i) {
    ah[i] = mpcrtBF16FromF32((float)next(&seed));
    a[i] = bf16 ? mpcrtBF16ToF32(ah[i]) : (float)next(&seed);
  }
  for (int64_t i = 0; i < rowsB * ldb; ++i) {
    bh[i] = mpcrtBF16FromF32((float)next(&seed));
    b[i] = bf16 ? mpcrtBF16ToF32(bh[i]) : (float)next(&seed);
  }
  for (int64_t i = 0; i < M * ldc; ++i)
    c[i] = (float)(i % 5) - 2.0f; /* the prior C for accumulate, and sentinels past N */
  float *c0 = malloc(sizeof(float) * (size_t)(M * ldc + 1));
  memcpy(c0, c, sizeof(float) * (size_t)(M * ldc));
  if (bf16)
    mpcrtGemmBF16(M, N, K, ah, lda, bh, ldb, transB, c, ldc, accumulate);
  else
    mpcrtGemmF32(M, N, K, a, lda, b, ldb, transB, c, ldc, accumulate);
  int bad = 0;
  double worst = 0;
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double ref = accumulate ? c0[i * ldc + j] : 0, mag = accumulate ? fabs(ref) : 0;
      for (int64_t k = 0; k < K; ++k) {
        double bv = transB ? b[j * ldb + k] : b[k * ldb + j];
        ref += (double)a[i * lda + k] * bv;
        mag += fabs((double)a[i * lda + k] * bv);
      }
      double err = fabs(c[i * ldc + j] - ref), tol = 2.0 * (double)(K + 1) * 0x1.0p-24 * mag + 1e-30;
      worst = fmax(worst, err / tol);
      bad += !(err <= tol);
    }
    for (int64_t j = N; j < ldc; ++j)
      bad += c[i * ldc + j] != c0[i * ldc + j]; /* untouched */
  }
  if (bad) {
    ++failed;
    printf("FAIL %s %s M=%lld N=%lld K=%lld transB=%d acc=%d threads=%d: %d bad elements (worst %.2f x tol)\n",
           bf16 ? "bf16" : "f32", kernel, (long long)M, (long long)N, (long long)K, transB, accumulate, threads, bad,
           worst);
  } else {
    ++passed;
  }
  free(a);
  free(b);
  free(ah);
  free(bh);
  free(c);
  free(c0);
}

/* Mixed storage: A, B, C each f32, f16 or bf16, computed in f32 or bf16.
 * The reference uses the values the kernel may use: the stored inputs,
 * rounded to bf16 when the compute type is bf16. A C stored in a 16-bit type
 * adds half an ulp of rounding: 2^-8 |ref| for bf16, 2^-11 |ref| + 2^-25 for
 * f16. */
/* The epilogue checkMixed asks for (and applies to its reference). */
static MpcrtEpilogue testEpilogue = MPCRT_EPILOGUE_NONE;

static double roundTo(double v, MpcrtDType t) {
  MpcrtTensor one = {.dtype = t, .rank = 0};
  char buf[8];
  one.data = buf;
  mpcrtTensorSetDouble(&one, 0, v);
  return mpcrtTensorGetDouble(&one, 0);
}

static void checkMixed(int64_t M, int64_t N, int64_t K, MpcrtDType at, MpcrtDType bt, MpcrtDType ct,
                       MpcrtDType compute, bool transB, bool accumulate) {
  int64_t lda = K + 1, ldb = (transB ? K : N) + 2, ldc = N + 3, rowsB = transB ? N : K;
  MpcrtTensor a, b, c, c0;
  MpcrtError err;
  mpcrtTensorAlloc(&a, at, 1, (int64_t[]){M * lda + 1}, &err);
  mpcrtTensorAlloc(&b, bt, 1, (int64_t[]){rowsB * ldb + 1}, &err);
  mpcrtTensorAlloc(&c, ct, 1, (int64_t[]){M * ldc + 1}, &err);
  mpcrtTensorAlloc(&c0, ct, 1, (int64_t[]){M * ldc + 1}, &err);
  uint64_t seed = (uint64_t)(M + 7 * N + 31 * K + at * 1000 + bt * 100 + ct * 10 + compute);
  for (int64_t i = 0; i < M * lda; ++i)
    mpcrtTensorSetDouble(&a, i, next(&seed));
  for (int64_t i = 0; i < rowsB * ldb; ++i)
    mpcrtTensorSetDouble(&b, i, next(&seed));
  for (int64_t i = 0; i < M * ldc; ++i) {
    mpcrtTensorSetDouble(&c, i, (double)(i % 5) - 2.0);
    mpcrtTensorSetDouble(&c0, i, (double)(i % 5) - 2.0);
  }
  MpcrtGemmArgs args = {M,   N,  K,       a.data,     lda,         at, b.data, ldb, bt, transB,
                        c.data, ldc, ct, compute, accumulate, testEpilogue};
  bool ok = mpcrtGemm(&args, &err);
  int bad = !ok;
  for (int64_t i = 0; ok && i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double ref = accumulate ? mpcrtTensorGetDouble(&c0, i * ldc + j) : 0, mag = fabs(ref);
      for (int64_t k = 0; k < K; ++k) {
        double av = mpcrtTensorGetDouble(&a, i * lda + k);
        double bv = mpcrtTensorGetDouble(&b, transB ? j * ldb + k : k * ldb + j);
        if (compute != MPCRT_F32) { /* bf16 and f16 compute round the operands first */
          av = roundTo(av, compute);
          bv = roundTo(bv, compute);
        }
        ref += av * bv;
        mag += fabs(av * bv);
      }
      if (testEpilogue == MPCRT_EPILOGUE_RELU && !(ref > 0))
        ref = 0;
      double tol = 2.0 * (double)(K + 1) * 0x1.0p-24 * mag + 1e-30;
      if (ct == MPCRT_BF16)
        tol += 0x1.0p-8 * fabs(ref);
      if (ct == MPCRT_F16)
        tol += 0x1.0p-11 * fabs(ref) + 0x1.0p-25;
      bad += !(fabs(mpcrtTensorGetDouble(&c, i * ldc + j) - ref) <= tol);
    }
    for (int64_t j = N; j < ldc; ++j)
      bad += mpcrtTensorGetDouble(&c, i * ldc + j) != mpcrtTensorGetDouble(&c0, i * ldc + j);
  }
  CHECK(bad == 0);
  if (bad)
    printf("FAIL mixed A=%s B=%s C=%s compute=%s M=%lld N=%lld K=%lld transB=%d acc=%d: %d bad\n",
           mpcrtDTypeInfo(at)->name, mpcrtDTypeInfo(bt)->name, mpcrtDTypeInfo(ct)->name,
           mpcrtDTypeInfo(compute)->name, (long long)M, (long long)N, (long long)K, transB, accumulate, bad);
  mpcrtTensorFree(&a);
  mpcrtTensorFree(&b);
  mpcrtTensorFree(&c);
  mpcrtTensorFree(&c0);
}

int main(void) {
  static const int64_t shapes[][3] = {{1, 1, 1},     {12, 32, 1},   {13, 33, 2},    {11, 31, 255},
                                      {24, 64, 256}, {25, 65, 257}, {37, 100, 513}, {130, 70, 3},
                                      {2, 300, 40},  {300, 2, 40},  {121, 96, 129}, {5, 7, 0}};
  for (int kernel = 0; kernel < 2; ++kernel) {
    mpcrtGemmConfigure(kernel ? MPCRT_GEMM_PORTABLE : MPCRT_GEMM_AUTO, 0);
    for (int bf16 = 0; bf16 < 2; ++bf16) {
      const char *name = mpcrtGemmKernelName(bf16);
      printf("@kernel %s %s\n", bf16 ? "bf16" : "f32", name);
      for (int threads = 1; threads <= 2; ++threads) {
        mpcrtGemmConfigure(kernel ? MPCRT_GEMM_PORTABLE : MPCRT_GEMM_AUTO, threads);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
          for (int t = 0; t < 4; ++t)
            check(shapes[s][0], shapes[s][1], shapes[s][2], t & 1, t & 2, bf16, name, threads);
      }
    }
  }
  /* Every storage combination, both compute types, with K across a block. */
  static const MpcrtDType types[] = {MPCRT_F32, MPCRT_F16, MPCRT_BF16};
  printf("@mixed\n");
  for (int kernel = 0; kernel < 2; ++kernel) {
    mpcrtGemmConfigure(kernel ? MPCRT_GEMM_PORTABLE : MPCRT_GEMM_AUTO, 2);
    for (int ai = 0; ai < 3; ++ai)
      for (int bi = 0; bi < 3; ++bi)
        for (int ci = 0; ci < 3; ++ci)
          for (int compute = 0; compute < 3; ++compute) {
            MpcrtDType comp = compute == 2 ? MPCRT_F16 : compute ? MPCRT_BF16 : MPCRT_F32;
            checkMixed(13, 70, 3, types[ai], types[bi], types[ci], comp, ci == 1, ai == 2);
            checkMixed(25, 33, 600, types[ai], types[bi], types[ci], comp, bi == 2, ci != 0);
          }
  }
  /* The transposing packers (a linear layer's f32 weight read as bf16 pairs,
   * an f32 weight, a bf16 weight): full 16 x 16 blocks plus a ragged end of
   * K and N, one and two threads. */
  for (int threads = 1; threads <= 2; ++threads) {
    mpcrtGemmConfigure(MPCRT_GEMM_AUTO, threads);
    checkMixed(37, 100, 330, MPCRT_F32, MPCRT_F32, MPCRT_F32, MPCRT_BF16, true, false);
    checkMixed(37, 100, 330, MPCRT_F32, MPCRT_F32, MPCRT_BF16, MPCRT_BF16, true, true);
    checkMixed(37, 100, 330, MPCRT_F32, MPCRT_F32, MPCRT_F32, MPCRT_F32, true, true);
    checkMixed(37, 100, 330, MPCRT_BF16, MPCRT_BF16, MPCRT_F32, MPCRT_BF16, true, false);
    /* f16 storage (16-true weights) and f16 compute over f32 storage (16-mixed's fused casts). */
    checkMixed(37, 100, 330, MPCRT_F16, MPCRT_F16, MPCRT_F16, MPCRT_F32, true, true);
    checkMixed(37, 100, 330, MPCRT_F16, MPCRT_F16, MPCRT_F32, MPCRT_F32, false, false);
    checkMixed(37, 100, 330, MPCRT_F32, MPCRT_F32, MPCRT_F16, MPCRT_F16, true, false);
    checkMixed(37, 100, 330, MPCRT_F32, MPCRT_F32, MPCRT_F32, MPCRT_F16, false, true);
  }
  /* The ReLU epilogue, on every path: f32 C across K blocks, 16-bit C
   * through the f32 buffer, bf16 and f16 products, one and two threads. */
  testEpilogue = MPCRT_EPILOGUE_RELU;
  for (int threads = 1; threads <= 2; ++threads) {
    mpcrtGemmConfigure(MPCRT_GEMM_AUTO, threads);
    checkMixed(37, 100, 600, MPCRT_F32, MPCRT_F32, MPCRT_F32, MPCRT_F32, true, true);
    checkMixed(37, 100, 600, MPCRT_F32, MPCRT_F32, MPCRT_BF16, MPCRT_BF16, true, false);
    checkMixed(37, 100, 330, MPCRT_F16, MPCRT_F16, MPCRT_F16, MPCRT_F16, false, true);
  }
  mpcrtGemmConfigure(MPCRT_GEMM_PORTABLE, 2);
  checkMixed(20, 40, 300, MPCRT_F32, MPCRT_F32, MPCRT_F32, MPCRT_F32, true, false);
  /* An empty sum (K = 0) into 16-bit and f32 results, kept or zeroed, then ReLU. */
  mpcrtGemmConfigure(MPCRT_GEMM_AUTO, 2);
  for (int acc = 0; acc < 2; ++acc) {
    checkMixed(5, 7, 0, MPCRT_F32, MPCRT_F32, MPCRT_BF16, MPCRT_BF16, false, acc);
    checkMixed(5, 7, 0, MPCRT_F32, MPCRT_F32, MPCRT_F16, MPCRT_F32, true, acc);
    checkMixed(5, 7, 0, MPCRT_F32, MPCRT_F32, MPCRT_F32, MPCRT_F32, false, acc);
  }
  testEpilogue = MPCRT_EPILOGUE_NONE;
  for (int acc = 0; acc < 2; ++acc)
    checkMixed(5, 7, 0, MPCRT_BF16, MPCRT_F32, MPCRT_BF16, MPCRT_F32, false, acc);
  MpcrtError err;
  float x = 0;
  MpcrtGemmArgs bad = {1, 1, 1, &x, 1, MPCRT_I32, &x, 1, MPCRT_F32, false, &x, 1, MPCRT_F32, MPCRT_F32, false,
                       MPCRT_EPILOGUE_NONE};
  CHECK(!mpcrtGemm(&bad, &err) && strstr(err.message, "operands must be f32, f16 or bf16 (got A i32"));
  bad.aType = MPCRT_F32;
  bad.compute = MPCRT_F64;
  CHECK(!mpcrtGemm(&bad, &err) && strstr(err.message, "compute type must be f32, bf16 or f16, got f64"));

  /* Large enough to be split between threads. */
  mpcrtGemmConfigure(MPCRT_GEMM_AUTO, 2);
  check(200, 300, 300, true, false, false, "split", 2);
  check(200, 300, 300, false, true, true, "split", 2);
  check(400, 20, 300, false, false, false, "split-m", 2);
  return MPC_CHECK_SUMMARY();
}
