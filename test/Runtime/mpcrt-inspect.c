/*===- mpcrt-inspect.c - read and write runtime files from tests -*- C -*-===*
 *
 *   mpcrt-inspect FILE                       describe a .npy or IDX file
 *   mpcrt-inspect --safetensors FILE         describe each tensor of a checkpoint
 *   mpcrt-inspect --write-npy OUT DTYPE DIMS write a test pattern (DIMS like 2x3, or "" for a scalar)
 *   mpcrt-inspect --write-safetensors OUT    write a small checkpoint
 * Descriptions are "SHAPExDTYPE sum=S first=F last=L" (values as doubles);
 * errors are the runtime's one-line messages and exit 1.
 *===----------------------------------------------------------------------===*/
#include "mpc/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void describe(const char *label, const MpcrtTensor *t) {
  char desc[96];
  int64_t n = mpcrtTensorNumElements(t);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += mpcrtTensorGetDouble(t, i);
  printf("%s%s%s sum=%.9g first=%.9g last=%.9g\n", label, label[0] ? " " : "", mpcrtTensorDescribe(t, desc, sizeof desc),
         sum, n ? mpcrtTensorGetDouble(t, 0) : 0.0, n ? mpcrtTensorGetDouble(t, n - 1) : 0.0);
}

static void pattern(MpcrtTensor *t) {
  for (int64_t i = 0; i < mpcrtTensorNumElements(t); ++i)
    mpcrtTensorSetDouble(t, i, mpcrtDTypeInfo(t->dtype)->isFloat ? i * 0.25 - 1 : (double)(i % 7));
}

static int fail(const MpcrtError *err) {
  fprintf(stderr, "mpcrt-inspect: error: %s\n", err->message);
  return 1;
}

int main(int argc, char **argv) {
  MpcrtError err;
  if (argc == 2) {
    MpcrtTensor t;
    if (!mpcrtArrayRead(argv[1], &t, &err))
      return fail(&err);
    describe("", &t);
    mpcrtTensorFree(&t);
    return 0;
  }
  if (argc == 3 && !strcmp(argv[1], "--safetensors")) {
    MpcrtTensorSet set;
    if (!mpcrtSafetensorsRead(argv[2], &set, &err))
      return fail(&err);
    for (size_t i = 0; i < set.count; ++i)
      describe(set.items[i].name, &set.items[i].tensor);
    mpcrtTensorSetFree(&set);
    return 0;
  }
  if (argc == 5 && !strcmp(argv[1], "--write-npy")) {
    MpcrtDType dtype;
    int64_t dims[MPCRT_MAX_RANK];
    int rank = 0;
    if (!mpcrtDTypeFromName(argv[3], &dtype)) {
      fprintf(stderr, "mpcrt-inspect: error: unknown dtype '%s'\n", argv[3]);
      return 1;
    }
    for (char *p = argv[4]; *p && rank < MPCRT_MAX_RANK; p += *p == 'x')
      dims[rank++] = strtoll(p, &p, 10);
    MpcrtTensor t;
    if (!mpcrtTensorAlloc(&t, dtype, rank, dims, &err))
      return fail(&err);
    pattern(&t);
    bool ok = mpcrtNpyWrite(argv[2], &t, &err);
    mpcrtTensorFree(&t);
    return ok ? 0 : fail(&err);
  }
  if (argc == 3 && !strcmp(argv[1], "--write-safetensors")) {
    MpcrtTensorSet set = {0};
    MpcrtTensor w, b, step;
    if (!mpcrtTensorAlloc(&w, MPCRT_F32, 2, (int64_t[]){2, 3}, &err) ||
        !mpcrtTensorAlloc(&b, MPCRT_BF16, 1, (int64_t[]){3}, &err) || !mpcrtTensorAlloc(&step, MPCRT_I64, 0, NULL, &err))
      return fail(&err);
    pattern(&w);
    pattern(&b);
    mpcrtTensorSetDouble(&step, 0, 7);
    mpcrtTensorSetAdd(&set, "fc.weight", w);
    mpcrtTensorSetAdd(&set, "fc.bias", b);
    mpcrtTensorSetAdd(&set, "step", step);
    bool ok = mpcrtSafetensorsWrite(argv[2], &set, &err);
    mpcrtTensorSetFree(&set);
    return ok ? 0 : fail(&err);
  }
  fprintf(stderr, "usage: mpcrt-inspect FILE | --safetensors FILE | --write-npy OUT DTYPE DIMS | "
                  "--write-safetensors OUT\n");
  return 2;
}
