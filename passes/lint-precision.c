/*===- lint-precision.c - the mpc-lint-precision pass -----------*- C -*-===*
 *
 * Warns before any training, at the location, about what the chosen types
 * cannot hold:
 *  - float constants feeding an op that computes in a narrower type and
 *    overflow it (|x| > 65504 in f16: the -1e9 of an attention mask becomes
 *    -inf) or underflow to zero (1e-8 in f16);
 *  - float attributes of such an op (an eps of 1e-8 in an f16 layer_norm);
 *  - bf16 modes on a CPU target without AVX512-BF16, where bf16 arithmetic is
 *    emulated and slow. The CPU's flags come from /proc/cpuinfo, or from the
 *    MPC_CPU_FLAGS environment variable (space-separated) when it is set.
 * It changes nothing and never fails.
 *===----------------------------------------------------------------------===*/
#include "ir.h"
#include "support.h"

#include <math.h>
#include <mlir-c/BuiltinAttributes.h>
#include <stdlib.h>
#include <string.h>

/* Warns if x is out of t's range; returns whether it did. */
static bool checkValue(MlirOperation op, MlirLocation at, const char *what, double x, MpcFloatType t) {
  double mag = fabs(x);
  const char *type = mpcFloatTypeName(t);
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  if (isfinite(x) && mag > mpcFloatTypeMax(t))
    mpcEmitDiagnostic(at, MPC_DIAG_WARNING,
                      "%s %g overflows %s (largest finite value %g): '%.*s' computes in %s, so it becomes %sinf",
                      what, x, type, mpcFloatTypeMax(t), (int)name.length, name.data, type, x < 0 ? "-" : "+");
  else if (mag > 0 && mag < mpcFloatTypeMinSubnormal(t) / 2)
    mpcEmitDiagnostic(at, MPC_DIAG_WARNING,
                      "%s %g underflows to zero in %s (smallest value %g): '%.*s' computes in %s", what, x, type,
                      mpcFloatTypeMinSubnormal(t), (int)name.length, name.data, type);
  else
    return false;
  return true;
}

/* Checks an arith.constant operand; reports its first offending element. */
static void checkConstant(MlirOperation op, MlirValue v, MpcFloatType t) {
  if (!mlirValueIsAOpResult(v))
    return;
  MlirOperation def = mlirOpResultGetOwner(v);
  if (!mpcOpIsNamed(def, "arith.constant"))
    return;
  MlirAttribute value = mlirOperationGetAttributeByName(def, mlirStringRefCreateFromCString("value"));
  MpcFloatType from;
  if (mlirAttributeIsNull(value) || !mlirAttributeIsADenseFPElements(value) || !mpcValueFloatType(v, &from) ||
      mpcFloatTypeBytes(from) <= mpcFloatTypeBytes(t))
    return; /* only constants wider than the compute type can be out of its range */
  intptr_t n = mlirDenseElementsAttrIsSplat(value) ? 1 : mlirElementsAttrGetNumElements(value);
  for (intptr_t i = 0; i < n; ++i) {
    double x = from == MPC_F64 ? mlirDenseElementsAttrGetDoubleValue(value, i)
                               : (double)mlirDenseElementsAttrGetFloatValue(value, i);
    if (checkValue(op, mlirOperationGetLocation(def), "constant", x, t))
      return; /* one warning per constant */
  }
}

static void checkAttributes(MlirOperation op, MpcFloatType t) {
  const MpcOpInfo *info = mpcOpInfoGet(mpcOpKindOf(op));
  for (int i = 0; i < info->numAttrs; ++i) {
    if (info->attrs[i].kind != MPC_ATTR_F64)
      continue;
    MlirAttribute a = mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString(info->attrs[i].name));
    char what[64];
    snprintf(what, sizeof what, "attribute '%s' =", info->attrs[i].name);
    if (!mlirAttributeIsNull(a) && mlirAttributeIsAFloat(a))
      checkValue(op, mlirOperationGetLocation(op), what, mlirFloatAttrGetValueDouble(a), t);
  }
}

static bool cpuHasFlag(const char *flag) {
  const char *env = getenv("MPC_CPU_FLAGS");
  char line[8192];
  size_t fl = strlen(flag);
  if (env) {
    for (const char *p = strstr(env, flag); p; p = strstr(p + 1, flag))
      if ((p == env || p[-1] == ' ') && (p[fl] == '\0' || p[fl] == ' '))
        return true;
    return false;
  }
  FILE *f = fopen("/proc/cpuinfo", "r");
  bool found = false;
  while (f && !found && fgets(line, sizeof line, f))
    if (!strncmp(line, "flags", 5))
      for (char *tok = strtok(line, " \t\n"); tok && !found; tok = strtok(NULL, " \t\n"))
        found = !strcmp(tok, flag);
  if (f)
    fclose(f);
  return found;
}

static void checkTarget(MlirOperation module, const MpcOptions *o) {
  if (o->target != MPC_TARGET_CPU || mpcModeInfoGet(o->mode)->low != MPC_BF16 || cpuHasFlag("avx512_bf16"))
    return;
  MlirOperation *funcs;
  size_t n = mpcCollectOps(module, mpcIsFunc, &funcs);
  MlirLocation at = n ? mlirOperationGetLocation(funcs[0]) : mlirOperationGetLocation(module);
  free(funcs);
  mpcEmitDiagnostic(at, MPC_DIAG_WARNING,
                    "%s on a CPU without AVX512-BF16: bf16 arithmetic is emulated and will be slow "
                    "(16-mixed or 32-true may be faster here)",
                    mpcModeInfoGet(o->mode)->name);
}

static bool runLint(MlirOperation module, const MpcOptions *options) {
  checkTarget(module, options);
  MlirOperation *ops;
  size_t n = mpcCollectOps(module, mpcIsMpcOp, &ops);
  for (size_t i = 0; i < n; ++i) {
    MpcFloatType t;
    bool bad = false;
    if (!mpcGetPrecision(ops[i], &t, &bad))
      continue;
    for (intptr_t k = 0, m = mlirOperationGetNumOperands(ops[i]); k < m; ++k)
      checkConstant(ops[i], mlirOperationGetOperand(ops[i], k), t);
    checkAttributes(ops[i], t);
  }
  free(ops);
  return true;
}

MlirPass mpcCreateLintPrecisionPass(const MpcOptions *options) {
  return mpcPassCreate("mpc-lint-precision", "builtin.module", runLint, options);
}
