/*===- gemm-bench.c - time the runtime's GEMM kernels -----------*- C -*-===*
 *
 *   mpcrt-gemm-bench [N] [REPEATS]
 * times C = A . B for N x N x N (default 1024) in f32 and bf16 (f32
 * accumulation), best of REPEATS (default 7) after a warm-up, and prints
 * "gemm f32 N=1024 threads=2 kernel=avx512 seconds=... gflops=..." lines for
 * bench/matmul.py to compare with PyTorch in the same run.
 *===----------------------------------------------------------------------===*/
#include "mpc/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  int64_t n = argc > 1 ? atoll(argv[1]) : 1024;
  int repeats = argc > 2 ? atoi(argv[2]) : 7;
  float *a = malloc(sizeof(float) * (size_t)(n * n)), *b = malloc(sizeof(float) * (size_t)(n * n)),
        *c = malloc(sizeof(float) * (size_t)(n * n));
  MpcrtBF16 *ah = malloc(sizeof(MpcrtBF16) * (size_t)(n * n)), *bh = malloc(sizeof(MpcrtBF16) * (size_t)(n * n));
  if (!a || !b || !c || !ah || !bh)
    return 1;
  for (int64_t i = 0; i < n * n; ++i) {
    a[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    b[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
    ah[i] = mpcrtBF16FromF32(a[i]);
    bh[i] = mpcrtBF16FromF32(b[i]);
  }
  const char *threads = getenv("MPC_NUM_THREADS");
  for (int bf16 = 0; bf16 < 2; ++bf16) {
    double best = 1e30;
    for (int r = 0; r <= repeats; ++r) { /* r == 0 is the warm-up */
      double t0 = now();
      if (bf16)
        mpcrtGemmBF16(n, n, n, ah, n, bh, n, false, c, n, false);
      else
        mpcrtGemmF32(n, n, n, a, n, b, n, false, c, n, false);
      double t = now() - t0;
      if (r > 0 && t < best)
        best = t;
    }
    printf("gemm %s N=%lld threads=%s kernel=%s seconds=%.6f gflops=%.1f\n", bf16 ? "bf16" : "f32", (long long)n,
           threads ? threads : "all", mpcrtGemmKernelName(bf16), best, 2.0 * (double)n * (double)n * (double)n / best / 1e9);
  }
  free(a);
  free(b);
  free(c);
  free(ah);
  free(bh);
  return 0;
}
