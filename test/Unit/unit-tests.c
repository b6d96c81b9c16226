/*===- unit-tests.c - C tests of libmpc internals ---------------*- C -*-===*
 *
 * What lit cannot reach through mpc-opt: the shape helpers, the parsed op
 * table and location formatting. Prints one line per failed check and a
 * summary "N passed, M failed"; exits non-zero on any failure.
 *===----------------------------------------------------------------------===*/
#include "mpc-check.h"
#include "mpc/mpc.h"
#include "shape.h"

#include <mlir-c/BuiltinAttributes.h>
#include <mlir-c/BuiltinTypes.h>
#include <string.h>


static MpcShape shape(int rank, const int64_t *dims) {
  MpcShape s = {rank, {0}};
  if (rank > 0)
    memcpy(s.dims, dims, (size_t)rank * sizeof *dims);
  return s;
}

static void testBroadcast(void) {
  printf("@testBroadcast\n");
  MpcShape a = shape(2, (int64_t[]){4, 1}), b = shape(1, (int64_t[]){8}), out;
  int bad = -1;
  CHECK(mpcShapeBroadcast(&a, &b, &out, &bad));
  CHECK(out.rank == 2 && out.dims[0] == 4 && out.dims[1] == 8);
  MpcShape c = shape(2, (int64_t[]){4, 3});
  CHECK(!mpcShapeBroadcast(&c, &b, &out, &bad));
  CHECK(bad == 1);
  MpcShape scalar = shape(0, NULL);
  CHECK(mpcShapeBroadcast(&scalar, &c, &out, &bad) && mpcShapeEqual(&out, &c));
  char buf[64];
  CHECK(!strcmp(mpcShapeFormat(&c, buf, sizeof buf), "4x3"));
  CHECK(!strcmp(mpcShapeFormat(&scalar, buf, sizeof buf), "scalar"));
  CHECK(mpcShapeNumElements(&c) == 12 && mpcShapeNumElements(&scalar) == 1);
}

static void testPromote(MlirContext ctx) {
  printf("@testPromote\n");
  MlirType f16 = mlirF16TypeGet(ctx), bf16 = mlirBF16TypeGet(ctx), f32 = mlirF32TypeGet(ctx),
           f64 = mlirF64TypeGet(ctx);
  CHECK(mlirTypeEqual(mpcPromoteFloat(f16, f16), f16));
  CHECK(mlirTypeEqual(mpcPromoteFloat(f16, f32), f32));
  CHECK(mlirTypeEqual(mpcPromoteFloat(f64, bf16), f64));
  CHECK(mlirTypeEqual(mpcPromoteFloat(f16, bf16), f32)); /* neither 16-bit type holds the other */
  CHECK(mpcEltKindOf(mlirIntegerTypeGet(ctx, 64)) == MPC_ELT_I64);
  CHECK(mpcEltKindOf(mlirIntegerTypeGet(ctx, 8)) == MPC_ELT_OTHER);
  CHECK(mpcEltKindOf(mlirIntegerTypeSignedGet(ctx, 32)) == MPC_ELT_OTHER);
}

static void testOpTable(void) {
  printf("@testOpTable\n");
  const MpcOpInfo *linear = mpcOpInfoGet(MPC_OP_LINEAR);
  CHECK(!strcmp(linear->fullName, "mpc.linear"));
  CHECK(linear->numOperands == 3 && linear->operands[2].arity == MPC_ARITY_OPTIONAL);
  CHECK(linear->defaultClass[MPC_TARGET_CPU] == MPC_CLASS_LOWER);
  const MpcOpInfo *ce = mpcOpInfoGet(MPC_OP_CROSS_ENTROPY);
  CHECK(ce->operands[1].kind == MPC_OPERAND_INT);
  CHECK(ce->numAttrs == 1 && ce->attrs[0].kind == MPC_ATTR_ENUM && ce->attrs[0].numValues == 2);
  CHECK(!strcmp(ce->attrs[0].values[1], "sum"));
  const MpcOpInfo *conv = mpcOpInfoGet(MPC_OP_CONV2D);
  CHECK(conv->numAttrs == 4 && conv->attrs[3].kind == MPC_ATTR_I64);
  CHECK(mpcOpInfoGet(MPC_OP_CONCAT)->operands[0].arity == MPC_ARITY_VARIADIC);
  CHECK(mpcOpInfoGet(MPC_OP_WHERE)->operands[0].kind == MPC_OPERAND_I1);
  CHECK(mpcOpKindFromName(mlirStringRefCreateFromCString("mpc.softmax")) == MPC_OP_SOFTMAX);
  CHECK(mpcOpKindFromName(mlirStringRefCreateFromCString("layer_norm")) == MPC_OP_LAYER_NORM);
  CHECK(mpcOpKindFromName(mlirStringRefCreateFromCString("mpc.soft")) == MPC_OP_COUNT);
  /* Every row parses and has a float operand (the verifier relies on it),
   * except reshape, whose one operand may be a float or an integer. */
  CHECK(mpcOpInfoGet(MPC_OP_RESHAPE)->operands[0].kind == MPC_OPERAND_ANY);
  for (int k = 0; k < MPC_OP_COUNT; ++k) {
    const MpcOpInfo *info = mpcOpInfoGet((MpcOpKind)k);
    bool hasFloat = false;
    for (int i = 0; i < info->numOperands; ++i)
      hasFloat |= info->operands[i].kind == MPC_OPERAND_FLOAT ||
                  (info->operands[i].kind == MPC_OPERAND_ANY && info->numOperands == 1);
    CHECK(hasFloat && info->numOperands >= 1);
  }
}

static void testLocations(MlirContext ctx) {
  printf("@testLocations\n");
  MlirLocation file = mlirLocationFileLineColGet(ctx, mlirStringRefCreateFromCString("m.mlir"), 3, 7);
  char buf[128];
  mpcLocationFormat(file, buf, sizeof buf);
  CHECK(!strcmp(buf, "m.mlir:3:7"));
  MlirLocation named = mlirLocationNameGet(ctx, mlirStringRefCreateFromCString("fc1"), file);
  mpcLocationFormat(named, buf, sizeof buf);
  CHECK(!strcmp(buf, "m.mlir:3:7"));
  MlirLocation parts[2] = {mlirLocationUnknownGet(ctx), file};
  mpcLocationFormat(mlirLocationFusedGet(ctx, 2, parts, mlirAttributeGetNull()), buf, sizeof buf);
  CHECK(!strcmp(buf, "m.mlir:3:7"));
  mpcLocationFormat(mlirLocationUnknownGet(ctx), buf, sizeof buf);
  CHECK(!strcmp(buf, "<unknown>"));
}

int main(void) {
  MlirContext ctx = mpcContextCreate();
  testBroadcast();
  testPromote(ctx);
  testOpTable();
  testLocations(ctx);
  mlirContextDestroy(ctx);
  return MPC_CHECK_SUMMARY();
}
