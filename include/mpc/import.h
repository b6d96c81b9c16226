/*===- import.h - ONNX import -----------------------------------*- C -*-===*
 *
 * mpcImportOnnx turns a serialized ONNX ModelProto (as torch.onnx writes it)
 * into the text of an mpc model function and the values of its parameters.
 * It reads untrusted bytes: every failure is an error message, never a
 * crash, and nothing is returned on failure. It has no MLIR dependency (the
 * text is parsed and verified by the caller); docs/import.md describes the
 * op mapping.
 *===----------------------------------------------------------------------===*/
#ifndef MPC_IMPORT_H
#define MPC_IMPORT_H

#include "mpc/runtime.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A static shape for a graph input with dynamic dimensions (--shape). */
typedef struct {
  const char *name;
  int rank;
  int64_t dims[MPCRT_MAX_RANK];
} MpcImportShape;

typedef struct {
  const char *sourceName; /* file name used in locations and messages */
  const char *funcName;   /* default "forward" */
  const MpcImportShape *shapes;
  int numShapes;
} MpcImportOptions;

typedef struct {
  char *mlir;             /* the module's text (malloc'd) */
  MpcrtTensorSet params;  /* initializer values, keyed by mpc.param name */
  int numInputs, numParams, numNodes;
  int64_t opset;
  /* On failure: one line, without the file name; `unsupported` tells an
   * unsupported feature (op, attribute value, type) from malformed input. */
  char error[640];
  bool unsupported;
} MpcImportResult;

bool mpcImportOnnx(const void *data, size_t size, const MpcImportOptions *options, MpcImportResult *result);
void mpcImportResultFree(MpcImportResult *result);

/* The ONNX op types the importer maps, in alphabetical order; NULL-terminated. */
const char *const *mpcImportSupportedOps(void);

#ifdef __cplusplus
}
#endif

#endif
