/*===- fold-casts.c - the mpc-fold-casts pass -------------------*- C -*-===*
 *
 * Removes cast chains that change nothing and keeps the lossy ones:
 *   truncf(extf(x : A) : B) : A      -> x              (exact round trip)
 *   truncf(extf(x : A) : C) : B      -> extf(x) : B    (A narrower than B)
 *   extf(extf(x : A) : B) : C        -> extf(x) : C    (widening twice)
 * extf(truncf(x)) rounds, so it stays; so do chains between f16 and bf16,
 * which neither type holds. Casts left without users are erased, so the
 * IR is clean for canonicalize and cse.
 *===----------------------------------------------------------------------===*/
#include "ir.h"
#include "support.h"

#include <stdlib.h>

/* If `op` is a cast of a cast that folds, returns the value that replaces
 * its result, creating a direct extf where needed. */
static bool foldChain(MlirOperation op, MlirValue *replacement, int *created) {
  MlirValue mid = mlirOperationGetOperand(op, 0);
  if (!mlirValueIsAOpResult(mid) || !mpcOpIsNamed(mlirOpResultGetOwner(mid), "arith.extf"))
    return false;
  MlirValue x = mlirOperationGetOperand(mlirOpResultGetOwner(mid), 0);
  MpcFloatType a, b;
  if (!mpcValueFloatType(x, &a) || !mpcValueFloatType(mlirOperationGetResult(op, 0), &b))
    return false;
  if (a == b) {
    *replacement = x;
    return true;
  }
  if (mpcFloatTypeBytes(a) >= mpcFloatTypeBytes(b))
    return false; /* e.g. bf16 -> f32 -> f16: a real conversion */
  *replacement = mpcBuildCast(x, b, mlirOperationGetLocation(op), created);
  return true;
}

static bool hasUses(MlirOperation op) {
  return !mlirOpOperandIsNull(mlirValueGetFirstUse(mlirOperationGetResult(op, 0)));
}

/* One sweep; returns the number of casts removed. */
static int sweep(MlirOperation module, int *created) {
  MlirOperation *casts;
  size_t n = mpcCollectOps(module, mpcIsCast, &casts);
  int removed = 0;
  for (size_t i = 0; i < n; ++i) {
    MlirValue replacement;
    if (hasUses(casts[i]) && foldChain(casts[i], &replacement, created)) {
      mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(casts[i], 0), replacement);
    }
  }
  /* Erase dead casts, users first (reverse pre-order). */
  for (size_t i = n; i-- > 0;) {
    if (!hasUses(casts[i])) {
      mlirOperationDestroy(casts[i]);
      ++removed;
    }
  }
  free(casts);
  return removed;
}

static bool runFold(MlirOperation module, const MpcOptions *options) {
  int removed = 0, created = 0;
  for (int round = 0, r; round < 16 && (r = sweep(module, &created)) > 0; ++round)
    removed += r;
  if (options->report)
    mpcReportAddCasts(options->report, 0, removed - created);
  return true;
}

MlirPass mpcCreateFoldCastsPass(const MpcOptions *options) {
  return mpcPassCreate("mpc-fold-casts", "builtin.module", runFold, options);
}
