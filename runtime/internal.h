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

/* "256x784xf32": an argument's type and shape (runner.c). */
const char *mpcrtDescribeArg(const MpcrtArgInfo *a, char *buf, size_t size);
/* Checks a loaded tensor's shape against argument `a` (a `kind`: "input",
 * "parameter") and converts it to the argument's type; errors name `what`. */
bool mpcrtFitArg(const MpcrtTensor *loaded, const MpcrtArgInfo *a, const char *kind, const char *what,
                 MpcrtTensor *out, MpcrtError *err);

/* The trainer's learning-rate schedules (trainer.c). */
typedef enum { MPCRT_SCHEDULE_CONSTANT, MPCRT_SCHEDULE_COSINE, MPCRT_SCHEDULE_LINEAR } MpcrtSchedule;

/* The learning rate of the update that follows `updates` applied updates:
 * warmup from 0 (lr * updates / warmup while updates < warmup), then the
 * schedule over the remaining total - warmup updates: constant lr, or cosine
 * or linear decay from lr to minLr. */
double mpcrtLearningRate(MpcrtSchedule schedule, double lr, double minLr, int64_t warmup, int64_t total,
                         int64_t updates);

/* The order of n samples in `epoch`: a permutation drawn from the seed and
 * the epoch alone (Fisher-Yates with MpcrtRng), so a resumed run recomputes it. */
void mpcrtShuffle(uint64_t seed, int64_t epoch, int64_t n, int64_t *perm);

#endif
