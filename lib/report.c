/*===- report.c - the precision report (JSON) and graph (DOT) ---*- C -*-===*/
#include "ir.h"
#include "support.h"

#include <errno.h>
#include <mlir-c/BuiltinAttributes.h>
#include <mlir-c/BuiltinTypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *name, *location, *node;
  MpcPrecisionClass cls;
  MpcFloatType type;
  const char *reason;
} OpEntry;

struct MpcReport {
  OpEntry *ops;
  size_t numOps, capOps;
  int castsInserted, castsFolded;
  int64_t paramBytes[2], activationBytes[2]; /* [before, after] */
  MpcStr dot;
  int graphs;
};

MpcReport *mpcReportCreate(void) {
  MpcReport *r = calloc(1, sizeof *r);
  MPC_ASSERT(r, "out of memory");
  return r;
}

void mpcReportDestroy(MpcReport *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->numOps; ++i) {
    free(r->ops[i].name);
    free(r->ops[i].location);
    free(r->ops[i].node);
  }
  free(r->ops);
  mpcStrFree(&r->dot);
  free(r);
}

void mpcReportAddOp(MpcReport *r, MlirOperation op, MpcPrecisionClass cls, MpcFloatType type, const char *reason) {
  r->ops = mpcGrowArray(r->ops, &r->capOps, r->numOps, sizeof *r->ops);
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  char loc[512];
  mpcLocationFormat(mlirOperationGetLocation(op), loc, sizeof loc);
  MlirStringRef node;
  bool named = mpcLocationGetName(mlirOperationGetLocation(op), &node);
  r->ops[r->numOps++] = (OpEntry){mpcStrDup(name.data, name.length), mpcStrDup(loc, strlen(loc)),
                                  named ? mpcStrDup(node.data, node.length) : NULL, cls, type, reason};
}

void mpcReportAddCasts(MpcReport *r, int inserted, int folded) {
  r->castsInserted += inserted;
  r->castsFolded += folded;
}

static int64_t tensorBytes(MlirType t) {
  MpcFloatType ft;
  if (!mlirTypeIsARankedTensor(t) || !mlirShapedTypeHasStaticShape(t) ||
      !mpcFloatTypeOf(mlirShapedTypeGetElementType(t), &ft))
    return 0;
  int64_t n = mpcFloatTypeBytes(ft);
  for (intptr_t i = 0, r = mlirShapedTypeGetRank(t); i < r; ++i)
    n *= mlirShapedTypeGetDimSize(t, i);
  return n;
}

/* The argument attribute `name` of argument i (null if absent). */
static MlirAttribute argAttr(MlirOperation func, intptr_t i, const char *name) {
  MlirAttribute all = mlirOperationGetAttributeByName(func, mlirStringRefCreateFromCString("arg_attrs"));
  if (mlirAttributeIsNull(all) || !mlirAttributeIsAArray(all) || i >= mlirArrayAttrGetNumElements(all))
    return mlirAttributeGetNull();
  MlirAttribute dict = mlirArrayAttrGetElement(all, i);
  if (!mlirAttributeIsADictionary(dict))
    return mlirAttributeGetNull();
  return mlirDictionaryAttrGetElementByName(dict, mlirStringRefCreateFromCString(name));
}

static bool isParamArg(MlirOperation func, intptr_t i) {
  return !mlirAttributeIsNull(argAttr(func, i, "mpc.param"));
}

void mpcReportMeasure(MpcReport *r, MlirOperation module, bool after) {
  MlirOperation *funcs, *ops;
  size_t numFuncs = mpcCollectOps(module, mpcIsFunc, &funcs);
  for (size_t f = 0; f < numFuncs; ++f) {
    MlirBlock entry = mpcFuncEntryBlock(funcs[f]);
    for (intptr_t i = 0, n = mlirBlockIsNull(entry) ? 0 : mlirBlockGetNumArguments(entry); i < n; ++i)
      if (isParamArg(funcs[f], i))
        r->paramBytes[after] += tensorBytes(mlirValueGetType(mlirBlockGetArgument(entry, i)));
  }
  free(funcs);
  size_t n = mpcCollectOps(module, mpcIsMpcOp, &ops);
  for (size_t i = 0; i < n; ++i)
    r->activationBytes[after] += tensorBytes(mlirValueGetType(mlirOperationGetResult(ops[i], 0)));
  free(ops);
}

/*---------------------------------------------------------------------------
 * JSON
 *---------------------------------------------------------------------------*/

static void jsonString(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

bool mpcReportWriteJson(const MpcReport *r, const char *path, const char *mode, const char *target) {
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  fprintf(f, "{\n  \"mode\": ");
  jsonString(f, mode);
  fprintf(f, ",\n  \"target\": ");
  jsonString(f, target);
  fprintf(f, ",\n  \"ops\": [");
  int perType[MPC_FLOAT_COUNT] = {0};
  for (size_t i = 0; i < r->numOps; ++i) {
    const OpEntry *e = &r->ops[i];
    ++perType[e->type];
    fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
    jsonString(f, e->name);
    fprintf(f, ", \"location\": ");
    jsonString(f, e->location);
    if (e->node) {
      fprintf(f, ", \"node\": ");
      jsonString(f, e->node);
    }
    fprintf(f, ", \"class\": \"%s\", \"type\": \"%s\", \"reason\": \"%s\"}", mpcPrecisionClassName(e->cls),
            mpcFloatTypeName(e->type), e->reason);
  }
  fprintf(f, "%s],\n  \"summary\": {\n    \"ops\": %zu,\n    \"ops_per_type\": {", r->numOps ? "\n  " : "",
          r->numOps);
  for (int t = 0; t < MPC_FLOAT_COUNT; ++t)
    fprintf(f, "%s\"%s\": %d", t ? ", " : "", mpcFloatTypeName((MpcFloatType)t), perType[t]);
  fprintf(f,
          "},\n    \"casts_inserted\": %d,\n    \"casts_folded\": %d,\n"
          "    \"parameter_bytes\": {\"before\": %lld, \"after\": %lld},\n"
          "    \"activation_bytes\": {\"before\": %lld, \"after\": %lld}\n  }\n}\n",
          r->castsInserted, r->castsFolded, (long long)r->paramBytes[0], (long long)r->paramBytes[1],
          (long long)r->activationBytes[0], (long long)r->activationBytes[1]);
  return fclose(f) == 0;
}

/*---------------------------------------------------------------------------
 * DOT
 *---------------------------------------------------------------------------*/

static const char *typeColor(MlirType t) {
  static const char *const colors[MPC_FLOAT_COUNT] = {
      [MPC_F16] = "#f4a261", [MPC_BF16] = "#c77dff", [MPC_F32] = "#90caf9", [MPC_F64] = "#a5d6a7"};
  MpcFloatType ft;
  if (mlirTypeIsATensor(t) && mpcFloatTypeOf(mlirShapedTypeGetElementType(t), &ft))
    return colors[ft];
  return "#e0e0e0";
}

static const char *elementName(MlirType t, char *buf, size_t size) {
  if (mlirTypeIsATensor(t))
    return mpcTypeToString(mlirShapedTypeGetElementType(t), buf, size);
  return mpcTypeToString(t, buf, size);
}

static void dotValueNode(MpcStr *s, MlirValue v, const char *label) {
  char elt[32];
  MlirType t = mlirValueGetType(v);
  mpcStrAppendf(s, "    n%p [label=\"%s\\n%s\", fillcolor=\"%s\"];\n", v.ptr, label, elementName(t, elt, sizeof elt),
                typeColor(t));
}

void mpcReportAddGraph(MpcReport *r, MlirOperation module) {
  MlirOperation *funcs;
  size_t numFuncs = mpcCollectOps(module, mpcIsFunc, &funcs);
  for (size_t f = 0; f < numFuncs; ++f) {
    MlirBlock entry = mpcFuncEntryBlock(funcs[f]);
    if (mlirBlockIsNull(entry))
      continue;
    MlirAttribute sym = mlirOperationGetAttributeByName(funcs[f], mlirStringRefCreateFromCString("sym_name"));
    MlirStringRef fname = mlirStringAttrGetValue(sym);
    mpcStrAppendf(&r->dot, "  subgraph cluster_%d {\n    label=\"@%.*s\";\n", r->graphs++, (int)fname.length,
                  fname.data);
    for (intptr_t i = 0, n = mlirBlockGetNumArguments(entry); i < n; ++i) {
      char label[96];
      MlirAttribute name = argAttr(funcs[f], i, "mpc.param");
      if (mlirAttributeIsNull(name))
        name = argAttr(funcs[f], i, "mpc.input");
      if (!mlirAttributeIsNull(name) && mlirAttributeIsAString(name)) {
        MlirStringRef s = mlirStringAttrGetValue(name);
        snprintf(label, sizeof label, "%.*s", (int)s.length, s.data);
        for (char *c = label; *c; ++c)
          if (*c == '"' || *c == '\\')
            *c = '_'; /* keep the DOT string well-formed */
      } else {
        snprintf(label, sizeof label, "%%arg%ld", (long)i);
      }
      dotValueNode(&r->dot, mlirBlockGetArgument(entry, i), label);
    }
    MlirOperation *ops;
    size_t n = mpcCollectOps(funcs[f], NULL, &ops);
    for (size_t i = 0; i < n; ++i) {
      MlirOperation op = ops[i];
      if (mpcIsFunc(op) || mlirOperationGetNumResults(op) != 1)
        continue;
      MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
      char label[64];
      snprintf(label, sizeof label, "%.*s", (int)name.length, name.data);
      MlirValue result = mlirOperationGetResult(op, 0);
      dotValueNode(&r->dot, result, label);
      for (intptr_t k = 0, m = mlirOperationGetNumOperands(op); k < m; ++k)
        mpcStrAppendf(&r->dot, "    n%p -> n%p;\n", mlirOperationGetOperand(op, k).ptr, result.ptr);
    }
    free(ops);
    mpcStrAppend(&r->dot, "  }\n", 4);
  }
  free(funcs);
}

bool mpcReportWriteDot(const MpcReport *r, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  fprintf(f, "digraph mpc {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fontname=\"monospace\"];\n"
             "  legend [shape=plaintext, label=<<table border=\"0\"><tr>"
             "<td bgcolor=\"#f4a261\">f16</td><td bgcolor=\"#c77dff\">bf16</td>"
             "<td bgcolor=\"#90caf9\">f32</td><td bgcolor=\"#a5d6a7\">f64</td></tr></table>>];\n");
  if (r->dot.length)
    fwrite(r->dot.data, 1, r->dot.length, f);
  fprintf(f, "}\n");
  return fclose(f) == 0;
}
