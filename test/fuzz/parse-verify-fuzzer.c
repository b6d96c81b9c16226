/*===- parse-verify-fuzzer.c - libFuzzer target over parse + verify -*- C -*-===*
 *
 * Feeds arbitrary bytes to mpcParseModule and mpcVerify; IR that verifies
 * then goes through the precision pipeline (the mode taken from the input's
 * length, so all six are exercised) and is verified and printed again; half
 * of it then through the training passes (autodiff, loss scaling, an
 * optimizer, verify), and all of it through mpc-lower-to-linalg. Those passes
 * write text and parse it back; the fuzzer sets MPC_ABORT_ON_INTERNAL_ERROR,
 * so one that writes bad IR aborts. Any crash, sanitizer report or leak is a
 * bug.
 *
 * Built two ways:
 *  - with clang -fsanitize=fuzzer,address (cmake -DMPC_BUILD_FUZZERS=ON, see
 *    docs/testing.md) as a libFuzzer target;
 *  - with -DMPC_FUZZ_STANDALONE as `mpc-fuzz-replay FILE...`, which runs
 *    each file once; lit replays the seed corpus with it in every build.
 *===----------------------------------------------------------------------===*/
#include "mpc/mpc.h"

#include <stdlib.h>
#include <string.h>

static void dropText(MlirStringRef text, void *userData) { *(size_t *)userData += text.length; }

/* Uniqued types and attributes live as long as the context: start a fresh
 * one now and then so that memory stays bounded over millions of inputs.
 * Diagnostics, mpc's warnings included, go to /dev/null. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool armed;
  if (!armed) {
    setenv("MPC_ABORT_ON_INTERNAL_ERROR", "1", 1);
    armed = true;
  }
  MlirContext ctx = context();
  MlirModule module = mpcParseModule(ctx, mlirStringRefCreate((const char *)data, size), "fuzz.mlir");
  if (mlirModuleIsNull(module))
    return 0;
  MlirOperation op = mlirModuleGetOperation(module);
  if (mpcVerify(op)) {
    MpcOptions options;
    mpcOptionsInit(&options, (MpcPrecisionMode)(size % MPC_MODE_COUNT), (MpcTarget)(size / 7 % 2));
    MlirPassManager pm = mlirPassManagerCreate(ctx);
    size_t n;
    const char *const *pipeline = mpcPrecisionPipeline(&n);
    for (size_t i = 0; i < n; ++i)
      mlirPassManagerAddOwnedPass(pm, mpcPassLookup(pipeline[i])->create(&options));
    if (mlirLogicalResultIsSuccess(mlirPassManagerRunOnOp(pm, op))) {
      size_t printed = 0;
      mlirOperationPrint(op, dropText, &printed);
      /* Half the inputs also go through the training passes (their text
       * must parse back: an internal error aborts). */
      bool trained = true;
      if (size % 2) {
        options.optimizer = (MpcOptimizer){.kind = size % 3 ? MPC_OPT_SGD : MPC_OPT_ADAMW, .lr = 0.01,
                                           .momentum = size % 5 ? 0.0 : 0.9, .beta1 = 0.9, .beta2 = 0.999,
                                           .eps = 1e-8, .stochasticRounding = size % 11 == 0};
        MlirPassManager t = mlirPassManagerCreate(ctx);
        mlirPassManagerAddOwnedPass(t, mpcCreateAutodiffPass(&options));
        mlirPassManagerAddOwnedPass(t, mpcCreateLossScalingPass(&options));
        mlirPassManagerAddOwnedPass(t, mpcCreateOptimizerPass(&options));
        mlirPassManagerAddOwnedPass(t, mpcCreateVerifyPass(&options));
        trained = mlirLogicalResultIsSuccess(mlirPassManagerRunOnOp(t, op));
        mlirPassManagerDestroy(t);
      }
      if (trained) { /* a failed pass may leave invalid IR behind: lower only what verified */
        MlirPassManager lower = mlirPassManagerCreate(ctx);
        mlirPassManagerAddOwnedPass(lower, mpcCreateLowerToLinalgPass(&options));
        if (mlirLogicalResultIsSuccess(mlirPassManagerRunOnOp(lower, op)))
          mlirOperationPrint(op, dropText, &printed);
        mlirPassManagerDestroy(lower);
      }
    }
    mlirPassManagerDestroy(pm);
  }
  mlirModuleDestroy(module);
  return 0;
}

#ifdef MPC_FUZZ_STANDALONE
int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    FILE *f = fopen(argv[i], "rb");
    if (!f) {
      fprintf(stderr, "mpc-fuzz-replay: error: cannot open '%s'\n", argv[i]);
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
  }
  printf("replayed %d inputs\n", argc - 1);
  return 0;
}
#endif
