/*===- runner.c - the forward runner around a compiled model ----*- C -*-===*
 *
 *   ./runner --input NAME=FILE ... [--init FILE.safetensors] [--seed S] --out DIR
 *
 * Loads every mpc.input from its file (converted to the model's type, shape
 * checked), every mpc.param from the checkpoint (or initialises it by its
 * rule, seeded per parameter), calls the model once, and writes each result
 * as DIR/resultN.npy. Errors are one line on stderr and exit status 1.
 *===----------------------------------------------------------------------===*/
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct {
  const char *inputNames[256], *inputFiles[256];
  int numInputs;
  const char *init, *out;
  uint64_t seed;
  long repeat; /* --repeat N: time N more evaluations after the first */
} RunnerArgs;

static int usage(const char *prog, const char *why) {
  fprintf(stderr, "%s: error: %s\nusage: %s --input NAME=FILE ... [--init FILE.safetensors] [--seed S] [--repeat N] --out DIR\n",
          prog, why, prog);
  return 1;
}

static bool parseArgs(int argc, char **argv, RunnerArgs *r, char *why, size_t size) {
  *r = (RunnerArgs){0};
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    bool takesValue = !strcmp(a, "--input") || !strcmp(a, "--init") || !strcmp(a, "--seed") || !strcmp(a, "--out") ||
                      !strcmp(a, "--repeat");
    if (takesValue && !value) {
      snprintf(why, size, "%s needs a value", a);
      return false;
    }
    if (!strcmp(a, "--input")) {
      const char *eq = strchr(value, '=');
      if (!eq || eq == value || !eq[1]) {
        snprintf(why, size, "--input takes NAME=FILE, got '%s'", value);
        return false;
      }
      if (r->numInputs == 256) {
        snprintf(why, size, "too many --input flags");
        return false;
      }
      r->inputNames[r->numInputs] = value;
      r->inputFiles[r->numInputs++] = eq + 1;
    } else if (!strcmp(a, "--init")) {
      r->init = value;
    } else if (!strcmp(a, "--seed")) {
      char *end;
      errno = 0;
      r->seed = strtoull(value, &end, 10);
      if (*end || !isdigit((unsigned char)*value) || errno) { /* strtoull would wrap "-3" */
        snprintf(why, size, "--seed takes a non-negative integer, got '%s'", value);
        return false;
      }
    } else if (!strcmp(a, "--out")) {
      r->out = value;
    } else if (!strcmp(a, "--repeat")) {
      char *end;
      errno = 0;
      r->repeat = strtol(value, &end, 10);
      if (*end || !isdigit((unsigned char)*value) || errno || r->repeat < 1 || r->repeat > 1000000) {
        snprintf(why, size, "--repeat takes a count from 1 to 1000000, got '%s'", value);
        return false;
      }
    } else {
      snprintf(why, size, "unknown option '%s'", a);
      return false;
    }
    if (takesValue)
      ++i;
  }
  if (!r->out) {
    snprintf(why, size, "--out DIR is required");
    return false;
  }
  return true;
}

static const char *findInput(const RunnerArgs *r, const char *name) {
  for (int i = 0; i < r->numInputs; ++i) {
    size_t n = (size_t)(strchr(r->inputNames[i], '=') - r->inputNames[i]);
    if (strlen(name) == n && !strncmp(r->inputNames[i], name, n))
      return r->inputFiles[i];
  }
  return NULL;
}

static bool sameShape(const MpcrtTensor *t, const MpcrtArgInfo *a) {
  if (t->rank != a->rank)
    return false;
  for (int i = 0; i < a->rank; ++i)
    if (t->dims[i] != a->dims[i])
      return false;
  return true;
}

const char *mpcrtDescribeArg(const MpcrtArgInfo *a, char *buf, size_t size) {
  MpcrtTensor shape = {.dtype = a->dtype, .rank = a->rank};
  memcpy(shape.dims, a->dims, sizeof shape.dims);
  return mpcrtTensorDescribe(&shape, buf, size);
}

bool mpcrtFitArg(const MpcrtTensor *loaded, const MpcrtArgInfo *a, const char *kind, const char *what,
                 MpcrtTensor *out, MpcrtError *err) {
  char want[96], have[96];
  if (!sameShape(loaded, a))
    return mpcrtFail(err, "%s: expected %s for %s '%s', found %s", what, mpcrtDescribeArg(a, want, sizeof want), kind,
                     a->name, mpcrtTensorDescribe(loaded, have, sizeof have));
  return mpcrtConvert(loaded, a->dtype, out, what, err);
}

static bool loadArgument(const MpcrtModel *m, int i, const RunnerArgs *r, const MpcrtTensorSet *ckpt,
                         MpcrtTensor *out, MpcrtError *err) {
  const MpcrtArgInfo *a = &m->args[i];
  if (!a->isParam) {
    const char *file = findInput(r, a->name);
    if (!file)
      return mpcrtFail(err, "no --input %s=FILE for the model's input '%s'", a->name, a->name);
    MpcrtTensor loaded;
    if (!mpcrtArrayRead(file, &loaded, err))
      return false;
    bool ok = mpcrtFitArg(&loaded, a, "input", file, out, err);
    mpcrtTensorFree(&loaded);
    return ok;
  }
  if (r->init) {
    const MpcrtTensor *stored = mpcrtTensorSetFind(ckpt, a->name);
    if (!stored)
      return mpcrtFail(err, "%s: no tensor '%s' (a parameter of the model)", r->init, a->name);
    return mpcrtFitArg(stored, a, "parameter", r->init, out, err);
  }
  MpcrtRng rng;
  mpcrtRngSeedFor(&rng, r->seed, a->name);
  return mpcrtTensorAlloc(out, a->dtype, a->rank, a->dims, err) && mpcrtInitTensor(out, a->init, a->fanIn, &rng, err);
}

static bool makeDir(const char *dir, MpcrtError *err) {
  if (mkdir(dir, 0777) == 0 || errno == EEXIST) {
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
      return true;
  }
  return mpcrtFail(err, "%s: cannot create the output directory: %s", dir, strerror(errno ? errno : ENOTDIR));
}

static int run(const MpcrtModel *m, const RunnerArgs *r, MpcrtError *err) {
  MpcrtTensorSet ckpt = {0};
  MpcrtTensor *args = calloc((size_t)m->numArgs + 1, sizeof *args), *results = calloc((size_t)m->numResults + 1, sizeof *results);
  void **argData = calloc((size_t)m->numArgs + 1, sizeof *argData), **resultData = calloc((size_t)m->numResults + 1, sizeof *resultData);
  bool ok = args && results && argData && resultData;
  if (!ok)
    mpcrtFail(err, "out of memory");
  for (int i = 0; ok && i < r->numInputs; ++i) { /* every --input must name an input */
    size_t n = (size_t)(strchr(r->inputNames[i], '=') - r->inputNames[i]);
    bool known = false;
    for (int a = 0; a < m->numArgs && !known; ++a)
      known = !m->args[a].isParam && strlen(m->args[a].name) == n && !strncmp(m->args[a].name, r->inputNames[i], n);
    if (!known)
      ok = mpcrtFail(err, "--input %.*s: the model has no input named '%.*s'", (int)n, r->inputNames[i], (int)n,
                     r->inputNames[i]);
  }
  if (ok && r->init)
    ok = mpcrtSafetensorsRead(r->init, &ckpt, err);
  for (int i = 0; ok && i < m->numArgs; ++i) {
    ok = loadArgument(m, i, r, &ckpt, &args[i], err);
    argData[i] = args[i].data;
  }
  for (int i = 0; ok && i < m->numResults; ++i) {
    const MpcrtArgInfo *res = &m->results[i];
    ok = mpcrtTensorAlloc(&results[i], res->dtype, res->rank, res->dims, err);
    resultData[i] = results[i].data;
  }
  ok = ok && makeDir(r->out, err);
  if (ok)
    m->forward((void *const *)argData, (void *const *)resultData);
  if (ok && r->repeat) {
    /* The first evaluation above warmed caches and started threads. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < r->repeat; ++i)
      m->forward((void *const *)argData, (void *const *)resultData);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = ((double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6) / (double)r->repeat;
    fprintf(stderr, "forward: %.3f ms (mean of %ld, after 1 warm-up)\n", ms, r->repeat);
  }
  for (int i = 0; ok && i < m->numResults; ++i) {
    char path[4096];
    snprintf(path, sizeof path, "%s/result%d.npy", r->out, i);
    ok = mpcrtNpyWrite(path, &results[i], err);
  }
  for (int i = 0; args && i < m->numArgs; ++i)
    mpcrtTensorFree(&args[i]);
  for (int i = 0; results && i < m->numResults; ++i)
    mpcrtTensorFree(&results[i]);
  free(args);
  free(results);
  free(argData);
  free(resultData);
  mpcrtTensorSetFree(&ckpt);
  return ok ? 0 : 1;
}

int mpcrtRunnerMain(const MpcrtModel *model, int argc, char **argv) {
  mpcrtKeepMemory();
  const char *prog = argc > 0 ? argv[0] : "runner";
  const char *slash = strrchr(prog, '/');
  prog = slash ? slash + 1 : prog;
  RunnerArgs r;
  char why[256];
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    printf("usage: %s --input NAME=FILE ... [--init FILE.safetensors] [--seed S] [--repeat N] --out DIR\n\n"
           "Runs the compiled model '%s' once and writes DIR/result0.npy, ...\n\ninputs:\n",
           prog, model->name);
    for (int i = 0; i < model->numArgs; ++i) {
      char desc[96];
      printf("  %-20s %s%s\n", model->args[i].name, mpcrtDescribeArg(&model->args[i], desc, sizeof desc),
             model->args[i].isParam ? " (parameter: --init, else initialised)" : "");
    }
    return 0;
  }
  if (!parseArgs(argc, argv, &r, why, sizeof why))
    return usage(prog, why);
  MpcrtError err = {{0}};
  int status = run(model, &r, &err);
  if (status)
    fprintf(stderr, "%s: error: %s\n", prog, err.message);
  return status;
}
