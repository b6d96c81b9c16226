/*===- ir.h - IR helpers shared by the passes -------------------*- C -*-===*/
#ifndef MPC_LIB_IR_H
#define MPC_LIB_IR_H

#include "mpc/mpc.h"

#include <stdbool.h>

/* Name tests. */
bool mpcOpIsNamed(MlirOperation op, const char *name);

/* Attribute values of an op, for attributes the verifier has checked: an
 * absent or mistyped one reads as 0 / false / no elements. */
int64_t mpcOpIntAttr(MlirOperation op, const char *name);
int64_t mpcOpIntsAttr(MlirOperation op, const char *name, int64_t *out, int max); /* count; fills up to max */
double mpcOpF64Attr(MlirOperation op, const char *name);
bool mpcOpBoolAttr(MlirOperation op, const char *name);
bool mpcOpStrAttrIs(MlirOperation op, const char *name, const char *value);

/* The float element type of a ranked tensor value; false for anything else
 * (unranked tensors are left alone by the precision passes). */
bool mpcValueFloatType(MlirValue v, MpcFloatType *out);
/* `type` (a ranked tensor) with its element type replaced. */
MlirType mpcTensorWithElement(MlirType type, MlirType element);

/* The op's `mpc.precision` attribute; false if absent. Emits an error and
 * sets *bad if present but not one of "f16", "bf16", "f32", "f64". */
bool mpcGetPrecision(MlirOperation op, MpcFloatType *out, bool *bad);
void mpcSetPrecision(MlirOperation op, MpcFloatType t);

/* False when the function carries {mpc.autocast = false}. */
bool mpcFuncAutocast(MlirOperation func);
/* The entry block of a func.func (null for a declaration). */
MlirBlock mpcFuncEntryBlock(MlirOperation func);

/* Collects ops under `root` (pre-order) for which `keep` is true (all for NULL). The caller
 * frees *ops. Passes collect first and mutate after, never during a walk. */
typedef bool (*MpcOpFilter)(MlirOperation op);
size_t mpcCollectOps(MlirOperation root, MpcOpFilter keep, MlirOperation **ops);
bool mpcIsMpcOp(MlirOperation op);
bool mpcIsFunc(MlirOperation op);
bool mpcIsCast(MlirOperation op); /* arith.extf or arith.truncf */

/* Creates arith.extf / arith.truncf converting `v` to a tensor of `to`
 * (through f32 between f16 and bf16), inserted right after v's definition
 * (at the start of its block for a block argument). Returns the new value. */
MlirValue mpcBuildCast(MlirValue v, MpcFloatType to, MlirLocation loc, int *castsCreated);

#endif
