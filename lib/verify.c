/*===- verify.c - the mpc dialect verifier ----------------------*- C -*-===*
 *
 * Checks every mpc op against its row of the op table (operand counts and
 * kinds, attributes) and its shape rule (broadcasting, contraction dims,
 * conv and pool output sizes, ...). Every failure is one error at the op's
 * location saying what was expected and what was found.
 *
 * Flow per op: checkStructure (result, operand count and types, attributes)
 * -> computeEltType (compute type from the operands) -> verify_<rule> (the
 * expected result shape) -> compare with the declared result type.
 *===----------------------------------------------------------------------===*/
#include "mpc/mpc.h"
#include "emitter.h"
#include "ir.h"
#include "shape.h"
#include "support.h"

#include <math.h>
#include <mlir-c/BuiltinAttributes.h>
#include <mlir-c/BuiltinTypes.h>
#include <mlir-c/Diagnostics.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  MlirOperation op;
  const MpcOpInfo *info;
  int numOperands;
  MpcShape *in;     /* shapes of the operands */
  int *spec;        /* operand index -> index into info->operands */
  MpcShape out;     /* the declared result shape */
  MpcShape expect;  /* filled by the shape rule */
} OpCtx;

#define FAIL(c, ...) (mpcOpEmitError((c)->op, __VA_ARGS__), false)

/*---------------------------------------------------------------------------
 * Attributes
 *---------------------------------------------------------------------------*/

static MlirAttribute getAttr(OpCtx *c, const char *name) {
  return mlirOperationGetAttributeByName(c->op, mlirStringRefCreateFromCString(name));
}

static int64_t attrI64(OpCtx *c, const char *name) {
  return mlirIntegerAttrGetValueInt(getAttr(c, name));
}

/* Reads an i64 list attribute into out[max]; returns its length. */
static int attrList(OpCtx *c, const char *name, int64_t *out, int max) {
  MlirAttribute a = getAttr(c, name);
  int n = (int)mlirDenseArrayGetNumElements(a);
  for (int i = 0; i < n && i < max; ++i)
    out[i] = mlirDenseI64ArrayGetElement(a, i);
  return n;
}

static const char *attrKindExample(MpcAttrKind kind) {
  switch (kind) {
  case MPC_ATTR_I64: return "an i64 integer such as `1 : i64`";
  case MPC_ATTR_I64_LIST: return "an i64 array such as `array<i64: 0, 1>`";
  case MPC_ATTR_F64: return "an f64 float such as `1.0e-05 : f64`";
  case MPC_ATTR_BOOL: return "a boolean (`true` or `false`)";
  case MPC_ATTR_ENUM: return "a string";
  }
  return "";
}

static bool attrHasKind(MlirAttribute a, const MpcAttrSpec *spec) {
  switch (spec->kind) {
  case MPC_ATTR_I64:
    return mlirAttributeIsAInteger(a) && !mlirAttributeIsABool(a) &&
           mlirTypeIsAInteger(mlirAttributeGetType(a)) &&
           mlirIntegerTypeGetWidth(mlirAttributeGetType(a)) == 64;
  case MPC_ATTR_I64_LIST: return mlirAttributeIsADenseI64Array(a);
  case MPC_ATTR_F64: return mlirAttributeIsAFloat(a) && mlirTypeIsAF64(mlirAttributeGetType(a));
  case MPC_ATTR_BOOL: return mlirAttributeIsABool(a);
  case MPC_ATTR_ENUM: return mlirAttributeIsAString(a);
  }
  return false;
}

static bool checkEnumValue(OpCtx *c, MlirAttribute a, const MpcAttrSpec *spec) {
  MlirStringRef v = mlirStringAttrGetValue(a);
  for (int i = 0; i < spec->numValues; ++i)
    if (strlen(spec->values[i]) == v.length && !strncmp(spec->values[i], v.data, v.length))
      return true;
  char allowed[128] = "";
  size_t used = 0;
  for (int i = 0; i < spec->numValues; ++i)
    used += (size_t)snprintf(allowed + used, sizeof allowed - used, "%s\"%s\"",
                             i == 0 ? "" : i + 1 == spec->numValues ? " or " : ", ", spec->values[i]);
  return FAIL(c, "attribute '%s' must be %s, got \"%.*s\"", spec->name, allowed, (int)v.length, v.data);
}

static const MpcAttrSpec *findAttrSpec(const MpcOpInfo *info, MlirStringRef name) {
  for (int i = 0; i < info->numAttrs; ++i)
    if (strlen(info->attrs[i].name) == name.length && !strncmp(info->attrs[i].name, name.data, name.length))
      return &info->attrs[i];
  return NULL;
}

static bool checkAttributes(OpCtx *c) {
  const MpcOpInfo *info = c->info;
  for (int i = 0; i < info->numAttrs; ++i) {
    const MpcAttrSpec *spec = &info->attrs[i];
    MlirAttribute a = getAttr(c, spec->name);
    if (mlirAttributeIsNull(a))
      return FAIL(c, "requires attribute '%s' (%s)", spec->name, attrKindExample(spec->kind));
    if (!attrHasKind(a, spec)) {
      char buf[96];
      return FAIL(c, "attribute '%s' must be %s, got %s", spec->name, attrKindExample(spec->kind),
                  mpcAttrToString(a, buf, sizeof buf));
    }
    if (spec->kind == MPC_ATTR_ENUM && !checkEnumValue(c, a, spec))
      return false;
  }
  /* Unknown attributes without a dialect prefix are most likely typos. */
  intptr_t n = mlirOperationGetNumAttributes(c->op);
  for (intptr_t i = 0; i < n; ++i) {
    MlirStringRef name = mlirIdentifierStr(mlirOperationGetAttribute(c->op, i).name);
    if (!memchr(name.data, '.', name.length) && !findAttrSpec(info, name))
      return FAIL(c, "has unknown attribute '%.*s'%s%s%s", (int)name.length, name.data,
                  info->numAttrs ? " (expected: " : "", info->numAttrs ? info->attrText : "",
                  info->numAttrs ? ")" : "");
  }
  return true;
}

/*---------------------------------------------------------------------------
 * Operands and result
 *---------------------------------------------------------------------------*/

static bool checkOperandCount(OpCtx *c) {
  const MpcOpInfo *info = c->info;
  int min = 0, max = 0;
  bool variadic = false;
  for (int i = 0; i < info->numOperands; ++i) {
    MpcArity a = info->operands[i].arity;
    min += a != MPC_ARITY_OPTIONAL;
    max += 1;
    variadic |= a == MPC_ARITY_VARIADIC;
  }
  int n = c->numOperands;
  if (n >= min && (variadic || n <= max))
    return true;
  if (variadic)
    return FAIL(c, "expects at least %d operand%s (%s), got %d", min, min == 1 ? "" : "s",
                info->operandText, n);
  if (min == max)
    return FAIL(c, "expects %d operand%s (%s), got %d", min, min == 1 ? "" : "s", info->operandText, n);
  return FAIL(c, "expects %d or %d operands (%s), got %d", min, max, info->operandText, n);
}

/* Maps each operand to its spec: optional and variadic specs absorb the
 * operands that the required ones leave over. */
static void assignSpecs(OpCtx *c) {
  const MpcOpInfo *info = c->info;
  int required = 0;
  for (int i = 0; i < info->numOperands; ++i)
    required += info->operands[i].arity == MPC_ARITY_ONE;
  int extra = c->numOperands - required, k = 0;
  for (int i = 0; i < info->numOperands; ++i) {
    int count = 1;
    if (info->operands[i].arity == MPC_ARITY_OPTIONAL)
      count = extra > 0 ? 1 : 0;
    else if (info->operands[i].arity == MPC_ARITY_VARIADIC)
      count = extra + 1;
    if (info->operands[i].arity != MPC_ARITY_ONE)
      extra -= count - (info->operands[i].arity == MPC_ARITY_VARIADIC);
    for (int j = 0; j < count && k < c->numOperands; ++j)
      c->spec[k++] = i;
  }
}

static const char *operandKindText(MpcOperandKind kind) {
  switch (kind) {
  case MPC_OPERAND_FLOAT: return "f16, bf16, f32 or f64";
  case MPC_OPERAND_INT: return "i32 or i64";
  case MPC_OPERAND_I1: return "i1";
  case MPC_OPERAND_ANY: return "f16, bf16, f32, f64, i32 or i64";
  }
  return "";
}

static bool kindMatches(MpcOperandKind want, MpcEltKind have) {
  switch (want) {
  case MPC_OPERAND_FLOAT: return mpcEltIsFloat(have);
  case MPC_OPERAND_INT: return have == MPC_ELT_I32 || have == MPC_ELT_I64;
  case MPC_OPERAND_I1: return have == MPC_ELT_I1;
  case MPC_OPERAND_ANY: return mpcEltIsFloat(have) || have == MPC_ELT_I32 || have == MPC_ELT_I64;
  }
  return false;
}

static bool checkTensorType(OpCtx *c, MlirType t, MpcShape *shape, const char *what,
                            MpcOperandKind kind) {
  char buf[96];
  if (!mlirTypeIsARankedTensor(t) || !mlirShapedTypeHasStaticShape(t))
    return FAIL(c, "%s must be a statically shaped tensor of %s, got '%s'", what, operandKindText(kind),
                mpcTypeToString(t, buf, sizeof buf));
  if (!mpcShapeOf(t, shape))
    return FAIL(c, "%s has rank %lld; at most %d is supported", what,
                (long long)mlirShapedTypeGetRank(t), MPC_MAX_RANK);
  if (!kindMatches(kind, mpcEltKindOf(mlirShapedTypeGetElementType(t))))
    return FAIL(c, "%s must be a tensor of %s, got '%s'", what, operandKindText(kind),
                mpcTypeToString(t, buf, sizeof buf));
  return true;
}

static const char *operandLabel(OpCtx *c, int i, char *buf, size_t size) {
  const MpcOperandSpec *s = &c->info->operands[c->spec[i]];
  snprintf(buf, size, "operand #%d (%s)", i, s->name);
  return buf;
}

static bool checkOperandTypes(OpCtx *c) {
  for (int i = 0; i < c->numOperands; ++i) {
    char label[64];
    MlirType t = mlirValueGetType(mlirOperationGetOperand(c->op, i));
    if (!checkTensorType(c, t, &c->in[i], operandLabel(c, i, label, sizeof label),
                         c->info->operands[c->spec[i]].kind))
      return false;
  }
  return true;
}

static bool checkStructure(OpCtx *c) {
  if (mlirOperationGetNumRegions(c->op) != 0 || mlirOperationGetNumSuccessors(c->op) != 0)
    return FAIL(c, "takes no regions or successors");
  intptr_t results = mlirOperationGetNumResults(c->op);
  if (results != 1)
    return FAIL(c, "has exactly one result, got %lld", (long long)results);
  if (!checkOperandCount(c))
    return false;
  assignSpecs(c);
  MlirType rt = mlirValueGetType(mlirOperationGetResult(c->op, 0));
  /* An op with an ANY operand (reshape) returns its operand's type. */
  MpcOperandKind resultKind = c->numOperands && c->info->operands[c->spec[0]].kind == MPC_OPERAND_ANY
                                  ? MPC_OPERAND_ANY : MPC_OPERAND_FLOAT;
  return checkOperandTypes(c) && checkTensorType(c, rt, &c->out, "result", resultKind) && checkAttributes(c);
}

/*---------------------------------------------------------------------------
 * Element types: promote ops take the widest float operand, every other op
 * needs all its float operands in one type.
 *---------------------------------------------------------------------------*/

static MlirType operandElt(OpCtx *c, int i) {
  return mlirShapedTypeGetElementType(mlirValueGetType(mlirOperationGetOperand(c->op, i)));
}

static MlirType operandElt(OpCtx *c, int i);

static bool isFloatOperand(OpCtx *c, int i) {
  MpcOperandKind kind = c->info->operands[c->spec[i]].kind;
  return kind == MPC_OPERAND_FLOAT || (kind == MPC_OPERAND_ANY && mpcEltIsFloat(mpcEltKindOf(operandElt(c, i))));
}

static bool computeEltType(OpCtx *c, MlirType *elt) {
  bool promote = c->info->defaultClass[MPC_TARGET_CPU] == MPC_CLASS_PROMOTE;
  int first = -1;
  for (int i = 0; i < c->numOperands; ++i) {
    if (!isFloatOperand(c, i))
      continue;
    MlirType t = operandElt(c, i);
    if (first < 0) {
      first = i;
      *elt = t;
    } else if (promote) {
      *elt = mpcPromoteFloat(*elt, t);
    } else if (!mlirTypeEqual(*elt, t)) {
      char a[16], b[16], la[64], lb[64];
      return FAIL(c, "operands must have one float element type: %s is %s but %s is %s",
                  operandLabel(c, first, la, sizeof la), mpcTypeToString(*elt, a, sizeof a),
                  operandLabel(c, i, lb, sizeof lb), mpcTypeToString(t, b, sizeof b));
    }
  }
  if (first < 0 && c->numOperands && c->info->operands[c->spec[0]].kind == MPC_OPERAND_ANY) {
    *elt = operandElt(c, 0); /* an integer reshape */
    return true;
  }
  MPC_ASSERT(first >= 0, "every mpc op but an integer reshape has a float operand");
  return true;
}

/*---------------------------------------------------------------------------
 * Shape rules: each fills c->expect or emits an error.
 *---------------------------------------------------------------------------*/

static const char *fmt(const MpcShape *s, char *buf) { return mpcShapeFormat(s, buf, 64); }

static bool needRank(OpCtx *c, int i, int min, int max) {
  int r = c->in[i].rank;
  if (r >= min && r <= max)
    return true;
  char label[64];
  operandLabel(c, i, label, sizeof label);
  if (min == max)
    return FAIL(c, "%s must have rank %d, got rank %d", label, min, r);
  if (max == MPC_MAX_RANK)
    return FAIL(c, "%s must have rank at least %d, got rank %d", label, min, r);
  return FAIL(c, "%s must have rank %d to %d, got rank %d", label, min, max, r);
}

/* Checks that an axis attribute value lies in [0, rank). */
static bool checkAxis(OpCtx *c, const char *attr, int64_t axis, int rank) {
  if (axis >= 0 && axis < rank)
    return true;
  return FAIL(c, "%s %lld is out of range for rank %d (axes are non-negative, below the rank)", attr,
              (long long)axis, rank);
}

static bool checkListLength(OpCtx *c, const char *attr, int n, int want) {
  if (n == want)
    return true;
  return FAIL(c, "attribute '%s' must have %d elements, got %d", attr, want, n);
}

static bool checkAllAtLeast(OpCtx *c, const char *attr, const int64_t *v, int n, int64_t min) {
  for (int i = 0; i < n; ++i)
    if (v[i] < min)
      return FAIL(c, "attribute '%s' must have elements >= %lld, got %lld at index %d", attr,
                  (long long)min, (long long)v[i], i);
  return true;
}

/* Reads an i64 list attribute that must have `length` elements, each >= min. */
static bool readList(OpCtx *c, const char *attr, int64_t *out, int length, int64_t min) {
  int64_t values[MPC_MAX_RANK + 1];
  int n = attrList(c, attr, values, MPC_MAX_RANK + 1);
  if (!checkListLength(c, attr, n, length) || !checkAllAtLeast(c, attr, values, n, min))
    return false;
  for (int i = 0; i < n; ++i)
    out[i] = values[i];
  return true;
}

static bool verify_same(OpCtx *c) {
  c->expect = c->in[0];
  return true;
}

static bool verify_broadcast(OpCtx *c) {
  MpcShape acc = c->in[0];
  for (int i = 1; i < c->numOperands; ++i) {
    MpcShape next;
    int bad = 0;
    if (!mpcShapeBroadcast(&acc, &c->in[i], &next, &bad)) {
      char a[64], b[64];
      return FAIL(c, "operands are not broadcast-compatible: %s and %s (result dim %d)", fmt(&acc, a),
                  fmt(&c->in[i], b), bad);
    }
    acc = next;
  }
  c->expect = acc;
  return true;
}

/* The optional bias (operand 2) of linear and conv2d: [size] elements. */
static bool checkBias(OpCtx *c, const char *dim, int64_t size) {
  if (c->numOperands < 3)
    return true;
  if (!needRank(c, 2, 1, 1))
    return false;
  if (c->in[2].dims[0] != size)
    return FAIL(c, "bias b must have %s = %lld elements (w's first dim), got %lld", dim, (long long)size,
                (long long)c->in[2].dims[0]);
  return true;
}

static bool verify_linear(OpCtx *c) {
  if (!needRank(c, 0, 1, MPC_MAX_RANK) || !needRank(c, 1, 2, 2))
    return false;
  const MpcShape *x = &c->in[0], *w = &c->in[1];
  int64_t k = x->dims[x->rank - 1], n = w->dims[0];
  if (w->dims[1] != k)
    return FAIL(c, "contraction mismatch: x has K = %lld in its last dim but w is [N, K] with K = %lld",
                (long long)k, (long long)w->dims[1]);
  if (!checkBias(c, "N", n))
    return false;
  c->expect = *x;
  c->expect.dims[x->rank - 1] = n;
  return true;
}

static bool verify_matmul(OpCtx *c) {
  if (!needRank(c, 0, 2, MPC_MAX_RANK) || !needRank(c, 1, 2, MPC_MAX_RANK))
    return false;
  const MpcShape *a = &c->in[0], *b = &c->in[1];
  char sa[64], sb[64];
  if (a->rank != b->rank)
    return FAIL(c, "operands must have equal batch dims: a is %s, b is %s", fmt(a, sa), fmt(b, sb));
  int r = a->rank;
  for (int i = 0; i < r - 2; ++i)
    if (a->dims[i] != b->dims[i])
      return FAIL(c, "operands must have equal batch dims: a is %s, b is %s", fmt(a, sa), fmt(b, sb));
  if (a->dims[r - 1] != b->dims[r - 2])
    return FAIL(c, "contraction mismatch: a is [..., M, K] with K = %lld but b is [..., K, N] with K = %lld",
                (long long)a->dims[r - 1], (long long)b->dims[r - 2]);
  c->expect = *a;
  c->expect.dims[r - 1] = b->dims[r - 1];
  return true;
}

/* Output size of a sliding window; false if the window does not fit. */
static bool windowOut(int64_t in, int64_t padLo, int64_t padHi, int64_t effKernel, int64_t stride,
                      int64_t *out) {
  int64_t span = in + padLo + padHi;
  if (span < effKernel)
    return false;
  *out = (span - effKernel) / stride + 1;
  return true;
}

static bool verify_conv2d(OpCtx *c) {
  if (!needRank(c, 0, 4, 4) || !needRank(c, 1, 4, 4))
    return false;
  int64_t st[2], pad[4], dil[2], groups = attrI64(c, "groups");
  if (!readList(c, "strides", st, 2, 1) || !readList(c, "padding", pad, 4, 0) || !readList(c, "dilations", dil, 2, 1))
    return false;
  const MpcShape *x = &c->in[0], *w = &c->in[1];
  int64_t ch = x->dims[1], o = w->dims[0];
  if (groups < 1)
    return FAIL(c, "attribute 'groups' must be >= 1, got %lld", (long long)groups);
  if (ch % groups || o % groups)
    return FAIL(c, "groups = %lld must divide both the input channels (%lld) and the output channels (%lld)",
                (long long)groups, (long long)ch, (long long)o);
  if (w->dims[1] != ch / groups)
    return FAIL(c, "w must be [O, C/groups, KH, KW] with C/groups = %lld, got %lld in dim 1",
                (long long)(ch / groups), (long long)w->dims[1]);
  if (!checkBias(c, "O", o))
    return false;
  c->expect = (MpcShape){4, {x->dims[0], o, 0, 0}};
  for (int d = 0; d < 2; ++d) {
    int64_t eff = dil[d] * (w->dims[2 + d] - 1) + 1;
    if (!windowOut(x->dims[2 + d], pad[d], pad[d + 2], eff, st[d], &c->expect.dims[2 + d]))
      return FAIL(c, "kernel %s (%lld with dilation) is larger than the padded input (%lld)",
                  d ? "width" : "height", (long long)eff,
                  (long long)(x->dims[2 + d] + pad[d] + pad[d + 2]));
  }
  return true;
}

static bool verify_pool2d(OpCtx *c) {
  if (!needRank(c, 0, 4, 4))
    return false;
  int64_t k[2], st[2], pad[4];
  if (!readList(c, "kernel", k, 2, 1) || !readList(c, "strides", st, 2, 1) || !readList(c, "padding", pad, 4, 0))
    return false;
  const MpcShape *x = &c->in[0];
  c->expect = (MpcShape){4, {x->dims[0], x->dims[1], 0, 0}};
  for (int d = 0; d < 2; ++d) {
    if (2 * pad[d] > k[d] || 2 * pad[d + 2] > k[d])
      return FAIL(c, "padding must be at most half the kernel (%lld), got [%lld, %lld, %lld, %lld]",
                  (long long)k[d], (long long)pad[0], (long long)pad[1], (long long)pad[2],
                  (long long)pad[3]);
    if (!windowOut(x->dims[2 + d], pad[d], pad[d + 2], k[d], st[d], &c->expect.dims[2 + d]))
      return FAIL(c, "kernel %s (%lld) is larger than the padded input (%lld)", d ? "width" : "height",
                  (long long)k[d], (long long)(x->dims[2 + d] + pad[d] + pad[d + 2]));
  }
  return true;
}

static bool verify_concat(OpCtx *c) {
  int rank = c->in[0].rank;
  int64_t axis = attrI64(c, "axis");
  if (!checkAxis(c, "axis", axis, rank))
    return false;
  c->expect = c->in[0];
  for (int i = 1; i < c->numOperands; ++i) {
    const MpcShape *s = &c->in[i];
    char a[64], b[64];
    if (s->rank != rank)
      return FAIL(c, "inputs must have the same rank: input #0 is %s, input #%d is %s", fmt(&c->in[0], a), i,
                  fmt(s, b));
    for (int d = 0; d < rank; ++d)
      if (d != axis && s->dims[d] != c->in[0].dims[d])
        return FAIL(c, "inputs must match outside axis %lld: input #0 is %s, input #%d is %s",
                    (long long)axis, fmt(&c->in[0], a), i, fmt(s, b));
    c->expect.dims[axis] += s->dims[axis];
  }
  return true;
}

static bool verify_softmax(OpCtx *c) {
  return needRank(c, 0, 1, MPC_MAX_RANK) && checkAxis(c, "axis", attrI64(c, "axis"), c->in[0].rank) &&
         verify_same(c);
}

static bool verify_layer_norm(OpCtx *c) {
  if (!needRank(c, 0, 1, MPC_MAX_RANK) || !needRank(c, 1, 1, 1) || !needRank(c, 2, 1, 1))
    return false;
  int64_t d = c->in[0].dims[c->in[0].rank - 1];
  for (int i = 1; i < 3; ++i)
    if (c->in[i].dims[0] != d)
      return FAIL(c, "%s must have D = %lld elements (x's last dim), got %lld", i == 1 ? "gamma" : "beta",
                  (long long)d, (long long)c->in[i].dims[0]);
  double eps = mlirFloatAttrGetValueDouble(getAttr(c, "eps"));
  if (!(eps >= 0) || isinf(eps))
    return FAIL(c, "attribute 'eps' must be finite and non-negative, got %g", eps);
  return verify_same(c);
}

static bool verify_reduce(OpCtx *c) {
  int64_t axes[MPC_MAX_RANK + 1];
  int n = attrList(c, "axes", axes, MPC_MAX_RANK + 1), rank = c->in[0].rank;
  if (n == 0)
    return FAIL(c, "attribute 'axes' must not be empty");
  if (n > rank)
    return FAIL(c, "attribute 'axes' has %d entries but x has rank %d", n, rank);
  bool reduced[MPC_MAX_RANK] = {false};
  for (int i = 0; i < n; ++i) {
    if (!checkAxis(c, "axis", axes[i], rank))
      return false;
    if (reduced[axes[i]])
      return FAIL(c, "attribute 'axes' lists axis %lld twice", (long long)axes[i]);
    reduced[axes[i]] = true;
  }
  bool keep = mlirBoolAttrGetValue(getAttr(c, "keepdim"));
  c->expect.rank = 0;
  for (int d = 0; d < rank; ++d)
    if (!reduced[d] || keep)
      c->expect.dims[c->expect.rank++] = reduced[d] ? 1 : c->in[0].dims[d];
  return true;
}

static bool verify_cross_entropy(OpCtx *c) {
  if (!needRank(c, 0, 2, 2) || !needRank(c, 1, 1, 1))
    return false;
  if (c->in[1].dims[0] != c->in[0].dims[0])
    return FAIL(c, "labels must have B = %lld elements (logits are [B, C]), got %lld",
                (long long)c->in[0].dims[0], (long long)c->in[1].dims[0]);
  c->expect.rank = 0;
  return true;
}

static bool verify_mse_loss(OpCtx *c) {
  char a[64], b[64];
  if (!mpcShapeEqual(&c->in[0], &c->in[1]))
    return FAIL(c, "pred and target must have the same shape: %s vs %s", fmt(&c->in[0], a),
                fmt(&c->in[1], b));
  c->expect.rank = 0;
  return true;
}

static bool verify_reshape(OpCtx *c) {
  int64_t from = mpcShapeNumElements(&c->in[0]), to = mpcShapeNumElements(&c->out);
  char a[64], b[64];
  if (from != to)
    return FAIL(c, "cannot reshape %s (%lld elements) into %s (%lld elements)", fmt(&c->in[0], a),
                (long long)from, fmt(&c->out, b), (long long)to);
  c->expect = c->out;
  return true;
}

static bool verify_transpose(OpCtx *c) {
  int64_t perm[MPC_MAX_RANK + 1];
  int n = attrList(c, "perm", perm, MPC_MAX_RANK + 1), rank = c->in[0].rank;
  if (!checkListLength(c, "perm", n, rank))
    return false;
  bool seen[MPC_MAX_RANK] = {false};
  c->expect.rank = rank;
  for (int i = 0; i < rank; ++i) {
    if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]])
      return FAIL(c, "attribute 'perm' must be a permutation of 0..%d, got %lld at index %d", rank - 1,
                  (long long)perm[i], i);
    seen[perm[i]] = true;
    c->expect.dims[i] = c->in[0].dims[perm[i]];
  }
  return true;
}

static bool verify_broadcast_to(OpCtx *c) {
  MpcShape joined;
  int bad = 0;
  char a[64], b[64];
  if (c->in[0].rank > c->out.rank || !mpcShapeBroadcast(&c->in[0], &c->out, &joined, &bad) ||
      !mpcShapeEqual(&joined, &c->out))
    return FAIL(c, "cannot broadcast %s to %s", fmt(&c->in[0], a), fmt(&c->out, b));
  c->expect = c->out;
  return true;
}

static bool verify_slice(OpCtx *c) {
  int64_t starts[MPC_MAX_RANK], sizes[MPC_MAX_RANK];
  int rank = c->in[0].rank;
  if (!readList(c, "starts", starts, rank, 0) || !readList(c, "sizes", sizes, rank, 1))
    return false;
  c->expect.rank = rank;
  for (int d = 0; d < rank; ++d) {
    if (starts[d] + sizes[d] > c->in[0].dims[d])
      return FAIL(c, "slice [%lld, %lld) of dim %d is out of bounds (size %lld)", (long long)starts[d],
                  (long long)(starts[d] + sizes[d]), d, (long long)c->in[0].dims[d]);
    c->expect.dims[d] = sizes[d];
  }
  return true;
}

static bool verify_embedding(OpCtx *c) {
  if (!needRank(c, 0, 2, 2) || !needRank(c, 1, 0, MPC_MAX_RANK - 1))
    return false;
  c->expect = c->in[1];
  c->expect.dims[c->expect.rank++] = c->in[0].dims[1];
  return true;
}

static bool verify_scatter_add(OpCtx *c) {
  const MpcShape *x = &c->in[0], *idx = &c->in[1], *upd = &c->in[2];
  char a[64], b[64];
  int64_t axis = attrI64(c, "axis");
  if (!checkAxis(c, "axis", axis, x->rank))
    return false;
  if (!mpcShapeEqual(idx, upd))
    return FAIL(c, "indices and updates must have the same shape: %s vs %s", fmt(idx, a), fmt(upd, b));
  if (upd->rank != x->rank)
    return FAIL(c, "updates must have the rank of x (%d), got rank %d", x->rank, upd->rank);
  for (int d = 0; d < x->rank; ++d)
    if (d != axis && upd->dims[d] > x->dims[d])
      return FAIL(c, "updates dim %d (%lld) exceeds x's (%lld)", d, (long long)upd->dims[d],
                  (long long)x->dims[d]);
  c->expect = *x;
  return true;
}

/* Backward ops whose result has dims its operands do not determine (the
 * forward op's input): the declared result is checked by running the
 * forward shape rule on it. */
static bool convGradCheck(OpCtx *c, const MpcShape *x, const MpcShape *w, const MpcShape *dy) {
  int64_t st[2], pad[4], dil[2], groups = attrI64(c, "groups");
  if (!readList(c, "strides", st, 2, 1) || !readList(c, "padding", pad, 4, 0) || !readList(c, "dilations", dil, 2, 1))
    return false;
  if (groups < 1 || x->dims[1] % groups || w->dims[0] % groups || w->dims[1] != x->dims[1] / groups)
    return FAIL(c, "groups = %lld does not fit input channels %lld and weight [%lld, %lld, ...]", (long long)groups,
                (long long)x->dims[1], (long long)w->dims[0], (long long)w->dims[1]);
  MpcShape y = {4, {x->dims[0], w->dims[0], 0, 0}};
  for (int d = 0; d < 2; ++d) {
    int64_t eff = dil[d] * (w->dims[2 + d] - 1) + 1;
    if (!windowOut(x->dims[2 + d], pad[d], pad[d + 2], eff, st[d], &y.dims[2 + d]))
      return FAIL(c, "kernel %s (%lld with dilation) is larger than the padded input", d ? "width" : "height",
                  (long long)eff);
  }
  char a[64], b[64];
  if (!mpcShapeEqual(&y, dy))
    return FAIL(c, "dy must be %s (conv2d of the result's shape), got %s", fmt(&y, a), fmt(dy, b));
  return true;
}

static bool verify_conv2d_grad_input(OpCtx *c) {
  if (!needRank(c, 0, 4, 4) || !needRank(c, 1, 4, 4))
    return false;
  if (c->out.rank != 4)
    return FAIL(c, "result must have rank 4 ([N, C, H, W]), got rank %d", c->out.rank);
  if (!convGradCheck(c, &c->out, &c->in[1], &c->in[0]))
    return false;
  c->expect = c->out;
  return true;
}

static bool verify_conv2d_grad_weight(OpCtx *c) {
  if (!needRank(c, 0, 4, 4) || !needRank(c, 1, 4, 4))
    return false;
  if (c->out.rank != 4)
    return FAIL(c, "result must have rank 4 ([O, C/groups, KH, KW]), got rank %d", c->out.rank);
  if (!convGradCheck(c, &c->in[1], &c->out, &c->in[0]))
    return false;
  c->expect = c->out;
  return true;
}

static bool verify_pool2d_grad(OpCtx *c) {
  if (!needRank(c, 0, 4, 4) || !needRank(c, 1, 4, 4))
    return false;
  MpcShape dy = c->in[0];
  c->in[0] = c->in[1];
  bool ok = verify_pool2d(c);
  c->in[0] = dy;
  char a[64], b[64];
  if (ok && !mpcShapeEqual(&c->expect, &dy))
    return FAIL(c, "dy must be %s (the pooling of x), got %s", fmt(&c->expect, a), fmt(&dy, b));
  c->expect = c->in[1];
  return ok;
}

static bool verify_cross_entropy_grad(OpCtx *c) {
  if (!needRank(c, 0, 0, 0) || !needRank(c, 1, 2, 2) || !needRank(c, 2, 1, 1))
    return false;
  if (c->in[2].dims[0] != c->in[1].dims[0])
    return FAIL(c, "labels must have B = %lld elements (logits are [B, C]), got %lld",
                (long long)c->in[1].dims[0], (long long)c->in[2].dims[0]);
  c->expect = c->in[1];
  return true;
}

static bool verify_embedding_grad(OpCtx *c) {
  const MpcShape *dy = &c->in[0], *ids = &c->in[1];
  if (!needRank(c, 0, 1, MPC_MAX_RANK))
    return false;
  MpcShape lead = *dy;
  lead.rank--;
  char a[64], b[64];
  if (!mpcShapeEqual(&lead, ids))
    return FAIL(c, "dy must be the ids' shape %s plus one dim, got %s", fmt(ids, a), fmt(dy, b));
  if (c->out.rank != 2 || c->out.dims[1] != dy->dims[dy->rank - 1])
    return FAIL(c, "result must be [V, %lld] (the table's shape)", (long long)dy->dims[dy->rank - 1]);
  c->expect = c->out;
  return true;
}

static bool verify_gather(OpCtx *c) {
  const MpcShape *x = &c->in[0], *idx = &c->in[1];
  int64_t axis = attrI64(c, "axis");
  if (!checkAxis(c, "axis", axis, x->rank))
    return false;
  if (idx->rank != x->rank)
    return FAIL(c, "indices must have the rank of x (%d), got rank %d", x->rank, idx->rank);
  for (int d = 0; d < x->rank; ++d)
    if (d != axis && idx->dims[d] > x->dims[d])
      return FAIL(c, "indices dim %d (%lld) exceeds x's (%lld)", d, (long long)idx->dims[d], (long long)x->dims[d]);
  c->expect = *idx;
  return true;
}

typedef bool (*ShapeRule)(OpCtx *);
static const ShapeRule shapeRules[MPC_OP_COUNT] = {
#define MPC_OP(ID, NAME, OPERANDS, ATTRS, CPU, CUDA, SHAPE) [MPC_OP_##ID] = verify_##SHAPE,
#include "mpc/ops.def"
#undef MPC_OP
};

/*---------------------------------------------------------------------------
 * Driver
 *---------------------------------------------------------------------------*/

static bool verifyMpcOp(MlirOperation op, MpcOpKind kind) {
  OpCtx c = {.op = op, .info = mpcOpInfoGet(kind), .numOperands = (int)mlirOperationGetNumOperands(op)};
  c.in = calloc((size_t)c.numOperands + 1, sizeof *c.in);
  c.spec = calloc((size_t)c.numOperands + 1, sizeof *c.spec);
  MPC_ASSERT(c.in && c.spec, "out of memory");
  MlirType elt;
  bool ok = checkStructure(&c) && computeEltType(&c, &elt) && shapeRules[kind](&c);
  if (ok) {
    MlirType want = mlirRankedTensorTypeGet(c.expect.rank, c.expect.dims, elt, mlirAttributeGetNull());
    MlirType have = mlirValueGetType(mlirOperationGetResult(op, 0));
    if (!mlirTypeEqual(want, have)) {
      char w[96], h[96];
      ok = FAIL(&c, "result type must be '%s', got '%s'", mpcTypeToString(want, w, sizeof w),
                mpcTypeToString(have, h, sizeof h));
    }
  }
  free(c.in);
  free(c.spec);
  return ok;
}

/* Levenshtein distance, for "did you mean" suggestions. */
static size_t editDistance(const char *a, size_t la, const char *b, size_t lb) {
  size_t row[64];
  if (lb >= 64)
    return (size_t)-1;
  for (size_t j = 0; j <= lb; ++j)
    row[j] = j;
  for (size_t i = 1; i <= la; ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; ++j) {
      size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      diag = up;
      row[j] = best;
    }
  }
  return row[lb];
}

static void reportUnknownOp(MlirOperation op, MlirStringRef name) {
  char msg[256];
  const char *dot = memchr(name.data, '.', name.length);
  if (!(name.length > 4 && !strncmp(name.data, "mpc.", 4))) {
    int dialect = dot ? (int)(dot - name.data) : (int)name.length;
    snprintf(msg, sizeof msg, "unknown operation '%.*s': dialect '%.*s' is not registered", (int)name.length,
             name.data, dialect, name.data);
    mlirEmitError(mlirOperationGetLocation(op), msg);
    return;
  }
  const char *best = NULL;
  size_t bestDist = 3; /* suggest only close matches */
  for (int k = 0; k < MPC_OP_COUNT; ++k) {
    const char *cand = mpcOpInfoGet((MpcOpKind)k)->fullName;
    size_t d = editDistance(name.data, name.length, cand, strlen(cand));
    if (d < bestDist) {
      bestDist = d;
      best = cand;
    }
  }
  if (best)
    snprintf(msg, sizeof msg, "unknown operation '%.*s'; did you mean '%s'?", (int)name.length, name.data, best);
  else
    snprintf(msg, sizeof msg, "unknown operation '%.*s' (docs/dialect.md lists the mpc ops)", (int)name.length,
             name.data);
  mlirEmitError(mlirOperationGetLocation(op), msg);
}

/* Parameter and input names are checkpoint keys and runner/trainer flags:
 * each may name one argument of a function. */
static bool verifyArgNames(MlirOperation func) {
  static const char *const keys[] = {"mpc.param", "mpc.input"};
  MlirBlock block = mpcFuncEntryBlock(func);
  intptr_t n = mlirBlockIsNull(block) ? 0 : mlirBlockGetNumArguments(block);
  for (int k = 0; k < 2; ++k)
    for (intptr_t i = 0; i < n; ++i) {
      MlirAttribute a = mpcFuncArgAttr(func, i, keys[k]);
      if (mlirAttributeIsNull(a) || !mlirAttributeIsAString(a))
        continue;
      for (intptr_t j = 0; j < i; ++j)
        if (mlirAttributeEqual(a, mpcFuncArgAttr(func, j, keys[k]))) {
          MlirStringRef name = mlirStringAttrGetValue(a);
          mpcOpEmitError(func, "arguments #%lld and #%lld have the same %s name '%.*s'", (long long)j, (long long)i,
                         keys[k], (int)name.length, name.data);
          return false;
        }
    }
  return true;
}

static MlirWalkResult verifyCallback(MlirOperation op, void *userData) {
  bool *ok = userData;
  if (mpcIsFunc(op))
    *ok &= verifyArgNames(op);
  bool trainOk;
  if (mpcVerifyTrainOp(op, &trainOk)) {
    *ok &= trainOk;
    return MlirWalkResultAdvance;
  }
  MpcOpKind kind = mpcOpKindOf(op);
  if (kind != MPC_OP_COUNT) {
    *ok &= verifyMpcOp(op, kind);
    return MlirWalkResultAdvance;
  }
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  if (!mlirContextIsRegisteredOperation(mlirOperationGetContext(op), name)) {
    reportUnknownOp(op, name);
    *ok = false;
  }
  return MlirWalkResultAdvance;
}

bool mpcVerify(MlirOperation root) {
  bool ok = true;
  mlirOperationWalk(root, verifyCallback, &ok, MlirWalkPreOrder);
  return ok;
}
