/*===- runtime-files-fuzzer.c - libFuzzer target over the runtime's readers -*- C -*-===*
 *
 * Writes the input to a file and reads it as .npy, IDX (gzipped or not) and
 * safetensors. Any crash, sanitizer report or leak is a bug; errors are fine.
 * Built like parse-verify-fuzzer.c (standalone with -DMPC_FUZZ_STANDALONE).
 *===----------------------------------------------------------------------===*/
#include "mpc/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *scratch(void) {
  static char path[64];
  if (!path[0])
    snprintf(path, sizeof path, "/tmp/mpcrt-fuzz-%ld.bin", (long)getpid());
  return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FILE *f = fopen(scratch(), "wb");
  if (!f)
    return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  MpcrtError err;
  MpcrtTensor t;
  if (mpcrtNpyRead(scratch(), &t, &err))
    mpcrtTensorFree(&t);
  if (mpcrtIdxRead(scratch(), &t, &err))
    mpcrtTensorFree(&t);
  if (mpcrtArrayRead(scratch(), &t, &err))
    mpcrtTensorFree(&t);
  MpcrtTensorSet set;
  if (mpcrtSafetensorsRead(scratch(), &set, &err))
    mpcrtTensorSetFree(&set);
  return 0;
}

#ifdef MPC_FUZZ_STANDALONE
int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    FILE *f = fopen(argv[i], "rb");
    if (!f)
      return 1;
    uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
  }
  remove(scratch());
  printf("replayed %d inputs\n", argc - 1);
  return 0;
}
#endif
