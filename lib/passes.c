/*===- passes.c - the mpc pass registry and the pass wrapper ----*- C -*-===*
 *
 * One table maps each pass flag to its constructor; mpc-opt builds its
 * --mpc-* flags and --help from it. Passes are written as a plain function
 * over an operation and wrapped here as MLIR external passes.
 *===----------------------------------------------------------------------===*/
#include "mpc/mpc.h"
#include "support.h"

#include <mlir-c/Support.h>
#include <string.h>

static const MpcPassInfo registry[] = {
    {"mpc-verify", "check every mpc op against the op table and its shape rule", mpcCreateVerifyPass},
    {"mpc-assign-precision", "decide each op's compute type from the mode and policy (mpc.precision)",
     mpcCreateAssignPrecisionPass},
    {"mpc-lint-precision", "warn about constants and attributes the chosen types cannot hold",
     mpcCreateLintPrecisionPass},
    {"mpc-insert-casts", "make types follow mpc.precision with at most one cast per value and type",
     mpcCreateInsertCastsPass},
    {"mpc-fold-casts", "remove cast round trips that change nothing, and dead casts", mpcCreateFoldCastsPass},
    {"mpc-autodiff", "derive @forward_grad from @forward: reverse-mode gradients of the loss for every mpc.param",
     mpcCreateAutodiffPass},
    {"mpc-loss-scaling", "scale the loss gradient, unscale and check the gradients, update the scale (--loss-scale)",
     mpcCreateLossScalingPass},
    {"mpc-optimizer", "turn @forward_grad into @train_step with the optimizer update of --train",
     mpcCreateOptimizerPass},
    {"mpc-lower-to-linalg", "lower mpc ops to linalg, tensor, arith and math, and runtime kernel calls",
     mpcCreateLowerToLinalgPass},
};

static const char *const precisionPipeline[] = {
    "mpc-assign-precision", "mpc-lint-precision", "mpc-insert-casts", "mpc-fold-casts", "mpc-verify",
};

const char *const *mpcPrecisionPipeline(size_t *count) {
  *count = sizeof precisionPipeline / sizeof precisionPipeline[0];
  return precisionPipeline;
}

const MpcPassInfo *mpcPassRegistry(size_t *count) {
  *count = sizeof registry / sizeof registry[0];
  return registry;
}

const MpcPassInfo *mpcPassLookup(const char *flag) {
  for (size_t i = 0; i < sizeof registry / sizeof registry[0]; ++i)
    if (!strcmp(registry[i].flag, flag))
      return &registry[i];
  return NULL;
}

/* Each pass gets one TypeID, allocated on first use. */
typedef struct {
  const char *flag;
  MlirTypeID id;
} PassTypeID;

static MlirTypeIDAllocator allocator;
static PassTypeID typeIDs[64];
static size_t numTypeIDs;

static MlirTypeID typeIDFor(const char *flag) {
  for (size_t i = 0; i < numTypeIDs; ++i)
    if (!strcmp(typeIDs[i].flag, flag))
      return typeIDs[i].id;
  if (!allocator.ptr)
    allocator = mlirTypeIDAllocatorCreate();
  MPC_ASSERT(numTypeIDs < sizeof typeIDs / sizeof typeIDs[0], "too many passes");
  typeIDs[numTypeIDs] = (PassTypeID){flag, mlirTypeIDAllocatorAllocateTypeID(allocator)};
  return typeIDs[numTypeIDs++].id;
}

typedef struct {
  MpcPassRunFn run;
  const MpcOptions *options;
} PassState;

static void passConstruct(void *userData) { (void)userData; }
static void passDestruct(void *userData) { free(userData); }
static MlirLogicalResult passInitialize(MlirContext ctx, void *userData) {
  (void)ctx;
  (void)userData;
  return mlirLogicalResultSuccess();
}
static void *passClone(void *userData) {
  PassState *copy = malloc(sizeof *copy);
  MPC_ASSERT(copy, "out of memory");
  *copy = *(PassState *)userData;
  return copy;
}
static void passRun(MlirOperation op, MlirExternalPass pass, void *userData) {
  PassState *state = userData;
  if (!state->run(op, state->options))
    mlirExternalPassSignalFailure(pass);
}

MlirPass mpcPassCreate(const char *flag, const char *anchor, MpcPassRunFn run, const MpcOptions *options) {
  const MpcPassInfo *info = mpcPassLookup(flag);
  MPC_ASSERT(info, "mpcPassCreate: pass missing from the registry in lib/passes.c");
  PassState *state = malloc(sizeof *state);
  MPC_ASSERT(state, "out of memory");
  *state = (PassState){run, options};
  MlirExternalPassCallbacks callbacks = {passConstruct, passDestruct, passInitialize, passClone, passRun};
  return mlirCreateExternalPass(typeIDFor(flag), mlirStringRefCreateFromCString(flag),
                                mlirStringRefCreateFromCString(flag),
                                mlirStringRefCreateFromCString(info->description),
                                mlirStringRefCreateFromCString(anchor), 0, NULL, callbacks, state);
}
