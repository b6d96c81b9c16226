/*===- shape.h - static tensor shapes for the verifier and passes -*- C -*-===*/
#ifndef MPC_LIB_SHAPE_H
#define MPC_LIB_SHAPE_H

#include <mlir-c/IR.h>
#include <stdbool.h>
#include <stdint.h>

#define MPC_MAX_RANK 8

typedef struct {
  int rank;
  int64_t dims[MPC_MAX_RANK];
} MpcShape;

typedef enum { MPC_ELT_OTHER, MPC_ELT_F16, MPC_ELT_BF16, MPC_ELT_F32, MPC_ELT_F64, MPC_ELT_I1,
               MPC_ELT_I32, MPC_ELT_I64 } MpcEltKind;

/* The element kind of a tensor's element type. */
MpcEltKind mpcEltKindOf(MlirType elementType);
bool mpcEltIsFloat(MpcEltKind kind);
/* Reads the shape of a ranked, statically shaped tensor; false otherwise. */
bool mpcShapeOf(MlirType type, MpcShape *shape);
int64_t mpcShapeNumElements(const MpcShape *shape);
bool mpcShapeEqual(const MpcShape *a, const MpcShape *b);
/* "4x8", or "scalar" for rank 0. */
const char *mpcShapeFormat(const MpcShape *shape, char *buf, size_t size);
/* Numpy broadcast of a and b into out; on mismatch returns false and sets
 * *badDim to the offending result dimension. */
bool mpcShapeBroadcast(const MpcShape *a, const MpcShape *b, MpcShape *out, int *badDim);
/* The wider of two float types for promotion: f16 with bf16 gives f32. */
MlirType mpcPromoteFloat(MlirType a, MlirType b);

#endif
