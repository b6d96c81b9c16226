/*===- onnx-import-fuzzer.c - libFuzzer target over the ONNX importer -*- C -*-===*
 *
 * Feeds arbitrary bytes to mpcImportOnnx (no --shape overrides, source name
 * "fuzz.onnx"). Errors are fine; what is checked:
 *  - import.h's contract: a failure has an error message and returns no text
 *    and no parameters; a success returns text;
 *  - the text of a successful import parses and verifies with libmpc, as
 *    mpc-import's verifyText checks before it writes anything. Text that does
 *    not verify is an importer bug: the diagnostics and the text go to stderr
 *    and the fuzzer aborts.
 * Any crash, sanitizer report or leak is a bug too.
 *
 * Built two ways, like parse-verify-fuzzer.c:
 *  - with clang -fsanitize=fuzzer,address (cmake -DMPC_BUILD_FUZZERS=ON) as
 *    the libFuzzer target mpc-onnx-fuzzer;
 *  - with -DMPC_FUZZ_STANDALONE as `mpc-onnx-fuzz-replay FILE|DIR...`, which
 *    runs each file (each file of a directory) once; lit replays the seed
 *    corpus and the regressions with it in every build.
 *===----------------------------------------------------------------------===*/
#include "mpc/import.h"
#include "mpc/mpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Uniqued types, attributes and locations live as long as the context: start
 * a fresh one now and then so that memory stays bounded over millions of
 * inputs. Diagnostics go to /dev/null. */
static MlirContext context(void) {
  static MlirContext ctx;
  static MpcDiagnosticEngine *engine;
  static FILE *devnull;
  static unsigned uses;
  if (!devnull)
    devnull = fopen("/dev/null", "w");
  if (ctx.ptr && ++uses % 2000 == 0) {
    mpcDiagnosticEngineDestroy(engine);
    mlirContextDestroy(ctx);
    ctx.ptr = NULL;
  }
  if (!ctx.ptr) {
    ctx = mpcContextCreate();
    engine = mpcDiagnosticEngineCreate(ctx, devnull);
  }
  return ctx;
}

static bool verifyText(MlirContext ctx, const char *text) {
  MlirModule module = mpcParseModule(ctx, mlirStringRefCreateFromCString(text), "fuzz.onnx");
  bool ok = !mlirModuleIsNull(module) && mpcVerify(mlirModuleGetOperation(module));
  if (!mlirModuleIsNull(module))
    mlirModuleDestroy(module);
  return ok;
}

static void bug(const char *what, const MpcImportResult *r) {
  fprintf(stderr, "mpc-onnx-fuzzer: importer bug: %s\n", what);
  if (r->error[0])
    fprintf(stderr, "  error: %s\n", r->error);
  if (r->mlir) {
    /* Once more, with the diagnostics on stderr, then the text. */
    MlirContext ctx = mpcContextCreate();
    MpcDiagnosticEngine *diag = mpcDiagnosticEngineCreate(ctx, stderr);
    verifyText(ctx, r->mlir);
    mpcDiagnosticEngineDestroy(diag);
    mlirContextDestroy(ctx);
    size_t n = strlen(r->mlir);
    fprintf(stderr, "---- generated text (%zu bytes%s)\n%.*s\n----\n", n, n > 16384 ? ", first 16384" : "",
            n > 16384 ? 16384 : (int)n, r->mlir);
  }
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  MpcImportOptions options = {.sourceName = "fuzz.onnx", .shapes = NULL, .numShapes = 0};
  MpcImportResult r;
  if (!mpcImportOnnx(data, size, &options, &r)) {
    if (!r.error[0])
      bug("the import failed without an error message", &r);
    if (r.mlir || r.params.count)
      bug("the import failed but returned text or parameters", &r);
    return 0;
  }
  if (!r.mlir)
    bug("the import succeeded without text", &r);
  if (!verifyText(context(), r.mlir))
    bug("the generated IR does not verify", &r);
  mpcImportResultFree(&r);
  return 0;
}

#ifdef MPC_FUZZ_STANDALONE
#include <dirent.h>
#include <sys/stat.h>

static int replayed;

static int replayFile(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "mpc-onnx-fuzz-replay: error: cannot open '%s'\n", path);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
  fclose(f);
  LLVMFuzzerTestOneInput(buf, got);
  free(buf);
  ++replayed;
  return 0;
}

static int replay(const char *path) {
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    struct dirent **entries;
    int n = scandir(path, &entries, NULL, alphasort);
    if (n < 0) {
      fprintf(stderr, "mpc-onnx-fuzz-replay: error: cannot read '%s'\n", path);
      return 1;
    }
    int rc = 0;
    for (int k = 0; k < n; ++k) {
      if (!rc && entries[k]->d_name[0] != '.') {
        size_t len = strlen(path) + strlen(entries[k]->d_name) + 2;
        char *child = malloc(len);
        snprintf(child, len, "%s/%s", path, entries[k]->d_name);
        rc = replay(child);
        free(child);
      }
      free(entries[k]);
    }
    free(entries);
    return rc;
  }
  return replayFile(path);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i)
    if (replay(argv[i]))
      return 1;
  printf("replayed %d inputs\n", replayed);
  return 0;
}
#endif
