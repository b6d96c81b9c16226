/*===- insert-casts.c - the mpc-insert-casts pass ---------------*- C -*-===*
 *
 * Makes the IR follow the `mpc.precision` decisions: every mpc op gets its
 * float operands in its compute type and its result in that type. Casts are
 * arith.extf / arith.truncf on tensors, at most one per value and target
 * type (a weight used by three ops is cast once), placed right after the
 * value's definition.
 *
 * In true modes (16-true, bf16-true, 64-true) the function's float arguments
 * change type, like module.to(dtype) plus Fabric's input conversion; 64-true
 * also widens complex<f32> arguments to complex<f64>. Users
 * other than mpc ops and func.return get a cast back to the type they had;
 * func.return makes the function's result types follow, so the loss stays a
 * scalar in the compute type of its op.
 *===----------------------------------------------------------------------===*/
#include "ir.h"
#include "support.h"

#include <mlir-c/BuiltinAttributes.h>
#include <mlir-c/BuiltinTypes.h>
#include <mlir-c/Diagnostics.h>
#include <stdlib.h>

/* The casts made so far in one function: (value, type) -> cast result. */
typedef struct {
  MlirValue from;
  MpcFloatType to;
  MlirValue cast;
} CastEntry;

typedef struct {
  CastEntry *entries;
  size_t count, capacity;
  int created;
} CastCache;

static MlirValue castOf(CastCache *cache, MlirValue v, MpcFloatType to, MlirLocation loc) {
  MpcFloatType from;
  if (!mpcValueFloatType(v, &from) || from == to)
    return v;
  for (size_t i = 0; i < cache->count; ++i)
    if (mlirValueEqual(cache->entries[i].from, v) && cache->entries[i].to == to)
      return cache->entries[i].cast;
  MlirValue cast = mpcBuildCast(v, to, loc, &cache->created);
  cache->entries = mpcGrowArray(cache->entries, &cache->capacity, cache->count, sizeof *cache->entries);
  cache->entries[cache->count++] = (CastEntry){v, to, cast};
  return cast;
}

/* After v's element type changed from `old`, gives users that are neither
 * mpc ops (handled in turn) nor func.return (the signature follows) a cast
 * back to `old`. */
static void restoreForOtherUsers(CastCache *cache, MlirValue v, MpcFloatType old) {
  /* Collect first: setting an operand unlinks it from v's use list. */
  typedef struct {
    MlirOperation owner;
    unsigned index;
  } Use;
  Use *uses = NULL;
  size_t n = 0, capacity = 0;
  for (MlirOpOperand u = mlirValueGetFirstUse(v); !mlirOpOperandIsNull(u); u = mlirOpOperandGetNextUse(u)) {
    MlirOperation owner = mlirOpOperandGetOwner(u);
    if (mpcIsMpcOp(owner) || mpcOpIsNamed(owner, "func.return"))
      continue;
    uses = mpcGrowArray(uses, &capacity, n, sizeof *uses);
    uses[n++] = (Use){owner, mlirOpOperandGetOperandNumber(u)};
  }
  for (size_t i = 0; i < n; ++i) {
    MlirValue back = castOf(cache, v, old, mlirOperationGetLocation(uses[i].owner));
    mlirOperationSetOperand(uses[i].owner, uses[i].index, back);
  }
  free(uses);
}

/* Changes v's element type to `to`, restoring it for non-mpc users. */
static void retype(CastCache *cache, MlirValue v, MpcFloatType to) {
  MpcFloatType old;
  if (!mpcValueFloatType(v, &old) || old == to)
    return;
  MlirContext ctx = mlirTypeGetContext(mlirValueGetType(v));
  mlirValueSetType(v, mpcTensorWithElement(mlirValueGetType(v), mpcFloatTypeGet(ctx, to)));
  restoreForOtherUsers(cache, v, old);
}

static void castOperands(CastCache *cache, MlirOperation op, MpcFloatType t) {
  for (intptr_t i = 0, n = mlirOperationGetNumOperands(op); i < n; ++i) {
    MlirValue v = mlirOperationGetOperand(op, i);
    MlirValue c = castOf(cache, v, t, mlirOperationGetLocation(op));
    if (!mlirValueEqual(c, v))
      mlirOperationSetOperand(op, i, c);
  }
}

/* Rebuilds the function type from the entry block and the return ops. */
static void updateSignature(MlirOperation func) {
  MlirBlock entry = mpcFuncEntryBlock(func);
  MlirAttribute typeAttr = mlirOperationGetAttributeByName(func, mlirStringRefCreateFromCString("function_type"));
  MlirType fnType = mlirTypeAttrGetValue(typeAttr);
  intptr_t numInputs = mlirBlockGetNumArguments(entry), numResults = mlirFunctionTypeGetNumResults(fnType);
  MlirType inputs[numInputs > 0 ? numInputs : 1], results[numResults > 0 ? numResults : 1];
  for (intptr_t i = 0; i < numInputs; ++i)
    inputs[i] = mlirValueGetType(mlirBlockGetArgument(entry, i));
  for (intptr_t i = 0; i < numResults; ++i)
    results[i] = mlirFunctionTypeGetResult(fnType, i);
  MlirOperation *rets;
  size_t numRets = mpcCollectOps(func, NULL, &rets);
  for (size_t r = 0; r < numRets; ++r) {
    if (!mpcOpIsNamed(rets[r], "func.return") ||
        !mlirOperationEqual(mlirBlockGetParentOperation(mlirOperationGetBlock(rets[r])), func))
      continue;
    for (intptr_t i = 0; i < numResults && i < mlirOperationGetNumOperands(rets[r]); ++i)
      results[i] = mlirValueGetType(mlirOperationGetOperand(rets[r], i));
  }
  free(rets);
  MlirContext ctx = mlirOperationGetContext(func);
  MlirType updated = mlirFunctionTypeGet(ctx, numInputs, inputs, numResults, results);
  mlirOperationSetAttributeByName(func, mlirStringRefCreateFromCString("function_type"), mlirTypeAttrGet(updated));
}

/* 64-true turns complex<f32> arguments into complex<f64>. No mpc op takes
 * complex tensors and there is no cast between complex types, so this works
 * for arguments that are only returned; any other use is an error. */
static bool widenComplex(MlirValue arg, intptr_t index) {
  MlirType t = mlirValueGetType(arg);
  if (!mlirTypeIsARankedTensor(t) || !mlirTypeIsAComplex(mlirShapedTypeGetElementType(t)) ||
      !mlirTypeIsAF32(mlirComplexTypeGetElementType(mlirShapedTypeGetElementType(t))))
    return true;
  for (MlirOpOperand u = mlirValueGetFirstUse(arg); !mlirOpOperandIsNull(u); u = mlirOpOperandGetNextUse(u)) {
    MlirOperation owner = mlirOpOperandGetOwner(u);
    if (!mpcOpIsNamed(owner, "func.return")) {
      MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(owner));
      char msg[256];
      snprintf(msg, sizeof msg,
               "64-true cannot widen complex<f32> argument #%ld to complex<f64>: '%.*s' uses it and there is no "
               "complex conversion op (pin the function with {mpc.autocast = false})",
               (long)index, (int)name.length, name.data);
      mlirEmitError(mlirOperationGetLocation(owner), msg);
      return false;
    }
  }
  MlirContext ctx = mlirTypeGetContext(t);
  mlirValueSetType(arg, mpcTensorWithElement(t, mlirComplexTypeGet(mlirF64TypeGet(ctx))));
  return true;
}

static bool runOnFunc(MlirOperation func, const MpcOptions *o, CastCache *cache) {
  MlirBlock entry = mpcFuncEntryBlock(func);
  if (mlirBlockIsNull(entry))
    return true; /* a declaration */
  const MpcModeInfo *mode = mpcModeInfoGet(o->mode);
  bool ok = true;
  if (mpcFuncAutocast(func) && !mode->mixed && o->mode != MPC_MODE_32_TRUE)
    for (intptr_t i = 0, n = mlirBlockGetNumArguments(entry); i < n; ++i) {
      MlirValue arg = mlirBlockGetArgument(entry, i);
      retype(cache, arg, mode->params);
      if (o->mode == MPC_MODE_64_TRUE)
        ok &= widenComplex(arg, i);
    }
  MlirOperation *ops;
  size_t n = mpcCollectOps(func, mpcIsMpcOp, &ops);
  for (size_t i = 0; i < n; ++i) {
    MpcFloatType t;
    bool bad = false;
    /* An op without a decision keeps its declared type; its operands may
     * still need a cast back (a retyped argument). */
    if (!mpcGetPrecision(ops[i], &t, &bad) && !mpcValueFloatType(mlirOperationGetResult(ops[i], 0), &t))
      continue;
    castOperands(cache, ops[i], t);
    retype(cache, mlirOperationGetResult(ops[i], 0), t);
  }
  free(ops);
  updateSignature(func);
  return ok;
}

static bool runInsert(MlirOperation module, const MpcOptions *options) {
  MlirOperation *funcs;
  size_t numFuncs = mpcCollectOps(module, mpcIsFunc, &funcs);
  int created = 0;
  bool ok = true;
  for (size_t f = 0; f < numFuncs; ++f) {
    CastCache cache = {0};
    ok &= runOnFunc(funcs[f], options, &cache);
    created += cache.created;
    free(cache.entries);
  }
  free(funcs);
  if (options->report)
    mpcReportAddCasts(options->report, created, 0);
  return ok;
}

MlirPass mpcCreateInsertCastsPass(const MpcOptions *options) {
  return mpcPassCreate("mpc-insert-casts", "builtin.module", runInsert, options);
}
