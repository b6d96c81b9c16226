/*===- precision.c - float types, precision modes, policy options -*- C -*-===*/
#include "mpc/mpc.h"
#include "support.h"

#include <ctype.h>
#include <errno.h>
#include <mlir-c/BuiltinTypes.h>
#include <string.h>

/*---------------------------------------------------------------------------
 * Float types
 *---------------------------------------------------------------------------*/

static const struct {
  const char *name;
  int bytes;
  double max, minSubnormal;
} floatTraits[MPC_FLOAT_COUNT] = {
    [MPC_F16] = {.name = "f16", .bytes = 2, .max = 65504.0, .minSubnormal = 5.9604644775390625e-08},
    [MPC_BF16] = {.name = "bf16", .bytes = 2, .max = 3.3895313892515355e+38, .minSubnormal = 9.183549615799121e-41},
    [MPC_F32] = {.name = "f32", .bytes = 4, .max = 3.4028234663852886e+38, .minSubnormal = 1.401298464324817e-45},
    [MPC_F64] = {.name = "f64", .bytes = 8, .max = 1.7976931348623157e+308, .minSubnormal = 4.9406564584124654e-324},
};

const char *mpcFloatTypeName(MpcFloatType t) { return floatTraits[t].name; }
int mpcFloatTypeBytes(MpcFloatType t) { return floatTraits[t].bytes; }
MpcFloatType mpcFloatTypePromote(MpcFloatType a, MpcFloatType b) {
  if (a == b)
    return a;
  if (floatTraits[a].bytes == floatTraits[b].bytes)
    return MPC_F32; /* f16 with bf16 */
  return floatTraits[a].bytes > floatTraits[b].bytes ? a : b;
}

double mpcFloatTypeMax(MpcFloatType t) { return floatTraits[t].max; }
double mpcFloatTypeMinSubnormal(MpcFloatType t) { return floatTraits[t].minSubnormal; }

MlirType mpcFloatTypeGet(MlirContext ctx, MpcFloatType t) {
  switch (t) {
  case MPC_F16: return mlirF16TypeGet(ctx);
  case MPC_BF16: return mlirBF16TypeGet(ctx);
  case MPC_F32: return mlirF32TypeGet(ctx);
  case MPC_F64: return mlirF64TypeGet(ctx);
  case MPC_FLOAT_COUNT: break;
  }
  MPC_UNREACHABLE("mpcFloatTypeGet: not a float type");
}

bool mpcFloatTypeOf(MlirType type, MpcFloatType *out) {
  if (mlirTypeIsAF16(type)) *out = MPC_F16;
  else if (mlirTypeIsABF16(type)) *out = MPC_BF16;
  else if (mlirTypeIsAF32(type)) *out = MPC_F32;
  else if (mlirTypeIsAF64(type)) *out = MPC_F64;
  else return false;
  return true;
}

bool mpcFloatTypeFromName(MlirStringRef name, MpcFloatType *out) {
  for (int t = 0; t < MPC_FLOAT_COUNT; ++t)
    if (strlen(floatTraits[t].name) == name.length && !strncmp(floatTraits[t].name, name.data, name.length)) {
      *out = (MpcFloatType)t;
      return true;
    }
  return false;
}

/*---------------------------------------------------------------------------
 * Modes: Lightning's spellings, legacy aliases included
 *---------------------------------------------------------------------------*/

static const MpcModeInfo modes[MPC_MODE_COUNT] = {
    [MPC_MODE_32_TRUE] = {.name = "32-true", .alias = "32", .mixed = false, .low = MPC_F32, .params = MPC_F32},
    [MPC_MODE_16_MIXED] = {.name = "16-mixed", .alias = "16", .aliasDeprecated = true, .mixed = true,
                           .low = MPC_F16, .params = MPC_F32},
    [MPC_MODE_BF16_MIXED] = {.name = "bf16-mixed", .alias = "bf16", .aliasDeprecated = true, .mixed = true,
                             .low = MPC_BF16, .params = MPC_F32},
    [MPC_MODE_16_TRUE] = {.name = "16-true", .mixed = false, .low = MPC_F16, .params = MPC_F16},
    [MPC_MODE_BF16_TRUE] = {.name = "bf16-true", .mixed = false, .low = MPC_BF16, .params = MPC_BF16},
    [MPC_MODE_64_TRUE] = {.name = "64-true", .alias = "64", .mixed = false, .low = MPC_F64, .params = MPC_F64},
};

const MpcModeInfo *mpcModeInfoGet(MpcPrecisionMode mode) { return &modes[mode]; }

bool mpcModeParse(const char *text, MpcPrecisionMode *mode, bool *deprecated) {
  for (int m = 0; m < MPC_MODE_COUNT; ++m) {
    if (!strcmp(text, modes[m].name)) {
      *mode = (MpcPrecisionMode)m;
      *deprecated = false;
      return true;
    }
    if (modes[m].alias && !strcmp(text, modes[m].alias)) {
      *mode = (MpcPrecisionMode)m;
      *deprecated = modes[m].aliasDeprecated;
      return true;
    }
  }
  return false;
}

const char *mpcModeAllowedList(void) {
  static char list[160];
  if (!list[0]) {
    size_t used = 0;
    for (int m = 0; m < MPC_MODE_COUNT; ++m) {
      used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", m ? ", " : "", modes[m].name);
      if (modes[m].alias)
        used += (size_t)snprintf(list + used, sizeof list - used, ", %s", modes[m].alias);
    }
  }
  return list;
}

/*---------------------------------------------------------------------------
 * Options and policy files
 *---------------------------------------------------------------------------*/

void mpcOptionsInit(MpcOptions *options, MpcPrecisionMode mode, MpcTarget target) {
  *options = (MpcOptions){.mode = mode, .target = target};
  options->lossScale = (MpcLossScale){MPC_SCALE_DEFAULT, 65536.0, 2.0, 0.5, 2000};
  for (int k = 0; k < MPC_OP_COUNT; ++k) {
    options->classes[k] = mpcOpInfoGet((MpcOpKind)k)->defaultClass[target];
    options->sources[k] = MPC_SOURCE_TABLE;
  }
}

static bool parseClass(const char *word, MpcPrecisionClass *out) {
  static const MpcPrecisionClass all[] = {MPC_CLASS_LOWER, MPC_CLASS_FP32, MPC_CLASS_PROMOTE, MPC_CLASS_FOLLOW};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
    if (!strcmp(word, mpcPrecisionClassName(all[i]))) {
      *out = all[i];
      return true;
    }
  return false;
}

/* Splits the line into at most 3 words (a third means too many). */
static int words(char *line, char **out) {
  int n = 0;
  for (char *tok = strtok(line, " \t\r"); tok && n < 3; tok = strtok(NULL, " \t\r"))
    out[n++] = tok;
  return n;
}

bool mpcOptionsLoadPolicy(MpcOptions *options, const char *path, char *error, size_t errorSize) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(error, errorSize, "%s: cannot open policy file: %s", path, strerror(errno));
    return false;
  }
  char line[512];
  bool ok = true;
  for (int lineNo = 1; ok && fgets(line, sizeof line, f); ++lineNo) {
    char *hash = strchr(line, '#');
    if (hash)
      *hash = '\0';
    line[strcspn(line, "\n")] = '\0';
    char *w[3];
    int n = words(line, w);
    if (n == 0)
      continue;
    MpcPrecisionClass cls;
    MpcOpKind kind = n == 2 ? mpcOpKindFromName(mlirStringRefCreateFromCString(w[0])) : MPC_OP_COUNT;
    if (n != 2) {
      snprintf(error, errorSize, "%s:%d: expected 'OP CLASS' (e.g. 'mpc.softmax fp32')", path, lineNo);
      ok = false;
    } else if (kind == MPC_OP_COUNT) {
      snprintf(error, errorSize, "%s:%d: unknown op '%s' (docs/dialect.md lists the mpc ops)", path, lineNo, w[0]);
      ok = false;
    } else if (!parseClass(w[1], &cls)) {
      snprintf(error, errorSize, "%s:%d: unknown class '%s'; expected lower, fp32, promote or follow", path,
               lineNo, w[1]);
      ok = false;
    } else {
      options->classes[kind] = cls;
      options->sources[kind] = MPC_SOURCE_POLICY_FILE;
    }
  }
  if (ok && ferror(f)) {
    snprintf(error, errorSize, "%s: cannot read policy file", path);
    ok = false;
  }
  fclose(f);
  return ok;
}

bool mpcOptionsFromFlags(MpcOptions *options, const char *tool, const char *precision, const char *target,
                         const char *policy, char *error, size_t errorSize, bool *usage) {
  MpcPrecisionMode mode = MPC_MODE_32_TRUE;
  bool deprecated = false;
  *usage = true;
  if (precision && !mpcModeParse(precision, &mode, &deprecated)) {
    snprintf(error, errorSize, "invalid --precision '%s'; expected one of: %s", precision, mpcModeAllowedList());
    return false;
  }
  if (deprecated)
    fprintf(stderr,
            "%s: warning: --precision=%s is supported for historical reasons but its usage is discouraged; "
            "use --precision=%s instead\n",
            tool, precision, mpcModeInfoGet(mode)->name);
  MpcTarget t = MPC_TARGET_CPU;
  if (target && !strcmp(target, "cuda"))
    t = MPC_TARGET_CUDA;
  else if (target && strcmp(target, "cpu")) {
    snprintf(error, errorSize, "invalid --target '%s'; expected cpu or cuda", target);
    return false;
  }
  mpcOptionsInit(options, mode, t);
  *usage = false;
  return !policy || mpcOptionsLoadPolicy(options, policy, error, errorSize);
}
