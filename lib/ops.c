/*===- ops.c - the op table: parsed specs and lookups -----------*- C -*-===*
 *
 * Turns the rows of include/mpc/ops.def into MpcOpInfo records. The operand
 * and attribute specs are strings in the table so that a row stays readable;
 * they are parsed once, and a malformed spec is a broken invariant (abort).
 *===----------------------------------------------------------------------===*/
#include "mpc/mpc.h"
#include "support.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  const char *name, *operands, *attrs, *shape;
  MpcPrecisionClass cpu, cuda;
} rows[MPC_OP_COUNT] = {
#define MPC_OP(ID, NAME, OPERANDS, ATTRS, CPU, CUDA, SHAPE)                                        \
  [MPC_OP_##ID] = {NAME, OPERANDS, ATTRS, #SHAPE, MPC_CLASS_##CPU, MPC_CLASS_##CUDA},
#include "mpc/ops.def"
#undef MPC_OP
};

static MpcOpInfo infos[MPC_OP_COUNT];
static char fullNames[MPC_OP_COUNT][32];
/* Backing store for the names cut out of the spec strings. */
static char specText[MPC_OP_COUNT][2][128];
static pthread_once_t parsed = PTHREAD_ONCE_INIT;

/* Splits `text` in place at spaces; returns the number of words. */
static int splitWords(char *text, char **words, int max, const char *what) {
  int n = 0;
  for (char *tok = strtok(text, " "); tok; tok = strtok(NULL, " ")) {
    MPC_ASSERT(n < max, what);
    words[n++] = tok;
  }
  return n;
}

static void parseOperand(char *word, MpcOperandSpec *spec) {
  size_t len = strlen(word);
  spec->arity = MPC_ARITY_ONE;
  if (word[len - 1] == '?' || word[len - 1] == '*') {
    spec->arity = word[len - 1] == '?' ? MPC_ARITY_OPTIONAL : MPC_ARITY_VARIADIC;
    word[len - 1] = '\0';
  }
  spec->kind = MPC_OPERAND_FLOAT;
  char *colon = strchr(word, ':');
  if (colon) {
    *colon = '\0';
    if (!strcmp(colon + 1, "int"))
      spec->kind = MPC_OPERAND_INT;
    else if (!strcmp(colon + 1, "i1"))
      spec->kind = MPC_OPERAND_I1;
    else if (!strcmp(colon + 1, "any"))
      spec->kind = MPC_OPERAND_ANY;
    else
      MPC_UNREACHABLE("ops.def: unknown operand kind");
  }
  spec->name = word;
}

static void parseAttr(char *word, MpcAttrSpec *spec) {
  char *colon = strchr(word, ':');
  MPC_ASSERT(colon, "ops.def: attribute spec without ':'");
  *colon = '\0';
  spec->name = word;
  const char *kind = colon + 1;
  if (!strcmp(kind, "i64"))
    spec->kind = MPC_ATTR_I64;
  else if (!strcmp(kind, "ints"))
    spec->kind = MPC_ATTR_I64_LIST;
  else if (!strcmp(kind, "f64"))
    spec->kind = MPC_ATTR_F64;
  else if (!strcmp(kind, "bool"))
    spec->kind = MPC_ATTR_BOOL;
  else {
    spec->kind = MPC_ATTR_ENUM;
    for (char *v = strtok(colon + 1, "|"); v; v = strtok(NULL, "|")) {
      MPC_ASSERT(spec->numValues < MPC_MAX_ENUM, "ops.def: too many enum values");
      spec->values[spec->numValues++] = v;
    }
  }
}

static void parseTable(void) {
  for (int k = 0; k < MPC_OP_COUNT; ++k) {
    MpcOpInfo *info = &infos[k];
    info->kind = (MpcOpKind)k;
    info->name = rows[k].name;
    snprintf(fullNames[k], sizeof fullNames[k], "mpc.%s", rows[k].name);
    info->fullName = fullNames[k];
    info->operandText = rows[k].operands;
    info->attrText = rows[k].attrs;
    info->shapeRule = rows[k].shape;
    info->defaultClass[MPC_TARGET_CPU] = rows[k].cpu;
    info->defaultClass[MPC_TARGET_CUDA] = rows[k].cuda;

    char *words[8];
    MPC_ASSERT(strlen(rows[k].operands) < sizeof specText[k][0], "ops.def: operand spec too long");
    strcpy(specText[k][0], rows[k].operands);
    info->numOperands = splitWords(specText[k][0], words, MPC_MAX_OPERANDS, "ops.def: too many operands");
    for (int i = 0; i < info->numOperands; ++i)
      parseOperand(words[i], &info->operands[i]);

    MPC_ASSERT(strlen(rows[k].attrs) < sizeof specText[k][1], "ops.def: attribute spec too long");
    strcpy(specText[k][1], rows[k].attrs);
    info->numAttrs = splitWords(specText[k][1], words, MPC_MAX_ATTRS, "ops.def: too many attributes");
    for (int i = 0; i < info->numAttrs; ++i)
      parseAttr(words[i], &info->attrs[i]);
  }
}

const MpcOpInfo *mpcOpInfoGet(MpcOpKind kind) {
  MPC_ASSERT(kind < MPC_OP_COUNT, "mpcOpInfoGet: not an mpc op");
  pthread_once(&parsed, parseTable);
  return &infos[kind];
}

MpcOpKind mpcOpKindFromName(MlirStringRef name) {
  if (name.length > 4 && !strncmp(name.data, "mpc.", 4)) {
    name.data += 4;
    name.length -= 4;
  }
  for (int k = 0; k < MPC_OP_COUNT; ++k)
    if (strlen(rows[k].name) == name.length && !strncmp(rows[k].name, name.data, name.length))
      return (MpcOpKind)k;
  return MPC_OP_COUNT;
}

MpcOpKind mpcOpKindOf(MlirOperation op) {
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  if (name.length <= 4 || strncmp(name.data, "mpc.", 4))
    return MPC_OP_COUNT;
  return mpcOpKindFromName(name);
}

const char *mpcPrecisionClassName(MpcPrecisionClass cls) {
  static const char *const names[] = {
      [MPC_CLASS_LOWER] = "lower",
      [MPC_CLASS_FP32] = "fp32",
      [MPC_CLASS_PROMOTE] = "promote",
      [MPC_CLASS_FOLLOW] = "follow",
  };
  return names[cls];
}

const char *mpcTargetName(MpcTarget target) {
  return target == MPC_TARGET_CUDA ? "cuda" : "cpu";
}

static const char *attrKindText(const MpcAttrSpec *a, char *buf, size_t size) {
  switch (a->kind) {
  case MPC_ATTR_I64: return "i64";
  case MPC_ATTR_I64_LIST: return "array<i64>";
  case MPC_ATTR_F64: return "f64";
  case MPC_ATTR_BOOL: return "bool";
  case MPC_ATTR_ENUM: break;
  }
  size_t used = 0;
  for (int i = 0; i < a->numValues && used < size; ++i)
    used += (size_t)snprintf(buf + used, size - used, "%s\"%s\"", i ? " or " : "", a->values[i]);
  return buf;
}

void mpcOpTablePrintMarkdown(FILE *out) {
  static const char *const kindSuffix[] = {"", " (integer)", " (i1)", " (float or integer)"};
  static const char *const aritySuffix[] = {"", " (optional)", " (variadic)"};
  fprintf(out, "| op | operands | attributes | class (cpu) | class (cuda) | shape rule |\n");
  fprintf(out, "|---|---|---|---|---|---|\n");
  for (int k = 0; k < MPC_OP_COUNT; ++k) {
    const MpcOpInfo *info = mpcOpInfoGet((MpcOpKind)k);
    fprintf(out, "| `%s` | ", info->fullName);
    for (int i = 0; i < info->numOperands; ++i)
      fprintf(out, "%s%s%s%s", i ? ", " : "", info->operands[i].name,
              kindSuffix[info->operands[i].kind], aritySuffix[info->operands[i].arity]);
    fprintf(out, " | ");
    for (int i = 0; i < info->numAttrs; ++i) {
      char buf[96];
      fprintf(out, "%s%s: %s", i ? ", " : "", info->attrs[i].name,
              attrKindText(&info->attrs[i], buf, sizeof buf));
    }
    fprintf(out, " | %s | %s | %s |\n", mpcPrecisionClassName(info->defaultClass[MPC_TARGET_CPU]),
            mpcPrecisionClassName(info->defaultClass[MPC_TARGET_CUDA]), info->shapeRule);
  }
}
