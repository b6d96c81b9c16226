/*===- trainer.c - the training loop around a compiled train step -*- C -*-===*
 *
 *   ./trainer --input NAME=FILE ... (--steps N | --epochs E) [--lr LR] [--seed S] ...
 *
 * Reads each data input whole (converted once to the input's type) and sets
 * up the parameters (--init, --resume, or their rules) and the optimizer and
 * scaler state. Then it calls the compiled step once per batch; the step
 * writes the updated parameters and state into a second buffer each, which
 * is swapped in after the step. One CSV row per step (--log), a progress
 * line, a checkpoint at the end (--save) that --resume continues exactly,
 * and the forward function's mean loss on held-out data (--eval). Errors are
 * one line on stderr and exit status 1.
 *===----------------------------------------------------------------------===*/
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 256
#define MAX_STEPS 1000000000000LL /* --steps and --warmup */
#define MAX_EPOCHS 1000000LL

/*---------------------------------------------------------------------------
 * Learning-rate schedules and shuffling
 *---------------------------------------------------------------------------*/

double mpcrtLearningRate(MpcrtSchedule schedule, double lr, double minLr, int64_t warmup, int64_t total,
                         int64_t updates) {
  if (updates < warmup) /* as transformers' get_*_schedule_with_warmup */
    return lr * (double)updates / (double)warmup;
  if (schedule == MPCRT_SCHEDULE_CONSTANT)
    return lr;
  double span = (double)(total - warmup), progress = span > 0 ? (double)(updates - warmup) / span : 1.0;
  progress = progress < 0 ? 0 : progress > 1 ? 1 : progress;
  double factor = schedule == MPCRT_SCHEDULE_COSINE ? 0.5 * (1.0 + cos(M_PI * progress)) : 1.0 - progress;
  return minLr + (lr - minLr) * factor;
}

/* Uniform in [0, n): rejects the 2^64 mod n lowest values, which would bias
 * `x % n`. */
static uint64_t uniformBelow(MpcrtRng *rng, uint64_t n) {
  uint64_t threshold = (0 - n) % n, x;
  do
    x = mpcrtRngNext(rng);
  while (x < threshold);
  return x % n;
}

void mpcrtShuffle(uint64_t seed, int64_t epoch, int64_t n, int64_t *perm) {
  char name[64];
  snprintf(name, sizeof name, "trainer.shuffle.%lld", (long long)epoch);
  MpcrtRng rng;
  mpcrtRngSeedFor(&rng, seed, name);
  for (int64_t i = 0; i < n; ++i)
    perm[i] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = (int64_t)uniformBelow(&rng, (uint64_t)i + 1), v = perm[i];
    perm[i] = perm[j];
    perm[j] = v;
  }
}

/*---------------------------------------------------------------------------
 * Flags
 *---------------------------------------------------------------------------*/

typedef struct {
  const char *pairs[MAX_PAIRS], *files[MAX_PAIRS]; /* "NAME=FILE", and FILE within it */
  int count;
} Pairs;

typedef struct {
  Pairs inputs, evals;
  int64_t steps, epochs, warmup; /* steps and epochs: 0 when absent */
  int64_t saveEvery;             /* --save-every N: 0 when absent */
  double lr, minLr;
  bool haveLr, shuffle, quiet;
  uint64_t seed;
  const char *init, *resume, *save, *log;
  MpcrtSchedule schedule;
} TrainerArgs;

static const char *const scheduleNames[] = {"constant", "cosine", "linear"};

static size_t nameLength(const char *pair) { return (size_t)(strchr(pair, '=') - pair); }

static bool nameIs(const char *pair, const char *name) {
  return strlen(name) == nameLength(pair) && !strncmp(pair, name, nameLength(pair));
}

static const char *findPair(const Pairs *p, const char *name) {
  for (int i = 0; i < p->count; ++i)
    if (nameIs(p->pairs[i], name))
      return p->files[i];
  return NULL;
}

static bool addPair(Pairs *p, const char *flag, const char *value, char *why, size_t size) {
  const char *eq = strchr(value, '=');
  if (!eq || eq == value || !eq[1])
    return snprintf(why, size, "%s takes NAME=FILE, got '%s'", flag, value), false;
  for (int i = 0; i < p->count; ++i)
    if (nameLength(p->pairs[i]) == (size_t)(eq - value) && !strncmp(p->pairs[i], value, (size_t)(eq - value)))
      return snprintf(why, size, "%s %.*s=... is given twice", flag, (int)(eq - value), value), false;
  if (p->count == MAX_PAIRS)
    return snprintf(why, size, "too many %s flags", flag), false;
  p->pairs[p->count] = value;
  p->files[p->count++] = eq + 1;
  return true;
}

static bool parseCount(const char *flag, const char *value, int64_t min, int64_t max, int64_t *out, char *why,
                       size_t size) {
  char *end;
  errno = 0;
  long long v = strtoll(value, &end, 10);
  if (*end || !isdigit((unsigned char)*value) || errno || v < min || v > max)
    return snprintf(why, size, "%s takes a count from %lld to %lld, got '%s'", flag, (long long)min, (long long)max,
                    value),
           false;
  *out = v;
  return true;
}

static bool parseRate(const char *flag, const char *value, double *out, char *why, size_t size) {
  char *end;
  errno = 0;
  double v = strtod(value, &end);
  if (*end || !*value || isspace((unsigned char)*value) || errno || !isfinite(v) || v < 0)
    return snprintf(why, size, "%s takes a non-negative number, got '%s'", flag, value), false;
  *out = v;
  return true;
}

static bool parseSeed(const char *value, uint64_t *out, char *why, size_t size) {
  char *end;
  errno = 0;
  *out = strtoull(value, &end, 10);
  if (*end || !isdigit((unsigned char)*value) || errno) /* strtoull would wrap "-3" */
    return snprintf(why, size, "--seed takes a non-negative integer, got '%s'", value), false;
  return true;
}

static bool parseSchedule(const char *value, MpcrtSchedule *out, char *why, size_t size) {
  for (int i = 0; i < 3; ++i)
    if (!strcmp(value, scheduleNames[i])) {
      *out = (MpcrtSchedule)i;
      return true;
    }
  return snprintf(why, size, "--schedule takes constant, cosine or linear, got '%s'", value), false;
}

/* One flag that takes a value; false with `why` if the value is bad. */
static bool parseValue(TrainerArgs *r, const char *a, const char *v, char *why, size_t size) {
  if (!strcmp(a, "--input"))
    return addPair(&r->inputs, a, v, why, size);
  if (!strcmp(a, "--eval"))
    return addPair(&r->evals, a, v, why, size);
  if (!strcmp(a, "--steps"))
    return parseCount(a, v, 1, MAX_STEPS, &r->steps, why, size);
  if (!strcmp(a, "--epochs"))
    return parseCount(a, v, 1, MAX_EPOCHS, &r->epochs, why, size);
  if (!strcmp(a, "--warmup"))
    return parseCount(a, v, 0, MAX_STEPS, &r->warmup, why, size);
  if (!strcmp(a, "--save-every"))
    return parseCount(a, v, 1, MAX_STEPS, &r->saveEvery, why, size);
  if (!strcmp(a, "--lr"))
    return r->haveLr = true, parseRate(a, v, &r->lr, why, size);
  if (!strcmp(a, "--min-lr"))
    return parseRate(a, v, &r->minLr, why, size);
  if (!strcmp(a, "--seed"))
    return parseSeed(v, &r->seed, why, size);
  if (!strcmp(a, "--schedule"))
    return parseSchedule(v, &r->schedule, why, size);
  const char **file = !strcmp(a, "--init") ? &r->init : !strcmp(a, "--resume") ? &r->resume
                                                    : !strcmp(a, "--save")     ? &r->save
                                                                               : &r->log;
  *file = v;
  return true;
}

static bool parseArgs(int argc, char **argv, TrainerArgs *r, char *why, size_t size) {
  static const char *const valued[] = {"--input", "--eval", "--steps", "--epochs", "--warmup", "--lr", "--min-lr",
                                       "--seed", "--schedule", "--init", "--resume", "--save", "--log",
                                       "--save-every"};
  *r = (TrainerArgs){0};
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    bool takesValue = false;
    for (size_t k = 0; k < sizeof valued / sizeof *valued; ++k)
      takesValue |= !strcmp(a, valued[k]);
    if (takesValue && i + 1 == argc)
      return snprintf(why, size, "%s needs a value", a), false;
    if (takesValue && !parseValue(r, a, argv[++i], why, size))
      return false;
    if (!strcmp(a, "--shuffle"))
      r->shuffle = true;
    else if (!strcmp(a, "--quiet"))
      r->quiet = true;
    else if (!takesValue)
      return snprintf(why, size, "unknown option '%s'", a), false;
  }
  if (!r->steps == !r->epochs)
    return snprintf(why, size, r->steps ? "give --steps N or --epochs E, not both" : "give --steps N or --epochs E"),
           false;
  if (r->init && r->resume)
    return snprintf(why, size, "--init and --resume cannot be combined (the checkpoint has the parameters)"), false;
  if (r->saveEvery && !r->save)
    return snprintf(why, size, "--save-every needs --save FILE"), false;
  return true;
}

/*---------------------------------------------------------------------------
 * The trainer's signature
 *---------------------------------------------------------------------------*/

typedef struct {
  const MpcrtArgInfo *arg; /* the input it feeds */
  const char *file;
  MpcrtTensor data; /* the whole file, in the input's type */
  int64_t samples;  /* units of `rows` rows of the file */
  int64_t rows;     /* rows per sample: the input's batch dim over the smallest input's */
  size_t sampleBytes;
} Data;

typedef struct {
  const MpcrtTrainer *t;
  const TrainerArgs *a;
  MpcrtTensor *args, *results;
  void **argData, **resultData;
  int *updateOf;        /* per result: the argument whose new value it is, or -1 */
  Data *data, *evals;   /* per argument of the step, per argument of the forward function (inputs only) */
  int numEvals;         /* forward arguments, when --eval is given */
  int lrArg, countArg, scalerArg, lossResult, skippedResult;
  int64_t batch, samples, stepsPerEpoch, total;
  int64_t step, firstStep, applied; /* iterations done, the first of this run, updates applied */
  uint64_t seed;
  int64_t *perm, permEpoch;
  FILE *log;
  double start, lastDraw, lastLoss;
  size_t lastWidth;
  bool tty;
  int64_t skipped;
} Session;

static bool isFloat(MpcrtDType d) { return mpcrtDTypeInfo(d)->isFloat; }

static int64_t elements(const MpcrtArgInfo *a) {
  int64_t n = 1;
  for (int i = 0; i < a->rank; ++i)
    n *= a->dims[i];
  return n;
}

static bool sameType(const MpcrtArgInfo *x, const MpcrtArgInfo *y) {
  if (x->dtype != y->dtype || x->rank != y->rank)
    return false;
  for (int i = 0; i < x->rank; ++i)
    if (x->dims[i] != y->dims[i])
      return false;
  return true;
}

static int findArg(const MpcrtTrainer *t, MpcrtRole role, const char *name) {
  for (int i = 0; i < t->numArgs; ++i)
    if (t->argRoles[i] == role && !strcmp(t->args[i].name, name))
      return i;
  return -1;
}

static int64_t batchOf(const Data *d, int n, const char *what, MpcrtError *err);

/* The special arguments. A broken signature is mpc-compile's bug, but it is
 * still reported as an error rather than crashing the loop. */
static bool checkArgs(Session *s, MpcrtError *err) {
  const MpcrtTrainer *t = s->t;
  for (int i = 0; i < t->numArgs; ++i) {
    const MpcrtArgInfo *a = &t->args[i];
    MpcrtRole role = t->argRoles[i];
    bool count = role == MPCRT_ROLE_STATE && !strcmp(a->name, MPCRT_STATE_COUNT);
    bool scaler = role == MPCRT_ROLE_STATE && !strcmp(a->name, MPCRT_STATE_SCALER);
    if ((role == MPCRT_ROLE_INPUT && (a->rank < 1 || a->dims[0] < 1)) ||
        (role == MPCRT_ROLE_LR && (!isFloat(a->dtype) || elements(a) != 1)) ||
        (count && (isFloat(a->dtype) || elements(a) != 1)) || (scaler && (!isFloat(a->dtype) || elements(a) < 1)) ||
        role > MPCRT_ROLE_LR)
      return mpcrtFail(err, "trainer '%s': argument '%s' does not fit its role", t->name, a->name);
    if (role == MPCRT_ROLE_INPUT)
      s->data[i].arg = a;
    if (role == MPCRT_ROLE_LR)
      s->lrArg = i;
    if (count)
      s->countArg = i;
    if (scaler)
      s->scalerArg = i;
  }
  for (int i = 0; i < t->numArgs && !s->batch; ++i)
    s->batch = t->argRoles[i] == MPCRT_ROLE_INPUT;
  if (!s->batch)
    return mpcrtFail(err, "trainer '%s' has no data input", t->name);
  char what[160];
  snprintf(what, sizeof what, "trainer '%s'", t->name);
  s->batch = batchOf(s->data, t->numArgs, what, err);
  return s->batch != 0;
}

static bool checkResults(Session *s, MpcrtError *err) {
  const MpcrtTrainer *t = s->t;
  for (int j = 0; j < t->numResults; ++j) {
    const MpcrtArgInfo *r = &t->results[j];
    MpcrtRole role = t->resultRoles[j];
    int i = role == MPCRT_ROLE_PARAM || role == MPCRT_ROLE_STATE ? findArg(t, role, r->name) : -1;
    s->updateOf[j] = i;
    if ((role == MPCRT_ROLE_LOSS && (!isFloat(r->dtype) || elements(r) < 1 || s->lossResult >= 0)) ||
        (role == MPCRT_ROLE_SKIPPED && (mpcrtDTypeInfo(r->dtype)->size != 1 || elements(r) != 1)) ||
        ((role == MPCRT_ROLE_PARAM || role == MPCRT_ROLE_STATE) && (i < 0 || !sameType(r, &t->args[i]))) ||
        role == MPCRT_ROLE_INPUT || role == MPCRT_ROLE_LR)
      return mpcrtFail(err, "trainer '%s': result '%s' does not fit its role", t->name, r->name);
    if (role == MPCRT_ROLE_LOSS)
      s->lossResult = j;
    if (role == MPCRT_ROLE_SKIPPED)
      s->skippedResult = j;
  }
  if (s->lossResult < 0)
    return mpcrtFail(err, "trainer '%s' has no loss result", t->name);
  return true;
}

/* Every --input (and --eval) names an input, and every input has one. */
static bool checkPairs(const Pairs *p, const char *flag, const MpcrtArgInfo *args, int n, const MpcrtRole *roles,
                       MpcrtError *err) {
  for (int k = 0; k < p->count; ++k) {
    bool known = false;
    for (int i = 0; i < n && !known; ++i)
      known = (roles ? roles[i] == MPCRT_ROLE_INPUT : !args[i].isParam) && nameIs(p->pairs[k], args[i].name);
    if (!known)
      return mpcrtFail(err, "%s %.*s: the model has no input named '%.*s'", flag, (int)nameLength(p->pairs[k]),
                       p->pairs[k], (int)nameLength(p->pairs[k]), p->pairs[k]);
  }
  for (int i = 0; i < n; ++i)
    if ((roles ? roles[i] == MPCRT_ROLE_INPUT : !args[i].isParam) && !findPair(p, args[i].name))
      return mpcrtFail(err, "no %s %s=FILE for the model's input '%s'", flag, args[i].name, args[i].name);
  return true;
}

/*---------------------------------------------------------------------------
 * Data
 *---------------------------------------------------------------------------*/

/* The whole file, converted to the input's type: its first dimension counts
 * rows, the rest must hold as many elements as one row of the input. A
 * sample is `rows` rows: inputs whose batch dims differ (token ids [4, 16]
 * and their labels flattened to [64]) are cut into the same number of
 * samples, 1 and 16 rows each. */
static bool loadData(const char *file, const MpcrtArgInfo *a, int64_t rows, Data *d, MpcrtError *err) {
  MpcrtTensor loaded;
  if (!mpcrtArrayRead(file, &loaded, err))
    return false;
  int64_t want = elements(a) / a->dims[0], have = 1;
  for (int i = 1; i < loaded.rank; ++i)
    have *= loaded.dims[i];
  char wantDesc[96], haveDesc[96];
  bool ok = loaded.rank >= 1 && have == want;
  if (!ok)
    mpcrtFail(err, "%s: expected samples of %lld elements for input '%s' (batches of %s), found %s", file,
              (long long)want, a->name, mpcrtDescribeArg(a, wantDesc, sizeof wantDesc),
              mpcrtTensorDescribe(&loaded, haveDesc, sizeof haveDesc));
  int64_t fileRows = loaded.rank ? loaded.dims[0] : 0;
  if (ok && fileRows % rows)
    ok = mpcrtFail(err, "%s: expected a multiple of %lld rows (one sample of input '%s' is %lld rows), found %lld",
                   file, (long long)rows, a->name, (long long)rows, (long long)fileRows);
  *d = (Data){.arg = a, .file = file, .samples = fileRows / rows, .rows = rows,
              .sampleBytes = (size_t)(want * rows) * mpcrtDTypeInfo(a->dtype)->size};
  ok = ok && mpcrtConvert(&loaded, a->dtype, &d->data, file, err);
  mpcrtTensorFree(&loaded);
  return ok;
}

/* The batch size in samples: the smallest batch dim among the inputs, which
 * every other input's batch dim must be a multiple of (0 with an error). */
static int64_t batchOf(const Data *d, int n, const char *what, MpcrtError *err) {
  int64_t b = 0;
  for (int i = 0; i < n; ++i)
    if (d[i].arg && (!b || d[i].arg->dims[0] < b))
      b = d[i].arg->dims[0];
  for (int i = 0; i < n; ++i)
    if (d[i].arg && d[i].arg->dims[0] % b) {
      mpcrtFail(err, "%s: input '%s' has a batch dim of %lld, not a multiple of the smallest input's (%lld)", what,
                d[i].arg->name, (long long)d[i].arg->dims[0], (long long)b);
      return 0;
    }
  return b;
}

/* Loads the files of the inputs among `n` Data (those with an `arg`); all
 * must have the same sample count, at least one batch. */
static bool loadAll(Data *d, int n, const Pairs *p, int64_t *samples, MpcrtError *err) {
  const Data *first = NULL;
  int64_t batch = batchOf(d, n, "trainer", err);
  if (!batch)
    return false;
  for (int i = 0; i < n; ++i) {
    if (!d[i].arg)
      continue;
    if (!loadData(findPair(p, d[i].arg->name), d[i].arg, d[i].arg->dims[0] / batch, &d[i], err))
      return false;
    if (first && d[i].samples != first->samples)
      return mpcrtFail(err, "%s: expected %lld samples (as in %s), found %lld", d[i].file, (long long)first->samples,
                       first->file, (long long)d[i].samples);
    if (d[i].samples < batch)
      return mpcrtFail(err, "%s: expected at least %lld samples (one batch of input '%s'), found %lld", d[i].file,
                       (long long)batch, d[i].arg->name, (long long)d[i].samples);
    first = first ? first : &d[i];
  }
  *samples = first ? first->samples : 0;
  return true;
}

/* Batch `k` of the epoch: samples [k*B, (k+1)*B) of the file, or of `perm`. */
static void fillBatch(const Data *d, void *batch, int64_t size, int64_t k, const int64_t *perm) {
  const char *src = d->data.data;
  size_t each = d->sampleBytes;
  if (!perm) {
    memcpy(batch, src + (size_t)(k * size) * each, (size_t)size * each);
    return;
  }
  for (int64_t r = 0; r < size; ++r)
    memcpy((char *)batch + (size_t)r * each, src + (size_t)perm[k * size + r] * each, each);
}

/*---------------------------------------------------------------------------
 * State: --init, the initialisation rules, --resume, --save
 *---------------------------------------------------------------------------*/

static bool initParam(Session *s, int i, const MpcrtTensorSet *init, MpcrtError *err) {
  const MpcrtArgInfo *a = &s->t->args[i];
  if (s->a->init) {
    const MpcrtTensor *stored = mpcrtTensorSetFind(init, a->name);
    if (!stored)
      return mpcrtFail(err, "%s: no tensor '%s' (a parameter of the model)", s->a->init, a->name);
    mpcrtTensorFree(&s->args[i]);
    return mpcrtFitArg(stored, a, "parameter", s->a->init, &s->args[i], err);
  }
  MpcrtRng rng;
  mpcrtRngSeedFor(&rng, s->seed, a->name);
  return mpcrtInitTensor(&s->args[i], a->init, a->fanIn, &rng, err);
}

/* Copies checkpoint tensor `a->name` into `into`, which has a's type and shape. */
static bool restore(const MpcrtTensorSet *ckpt, const char *file, const MpcrtArgInfo *a, const char *kind,
                    MpcrtTensor *into, MpcrtError *err) {
  const MpcrtTensor *stored = mpcrtTensorSetFind(ckpt, a->name);
  if (!stored)
    return mpcrtFail(err, "%s: no tensor '%s' (a %s of the trainer; not a checkpoint written by --save?)", file,
                     a->name, kind);
  MpcrtArgInfo have = {.dtype = stored->dtype, .rank = stored->rank};
  memcpy(have.dims, stored->dims, sizeof have.dims);
  char want[96], found[96];
  if (!sameType(&have, a))
    return mpcrtFail(err, "%s: expected %s for %s '%s', found %s", file, mpcrtDescribeArg(a, want, sizeof want), kind,
                     a->name, mpcrtDescribeArg(&have, found, sizeof found));
  memcpy(into->data, stored->data, mpcrtTensorBytes(into));
  return true;
}

static bool restoreCounter(const MpcrtTensorSet *ckpt, const char *file, const char *name, int64_t *out,
                           MpcrtError *err) {
  MpcrtArgInfo a = {.name = name, .dtype = MPCRT_I64};
  MpcrtTensor t = {.dtype = MPCRT_I64, .data = out};
  return restore(ckpt, file, &a, "counter", &t, err);
}

static bool resume(Session *s, MpcrtError *err) {
  const char *file = s->a->resume;
  MpcrtTensorSet ckpt;
  if (!mpcrtSafetensorsRead(file, &ckpt, err))
    return false;
  int64_t step = 0, seed = 0;
  bool ok = restoreCounter(&ckpt, file, "trainer.step", &step, err) &&
            restoreCounter(&ckpt, file, "trainer.seed", &seed, err) &&
            (s->countArg >= 0 || restoreCounter(&ckpt, file, "trainer.updates", &s->applied, err));
  for (int i = 0; ok && i < s->t->numArgs; ++i) {
    MpcrtRole role = s->t->argRoles[i];
    if (role == MPCRT_ROLE_PARAM || role == MPCRT_ROLE_STATE)
      ok = restore(&ckpt, file, &s->t->args[i], role == MPCRT_ROLE_PARAM ? "parameter" : "state", &s->args[i], err);
  }
  mpcrtTensorSetFree(&ckpt);
  if (ok && (step < 0 || step > s->total))
    return mpcrtFail(err, "%s: trainer.step is %lld, expected 0 to %lld (the steps asked for)", file, (long long)step,
                     (long long)s->total);
  s->step = s->firstStep = step;
  s->seed = (uint64_t)seed;
  return ok;
}

/* Parameters from --init or their rules; state at zero, the scaler at
 * [initScale, 0]; or all of it from --resume. */
static bool initState(Session *s, MpcrtError *err) {
  const MpcrtTrainer *t = s->t;
  MpcrtTensorSet init = {0};
  bool ok = !s->a->init || mpcrtSafetensorsRead(s->a->init, &init, err);
  for (int i = 0; ok && i < t->numArgs; ++i) {
    const MpcrtArgInfo *a = &t->args[i];
    ok = mpcrtTensorAlloc(&s->args[i], a->dtype, a->rank, a->dims, err);
    if (ok && t->argRoles[i] == MPCRT_ROLE_PARAM && !s->a->resume)
      ok = initParam(s, i, &init, err);
    s->argData[i] = s->args[i].data;
  }
  if (ok && s->scalerArg >= 0)
    mpcrtTensorSetDouble(&s->args[s->scalerArg], 0, t->initScale);
  mpcrtTensorSetFree(&init);
  ok = ok && (!s->a->resume || resume(s, err));
  for (int j = 0; ok && j < t->numResults; ++j) {
    const MpcrtArgInfo *r = &t->results[j];
    ok = mpcrtTensorAlloc(&s->results[j], r->dtype, r->rank, r->dims, err);
    s->resultData[j] = s->results[j].data;
  }
  return ok;
}

static void addCopy(MpcrtTensorSet *set, const char *name, const MpcrtTensor *t, bool *ok, MpcrtError *err) {
  MpcrtTensor copy;
  if (*ok && (*ok = mpcrtTensorAlloc(&copy, t->dtype, t->rank, t->dims, err))) {
    memcpy(copy.data, t->data, mpcrtTensorBytes(t));
    mpcrtTensorSetAdd(set, name, copy);
  }
}

static void addCounter(MpcrtTensorSet *set, const char *name, int64_t value, bool *ok, MpcrtError *err) {
  MpcrtTensor t = {.dtype = MPCRT_I64, .data = &value};
  addCopy(set, name, &t, ok, err);
}

/* The --save path for `step` steps done: "{step}" in it becomes the number. */
static const char *savePath(const char *pattern, int64_t step, char *buf, size_t size) {
  const char *at = strstr(pattern, "{step}");
  if (!at)
    return pattern;
  snprintf(buf, size, "%.*s%lld%s", (int)(at - pattern), pattern, (long long)step, at + 6);
  return buf;
}

/* Parameters, then state, by name; then the trainer's counters. */
static bool save(const Session *s, MpcrtError *err) {
  MpcrtTensorSet set = {0};
  bool ok = true;
  for (MpcrtRole role = MPCRT_ROLE_PARAM; role <= MPCRT_ROLE_STATE; ++role)
    for (int i = 0; i < s->t->numArgs; ++i)
      if (s->t->argRoles[i] == role)
        addCopy(&set, s->t->args[i].name, &s->args[i], &ok, err);
  addCounter(&set, "trainer.step", s->step, &ok, err);
  addCounter(&set, "trainer.seed", (int64_t)s->seed, &ok, err);
  if (s->countArg < 0)
    addCounter(&set, "trainer.updates", s->applied, &ok, err);
  char path[4096];
  ok = ok && mpcrtSafetensorsWrite(savePath(s->a->save, s->step, path, sizeof path), &set, err);
  mpcrtTensorSetFree(&set);
  return ok;
}

/* Fails now rather than after the training if the checkpoint cannot be written. */
static bool probeSave(const char *path, MpcrtError *err) {
  char tmp[4096];
  FILE *f = mpcrtAtomicOpen(path, tmp, sizeof tmp, err);
  if (f)
    mpcrtAtomicCommit(f, tmp, path, false, NULL);
  return f != NULL;
}

/* With --resume, an existing log keeps its header and the rows of the
 * steps the checkpoint has (a run that went on after its last checkpoint
 * wrote rows the resumed run writes again); false if it has no header. */
static bool trimLog(const char *path, int64_t steps, bool *append, MpcrtError *err) {
  unsigned char *data;
  size_t length;
  MpcrtError ignored;
  *append = false;
  if (!mpcrtReadFile(path, &data, &length, &ignored) || length == 0)
    return true; /* no log yet: start one */
  size_t keep = 0;
  bool ok = true;
  for (size_t at = 0, line = 0; at < length; ++line) {
    const char *nl = memchr(data + at, '\n', length - at);
    size_t end = nl ? (size_t)((const unsigned char *)nl - data) + 1 : length;
    if (line == 0)
      ok = !strncmp((const char *)data, "step,", 5);
    else if (strtoll((const char *)data + at, NULL, 10) > steps)
      break;
    keep = end;
    at = end;
  }
  if (!ok) {
    free(data);
    return mpcrtFail(err, "%s: not a trainer log (no 'step,loss,loss_scale,skipped' header)", path);
  }
  if (keep < length) {
    char tmp[4096];
    FILE *f = mpcrtAtomicOpen(path, tmp, sizeof tmp, err);
    ok = f && mpcrtAtomicCommit(f, tmp, path, fwrite(data, 1, keep, f) == keep, err);
  }
  free(data);
  *append = true;
  return ok;
}

/* The log: a new file with its header, or with --resume the rows appended
 * to an existing one. */
static bool openLog(Session *s, MpcrtError *err) {
  const char *path = s->a->log;
  bool append = false;
  if (s->a->resume && !trimLog(path, s->step, &append, err))
    return false;
  s->log = fopen(path, append ? "ab" : "wb");
  if (!s->log)
    return mpcrtFail(err, "%s: cannot write: %s", path, strerror(errno));
  if (!append)
    fputs("step,loss,loss_scale,skipped\n", s->log);
  return true;
}

/*---------------------------------------------------------------------------
 * Progress
 *---------------------------------------------------------------------------*/

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *formatEta(double seconds, char *buf, size_t size) {
  long s = seconds > 0 && seconds < 1e9 ? (long)(seconds + 0.5) : 0;
  if (s >= 3600)
    snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

/* On a terminal a line redrawn at most every 0.1 s; elsewhere a line about
 * every 10% of the steps. */
static void showProgress(Session *s, double scale) {
  int64_t done = s->step + 1;
  double elapsed = now() - s->start;
  bool tty = s->tty, last = done == s->total;
  if (s->a->quiet || (tty && !last && elapsed - s->lastDraw < 0.1) ||
      (!tty && done * 10 / s->total == s->step * 10 / s->total))
    return;
  s->lastDraw = elapsed;
  double rate = elapsed > 0 ? (double)(done - s->firstStep) / elapsed : 0;
  char line[256], eta[32];
  int width = snprintf(line, sizeof line, "step %lld/%lld  loss %.4f  scale %g  %.1f steps/s  ETA %s", (long long)done,
                       (long long)s->total, s->lastLoss, scale, rate,
                       formatEta(rate > 0 ? (double)(s->total - done) / rate : 0, eta, sizeof eta));
  if (!tty) {
    fprintf(stderr, "%s\n", line);
    return;
  }
  int pad = (int)s->lastWidth > width ? (int)s->lastWidth - width : 0;
  fprintf(stderr, "\r%s%*s%s", line, pad, "", last ? "\n" : "");
  s->lastWidth = (size_t)width;
  fflush(stderr);
}

/*---------------------------------------------------------------------------
 * Training and evaluation
 *---------------------------------------------------------------------------*/

static void writeRow(FILE *log, int64_t step, double loss, double scale, bool skipped) {
  if (isnan(loss)) /* not "-nan" */
    fprintf(log, "%lld,nan,%.9g,%d\n", (long long)step, scale, skipped);
  else
    fprintf(log, "%lld,%.9g,%.9g,%d\n", (long long)step, loss, scale, skipped);
}

static void trainStep(Session *s, double lr) {
  const MpcrtTrainer *t = s->t;
  int64_t epoch = s->step / s->stepsPerEpoch, k = s->step % s->stepsPerEpoch;
  if (s->perm && s->permEpoch != epoch) {
    mpcrtShuffle(s->seed, epoch, s->samples, s->perm);
    s->permEpoch = epoch;
  }
  for (int i = 0; i < t->numArgs; ++i)
    if (s->data[i].arg)
      fillBatch(&s->data[i], s->argData[i], s->batch, k, s->perm);
  if (s->lrArg >= 0)
    mpcrtTensorSetDouble(&s->args[s->lrArg], 0, lr);
  t->step((void *const *)s->argData, (void *const *)s->resultData);
  for (int j = 0; j < t->numResults; ++j) { /* the new values become the arguments */
    int i = s->updateOf[j];
    if (i < 0)
      continue;
    void *old = s->args[i].data;
    s->argData[i] = s->args[i].data = s->results[j].data;
    s->resultData[j] = s->results[j].data = old;
  }
}

static bool train(Session *s, MpcrtError *err) {
  const TrainerArgs *a = s->a;
  double base = a->haveLr ? a->lr : s->t->defaultLr;
  s->start = now();
  s->lastLoss = NAN;
  s->tty = isatty(fileno(stderr));
  for (; s->step < s->total; ++s->step) {
    int64_t updates = s->countArg >= 0 ? (int64_t)mpcrtTensorGetDouble(&s->args[s->countArg], 0) : s->applied;
    trainStep(s, mpcrtLearningRate(a->schedule, base, a->minLr, a->warmup, s->total, updates));
    bool skipped = s->skippedResult >= 0 && *(const uint8_t *)s->resultData[s->skippedResult];
    s->lastLoss = mpcrtTensorGetDouble(&s->results[s->lossResult], 0);
    s->applied += !skipped;
    s->skipped += skipped;
    double scale = s->scalerArg >= 0 ? mpcrtTensorGetDouble(&s->args[s->scalerArg], 0) : 1.0;
    if (s->log)
      writeRow(s->log, s->step + 1, s->lastLoss, scale, skipped);
    showProgress(s, scale);
    if (a->saveEvery && (s->step + 1) % a->saveEvery == 0 && s->step + 1 < s->total) {
      /* A checkpoint mid-run (the last one is written after the loop); the
       * log's rows so far go to disk with it. */
      ++s->step;
      bool ok = (!s->log || fflush(s->log) == 0) && save(s, err);
      --s->step;
      if (!ok)
        return false;
    }
  }
  if (s->log) {
    bool bad = ferror(s->log);
    bad |= fclose(s->log) != 0;
    s->log = NULL;
    if (bad)
      return mpcrtFail(err, "%s: cannot write: %s", a->log, strerror(errno));
  }
  return true;
}

/* The forward function's arguments: --eval batches and the trained parameters
 * (converted if the forward function keeps them in another type). */
static bool evalArgs(Session *s, MpcrtTensor *owned, void **data, MpcrtError *err) {
  const MpcrtModel *m = s->t->forward;
  for (int i = 0; i < m->numArgs; ++i) {
    const MpcrtArgInfo *a = &m->args[i];
    int p = a->isParam ? findArg(s->t, MPCRT_ROLE_PARAM, a->name) : -1;
    if (a->isParam && p < 0)
      return mpcrtFail(err, "trainer '%s': the forward function's parameter '%s' is not trained", s->t->name, a->name);
    if (!a->isParam && !mpcrtTensorAlloc(&owned[i], a->dtype, a->rank, a->dims, err))
      return false;
    if (a->isParam && !sameType(a, &s->t->args[p]) &&
        !mpcrtFitArg(&s->args[p], a, "parameter", "the trained parameters", &owned[i], err))
      return false;
    data[i] = owned[i].data ? owned[i].data : s->args[p].data;
  }
  return true;
}

static bool evaluate(Session *s, MpcrtError *err) {
  const MpcrtModel *m = s->t->forward;
  size_t n = (size_t)m->numArgs + 1, r = (size_t)m->numResults;
  MpcrtTensor *args = calloc(n, sizeof *args), *results = calloc(r, sizeof *results);
  void **argData = calloc(n, sizeof *argData), **resultData = calloc(r, sizeof *resultData);
  bool ok = args && results && argData && resultData ? evalArgs(s, args, argData, err)
                                                     : mpcrtFail(err, "out of memory");
  for (int j = 0; ok && j < m->numResults; ++j) {
    ok = mpcrtTensorAlloc(&results[j], m->results[j].dtype, m->results[j].rank, m->results[j].dims, err);
    resultData[j] = results[j].data;
  }
  int64_t size = 0, samples = 0, batches = 0;
  for (int i = 0; i < s->numEvals; ++i)
    if (s->evals[i].arg) {
      size = s->evals[i].arg->dims[0] / s->evals[i].rows;
      samples = s->evals[i].samples;
    }
  double sum = 0;
  for (int64_t k = 0; ok && size && k < samples / size; ++k, ++batches) {
    for (int i = 0; i < s->numEvals; ++i)
      if (s->evals[i].arg)
        fillBatch(&s->evals[i], argData[i], size, k, NULL);
    m->forward((void *const *)argData, (void *const *)resultData);
    sum += mpcrtTensorGetDouble(&results[0], 0);
  }
  if (ok)
    printf("eval: loss %.6f over %lld batches (%lld samples)\n", batches ? sum / (double)batches : NAN,
           (long long)batches, (long long)(batches * size));
  for (int i = 0; args && i < m->numArgs; ++i)
    mpcrtTensorFree(&args[i]);
  for (int j = 0; results && j < m->numResults; ++j)
    mpcrtTensorFree(&results[j]);
  free(args);
  free(results);
  free(argData);
  free(resultData);
  return ok;
}

/*---------------------------------------------------------------------------
 * The session
 *---------------------------------------------------------------------------*/

static bool setupEval(Session *s, MpcrtError *err) {
  const MpcrtModel *m = s->t->forward;
  if (!m || m->numResults < 1)
    return mpcrtFail(err, "--eval: trainer '%s' has no forward function to evaluate", s->t->name);
  if (!checkPairs(&s->a->evals, "--eval", m->args, m->numArgs, NULL, err))
    return false;
  s->evals = calloc((size_t)m->numArgs + 1, sizeof *s->evals);
  if (!s->evals)
    return mpcrtFail(err, "out of memory");
  s->numEvals = m->numArgs;
  int64_t batch = 0;
  for (int i = 0; i < m->numArgs; ++i) {
    const MpcrtArgInfo *a = &m->args[i];
    if (a->isParam)
      continue;
    if (a->rank < 1 || a->dims[0] < 1 || (batch && a->dims[0] != batch))
      return mpcrtFail(err, "trainer '%s': the forward function's input '%s' has no batch dimension to fill",
                       s->t->name, a->name);
    batch = a->dims[0];
    s->evals[i].arg = a;
  }
  int64_t samples;
  return loadAll(s->evals, m->numArgs, &s->a->evals, &samples, err);
}

static bool setup(Session *s, MpcrtError *err) {
  const MpcrtTrainer *t = s->t;
  const TrainerArgs *a = s->a;
  size_t n = (size_t)t->numArgs + 1, r = (size_t)t->numResults + 1;
  s->args = calloc(n, sizeof *s->args);
  s->results = calloc(r, sizeof *s->results);
  s->argData = calloc(n, sizeof *s->argData);
  s->resultData = calloc(r, sizeof *s->resultData);
  s->updateOf = calloc(r, sizeof *s->updateOf);
  s->data = calloc(n, sizeof *s->data);
  if (!s->args || !s->results || !s->argData || !s->resultData || !s->updateOf || !s->data)
    return mpcrtFail(err, "out of memory");
  s->lrArg = s->countArg = s->scalerArg = s->lossResult = s->skippedResult = -1;
  s->permEpoch = -1;
  s->seed = a->seed;
  if (!checkArgs(s, err) || !checkResults(s, err) ||
      !checkPairs(&a->inputs, "--input", t->args, t->numArgs, t->argRoles, err) ||
      !loadAll(s->data, t->numArgs, &a->inputs, &s->samples, err) ||
      (a->evals.count && !setupEval(s, err)))
    return false;
  s->stepsPerEpoch = s->samples / s->batch;
  s->total = a->steps ? a->steps : a->epochs * s->stepsPerEpoch;
  char probe[4096];
  if (!initState(s, err) || (a->save && !probeSave(savePath(a->save, 0, probe, sizeof probe), err)) ||
      (a->log && !openLog(s, err)))
    return false;
  if (a->shuffle && !(s->perm = malloc((size_t)s->samples * sizeof *s->perm)))
    return mpcrtFail(err, "out of memory");
  return true;
}

static void teardown(Session *s) {
  for (int i = 0; s->args && i < s->t->numArgs; ++i)
    mpcrtTensorFree(&s->args[i]);
  for (int j = 0; s->results && j < s->t->numResults; ++j)
    mpcrtTensorFree(&s->results[j]);
  for (int i = 0; s->data && i < s->t->numArgs; ++i)
    mpcrtTensorFree(&s->data[i].data);
  for (int i = 0; s->evals && i < s->numEvals; ++i)
    mpcrtTensorFree(&s->evals[i].data);
  if (s->log)
    fclose(s->log);
  free(s->args);
  free(s->results);
  free(s->argData);
  free(s->resultData);
  free(s->updateOf);
  free(s->data);
  free(s->evals);
  free(s->perm);
}

static int run(const MpcrtTrainer *t, const TrainerArgs *a, MpcrtError *err) {
  Session s = {.t = t, .a = a};
  bool ok = setup(&s, err) && train(&s, err) && (!a->save || save(&s, err));
  if (ok) {
    double elapsed = now() - s.start;
    int64_t ran = s.step - s.firstStep;
    printf("trained %lld steps in %.2f s (%.1f steps/s): final loss %.6f, %lld skipped\n", (long long)ran, elapsed,
           elapsed > 0 ? (double)ran / elapsed : 0.0, s.lastLoss, (long long)s.skipped);
    fflush(stdout);
  }
  ok = ok && (!a->evals.count || evaluate(&s, err));
  fflush(stdout);
  teardown(&s);
  return ok ? 0 : 1;
}

/*---------------------------------------------------------------------------
 * main
 *---------------------------------------------------------------------------*/

#define USAGE_LINE "--input NAME=FILE ... (--steps N | --epochs E) [options]"

static const char *orNone(const char *s) { return s && *s ? s : "none"; }

static void help(const MpcrtTrainer *t, const char *prog) {
  printf("usage: %s " USAGE_LINE "\n\n"
         "Trains the compiled model '%s' (%s, optimizer %s, loss scaling %s).\n\n"
         "  --input NAME=FILE    training data for an input (.npy or MNIST IDX, gzipped or not);\n"
         "                       the first dimension counts samples\n"
         "  --steps N            train until step N (a resumed run continues to N)\n"
         "  --epochs E           train E epochs of floor(samples / batch) steps\n"
         "  --lr LR              the learning rate (default %g)\n"
         "  --seed S             seeds initialisation and shuffling (default 0)\n"
         "  --init FILE          parameters from a safetensors file, by name\n"
         "  --resume FILE        continue from a checkpoint written by --save\n"
         "  --save FILE          write a safetensors checkpoint at the end; {step} in FILE becomes the step\n"
         "  --save-every N       also write one every N steps (resumable exactly, schedules included)\n"
         "  --log FILE.csv       one row per step: step,loss,loss_scale,skipped\n"
         "  --shuffle            a new order of the samples in each epoch\n"
         "  --schedule S         constant (default), cosine or linear decay to --min-lr\n"
         "  --warmup N           warm the learning rate up from 0 over N updates\n"
         "  --min-lr LR          where cosine and linear decay end (default 0)\n"
         "  --eval NAME=FILE     held-out data for an input: the mean loss over its full batches\n"
         "  --quiet              no progress line\n",
         prog, t->name, orNone(t->precision), orNone(t->optimizer), orNone(t->lossScaling), t->defaultLr);
  static const char *const headings[] = {"\ninputs:\n", "\nparameters:\n", "\nstate:\n"};
  for (MpcrtRole role = MPCRT_ROLE_INPUT; role <= MPCRT_ROLE_STATE; ++role) {
    bool first = true;
    for (int i = 0; i < t->numArgs; ++i) {
      if (t->argRoles[i] != role)
        continue;
      char desc[96];
      printf("%s  %-20s %s%s%s\n", first ? headings[role] : "", t->args[i].name,
             mpcrtDescribeArg(&t->args[i], desc, sizeof desc), role == MPCRT_ROLE_PARAM ? " " : "",
             role == MPCRT_ROLE_PARAM ? mpcrtInitName(t->args[i].init) : "");
      first = false;
    }
  }
}

int mpcrtTrainerMain(const MpcrtTrainer *trainer, int argc, char **argv) {
  mpcrtKeepMemory();
  const char *prog = argc > 0 ? argv[0] : "trainer";
  const char *slash = strrchr(prog, '/');
  prog = slash ? slash + 1 : prog;
  for (int i = 1; i < argc; ++i)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      help(trainer, prog);
      return 0;
    }
  TrainerArgs a;
  char why[512];
  if (!parseArgs(argc, argv, &a, why, sizeof why)) {
    fprintf(stderr, "%s: error: %s\nusage: %s " USAGE_LINE " (see --help)\n", prog, why, prog);
    return 1;
  }
  MpcrtError err = {{0}};
  int status = run(trainer, &a, &err);
  if (status)
    fprintf(stderr, "%s: error: %s\n", prog, err.message);
  return status;
}
