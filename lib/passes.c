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
};

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

static void passConstruct(void *userData) { (void)userData; }
static void passDestruct(void *userData) { (void)userData; }
static MlirLogicalResult passInitialize(MlirContext ctx, void *userData) {
  (void)ctx;
  (void)userData;
  return mlirLogicalResultSuccess();
}
static void *passClone(void *userData) { return userData; }
static void passRun(MlirOperation op, MlirExternalPass pass, void *userData) {
  MpcPassRunFn run = (MpcPassRunFn)userData;
  if (!run(op))
    mlirExternalPassSignalFailure(pass);
}

MlirPass mpcPassCreate(const char *flag, const char *anchor, MpcPassRunFn run) {
  const MpcPassInfo *info = mpcPassLookup(flag);
  MPC_ASSERT(info, "mpcPassCreate: pass missing from the registry in lib/passes.c");
  const char *description = info->description;
  MlirExternalPassCallbacks callbacks = {passConstruct, passDestruct, passInitialize, passClone, passRun};
  return mlirCreateExternalPass(typeIDFor(flag), mlirStringRefCreateFromCString(flag),
                                mlirStringRefCreateFromCString(flag),
                                mlirStringRefCreateFromCString(description),
                                mlirStringRefCreateFromCString(anchor), 0, NULL, callbacks,
                                (void *)run);
}
