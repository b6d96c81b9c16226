/*===- assign-precision.c - the mpc-assign-precision pass -------*- C -*-===*
 *
 * Decides the compute type of every mpc op and records it as
 * `mpc.precision = "f16" | "bf16" | "f32" | "f64"`. Types are not changed
 * here; mpc-insert-casts makes the IR follow the decisions.
 *
 *  - true modes run every op in one type (16-true: f16, bf16-true: bf16,
 *    64-true: f64); 32-true keeps every op in the type it has;
 *  - mixed modes use the op's class: lower ops get the low type, fp32 ops
 *    f32, follow ops the type of their operand, promote ops the widest type
 *    of their operands. Walking in dominance order, decisions flow forward,
 *    which is TensorFlow's graph painting for these classes: f32 spreads
 *    through follow ops until a lower op, and follow ops between lower ops
 *    stay low, so casts sit only where differently typed regions meet;
 *  - rank-0 tensors and splat constants take no part in promotion (like
 *    PyTorch's scalars) unless every operand is one;
 *  - an op that already carries mpc.precision keeps it (a pin), and a
 *    function with {mpc.autocast = false} keeps every op as written.
 *===----------------------------------------------------------------------===*/
#include "ir.h"

#include <mlir-c/BuiltinAttributes.h>
#include <mlir-c/BuiltinTypes.h>
#include <stdlib.h>

/* The type a value will have once the decisions so far are applied. */
static MpcFloatType plannedType(MlirValue v, const MpcOptions *o, MlirOperation func, bool autocast) {
  MpcFloatType t = MPC_F32, pinned;
  bool bad = false;
  mpcValueFloatType(v, &t);
  if (mlirValueIsAOpResult(v)) {
    MlirOperation def = mlirOpResultGetOwner(v);
    if (mpcIsMpcOp(def) && mpcGetPrecision(def, &pinned, &bad))
      return pinned;
    return t;
  }
  /* Function arguments take the parameter type in true modes. */
  const MpcModeInfo *mode = mpcModeInfoGet(o->mode);
  MlirOperation owner = mlirBlockGetParentOperation(mlirBlockArgumentGetOwner(v));
  if (autocast && !mode->mixed && o->mode != MPC_MODE_32_TRUE && mlirOperationEqual(owner, func))
    return mode->params;
  return t;
}

/* Rank-0 tensors and splat constants act like PyTorch scalars. */
static bool isScalarLike(MlirValue v) {
  MlirType t = mlirValueGetType(v);
  if (mlirTypeIsARankedTensor(t) && mlirShapedTypeGetRank(t) == 0)
    return true;
  if (!mlirValueIsAOpResult(v))
    return false;
  MlirOperation def = mlirOpResultGetOwner(v);
  if (!mpcOpIsNamed(def, "arith.constant"))
    return false;
  MlirAttribute value = mlirOperationGetAttributeByName(def, mlirStringRefCreateFromCString("value"));
  return !mlirAttributeIsNull(value) && mlirAttributeIsADenseElements(value) && mlirDenseElementsAttrIsSplat(value);
}

typedef struct {
  const MpcOptions *options;
  MlirOperation func;
  bool autocast;
} FuncState;

static bool isFloatOperand(MlirOperation op, intptr_t i) {
  MpcFloatType t;
  return mpcValueFloatType(mlirOperationGetOperand(op, i), &t);
}

static MpcFloatType promoteOperands(const FuncState *st, MlirOperation op) {
  intptr_t n = mlirOperationGetNumOperands(op);
  bool haveTensor = false, haveAny = false;
  MpcFloatType tensorType = MPC_F16, anyType = MPC_F16;
  for (intptr_t i = 0; i < n; ++i) {
    if (!isFloatOperand(op, i))
      continue;
    MlirValue v = mlirOperationGetOperand(op, i);
    MpcFloatType t = plannedType(v, st->options, st->func, st->autocast);
    anyType = haveAny ? mpcFloatTypePromote(anyType, t) : t;
    haveAny = true;
    if (!isScalarLike(v)) {
      tensorType = haveTensor ? mpcFloatTypePromote(tensorType, t) : t;
      haveTensor = true;
    }
  }
  return haveTensor ? tensorType : anyType;
}

static MpcFloatType firstFloatOperand(const FuncState *st, MlirOperation op) {
  for (intptr_t i = 0, n = mlirOperationGetNumOperands(op); i < n; ++i)
    if (isFloatOperand(op, i))
      return plannedType(mlirOperationGetOperand(op, i), st->options, st->func, st->autocast);
  return MPC_F32;
}

/* Decides one op; returns false on a bad pin. */
static bool decide(const FuncState *st, MlirOperation op) {
  const MpcOptions *o = st->options;
  const MpcModeInfo *mode = mpcModeInfoGet(o->mode);
  MpcOpKind kind = mpcOpKindOf(op);
  MpcPrecisionClass cls = o->classes[kind];
  MpcFloatType t, declared = MPC_F32;
  if (!mpcValueFloatType(mlirOperationGetResult(op, 0), &declared))
    return true; /* an integer reshape: no precision to decide */
  bool bad = false;
  const char *reason;
  if (mpcGetPrecision(op, &t, &bad)) {
    reason = "pin";
  } else if (bad) {
    return false;
  } else if (!st->autocast) {
    t = declared;
    reason = "autocast-off";
  } else if (o->mode == MPC_MODE_32_TRUE) {
    t = declared;
    reason = "mode";
  } else if (!mode->mixed) {
    t = mode->low;
    reason = "mode";
  } else {
    switch (cls) {
    case MPC_CLASS_LOWER: t = mode->low; reason = "table"; break;
    case MPC_CLASS_FP32: t = MPC_F32; reason = "table"; break;
    case MPC_CLASS_FOLLOW: t = firstFloatOperand(st, op); reason = "follow"; break;
    case MPC_CLASS_PROMOTE: t = promoteOperands(st, op); reason = "promote"; break;
    default: t = declared; reason = "table"; break;
    }
    if (o->sources[kind] == MPC_SOURCE_POLICY_FILE)
      reason = "policy file";
  }
  mpcSetPrecision(op, t);
  if (o->report)
    mpcReportAddOp(o->report, op, cls, t, reason);
  return true;
}

static bool runAssign(MlirOperation module, const MpcOptions *options) {
  if (options->report)
    mpcReportMeasure(options->report, module, false);
  MlirOperation *funcs;
  size_t numFuncs = mpcCollectOps(module, mpcIsFunc, &funcs);
  bool ok = true;
  for (size_t f = 0; f < numFuncs; ++f) {
    FuncState st = {options, funcs[f], mpcFuncAutocast(funcs[f])};
    MlirOperation *ops;
    size_t n = mpcCollectOps(funcs[f], mpcIsMpcOp, &ops);
    for (size_t i = 0; i < n; ++i)
      ok &= decide(&st, ops[i]);
    free(ops);
  }
  free(funcs);
  return ok;
}

MlirPass mpcCreateAssignPrecisionPass(const MpcOptions *options) {
  return mpcPassCreate("mpc-assign-precision", "builtin.module", runAssign, options);
}
