/*===- import-onnx.c - ONNX models into mpc model functions ----------------===*
 *
 * The ONNX graph is walked once, in its (topological) node order. Every ONNX
 * value becomes a Value: either a constant whose elements are known here
 * (initializers, Constant nodes and everything computed from them alone:
 * Shape, ConstantOfShape, Expand, shape arithmetic) or an SSA value of the
 * function being written. Constants are folded as far as they go and are
 * materialised (as parameters, or as arith.constant) only where a runtime op
 * uses them. Shapes are all static, so every result type is computed here.
 *
 * Two patterns of several ONNX nodes are recognised before the walk and
 * imported as one mpc op, so that the precision policy sees them: the
 * opset-13 decomposition of LayerNormalization and the erf form of GELU.
 *===----------------------------------------------------------------------===*/

#include "mpc/import.h"

#include "onnx.pb-c.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RANK MPCRT_MAX_RANK
/* Constants folded here are small (shapes, masks, scalars); larger runtime
 * tensors are the generated code's business. */
#define MAX_FOLD_ELEMENTS (1 << 24)

/* ONNX TensorProto.DataType values. */
enum { DT_FLOAT = 1, DT_UINT8 = 2, DT_INT8 = 3, DT_UINT16 = 4, DT_INT16 = 5, DT_INT32 = 6, DT_INT64 = 7,
       DT_STRING = 8, DT_BOOL = 9, DT_FLOAT16 = 10, DT_DOUBLE = 11, DT_UINT32 = 12, DT_UINT64 = 13,
       DT_BFLOAT16 = 16 };

typedef enum { TY_F16, TY_BF16, TY_F32, TY_F64, TY_I32, TY_I64, TY_BOOL } Ty;
static const char *const tyNames[] = {"f16", "bf16", "f32", "f64", "i32", "i64", "i1"};
static const char *const tyOnnxNames[] = {"float16", "bfloat16", "float", "double", "int32", "int64", "bool"};
static bool tyIsFloat(Ty t) { return t <= TY_F64; }

static const char *onnxTypeName(int dt) {
  static const char *const names[] = {"undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64",
                                      "string", "bool", "float16", "double", "uint32", "uint64", "complex64",
                                      "complex128", "bfloat16"};
  return dt >= 0 && dt <= 16 ? names[dt] : "unknown";
}

static bool tyFromOnnx(int dt, Ty *t) {
  switch (dt) {
  case DT_FLOAT: *t = TY_F32; return true;
  case DT_FLOAT16: *t = TY_F16; return true;
  case DT_BFLOAT16: *t = TY_BF16; return true;
  case DT_DOUBLE: *t = TY_F64; return true;
  case DT_INT32: *t = TY_I32; return true;
  case DT_INT64: *t = TY_I64; return true;
  case DT_BOOL: *t = TY_BOOL; return true;
  default: return false;
  }
}

/*---------------------------------------------------------------------------
 * Values
 *---------------------------------------------------------------------------*/

typedef struct Value {
  Ty ty;
  int rank;
  int64_t dims[MAX_RANK];
  /* A constant: elements as doubles (float types) or int64 (integers, bool). */
  bool isConst;
  double *f;
  int64_t *i;
  /* An initializer with more than one float element becomes a parameter
   * named `param` when a runtime op uses it. */
  const char *param;
  char ssa[24]; /* "%v12" once materialised */
  struct Value *next; /* every Value, for freeing */
} Value;

typedef struct {
  char *name;
  Value *value;
} Binding;

typedef struct {
  char *data;
  size_t len, cap;
  bool oom;
} Buf;

typedef struct {
  const MpcImportOptions *opt;
  Onnx__GraphProto *graph;
  int64_t opset;
  Buf body, args;
  int numArgs, nextSsa;
  Value *values;
  Binding *table;
  size_t tableCap, tableCount;
  /* The node being imported (for locations and messages), -1 outside. */
  int nodeIndex;
  const Onnx__NodeProto *node;
  /* Per node: fused into a pattern rooted elsewhere (skip), or the root of
   * one (1 = layer norm, 2 = gelu) with its pattern's operands. */
  unsigned char *skip, *root;
  const char **lnX, **lnGamma, **lnBeta, **lnEpsName;
  const char **geluX;
  MpcImportResult *result;
  bool failed;
} Imp;

static void fail(Imp *m, bool unsupported, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(Imp *m, bool unsupported, const char *fmt, ...) {
  if (m->failed)
    return;
  m->failed = true;
  m->result->unsupported = unsupported;
  char msg[512];
  int n = snprintf(msg, sizeof msg, "%s", unsupported && strncmp(fmt, "unsupported", 11) ? "unsupported: " : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
  va_end(ap);
  const char *domain = m->node && m->node->domain && *m->node->domain && strcmp(m->node->domain, "ai.onnx")
                           ? m->node->domain : NULL;
  if (m->node && domain)
    snprintf(m->result->error, sizeof m->result->error, "node %d '%s' (%s, domain %s): %s", m->nodeIndex + 1,
             m->node->name ? m->node->name : "", m->node->op_type ? m->node->op_type : "?", domain, msg);
  else if (m->node)
    snprintf(m->result->error, sizeof m->result->error, "node %d '%s' (%s, opset %lld): %s", m->nodeIndex + 1,
             m->node->name ? m->node->name : "", m->node->op_type ? m->node->op_type : "?", (long long)m->opset,
             msg);
  else
    snprintf(m->result->error, sizeof m->result->error, "%s", msg);
  /* Names come from the file: keep the message one printable line. */
  for (char *c = m->result->error; *c; ++c)
    if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
      *c = '?';
}
#define UNSUPPORTED(m, ...) fail(m, true, __VA_ARGS__)
#define INVALID(m, ...) fail(m, false, __VA_ARGS__)

static void bufGrow(Buf *b, size_t need) {
  if (b->oom || b->len + need + 1 <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + need + 1)
    cap *= 2;
  char *p = realloc(b->data, cap);
  if (!p) {
    b->oom = true;
    return;
  }
  b->data = p;
  b->cap = cap;
}

static void bufPrintf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bufPrintf(Buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  bufGrow(b, (size_t)n);
  if (b->oom)
    return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

static void bufPut(Buf *b, const char *s, size_t n) {
  bufGrow(b, n);
  if (b->oom)
    return;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = 0;
}

/* An MLIR string literal: printable ASCII as is, the rest as \XX. */
static void bufString(Buf *b, const char *s) {
  bufPut(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
    if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
      bufPut(b, (const char *)p, 1);
    else
      bufPrintf(b, "\\%02X", *p);
  }
  bufPut(b, "\"", 1);
}

static int64_t numElements(int rank, const int64_t *dims) {
  int64_t n = 1;
  for (int d = 0; d < rank; ++d)
    n *= dims[d];
  return n;
}
static int64_t valueElements(const Value *v) { return numElements(v->rank, v->dims); }

/* Checked product of dims; false when negative or beyond the fold limit. */
static bool dimsOk(int rank, const int64_t *dims, int64_t limit) {
  int64_t n = 1;
  for (int d = 0; d < rank; ++d) {
    if (dims[d] < 0 || (dims[d] > 0 && n > limit / dims[d]))
      return false;
    n *= dims[d];
  }
  return n <= limit;
}

static Value *newValue(Imp *m, Ty ty, int rank, const int64_t *dims) {
  Value *v = calloc(1, sizeof *v);
  if (!v) {
    INVALID(m, "out of memory");
    return NULL;
  }
  v->ty = ty;
  v->rank = rank;
  if (rank)
    memcpy(v->dims, dims, (size_t)rank * sizeof *dims);
  v->next = m->values;
  m->values = v;
  return v;
}

/* A constant with room for its elements (zeroed). */
static Value *newConst(Imp *m, Ty ty, int rank, const int64_t *dims) {
  if (!dimsOk(rank, dims, MAX_FOLD_ELEMENTS)) {
    UNSUPPORTED(m, "a constant of more than %d elements", MAX_FOLD_ELEMENTS);
    return NULL;
  }
  Value *v = newValue(m, ty, rank, dims);
  if (!v)
    return NULL;
  v->isConst = true;
  size_t n = (size_t)valueElements(v) + 1;
  if (tyIsFloat(ty))
    v->f = calloc(n, sizeof *v->f);
  else
    v->i = calloc(n, sizeof *v->i);
  if (!v->f && !v->i) {
    INVALID(m, "out of memory");
    return NULL;
  }
  return v;
}

/* A constant folded here. Parameters are constants too (their values are
 * known), but they are never folded: an op on a parameter runs in the
 * model, so that training updates the parameter and checkpoints keep its
 * ONNX (PyTorch) shape. */
static bool folds(const Value *v) { return v->isConst && !v->param; }

static double constGet(const Value *v, int64_t k) { return v->f ? v->f[k] : (double)v->i[k]; }
static int64_t constGetInt(const Value *v, int64_t k) { return v->i ? v->i[k] : (int64_t)v->f[k]; }

static Value *scalarConst(Imp *m, Ty ty, double x) {
  Value *v = newConst(m, ty, 0, NULL);
  if (v) {
    if (v->f)
      v->f[0] = x;
    else
      v->i[0] = (int64_t)x;
  }
  return v;
}

/* Rounds x to the precision of a float type (folded results). */
static double roundTo(Ty ty, double x) {
  switch (ty) {
  case TY_F32: return (double)(float)x;
  case TY_F16: return mpcrtF16ToF32(mpcrtF16FromF32((float)x));
  case TY_BF16: return mpcrtBF16ToF32(mpcrtBF16FromF32((float)x));
  default: return x;
  }
}

static uint64_t hashName(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; ++s)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static Binding *findSlot(Imp *m, const char *name) {
  size_t mask = m->tableCap - 1;
  for (size_t k = hashName(name) & mask;; k = (k + 1) & mask)
    if (!m->table[k].name || !strcmp(m->table[k].name, name))
      return &m->table[k];
}

static Value *lookup(Imp *m, const char *name) {
  if (!m->tableCap)
    return NULL;
  Binding *b = findSlot(m, name);
  return b->name ? b->value : NULL;
}

static bool bind(Imp *m, const char *name, Value *v) {
  if (!name || !*name)
    return true; /* an unused optional output */
  if (m->tableCount * 2 >= m->tableCap) {
    size_t cap = m->tableCap ? m->tableCap * 2 : 256;
    Binding *t = calloc(cap, sizeof *t), *old = m->table;
    if (!t) {
      INVALID(m, "out of memory");
      return false;
    }
    size_t oldCap = m->tableCap;
    m->table = t;
    m->tableCap = cap;
    for (size_t k = 0; k < oldCap; ++k)
      if (old[k].name)
        *findSlot(m, old[k].name) = old[k];
    free(old);
  }
  Binding *b = findSlot(m, name);
  if (b->name) {
    INVALID(m, "value '%s' is defined twice (ONNX values are assigned once)", name);
    return false;
  }
  b->name = strdup(name);
  b->value = v;
  if (!b->name) {
    INVALID(m, "out of memory");
    return false;
  }
  m->tableCount++;
  return true;
}

/*---------------------------------------------------------------------------
 * Text: types, constants, ops
 *---------------------------------------------------------------------------*/

static void putType(Buf *b, const Value *v) {
  bufPut(b, "tensor<", 7);
  for (int d = 0; d < v->rank; ++d)
    bufPrintf(b, "%lldx", (long long)v->dims[d]);
  bufPrintf(b, "%s>", tyNames[v->ty]);
}

static void putLoc(Imp *m, Buf *b) {
  if (!m->node) {
    bufPrintf(b, " loc(");
    bufString(b, m->opt->sourceName);
    bufPrintf(b, ":0:0)");
    return;
  }
  char fallback[64];
  const char *name = m->node->name;
  if (!name || !*name) {
    snprintf(fallback, sizeof fallback, "%s_%d", m->node->op_type, m->nodeIndex);
    name = fallback;
  }
  bufPut(b, " loc(", 5);
  bufString(b, name);
  bufPut(b, "(", 1);
  bufString(b, m->opt->sourceName);
  bufPrintf(b, ":%d:1))", m->nodeIndex + 1); /* 1-based, as node N in messages */
}

static void putHexElement(Buf *b, Ty ty, double f, int64_t i) {
  static const char hex[] = "0123456789ABCDEF";
  unsigned char bytes[8];
  size_t n;
  switch (ty) {
  case TY_F32: {
    float x = (float)f;
    memcpy(bytes, &x, n = 4);
    break;
  }
  case TY_F64: memcpy(bytes, &f, n = 8); break;
  case TY_F16: {
    MpcrtF16 h = mpcrtF16FromF32((float)f);
    memcpy(bytes, &h.bits, n = 2);
    break;
  }
  case TY_BF16: {
    MpcrtBF16 h = mpcrtBF16FromF32((float)f);
    memcpy(bytes, &h.bits, n = 2);
    break;
  }
  case TY_I32: {
    int32_t x = (int32_t)i;
    memcpy(bytes, &x, n = 4);
    break;
  }
  default: memcpy(bytes, &i, n = 8); break;
  }
  char text[16];
  for (size_t k = 0; k < n; ++k) {
    text[2 * k] = hex[bytes[k] >> 4];
    text[2 * k + 1] = hex[bytes[k] & 15];
  }
  bufPut(b, text, 2 * n);
}

/* i1 elements need the nested literal form. */
static void putBoolElements(Buf *b, const Value *v, int dim, int64_t *offset) {
  if (dim == v->rank) {
    bufPrintf(b, "%s", v->i[(*offset)++] ? "true" : "false");
    return;
  }
  bufPut(b, "[", 1);
  for (int64_t k = 0; k < v->dims[dim]; ++k) {
    if (k)
      bufPut(b, ", ", 2);
    putBoolElements(b, v, dim + 1, offset);
  }
  bufPut(b, "]", 1);
}

static const char *newSsa(Imp *m, char *buf) {
  snprintf(buf, 24, "%%v%d", m->nextSsa++);
  return buf;
}

static const char *materialize(Imp *m, Value *v);

static void emitConstant(Imp *m, Value *v) {
  Buf *b = &m->body;
  newSsa(m, v->ssa);
  bufPrintf(b, "    %s = \"arith.constant\"() {value = dense<", v->ssa);
  int64_t n = valueElements(v);
  if (v->ty == TY_BOOL) {
    bool splat = true;
    for (int64_t k = 1; k < n && splat; ++k)
      splat = v->i[k] == v->i[0];
    int64_t offset = 0;
    if (splat)
      bufPrintf(b, "%s", n && v->i[0] ? "true" : "false");
    else
      putBoolElements(b, v, 0, &offset);
  } else {
    bufPut(b, "\"0x", 3);
    for (int64_t k = 0; k < n; ++k)
      putHexElement(b, v->ty, v->f ? v->f[k] : 0, v->i ? v->i[k] : 0);
    bufPut(b, "\"", 1);
  }
  bufPut(b, "> : ", 4);
  putType(b, v);
  bufPut(b, "} : () -> ", 10);
  putType(b, v);
  putLoc(m, b);
  bufPut(b, "\n", 1);
}

/* A parameter argument holding an initializer's values. */
static void emitParam(Imp *m, Value *v) {
  MpcrtTensor t;
  MpcrtError err;
  static const MpcrtDType dtypes[] = {MPCRT_F16, MPCRT_BF16, MPCRT_F32, MPCRT_F64};
  if (!mpcrtTensorAlloc(&t, dtypes[v->ty], v->rank, v->dims, &err)) {
    INVALID(m, "parameter '%s': %s", v->param, err.message);
    return;
  }
  for (int64_t k = 0, n = valueElements(v); k < n; ++k)
    mpcrtTensorSetDouble(&t, k, v->f[k]);
  mpcrtTensorSetAdd(&m->result->params, v->param, t);
  snprintf(v->ssa, sizeof v->ssa, "%%arg%d", m->numArgs++);
  if (m->args.len)
    bufPut(&m->args, ",\n    ", 6);
  bufPrintf(&m->args, "%s: ", v->ssa);
  putType(&m->args, v);
  bufPut(&m->args, " {mpc.param = ", 14);
  bufString(&m->args, v->param);
  bufPut(&m->args, "}", 1);
  m->result->numParams++;
}

static const char *materialize(Imp *m, Value *v) {
  if (valueElements(v) == 0 && !m->failed)
    UNSUPPORTED(m, "an empty tensor (a dimension of size 0)");
  if (!v->ssa[0] && !m->failed) {
    if (v->param && tyIsFloat(v->ty))
      emitParam(m, v);
    else
      emitConstant(m, v);
  }
  return v->ssa;
}

/* Emits `%r = "NAME"(ins) {attrs} : (types) -> type` and returns %r. */
static Value *emitOp(Imp *m, const char *name, Ty ty, int rank, const int64_t *dims, const char *attrs,
                     Value **ins, int numIns) {
  if (m->failed)
    return NULL;
  /* mpc tensors hold at least one element. */
  bool empty = numElements(rank, dims) == 0;
  for (int k = 0; k < numIns; ++k)
    empty |= valueElements(ins[k]) == 0;
  if (empty) {
    UNSUPPORTED(m, "an empty tensor (a dimension of size 0)");
    return NULL;
  }
  for (int k = 0; k < numIns; ++k)
    materialize(m, ins[k]);
  if (m->failed)
    return NULL;
  Value *r = newValue(m, ty, rank, dims);
  if (!r)
    return NULL;
  Buf *b = &m->body;
  newSsa(m, r->ssa);
  bufPrintf(b, "    %s = \"%s\"(", r->ssa, name);
  for (int k = 0; k < numIns; ++k)
    bufPrintf(b, "%s%s", k ? ", " : "", ins[k]->ssa);
  bufPut(b, ")", 1);
  if (attrs && *attrs)
    bufPrintf(b, " {%s}", attrs);
  bufPut(b, " : (", 4);
  for (int k = 0; k < numIns; ++k) {
    if (k)
      bufPut(b, ", ", 2);
    putType(b, ins[k]);
  }
  bufPut(b, ") -> ", 5);
  putType(b, r);
  putLoc(m, b);
  bufPut(b, "\n", 1);
  return r;
}

static Value *emitOp1(Imp *m, const char *name, Value *x, const char *attrs, int rank, const int64_t *dims) {
  return emitOp(m, name, x->ty, rank, dims, attrs, &x, 1);
}

/* "array<i64: 1, 2>" */
static void formatInts(char *out, size_t size, const int64_t *v, int n) {
  int len = snprintf(out, size, "array<i64");
  for (int k = 0; k < n && len < (int)size; ++k)
    len += snprintf(out + len, size - (size_t)len, "%s %lld", k ? "," : ":", (long long)v[k]);
  if (len < (int)size)
    snprintf(out + len, size - (size_t)len, ">");
}

/*---------------------------------------------------------------------------
 * Tensors from the protobuf
 *---------------------------------------------------------------------------*/

static size_t onnxElementSize(int dt) {
  switch (dt) {
  case DT_FLOAT: case DT_INT32: case DT_UINT32: return 4;
  case DT_DOUBLE: case DT_INT64: case DT_UINT64: return 8;
  case DT_FLOAT16: case DT_BFLOAT16: case DT_INT16: case DT_UINT16: return 2;
  case DT_UINT8: case DT_INT8: case DT_BOOL: return 1;
  default: return 0;
  }
}

/* Reads element k of a tensor's data (raw or typed) as a double or int64. */
static void tensorElement(const Onnx__TensorProto *t, int64_t k, double *f, int64_t *i) {
  int dt = t->data_type;
  *f = 0;
  *i = 0;
  if (t->has_raw_data) {
    const uint8_t *p = t->raw_data.data + (size_t)k * onnxElementSize(dt);
    switch (dt) {
    case DT_FLOAT: { float x; memcpy(&x, p, 4); *f = x; break; }
    case DT_DOUBLE: memcpy(f, p, 8); break;
    case DT_FLOAT16: { MpcrtF16 h; memcpy(&h.bits, p, 2); *f = mpcrtF16ToF32(h); break; }
    case DT_BFLOAT16: { MpcrtBF16 h; memcpy(&h.bits, p, 2); *f = mpcrtBF16ToF32(h); break; }
    case DT_INT32: { int32_t x; memcpy(&x, p, 4); *i = x; break; }
    case DT_INT64: memcpy(i, p, 8); break;
    case DT_BOOL: *i = p[0] != 0; break;
    }
    return;
  }
  switch (dt) {
  case DT_FLOAT: *f = t->float_data[k]; break;
  case DT_DOUBLE: *f = t->double_data[k]; break;
  case DT_FLOAT16: { MpcrtF16 h = {(uint16_t)t->int32_data[k]}; *f = mpcrtF16ToF32(h); break; }
  case DT_BFLOAT16: { MpcrtBF16 h = {(uint16_t)t->int32_data[k]}; *f = mpcrtBF16ToF32(h); break; }
  case DT_INT32: *i = t->int32_data[k]; break;
  case DT_INT64: *i = t->int64_data[k]; break;
  case DT_BOOL: *i = t->int32_data[k] != 0; break;
  }
}

/* A TensorProto as a constant Value; `what` names it in errors. */
static Value *tensorConst(Imp *m, const Onnx__TensorProto *t, const char *what) {
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    UNSUPPORTED(m, "%s keeps its data in an external file; re-export with the data inside the model", what);
    return NULL;
  }
  Ty ty;
  if (!tyFromOnnx(t->data_type, &ty)) {
    UNSUPPORTED(m, "%s has element type %s (mpc handles float16, bfloat16, float, double, int32, int64, bool)",
                what, onnxTypeName(t->data_type));
    return NULL;
  }
  if (t->n_dims > MAX_RANK) {
    UNSUPPORTED(m, "%s has rank %zu (at most %d)", what, t->n_dims, MAX_RANK);
    return NULL;
  }
  int64_t dims[MAX_RANK];
  for (size_t d = 0; d < t->n_dims; ++d)
    dims[d] = t->dims[d];
  if (!dimsOk((int)t->n_dims, dims, INT64_MAX / 16)) {
    INVALID(m, "%s has a negative or huge dimension", what);
    return NULL;
  }
  int64_t n = numElements((int)t->n_dims, dims);
  size_t have;
  if (t->has_raw_data)
    have = t->raw_data.len / onnxElementSize(t->data_type);
  else
    switch (t->data_type) {
    case DT_FLOAT: have = t->n_float_data; break;
    case DT_DOUBLE: have = t->n_double_data; break;
    case DT_INT64: have = t->n_int64_data; break;
    default: have = t->n_int32_data; break;
    }
  if ((t->has_raw_data && t->raw_data.len != (size_t)n * onnxElementSize(t->data_type)) ||
      (!t->has_raw_data && have != (size_t)n)) {
    INVALID(m, "%s: its shape holds %lld elements but its data holds %zu", what, (long long)n, have);
    return NULL;
  }
  Value *v = newConst(m, ty, (int)t->n_dims, dims);
  if (!v)
    return NULL;
  for (int64_t k = 0; k < n; ++k) {
    double f;
    int64_t i;
    tensorElement(t, k, &f, &i);
    if (v->f)
      v->f[k] = f;
    else
      v->i[k] = i;
  }
  return v;
}

/*---------------------------------------------------------------------------
 * Node attributes and inputs
 *---------------------------------------------------------------------------*/

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name) {
  for (size_t k = 0; k < n->n_attribute; ++k)
    if (n->attribute[k]->name && !strcmp(n->attribute[k]->name, name))
      return n->attribute[k];
  return NULL;
}

static int64_t attrInt(const Onnx__NodeProto *n, const char *name, int64_t dflt) {
  const Onnx__AttributeProto *a = attr(n, name);
  return a && a->has_i ? a->i : dflt;
}

static double attrFloat(const Onnx__NodeProto *n, const char *name, double dflt) {
  const Onnx__AttributeProto *a = attr(n, name);
  return a && a->has_f ? a->f : dflt;
}

/* A string attribute; `dflt` when absent. */
static const char *attrString(const Onnx__NodeProto *n, const char *name, const char *dflt, char *buf,
                              size_t size) {
  const Onnx__AttributeProto *a = attr(n, name);
  if (!a || !a->has_s)
    return dflt;
  size_t len = a->s.len < size - 1 ? a->s.len : size - 1;
  memcpy(buf, a->s.data, len);
  buf[len] = 0;
  return buf;
}

/* An ints attribute into out[max]; returns the count, -1 when absent, -2
 * when longer than max. */
static int attrInts(const Onnx__NodeProto *n, const char *name, int64_t *out, int max) {
  const Onnx__AttributeProto *a = attr(n, name);
  if (!a)
    return -1;
  if (a->n_ints > (size_t)max)
    return -2;
  for (size_t k = 0; k < a->n_ints; ++k)
    out[k] = a->ints[k];
  return (int)a->n_ints;
}

/* Input k of the current node; NULL when absent or empty (optional). */
static Value *input(Imp *m, int k) {
  const Onnx__NodeProto *n = m->node;
  if ((size_t)k >= n->n_input || !n->input[k] || !*n->input[k])
    return NULL;
  Value *v = lookup(m, n->input[k]);
  if (!v)
    INVALID(m, "input '%s' is not defined before this node (not a graph input, an initializer or an earlier "
               "node's output)", n->input[k]);
  return v;
}

static Value *needInput(Imp *m, int k) {
  if (m->failed)
    return NULL;
  Value *v = input(m, k);
  if (!v && !m->failed)
    INVALID(m, "input %d is missing", k);
  return v;
}

static bool needFloat(Imp *m, Value *v, const char *what) {
  if (!v || m->failed)
    return false;
  if (!tyIsFloat(v->ty)) {
    UNSUPPORTED(m, "%s is %s; mpc computes on float tensors (integer and bool values must be constants here)",
                what, tyOnnxNames[v->ty]);
    return false;
  }
  return true;
}

/* A constant integer list from an input (Reshape's shape, Slice's starts,
 * ...): up to max entries. Returns the count or -1 with an error. */
static int constInts(Imp *m, Value *v, const char *what, int64_t *out, int max) {
  if (!v || m->failed)
    return -1;
  if (!v->isConst) {
    UNSUPPORTED(m, "%s must be a constant (computed from initializers, Constant nodes or static shapes)", what);
    return -1;
  }
  if (tyIsFloat(v->ty) || v->rank > 1) {
    INVALID(m, "%s must be a 1-D integer tensor", what);
    return -1;
  }
  int64_t n = valueElements(v);
  if (n > max) {
    UNSUPPORTED(m, "%s has %lld entries (at most %d)", what, (long long)n, max);
    return -1;
  }
  for (int64_t k = 0; k < n; ++k)
    out[k] = v->i[k];
  return (int)n;
}

static bool normAxis(Imp *m, int64_t *axis, int rank, const char *what) {
  if (*axis < -rank || *axis >= (rank ? rank : 1)) {
    INVALID(m, "%s %lld is out of range for rank %d", what, (long long)*axis, rank);
    return false;
  }
  if (*axis < 0)
    *axis += rank;
  return true;
}

/*---------------------------------------------------------------------------
 * Shape helpers shared by the op mappings (each folds constants)
 *---------------------------------------------------------------------------*/

/* Flat index into `in` (broadcast to out's shape) of out's element k. */
static int64_t broadcastIndex(int64_t k, int outRank, const int64_t *outDims, int inRank, const int64_t *inDims) {
  int64_t idx = 0, stride = 1;
  for (int d = outRank - 1, e = inRank - 1; d >= 0; --d, --e) {
    int64_t c = k % outDims[d];
    k /= outDims[d];
    if (e >= 0) {
      if (inDims[e] != 1)
        idx += c * stride;
      stride *= inDims[e];
    }
  }
  return idx;
}

static bool broadcastShape(Imp *m, const Value *a, const Value *b, int *rank, int64_t *dims) {
  int r = a->rank > b->rank ? a->rank : b->rank;
  for (int d = 0; d < r; ++d) {
    int da = d - (r - a->rank), db = d - (r - b->rank);
    int64_t x = da >= 0 ? a->dims[da] : 1, y = db >= 0 ? b->dims[db] : 1;
    if (x != y && x != 1 && y != 1) {
      INVALID(m, "shapes do not broadcast: dimension %d is %lld in one operand and %lld in the other", d,
              (long long)x, (long long)y);
      return false;
    }
    dims[d] = x == 1 ? y : x;
  }
  *rank = r;
  return true;
}

static bool sameShape(const Value *v, int rank, const int64_t *dims) {
  if (v->rank != rank)
    return false;
  for (int d = 0; d < rank; ++d)
    if (v->dims[d] != dims[d])
      return false;
  return true;
}

static Value *reshape(Imp *m, Value *x, int rank, const int64_t *dims) {
  if (!x || m->failed)
    return NULL;
  if (sameShape(x, rank, dims))
    return x;
  if (numElements(rank, dims) != valueElements(x)) {
    INVALID(m, "cannot reshape %lld elements into %lld", (long long)valueElements(x),
            (long long)numElements(rank, dims));
    return NULL;
  }
  if (folds(x)) {
    Value *r = newConst(m, x->ty, rank, dims);
    if (r) {
      size_t n = (size_t)valueElements(x);
      if (x->f)
        memcpy(r->f, x->f, n * sizeof *x->f);
      else
        memcpy(r->i, x->i, n * sizeof *x->i);
    }
    return r;
  }
  if (x->ty == TY_BOOL) {
    UNSUPPORTED(m, "reshaping a bool tensor at run time");
    return NULL;
  }
  return emitOp1(m, "mpc.reshape", x, "", rank, dims); /* integers too (labels) */
}

static Value *broadcastTo(Imp *m, Value *x, int rank, const int64_t *dims) {
  if (!x || m->failed)
    return NULL;
  if (sameShape(x, rank, dims))
    return x;
  if (folds(x)) {
    Value *r = newConst(m, x->ty, rank, dims);
    if (!r)
      return NULL;
    for (int64_t k = 0, n = valueElements(r); k < n; ++k) {
      int64_t j = broadcastIndex(k, rank, dims, x->rank, x->dims);
      if (r->f)
        r->f[k] = x->f[j];
      else
        r->i[k] = x->i[j];
    }
    return r;
  }
  return emitOp1(m, "mpc.broadcast_to", x, "", rank, dims);
}

/* Row-major element strides of x. */
static void rowStrides(const Value *x, int64_t *strides) {
  int64_t s = 1;
  for (int d = x->rank - 1; d >= 0; --d) {
    strides[d] = s;
    s *= x->dims[d];
  }
}

/* A constant of shape dims (x's rank) whose element at coordinates c is x's
 * element at base + sum(c[d] * strides[d]): transposes and strided slices. */
static Value *copyStrided(Imp *m, Value *x, const int64_t *dims, int64_t base, const int64_t *strides) {
  Value *r = newConst(m, x->ty, x->rank, dims);
  if (!r)
    return NULL;
  for (int64_t k = 0, n = valueElements(r); k < n; ++k) {
    int64_t rem = k, j = base;
    for (int d = x->rank - 1; d >= 0; --d) {
      j += (rem % dims[d]) * strides[d];
      rem /= dims[d];
    }
    if (r->f)
      r->f[k] = x->f[j];
    else
      r->i[k] = x->i[j];
  }
  return r;
}

static Value *transpose(Imp *m, Value *x, const int64_t *perm) {
  if (!x || m->failed)
    return NULL;
  int64_t dims[MAX_RANK];
  bool identity = true;
  for (int d = 0; d < x->rank; ++d) {
    dims[d] = x->dims[perm[d]];
    identity &= perm[d] == d;
  }
  if (identity)
    return x;
  if (folds(x)) {
    int64_t in[MAX_RANK], strides[MAX_RANK];
    rowStrides(x, in);
    for (int d = 0; d < x->rank; ++d)
      strides[d] = in[perm[d]];
    return copyStrided(m, x, dims, 0, strides);
  }
  char a[160];
  formatInts(a, sizeof a, perm, x->rank);
  char attrs[180];
  snprintf(attrs, sizeof attrs, "perm = %s", a);
  return emitOp1(m, "mpc.transpose", x, attrs, x->rank, dims);
}

/* x[starts : starts + sizes : steps] (steps other than 1 only on constants). */
static Value *slice(Imp *m, Value *x, const int64_t *starts, const int64_t *sizes, const int64_t *steps) {
  if (!x || m->failed)
    return NULL;
  bool whole = true, unit = true;
  for (int d = 0; d < x->rank; ++d) {
    whole &= starts[d] == 0 && sizes[d] == x->dims[d] && (!steps || steps[d] == 1);
    unit &= !steps || steps[d] == 1;
  }
  if (whole)
    return x;
  if (folds(x)) {
    int64_t in[MAX_RANK], strides[MAX_RANK], base = 0;
    rowStrides(x, in);
    for (int d = 0; d < x->rank; ++d) {
      base += starts[d] * in[d];
      strides[d] = (steps ? steps[d] : 1) * in[d];
    }
    return copyStrided(m, x, sizes, base, strides);
  }
  if (!unit) {
    UNSUPPORTED(m, "slicing a runtime tensor with a step other than 1");
    return NULL;
  }
  char s1[160], s2[160], attrs[360];
  formatInts(s1, sizeof s1, starts, x->rank);
  formatInts(s2, sizeof s2, sizes, x->rank);
  snprintf(attrs, sizeof attrs, "starts = %s, sizes = %s", s1, s2);
  return emitOp1(m, "mpc.slice", x, attrs, x->rank, sizes);
}

/* Converts a constant to another element type (Cast, and exponents). */
static Value *convertConst(Imp *m, Value *x, Ty to) {
  Value *r = newConst(m, to, x->rank, x->dims);
  if (!r)
    return NULL;
  for (int64_t k = 0, n = valueElements(x); k < n; ++k) {
    double v = constGet(x, k);
    if (tyIsFloat(to))
      r->f[k] = roundTo(to, v);
    else if (to == TY_BOOL)
      r->i[k] = v != 0;
    else if (x->f) {
      if (!(fabs(v) < 9.2e18)) {
        UNSUPPORTED(m, "casting %g to an integer", v);
        return NULL;
      }
      r->i[k] = (int64_t)v; /* truncation, as ONNX Cast */
      if (to == TY_I32)
        r->i[k] = (int32_t)r->i[k];
    } else
      r->i[k] = to == TY_I32 ? (int32_t)x->i[k] : x->i[k];
  }
  return r;
}

/*---------------------------------------------------------------------------
 * Elementwise ops
 *---------------------------------------------------------------------------*/

typedef enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_POW, BIN_EQUAL, BIN_LESS, BIN_GREATER, BIN_AND, BIN_OR,
               BIN_MIN, BIN_MAX } BinKind;

static double foldBinF(BinKind k, double a, double b) {
  switch (k) {
  case BIN_ADD: return a + b;
  case BIN_SUB: return a - b;
  case BIN_MUL: return a * b;
  case BIN_DIV: return a / b;
  case BIN_POW: return pow(a, b);
  case BIN_EQUAL: return a == b;
  case BIN_LESS: return a < b;
  case BIN_GREATER: return a > b;
  case BIN_AND: return a != 0 && b != 0;
  case BIN_OR: return a != 0 || b != 0;
  case BIN_MIN: return a < b ? a : b;
  case BIN_MAX: return a > b ? a : b;
  }
  return 0;
}

static int64_t foldBinI(BinKind k, int64_t a, int64_t b, bool *divZero) {
  switch (k) {
  case BIN_ADD: return (int64_t)((uint64_t)a + (uint64_t)b);
  case BIN_SUB: return (int64_t)((uint64_t)a - (uint64_t)b);
  case BIN_MUL: return (int64_t)((uint64_t)a * (uint64_t)b);
  case BIN_DIV:
    if (b == 0 || (a == INT64_MIN && b == -1)) {
      *divZero = true;
      return 0;
    }
    return a / b;
  case BIN_POW: {
    int64_t r = 1;
    for (int64_t e = 0; e < b && e < 64; ++e)
      r = (int64_t)((uint64_t)r * (uint64_t)a);
    return r;
  }
  default: return (int64_t)foldBinF(k, (double)a, (double)b);
  }
}

static Value *binary(Imp *m, BinKind kind, Value *a, Value *b) {
  if (!a || !b || m->failed)
    return NULL;
  static const char *const names[] = {"mpc.add", "mpc.sub", "mpc.mul", "mpc.div", "mpc.pow"};
  bool compare = kind == BIN_EQUAL || kind == BIN_LESS || kind == BIN_GREATER || kind == BIN_AND || kind == BIN_OR;
  if (a->ty != b->ty && kind != BIN_POW) {
    INVALID(m, "operands have different element types (%s and %s)", tyOnnxNames[a->ty], tyOnnxNames[b->ty]);
    return NULL;
  }
  int rank;
  int64_t dims[MAX_RANK];
  if (!broadcastShape(m, a, b, &rank, dims))
    return NULL;
  if (folds(a) && folds(b)) {
    Ty ty = compare ? TY_BOOL : a->ty;
    Value *r = newConst(m, ty, rank, dims);
    if (!r)
      return NULL;
    bool divZero = false;
    for (int64_t k = 0, n = valueElements(r); k < n; ++k) {
      int64_t ia = broadcastIndex(k, rank, dims, a->rank, a->dims);
      int64_t ib = broadcastIndex(k, rank, dims, b->rank, b->dims);
      if (a->f && !compare)
        r->f[k] = roundTo(ty, foldBinF(kind, a->f[ia], constGet(b, ib)));
      else if (a->f)
        r->i[k] = (int64_t)foldBinF(kind, a->f[ia], b->f[ib]);
      else
        r->i[k] = foldBinI(kind, a->i[ia], constGetInt(b, ib), &divZero);
    }
    if (divZero) {
      INVALID(m, "integer division by zero in a constant");
      return NULL;
    }
    return r;
  }
  if (kind > BIN_POW) {
    UNSUPPORTED(m, "this op is folded only when all its inputs are constants");
    return NULL;
  }
  if (!needFloat(m, a, "the first operand"))
    return NULL;
  if (kind == BIN_POW && folds(b) && b->ty != a->ty)
    b = convertConst(m, b, a->ty);
  else if (!needFloat(m, b, "the second operand"))
    return NULL;
  if (!b)
    return NULL;
  if (kind == BIN_POW && b->ty != a->ty) {
    UNSUPPORTED(m, "Pow with a runtime exponent of another type (%s)", tyOnnxNames[b->ty]);
    return NULL;
  }
  Value *ins[2] = {a, b};
  return emitOp(m, names[kind], a->ty, rank, dims, "", ins, 2);
}

typedef enum { UN_NEG, UN_RELU, UN_TANH, UN_SIGMOID, UN_ERF, UN_EXP, UN_LOG, UN_SQRT, UN_RECIPROCAL,
               UN_NOT } UnKind;

static double foldUn(UnKind k, double x) {
  switch (k) {
  case UN_NEG: return -x;
  case UN_RELU: return x > 0 ? x : 0;
  case UN_TANH: return tanh(x);
  case UN_SIGMOID: return 1 / (1 + exp(-x));
  case UN_ERF: return erf(x);
  case UN_EXP: return exp(x);
  case UN_LOG: return log(x);
  case UN_SQRT: return sqrt(x);
  case UN_RECIPROCAL: return 1 / x;
  case UN_NOT: return x == 0;
  }
  return 0;
}

static Value *unary(Imp *m, UnKind kind, Value *x) {
  static const char *const names[] = {"mpc.neg", "mpc.relu", "mpc.tanh", "mpc.sigmoid", "mpc.erf",
                                       "mpc.exp", "mpc.log", "mpc.sqrt", "mpc.reciprocal"};
  if (!x || m->failed)
    return NULL;
  if (folds(x) && (tyIsFloat(x->ty) || kind == UN_NEG || kind == UN_RELU || kind == UN_NOT)) {
    Value *r = newConst(m, x->ty, x->rank, x->dims);
    if (!r)
      return NULL;
    for (int64_t k = 0, n = valueElements(x); k < n; ++k)
      if (r->f)
        r->f[k] = roundTo(x->ty, foldUn(kind, x->f[k]));
      else
        r->i[k] = kind == UN_NOT ? !x->i[k] : kind == UN_NEG ? -x->i[k] : x->i[k] > 0 ? x->i[k] : 0;
    return r;
  }
  if (kind == UN_NOT) {
    UNSUPPORTED(m, "this op is folded only when all its inputs are constants");
    return NULL;
  }
  if (!needFloat(m, x, "the input"))
    return NULL;
  return emitOp1(m, names[kind], x, "", x->rank, x->dims);
}

/*---------------------------------------------------------------------------
 * The op mappings
 *---------------------------------------------------------------------------*/

typedef bool (*Handler)(Imp *m);

static bool out(Imp *m, int k, Value *v) {
  if (!v || m->failed)
    return false;
  if ((size_t)k >= m->node->n_output)
    return true;
  return bind(m, m->node->output[k], v);
}

static bool outputUsed(Imp *m, int k) {
  return (size_t)k < m->node->n_output && m->node->output[k] && *m->node->output[k];
}

/* Before opset 7, binary ops broadcast only with broadcast=1 and an axis. */
static bool legacyBroadcast(Imp *m) {
  if (m->opset < 7 && (attr(m->node, "broadcast") || attr(m->node, "axis"))) {
    UNSUPPORTED(m, "opset-6 broadcasting (the broadcast and axis attributes)");
    return true;
  }
  return false;
}

#define BINARY(NAME, KIND) \
  static bool op_##NAME(Imp *m) { \
    return !legacyBroadcast(m) && out(m, 0, binary(m, KIND, needInput(m, 0), needInput(m, 1))); \
  }
BINARY(Add, BIN_ADD)
BINARY(Sub, BIN_SUB)
BINARY(Mul, BIN_MUL)
BINARY(Div, BIN_DIV)
BINARY(Pow, BIN_POW)
BINARY(Equal, BIN_EQUAL)
BINARY(Less, BIN_LESS)
BINARY(Greater, BIN_GREATER)
BINARY(And, BIN_AND)
BINARY(Or, BIN_OR)

#define UNARY(NAME, KIND) \
  static bool op_##NAME(Imp *m) { return out(m, 0, unary(m, KIND, needInput(m, 0))); }
UNARY(Neg, UN_NEG)
UNARY(Relu, UN_RELU)
UNARY(Tanh, UN_TANH)
UNARY(Sigmoid, UN_SIGMOID)
UNARY(Erf, UN_ERF)
UNARY(Exp, UN_EXP)
UNARY(Log, UN_LOG)
UNARY(Sqrt, UN_SQRT)
UNARY(Reciprocal, UN_RECIPROCAL)
UNARY(Not, UN_NOT)

static Value *gelu(Imp *m, Value *x, const char *approximate) {
  if (!needFloat(m, x, "the input"))
    return NULL;
  char attrs[64];
  snprintf(attrs, sizeof attrs, "approximate = \"%s\"", approximate);
  return emitOp1(m, "mpc.gelu", x, attrs, x->rank, x->dims);
}

static bool op_Gelu(Imp *m) {
  char buf[16];
  const char *a = attrString(m->node, "approximate", "none", buf, sizeof buf);
  if (strcmp(a, "none") && strcmp(a, "tanh")) {
    INVALID(m, "approximate must be \"none\" or \"tanh\", not \"%s\"", a);
    return false;
  }
  return out(m, 0, gelu(m, needInput(m, 0), a));
}

static bool op_Identity(Imp *m) { return out(m, 0, needInput(m, 0)); }

static bool op_Dropout(Imp *m) {
  Value *x = needInput(m, 0), *training = input(m, 2);
  if (training && (!training->isConst || valueElements(training) != 1 || constGet(training, 0) != 0)) {
    UNSUPPORTED(m, "Dropout in training mode (mpc imports inference graphs; training_mode must be false)");
    return false;
  }
  if (outputUsed(m, 1)) {
    UNSUPPORTED(m, "Dropout's mask output");
    return false;
  }
  return out(m, 0, x);
}

static bool op_Constant(Imp *m) {
  const Onnx__NodeProto *n = m->node;
  if (n->n_attribute != 1) {
    INVALID(m, "Constant needs exactly one value attribute");
    return false;
  }
  const Onnx__AttributeProto *a = n->attribute[0];
  const char *name = a->name ? a->name : "";
  if (!strcmp(name, "value") && a->t)
    return out(m, 0, tensorConst(m, a->t, "its value"));
  if (!strcmp(name, "value_float") && a->has_f)
    return out(m, 0, scalarConst(m, TY_F32, a->f));
  if (!strcmp(name, "value_int") && a->has_i)
    return out(m, 0, scalarConst(m, TY_I64, (double)a->i));
  if (!strcmp(name, "value_floats") || !strcmp(name, "value_ints")) {
    bool fl = name[6] == 'f';
    int64_t count = fl ? (int64_t)a->n_floats : (int64_t)a->n_ints;
    Value *v = newConst(m, fl ? TY_F32 : TY_I64, 1, &count);
    if (!v)
      return false;
    for (int64_t k = 0; k < count; ++k)
      if (fl)
        v->f[k] = a->floats[k];
      else
        v->i[k] = a->ints[k];
    return out(m, 0, v);
  }
  UNSUPPORTED(m, "Constant with attribute '%s' (value, value_float(s) and value_int(s) are supported)", name);
  return false;
}

static bool op_ConstantOfShape(Imp *m) {
  int64_t dims[MAX_RANK];
  int rank = constInts(m, needInput(m, 0), "the shape", dims, MAX_RANK);
  if (rank < 0)
    return false;
  Ty ty = TY_F32;
  double f = 0;
  int64_t i = 0;
  const Onnx__AttributeProto *a = attr(m->node, "value");
  if (a && a->t) {
    Value *v = tensorConst(m, a->t, "its value");
    if (!v)
      return false;
    if (valueElements(v) != 1) {
      INVALID(m, "value must hold one element");
      return false;
    }
    ty = v->ty;
    f = v->f ? v->f[0] : 0;
    i = v->i ? v->i[0] : 0;
  }
  for (int d = 0; d < rank; ++d)
    if (dims[d] < 0) {
      INVALID(m, "the shape has a negative dimension");
      return false;
    }
  Value *r = newConst(m, ty, rank, dims);
  if (!r)
    return false;
  for (int64_t k = 0, n = valueElements(r); k < n; ++k)
    if (r->f)
      r->f[k] = f;
    else
      r->i[k] = i;
  return out(m, 0, r);
}

static bool op_Shape(Imp *m) {
  Value *x = needInput(m, 0);
  if (!x)
    return false;
  int64_t start = attrInt(m->node, "start", 0), end = attrInt(m->node, "end", x->rank);
  if (start < 0)
    start += x->rank;
  if (end < 0)
    end += x->rank;
  start = start < 0 ? 0 : start > x->rank ? x->rank : start;
  end = end < 0 ? 0 : end > x->rank ? x->rank : end;
  int64_t n = end > start ? end - start : 0;
  Value *r = newConst(m, TY_I64, 1, &n);
  if (!r)
    return false;
  for (int64_t k = 0; k < n; ++k)
    r->i[k] = x->dims[start + k];
  return out(m, 0, r);
}

static bool op_Cast(Imp *m) {
  Value *x = needInput(m, 0);
  Ty to;
  int64_t dt = attrInt(m->node, "to", 0);
  if (!x)
    return false;
  if (!tyFromOnnx((int)dt, &to)) {
    UNSUPPORTED(m, "Cast to %s", onnxTypeName((int)dt));
    return false;
  }
  if (x->ty == to)
    return out(m, 0, x);
  if (folds(x))
    return out(m, 0, convertConst(m, x, to));
  if (!tyIsFloat(x->ty) || !tyIsFloat(to)) {
    UNSUPPORTED(m, "Cast of a runtime tensor from %s to %s (mpc casts between float types)",
                tyOnnxNames[x->ty], tyOnnxNames[to]);
    return false;
  }
  static const int width[] = {16, 16, 32, 64};
  const char *name = (x->ty == TY_F16 && to == TY_BF16) || (x->ty == TY_BF16 && to == TY_F16) ? NULL
                     : width[to] > width[x->ty]                                                 ? "arith.extf"
                                                                                                : "arith.truncf";
  if (!name) { /* f16 <-> bf16 goes through f32 */
    Value *wide = emitOp(m, "arith.extf", TY_F32, x->rank, x->dims, "", &x, 1);
    return wide && out(m, 0, emitOp(m, "arith.truncf", to, x->rank, x->dims, "", &wide, 1));
  }
  return out(m, 0, emitOp(m, name, to, x->rank, x->dims, "", &x, 1));
}

static bool op_Where(Imp *m) {
  Value *c = needInput(m, 0), *a = needInput(m, 1), *b = needInput(m, 2);
  if (m->failed)
    return false;
  if (c->ty != TY_BOOL) {
    INVALID(m, "the condition must be a bool tensor");
    return false;
  }
  int r1, rank;
  int64_t d1[MAX_RANK], dims[MAX_RANK];
  if (!broadcastShape(m, a, b, &r1, d1))
    return false;
  Value tmp = {.rank = r1};
  memcpy(tmp.dims, d1, sizeof d1);
  if (!broadcastShape(m, c, &tmp, &rank, dims))
    return false;
  if (a->ty != b->ty) {
    INVALID(m, "the two branches have different element types");
    return false;
  }
  if (folds(c) && folds(a) && folds(b)) {
    Value *r = newConst(m, a->ty, rank, dims);
    if (!r)
      return false;
    for (int64_t k = 0, n = valueElements(r); k < n; ++k) {
      bool pick = c->i[broadcastIndex(k, rank, dims, c->rank, c->dims)];
      Value *s = pick ? a : b;
      int64_t j = broadcastIndex(k, rank, dims, s->rank, s->dims);
      if (r->f)
        r->f[k] = s->f[j];
      else
        r->i[k] = s->i[j];
    }
    return out(m, 0, r);
  }
  if (!needFloat(m, a, "the first branch") || !needFloat(m, b, "the second branch"))
    return false;
  Value *ins[3] = {c, a, b};
  return out(m, 0, emitOp(m, "mpc.where", a->ty, rank, dims, "", ins, 3));
}

static bool op_Expand(Imp *m) {
  Value *x = needInput(m, 0);
  int64_t shape[MAX_RANK];
  int n = constInts(m, needInput(m, 1), "the shape", shape, MAX_RANK);
  if (n < 0)
    return false;
  Value target = {.rank = n};
  memcpy(target.dims, shape, (size_t)n * sizeof *shape);
  int rank;
  int64_t dims[MAX_RANK];
  if (!broadcastShape(m, x, &target, &rank, dims))
    return false;
  return out(m, 0, broadcastTo(m, x, rank, dims));
}

static bool op_Reshape(Imp *m) {
  Value *x = needInput(m, 0);
  int64_t shape[MAX_RANK];
  int n = constInts(m, needInput(m, 1), "the target shape", shape, MAX_RANK);
  if (n < 0)
    return false;
  bool allowZero = attrInt(m->node, "allowzero", 0) != 0;
  int infer = -1;
  int64_t known = 1;
  for (int d = 0; d < n; ++d) {
    if (shape[d] == 0 && !allowZero) {
      if (d >= x->rank) {
        INVALID(m, "shape entry %d is 0 (copy) but the input has rank %d", d, x->rank);
        return false;
      }
      shape[d] = x->dims[d];
    }
    if (shape[d] == -1) {
      if (infer >= 0) {
        INVALID(m, "the target shape has more than one -1");
        return false;
      }
      infer = d;
    } else if (shape[d] < 0) {
      INVALID(m, "the target shape has a negative entry %lld", (long long)shape[d]);
      return false;
    } else if (!dimsOk(1, &shape[d], INT64_MAX / (known ? known : 1))) {
      INVALID(m, "the target shape is too large");
      return false;
    } else
      known *= shape[d];
  }
  int64_t total = valueElements(x);
  if (infer >= 0) {
    if (known == 0 || total % known) {
      INVALID(m, "cannot infer the -1 entry: %lld elements do not divide by %lld", (long long)total,
              (long long)known);
      return false;
    }
    shape[infer] = total / known;
  }
  return out(m, 0, reshape(m, x, n, shape));
}

static bool op_Flatten(Imp *m) {
  Value *x = needInput(m, 0);
  if (!x)
    return false;
  int64_t axis = attrInt(m->node, "axis", 1);
  if (axis < -x->rank || axis > x->rank) {
    INVALID(m, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
    return false;
  }
  if (axis < 0)
    axis += x->rank;
  int64_t dims[2] = {numElements((int)axis, x->dims), numElements(x->rank - (int)axis, x->dims + axis)};
  return out(m, 0, reshape(m, x, 2, dims));
}

static bool op_Transpose(Imp *m) {
  Value *x = needInput(m, 0);
  if (!x)
    return false;
  int64_t perm[MAX_RANK];
  int n = attrInts(m->node, "perm", perm, MAX_RANK);
  if (n == -1) {
    n = x->rank;
    for (int d = 0; d < n; ++d)
      perm[d] = n - 1 - d;
  }
  if (n != x->rank) {
    INVALID(m, "perm has %d entries for a rank-%d input", n, x->rank);
    return false;
  }
  bool seen[MAX_RANK] = {0};
  for (int d = 0; d < n; ++d) {
    if (perm[d] < 0 || perm[d] >= n || seen[perm[d]]) {
      INVALID(m, "perm is not a permutation of 0..%d", n - 1);
      return false;
    }
    seen[perm[d]] = true;
  }
  return out(m, 0, transpose(m, x, perm));
}

/* Axes from an attribute (older opsets) or the given input. */
static int axesOf(Imp *m, int inputIndex, int64_t *axes) {
  int n = attrInts(m->node, "axes", axes, MAX_RANK);
  if (n == -2) {
    INVALID(m, "too many axes");
    return -2;
  }
  if (n >= 0)
    return n;
  Value *v = input(m, inputIndex);
  if (!v)
    return m->failed ? -2 : -1;
  n = constInts(m, v, "axes", axes, MAX_RANK);
  return n < 0 ? -2 : n;
}

static bool op_Squeeze(Imp *m) {
  Value *x = needInput(m, 0);
  int64_t axes[MAX_RANK];
  int n = x ? axesOf(m, 1, axes) : -2;
  if (n == -2)
    return false;
  bool drop[MAX_RANK] = {0};
  for (int k = 0; k < n; ++k) {
    if (!normAxis(m, &axes[k], x->rank, "axis"))
      return false;
    if (x->dims[axes[k]] != 1) {
      INVALID(m, "cannot squeeze axis %lld of size %lld", (long long)axes[k], (long long)x->dims[axes[k]]);
      return false;
    }
    drop[axes[k]] = true;
  }
  int rank = 0;
  int64_t dims[MAX_RANK];
  for (int d = 0; d < x->rank; ++d)
    if (!(n < 0 ? x->dims[d] == 1 : drop[d]))
      dims[rank++] = x->dims[d];
  return out(m, 0, reshape(m, x, rank, dims));
}

static bool op_Unsqueeze(Imp *m) {
  Value *x = needInput(m, 0);
  int64_t axes[MAX_RANK];
  int n = x ? axesOf(m, 1, axes) : -2;
  if (n == -2)
    return false;
  if (n < 0) {
    INVALID(m, "axes are required");
    return false;
  }
  int rank = x->rank + n;
  if (rank > MAX_RANK) {
    UNSUPPORTED(m, "a result of rank %d (at most %d)", rank, MAX_RANK);
    return false;
  }
  bool add[MAX_RANK] = {0};
  for (int k = 0; k < n; ++k) {
    if (!normAxis(m, &axes[k], rank, "axis"))
      return false;
    if (add[axes[k]]) {
      INVALID(m, "axis %lld is repeated", (long long)axes[k]);
      return false;
    }
    add[axes[k]] = true;
  }
  int64_t dims[MAX_RANK];
  for (int d = 0, s = 0; d < rank; ++d)
    dims[d] = add[d] ? 1 : x->dims[s++];
  return out(m, 0, reshape(m, x, rank, dims));
}

static Value *concat(Imp *m, Value **ins, int n, int64_t axis) {
  Value *first = ins[0];
  int64_t dims[MAX_RANK];
  memcpy(dims, first->dims, sizeof dims);
  bool allConst = true;
  dims[axis] = 0;
  for (int k = 0; k < n; ++k) {
    Value *v = ins[k];
    if (v->rank != first->rank || v->ty != first->ty) {
      INVALID(m, "inputs 0 and %d differ in rank or element type", k);
      return NULL;
    }
    for (int d = 0; d < v->rank; ++d)
      if (d != axis && v->dims[d] != first->dims[d]) {
        INVALID(m, "inputs 0 and %d differ in dimension %d (%lld and %lld)", k, d, (long long)first->dims[d],
                (long long)v->dims[d]);
        return NULL;
      }
    dims[axis] += v->dims[axis];
    allConst &= folds(v);
  }
  if (allConst) {
    Value *r = newConst(m, first->ty, first->rank, dims);
    if (!r)
      return NULL;
    int64_t outer = numElements((int)axis, dims), inner = numElements(first->rank - (int)axis - 1, dims + axis + 1);
    int64_t pos = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int k = 0; k < n; ++k) {
        int64_t chunk = ins[k]->dims[axis] * inner;
        for (int64_t e = 0; e < chunk; ++e, ++pos)
          if (r->f)
            r->f[pos] = ins[k]->f[o * chunk + e];
          else
            r->i[pos] = ins[k]->i[o * chunk + e];
      }
    return r;
  }
  if (!needFloat(m, first, "the first input"))
    return NULL;
  Value *kept[64];
  int numKept = 0;
  for (int k = 0; k < n; ++k)
    if (ins[k]->dims[axis] > 0)
      kept[numKept++] = ins[k];
  if (numKept == 1)
    return kept[0];
  char attrs[64];
  snprintf(attrs, sizeof attrs, "axis = %lld : i64", (long long)axis);
  return emitOp(m, "mpc.concat", first->ty, first->rank, dims, attrs, kept, numKept);
}

static bool op_Concat(Imp *m) {
  int n = (int)m->node->n_input;
  if (n < 1 || n > 64) {
    UNSUPPORTED(m, "Concat of %d inputs (1 to 64)", n);
    return false;
  }
  Value *ins[64];
  for (int k = 0; k < n; ++k)
    if (!(ins[k] = needInput(m, k)))
      return false;
  int64_t axis = attrInt(m->node, "axis", INT64_MIN);
  if (axis == INT64_MIN) {
    INVALID(m, "axis is required");
    return false;
  }
  if (ins[0]->rank == 0) {
    INVALID(m, "cannot concatenate scalars");
    return false;
  }
  if (!normAxis(m, &axis, ins[0]->rank, "axis"))
    return false;
  return out(m, 0, concat(m, ins, n, axis));
}

static bool op_Split(Imp *m) {
  Value *x = needInput(m, 0);
  if (!x)
    return false;
  int64_t axis = attrInt(m->node, "axis", 0);
  if (!normAxis(m, &axis, x->rank, "axis"))
    return false;
  int outs = (int)m->node->n_output;
  int64_t sizes[64];
  if (outs < 1 || outs > 64) {
    UNSUPPORTED(m, "Split into %d outputs (1 to 64)", outs);
    return false;
  }
  int n = attrInts(m->node, "split", sizes, 64);
  if (n == -1 && input(m, 1))
    n = constInts(m, input(m, 1), "the split sizes", sizes, 64);
  if (m->failed)
    return false;
  int64_t dim = x->dims[axis];
  if (n < 0) {
    int64_t numOutputs = attrInt(m->node, "num_outputs", outs);
    int64_t each = (dim + numOutputs - 1) / (numOutputs ? numOutputs : 1);
    if (m->opset < 18 && dim % outs) {
      INVALID(m, "dimension %lld does not split evenly into %d outputs", (long long)dim, outs);
      return false;
    }
    n = outs;
    for (int k = 0; k < n; ++k)
      sizes[k] = k + 1 < n ? each : dim - each * (n - 1);
  }
  if (n != outs) {
    INVALID(m, "%d split sizes for %d outputs", n, outs);
    return false;
  }
  int64_t total = 0;
  for (int k = 0; k < n; ++k) {
    if (sizes[k] < 0) {
      INVALID(m, "a split size is negative");
      return false;
    }
    total += sizes[k];
  }
  if (total != dim) {
    INVALID(m, "the split sizes add up to %lld, not %lld", (long long)total, (long long)dim);
    return false;
  }
  int64_t starts[MAX_RANK] = {0}, size[MAX_RANK];
  memcpy(size, x->dims, sizeof size);
  for (int k = 0; k < n; ++k) {
    size[axis] = sizes[k];
    if (!out(m, k, slice(m, x, starts, size, NULL)))
      return false;
    starts[axis] += sizes[k];
  }
  return true;
}

static bool op_Slice(Imp *m) {
  Value *x = needInput(m, 0);
  if (!x)
    return false;
  int64_t st[MAX_RANK], en[MAX_RANK], ax[MAX_RANK], sp[MAX_RANK];
  int n, ne, na = -1, ns = -1;
  if (m->opset < 10) {
    n = attrInts(m->node, "starts", st, MAX_RANK);
    ne = attrInts(m->node, "ends", en, MAX_RANK);
    na = attrInts(m->node, "axes", ax, MAX_RANK);
  } else {
    n = constInts(m, needInput(m, 1), "starts", st, MAX_RANK);
    ne = constInts(m, needInput(m, 2), "ends", en, MAX_RANK);
    if (input(m, 3))
      na = constInts(m, input(m, 3), "axes", ax, MAX_RANK);
    if (input(m, 4))
      ns = constInts(m, input(m, 4), "steps", sp, MAX_RANK);
  }
  if (m->failed)
    return false;
  if (n < 0 || n != ne || (na >= 0 && na != n) || (ns >= 0 && ns != n)) {
    INVALID(m, "starts, ends, axes and steps must have the same length");
    return false;
  }
  int64_t starts[MAX_RANK] = {0}, sizes[MAX_RANK], steps[MAX_RANK];
  bool seen[MAX_RANK] = {0};
  for (int d = 0; d < x->rank; ++d) {
    sizes[d] = x->dims[d];
    steps[d] = 1;
  }
  for (int k = 0; k < n; ++k) {
    int64_t a = na >= 0 ? ax[k] : k, step = ns >= 0 ? sp[k] : 1;
    if (!normAxis(m, &a, x->rank, "axis"))
      return false;
    if (seen[a]) {
      INVALID(m, "axis %lld is repeated", (long long)a);
      return false;
    }
    seen[a] = true;
    if (step == 0) {
      INVALID(m, "a step is 0");
      return false;
    }
    int64_t dim = x->dims[a], s = st[k], e = en[k];
    if (s < 0)
      s = s < -dim ? 0 : s + dim;
    if (e < 0)
      e = e < -dim ? (step > 0 ? 0 : -1) : e + dim;
    if (step > 0) {
      s = s > dim ? dim : s;
      e = e > dim ? dim : e;
      sizes[a] = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = s > dim - 1 ? dim - 1 : s;
      e = e > dim - 1 ? dim - 1 : e;
      sizes[a] = s > e ? (s - e + (-step) - 1) / (-step) : 0;
    }
    starts[a] = s;
    steps[a] = step;
  }
  for (int d = 0; d < x->rank; ++d)
    if (sizes[d] == 0) {
      UNSUPPORTED(m, "an empty slice (dimension %d has size 0)", d);
      return false;
    }
  return out(m, 0, slice(m, x, starts, sizes, steps));
}

static bool op_Gather(Imp *m) {
  Value *data = needInput(m, 0), *idx = needInput(m, 1);
  if (m->failed)
    return false;
  int64_t axis = attrInt(m->node, "axis", 0);
  if (!normAxis(m, &axis, data->rank, "axis"))
    return false;
  if (tyIsFloat(idx->ty) || idx->ty == TY_BOOL) {
    INVALID(m, "the indices must be integers");
    return false;
  }
  int rank = data->rank - 1 + idx->rank;
  if (rank > MAX_RANK) {
    UNSUPPORTED(m, "a result of rank %d", rank);
    return false;
  }
  int64_t dims[MAX_RANK];
  int r = 0;
  for (int d = 0; d < axis; ++d)
    dims[r++] = data->dims[d];
  for (int d = 0; d < idx->rank; ++d)
    dims[r++] = idx->dims[d];
  for (int d = (int)axis + 1; d < data->rank; ++d)
    dims[r++] = data->dims[d];
  int64_t len = data->dims[axis];
  if (idx->isConst) {
    int64_t count = valueElements(idx);
    for (int64_t k = 0; k < count; ++k)
      if (idx->i[k] < -len || idx->i[k] >= len) {
        INVALID(m, "index %lld is out of range for dimension %lld of size %lld", (long long)idx->i[k],
                (long long)axis, (long long)len);
        return false;
      }
    if (folds(data)) {
      Value *res = newConst(m, data->ty, rank, dims);
      if (!res)
        return false;
      int64_t outer = numElements((int)axis, data->dims), inner = numElements(data->rank - (int)axis - 1,
                                                                              data->dims + axis + 1);
      int64_t pos = 0;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < count; ++k) {
          int64_t j = idx->i[k] < 0 ? idx->i[k] + len : idx->i[k];
          for (int64_t e = 0; e < inner; ++e, ++pos)
            if (res->f)
              res->f[pos] = data->f[(o * len + j) * inner + e];
            else
              res->i[pos] = data->i[(o * len + j) * inner + e];
        }
      return out(m, 0, res);
    }
    /* Constant indices into a runtime tensor: slices, then a concat. */
    if (count > 64) {
      UNSUPPORTED(m, "Gather of %lld constant indices from a runtime tensor along axis %lld", (long long)count,
                  (long long)axis);
      return false;
    }
    Value *parts[64];
    int64_t starts[MAX_RANK] = {0}, sizes[MAX_RANK];
    memcpy(sizes, data->dims, sizeof sizes);
    sizes[axis] = 1;
    for (int64_t k = 0; k < count; ++k) {
      starts[axis] = idx->i[k] < 0 ? idx->i[k] + len : idx->i[k];
      if (!(parts[k] = slice(m, data, starts, sizes, NULL)))
        return false;
    }
    Value *joined = count == 1 ? parts[0] : concat(m, parts, (int)count, axis);
    return out(m, 0, reshape(m, joined, rank, dims));
  }
  /* Runtime indices: an embedding lookup along axis 0. */
  if (axis != 0 || !tyIsFloat(data->ty)) {
    UNSUPPORTED(m, "Gather with runtime indices along axis %lld of a %s tensor (axis 0 of a float table is an "
                   "embedding)", (long long)axis, tyOnnxNames[data->ty]);
    return false;
  }
  int64_t table[2] = {len, numElements(data->rank - 1, data->dims + 1)};
  Value *t = reshape(m, data, 2, table);
  Value *ids = idx->rank ? idx : reshape(m, idx, 1, (int64_t[]){1});
  if (!t || !ids)
    return false;
  int64_t edims[MAX_RANK];
  memcpy(edims, ids->dims, (size_t)ids->rank * sizeof *edims);
  edims[ids->rank] = table[1];
  Value *ins[2] = {t, ids};
  Value *e = emitOp(m, "mpc.embedding", data->ty, ids->rank + 1, edims, "", ins, 2);
  return out(m, 0, reshape(m, e, rank, dims));
}

/* Rank-2 matmul or batched, with numpy's 1-D and broadcasting rules. */
static bool op_MatMul(Imp *m) {
  Value *a = needInput(m, 0), *b = needInput(m, 1);
  if (!needFloat(m, a, "A") || !needFloat(m, b, "B"))
    return false;
  if (a->ty != b->ty) {
    INVALID(m, "A and B have different element types");
    return false;
  }
  if (a->rank == 0 || b->rank == 0) {
    INVALID(m, "MatMul operands must have rank 1 or more");
    return false;
  }
  bool aVec = a->rank == 1, bVec = b->rank == 1;
  if (aVec)
    a = reshape(m, a, 2, (int64_t[]){1, a->dims[0]});
  if (bVec)
    b = reshape(m, b, 2, (int64_t[]){b->dims[0], 1});
  if (!a || !b)
    return false;
  int64_t M = a->dims[a->rank - 2], K = a->dims[a->rank - 1], K2 = b->dims[b->rank - 2], N = b->dims[b->rank - 1];
  if (K != K2) {
    INVALID(m, "A has %lld columns but B has %lld rows", (long long)K, (long long)K2);
    return false;
  }
  /* The broadcast batch dims. */
  Value ba = {.rank = a->rank - 2}, bb = {.rank = b->rank - 2};
  memcpy(ba.dims, a->dims, (size_t)ba.rank * sizeof(int64_t));
  memcpy(bb.dims, b->dims, (size_t)bb.rank * sizeof(int64_t));
  int batchRank;
  int64_t batch[MAX_RANK];
  if (!broadcastShape(m, &ba, &bb, &batchRank, batch))
    return false;
  if (batchRank + 2 > MAX_RANK) {
    UNSUPPORTED(m, "a result of rank %d", batchRank + 2);
    return false;
  }
  int64_t outDims[MAX_RANK];
  memcpy(outDims, batch, (size_t)batchRank * sizeof *batch);
  outDims[batchRank] = M;
  outDims[batchRank + 1] = N;
  Value *r;
  if (b->rank == 2) {
    /* [..., M, K] x [K, N]: one matrix product over the flattened rows. */
    int64_t rows = numElements(a->rank - 1, a->dims);
    Value *flat = reshape(m, a, 2, (int64_t[]){rows, K});
    Value *ins[2] = {flat, b};
    r = flat ? emitOp(m, "mpc.matmul", a->ty, 2, (int64_t[]){rows, N}, "", ins, 2) : NULL;
  } else {
    int64_t da[MAX_RANK], db[MAX_RANK];
    memcpy(da, batch, sizeof batch);
    memcpy(db, batch, sizeof batch);
    da[batchRank] = M, da[batchRank + 1] = K;
    db[batchRank] = K, db[batchRank + 1] = N;
    Value *ins[2] = {broadcastTo(m, a, batchRank + 2, da), broadcastTo(m, b, batchRank + 2, db)};
    r = ins[0] && ins[1] ? emitOp(m, "mpc.matmul", a->ty, batchRank + 2, outDims, "", ins, 2) : NULL;
  }
  /* Drop the dims that 1-D operands added. */
  int64_t finalDims[MAX_RANK];
  int fr = 0;
  for (int d = 0; d < batchRank; ++d)
    finalDims[fr++] = batch[d];
  if (!aVec)
    finalDims[fr++] = M;
  if (!bVec)
    finalDims[fr++] = N;
  return out(m, 0, reshape(m, r, fr, finalDims));
}

static bool op_Gemm(Imp *m) {
  Value *a = needInput(m, 0), *b = needInput(m, 1), *c = input(m, 2);
  if (!needFloat(m, a, "A") || !needFloat(m, b, "B"))
    return false;
  if (a->rank != 2 || b->rank != 2) {
    INVALID(m, "A and B must be matrices");
    return false;
  }
  double alpha = attrFloat(m->node, "alpha", 1.0), beta = attrFloat(m->node, "beta", 1.0);
  bool transA = attrInt(m->node, "transA", 0), transB = attrInt(m->node, "transB", 0);
  if (transA)
    a = transpose(m, a, (int64_t[]){1, 0});
  if (!a)
    return false;
  int64_t M = a->dims[0], K = a->dims[1], N = transB ? b->dims[0] : b->dims[1];
  if ((transB ? b->dims[1] : b->dims[0]) != K) {
    INVALID(m, "A has %lld columns but B has %lld rows", (long long)K,
            (long long)(transB ? b->dims[1] : b->dims[0]));
    return false;
  }
  int64_t dims[2] = {M, N};
  bool biasFused = c && c->rank == 1 && c->dims[0] == N && beta == 1.0 && transB && c->ty == a->ty;
  Value *ins[3] = {a, b, c};
  Value *y = transB ? emitOp(m, "mpc.linear", a->ty, 2, dims, "", ins, biasFused ? 3 : 2)
                    : emitOp(m, "mpc.matmul", a->ty, 2, dims, "", ins, 2);
  if (alpha != 1.0)
    y = binary(m, BIN_MUL, y, scalarConst(m, a->ty, roundTo(a->ty, alpha)));
  if (c && !biasFused) {
    if (beta != 1.0)
      c = binary(m, BIN_MUL, c, scalarConst(m, c->ty, roundTo(c->ty, beta)));
    y = binary(m, BIN_ADD, y, c);
    if (y && !sameShape(y, 2, dims)) {
      INVALID(m, "C does not broadcast to the result's shape");
      return false;
    }
  }
  return out(m, 0, y);
}

static Value *softmaxLike(Imp *m, const char *name, Value *x, int64_t axis) {
  char attrs[64];
  if (!needFloat(m, x, "the input"))
    return NULL;
  if (x->rank == 0) {
    INVALID(m, "the input must have rank 1 or more");
    return NULL;
  }
  if (!normAxis(m, &axis, x->rank, "axis"))
    return NULL;
  if (m->opset < 13 && axis != x->rank - 1) {
    /* Before opset 13 the input is coerced to 2-D at the axis. */
    int64_t flat[2] = {numElements((int)axis, x->dims), numElements(x->rank - (int)axis, x->dims + axis)};
    Value *f = reshape(m, x, 2, flat);
    snprintf(attrs, sizeof attrs, "axis = 1 : i64");
    Value *r = f ? emitOp1(m, name, f, attrs, 2, flat) : NULL;
    return reshape(m, r, x->rank, x->dims);
  }
  snprintf(attrs, sizeof attrs, "axis = %lld : i64", (long long)axis);
  return emitOp1(m, name, x, attrs, x->rank, x->dims);
}

static bool op_Softmax(Imp *m) {
  return out(m, 0, softmaxLike(m, "mpc.softmax", needInput(m, 0), attrInt(m->node, "axis", m->opset < 13 ? 1 : -1)));
}
static bool op_LogSoftmax(Imp *m) {
  return out(m, 0,
             softmaxLike(m, "mpc.log_softmax", needInput(m, 0), attrInt(m->node, "axis", m->opset < 13 ? 1 : -1)));
}

static Value *layerNorm(Imp *m, Value *x, Value *gamma, Value *beta, int64_t axis, double eps) {
  if (!needFloat(m, x, "the input") || !gamma)
    return NULL;
  if (!(eps >= 0 && isfinite(eps))) {
    INVALID(m, "epsilon must be finite and non-negative, not %g", eps);
    return NULL;
  }
  if (x->rank == 0 || !normAxis(m, &axis, x->rank, "axis"))
    return NULL;
  /* Normalising over several trailing dims: flatten them into one. */
  int64_t D = numElements(x->rank - (int)axis, x->dims + axis);
  int64_t flat[MAX_RANK];
  memcpy(flat, x->dims, sizeof flat);
  flat[axis] = D;
  Value *xf = reshape(m, x, (int)axis + 1, flat);
  if (valueElements(gamma) != D || (beta && valueElements(beta) != D)) {
    INVALID(m, "the scale and bias must have the normalised dims' %lld elements", (long long)D);
    return NULL;
  }
  Value *g = reshape(m, gamma, 1, &D);
  Value *b = beta ? reshape(m, beta, 1, &D) : newConst(m, x->ty, 1, &D);
  if (!xf || !g || !b)
    return NULL;
  if (g->ty != x->ty || b->ty != x->ty) {
    UNSUPPORTED(m, "a scale or bias of another type than the input");
    return NULL;
  }
  /* An MLIR float literal needs a '.' or an exponent: 13125420056576 is an integer. */
  char num[40], attrs[64];
  snprintf(num, sizeof num, "%.17g", eps);
  snprintf(attrs, sizeof attrs, "eps = %s%s : f64", num, strpbrk(num, ".e") ? "" : ".0");
  Value *ins[3] = {xf, g, b};
  Value *y = emitOp(m, "mpc.layer_norm", x->ty, xf->rank, xf->dims, attrs, ins, 3);
  return reshape(m, y, x->rank, x->dims);
}

static Value *reduceOp(Imp *m, const char *name, Value *x, const int64_t *axes, int n, bool keep);

static bool op_LayerNormalization(Imp *m) {
  if (attrInt(m->node, "stash_type", 1) != 1) {
    UNSUPPORTED(m, "stash_type other than float");
    return false;
  }
  Value *x = needInput(m, 0);
  int64_t axis = attrInt(m->node, "axis", -1);
  double eps = attrFloat(m->node, "epsilon", 1e-5);
  if (!out(m, 0, layerNorm(m, x, needInput(m, 1), input(m, 2), axis, eps)))
    return false;
  if (!outputUsed(m, 1) && !outputUsed(m, 2))
    return true;
  /* Mean and InvStdDev, shaped like x with the normalised dims set to 1. */
  if (x->ty != TY_F32 && x->ty != TY_F64) {
    UNSUPPORTED(m, "LayerNormalization's Mean and InvStdDev outputs for a %s input", tyOnnxNames[x->ty]);
    return false;
  }
  normAxis(m, &axis, x->rank, "axis");
  int64_t flat[MAX_RANK], statDims[MAX_RANK];
  memcpy(flat, x->dims, sizeof flat);
  flat[axis] = numElements(x->rank - (int)axis, x->dims + axis);
  for (int d = 0; d < x->rank; ++d)
    statDims[d] = d < axis ? x->dims[d] : 1;
  Value *xf = reshape(m, x, (int)axis + 1, flat);
  Value *mean = reduceOp(m, "mpc.reduce_mean", xf, &axis, 1, true);
  Value *dev = binary(m, BIN_SUB, xf, mean);
  Value *var = reduceOp(m, "mpc.reduce_mean", binary(m, BIN_MUL, dev, dev), &axis, 1, true);
  Value *shifted = binary(m, BIN_ADD, var, scalarConst(m, x->ty, roundTo(x->ty, eps)));
  Value *inv = shifted ? emitOp1(m, "mpc.rsqrt", shifted, "", shifted->rank, shifted->dims) : NULL;
  return out(m, 1, reshape(m, mean, x->rank, statDims)) && out(m, 2, reshape(m, inv, x->rank, statDims));
}

typedef enum { RED_SUM, RED_MEAN, RED_MAX, RED_MIN, RED_SUM_SQUARE, RED_L1, RED_L2, RED_LOG_SUM,
               RED_LOG_SUM_EXP } RedKind;

static Value *absValue(Imp *m, Value *x);

/* The reductions mpc has as ops, and the others written with them (each
 * exact up to the rounding of the ops it uses). */
static bool reduce(Imp *m, RedKind kind) {
  Value *x = needInput(m, 0);
  if (!needFloat(m, x, "the input"))
    return false;
  /* ReduceSum takes axes as an input from opset 13, the others from 18. */
  int64_t axes[MAX_RANK];
  int n = axesOf(m, 1, axes);
  if (n == -2)
    return false;
  bool keep = attrInt(m->node, "keepdims", 1) != 0;
  bool noop = attrInt(m->node, "noop_with_empty_axes", 0) != 0;
  if ((n <= 0 && noop) || x->rank == 0) {
    if (kind == RED_SUM || kind == RED_MEAN || kind == RED_MAX || kind == RED_MIN)
      return out(m, 0, x);
    UNSUPPORTED(m, "an empty reduction");
    return false;
  }
  bool red[MAX_RANK] = {0};
  if (n <= 0) {
    n = x->rank;
    for (int d = 0; d < n; ++d)
      axes[d] = d;
  }
  for (int k = 0; k < n; ++k) {
    if (!normAxis(m, &axes[k], x->rank, "axis"))
      return false;
    red[axes[k]] = true;
  }
  int64_t sorted[MAX_RANK];
  int ns = 0;
  for (int d = 0; d < x->rank; ++d)
    if (red[d])
      sorted[ns++] = d;
  Value *y;
  switch (kind) {
  case RED_SUM: y = reduceOp(m, "mpc.reduce_sum", x, sorted, ns, keep); break;
  case RED_MEAN: y = reduceOp(m, "mpc.reduce_mean", x, sorted, ns, keep); break;
  case RED_MAX: y = reduceOp(m, "mpc.reduce_max", x, sorted, ns, keep); break;
  case RED_MIN: y = unary(m, UN_NEG, reduceOp(m, "mpc.reduce_max", unary(m, UN_NEG, x), sorted, ns, keep)); break;
  case RED_SUM_SQUARE: y = reduceOp(m, "mpc.reduce_sum", binary(m, BIN_MUL, x, x), sorted, ns, keep); break;
  case RED_L1: y = reduceOp(m, "mpc.reduce_sum", absValue(m, x), sorted, ns, keep); break;
  case RED_L2: y = unary(m, UN_SQRT, reduceOp(m, "mpc.reduce_sum", binary(m, BIN_MUL, x, x), sorted, ns, keep)); break;
  case RED_LOG_SUM: y = unary(m, UN_LOG, reduceOp(m, "mpc.reduce_sum", x, sorted, ns, keep)); break;
  case RED_LOG_SUM_EXP: {
    /* max + log(sum(exp(x - max))): no overflow for large x. */
    Value *mx = reduceOp(m, "mpc.reduce_max", x, sorted, ns, true);
    Value *s = reduceOp(m, "mpc.reduce_sum", unary(m, UN_EXP, binary(m, BIN_SUB, x, mx)), sorted, ns, true);
    y = binary(m, BIN_ADD, unary(m, UN_LOG, s), mx);
    if (y && !keep) {
      int64_t dims[MAX_RANK];
      int rank = 0;
      for (int d = 0; d < x->rank; ++d)
        if (!red[d])
          dims[rank++] = x->dims[d];
      y = reshape(m, y, rank, dims);
    }
    break;
  }
  default: y = NULL;
  }
  return out(m, 0, y);
}
static bool op_ReduceSum(Imp *m) { return reduce(m, RED_SUM); }
static bool op_ReduceMean(Imp *m) { return reduce(m, RED_MEAN); }
static bool op_ReduceMax(Imp *m) { return reduce(m, RED_MAX); }
static bool op_ReduceMin(Imp *m) { return reduce(m, RED_MIN); }
static bool op_ReduceSumSquare(Imp *m) { return reduce(m, RED_SUM_SQUARE); }
static bool op_ReduceL1(Imp *m) { return reduce(m, RED_L1); }
static bool op_ReduceL2(Imp *m) { return reduce(m, RED_L2); }
static bool op_ReduceLogSum(Imp *m) { return reduce(m, RED_LOG_SUM); }
static bool op_ReduceLogSumExp(Imp *m) { return reduce(m, RED_LOG_SUM_EXP); }

static bool globalPool(Imp *m, bool isMax) {
  Value *x = needInput(m, 0);
  if (!needFloat(m, x, "X"))
    return false;
  if (x->rank < 3) {
    INVALID(m, "the input must be [N, C, spatial...]");
    return false;
  }
  int64_t axes[MAX_RANK];
  for (int d = 2; d < x->rank; ++d)
    axes[d - 2] = d;
  return out(m, 0, reduceOp(m, isMax ? "mpc.reduce_max" : "mpc.reduce_mean", x, axes, x->rank - 2, true));
}
static bool op_GlobalAveragePool(Imp *m) { return globalPool(m, false); }
static bool op_GlobalMaxPool(Imp *m) { return globalPool(m, true); }

/*---------------------------------------------------------------------------
 * Activations written with mpc ops: relu(x) and relu(-x) split x exactly
 * into its positive and negative parts (one of them is 0).
 *---------------------------------------------------------------------------*/

static Value *absValue(Imp *m, Value *x) {
  return binary(m, BIN_ADD, unary(m, UN_RELU, x), unary(m, UN_RELU, unary(m, UN_NEG, x)));
}

static Value *floatConst(Imp *m, Value *like, double v) {
  return like ? scalarConst(m, like->ty, roundTo(like->ty, v)) : NULL;
}

static bool op_Abs(Imp *m) {
  Value *x = needInput(m, 0);
  return needFloat(m, x, "the input") && out(m, 0, absValue(m, x));
}

/* relu(x) - slope * relu(-x) */
static Value *leaky(Imp *m, Value *x, Value *slope) {
  return binary(m, BIN_SUB, unary(m, UN_RELU, x), binary(m, BIN_MUL, unary(m, UN_RELU, unary(m, UN_NEG, x)), slope));
}

static bool op_LeakyRelu(Imp *m) {
  Value *x = needInput(m, 0);
  return needFloat(m, x, "the input") && out(m, 0, leaky(m, x, floatConst(m, x, attrFloat(m->node, "alpha", 0.01))));
}

static bool op_PRelu(Imp *m) {
  Value *x = needInput(m, 0), *slope = needInput(m, 1);
  return needFloat(m, x, "the input") && needFloat(m, slope, "the slope") && out(m, 0, leaky(m, x, slope));
}

/* scale * (relu(x) + alpha * (exp(-relu(-x) / div) - 1)): Elu, Selu, Celu. */
static Value *eluLike(Imp *m, Value *x, double alpha, double div, double scale) {
  Value *negPart = unary(m, UN_NEG, unary(m, UN_RELU, unary(m, UN_NEG, x)));
  if (div != 1.0)
    negPart = binary(m, BIN_DIV, negPart, floatConst(m, x, div));
  Value *e = binary(m, BIN_SUB, unary(m, UN_EXP, negPart), floatConst(m, x, 1.0));
  Value *y = binary(m, BIN_ADD, unary(m, UN_RELU, x), binary(m, BIN_MUL, e, floatConst(m, x, alpha)));
  return scale != 1.0 ? binary(m, BIN_MUL, y, floatConst(m, x, scale)) : y;
}

static bool op_Elu(Imp *m) {
  Value *x = needInput(m, 0);
  return needFloat(m, x, "the input") && out(m, 0, eluLike(m, x, attrFloat(m->node, "alpha", 1.0), 1.0, 1.0));
}

static bool op_Selu(Imp *m) {
  Value *x = needInput(m, 0);
  double alpha = attrFloat(m->node, "alpha", 1.67326319217681884765625);
  double gamma = attrFloat(m->node, "gamma", 1.05070102214813232421875);
  return needFloat(m, x, "the input") && out(m, 0, eluLike(m, x, alpha, 1.0, gamma));
}

static bool op_Celu(Imp *m) {
  Value *x = needInput(m, 0);
  double alpha = attrFloat(m->node, "alpha", 1.0);
  if (alpha == 0) {
    INVALID(m, "alpha must not be 0");
    return false;
  }
  return needFloat(m, x, "the input") && out(m, 0, eluLike(m, x, alpha, alpha, 1.0));
}

static bool op_Softplus(Imp *m) {
  Value *x = needInput(m, 0);
  return needFloat(m, x, "the input") &&
         out(m, 0, unary(m, UN_LOG, binary(m, BIN_ADD, unary(m, UN_EXP, x), floatConst(m, x, 1.0))));
}

static bool op_Softsign(Imp *m) {
  Value *x = needInput(m, 0);
  return needFloat(m, x, "the input") &&
         out(m, 0, binary(m, BIN_DIV, x, binary(m, BIN_ADD, absValue(m, x), floatConst(m, x, 1.0))));
}

/* Sum and Mean of one or more inputs (broadcasting). */
static bool variadicSum(Imp *m, bool mean) {
  int n = (int)m->node->n_input;
  if (n < 1) {
    INVALID(m, "needs at least one input");
    return false;
  }
  Value *acc = needInput(m, 0);
  if (!needFloat(m, acc, "input 0"))
    return false;
  for (int k = 1; k < n && acc; ++k)
    acc = binary(m, BIN_ADD, acc, needInput(m, k));
  if (mean && n > 1)
    acc = binary(m, BIN_DIV, acc, floatConst(m, acc, (double)n));
  return out(m, 0, acc);
}
static bool op_Sum(Imp *m) { return variadicSum(m, false); }
static bool op_Mean(Imp *m) { return variadicSum(m, true); }


/* An ints attribute of exactly n entries into out; `dflt` fills it when absent. */
static bool windowList(Imp *m, const char *name, int64_t *out, int n, int64_t dflt) {
  int got = attrInts(m->node, name, out, n);
  if (got == -1) {
    for (int k = 0; k < n; ++k)
      out[k] = dflt;
    return true;
  }
  if (got != n) {
    INVALID(m, "%s must have %d entries", name, n);
    return false;
  }
  return true;
}

/* Window attributes shared by Conv and the pools: strides, pads (ONNX's
 * [top, left, bottom, right] is mpc's order), dilations, auto_pad. x and the
 * kernel are 2-D; a 1-D window (`lifted`) runs over a height of 1, so its
 * one-entry attributes become the width's. */
static bool windowAttrs(Imp *m, Value *x, const int64_t *kernel, int64_t *strides, int64_t *pads,
                        int64_t *dilations, bool lifted) {
  if (lifted) {
    int64_t p[2];
    if (!windowList(m, "strides", &strides[1], 1, 1) || !windowList(m, "dilations", &dilations[1], 1, 1) ||
        !windowList(m, "pads", p, 2, 0))
      return false;
    strides[0] = dilations[0] = 1;
    pads[0] = pads[2] = 0;
    pads[1] = p[0], pads[3] = p[1];
  } else if (!windowList(m, "strides", strides, 2, 1) || !windowList(m, "dilations", dilations, 2, 1) ||
             !windowList(m, "pads", pads, 4, 0)) {
    return false;
  }
  for (int d = 0; d < 2; ++d)
    if (strides[d] < 1 || dilations[d] < 1 || pads[d] < 0 || pads[d + 2] < 0 || kernel[d] < 1) {
      INVALID(m, "kernel, strides and dilations must be positive and pads non-negative");
      return false;
    }
  char buf[16];
  const char *autoPad = attrString(m->node, "auto_pad", "NOTSET", buf, sizeof buf);
  if (!strcmp(autoPad, "VALID")) {
    memset(pads, 0, 4 * sizeof *pads);
  } else if (!strcmp(autoPad, "SAME_UPPER") || !strcmp(autoPad, "SAME_LOWER")) {
    for (int d = lifted ? 1 : 0; d < 2; ++d) {
      int64_t in = x->dims[2 + d], outSize = (in + strides[d] - 1) / strides[d];
      int64_t total = (outSize - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - in;
      total = total < 0 ? 0 : total;
      int64_t small = total / 2, big = total - small;
      pads[d] = autoPad[5] == 'U' ? small : big;
      pads[d + 2] = autoPad[5] == 'U' ? big : small;
    }
  } else if (strcmp(autoPad, "NOTSET")) {
    INVALID(m, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", autoPad);
    return false;
  }
  for (int d = 0; d < 2; ++d) {
    int64_t span = (kernel[d] - 1) * dilations[d] + 1;
    if (x->dims[2 + d] + pads[d] + pads[d + 2] < span) {
      INVALID(m, "the window (%lld) is larger than the padded input (%lld)", (long long)span,
              (long long)(x->dims[2 + d] + pads[d] + pads[d + 2]));
      return false;
    }
  }
  return true;
}

static bool op_Conv(Imp *m) {
  Value *x = needInput(m, 0), *w = needInput(m, 1), *b = input(m, 2);
  if (!needFloat(m, x, "X") || !needFloat(m, w, "W"))
    return false;
  /* 1-D convolution: a 2-D one over a height of 1. */
  bool oneD = x->rank == 3 && w->rank == 3;
  Value *x4 = x;
  if (oneD) {
    x4 = reshape(m, x, 4, (int64_t[]){x->dims[0], x->dims[1], 1, x->dims[2]});
    w = reshape(m, w, 4, (int64_t[]){w->dims[0], w->dims[1], 1, w->dims[2]});
    if (!x4 || !w)
      return false;
  }
  if (x4->rank != 4 || w->rank != 4) {
    UNSUPPORTED(m, "Conv with rank-%d input (mpc has 1-D and 2-D convolution)", x->rank);
    return false;
  }
  int64_t groups = attrInt(m->node, "group", 1);
  int64_t kernel[2] = {w->dims[2], w->dims[3]}, k2[2];
  int nk = attrInts(m->node, "kernel_shape", k2, 2);
  if (nk >= 0 && (nk != (oneD ? 1 : 2) || k2[0] != kernel[oneD ? 1 : 0] || (!oneD && k2[1] != kernel[1]))) {
    INVALID(m, "kernel_shape disagrees with W's shape");
    return false;
  }
  if (groups < 1 || x4->dims[1] % groups || w->dims[0] % groups || w->dims[1] * groups != x4->dims[1]) {
    INVALID(m, "X has %lld channels, W expects %lld per group with %lld groups", (long long)x4->dims[1],
            (long long)w->dims[1], (long long)groups);
    return false;
  }
  if (b && (b->rank != 1 || b->dims[0] != w->dims[0])) {
    INVALID(m, "B must have %lld elements", (long long)w->dims[0]);
    return false;
  }
  int64_t strides[2], pads[4], dil[2];
  if (!windowAttrs(m, x4, kernel, strides, pads, dil, oneD))
    return false;
  int64_t dims[4] = {x4->dims[0], w->dims[0], 0, 0};
  for (int d = 0; d < 2; ++d)
    dims[2 + d] = (x4->dims[2 + d] + pads[d] + pads[d + 2] - (kernel[d] - 1) * dil[d] - 1) / strides[d] + 1;
  char s[64], p[96], dl[64], attrs[320];
  formatInts(s, sizeof s, strides, 2);
  formatInts(p, sizeof p, pads, 4);
  formatInts(dl, sizeof dl, dil, 2);
  snprintf(attrs, sizeof attrs, "dilations = %s, groups = %lld : i64, padding = %s, strides = %s", dl,
           (long long)groups, p, s);
  Value *ins[3] = {x4, w, b};
  Value *y = emitOp(m, "mpc.conv2d", x->ty, 4, dims, attrs, ins, b ? 3 : 2);
  return out(m, 0, oneD ? reshape(m, y, 3, (int64_t[]){dims[0], dims[1], dims[3]}) : y);
}

static bool pool(Imp *m, bool isMax) {
  Value *x = needInput(m, 0);
  if (!needFloat(m, x, "X"))
    return false;
  bool oneD = x->rank == 3;
  Value *x4 = oneD ? reshape(m, x, 4, (int64_t[]){x->dims[0], x->dims[1], 1, x->dims[2]}) : x;
  if (!x4 || x4->rank != 4) {
    UNSUPPORTED(m, "pooling a rank-%d input (mpc pools 1-D and 2-D windows)", x->rank);
    return false;
  }
  int64_t kernel[2];
  if (attrInts(m->node, "kernel_shape", kernel, 2) != (oneD ? 1 : 2)) {
    INVALID(m, "kernel_shape must have %d entries", oneD ? 1 : 2);
    return false;
  }
  if (oneD)
    kernel[1] = kernel[0], kernel[0] = 1;
  int64_t strides[2], pads[4], dil[2];
  if (!windowAttrs(m, x4, kernel, strides, pads, dil, oneD))
    return false;
  if (dil[0] != 1 || dil[1] != 1) {
    UNSUPPORTED(m, "dilated pooling");
    return false;
  }
  if (isMax && outputUsed(m, 1)) {
    UNSUPPORTED(m, "MaxPool's Indices output");
    return false;
  }
  bool padded = pads[0] || pads[1] || pads[2] || pads[3];
  if (!isMax && padded && !attrInt(m->node, "count_include_pad", 0)) {
    UNSUPPORTED(m, "AveragePool with padding and count_include_pad=0 (mpc divides by the whole window, as "
                   "PyTorch's default)");
    return false;
  }
  for (int d = 0; d < 2; ++d)
    if (pads[d] * 2 > kernel[d] || pads[d + 2] * 2 > kernel[d]) {
      UNSUPPORTED(m, "padding larger than half the kernel");
      return false;
    }
  int64_t dims[4] = {x4->dims[0], x4->dims[1], 0, 0};
  bool ceil = attrInt(m->node, "ceil_mode", 0) != 0;
  for (int d = 0; d < 2; ++d) {
    int64_t span = x4->dims[2 + d] + pads[d] + pads[d + 2] - kernel[d];
    dims[2 + d] = span / strides[d] + 1;
    if (ceil && span % strides[d]) {
      UNSUPPORTED(m, "ceil_mode=1 where it changes the output size");
      return false;
    }
  }
  char k[64], s[64], p[96], attrs[300];
  formatInts(k, sizeof k, kernel, 2);
  formatInts(s, sizeof s, strides, 2);
  formatInts(p, sizeof p, pads, 4);
  snprintf(attrs, sizeof attrs, "kernel = %s, padding = %s, strides = %s", k, p, s);
  Value *y = emitOp1(m, isMax ? "mpc.max_pool2d" : "mpc.avg_pool2d", x4, attrs, 4, dims);
  return out(m, 0, oneD ? reshape(m, y, 3, (int64_t[]){dims[0], dims[1], dims[3]}) : y);
}
static bool op_MaxPool(Imp *m) { return pool(m, true); }
static bool op_AveragePool(Imp *m) { return pool(m, false); }

/* Pad: only the all-zero padding that torch.onnx writes before AvgPool2d. */
static bool op_Pad(Imp *m) {
  Value *x = needInput(m, 0);
  int64_t pads[2 * MAX_RANK];
  int n = m->opset < 11 ? attrInts(m->node, "pads", pads, 2 * MAX_RANK)
                        : constInts(m, needInput(m, 1), "pads", pads, 2 * MAX_RANK);
  if (m->failed || !x)
    return false;
  for (int k = 0; k < n; ++k)
    if (pads[k]) {
      UNSUPPORTED(m, "Pad with non-zero padding (give the padding to the Conv or pool instead)");
      return false;
    }
  return out(m, 0, x);
}

/* scores [N, C] or [N, C, d...] and labels [N] or [N, d...] as mpc's
 * cross_entropy operands: logits [B, C], labels [B]. */
static bool lossOperands(Imp *m, Value **scores, Value **labels) {
  Value *s = *scores, *l = *labels;
  if (!needFloat(m, s, "the scores"))
    return false;
  if (tyIsFloat(l->ty) || l->ty == TY_BOOL) {
    INVALID(m, "the labels must be integers");
    return false;
  }
  if (s->rank < 2 || l->rank != s->rank - 1 || l->dims[0] != s->dims[0]) {
    INVALID(m, "scores must be [N, C, ...] and labels [N, ...]");
    return false;
  }
  for (int d = 2; d < s->rank; ++d)
    if (l->dims[d - 1] != s->dims[d]) {
      INVALID(m, "labels' dimension %d (%lld) differs from the scores' dimension %d (%lld)", d - 1,
              (long long)l->dims[d - 1], d, (long long)s->dims[d]);
      return false;
    }
  if (s->rank > 2) { /* channels last, then flatten */
    int64_t perm[MAX_RANK];
    perm[0] = 0;
    for (int d = 2; d < s->rank; ++d)
      perm[d - 1] = d;
    perm[s->rank - 1] = 1;
    s = transpose(m, s, perm);
    int64_t C = (*scores)->dims[1], B = valueElements(l);
    s = reshape(m, s, 2, (int64_t[]){B, C});
    l = reshape(m, l, 1, &B);
  }
  *scores = s;
  *labels = l;
  return s && l;
}

static bool lossReduction(Imp *m, const char **reduction) {
  char buf[16];
  const char *r = attrString(m->node, "reduction", "mean", buf, sizeof buf);
  if (!strcmp(r, "mean") || !strcmp(r, "sum") || !strcmp(r, "none")) {
    *reduction = r[0] == 'm' ? "mean" : r[0] == 's' ? "sum" : "none";
    return true;
  }
  INVALID(m, "reduction '%s' is not one of mean, sum, none", r);
  return false;
}

/* mpc.reduce_* of x over sorted axes. */
static Value *reduceOp(Imp *m, const char *name, Value *x, const int64_t *axes, int n, bool keep) {
  if (!x || m->failed)
    return NULL;
  bool red[MAX_RANK] = {0};
  for (int k = 0; k < n; ++k)
    red[axes[k]] = true;
  int64_t dims[MAX_RANK];
  int rank = 0;
  for (int d = 0; d < x->rank; ++d)
    if (!red[d] || keep)
      dims[rank++] = red[d] ? 1 : x->dims[d];
  char a[160], attrs[200];
  formatInts(a, sizeof a, axes, n);
  snprintf(attrs, sizeof attrs, "axes = %s, keepdim = %s", a, keep ? "true" : "false");
  return emitOp1(m, name, x, attrs, rank, dims);
}

typedef struct {
  const char *reduction; /* mean, sum, none */
  Value *weights;        /* [C] or NULL */
  int64_t ignoreIndex;   /* a class in [0, C), or -1 */
} LossSpec;

/* The general loss: the labels' one-hot rows come from an embedding of the
 * identity matrix, so that every step is an mpc op that trains. It serves
 * what mpc.cross_entropy does not: class weights, an ignored class, and
 * reduction "none" (labels keep their shape [N, d...]). `nll`: the scores
 * (already [B, C]) are log-probabilities. */
static Value *oneHotLoss(Imp *m, Value *scores, Value *labels, bool nll, const LossSpec *spec) {
  int64_t C = scores->dims[1];
  if (C > 1024) {
    UNSUPPORTED(m, "a loss over %lld classes with class weights, ignore_index or reduction 'none' (at most 1024 "
                   "classes)", (long long)C);
    return NULL;
  }
  int r = labels->rank;
  if (r + 1 > MAX_RANK) {
    UNSUPPORTED(m, "labels of rank %d", r);
    return NULL;
  }
  int64_t zdims[MAX_RANK], last = r, all[MAX_RANK];
  memcpy(zdims, labels->dims, (size_t)r * sizeof *zdims);
  zdims[r] = C;
  for (int d = 0; d < r; ++d)
    all[d] = d;
  Value *z = reshape(m, scores, r + 1, zdims);
  Value *eye = newConst(m, scores->ty, 2, (int64_t[]){C, C});
  if (!z || !eye)
    return NULL;
  for (int64_t k = 0; k < C; ++k)
    eye->f[k * C + k] = 1.0;
  Value *ins[2] = {eye, labels};
  Value *oneHot = emitOp(m, "mpc.embedding", scores->ty, r + 1, zdims, "", ins, 2);
  Value *picked = reduceOp(m, "mpc.reduce_sum", binary(m, BIN_MUL, z, oneHot), &last, 1, false);
  Value *per;
  if (nll) {
    per = unary(m, UN_NEG, picked);
  } else {
    Value *mx = reduceOp(m, "mpc.reduce_max", z, &last, 1, true);
    Value *sum = reduceOp(m, "mpc.reduce_sum", unary(m, UN_EXP, binary(m, BIN_SUB, z, mx)), &last, 1, true);
    Value *lse = binary(m, BIN_ADD, unary(m, UN_LOG, sum), mx);
    per = binary(m, BIN_SUB, reshape(m, lse, r, labels->dims), picked);
  }
  /* Each element's weight: its class's weight, 0 for the ignored class. */
  Value *w = NULL;
  if (spec->weights) {
    Value *table = reshape(m, spec->weights, 2, (int64_t[]){C, 1});
    Value *wins[2] = {table, labels};
    int64_t wdims[MAX_RANK];
    memcpy(wdims, labels->dims, (size_t)r * sizeof *wdims);
    wdims[r] = 1;
    w = table ? reshape(m, emitOp(m, "mpc.embedding", scores->ty, r + 1, wdims, "", wins, 2), r, labels->dims)
              : NULL;
  }
  if (spec->ignoreIndex >= 0) {
    int64_t starts[MAX_RANK] = {0}, sizes[MAX_RANK];
    memcpy(sizes, zdims, sizeof sizes);
    starts[r] = spec->ignoreIndex;
    sizes[r] = 1;
    Value *hit = reshape(m, slice(m, oneHot, starts, sizes, NULL), r, labels->dims);
    Value *keep = binary(m, BIN_SUB, scalarConst(m, scores->ty, 1.0), hit);
    w = w ? binary(m, BIN_MUL, w, keep) : keep;
  }
  if (w)
    per = binary(m, BIN_MUL, per, w);
  if (!strcmp(spec->reduction, "none"))
    return per;
  Value *total = reduceOp(m, "mpc.reduce_sum", per, all, r, false);
  if (!strcmp(spec->reduction, "sum"))
    return total;
  if (!w)
    return reduceOp(m, "mpc.reduce_mean", per, all, r, false);
  return binary(m, BIN_DIV, total, reduceOp(m, "mpc.reduce_sum", w, all, r, false)); /* ONNX's weighted mean */
}

/* Reads the loss's weights, ignore_index and reduction; validates them. */
static bool lossSpec(Imp *m, Value *scores, LossSpec *spec) {
  spec->weights = input(m, 2);
  spec->ignoreIndex = -1;
  if (!lossReduction(m, &spec->reduction) || m->failed)
    return false;
  if (spec->weights && (!tyIsFloat(spec->weights->ty) || spec->weights->ty != scores->ty ||
                        spec->weights->rank != 1 || spec->weights->dims[0] != scores->dims[1])) {
    INVALID(m, "the weights must be a [%lld] tensor of the scores' type", (long long)scores->dims[1]);
    return false;
  }
  const Onnx__AttributeProto *ii = attr(m->node, "ignore_index");
  /* An ignore_index outside [0, C) (PyTorch's -100) never matches a valid
   * label; mpc cannot tell at import time whether the labels hold it. */
  if (ii && ii->has_i && ii->i >= 0 && ii->i < scores->dims[1])
    spec->ignoreIndex = ii->i;
  return true;
}

static Value *loss(Imp *m, Value *scores, Value *labels, bool nll) {
  LossSpec spec;
  if (m->failed || !needFloat(m, scores, "the scores"))
    return NULL;
  if (scores->rank < 2) {
    INVALID(m, "scores must be [N, C, ...]");
    return NULL;
  }
  Value *labels0 = labels;
  if (!lossSpec(m, scores, &spec) || !lossOperands(m, &scores, &labels))
    return NULL;
  if (spec.weights || spec.ignoreIndex >= 0 || !strcmp(spec.reduction, "none"))
    return oneHotLoss(m, scores, labels0, nll, &spec);
  char attrs[48];
  snprintf(attrs, sizeof attrs, "reduction = \"%s\"", spec.reduction);
  Value *ins[2] = {scores, labels};
  Value *ce = emitOp(m, "mpc.cross_entropy", scores->ty, 0, NULL, attrs, ins, 2);
  if (!nll)
    return ce;
  /* NLL(x, y) = cross_entropy(x, y) - reduce(logsumexp(x)): exact for any x,
   * and the second term vanishes when x is a log_softmax. */
  int64_t one = 1, both[2] = {0, 1};
  Value *mx = reduceOp(m, "mpc.reduce_max", scores, &one, 1, true);
  Value *se = reduceOp(m, "mpc.reduce_sum", unary(m, UN_EXP, binary(m, BIN_SUB, scores, mx)), &one, 1, true);
  Value *lse = binary(m, BIN_ADD, unary(m, UN_LOG, se), mx);
  Value *t = reduceOp(m, !strcmp(spec.reduction, "mean") ? "mpc.reduce_mean" : "mpc.reduce_sum", lse, both, 2, false);
  return ce ? binary(m, BIN_SUB, ce, t) : NULL;
}

static bool op_SoftmaxCrossEntropyLoss(Imp *m) {
  Value *scores = needInput(m, 0), *labels = needInput(m, 1);
  if (!out(m, 0, loss(m, scores, labels, false)))
    return false;
  if (outputUsed(m, 1))
    return out(m, 1, softmaxLike(m, "mpc.log_softmax", scores, 1));
  return true;
}

static bool op_NegativeLogLikelihoodLoss(Imp *m) {
  return out(m, 0, loss(m, needInput(m, 0), needInput(m, 1), true));
}

/*---------------------------------------------------------------------------
 * The op table
 *---------------------------------------------------------------------------*/

typedef struct {
  const char *name;
  Handler fn;
  bool foldOnly; /* handled only when its inputs are constants (not listed) */
} OpEntry;

static const OpEntry opTable[] = {
    {"Abs", op_Abs, false},
    {"Add", op_Add, false},
    {"And", op_And, true},
    {"AveragePool", op_AveragePool, false},
    {"Cast", op_Cast, false},
    {"Celu", op_Celu, false},
    {"Concat", op_Concat, false},
    {"Constant", op_Constant, false},
    {"ConstantOfShape", op_ConstantOfShape, false},
    {"Conv", op_Conv, false},
    {"Div", op_Div, false},
    {"Dropout", op_Dropout, false},
    {"Elu", op_Elu, false},
    {"Equal", op_Equal, true},
    {"Erf", op_Erf, false},
    {"Exp", op_Exp, false},
    {"Expand", op_Expand, false},
    {"Flatten", op_Flatten, false},
    {"Gather", op_Gather, false},
    {"Gelu", op_Gelu, false},
    {"Gemm", op_Gemm, false},
    {"GlobalAveragePool", op_GlobalAveragePool, false},
    {"GlobalMaxPool", op_GlobalMaxPool, false},
    {"Greater", op_Greater, true},
    {"Identity", op_Identity, false},
    {"LayerNormalization", op_LayerNormalization, false},
    {"LeakyRelu", op_LeakyRelu, false},
    {"Less", op_Less, true},
    {"Log", op_Log, false},
    {"LogSoftmax", op_LogSoftmax, false},
    {"MatMul", op_MatMul, false},
    {"MaxPool", op_MaxPool, false},
    {"Mean", op_Mean, false},
    {"Mul", op_Mul, false},
    {"Neg", op_Neg, false},
    {"NegativeLogLikelihoodLoss", op_NegativeLogLikelihoodLoss, false},
    {"Not", op_Not, true},
    {"Or", op_Or, true},
    {"PRelu", op_PRelu, false},
    {"Pad", op_Pad, true},
    {"Pow", op_Pow, false},
    {"Reciprocal", op_Reciprocal, false},
    {"ReduceL1", op_ReduceL1, false},
    {"ReduceL2", op_ReduceL2, false},
    {"ReduceLogSum", op_ReduceLogSum, false},
    {"ReduceLogSumExp", op_ReduceLogSumExp, false},
    {"ReduceMax", op_ReduceMax, false},
    {"ReduceMean", op_ReduceMean, false},
    {"ReduceMin", op_ReduceMin, false},
    {"ReduceSum", op_ReduceSum, false},
    {"ReduceSumSquare", op_ReduceSumSquare, false},
    {"Relu", op_Relu, false},
    {"Reshape", op_Reshape, false},
    {"Selu", op_Selu, false},
    {"Shape", op_Shape, false},
    {"Sigmoid", op_Sigmoid, false},
    {"Slice", op_Slice, false},
    {"Softmax", op_Softmax, false},
    {"SoftmaxCrossEntropyLoss", op_SoftmaxCrossEntropyLoss, false},
    {"Softplus", op_Softplus, false},
    {"Softsign", op_Softsign, false},
    {"Split", op_Split, false},
    {"Sqrt", op_Sqrt, false},
    {"Squeeze", op_Squeeze, false},
    {"Sub", op_Sub, false},
    {"Sum", op_Sum, false},
    {"Tanh", op_Tanh, false},
    {"Transpose", op_Transpose, false},
    {"Unsqueeze", op_Unsqueeze, false},
    {"Where", op_Where, false},
};
#define NUM_OPS (sizeof opTable / sizeof opTable[0])

const char *const *mpcImportSupportedOps(void) {
  static const char *names[NUM_OPS + 1];
  if (!names[0]) {
    size_t n = 0;
    for (size_t k = 0; k < NUM_OPS; ++k)
      if (!opTable[k].foldOnly)
        names[n++] = opTable[k].name;
    names[n] = NULL;
  }
  return names;
}

static const OpEntry *findOp(const char *name) {
  for (size_t k = 0; k < NUM_OPS; ++k)
    if (!strcmp(opTable[k].name, name))
      return &opTable[k];
  return NULL;
}

/*---------------------------------------------------------------------------
 * Patterns: decomposed LayerNorm and erf GELU
 *---------------------------------------------------------------------------*/

typedef struct {
  Imp *m;
  int *producer;  /* per value name: index of the producing node, via lookup below */
  char **names;   /* value names, parallel to producer */
  int *uses;
  size_t cap;
} Graph;

static long graphFind(Graph *g, const char *name) {
  if (!name || !*name || !g->cap)
    return -1;
  size_t mask = g->cap - 1;
  for (size_t k = hashName(name) & mask;; k = (k + 1) & mask) {
    if (!g->names[k])
      return -1;
    if (!strcmp(g->names[k], name))
      return (long)k;
  }
}

static long graphAdd(Graph *g, const char *name) {
  long k = graphFind(g, name);
  if (k >= 0 || !name || !*name)
    return k;
  size_t mask = g->cap - 1, s = hashName(name) & mask;
  while (g->names[s])
    s = (s + 1) & mask;
  g->names[s] = (char *)name;
  g->producer[s] = -1;
  return (long)s;
}

static const Onnx__NodeProto *producerOf(Graph *g, const char *name, const char *opType) {
  long k = graphFind(g, name);
  if (k < 0 || g->producer[k] < 0)
    return NULL;
  const Onnx__NodeProto *n = g->m->graph->node[g->producer[k]];
  if (strcmp(n->op_type ? n->op_type : "", opType) || (n->domain && *n->domain && strcmp(n->domain, "ai.onnx")))
    return NULL;
  return n;
}

static int usesOf(Graph *g, const char *name) {
  long k = graphFind(g, name);
  return k < 0 ? 0 : g->uses[k];
}

/* The scalar value of a Constant node's output or a one-element initializer. */
static bool scalarOf(Graph *g, const char *name, double *value) {
  const Onnx__TensorProto *t = NULL;
  const Onnx__NodeProto *c = producerOf(g, name, "Constant");
  if (c && c->n_attribute == 1 && c->attribute[0]->t && c->attribute[0]->name &&
      !strcmp(c->attribute[0]->name, "value"))
    t = c->attribute[0]->t;
  else if (c && c->n_attribute == 1 && c->attribute[0]->has_f && c->attribute[0]->name &&
           !strcmp(c->attribute[0]->name, "value_float")) {
    *value = c->attribute[0]->f;
    return true;
  }
  Onnx__GraphProto *gr = g->m->graph;
  for (size_t k = 0; !t && !c && k < gr->n_initializer; ++k)
    if (gr->initializer[k]->name && name && !strcmp(gr->initializer[k]->name, name))
      t = gr->initializer[k];
  if (!t || (t->data_type != DT_FLOAT && t->data_type != DT_DOUBLE && t->data_type != DT_FLOAT16))
    return false;
  int64_t n = 1;
  for (size_t d = 0; d < t->n_dims; ++d)
    n *= t->dims[d] == 1 ? 1 : 0;
  size_t have = t->has_raw_data ? t->raw_data.len / onnxElementSize(t->data_type)
                : t->data_type == DT_FLOAT ? t->n_float_data
                : t->data_type == DT_DOUBLE ? t->n_double_data : t->n_int32_data;
  if (n != 1 || have != 1)
    return false;
  int64_t i;
  tensorElement(t, 0, value, &i);
  return true;
}

static bool isScalar(Graph *g, const char *name, double want, double tol) {
  double v;
  return scalarOf(g, name, &v) && fabs(v - want) <= tol;
}

/* `n`'s other input when one of its two inputs is `name`; NULL otherwise. */
static const char *otherInput(const Onnx__NodeProto *n, const char *name) {
  if (n->n_input != 2)
    return NULL;
  if (!strcmp(n->input[0], name))
    return n->input[1];
  if (!strcmp(n->input[1], name))
    return n->input[0];
  return NULL;
}

static bool lastAxisMean(const Onnx__NodeProto *r) {
  int64_t axes[MAX_RANK];
  int n = attrInts(r, "axes", axes, MAX_RANK);
  return n == 1 && axes[0] == -1 && attrInt(r, "keepdims", 1) == 1 && r->n_input == 1;
}

/* Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), eps))) with d = Sub(x, ReduceMean(x)). */
static void matchLayerNorm(Graph *g, int idx) {
  Imp *m = g->m;
  const Onnx__NodeProto *div = m->graph->node[idx];
  if (div->n_input != 2 || div->n_output != 1)
    return;
  const char *d = div->input[0];
  const Onnx__NodeProto *sub = producerOf(g, d, "Sub"), *sq = producerOf(g, div->input[1], "Sqrt");
  if (!sub || !sq || sub->n_input != 2 || sq->n_input != 1)
    return;
  const char *x = sub->input[0];
  const Onnx__NodeProto *mean = producerOf(g, sub->input[1], "ReduceMean");
  if (!mean || !lastAxisMean(mean) || strcmp(mean->input[0], x))
    return;
  const Onnx__NodeProto *add = producerOf(g, sq->input[0], "Add");
  if (!add || add->n_input != 2)
    return;
  const char *var = add->input[0], *eps = add->input[1];
  double epsValue;
  if (!scalarOf(g, eps, &epsValue)) {
    var = add->input[1], eps = add->input[0];
    if (!scalarOf(g, eps, &epsValue))
      return;
  }
  if (!(epsValue >= 0 && isfinite(epsValue)))
    return; /* not a layer norm's epsilon: import the nodes one by one */
  const Onnx__NodeProto *vmean = producerOf(g, var, "ReduceMean");
  if (!vmean || !lastAxisMean(vmean))
    return;
  const Onnx__NodeProto *pw = producerOf(g, vmean->input[0], "Pow");
  bool squared = pw && pw->n_input == 2 && !strcmp(pw->input[0], d) && isScalar(g, pw->input[1], 2.0, 0);
  if (!squared) {
    pw = producerOf(g, vmean->input[0], "Mul");
    squared = pw && pw->n_input == 2 && !strcmp(pw->input[0], d) && !strcmp(pw->input[1], d);
  }
  if (!squared)
    return;
  /* Every inner value is used only inside the pattern. */
  bool mulSquare = !strcmp(pw->op_type, "Mul");
  if (usesOf(g, sub->input[1]) != 1 || usesOf(g, d) != (mulSquare ? 3 : 2) || usesOf(g, vmean->input[0]) != 1 ||
      usesOf(g, var) != 1 || usesOf(g, sq->input[0]) != 1 || usesOf(g, div->input[1]) != 1)
    return;
  const Onnx__NodeProto *nodes[] = {mean, sub, pw, vmean, add, sq};
  long root = idx;
  const char *gamma = NULL, *beta = NULL;
  /* The affine part: Mul by a 1-D weight, then Add a 1-D bias. */
  const Onnx__NodeProto *mul = NULL, *badd = NULL;
  if (usesOf(g, div->output[0]) == 1)
    for (size_t k = idx + 1; k < m->graph->n_node && !mul; ++k) {
      const Onnx__NodeProto *n = m->graph->node[k];
      if (n->op_type && !strcmp(n->op_type, "Mul") && otherInput(n, div->output[0]) && n->n_output == 1)
        mul = n, root = (long)k;
    }
  if (mul) {
    gamma = otherInput(mul, div->output[0]);
    if (usesOf(g, mul->output[0]) == 1)
      for (size_t k = root + 1; k < m->graph->n_node && !badd; ++k) {
        const Onnx__NodeProto *n = m->graph->node[k];
        if (n->op_type && !strcmp(n->op_type, "Add") && otherInput(n, mul->output[0]) && n->n_output == 1)
          badd = n, beta = otherInput(n, mul->output[0]), root = (long)k;
      }
  }
  for (size_t k = 0; k < m->graph->n_node; ++k)
    for (size_t j = 0; j < sizeof nodes / sizeof *nodes; ++j)
      if (m->graph->node[k] == nodes[j])
        m->skip[k] = 1;
  if (root != idx)
    m->skip[idx] = 1;
  for (size_t k = 0; mul && badd && k < m->graph->n_node; ++k)
    if (m->graph->node[k] == mul)
      m->skip[k] = 1;
  m->root[root] = 1;
  m->lnX[root] = x;
  m->lnGamma[root] = gamma;
  m->lnBeta[root] = beta;
  m->lnEpsName[root] = eps;
}

/* Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5), operands in either order. */
static void matchGelu(Graph *g, int idx) {
  Imp *m = g->m;
  const Onnx__NodeProto *outer = m->graph->node[idx];
  if (outer->n_input != 2 || outer->n_output != 1)
    return;
  for (int side = 0; side < 2; ++side) {
    const char *u = outer->input[side], *half = outer->input[1 - side];
    const Onnx__NodeProto *inner = producerOf(g, u, "Mul");
    if (!inner || !isScalar(g, half, 0.5, 1e-7) || usesOf(g, u) != 1 || inner->n_input != 2)
      continue;
    for (int s2 = 0; s2 < 2; ++s2) {
      const char *x = inner->input[s2], *e = inner->input[1 - s2];
      const Onnx__NodeProto *add = producerOf(g, e, "Add");
      if (!add || add->n_input != 2 || usesOf(g, e) != 1)
        continue;
      const char *r = isScalar(g, add->input[1], 1.0, 1e-7)   ? add->input[0]
                      : isScalar(g, add->input[0], 1.0, 1e-7) ? add->input[1]
                                                              : NULL;
      const Onnx__NodeProto *erf = r ? producerOf(g, r, "Erf") : NULL;
      if (!erf || erf->n_input != 1 || usesOf(g, r) != 1)
        continue;
      const char *q = erf->input[0];
      const Onnx__NodeProto *div = producerOf(g, q, "Div"), *mul = producerOf(g, q, "Mul");
      bool ok = (div && div->n_input == 2 && !strcmp(div->input[0], x) && isScalar(g, div->input[1], M_SQRT2, 1e-6)) ||
                (mul && otherInput(mul, x) && isScalar(g, otherInput(mul, x), M_SQRT1_2, 1e-6));
      if (!ok || usesOf(g, q) != 1)
        continue;
      const Onnx__NodeProto *nodes[] = {div ? div : mul, erf, add, inner};
      for (size_t k = 0; k < m->graph->n_node; ++k)
        for (size_t j = 0; j < 4; ++j)
          if (m->graph->node[k] == nodes[j])
            m->skip[k] = 1;
      m->root[idx] = 2;
      m->geluX[idx] = x;
      return;
    }
  }
}

static bool findPatterns(Imp *m) {
  Onnx__GraphProto *gr = m->graph;
  Graph g = {.m = m};
  size_t names = gr->n_input + gr->n_initializer + gr->n_output;
  for (size_t k = 0; k < gr->n_node; ++k)
    names += gr->node[k]->n_output + gr->node[k]->n_input;
  g.cap = 16;
  while (g.cap < names * 2)
    g.cap *= 2;
  g.names = calloc(g.cap, sizeof *g.names);
  g.producer = calloc(g.cap, sizeof *g.producer);
  g.uses = calloc(g.cap, sizeof *g.uses);
  if (!g.names || !g.producer || !g.uses) {
    free(g.names), free(g.producer), free(g.uses);
    INVALID(m, "out of memory");
    return false;
  }
  for (size_t k = 0; k < gr->n_node; ++k) {
    const Onnx__NodeProto *n = gr->node[k];
    for (size_t j = 0; j < n->n_output; ++j) {
      long s = graphAdd(&g, n->output[j]);
      if (s >= 0 && g.producer[s] < 0)
        g.producer[s] = (int)k;
    }
    for (size_t j = 0; j < n->n_input; ++j) {
      long s = graphAdd(&g, n->input[j]);
      if (s >= 0)
        g.uses[s]++;
    }
  }
  for (size_t k = 0; k < gr->n_output; ++k) {
    long s = graphAdd(&g, gr->output[k]->name);
    if (s >= 0)
      g.uses[s] += 2; /* a graph output is never fused away */
  }
  for (size_t k = 0; k < gr->n_node; ++k) {
    const Onnx__NodeProto *n = gr->node[k];
    if (m->skip[k] || !n->op_type || (n->domain && *n->domain && strcmp(n->domain, "ai.onnx")))
      continue;
    if (!strcmp(n->op_type, "Div"))
      matchLayerNorm(&g, (int)k);
  }
  for (size_t k = 0; k < gr->n_node; ++k) {
    const Onnx__NodeProto *n = gr->node[k];
    if (m->skip[k] || m->root[k] || !n->op_type || (n->domain && *n->domain && strcmp(n->domain, "ai.onnx")))
      continue;
    if (!strcmp(n->op_type, "Mul"))
      matchGelu(&g, (int)k);
  }
  free(g.names), free(g.producer), free(g.uses);
  return true;
}

static bool importPattern(Imp *m, int idx) {
  if (m->root[idx] == 2) {
    Value *x = lookup(m, m->geluX[idx]);
    if (!x) {
      INVALID(m, "a GELU pattern's input '%s' is not defined before it", m->geluX[idx]);
      return false;
    }
    return out(m, 0, gelu(m, x, "none"));
  }
  Value *x = lookup(m, m->lnX[idx]), *eps = lookup(m, m->lnEpsName[idx]);
  Value *gamma = m->lnGamma[idx] ? lookup(m, m->lnGamma[idx]) : NULL;
  Value *beta = m->lnBeta[idx] ? lookup(m, m->lnBeta[idx]) : NULL;
  if (!x || !eps || (m->lnGamma[idx] && !gamma) || (m->lnBeta[idx] && !beta)) {
    INVALID(m, "a layer-norm pattern's input is not defined before it");
    return false;
  }
  if (!eps->isConst || !tyIsFloat(eps->ty) || valueElements(eps) != 1) {
    INVALID(m, "a layer-norm pattern's epsilon is not a scalar constant");
    return false;
  }
  int64_t D = x->rank ? x->dims[x->rank - 1] : 0;
  /* A weight and bias that are [D] vectors of x's type go into the op; other
   * ones (broadcasting tensors) stay a Mul and an Add after it. */
  bool fits = (!gamma || (valueElements(gamma) == D && gamma->rank <= 1 && gamma->ty == x->ty)) &&
              (!beta || (valueElements(beta) == D && beta->rank <= 1 && beta->ty == x->ty));
  Value *ones = newConst(m, x->ty, 1, &D);
  for (int64_t k = 0; ones && k < D; ++k)
    ones->f[k] = 1.0;
  if (fits)
    return ones && out(m, 0, layerNorm(m, x, gamma ? gamma : ones, beta, -1, eps->f[0]));
  Value *y = ones ? layerNorm(m, x, ones, NULL, -1, eps->f[0]) : NULL;
  if (gamma)
    y = binary(m, BIN_MUL, y, gamma);
  if (beta)
    y = binary(m, BIN_ADD, y, beta);
  return out(m, 0, y);
}

/*---------------------------------------------------------------------------
 * The model
 *---------------------------------------------------------------------------*/

static const MpcImportShape *shapeOverride(Imp *m, const char *name) {
  for (int k = 0; k < m->opt->numShapes; ++k)
    if (!strcmp(m->opt->shapes[k].name, name))
      return &m->opt->shapes[k];
  return NULL;
}

static bool isInitializer(Imp *m, const char *name) {
  for (size_t k = 0; k < m->graph->n_initializer; ++k)
    if (m->graph->initializer[k]->name && !strcmp(m->graph->initializer[k]->name, name))
      return true;
  return false;
}

static bool importInputs(Imp *m) {
  Onnx__GraphProto *g = m->graph;
  for (int k = 0; k < m->opt->numShapes; ++k) {
    bool found = false;
    for (size_t j = 0; j < g->n_input && !found; ++j)
      found = g->input[j]->name && !strcmp(g->input[j]->name, m->opt->shapes[k].name);
    if (!found) {
      INVALID(m, "--shape names '%s', which is not a graph input", m->opt->shapes[k].name);
      return false;
    }
  }
  for (size_t k = 0; k < g->n_initializer; ++k) {
    const Onnx__TensorProto *t = g->initializer[k];
    char what[300];
    snprintf(what, sizeof what, "initializer '%s'", t->name ? t->name : "");
    if (!t->name || !*t->name) {
      INVALID(m, "initializer %zu has no name", k);
      return false;
    }
    Value *v = tensorConst(m, t, what);
    if (!v)
      return false;
    if (tyIsFloat(v->ty) && valueElements(v) > 1)
      v->param = t->name;
    if (!bind(m, t->name, v))
      return false;
  }
  for (size_t k = 0; k < g->n_input; ++k) {
    const Onnx__ValueInfoProto *in = g->input[k];
    const char *name = in->name ? in->name : "";
    if (!*name) {
      INVALID(m, "graph input %zu has no name", k);
      return false;
    }
    if (isInitializer(m, name))
      continue; /* a parameter (SPEC section 5) */
    if (!in->type || in->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !in->type->tensor_type) {
      UNSUPPORTED(m, "graph input '%s' is not a tensor", name);
      return false;
    }
    const Onnx__TypeProto__Tensor *tt = in->type->tensor_type;
    Ty ty;
    if (!tyFromOnnx(tt->elem_type, &ty)) {
      UNSUPPORTED(m, "graph input '%s' has element type %s", name, onnxTypeName(tt->elem_type));
      return false;
    }
    const MpcImportShape *over = shapeOverride(m, name);
    int64_t dims[MAX_RANK];
    int rank;
    if (over) {
      rank = over->rank;
      memcpy(dims, over->dims, sizeof dims);
      if (tt->shape && tt->shape->n_dim != (size_t)rank) {
        INVALID(m, "--shape %s has rank %d but the model's input has rank %zu", name, rank, tt->shape->n_dim);
        return false;
      }
      for (int d = 0; tt->shape && d < rank; ++d) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
        if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && dim->dim_value != dims[d]) {
          INVALID(m, "--shape %s: dimension %d is %lld in the model, not %lld", name, d, (long long)dim->dim_value,
                  (long long)dims[d]);
          return false;
        }
      }
    } else {
      if (!tt->shape) {
        UNSUPPORTED(m, "graph input '%s' has no shape; give one with --shape %s=D0,D1,...", name, name);
        return false;
      }
      if (tt->shape->n_dim > MAX_RANK) {
        UNSUPPORTED(m, "graph input '%s' has rank %zu (at most %d)", name, tt->shape->n_dim, MAX_RANK);
        return false;
      }
      rank = (int)tt->shape->n_dim;
      for (int d = 0; d < rank; ++d) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
        if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && dim->dim_value == 0) {
          UNSUPPORTED(m, "graph input '%s' has an empty dimension %d (mpc tensors have at least one element)", name,
                      d);
          return false;
        }
        if (dim->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE || dim->dim_value < 0) {
          const char *param = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                                  ? dim->dim_param : NULL;
          fail(m, false,
               "graph input '%s' has a dynamic dimension %d%s%s%s; mpc compiles static shapes: give them with "
               "--shape %s=D0,D1,...",
               name, d, param ? " ('" : "", param ? param : "", param ? "')" : "", name);
          return false;
        }
        dims[d] = dim->dim_value;
      }
    }
    if (!dimsOk(rank, dims, INT64_MAX / 16)) {
      INVALID(m, "graph input '%s' is too large", name);
      return false;
    }
    Value *v = newValue(m, ty, rank, dims);
    if (!v)
      return false;
    snprintf(v->ssa, sizeof v->ssa, "%%arg%d", m->numArgs++);
    if (m->args.len)
      bufPut(&m->args, ",\n    ", 6);
    bufPrintf(&m->args, "%s: ", v->ssa);
    putType(&m->args, v);
    bufPut(&m->args, " {mpc.input = ", 14);
    bufString(&m->args, name);
    bufPut(&m->args, "}", 1);
    m->result->numInputs++;
    if (!bind(m, name, v))
      return false;
  }
  return true;
}

static bool importNodes(Imp *m) {
  Onnx__GraphProto *g = m->graph;
  for (size_t k = 0; k < g->n_node && !m->failed; ++k) {
    const Onnx__NodeProto *n = g->node[k];
    m->node = n;
    m->nodeIndex = (int)k;
    if (!n->op_type || !*n->op_type) {
      INVALID(m, "node has no op type");
      return false;
    }
    if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx")) {
      UNSUPPORTED(m, "op '%s' of domain '%s' (mpc imports ops of the default ONNX domain)", n->op_type, n->domain);
      return false;
    }
    if (m->skip[k])
      continue;
    if (m->root[k]) {
      if (!importPattern(m, (int)k)) {
        if (!m->failed)
          INVALID(m, "the pattern rooted here could not be imported");
        return false;
      }
      continue;
    }
    const OpEntry *e = findOp(n->op_type);
    if (!e) {
      UNSUPPORTED(m, "unsupported ONNX op '%s' (opset %lld); `mpc-import --list-ops` lists the supported ones",
                  n->op_type, (long long)m->opset);
      return false;
    }
    if (!e->fn(m)) {
      if (!m->failed) /* every handler reports its failure; this is a safety net */
        INVALID(m, "the node could not be imported");
      return false;
    }
    for (size_t j = 0; j < n->n_output; ++j)
      if (n->output[j] && *n->output[j] && !lookup(m, n->output[j]) && !m->failed) {
        UNSUPPORTED(m, "output %zu ('%s')", j, n->output[j]);
        return false;
      }
  }
  m->node = NULL;
  return !m->failed;
}

static bool importOutputs(Imp *m, Buf *types, Buf *rets) {
  Onnx__GraphProto *g = m->graph;
  if (g->n_output == 0) {
    INVALID(m, "the graph has no outputs");
    return false;
  }
  for (size_t k = 0; k < g->n_output; ++k) {
    const char *name = g->output[k]->name ? g->output[k]->name : "";
    Value *v = lookup(m, name);
    if (!v) {
      INVALID(m, "graph output '%s' is not computed by any node", name);
      return false;
    }
    if (!tyIsFloat(v->ty)) {
      UNSUPPORTED(m, "graph output '%s' is %s; mpc model results are float tensors", name, tyOnnxNames[v->ty]);
      return false;
    }
    materialize(m, v);
    bufPrintf(rets, "%s%s", k ? ", " : "", v->ssa);
    if (k)
      bufPut(types, ", ", 2);
    putType(types, v);
  }
  return !m->failed;
}

static int64_t modelOpset(const Onnx__ModelProto *model) {
  for (size_t k = 0; k < model->n_opset_import; ++k) {
    const Onnx__OperatorSetIdProto *o = model->opset_import[k];
    if ((!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx")) && o->has_version)
      return o->version;
  }
  return -1;
}

bool mpcImportOnnx(const void *data, size_t size, const MpcImportOptions *options, MpcImportResult *result) {
  memset(result, 0, sizeof *result);
  MpcImportOptions opt = *options;
  if (!opt.sourceName)
    opt.sourceName = "model.onnx";
  if (!opt.funcName)
    opt.funcName = "forward";
  Imp m = {.opt = &opt, .result = result, .nodeIndex = -1};
  if (size == 0) {
    INVALID(&m, "the file is empty");
    return false;
  }
  Onnx__ModelProto *model = onnx__model_proto__unpack(NULL, size, data);
  if (!model) {
    INVALID(&m, "not an ONNX model: the protobuf is malformed or truncated");
    return false;
  }
  Buf types = {0}, rets = {0};
  if (!model->graph) {
    INVALID(&m, "the model has no graph");
    goto done;
  }
  m.graph = model->graph;
  m.opset = modelOpset(model);
  result->opset = m.opset;
  if (m.opset < 0) {
    INVALID(&m, "the model imports no opset of the default ONNX domain");
    goto done;
  }
  if (m.opset < 6 || m.opset > 21) {
    UNSUPPORTED(&m, "opset %lld (mpc imports opsets 6 to 21 and is tested at 13 and 17)", (long long)m.opset);
    goto done;
  }
  size_t nn = m.graph->n_node + 1;
  result->numNodes = (int)m.graph->n_node;
  m.skip = calloc(nn, 1);
  m.root = calloc(nn, 1);
  m.lnX = calloc(nn, sizeof(char *));
  m.lnGamma = calloc(nn, sizeof(char *));
  m.lnBeta = calloc(nn, sizeof(char *));
  m.lnEpsName = calloc(nn, sizeof(char *));
  m.geluX = calloc(nn, sizeof(char *));
  if (!m.skip || !m.root || !m.lnX || !m.lnGamma || !m.lnBeta || !m.lnEpsName || !m.geluX) {
    INVALID(&m, "out of memory");
    goto done;
  }
  for (size_t k = 0; k < m.graph->n_node; ++k)
    for (size_t j = 0; j < m.graph->node[k]->n_input; ++j)
      if (!m.graph->node[k]->input[j]) {
        INVALID(&m, "node %zu has a null input name", k);
        goto done;
      }
  if (!importInputs(&m) || !findPatterns(&m) || !importNodes(&m) || !importOutputs(&m, &types, &rets))
    goto done;
  Buf text = {0};
  bufPrintf(&text, "// Imported from %s by mpc-import (ONNX opset %lld, %d nodes).\n", opt.sourceName,
            (long long)m.opset, result->numNodes);
  bufPrintf(&text, "module {\n  func.func @%s(\n    %s)\n      -> (%s) {\n", opt.funcName,
            m.args.data ? m.args.data : "", types.data ? types.data : "");
  if (m.body.data)
    bufPut(&text, m.body.data, m.body.len);
  bufPrintf(&text, "    \"func.return\"(%s) : (%s) -> ()", rets.data, types.data);
  m.node = NULL;
  putLoc(&m, &text);
  bufPrintf(&text, "\n  }\n}\n");
  if (text.oom || m.body.oom || m.args.oom || types.oom || rets.oom) {
    free(text.data);
    INVALID(&m, "out of memory");
    goto done;
  }
  result->mlir = text.data;

done:
  if (!m.failed && !result->mlir)
    INVALID(&m, "the import stopped without a message (a bug: please report it with the model)");
  free(types.data);
  free(rets.data);
  free(m.body.data);
  free(m.args.data);
  for (size_t k = 0; k < m.tableCap; ++k)
    free(m.table[k].name);
  free(m.table);
  while (m.values) {
    Value *next = m.values->next;
    free(m.values->f);
    free(m.values->i);
    free(m.values);
    m.values = next;
  }
  free(m.skip);
  free(m.root);
  free(m.lnX);
  free(m.lnGamma);
  free(m.lnBeta);
  free(m.lnEpsName);
  free(m.geluX);
  onnx__model_proto__free_unpacked(model, NULL);
  if (m.failed) {
    mpcrtTensorSetFree(&result->params);
    free(result->mlir);
    result->mlir = NULL;
    return false;
  }
  return true;
}

void mpcImportResultFree(MpcImportResult *result) {
  free(result->mlir);
  result->mlir = NULL;
  mpcrtTensorSetFree(&result->params);
}
