/*===- trainer-tests.c - C tests of the training loop -----------*- C -*-===*
 *
 * Tests runtime/trainer.c through mpcrtTrainerMain around hand-written
 * stand-ins for what mpc-compile emits: linear regression y = w.x + b with
 * x 4x3xf32 and y 4xf32 per batch, parameters w 3xf32 and b 1xf32, and a
 * plain SGD step that returns the mean squared error. The step skips (changes
 * nothing, halves the loss scale) when its gradients are not finite: a
 * sample whose x[1] is 1e30 does that. Two variants: `full` has the
 * optimizer.step and scaler states and a metric; `plain` has neither state,
 * so the trainer counts the applied updates itself.
 *
 * Each test prints an @marker; failed checks print FAIL with the line; the
 * last line is "N passed, M failed". Files go to the directory in argv[1].
 *===----------------------------------------------------------------------===*/
#include "internal.h" /* mpcrtLearningRate, mpcrtShuffle */
#include "mpc-check.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define B 4
#define INIT_SCALE 1024.0f

/*---------------------------------------------------------------------------
 * The fake compiled models
 *---------------------------------------------------------------------------*/

/* What the steps saw: the LR argument and the samples of each batch (x[0]
 * of sample i is i / 8). */
static float seenLr[4096];
static int seenIds[4096 * B], calls;

static void record(const float *x, float lr) {
  if (calls >= 4096)
    return;
  seenLr[calls] = lr;
  for (int r = 0; r < B; ++r)
    seenIds[calls * B + r] = (int)lroundf(x[r * 3] * 8);
  ++calls;
}

/* The loss of a batch, and the gradients; in f32, as compiled code would. */
static float mse(const float *x, const float *y, const float *w, const float *b, float *gw, float *gb) {
  float loss = 0;
  *gb = 0;
  for (int j = 0; j < 3; ++j)
    gw[j] = 0;
  for (int r = 0; r < B; ++r) {
    float e = w[0] * x[r * 3] + w[1] * x[r * 3 + 1] + w[2] * x[r * 3 + 2] + b[0] - y[r];
    loss += e * e;
    for (int j = 0; j < 3; ++j)
      gw[j] += 2 * e * x[r * 3 + j] / B;
    *gb += 2 * e / B;
  }
  return loss / B;
}

/* One SGD step; false (and w, b copied unchanged) if a gradient times the
 * loss scale is not finite. */
static bool sgd(const float *x, const float *y, const float *w, const float *b, float lr, float scale, float *loss,
                float *w2, float *b2) {
  float gw[3], gb;
  *loss = mse(x, y, w, b, gw, &gb);
  bool finite = isfinite(gb * scale);
  for (int j = 0; j < 3; ++j)
    finite = finite && isfinite(gw[j] * scale);
  for (int j = 0; j < 3; ++j)
    w2[j] = finite ? w[j] - lr * gw[j] : w[j];
  b2[0] = finite ? b[0] - lr * gb : b[0];
  return finite;
}

/* full: args x y w b lr optimizer.step scaler; results loss w b
 * optimizer.step scaler skipped mae. The scale halves on a skipped step and
 * doubles after 4 steps in a row that were not. */
static void fullStep(void *const *in, void *const *out) {
  const float *x = in[0], *scaler = in[6];
  const int64_t *count = in[5];
  float *scaler2 = out[4], *mae = out[6];
  record(x, *(const float *)in[4]);
  bool ok = sgd(x, in[1], in[2], in[3], *(const float *)in[4], scaler[0], out[0], out[1], out[2]);
  *(int64_t *)out[3] = *count + ok;
  *(uint8_t *)out[5] = !ok;
  scaler2[0] = !ok ? scaler[0] / 2 : scaler[1] + 1 >= 4 ? scaler[0] * 2 : scaler[0];
  scaler2[1] = !ok || scaler[1] + 1 >= 4 ? 0 : scaler[1] + 1;
  *mae = sqrtf(*(float *)out[0]);
}

/* plain: args x y w b lr; results loss w b skipped. */
static void plainStep(void *const *in, void *const *out) {
  record(in[0], *(const float *)in[4]);
  *(uint8_t *)out[3] = !sgd(in[0], in[1], in[2], in[3], *(const float *)in[4], 1, out[0], out[1], out[2]);
}

/* The forward function, with its arguments in another order: x w y b. */
static void forward(void *const *in, void *const *out) {
  float gw[3], gb;
  *(float *)out[0] = mse(in[0], in[2], in[1], in[3], gw, &gb);
}

#define X {.name = "x", .dtype = MPCRT_F32, .rank = 2, .dims = {B, 3}}
#define Y {.name = "y", .dtype = MPCRT_F32, .rank = 1, .dims = {B}}
#define W                                                                                          \
  {.name = "w", .isParam = true, .dtype = MPCRT_F32, .rank = 1, .dims = {3},                       \
   .init = MPCRT_INIT_KAIMING_UNIFORM, .fanIn = 3}
#define BIAS {.name = "b", .isParam = true, .dtype = MPCRT_F32, .rank = 1, .dims = {1}, .init = MPCRT_INIT_ZEROS}
#define LR {.name = "lr", .dtype = MPCRT_F32}
#define COUNT {.name = "optimizer.step", .dtype = MPCRT_I64}
#define SCALER {.name = "scaler", .dtype = MPCRT_F32, .rank = 1, .dims = {2}}
#define LOSS {.name = "result0", .dtype = MPCRT_F32}
#define SKIP {.name = "skipped", .dtype = MPCRT_BOOL}

static const MpcrtArgInfo forwardArgs[] = {X, W, Y, BIAS}, forwardResults[] = {LOSS};
static const MpcrtModel forwardModel = {"linear", 4, 1, forwardArgs, forwardResults, forward};

static const MpcrtArgInfo fullArgs[] = {X, Y, W, BIAS, LR, COUNT, SCALER};
static const MpcrtRole fullArgRoles[] = {MPCRT_ROLE_INPUT, MPCRT_ROLE_INPUT, MPCRT_ROLE_PARAM, MPCRT_ROLE_PARAM,
                                         MPCRT_ROLE_LR,    MPCRT_ROLE_STATE, MPCRT_ROLE_STATE};
static const MpcrtArgInfo fullResults[] = {LOSS, W, BIAS, COUNT, SCALER, SKIP, {.name = "result1", .dtype = MPCRT_F32}};
static const MpcrtRole fullResultRoles[] = {MPCRT_ROLE_LOSS,  MPCRT_ROLE_PARAM,   MPCRT_ROLE_PARAM, MPCRT_ROLE_STATE,
                                            MPCRT_ROLE_STATE, MPCRT_ROLE_SKIPPED, MPCRT_ROLE_METRIC};
static const MpcrtTrainer full = {
    .name = "linear", .precision = "32-true", .optimizer = "sgd", .lossScaling = "dynamic",
    .initScale = INIT_SCALE, .defaultLr = 0.02, .numArgs = 7, .numResults = 7,
    .args = fullArgs, .results = fullResults, .argRoles = fullArgRoles, .resultRoles = fullResultRoles,
    .step = fullStep, .forward = &forwardModel};

static const MpcrtArgInfo plainArgs[] = {X, Y, W, BIAS, LR}, plainResults[] = {LOSS, W, BIAS, SKIP};
static const MpcrtRole plainResultRoles[] = {MPCRT_ROLE_LOSS, MPCRT_ROLE_PARAM, MPCRT_ROLE_PARAM,
                                             MPCRT_ROLE_SKIPPED};
static const MpcrtTrainer plain = {
    .name = "plain", .precision = "32-true", .optimizer = "sgd", .lossScaling = "none", .initScale = 1,
    .defaultLr = 0.02, .numArgs = 5, .numResults = 4, .args = plainArgs, .results = plainResults,
    .argRoles = fullArgRoles, .resultRoles = plainResultRoles, .step = plainStep};

/*---------------------------------------------------------------------------
 * Helpers
 *---------------------------------------------------------------------------*/

static const char *dir;
static char outText[1 << 16], errText[1 << 16];

/* Rotating buffers, so that one call's arguments can all be built inline. */
static char *scratch(void) {
  static char buf[64][1024];
  static int next;
  return buf[next++ % 64];
}

static const char *path(const char *name) {
  char *p = scratch();
  snprintf(p, 1024, "%s/%s", dir, name);
  return p;
}

static const char *pair(const char *name, const char *file) {
  char *p = scratch();
  snprintf(p, 1024, "%s=%s/%s", name, dir, file);
  return p;
}

static size_t readText(const char *file, char *buf, size_t cap) {
  FILE *f = fopen(file, "rb");
  size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
  if (f)
    fclose(f);
  buf[n] = '\0';
  return n;
}

/* Runs mpcrtTrainerMain on the NULL-terminated flags, capturing stdout and
 * stderr into outText and errText. */
static int train(const MpcrtTrainer *t, ...) {
  const char *argv[64] = {"trainer"};
  int argc = 1;
  va_list ap;
  va_start(ap, t);
  for (const char *a; (a = va_arg(ap, const char *)) && argc < 63;)
    argv[argc++] = a;
  va_end(ap);
  calls = 0;
  fflush(stdout);
  fflush(stderr);
  int savedOut = dup(1), savedErr = dup(2);
  int fo = open(path("stdout.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int fe = open(path("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(fo, 1);
  dup2(fe, 2);
  close(fo);
  close(fe);
  int status = mpcrtTrainerMain(t, argc, (char **)argv);
  fflush(stdout);
  fflush(stderr);
  dup2(savedOut, 1);
  dup2(savedErr, 2);
  close(savedOut);
  close(savedErr);
  readText(path("stdout.txt"), outText, sizeof outText);
  readText(path("stderr.txt"), errText, sizeof errText);
  return status;
}

static int countLines(const char *s) {
  int n = 0;
  for (; *s; ++s)
    n += *s == '\n';
  return n;
}

/* The run fails with one line on stderr that contains `needle` (two lines
 * for a usage error: the error and the usage). */
#define CHECK_FAILS(lines, needle, ...)                                                            \
  do {                                                                                             \
    int status_ = train(__VA_ARGS__, NULL);                                                        \
    CHECK(status_ == 1);                                                                           \
    if (!strstr(errText, needle) || countLines(errText) != (lines)) {                              \
      ++failed;                                                                                    \
      printf("FAIL %s:%d: stderr '%s' lacks '%s' or is not %d line(s)\n", __FILE__, __LINE__,     \
             errText, needle, lines);                                                              \
    }                                                                                              \
  } while (0)

/* n samples of y = 2 x0 - x1 + 0.5 x2 + 1 with x0 = i / 8; samples in
 * [hugeFrom, hugeTo) have x1 = 1e30, whose gradient overflows. */
static void writeData(const char *xName, const char *yName, int n, int hugeFrom, int hugeTo) {
  MpcrtTensor x, y;
  MpcrtError err;
  mpcrtTensorAlloc(&x, MPCRT_F32, 2, (int64_t[]){n, 3}, &err);
  mpcrtTensorAlloc(&y, MPCRT_F32, 1, (int64_t[]){n}, &err);
  float *xs = x.data, *ys = y.data;
  for (int i = 0; i < n; ++i) {
    xs[i * 3] = (float)i / 8;
    xs[i * 3 + 1] = i >= hugeFrom && i < hugeTo ? 1e30f : (float)((i * 7) % 11) / 11 - 0.5f;
    xs[i * 3 + 2] = (float)((i * 5) % 13) / 13;
    ys[i] = 2 * xs[i * 3] - xs[i * 3 + 1] + 0.5f * xs[i * 3 + 2] + 1;
  }
  CHECK(mpcrtNpyWrite(path(xName), &x, &err) && mpcrtNpyWrite(path(yName), &y, &err));
  mpcrtTensorFree(&x);
  mpcrtTensorFree(&y);
}

static void writeTensor(const char *name, MpcrtDType dtype, int rank, const int64_t *dims) {
  MpcrtTensor t;
  MpcrtError err;
  mpcrtTensorAlloc(&t, dtype, rank, dims, &err);
  CHECK(mpcrtNpyWrite(path(name), &t, &err));
  mpcrtTensorFree(&t);
}

/* A checkpoint with the given tensors of the full trainer (values 0.5). */
static void writeCheckpoint(const char *name, const char *const *keys, int n) {
  MpcrtTensorSet set = {0};
  MpcrtError err;
  for (int k = 0; k < n; ++k) {
    MpcrtTensor t;
    const MpcrtArgInfo *a = NULL;
    for (int i = 0; i < 7; ++i)
      if (!strcmp(fullArgs[i].name, keys[k]))
        a = &fullArgs[i];
    if (a)
      mpcrtTensorAlloc(&t, a->dtype, a->rank, a->dims, &err);
    else
      mpcrtTensorAlloc(&t, MPCRT_I64, 0, NULL, &err);
    for (int64_t e = 0; a && e < mpcrtTensorNumElements(&t); ++e)
      mpcrtTensorSetDouble(&t, e, 0.5);
    mpcrtTensorSetAdd(&set, keys[k], t);
  }
  CHECK(mpcrtSafetensorsWrite(path(name), &set, &err));
  mpcrtTensorSetFree(&set);
}

static bool sameFiles(const char *a, const char *b) {
  static char x[1 << 16], y[1 << 16];
  size_t n = readText(a, x, sizeof x), m = readText(b, y, sizeof y);
  return n > 0 && n == m && !memcmp(x, y, n);
}

/* Row `step` of a log (1-based; 0 is the header) into `line`. */
static const char *logRow(const char *text, int step, char *line, size_t size) {
  for (int i = 0; i < step && text; ++i)
    text = strchr(text, '\n') ? strchr(text, '\n') + 1 : NULL;
  if (!text || !*text)
    return "";
  size_t n = strcspn(text, "\n");
  snprintf(line, size, "%.*s", (int)(n < size ? n : size - 1), text);
  return line;
}

static double tensorValue(const MpcrtTensorSet *set, const char *name, int64_t i) {
  const MpcrtTensor *t = mpcrtTensorSetFind(set, name);
  return t ? mpcrtTensorGetDouble(t, i) : NAN;
}

/*---------------------------------------------------------------------------
 * Tests
 *---------------------------------------------------------------------------*/

static bool near(double a, double b) { return fabs(a - b) <= 1e-12 + 1e-12 * fabs(b); }

static void testSchedule(void) {
  printf("@testSchedule\n");
  const MpcrtSchedule c = MPCRT_SCHEDULE_CONSTANT, cos_ = MPCRT_SCHEDULE_COSINE, lin = MPCRT_SCHEDULE_LINEAR;
  CHECK(mpcrtLearningRate(c, 0.1, 0, 0, 100, 0) == 0.1 && mpcrtLearningRate(c, 0.1, 0.05, 0, 100, 99) == 0.1);
  /* Warmup from 0 over 10 updates, then the schedule. */
  CHECK(mpcrtLearningRate(c, 0.1, 0, 10, 100, 0) == 0);
  CHECK(near(mpcrtLearningRate(c, 0.1, 0, 10, 100, 5), 0.05));
  CHECK(mpcrtLearningRate(c, 0.1, 0, 10, 100, 10) == 0.1);
  CHECK(near(mpcrtLearningRate(cos_, 0.1, 0, 10, 100, 9), 0.09));
  /* Cosine: lr at the start, halfway at the middle, minLr at the end. */
  CHECK(mpcrtLearningRate(cos_, 0.1, 0, 0, 100, 0) == 0.1);
  CHECK(near(mpcrtLearningRate(cos_, 0.1, 0, 0, 100, 50), 0.05));
  CHECK(near(mpcrtLearningRate(cos_, 0.1, 0, 0, 100, 25), 0.05 * (1 + cos(M_PI / 4))));
  CHECK(near(mpcrtLearningRate(cos_, 0.1, 0.01, 0, 100, 50), 0.055));
  CHECK(near(mpcrtLearningRate(cos_, 0.1, 0.01, 0, 100, 100), 0.01));
  /* Cosine after a warmup of 20: the decay spans the other 80 updates. */
  CHECK(near(mpcrtLearningRate(cos_, 0.1, 0, 20, 100, 60), 0.05));
  CHECK(near(mpcrtLearningRate(cos_, 0.1, 0, 20, 100, 20), 0.1));
  /* Linear. */
  CHECK(near(mpcrtLearningRate(lin, 0.1, 0, 0, 100, 25), 0.075));
  CHECK(near(mpcrtLearningRate(lin, 0.1, 0.02, 0, 100, 50), 0.06));
  CHECK(near(mpcrtLearningRate(lin, 0.1, 0, 20, 100, 60), 0.05));
  CHECK(near(mpcrtLearningRate(lin, 0.1, 0, 20, 100, 10), 0.05));
  /* Past the end (skipped steps never get there; a resumed run may). */
  CHECK(near(mpcrtLearningRate(lin, 0.1, 0.01, 0, 100, 150), 0.01));
  CHECK(near(mpcrtLearningRate(cos_, 0.1, 0, 100, 100, 100), 0));
}

static bool isPermutation(const int64_t *p, int n) {
  char seen[256] = {0};
  for (int i = 0; i < n; ++i) {
    if (p[i] < 0 || p[i] >= n || seen[p[i]])
      return false;
    seen[p[i]] = 1;
  }
  return true;
}

static void testShuffle(void) {
  printf("@testShuffle\n");
  int64_t a[50], b[50], c[50], d[50];
  mpcrtShuffle(0, 0, 50, a);
  mpcrtShuffle(0, 1, 50, b);
  mpcrtShuffle(0, 0, 50, c);
  mpcrtShuffle(1, 0, 50, d);
  CHECK(isPermutation(a, 50) && isPermutation(b, 50) && isPermutation(d, 50));
  int fixed = 0;
  for (int i = 0; i < 50; ++i)
    fixed += a[i] == i;
  CHECK(fixed < 10);
  CHECK(!memcmp(a, c, sizeof a));
  CHECK(memcmp(a, b, sizeof a) != 0 && memcmp(a, d, sizeof a) != 0);
  int64_t one;
  mpcrtShuffle(0, 0, 1, &one);
  CHECK(one == 0);
}

static void testTraining(void) {
  printf("@testTraining\n");
  writeData("x.npy", "y.npy", 40, 0, 0);
  CHECK(train(&full, "--input", pair("x", "x.npy"), "--input", pair("y", "y.npy"), "--steps", "200", "--lr", "0.02",
              "--quiet", "--log", path("train.csv"), "--save", path("train.safetensors"), NULL) == 0);
  CHECK(!strncmp(outText, "trained 200 steps in ", 21) && strstr(outText, " steps/s): final loss ") &&
        strstr(outText, ", 0 skipped\n") && countLines(outText) == 1);
  CHECK(errText[0] == '\0'); /* --quiet */
  static char log[1 << 16];
  char row[256];
  readText(path("train.csv"), log, sizeof log);
  CHECK(!strcmp(logRow(log, 0, row, sizeof row), "step,loss,loss_scale,skipped"));
  CHECK(countLines(log) == 201);
  /* The scale doubles after every 4 steps that were not skipped. */
  CHECK(!strncmp(logRow(log, 1, row, sizeof row), "1,", 2) && strstr(row, ",1024,0"));
  CHECK(strstr(logRow(log, 3, row, sizeof row), ",1024,0") && strstr(logRow(log, 4, row, sizeof row), ",2048,0"));
  double first = atof(strchr(logRow(log, 1, row, sizeof row), ',') + 1);
  double last = atof(strchr(logRow(log, 200, row, sizeof row), ',') + 1);
  CHECK(!strncmp(row, "200,", 4) && last < first / 10);
  /* The final loss of the summary is the last row's. */
  char want[64];
  snprintf(want, sizeof want, "final loss %.6f,", last);
  CHECK(strstr(outText, want) != NULL);
  /* The checkpoint: parameters, state, then the trainer's counters. */
  MpcrtTensorSet ckpt;
  MpcrtError err;
  CHECK(mpcrtSafetensorsRead(path("train.safetensors"), &ckpt, &err));
  const char *keys[] = {"w", "b", "optimizer.step", "scaler", "trainer.step", "trainer.seed"};
  CHECK(ckpt.count == 6);
  for (size_t k = 0; k < 6 && k < ckpt.count; ++k)
    CHECK(!strcmp(ckpt.items[k].name, keys[k]));
  CHECK(tensorValue(&ckpt, "optimizer.step", 0) == 200 && tensorValue(&ckpt, "trainer.step", 0) == 200 &&
        tensorValue(&ckpt, "trainer.seed", 0) == 0);
  CHECK(fabs(tensorValue(&ckpt, "w", 0) - 2) < 0.2 && fabs(tensorValue(&ckpt, "b", 0) - 1) < 0.5);
  CHECK(mpcrtTensorSetFind(&ckpt, "trainer.step")->dtype == MPCRT_I64);
  mpcrtTensorSetFree(&ckpt);
  /* The default learning rate is the trainer's. */
  CHECK(train(&full, "--input", pair("x", "x.npy"), "--input", pair("y", "y.npy"), "--steps", "1", "--quiet",
              NULL) == 0);
  CHECK(calls == 1 && seenLr[0] == 0.02f);
  /* The saved checkpoint left no temporary file behind. */
  CHECK(access(path("train.safetensors.tmp.0"), F_OK) != 0);
}

static void testEpochs(void) {
  printf("@testEpochs\n");
  /* 10 samples in batches of 4: 2 steps an epoch, samples 8 and 9 dropped. */
  writeData("x10.npy", "y10.npy", 10, 0, 0);
  CHECK(train(&full, "--input", pair("x", "x10.npy"), "--input", pair("y", "y10.npy"), "--epochs", "3", "--quiet",
              "--log", path("epochs.csv"), NULL) == 0);
  CHECK(!strncmp(outText, "trained 6 steps in ", 19));
  static char log[4096];
  readText(path("epochs.csv"), log, sizeof log);
  CHECK(countLines(log) == 7);
  CHECK(calls == 6);
  int want[] = {0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3};
  CHECK(!memcmp(seenIds, want, sizeof want));
  int maxId = 0;
  for (int i = 0; i < calls * B; ++i)
    maxId = seenIds[i] > maxId ? seenIds[i] : maxId;
  CHECK(maxId == 7);
  /* --steps beyond an epoch wraps around in file order. */
  CHECK(train(&full, "--input", pair("x", "x10.npy"), "--input", pair("y", "y10.npy"), "--steps", "5", "--quiet",
              NULL) == 0);
  CHECK(calls == 5 && seenIds[4 * B] == 0 && seenIds[3 * B] == 4);
}

static void testShuffledBatches(void) {
  printf("@testShuffledBatches\n");
  writeData("x12.npy", "y12.npy", 12, 0, 0);
  for (int seed = 0; seed < 2; ++seed) {
    CHECK(train(&full, "--input", pair("x", "x12.npy"), "--input", pair("y", "y12.npy"), "--epochs", "2", "--shuffle",
                "--quiet", "--seed", seed ? "5" : "0", NULL) == 0);
    CHECK(calls == 6);
    for (int epoch = 0; epoch < 2; ++epoch) {
      int64_t perm[12];
      mpcrtShuffle(seed ? 5 : 0, epoch, 12, perm);
      CHECK(isPermutation(perm, 12));
      bool same = true, inOrder = true;
      for (int i = 0; i < 12; ++i) {
        same = same && seenIds[epoch * 12 + i] == perm[i];
        inOrder = inOrder && seenIds[epoch * 12 + i] == i;
      }
      CHECK(same && !inOrder);
    }
    CHECK(memcmp(seenIds, seenIds + 12, 12 * sizeof *seenIds) != 0); /* a new order each epoch */
  }
}

/* Steps 2 and 5 of 12 samples in batches of 4 hold a huge sample and skip:
 * they change nothing and do not advance the warmup. */
static void testSkipped(void) {
  printf("@testSkipped\n");
  writeData("xs.npy", "ys.npy", 12, 5, 6);
  for (int variant = 0; variant < 2; ++variant) {
    const MpcrtTrainer *t = variant ? &plain : &full;
    CHECK(train(t, "--input", pair("x", "xs.npy"), "--input", pair("y", "ys.npy"), "--steps", "6", "--lr", "0.04",
                "--warmup", "4", "--quiet", "--log", path("skip.csv"), "--save", path("skip.safetensors"), NULL) == 0);
    CHECK(calls == 6);
    float want[] = {0, 0.01f, 0.01f, 0.02f, 0.03f, 0.03f};
    for (int i = 0; i < 6; ++i)
      CHECK(fabsf(seenLr[i] - want[i]) < 1e-9f);
    CHECK(strstr(outText, ", 2 skipped\n") != NULL);
    static char log[4096];
    char row[256];
    readText(path("skip.csv"), log, sizeof log);
    const char *full6[] = {"1,*,1024,0", "2,inf,512,1", "3,*,512,0", "4,*,512,0", "5,inf,256,1", "6,*,256,0"};
    const char *plain6[] = {"1,*,1,0", "2,inf,1,1", "3,*,1,0", "4,*,1,0", "5,inf,1,1", "6,*,1,0"};
    for (int i = 0; i < 6; ++i) {
      const char *w = variant ? plain6[i] : full6[i];
      logRow(log, i + 1, row, sizeof row);
      const char *star = strchr(w, '*');
      bool ok = star ? !strncmp(row, w, (size_t)(star - w)) && strstr(row, star + 1) &&
                           !strcmp(row + strlen(row) - strlen(star + 1), star + 1)
                     : !strcmp(row, w);
      CHECK(ok);
    }
    MpcrtTensorSet ckpt;
    MpcrtError err;
    CHECK(mpcrtSafetensorsRead(path("skip.safetensors"), &ckpt, &err));
    CHECK(tensorValue(&ckpt, variant ? "trainer.updates" : "optimizer.step", 0) == 4);
    CHECK(tensorValue(&ckpt, "trainer.step", 0) == 6);
    CHECK(ckpt.count == (variant ? 5u : 6u));
    mpcrtTensorSetFree(&ckpt);
  }
}

/* 20 steps straight equal 10 steps, saved, and resumed to 20: checkpoints
 * byte for byte, logs row for row. 13 samples in batches of 4 (3 steps an
 * epoch): the resumed run starts mid-epoch, shuffled, in warmup, and meets
 * skipped steps on both sides. */
static void testResume(void) {
  printf("@testResume\n");
  writeData("xr.npy", "yr.npy", 13, 3, 4);
  for (int variant = 0; variant < 2; ++variant) {
    const MpcrtTrainer *t = variant ? &plain : &full;
    char x[1024], y[1024]; /* kept: pair() reuses its buffers */
    snprintf(x, sizeof x, "%s", pair("x", "xr.npy"));
    snprintf(y, sizeof y, "%s", pair("y", "yr.npy"));
    CHECK(train(t, "--input", x, "--input", y, "--steps", "20", "--shuffle", "--warmup", "12", "--seed", "3", "--lr",
                "0.03", "--quiet", "--save", path("straight.safetensors"), "--log", path("straight.csv"), NULL) == 0);
    CHECK(strstr(outText, "trained 20 steps") && !strstr(outText, " 0 skipped"));
    CHECK(train(t, "--input", x, "--input", y, "--steps", "10", "--shuffle", "--warmup", "12", "--seed", "3", "--lr",
                "0.03", "--quiet", "--save", path("half.safetensors"), "--log", path("resumed.csv"), NULL) == 0);
    CHECK(train(t, "--input", x, "--input", y, "--steps", "20", "--shuffle", "--warmup", "12", "--lr", "0.03",
                "--quiet", "--resume", path("half.safetensors"), "--save", path("resumed.safetensors"), "--log",
                path("resumed.csv"), NULL) == 0);
    CHECK(strstr(outText, "trained 10 steps") != NULL);
    CHECK(sameFiles(path("straight.safetensors"), path("resumed.safetensors")));
    CHECK(sameFiles(path("straight.csv"), path("resumed.csv")));
    /* A resumed run with a new log starts it with the header. */
    remove(path("new.csv"));
    CHECK(train(t, "--input", x, "--input", y, "--steps", "12", "--shuffle", "--warmup", "12", "--lr", "0.03",
                "--quiet", "--resume", path("half.safetensors"), "--log", path("new.csv"), NULL) == 0);
    static char log[4096];
    readText(path("new.csv"), log, sizeof log);
    CHECK(!strncmp(log, "step,loss,loss_scale,skipped\n11,", 32) && countLines(log) == 3);
    /* Resuming at the end does nothing; before it is an error. */
    CHECK(train(t, "--input", x, "--input", y, "--steps", "10", "--quiet", "--resume", path("half.safetensors"),
                NULL) == 0);
    CHECK(!strncmp(outText, "trained 0 steps", 15));
    CHECK_FAILS(1, "half.safetensors: trainer.step is 10, expected 0 to 9", t, "--input", x, "--input", y, "--steps",
                "9", "--resume", path("half.safetensors"));
  }
}

static void testEval(void) {
  printf("@testEval\n");
  /* Known parameters and --lr 0: the loss over the 2 full batches of 10
   * held-out samples, computed here the same way. */
  writeData("xe.npy", "ye.npy", 10, 0, 0);
  writeCheckpoint("half-ones.safetensors", (const char *const[]){"w", "b", "extra"}, 3);
  CHECK(train(&full, "--input", pair("x", "x.npy"), "--input", pair("y", "y.npy"), "--steps", "1", "--lr", "0",
              "--init", path("half-ones.safetensors"), "--eval", pair("x", "xe.npy"), "--eval", pair("y", "ye.npy"),
              "--quiet", NULL) == 0);
  MpcrtTensor x, y;
  MpcrtError err;
  CHECK(mpcrtNpyRead(path("xe.npy"), &x, &err) && mpcrtNpyRead(path("ye.npy"), &y, &err));
  float w[3] = {0.5f, 0.5f, 0.5f}, b[1] = {0.5f}, gw[3], gb;
  double sum = mse(x.data, y.data, w, b, gw, &gb) + mse((float *)x.data + B * 3, (float *)y.data + B, w, b, gw, &gb);
  mpcrtTensorFree(&x);
  mpcrtTensorFree(&y);
  char want[128];
  snprintf(want, sizeof want, "\neval: loss %.6f over 2 batches (8 samples)\n", sum / 2);
  CHECK(strstr(outText, want) != NULL && countLines(outText) == 2);
  /* Errors. */
  CHECK_FAILS(1, "no --eval y=FILE for the model's input 'y'", &full, "--input", pair("x", "x.npy"), "--input",
              pair("y", "y.npy"), "--steps", "1", "--eval", pair("x", "xe.npy"));
  CHECK_FAILS(1, "--eval z: the model has no input named 'z'", &full, "--input", pair("x", "x.npy"), "--input",
              pair("y", "y.npy"), "--steps", "1", "--eval", pair("z", "xe.npy"));
  writeData("xe3.npy", "ye3.npy", 3, 0, 0);
  CHECK_FAILS(1, "xe3.npy: expected at least 4 samples (one batch of input 'x'), found 3", &full, "--input",
              pair("x", "x.npy"), "--input", pair("y", "y.npy"), "--steps", "1", "--eval", pair("x", "xe3.npy"),
              "--eval", pair("y", "ye3.npy"));
  CHECK_FAILS(1, "--eval: trainer 'plain' has no forward function", &plain, "--input", pair("x", "x.npy"), "--input",
              pair("y", "y.npy"), "--steps", "1", "--eval", pair("x", "xe.npy"), "--eval", pair("y", "ye.npy"));
}

static void testInit(void) {
  printf("@testInit\n");
  /* Without --init the parameters follow their rules, seeded. */
  for (int seed = 0; seed < 3; ++seed) {
    char name[64];
    snprintf(name, sizeof name, "seed%d.safetensors", seed);
    CHECK(train(&full, "--input", pair("x", "x.npy"), "--input", pair("y", "y.npy"), "--steps", "1", "--lr", "0",
                "--quiet", "--seed", seed == 2 ? "7" : "1", "--save", path(name), NULL) == 0);
  }
  CHECK(sameFiles(path("seed0.safetensors"), path("seed1.safetensors")));
  CHECK(!sameFiles(path("seed0.safetensors"), path("seed2.safetensors")));
  MpcrtTensorSet ckpt;
  MpcrtError err;
  CHECK(mpcrtSafetensorsRead(path("seed2.safetensors"), &ckpt, &err));
  MpcrtTensor w;
  MpcrtRng rng;
  mpcrtTensorAlloc(&w, MPCRT_F32, 1, (int64_t[]){3}, &err);
  mpcrtRngSeedFor(&rng, 7, "w");
  mpcrtInitTensor(&w, MPCRT_INIT_KAIMING_UNIFORM, 3, &rng, &err);
  CHECK(!memcmp(w.data, mpcrtTensorSetFind(&ckpt, "w")->data, 12));
  CHECK(tensorValue(&ckpt, "b", 0) == 0 && tensorValue(&ckpt, "trainer.seed", 0) == 7);
  CHECK(tensorValue(&ckpt, "scaler", 0) == INIT_SCALE && tensorValue(&ckpt, "scaler", 1) == 1);
  mpcrtTensorFree(&w);
  mpcrtTensorSetFree(&ckpt);
  /* --init takes the parameters by name, converting their type. */
  MpcrtTensorSet set = {0};
  MpcrtTensor t;
  mpcrtTensorAlloc(&t, MPCRT_F64, 1, (int64_t[]){3}, &err);
  mpcrtTensorSetAdd(&set, "w", t);
  CHECK(mpcrtSafetensorsWrite(path("only-w.safetensors"), &set, &err));
  mpcrtTensorAlloc(&t, MPCRT_BF16, 1, (int64_t[]){1}, &err);
  mpcrtTensorSetAdd(&set, "b", t);
  CHECK(mpcrtSafetensorsWrite(path("bf16-b.safetensors"), &set, &err));
  mpcrtTensorSetFree(&set);
  CHECK(train(&full, "--input", pair("x", "x.npy"), "--input", pair("y", "y.npy"), "--steps", "1", "--quiet", "--init",
              path("bf16-b.safetensors"), NULL) == 0);
  CHECK_FAILS(1, "only-w.safetensors: no tensor 'b' (a parameter of the model)", &full, "--input", pair("x", "x.npy"),
              "--input", pair("y", "y.npy"), "--steps", "1", "--init", path("only-w.safetensors"));
  mpcrtTensorAlloc(&t, MPCRT_F32, 1, (int64_t[]){4}, &err);
  mpcrtTensorSetAdd(&set, "w", t);
  CHECK(mpcrtSafetensorsWrite(path("wide-w.safetensors"), &set, &err));
  mpcrtTensorSetFree(&set);
  CHECK_FAILS(1, "wide-w.safetensors: expected 3xf32 for parameter 'w', found 4xf32", &full, "--input",
              pair("x", "x.npy"), "--input", pair("y", "y.npy"), "--steps", "1", "--init", path("wide-w.safetensors"));
}

/* Data files of other shapes and types: only the element count of a sample
 * must match; uint8 feeding a float input is divided by 255. */
static void testDataShapes(void) {
  printf("@testDataShapes\n");
  unsigned char idx[4 + 12 + 8 * 3];
  memcpy(idx, (unsigned char[]){0, 0, 0x08, 3, 0, 0, 0, 8, 0, 0, 0, 3, 0, 0, 0, 1}, 16);
  for (int i = 0; i < 24; ++i)
    idx[16 + i] = (unsigned char)(i % 3 == 0 ? (i / 3) * 255 / 8 : 0);
  FILE *f = fopen(path("x8.idx"), "wb");
  fwrite(idx, 1, 16 + 24, f);
  fclose(f);
  writeData("x8.npy", "y8.npy", 8, 0, 0);
  CHECK(train(&full, "--input", pair("x", "x8.idx"), "--input", pair("y", "y8.npy"), "--steps", "2", "--quiet",
              NULL) == 0);
  int want[] = {0, 1, 2, 3, 4, 5, 6, 7}; /* x[0] = i * 255 / 8 / 255: about i / 8 */
  CHECK(calls == 2 && !memcmp(seenIds, want, sizeof want));
  /* Integer labels feed a float input. */
  writeTensor("y8i.npy", MPCRT_I32, 1, (int64_t[]){8});
  CHECK(train(&full, "--input", pair("x", "x8.npy"), "--input", pair("y", "y8i.npy"), "--steps", "1", "--quiet",
              NULL) == 0);
}

static void testErrors(void) {
  printf("@testErrors\n");
  char x[1024], y[1024]; /* kept: pair() reuses its buffers */
  snprintf(x, sizeof x, "%s", pair("x", "x10.npy"));
  snprintf(y, sizeof y, "%s", pair("y", "y10.npy"));
  CHECK_FAILS(1, "trainer: error: no --input y=FILE for the model's input 'y'", &full, "--input", x, "--steps", "1");
  CHECK_FAILS(1, "--input z: the model has no input named 'z'", &full, "--input", x, "--input", y, "--input",
              pair("z", "x10.npy"), "--steps", "1");
  CHECK_FAILS(1, "missing.npy: cannot open: No such file", &full, "--input", pair("x", "missing.npy"), "--input", y,
              "--steps", "1");
  writeTensor("xwide.npy", MPCRT_F32, 2, (int64_t[]){10, 4});
  CHECK_FAILS(1, "xwide.npy: expected samples of 3 elements for input 'x' (batches of 4x3xf32), found 10x4xf32", &full,
              "--input", pair("x", "xwide.npy"), "--input", y, "--steps", "1");
  writeTensor("scalar.npy", MPCRT_F32, 0, NULL);
  CHECK_FAILS(1, "scalar.npy: expected samples of 3 elements for input 'x' (batches of 4x3xf32), found f32", &full,
              "--input", pair("x", "scalar.npy"), "--input", y, "--steps", "1");
  writeTensor("yf64.npy", MPCRT_F64, 1, (int64_t[]){10});
  CHECK(train(&full, "--input", x, "--input", pair("y", "yf64.npy"), "--steps", "1", "--quiet", NULL) == 0);
  writeData("x3.npy", "y3.npy", 3, 0, 0);
  CHECK_FAILS(1, "x3.npy: expected at least 4 samples (one batch of input 'x'), found 3", &full, "--input",
              pair("x", "x3.npy"), "--input", pair("y", "y3.npy"), "--steps", "1");
  writeTensor("y9.npy", MPCRT_F32, 1, (int64_t[]){9});
  CHECK_FAILS(1, "y9.npy: expected 10 samples (as in ", &full, "--input", x, "--input", pair("y", "y9.npy"),
              "--steps", "1");
  CHECK(strstr(errText, "x10.npy), found 9") != NULL);
  /* Flags: two lines, the error and the usage. */
  CHECK_FAILS(2, "trainer: error: give --steps N or --epochs E\nusage: trainer --input NAME=FILE", &full, "--input", x,
              "--input", y);
  CHECK_FAILS(2, "give --steps N or --epochs E, not both", &full, "--input", x, "--input", y, "--steps", "1",
              "--epochs", "1");
  CHECK_FAILS(2, "--steps takes a count from 1 to 1000000000000, got '0'", &full, "--steps", "0");
  CHECK_FAILS(2, "--steps takes a count from 1 to 1000000000000, got '12x'", &full, "--steps", "12x");
  CHECK_FAILS(2, "--epochs takes a count from 1 to 1000000, got '1e3'", &full, "--epochs", "1e3");
  CHECK_FAILS(2, "--warmup takes a count from 0 to 1000000000000, got '-1'", &full, "--warmup", "-1");
  CHECK_FAILS(2, "--lr takes a non-negative number, got '-0.1'", &full, "--lr", "-0.1");
  CHECK_FAILS(2, "--lr takes a non-negative number, got 'nan'", &full, "--lr", "nan");
  CHECK_FAILS(2, "--min-lr takes a non-negative number, got ''", &full, "--min-lr", "");
  CHECK_FAILS(2, "--seed takes a non-negative integer, got '-3'", &full, "--seed", "-3");
  CHECK_FAILS(2, "--schedule takes constant, cosine or linear, got 'step'", &full, "--schedule", "step");
  CHECK_FAILS(2, "--input takes NAME=FILE, got 'x'", &full, "--input", "x");
  CHECK_FAILS(2, "--input x=... is given twice", &full, "--input", x, "--input", x);
  CHECK_FAILS(2, "unknown option '--batch'", &full, "--batch", "4");
  CHECK_FAILS(2, "--log needs a value", &full, "--steps", "1", "--log");
  CHECK_FAILS(2, "--init and --resume cannot be combined", &full, "--steps", "1", "--init", "a", "--resume", "b");
  /* Checkpoints. */
  const char *noScaler[] = {"w", "b", "optimizer.step", "trainer.step", "trainer.seed"};
  writeCheckpoint("no-scaler.safetensors", noScaler, 5);
  CHECK_FAILS(1, "no-scaler.safetensors: no tensor 'scaler' (a state of the trainer", &full, "--input", x, "--input",
              y, "--steps", "1", "--resume", path("no-scaler.safetensors"));
  const char *noStep[] = {"w", "b", "optimizer.step", "scaler", "trainer.seed"};
  writeCheckpoint("no-step.safetensors", noStep, 5);
  CHECK_FAILS(1, "no-step.safetensors: no tensor 'trainer.step'", &full, "--input", x, "--input", y, "--steps", "1",
              "--resume", path("no-step.safetensors"));
  CHECK_FAILS(1, "no-scaler.safetensors: no tensor 'trainer.updates'", &plain, "--input", x, "--input", y, "--steps",
              "1", "--resume", path("no-scaler.safetensors"));
  MpcrtTensorSet set = {0};
  MpcrtError err;
  CHECK(mpcrtSafetensorsRead(path("train.safetensors"), &set, &err));
  MpcrtTensor *scaler = &set.items[3].tensor;
  MpcrtTensor half;
  CHECK(mpcrtConvert(scaler, MPCRT_F16, &half, "scaler", &err));
  mpcrtTensorFree(scaler);
  *scaler = half;
  CHECK(mpcrtSafetensorsWrite(path("f16-scaler.safetensors"), &set, &err));
  mpcrtTensorSetFree(&set);
  CHECK_FAILS(1, "f16-scaler.safetensors: expected 2xf32 for state 'scaler', found 2xf16", &full, "--input", x,
              "--input", y, "--steps", "300", "--resume", path("f16-scaler.safetensors"));
  CHECK_FAILS(1, "nothing.safetensors: cannot open", &full, "--input", x, "--input", y, "--steps", "1", "--resume",
              path("nothing.safetensors"));
  /* Outputs that cannot be written fail before the training. */
  CHECK_FAILS(1, "no-dir/c.safetensors: cannot write", &full, "--input", x, "--input", y, "--steps", "1", "--save",
              path("no-dir/c.safetensors"));
  CHECK(calls == 0);
  CHECK_FAILS(1, "no-dir/log.csv: cannot write", &full, "--input", x, "--input", y, "--steps", "1", "--log",
              path("no-dir/log.csv"));
  CHECK(calls == 0);
}

static void testOutput(void) {
  printf("@testOutput\n");
  /* stderr is not a terminal: a progress line every 10% of the steps. */
  CHECK(train(&full, "--input", pair("x", "x.npy"), "--input", pair("y", "y.npy"), "--steps", "20", NULL) == 0);
  CHECK(countLines(errText) == 10 && !strncmp(errText, "step 2/20  loss ", 16));
  CHECK(strstr(errText, "\nstep 20/20  loss ") && strstr(errText, "  scale 2048  ") &&
        strstr(errText, " steps/s  ETA 0:00\n"));
  CHECK(train(&full, "--help", NULL) == 0);
  const char *usage = "usage: trainer --input NAME=FILE ... (--steps N | --epochs E)";
  CHECK(!strncmp(outText, usage, strlen(usage)));
  CHECK(strstr(outText, "'linear' (32-true, optimizer sgd, loss scaling dynamic)") != NULL);
  char want[256];
  snprintf(want, sizeof want, "  %-20s %s\n", "--lr LR", "the learning rate (default 0.02)");
  CHECK(strstr(outText, want) != NULL);
  snprintf(want, sizeof want, "\ninputs:\n  %-20s 4x3xf32\n  %-20s 4xf32\n", "x", "y");
  CHECK(strstr(outText, want) != NULL);
  snprintf(want, sizeof want, "\nparameters:\n  %-20s 3xf32 kaiming_uniform\n  %-20s 1xf32 zeros\n", "w", "b");
  CHECK(strstr(outText, want) != NULL);
  snprintf(want, sizeof want, "\nstate:\n  %-20s i64\n  %-20s 2xf32\n", "optimizer.step", "scaler");
  CHECK(strstr(outText, want) != NULL);
}

int main(int argc, char **argv) {
  dir = argc > 1 ? argv[1] : ".";
  testSchedule();
  testShuffle();
  testTraining();
  testEpochs();
  testShuffledBatches();
  testSkipped();
  testResume();
  testEval();
  testInit();
  testDataShapes();
  testErrors();
  testOutput();
  return MPC_CHECK_SUMMARY();
}
