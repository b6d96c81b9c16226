/*===- fake-model.c - a hand-written model behind the runner ABI -*- C -*-===*
 *
 * Stands in for what mpc-compile will emit, to test runtime/runner.c:
 *   inputs  x: 2x3xf32, y: 2xi64; parameters w: 3xf32 (kaiming_uniform, fan-in 3), b: 3xbf16 (zeros)
 *   result0 = x + w (broadcast over rows), 2x3xf32
 *   result1 = sum(x) + sum(y) + sum(b), f32 scalar
 *===----------------------------------------------------------------------===*/
#include "mpc/runtime.h"

static const MpcrtArgInfo args[] = {
    {.name = "x", .dtype = MPCRT_F32, .rank = 2, .dims = {2, 3}},
    {.name = "y", .dtype = MPCRT_I64, .rank = 1, .dims = {2}},
    {.name = "w", .isParam = true, .dtype = MPCRT_F32, .rank = 1, .dims = {3}, .init = MPCRT_INIT_KAIMING_UNIFORM,
     .fanIn = 3},
    {.name = "b", .isParam = true, .dtype = MPCRT_BF16, .rank = 1, .dims = {3}, .init = MPCRT_INIT_ZEROS},
};

static const MpcrtArgInfo results[] = {
    {.name = "result0", .dtype = MPCRT_F32, .rank = 2, .dims = {2, 3}},
    {.name = "result1", .dtype = MPCRT_F32, .rank = 0},
};

static void forward(void *const *in, void *const *out) {
  const float *x = in[0], *w = in[2];
  const int64_t *y = in[1];
  const MpcrtBF16 *b = in[3];
  float *sum = out[0], *total = out[1];
  *total = 0;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      sum[i * 3 + j] = x[i * 3 + j] + w[j];
      *total += x[i * 3 + j];
    }
  *total += (float)(y[0] + y[1]);
  for (int j = 0; j < 3; ++j)
    *total += mpcrtBF16ToF32(b[j]);
}

static const MpcrtModel model = {"fake", 4, 2, args, results, forward};

int main(int argc, char **argv) { return mpcrtRunnerMain(&model, argc, argv); }
