/*===- training.c - training options and the training ops -------*- C -*-===*
 *
 * --loss-scale and --train values, and the verifier of the ops the training
 * passes create (docs/training.md):
 *
 *   mpc.scale_loss(x, scaler)           x * scale
 *   mpc.unscale(g, scaler)              g * (1/scale), the reciprocal in f64
 *   mpc.all_finite(g, ...)              tensor<i1>: no inf or NaN anywhere
 *   mpc.update_scale(scaler, finite)    GradScaler's update of [scale, growth tracker]
 *   mpc.count_update(count, finite)     count + 1 when finite
 *   mpc.sgd_update(p, g, lr, count, finite)
 *   mpc.sgd_momentum_update(p, g, buf, lr, count, finite) -> (p, buf)
 *   mpc.adamw_update(p, g, m, v, lr, count, finite) -> (p, m, v)
 *
 * `scaler` is tensor<2xf32>, `lr` tensor<f32>, `count` tensor<i64>,
 * `finite` tensor<i1>. Updates leave everything unchanged when `finite` is
 * false.
 *===----------------------------------------------------------------------===*/
#include "mpc/mpc.h"
#include "shape.h"
#include "support.h"

#include <errno.h>
#include <math.h>
#include <mlir-c/BuiltinAttributes.h>
#include <mlir-c/BuiltinTypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*---------------------------------------------------------------------------
 * Flags
 *---------------------------------------------------------------------------*/

static bool parseNumber(const char *text, size_t len, double *out) {
  char buf[64];
  if (len == 0 || len >= sizeof buf)
    return false;
  memcpy(buf, text, len);
  buf[len] = '\0';
  char *end;
  errno = 0;
  *out = strtod(buf, &end);
  return *end == '\0' && !errno && isfinite(*out);
}

/* Walks "key=value,key=value"; calls set() for each pair. */
typedef bool (*SetFn)(void *target, const char *key, size_t keyLen, double value, const char *raw, size_t rawLen,
                      char *error, size_t errorSize);

static bool parsePairs(const char *text, const char *flag, void *target, SetFn set, char *error, size_t errorSize) {
  const char *p = text;
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    if (!eq || eq == p) {
      snprintf(error, errorSize, "%s: expected KEY=VALUE, got '%.*s'", flag, (int)len, p);
      return false;
    }
    size_t keyLen = (size_t)(eq - p), rawLen = len - keyLen - 1;
    double v = NAN;
    parseNumber(eq + 1, rawLen, &v);
    if (!set(target, p, keyLen, v, eq + 1, rawLen, error, errorSize))
      return false;
    p += len + (comma ? 1 : 0);
    if (comma && !*p) {
      snprintf(error, errorSize, "%s: trailing ','", flag);
      return false;
    }
  }
  return true;
}

static bool keyIs(const char *key, size_t len, const char *name) { return strlen(name) == len && !strncmp(key, name, len); }

static bool setScale(void *target, const char *key, size_t keyLen, double v, const char *raw, size_t rawLen,
                     char *error, size_t errorSize) {
  MpcLossScale *ls = target;
  const char *bad = NULL;
  if (keyIs(key, keyLen, "init")) {
    if (!(v > 0))
      bad = "a positive number";
    ls->init = v;
  } else if (keyIs(key, keyLen, "growth")) {
    if (!(v > 1))
      bad = "a number above 1";
    ls->growth = v;
  } else if (keyIs(key, keyLen, "backoff")) {
    if (!(v > 0 && v < 1))
      bad = "a number between 0 and 1";
    ls->backoff = v;
  } else if (keyIs(key, keyLen, "interval")) {
    if (!(v >= 1 && v == floor(v) && v < 1e12))
      bad = "a positive integer";
    ls->interval = (int64_t)v;
  } else {
    snprintf(error, errorSize, "--loss-scale: unknown key '%.*s' (allowed: init, growth, backoff, interval)",
             (int)keyLen, key);
    return false;
  }
  if (bad) {
    snprintf(error, errorSize, "--loss-scale: %.*s must be %s, got '%.*s'", (int)keyLen, key, bad, (int)rawLen, raw);
    return false;
  }
  return true;
}

bool mpcLossScaleParse(const char *text, MpcLossScale *out, char *error, size_t errorSize) {
  *out = (MpcLossScale){MPC_SCALE_DEFAULT, 65536.0, 2.0, 0.5, 2000};
  if (!strcmp(text, "none")) {
    out->kind = MPC_SCALE_NONE;
    return true;
  }
  if (!strncmp(text, "static:", 7)) {
    double v;
    if (!parseNumber(text + 7, strlen(text + 7), &v) || !(v > 0)) {
      snprintf(error, errorSize, "--loss-scale: static needs a positive scale, got '%s'", text + 7);
      return false;
    }
    out->kind = MPC_SCALE_STATIC;
    out->init = v;
    return true;
  }
  if (!strcmp(text, "dynamic") || !strncmp(text, "dynamic:", 8)) {
    out->kind = MPC_SCALE_DYNAMIC;
    return parsePairs(text[7] ? text + 8 : "", "--loss-scale", out, setScale, error, errorSize);
  }
  snprintf(error, errorSize,
           "unknown --loss-scale '%s' (allowed: dynamic, dynamic:init=V,growth=V,backoff=V,interval=N, static:VALUE, "
           "none)",
           text);
  return false;
}

MpcLossScaleKind mpcLossScaleResolve(const MpcLossScale *ls, MpcPrecisionMode mode) {
  if (ls->kind != MPC_SCALE_DEFAULT)
    return ls->kind;
  return mode == MPC_MODE_16_MIXED ? MPC_SCALE_DYNAMIC : MPC_SCALE_NONE;
}

static bool setOpt(void *target, const char *key, size_t keyLen, double v, const char *raw, size_t rawLen,
                   char *error, size_t errorSize) {
  MpcOptimizer *o = target;
  bool sgd = o->kind == MPC_OPT_SGD;
  const char *bad = NULL;
  if (keyIs(key, keyLen, "lr")) {
    if (!(v > 0))
      bad = "a positive number";
    o->lr = v;
  } else if (keyIs(key, keyLen, "weight_decay")) {
    if (!(v >= 0))
      bad = "a number >= 0";
    o->weightDecay = v;
  } else if (keyIs(key, keyLen, "rounding")) {
    if (keyIs(raw, rawLen, "stochastic"))
      o->stochasticRounding = true;
    else if (keyIs(raw, rawLen, "nearest"))
      o->stochasticRounding = false;
    else
      bad = "'nearest' or 'stochastic'";
  } else if (sgd && keyIs(key, keyLen, "momentum")) {
    if (!(v >= 0 && v < 1))
      bad = "a number in [0, 1)";
    o->momentum = v;
  } else if (sgd && keyIs(key, keyLen, "dampening")) {
    if (!(v >= 0 && v <= 1))
      bad = "a number in [0, 1]";
    o->dampening = v;
  } else if (sgd && keyIs(key, keyLen, "nesterov")) {
    if (keyIs(raw, rawLen, "true"))
      o->nesterov = true;
    else if (keyIs(raw, rawLen, "false"))
      o->nesterov = false;
    else
      bad = "true or false";
  } else if (!sgd && keyIs(key, keyLen, "beta1")) {
    if (!(v >= 0 && v < 1))
      bad = "a number in [0, 1)";
    o->beta1 = v;
  } else if (!sgd && keyIs(key, keyLen, "beta2")) {
    if (!(v >= 0 && v < 1))
      bad = "a number in [0, 1)";
    o->beta2 = v;
  } else if (!sgd && keyIs(key, keyLen, "eps")) {
    if (!(v > 0))
      bad = "a positive number";
    o->eps = v;
  } else {
    snprintf(error, errorSize, "--train: unknown key '%.*s' for %s (allowed: %s)", (int)keyLen, key,
             sgd ? "sgd" : "adamw",
             sgd ? "lr, momentum, dampening, nesterov, weight_decay, rounding"
                 : "lr, beta1, beta2, eps, weight_decay, rounding");
    return false;
  }
  if (bad) {
    snprintf(error, errorSize, "--train: %.*s must be %s, got '%.*s'", (int)keyLen, key, bad, (int)rawLen, raw);
    return false;
  }
  return true;
}

bool mpcOptimizerParse(const char *text, MpcOptimizer *out, char *error, size_t errorSize) {
  const char *colon = strchr(text, ':');
  size_t len = colon ? (size_t)(colon - text) : strlen(text);
  *out = (MpcOptimizer){.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
  if (keyIs(text, len, "sgd")) {
    out->kind = MPC_OPT_SGD;
    out->lr = 0.01;
  } else if (keyIs(text, len, "momentum")) {
    out->kind = MPC_OPT_SGD;
    out->lr = 0.01;
    out->momentum = 0.9;
  } else if (keyIs(text, len, "adamw")) {
    out->kind = MPC_OPT_ADAMW;
    out->lr = 1e-3;
    out->weightDecay = 0.01;
  } else {
    snprintf(error, errorSize, "unknown --train '%.*s' (allowed: sgd, momentum, adamw, each optionally followed by "
             ":key=value,...)", (int)len, text);
    return false;
  }
  if (!colon)
    return true;
  if (!colon[1]) {
    snprintf(error, errorSize, "--train: nothing after ':'");
    return false;
  }
  if (!parsePairs(colon + 1, "--train", out, setOpt, error, errorSize))
    return false;
  if (out->nesterov && out->momentum == 0) {
    snprintf(error, errorSize, "--train: nesterov needs momentum > 0");
    return false;
  }
  if (out->nesterov && out->dampening != 0) {
    snprintf(error, errorSize, "--train: nesterov needs dampening = 0 (as in PyTorch)");
    return false;
  }
  return true;
}

/*---------------------------------------------------------------------------
 * The training ops
 *---------------------------------------------------------------------------*/

typedef enum { K_ANY_FLOAT, K_SCALER, K_LR, K_COUNT, K_FINITE } Kind;

typedef struct {
  const char *name;
  const char *operands; /* one letter per operand: f float tensor (all the same), s scaler, l lr, c count, b finite,
                           '*' variadic floats */
  const char *results;  /* f (same as the first operand), b, c, s */
  const char *attrs;    /* "name:f64 name:i64 name:bool name:rounding" */
} TrainOp;

static const TrainOp trainOps[] = {
    {"scale_loss", "fs", "f", ""},
    {"unscale", "fs", "f", ""},
    {"all_finite", "*", "b", ""},
    {"update_scale", "sb", "s", "growth:f64 backoff:f64 interval:i64"},
    {"count_update", "cb", "c", ""},
    {"sgd_update", "fflcb", "f", "weight_decay:f64 rounding:rounding seed:i64"},
    {"sgd_momentum_update", "ffflcb", "ff",
     "momentum:f64 dampening:f64 nesterov:bool weight_decay:f64 rounding:rounding seed:i64"},
    {"adamw_update", "fffflcb", "fff", "beta1:f64 beta2:f64 eps:f64 weight_decay:f64 rounding:rounding seed:i64"},
};

static const TrainOp *findTrainOp(MlirStringRef name) {
  if (name.length <= 4 || strncmp(name.data, "mpc.", 4))
    return NULL;
  for (size_t i = 0; i < sizeof trainOps / sizeof trainOps[0]; ++i)
    if (strlen(trainOps[i].name) == name.length - 4 && !strncmp(trainOps[i].name, name.data + 4, name.length - 4))
      return &trainOps[i];
  return NULL;
}

bool mpcIsTrainOpName(MlirStringRef name) { return findTrainOp(name) != NULL; }

static bool isTensorOf(MlirType t, MpcEltKind k, int rank, int64_t dim0) {
  MpcShape s;
  if (!mpcShapeOf(t, &s) || s.rank != rank || (rank == 1 && s.dims[0] != dim0))
    return false;
  return mpcEltKindOf(mlirShapedTypeGetElementType(t)) == k;
}

static const char *kindText(char k) {
  switch (k) {
  case 's': return "the scaler state, tensor<2xf32>";
  case 'l': return "the learning rate, tensor<f32>";
  case 'c': return "the update count, tensor<i64>";
  case 'b': return "the finite flag, tensor<i1>";
  default: return "a float tensor";
  }
}

static bool checkKind(MlirOperation op, char k, MlirType t, MlirType first, const char *what, int i) {
  bool good;
  switch (k) {
  case 's': good = isTensorOf(t, MPC_ELT_F32, 1, 2); break;
  case 'l': good = isTensorOf(t, MPC_ELT_F32, 0, 0); break;
  case 'c': good = isTensorOf(t, MPC_ELT_I64, 0, 0); break;
  case 'b': good = isTensorOf(t, MPC_ELT_I1, 0, 0); break;
  default: {
    MpcShape s;
    good = mpcShapeOf(t, &s) && mpcEltIsFloat(mpcEltKindOf(mlirShapedTypeGetElementType(t)));
    if (good && !mlirTypeIsNull(first) && k == 'f' && !mlirTypeEqual(t, first)) {
      char a[96], b[96];
      mpcOpEmitError(op, "%s #%d must have the type of the first operand, '%s', got '%s'", what, i,
                     mpcTypeToString(first, a, sizeof a), mpcTypeToString(t, b, sizeof b));
      return false;
    }
  }
  }
  if (!good) {
    char a[96];
    mpcOpEmitError(op, "%s #%d must be %s, got '%s'", what, i, kindText(k), mpcTypeToString(t, a, sizeof a));
    return false;
  }
  return true;
}

static bool checkAttrs(MlirOperation op, const char *spec) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", spec);
  for (char *save, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
    char *colon = strchr(w, ':');
    *colon = '\0';
    const char *kind = colon + 1;
    MlirAttribute a = mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString(w));
    bool good = !mlirAttributeIsNull(a);
    const char *want = kind;
    if (good && !strcmp(kind, "f64"))
      good = mlirAttributeIsAFloat(a);
    else if (good && !strcmp(kind, "i64"))
      good = mlirAttributeIsAInteger(a);
    else if (good && !strcmp(kind, "bool"))
      good = mlirAttributeIsABool(a);
    else if (good && !strcmp(kind, "rounding")) {
      want = "\"nearest\" or \"stochastic\"";
      good = mlirAttributeIsAString(a);
      if (good) {
        MlirStringRef v = mlirStringAttrGetValue(a);
        good = (v.length == 7 && !strncmp(v.data, "nearest", 7)) || (v.length == 10 && !strncmp(v.data, "stochastic", 10));
      }
    }
    if (!good) {
      mpcOpEmitError(op, "requires attribute '%s' (%s)", w, want);
      return false;
    }
  }
  return true;
}

bool mpcVerifyTrainOp(MlirOperation op, bool *ok) {
  const TrainOp *t = findTrainOp(mlirIdentifierStr(mlirOperationGetName(op)));
  if (!t)
    return false;
  *ok = false;
  intptr_t n = mlirOperationGetNumOperands(op), r = mlirOperationGetNumResults(op);
  bool variadic = t->operands[0] == '*';
  if (variadic ? n < 1 : n != (intptr_t)strlen(t->operands)) {
    if (variadic)
      mpcOpEmitError(op, "takes one or more float tensors, got %lld operands", (long long)n);
    else
      mpcOpEmitError(op, "takes %zu operands, got %lld", strlen(t->operands), (long long)n);
    return true;
  }
  if (r != (intptr_t)strlen(t->results)) {
    mpcOpEmitError(op, "has %zu result%s, got %lld", strlen(t->results), strlen(t->results) == 1 ? "" : "s",
                   (long long)r);
    return true;
  }
  MlirType first = (MlirType){NULL};
  for (intptr_t i = 0; i < n; ++i) {
    char k = variadic ? 'g' : t->operands[i];
    MlirType ty = mlirValueGetType(mlirOperationGetOperand(op, i));
    if (!checkKind(op, k, ty, first, "operand", (int)i))
      return true;
    if (k == 'f' && mlirTypeIsNull(first))
      first = ty;
  }
  for (intptr_t i = 0; i < r; ++i) {
    char k = t->results[i];
    MlirType ty = mlirValueGetType(mlirOperationGetResult(op, i));
    if (k == 'f') {
      /* Each float result has the type of the operand it updates. */
      MlirType want = mlirValueGetType(mlirOperationGetOperand(op, i == 0 ? 0 : i + 1));
      if (!mlirTypeEqual(ty, want)) {
        char a[96], b[96];
        mpcOpEmitError(op, "result #%d must be '%s', got '%s'", (int)i, mpcTypeToString(want, a, sizeof a),
                       mpcTypeToString(ty, b, sizeof b));
        return true;
      }
    } else if (!checkKind(op, k, ty, (MlirType){NULL}, "result", (int)i)) {
      return true;
    }
  }
  *ok = checkAttrs(op, t->attrs);
  return true;
}
