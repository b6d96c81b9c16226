/*===- support.h - internal helpers of libmpc -------------------*- C -*-===*
 *
 * Broken invariants abort with file:line (MPC_ASSERT, MPC_UNREACHABLE); bad
 * input never reaches them, it gets a located diagnostic instead.
 *===----------------------------------------------------------------------===*/
#ifndef MPC_LIB_SUPPORT_H
#define MPC_LIB_SUPPORT_H

#include <mlir-c/IR.h>
#include <stdio.h>
#include <stdlib.h>

#define MPC_ASSERT(cond, msg)                                                                      \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: internal error: %s\n", __FILE__, __LINE__, msg);                    \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)
#define MPC_UNREACHABLE(msg) MPC_ASSERT(0, msg)

/* A growable string; mpcStrPrinter appends MLIR printer output to it. */
typedef struct {
  char *data;
  size_t length, capacity;
} MpcStr;

void mpcStrAppend(MpcStr *s, const char *data, size_t length);
void mpcStrAppendf(MpcStr *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mpcStrPrinter(MlirStringRef text, void *userData); /* userData: MpcStr* */
void mpcStrFree(MpcStr *s);

/* A NUL-terminated copy of data[0..length). */
char *mpcStrDup(const char *data, size_t length);
/* Makes room for one more element in an array of `count` elements of `size`
 * bytes and capacity *capacity; returns the (possibly moved) array. */
void *mpcGrowArray(void *items, size_t *capacity, size_t count, size_t size);

/* Prints a type into a static-size buffer (for messages). */
const char *mpcTypeToString(MlirType type, char *buf, size_t size);
const char *mpcAttrToString(MlirAttribute attr, char *buf, size_t size);

#endif
