/*===- emitter.c - writing functions as text, op by op ----------*- C -*-===*/
#include "emitter.h"
#include "ir.h"

#include <math.h>
#include <mlir-c/BuiltinAttributes.h>
#include <mlir-c/BuiltinTypes.h>
#include <mlir-c/Diagnostics.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mpcEmitterFree(MpcEmitter *e) {
  mpcStrFree(&e->out);
  free(e->map);
  e->map = NULL;
  e->count = e->capacity = 0;
}

void mpcEmitf(MpcEmitter *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *buf = malloc((size_t)n + 1);
  MPC_ASSERT(buf, "out of memory");
  va_start(ap, fmt);
  vsnprintf(buf, (size_t)n + 1, fmt, ap);
  va_end(ap);
  mpcStrAppend(&e->out, buf, (size_t)n);
  free(buf);
}

const char *mpcEltName(MpcEltKind k) {
  switch (k) {
  case MPC_ELT_F16: return "f16";
  case MPC_ELT_BF16: return "bf16";
  case MPC_ELT_F32: return "f32";
  case MPC_ELT_F64: return "f64";
  case MPC_ELT_I1: return "i1";
  case MPC_ELT_I32: return "i32";
  case MPC_ELT_I64: return "i64";
  default: return "?";
  }
}

const char *mpcEltPrecision(MpcEltKind k) { return mpcEltIsFloat(k) ? mpcEltName(k) : NULL; }

const char *mpcValType(const MpcVal *v) {
  static char bufs[16][160];
  static int which;
  char *b = bufs[which++ & 15];
  int n = snprintf(b, 160, "tensor<");
  for (int i = 0; i < v->s.rank; ++i)
    n += snprintf(b + n, (size_t)(160 - n), "%lldx", (long long)v->s.dims[i]);
  snprintf(b + n, (size_t)(160 - n), "%s>", mpcEltName(v->k));
  return b;
}

bool mpcValOf(MlirValue v, MpcVal *out) {
  memset(out, 0, sizeof *out);
  MlirType t = mlirValueGetType(v);
  if (!mpcShapeOf(t, &out->s))
    return false;
  out->k = mpcEltKindOf(mlirShapedTypeGetElementType(t));
  return out->k != MPC_ELT_OTHER;
}

void mpcEmitBind(MpcEmitter *e, MlirValue v, const MpcVal *val) {
  e->map = mpcGrowArray(e->map, &e->capacity, e->count + 1, sizeof *e->map);
  e->map[e->count++] = (MpcEmitBinding){v.ptr, *val};
}

bool mpcEmitLookup(const MpcEmitter *e, MlirValue v, MpcVal *out) {
  for (size_t i = e->count; i-- > 0;)
    if (e->map[i].ptr == v.ptr) {
      *out = e->map[i].val;
      return true;
    }
  return false;
}

MpcVal mpcEmitFresh(MpcEmitter *e, const MpcShape *s, MpcEltKind k) {
  MpcVal v = {.s = *s, .k = k};
  snprintf(v.n, sizeof v.n, "%%e%d", e->next++);
  return v;
}

char *mpcAttrText(MlirAttribute attr) {
  MpcStr s = {0};
  mlirAttributePrint(attr, mpcStrPrinter, &s);
  char *r = mpcStrDup(s.data ? s.data : "", s.length);
  mpcStrFree(&s);
  return r;
}

void mpcEmitLoc(MpcEmitter *e) {
  if (!e->hasLoc)
    return;
  MpcStr s = {0};
  mlirLocationPrint(e->loc, mpcStrPrinter, &s);
  mpcEmitf(e, " %.*s", (int)s.length, s.data ? s.data : "");
  mpcStrFree(&s);
}

static void emitType(MpcEmitter *e, MlirType t) {
  MpcStr s = {0};
  mlirTypePrint(t, mpcStrPrinter, &s);
  mpcStrAppend(&e->out, s.data ? s.data : "", s.length);
  mpcStrFree(&s);
}

void mpcEmitCopyArg(MpcEmitter *e, MlirOperation func, intptr_t i, int out) {
  MlirValue arg = mlirBlockGetArgument(mpcFuncEntryBlock(func), i);
  MpcVal t;
  mpcValOf(arg, &t);
  char *attrs = mpcFuncArgAttrText(func, i);
  snprintf(t.n, sizeof t.n, "%%arg%d", out);
  mpcEmitf(e, "%s%s: %s%s%s", out ? ", " : "", t.n, mpcValType(&t), attrs[0] ? " " : "", attrs);
  free(attrs);
  mpcEmitBind(e, arg, &t);
}

bool mpcEmitCopyOp(MpcEmitter *e, MlirOperation op) {
  intptr_t numOperands = mlirOperationGetNumOperands(op), numResults = mlirOperationGetNumResults(op);
  MpcVal *res = calloc((size_t)numResults + 1, sizeof *res);
  MPC_ASSERT(res, "out of memory");
  for (intptr_t i = 0; i < numResults; ++i) {
    MpcVal t;
    mpcValOf(mlirOperationGetResult(op, i), &t);
    res[i] = mpcEmitFresh(e, &t.s, t.k);
    mpcEmitf(e, "%s%s", i ? ", " : "    ", res[i].n);
  }
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  mpcEmitf(e, "%s\"%.*s\"(", numResults ? " = " : "    ", (int)name.length, name.data);
  for (intptr_t i = 0; i < numOperands; ++i) {
    MpcVal v;
    if (!mpcEmitLookup(e, mlirOperationGetOperand(op, i), &v)) {
      mpcOpEmitError(op, "internal error: operand %d has no name in the new function", (int)i);
      free(res);
      return false;
    }
    mpcEmitf(e, "%s%s", i ? ", " : "", v.n);
  }
  mpcEmitf(e, ")");
  intptr_t numAttrs = mlirOperationGetNumAttributes(op);
  if (numAttrs) {
    mpcEmitf(e, " {");
    for (intptr_t i = 0; i < numAttrs; ++i) {
      MlirNamedAttribute a = mlirOperationGetAttribute(op, i);
      MlirStringRef an = mlirIdentifierStr(a.name);
      char *text = mpcAttrText(a.attribute);
      mpcEmitf(e, "%s\"%.*s\" = %s", i ? ", " : "", (int)an.length, an.data, text);
      free(text);
    }
    mpcEmitf(e, "}");
  }
  mpcEmitf(e, " : (");
  for (intptr_t i = 0; i < numOperands; ++i) {
    if (i)
      mpcEmitf(e, ", ");
    emitType(e, mlirValueGetType(mlirOperationGetOperand(op, i)));
  }
  mpcEmitf(e, ") -> (");
  for (intptr_t i = 0; i < numResults; ++i) {
    if (i)
      mpcEmitf(e, ", ");
    emitType(e, mlirValueGetType(mlirOperationGetResult(op, i)));
  }
  mpcEmitf(e, ")");
  MlirLocation saved = e->loc;
  bool savedHas = e->hasLoc;
  e->loc = mlirOperationGetLocation(op);
  e->hasLoc = true;
  mpcEmitLoc(e);
  e->loc = saved;
  e->hasLoc = savedHas;
  mpcEmitf(e, "\n");
  for (intptr_t i = 0; i < numResults; ++i)
    mpcEmitBind(e, mlirOperationGetResult(op, i), &res[i]);
  free(res);
  return true;
}

MpcVal mpcEmitOp(MpcEmitter *e, const char *name, int numIn, const MpcVal *ins, const char *attrs, const MpcShape *s,
                 MpcEltKind k) {
  MpcVal r = mpcEmitFresh(e, s, k);
  mpcEmitf(e, "    %s = \"%s\"(", r.n, name);
  for (int i = 0; i < numIn; ++i)
    mpcEmitf(e, "%s%s", i ? ", " : "", ins[i].n);
  mpcEmitf(e, ")");
  bool isMpc = !strncmp(name, "mpc.", 4);
  const char *prec = isMpc && e->precision ? e->precision : NULL;
  bool hasAttrs = attrs && attrs[0];
  if (hasAttrs || prec) {
    mpcEmitf(e, " {%s", hasAttrs ? attrs : "");
    if (prec)
      mpcEmitf(e, "%smpc.precision = \"%s\"", hasAttrs ? ", " : "", prec);
    mpcEmitf(e, "}");
  }
  mpcEmitf(e, " : (");
  for (int i = 0; i < numIn; ++i)
    mpcEmitf(e, "%s%s", i ? ", " : "", mpcValType(&ins[i]));
  mpcEmitf(e, ") -> %s", mpcValType(&r));
  mpcEmitLoc(e);
  mpcEmitf(e, "\n");
  return r;
}

MpcVal mpcEmitConst(MpcEmitter *e, double value, const MpcShape *s, MpcEltKind k) {
  MpcVal r = mpcEmitFresh(e, s, k);
  char lit[64];
  if (k == MPC_ELT_I1)
    snprintf(lit, sizeof lit, "%s", value != 0 ? "true" : "false");
  else if (k == MPC_ELT_I32 || k == MPC_ELT_I64)
    snprintf(lit, sizeof lit, "%lld", (long long)value);
  else
    snprintf(lit, sizeof lit, "%.17e", value);
  mpcEmitf(e, "    %s = arith.constant dense<%s> : %s", r.n, lit, mpcValType(&r));
  mpcEmitLoc(e);
  mpcEmitf(e, "\n");
  return r;
}

static MlirAttribute dictEntry(MlirAttribute dicts, intptr_t i, const char *key) {
  if (mlirAttributeIsNull(dicts) || !mlirAttributeIsAArray(dicts) || i >= mlirArrayAttrGetNumElements(dicts))
    return mlirAttributeGetNull();
  MlirAttribute d = mlirArrayAttrGetElement(dicts, i);
  if (!mlirAttributeIsADictionary(d))
    return mlirAttributeGetNull();
  return mlirDictionaryAttrGetElementByName(d, mlirStringRefCreateFromCString(key));
}

MlirAttribute mpcFuncArgAttr(MlirOperation func, intptr_t i, const char *key) {
  return dictEntry(mlirOperationGetAttributeByName(func, mlirStringRefCreateFromCString("arg_attrs")), i, key);
}

bool mpcFuncArgHas(MlirOperation func, intptr_t i, const char *key) {
  return !mlirAttributeIsNull(mpcFuncArgAttr(func, i, key));
}

MlirAttribute mpcFuncResultAttr(MlirOperation func, intptr_t i, const char *key) {
  return dictEntry(mlirOperationGetAttributeByName(func, mlirStringRefCreateFromCString("res_attrs")), i, key);
}

char *mpcFuncArgAttrText(MlirOperation func, intptr_t i) {
  MlirAttribute dicts = mlirOperationGetAttributeByName(func, mlirStringRefCreateFromCString("arg_attrs"));
  if (mlirAttributeIsNull(dicts) || !mlirAttributeIsAArray(dicts) || i >= mlirArrayAttrGetNumElements(dicts))
    return mpcStrDup("", 0);
  MlirAttribute d = mlirArrayAttrGetElement(dicts, i);
  if (!mlirAttributeIsADictionary(d) || mlirDictionaryAttrGetNumElements(d) == 0)
    return mpcStrDup("", 0);
  return mpcAttrText(d);
}

MlirLocation mpcModuleErrorLocation(MlirOperation module) {
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  MlirOperation first = mlirBlockGetFirstOperation(body);
  return mlirOperationGetLocation(mlirOperationIsNull(first) ? module : first);
}

MlirOperation mpcModuleLookupFunc(MlirOperation module, const char *name) {
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (!mpcIsFunc(op))
      continue;
    MlirAttribute sym = mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("sym_name"));
    if (!mlirAttributeIsNull(sym) && mlirAttributeIsAString(sym)) {
      MlirStringRef s = mlirStringAttrGetValue(sym);
      if (s.length == strlen(name) && !strncmp(s.data, name, s.length))
        return op;
    }
  }
  return (MlirOperation){NULL};
}

bool mpcEmitParseInto(MlirOperation module, const char *text, MlirOperation before, const char *what) {
  MlirContext ctx = mlirOperationGetContext(module);
  MlirModule parsed = mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(text));
  if (mlirModuleIsNull(parsed)) {
    char msg[160];
    snprintf(msg, sizeof msg, "internal error: the function built by %s does not parse", what);
    mlirEmitError(mlirOperationGetLocation(module), msg);
    if (getenv("MPC_DEBUG_LOWERING"))
      fprintf(stderr, "%s", text);
    if (getenv("MPC_ABORT_ON_INTERNAL_ERROR"))
      abort();
    return false;
  }
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  MlirBlock from = mlirModuleGetBody(parsed);
  for (MlirOperation op = mlirBlockGetFirstOperation(from); !mlirOperationIsNull(op);) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    mlirOperationRemoveFromParent(op);
    if (mlirOperationIsNull(before))
      mlirBlockAppendOwnedOperation(body, op);
    else
      mlirBlockInsertOwnedOperationBefore(body, before, op);
    op = next;
  }
  mlirModuleDestroy(parsed);
  return true;
}
