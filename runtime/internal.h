/*===- internal.h - helpers shared inside the runtime -----------*- C -*-===*/
#ifndef MPC_RUNTIME_INTERNAL_H
#define MPC_RUNTIME_INTERNAL_H

#include "mpc/runtime.h"

#include <stdio.h>

/* Formats err->message; always returns false, for `return fail(...)`. */
bool mpcrtFail(MpcrtError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocates `out` for a header's shape once the data that follows the header
 * (`have` bytes) is exactly the size the shape needs; the errors name `path`. */
bool mpcrtAllocForData(const char *path, MpcrtDType dtype, int rank, const int64_t *dims, size_t have,
                       MpcrtTensor *out, MpcrtError *err);

/* Reads a whole file into a malloc'ed buffer (NUL-terminated for safety). */
bool mpcrtReadFile(const char *path, unsigned char **data, size_t *length, MpcrtError *err);

/* Opens `path`.tmp.PID for writing; mpcrtAtomicCommit renames it over
 * `path` (or removes it if `ok` is false or writing failed). */
FILE *mpcrtAtomicOpen(const char *path, char *tmp, size_t tmpSize, MpcrtError *err);
bool mpcrtAtomicCommit(FILE *f, const char *tmp, const char *path, bool ok, MpcrtError *err);

#endif
