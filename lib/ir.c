/*===- ir.c - IR helpers shared by the passes -------------------*- C -*-===*/
#include "ir.h"
#include "support.h"

#include <mlir-c/BuiltinAttributes.h>
#include <mlir-c/BuiltinTypes.h>
#include <mlir-c/Diagnostics.h>
#include <stdlib.h>
#include <string.h>

bool mpcOpIsNamed(MlirOperation op, const char *name) {
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  return n.length == strlen(name) && !strncmp(n.data, name, n.length);
}

static MlirAttribute opAttr(MlirOperation op, const char *name) {
  return mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString(name));
}

int64_t mpcOpIntAttr(MlirOperation op, const char *name) {
  MlirAttribute a = opAttr(op, name);
  return mlirAttributeIsAInteger(a) ? mlirIntegerAttrGetValueInt(a) : 0;
}

int64_t mpcOpIntsAttr(MlirOperation op, const char *name, int64_t *out, int max) {
  MlirAttribute a = opAttr(op, name);
  if (mlirAttributeIsNull(a) || !mlirAttributeIsADenseI64Array(a))
    return 0;
  int64_t n = mlirDenseArrayGetNumElements(a);
  for (int64_t i = 0; i < n && i < max; ++i)
    out[i] = mlirDenseI64ArrayGetElement(a, i);
  return n;
}

double mpcOpF64Attr(MlirOperation op, const char *name) {
  MlirAttribute a = opAttr(op, name);
  return mlirAttributeIsAFloat(a) ? mlirFloatAttrGetValueDouble(a) : 0.0;
}

bool mpcOpBoolAttr(MlirOperation op, const char *name) {
  MlirAttribute a = opAttr(op, name);
  return mlirAttributeIsABool(a) && mlirBoolAttrGetValue(a);
}

bool mpcOpStrAttrIs(MlirOperation op, const char *name, const char *value) {
  MlirAttribute a = opAttr(op, name);
  if (mlirAttributeIsNull(a) || !mlirAttributeIsAString(a))
    return false;
  MlirStringRef s = mlirStringAttrGetValue(a);
  return s.length == strlen(value) && !memcmp(s.data, value, s.length);
}

bool mpcIsMpcOp(MlirOperation op) { return mpcOpKindOf(op) != MPC_OP_COUNT; }
bool mpcIsFunc(MlirOperation op) { return mpcOpIsNamed(op, "func.func"); }
bool mpcIsCast(MlirOperation op) { return mpcOpIsNamed(op, "arith.extf") || mpcOpIsNamed(op, "arith.truncf"); }

bool mpcValueFloatType(MlirValue v, MpcFloatType *out) {
  MlirType t = mlirValueGetType(v);
  return mlirTypeIsARankedTensor(t) && mpcFloatTypeOf(mlirShapedTypeGetElementType(t), out);
}

MlirType mpcTensorWithElement(MlirType type, MlirType element) {
  MPC_ASSERT(mlirTypeIsARankedTensor(type), "mpcTensorWithElement: not a ranked tensor");
  intptr_t rank = mlirShapedTypeGetRank(type);
  int64_t dims[rank > 0 ? rank : 1];
  for (intptr_t i = 0; i < rank; ++i)
    dims[i] = mlirShapedTypeGetDimSize(type, i);
  return mlirRankedTensorTypeGet(rank, dims, element, mlirRankedTensorTypeGetEncoding(type));
}

static MlirStringRef precisionName(void) { return mlirStringRefCreateFromCString("mpc.precision"); }

bool mpcGetPrecision(MlirOperation op, MpcFloatType *out, bool *bad) {
  MlirAttribute a = mlirOperationGetAttributeByName(op, precisionName());
  if (mlirAttributeIsNull(a))
    return false;
  if (mlirAttributeIsAString(a) && mpcFloatTypeFromName(mlirStringAttrGetValue(a), out))
    return true;
  char buf[64];
  mpcOpEmitError(op, "has mpc.precision = %s; expected \"f16\", \"bf16\", \"f32\" or \"f64\"",
                 mpcAttrToString(a, buf, sizeof buf));
  *bad = true;
  return false;
}

void mpcSetPrecision(MlirOperation op, MpcFloatType t) {
  MlirContext ctx = mlirOperationGetContext(op);
  mlirOperationSetAttributeByName(op, precisionName(),
                                  mlirStringAttrGet(ctx, mlirStringRefCreateFromCString(mpcFloatTypeName(t))));
}

bool mpcFuncAutocast(MlirOperation func) {
  MlirAttribute a = mlirOperationGetAttributeByName(func, mlirStringRefCreateFromCString("mpc.autocast"));
  return mlirAttributeIsNull(a) || !mlirAttributeIsABool(a) || mlirBoolAttrGetValue(a);
}

MlirBlock mpcFuncEntryBlock(MlirOperation func) {
  MlirRegion body = mlirOperationGetRegion(func, 0);
  return mlirRegionGetFirstBlock(body);
}

typedef struct {
  MpcOpFilter keep;
  MlirOperation *ops;
  size_t count, capacity;
} Collector;

static MlirWalkResult collect(MlirOperation op, void *userData) {
  Collector *c = userData;
  if (c->keep && !c->keep(op))
    return MlirWalkResultAdvance;
  c->ops = mpcGrowArray(c->ops, &c->capacity, c->count, sizeof *c->ops);
  c->ops[c->count++] = op;
  return MlirWalkResultAdvance;
}

size_t mpcCollectOps(MlirOperation root, MpcOpFilter keep, MlirOperation **ops) {
  Collector c = {keep, NULL, 0, 0};
  mlirOperationWalk(root, collect, &c, MlirWalkPreOrder);
  *ops = c.ops;
  return c.count;
}

/* Inserts `op` right after v's definition (first in the block for a block
 * argument, after the casts already placed there). */
static void insertAfterDef(MlirValue v, MlirOperation op) {
  if (mlirValueIsAOpResult(v)) {
    MlirOperation def = mlirOpResultGetOwner(v);
    mlirBlockInsertOwnedOperationAfter(mlirOperationGetBlock(def), def, op);
    return;
  }
  MlirBlock block = mlirBlockArgumentGetOwner(v);
  MlirOperation first = mlirBlockGetFirstOperation(block);
  MlirOperation after = {NULL};
  for (MlirOperation it = first; !mlirOperationIsNull(it) && mpcIsCast(it); it = mlirOperationGetNextInBlock(it)) {
    MlirValue src = mlirOperationGetOperand(it, 0);
    /* Stop before a cast of v itself: it may be the user's own cast, which
     * is about to read the one made here. */
    if (!mlirValueIsABlockArgument(src) || !mlirBlockEqual(mlirBlockArgumentGetOwner(src), block) ||
        mlirValueEqual(src, v))
      break;
    after = it;
  }
  if (mlirOperationIsNull(after))
    mlirBlockInsertOwnedOperation(block, 0, op);
  else
    mlirBlockInsertOwnedOperationAfter(block, after, op);
}

static MlirValue castOnce(MlirValue v, MpcFloatType from, MpcFloatType to, MlirLocation loc) {
  MlirContext ctx = mlirLocationGetContext(loc);
  const char *name = mpcFloatTypeBytes(to) > mpcFloatTypeBytes(from) ? "arith.extf" : "arith.truncf";
  MlirType resultType = mpcTensorWithElement(mlirValueGetType(v), mpcFloatTypeGet(ctx, to));
  MlirOperationState state = mlirOperationStateGet(mlirStringRefCreateFromCString(name), loc);
  mlirOperationStateAddOperands(&state, 1, &v);
  mlirOperationStateAddResults(&state, 1, &resultType);
  MlirOperation cast = mlirOperationCreate(&state);
  MPC_ASSERT(!mlirOperationIsNull(cast), "creating a cast failed");
  insertAfterDef(v, cast);
  return mlirOperationGetResult(cast, 0);
}

MlirValue mpcBuildCast(MlirValue v, MpcFloatType to, MlirLocation loc, int *castsCreated) {
  MpcFloatType from;
  MPC_ASSERT(mpcValueFloatType(v, &from), "mpcBuildCast: not a float tensor");
  if (from == to)
    return v;
  if (mpcFloatTypeBytes(from) == mpcFloatTypeBytes(to)) { /* f16 <-> bf16: neither holds the other */
    v = castOnce(v, from, MPC_F32, loc);
    ++*castsCreated;
    from = MPC_F32;
  }
  ++*castsCreated;
  return castOnce(v, from, to, loc);
}
