/*===- shape.c - static tensor shapes ---------------------------*- C -*-===*/
#include "shape.h"

#include "mpc/mpc.h"

#include <mlir-c/BuiltinTypes.h>
#include <stdio.h>

MpcEltKind mpcEltKindOf(MlirType t) {
  if (mlirTypeIsAF16(t)) return MPC_ELT_F16;
  if (mlirTypeIsABF16(t)) return MPC_ELT_BF16;
  if (mlirTypeIsAF32(t)) return MPC_ELT_F32;
  if (mlirTypeIsAF64(t)) return MPC_ELT_F64;
  if (mlirTypeIsAInteger(t) && mlirIntegerTypeIsSignless(t)) {
    switch (mlirIntegerTypeGetWidth(t)) {
    case 1: return MPC_ELT_I1;
    case 32: return MPC_ELT_I32;
    case 64: return MPC_ELT_I64;
    default: break;
    }
  }
  return MPC_ELT_OTHER;
}

bool mpcEltIsFloat(MpcEltKind kind) { return kind >= MPC_ELT_F16 && kind <= MPC_ELT_F64; }

bool mpcShapeOf(MlirType type, MpcShape *shape) {
  if (!mlirTypeIsARankedTensor(type) || !mlirShapedTypeHasStaticShape(type))
    return false;
  int64_t rank = mlirShapedTypeGetRank(type);
  if (rank > MPC_MAX_RANK)
    return false;
  shape->rank = (int)rank;
  for (int i = 0; i < shape->rank; ++i)
    shape->dims[i] = mlirShapedTypeGetDimSize(type, i);
  return true;
}

int64_t mpcShapeNumElements(const MpcShape *s) {
  int64_t n = 1;
  for (int i = 0; i < s->rank; ++i)
    n *= s->dims[i];
  return n;
}

bool mpcShapeEqual(const MpcShape *a, const MpcShape *b) {
  if (a->rank != b->rank)
    return false;
  for (int i = 0; i < a->rank; ++i)
    if (a->dims[i] != b->dims[i])
      return false;
  return true;
}

const char *mpcShapeFormat(const MpcShape *s, char *buf, size_t size) {
  if (s->rank == 0) {
    snprintf(buf, size, "scalar");
    return buf;
  }
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < s->rank && used < size; ++i)
    used += (size_t)snprintf(buf + used, size - used, i ? "x%lld" : "%lld", (long long)s->dims[i]);
  return buf;
}

bool mpcShapeBroadcast(const MpcShape *a, const MpcShape *b, MpcShape *out, int *badDim) {
  int rank = a->rank > b->rank ? a->rank : b->rank;
  out->rank = rank;
  for (int i = 0; i < rank; ++i) {
    int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      *badDim = i;
      return false;
    }
    out->dims[i] = da == 1 ? db : da;
  }
  return true;
}

MlirType mpcPromoteFloat(MlirType a, MlirType b) {
  MpcFloatType ta, tb;
  if (!mpcFloatTypeOf(a, &ta) || !mpcFloatTypeOf(b, &tb))
    return a;
  return mpcFloatTypeGet(mlirTypeGetContext(a), mpcFloatTypePromote(ta, tb));
}
