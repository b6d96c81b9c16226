/*===- lower-to-linalg.c - the mpc-lower-to-linalg pass ---------*- C -*-===*
 *
 * Rewrites every function of a module from mpc ops into upstream dialects:
 *
 *   elementwise ops, casts, broadcasts, transposes  -> linalg.generic
 *   reductions, softmax, layer_norm, losses          -> linalg.generic with
 *                                                      reduction iterators,
 *                                                      accumulating in f32
 *                                                      (f64 for f64 ops)
 *   reshape, slice, concat                           -> tensor dialect
 *   embedding                                        -> linalg.generic with
 *                                                      a tensor.extract gather
 *   linear, matmul, conv2d, pools, scatter_add       -> calls into the runtime
 *                                                      kernels (runtime/cpu/
 *                                                      kernels.c), which pack,
 *                                                      tile and vectorise
 *
 * Arithmetic on f16 and bf16 values happens in f32 inside each generic's
 * body, with one rounding to the op's result type, as PyTorch's CPU kernels
 * do: the op's precision decides what is stored, not how a CPU without f16
 * arithmetic computes it.
 *
 * Cast fusion: a cast whose users can all apply it themselves is not
 * emitted. Generics read the uncast tensor and convert in their body;
 * matrix kernels convert while packing, rounding to bf16 or f16 exactly as
 * arith.truncf does (round to nearest even), so a cast costs no pass over
 * memory.
 *
 * The lowering writes the new functions as text and parses them back, which
 * keeps each op's rule readable (the output is exactly what --emit=mlir
 * shows); the parsed functions replace the old ones in the module.
 *===----------------------------------------------------------------------===*/
#include "emitter.h"
#include "ir.h"
#include "mpc/runtime.h"

#include <mlir-c/BuiltinAttributes.h>
#include <mlir-c/BuiltinTypes.h>
#include <mlir-c/Diagnostics.h>
#include "shape.h"
#include "support.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  MpcShape s;
  MpcEltKind k;
} VT;

typedef struct {
  const void *ptr;
  int id; /* %vN; -1 for block arguments (then arg holds N) */
  int arg;
  bool multi; /* result `result` of a multi-result op: %vN#result */
  int result;
} Named;

typedef struct {
  MpcStr *out;
  int next;
  Named *names;
  size_t numNames, capNames;
  MlirOperation *skipped; /* casts fused into matrix ops, ReLUs into their kernels */
  size_t numSkipped, capSkipped;
  const char *kernels[16]; /* the runtime kernels called, each declared once at the end */
  int numKernels;
  MpcStr helpers; /* the private functions around kernel calls */
  struct Through *throughs; /* casts fused into the generics that read them */
  size_t numThroughs, capThroughs;
  int numHelpers;
  bool failed;
} Lower;

/*----------------------------------------------------------------------------
 * Types and names
 *--------------------------------------------------------------------------*/

static const char *eltName(MpcEltKind k) { return mpcEltName(k); }

static int dtypeCode(MpcEltKind k) {
  switch (k) {
  case MPC_ELT_F16: return MPCRT_F16;
  case MPC_ELT_BF16: return MPCRT_BF16;
  case MPC_ELT_F32: return MPCRT_F32;
  case MPC_ELT_F64: return MPCRT_F64;
  case MPC_ELT_I32: return MPCRT_I32;
  case MPC_ELT_I64: return MPCRT_I64;
  default: return -1;
  }
}

/* The type arithmetic runs in: f64 for f64, f32 for the rest. */
static MpcEltKind arithOf(MpcEltKind k) { return k == MPC_ELT_F64 ? MPC_ELT_F64 : MPC_ELT_F32; }

static bool vtOf(MlirValue v, VT *t) {
  MlirType type = mlirValueGetType(v);
  if (!mpcShapeOf(type, &t->s))
    return false;
  t->k = mpcEltKindOf(mlirShapedTypeGetElementType(type));
  return t->k != MPC_ELT_OTHER;
}

static VT vtMake(const MpcShape *s, MpcEltKind k) {
  VT t = {*s, k};
  return t;
}

/* "tensor<4x8xf32>" or "memref<..>" into a rotating set of buffers. */
static const char *shapedName(const char *kind, const VT *t) {
  static char bufs[8][160];
  static int which;
  char *b = bufs[which++ & 7];
  int n = snprintf(b, 160, "%s<", kind);
  for (int i = 0; i < t->s.rank; ++i)
    n += snprintf(b + n, 160 - n, "%lldx", (long long)t->s.dims[i]);
  snprintf(b + n, 160 - n, "%s>", eltName(t->k));
  return b;
}
static const char *tt(const VT *t) { return shapedName("tensor", t); }
static const char *mt(const VT *t) { return shapedName("memref", t); }

static void emit(Lower *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(Lower *L, const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n >= (int)sizeof buf) {
    char *big = malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    mpcStrAppend(L->out, big, (size_t)n);
    free(big);
    return;
  }
  mpcStrAppend(L->out, buf, (size_t)n);
}

/* A fresh SSA name "%vN" (returned in a rotating buffer). */
static const char *fresh(Lower *L) {
  static char bufs[32][24];
  static int which;
  char *b = bufs[which++ & 31];
  snprintf(b, 24, "%%v%d", L->next++);
  return b;
}

static void bindName(Lower *L, MlirValue v, int id, int arg) {
  L->names = mpcGrowArray(L->names, &L->capNames, L->numNames + 1, sizeof *L->names);
  L->names[L->numNames++] = (Named){v.ptr, id, arg, false, 0};
}

/* Binds an op result to a "%vN" string produced by fresh(). */
static void bindResult(Lower *L, MlirValue v, const char *name) { bindName(L, v, atoi(name + 2), -1); }

static const char *nameOf(Lower *L, MlirValue v) {
  static char bufs[16][24];
  static int which;
  for (size_t i = L->numNames; i-- > 0;)
    if (L->names[i].ptr == v.ptr) {
      char *b = bufs[which++ & 15];
      if (L->names[i].id < 0)
        snprintf(b, 24, "%%arg%d", L->names[i].arg);
      else if (L->names[i].multi)
        snprintf(b, 24, "%%v%d#%d", L->names[i].id, L->names[i].result);
      else
        snprintf(b, 24, "%%v%d", L->names[i].id);
      return b;
    }
  return "%undefined";
}

/* Copies a rotating-buffer name so it survives later calls. */
typedef struct {
  char s[24];
} Name;
static Name keep(const char *n) {
  Name r;
  snprintf(r.s, sizeof r.s, "%s", n);
  return r;
}

/*----------------------------------------------------------------------------
 * Scalar code inside generic bodies (names %t0, %t1, ... local to a body)
 *--------------------------------------------------------------------------*/

typedef struct {
  MpcStr text;
  int next;
} Body;

/* A cast that is not emitted: its result's name (never defined in the IR)
 * stands for `src` converted to `castK`; every generic that reads the name
 * reads `src` and converts in its body (emitGeneric), and so do the gathers
 * of cross_entropy and embedding (extractThrough). */
struct Through {
  Name name, src;
  VT srcT;
  MpcEltKind castK;
};

static const struct Through *findThrough(const Lower *L, const char *name) {
  for (size_t i = 0; i < L->numThroughs; ++i)
    if (!strcmp(L->throughs[i].name.s, name))
      return &L->throughs[i];
  return NULL;
}

static Name bodyOp(Body *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static Name bodyOp(Body *b, const char *fmt, ...) {
  Name r;
  snprintf(r.s, sizeof r.s, "%%t%d", b->next++);
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  mpcStrAppendf(&b->text, "      %s = %s\n", r.s, buf);
  return r;
}

/* The text of a float constant of type k (f32 or f64, the arithmetic
 * types): infinities as hexadecimal bit patterns, the only way to write
 * them. Into a rotating buffer. */
static const char *floatLiteral(double value, MpcEltKind k) {
  static char bufs[8][64];
  static int which;
  char *lit = bufs[which++ & 7];
  if (isinf(value))
    snprintf(lit, 64, "%s", k == MPC_ELT_F64 ? (value < 0 ? "0xFFF0000000000000" : "0x7FF0000000000000")
                                              : (value < 0 ? "0xFF800000" : "0x7F800000"));
  else
    snprintf(lit, 64, "%.17e", value);
  return lit;
}

static Name bodyConst(Body *b, double value, MpcEltKind k) {
  return bodyOp(b, "arith.constant %s : %s", floatLiteral(value, k), eltName(k));
}

/* Converts a float scalar between any two float types. */
static Name bodyConvert(Body *b, Name x, MpcEltKind from, MpcEltKind to) {
  if (from == to)
    return x;
  if ((from == MPC_ELT_F16 && to == MPC_ELT_BF16) || (from == MPC_ELT_BF16 && to == MPC_ELT_F16)) {
    x = bodyOp(b, "arith.extf %s : %s to f32", x.s, eltName(from));
    from = MPC_ELT_F32;
  }
  int wf = from == MPC_ELT_F64 ? 64 : from == MPC_ELT_F32 ? 32 : 16;
  int wt = to == MPC_ELT_F64 ? 64 : to == MPC_ELT_F32 ? 32 : 16;
  return bodyOp(b, "arith.%s %s : %s to %s", wt > wf ? "extf" : "truncf", x.s, eltName(from), eltName(to));
}

static Name bodyBin(Body *b, const char *op, Name x, Name y, MpcEltKind k) {
  return bodyOp(b, "%s %s, %s : %s", op, x.s, y.s, eltName(k));
}
static Name bodyExpF32(Body *b, Name x);
static Name bodyTanhF32(Body *b, Name x);

/* exp and tanh in f32 are written out (bodyExpF32, bodyTanhF32) so that the
 * loops around them vectorise: as math ops they become calls to libm's
 * scalar expf and tanhf. */
static Name bodyUn(Body *b, const char *op, Name x, MpcEltKind k) {
  if (k == MPC_ELT_F32 && !strcmp(op, "math.exp"))
    return bodyExpF32(b, x);
  if (k == MPC_ELT_F32 && !strcmp(op, "math.tanh"))
    return bodyTanhF32(b, x);
  return bodyOp(b, "%s %s : %s", op, x.s, eltName(k));
}

/* Polynomial (Horner) in x with coefficients c[0] (highest) .. c[n-1]. */
static Name bodyHorner(Body *b, Name x, const double *c, int n) {
  Name acc = bodyConst(b, c[0], MPC_ELT_F32);
  for (int i = 1; i < n; ++i)
    acc = bodyBin(b, "arith.addf", bodyBin(b, "arith.mulf", acc, x, MPC_ELT_F32), bodyConst(b, c[i], MPC_ELT_F32),
                  MPC_ELT_F32);
  return acc;
}

/* e^x in f32 (Cephes' expf, within 2 ulp): n = round(x log2 e), r = x - n ln 2
 * in two parts, e^r by a degree-6 polynomial, times 2^n applied in two
 * halves so that results down to subnormals and up to inf come out right;
 * NaN stays NaN. */
static Name bodyExpF32(Body *b, Name x) {
  const MpcEltKind f = MPC_ELT_F32;
  Name xc = bodyBin(b, "arith.minnumf", bodyBin(b, "arith.maxnumf", x, bodyConst(b, -104.0, f), f), bodyConst(b, 89.0, f), f);
  Name n = bodyUn(b, "math.floor", bodyBin(b, "arith.addf", bodyBin(b, "arith.mulf", xc, bodyConst(b, 1.44269504088896341, f), f),
                                           bodyConst(b, 0.5, f), f), f);
  Name r = bodyBin(b, "arith.subf", xc, bodyBin(b, "arith.mulf", n, bodyConst(b, 0.693359375, f), f), f);
  r = bodyBin(b, "arith.subf", r, bodyBin(b, "arith.mulf", n, bodyConst(b, -2.12194440e-4, f), f), f);
  static const double c[] = {1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
                             5.0000001201e-1};
  Name p = bodyHorner(b, r, c, 6);
  Name y = bodyBin(b, "arith.addf", bodyBin(b, "arith.addf", bodyBin(b, "arith.mulf", p, bodyBin(b, "arith.mulf", r, r, f), f), r, f),
                   bodyConst(b, 1.0, f), f);
  Name ni = bodyOp(b, "arith.fptosi %s : f32 to i32", n.s);
  Name h = bodyOp(b, "arith.shrsi %s, %s : i32", ni.s, bodyOp(b, "arith.constant 1 : i32").s);
  Name bias = bodyOp(b, "arith.constant 127 : i32"), shift = bodyOp(b, "arith.constant 23 : i32");
  Name e1 = bodyOp(b, "arith.shli %s, %s : i32", bodyOp(b, "arith.addi %s, %s : i32", h.s, bias.s).s, shift.s);
  Name e2 = bodyOp(b, "arith.shli %s, %s : i32",
                   bodyOp(b, "arith.addi %s, %s : i32", bodyOp(b, "arith.subi %s, %s : i32", ni.s, h.s).s, bias.s).s,
                   shift.s);
  Name s1 = bodyOp(b, "arith.bitcast %s : i32 to f32", e1.s), s2 = bodyOp(b, "arith.bitcast %s : i32 to f32", e2.s);
  Name res = bodyBin(b, "arith.mulf", bodyBin(b, "arith.mulf", y, s1, f), s2, f);
  Name nan = bodyOp(b, "arith.cmpf uno, %s, %s : f32", x.s, x.s);
  return bodyOp(b, "arith.select %s, %s, %s : f32", nan.s, x.s, res.s);
}

/* tanh in f32 (Cephes' tanhf): an odd polynomial below |x| = 0.625, else
 * 1 - 2 / (e^2|x| + 1) with x's sign. */
static Name bodyTanhF32(Body *b, Name x) {
  const MpcEltKind f = MPC_ELT_F32;
  Name ax = bodyUn(b, "math.absf", x, f);
  Name z = bodyBin(b, "arith.mulf", x, x, f);
  static const double c[] = {-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1,
                             -3.33332819422e-1};
  Name small = bodyBin(b, "arith.addf", bodyBin(b, "arith.mulf", bodyBin(b, "arith.mulf", bodyHorner(b, z, c, 5), z, f), x, f), x, f);
  Name e = bodyExpF32(b, bodyBin(b, "arith.addf", ax, ax, f));
  Name large = bodyBin(b, "arith.subf", bodyConst(b, 1.0, f),
                       bodyBin(b, "arith.divf", bodyConst(b, 2.0, f), bodyBin(b, "arith.addf", e, bodyConst(b, 1.0, f), f), f), f);
  large = bodyOp(b, "math.copysign %s, %s : f32", large.s, x.s);
  Name isSmall = bodyOp(b, "arith.cmpf olt, %s, %s : f32", ax.s, bodyConst(b, 0.625, f).s);
  return bodyOp(b, "arith.select %s, %s, %s : f32", isSmall.s, small.s, large.s);
}

/* Clamps an integer index into [0, limit) and makes it an index. */
static Name bodyIndex(Body *b, Name id, MpcEltKind k, int64_t limit) {
  Name zero = bodyOp(b, "arith.constant 0 : %s", eltName(k));
  Name top = bodyOp(b, "arith.constant %lld : %s", (long long)(limit - 1), eltName(k));
  Name lo = bodyOp(b, "arith.maxsi %s, %s : %s", id.s, zero.s, eltName(k));
  Name hi = bodyOp(b, "arith.minsi %s, %s : %s", lo.s, top.s, eltName(k));
  return bodyOp(b, "arith.index_cast %s : %s to index", hi.s, eltName(k));
}

/*----------------------------------------------------------------------------
 * linalg.generic
 *--------------------------------------------------------------------------*/

#define MAX_INS 8

typedef struct {
  int loops;
  char iters[MPC_MAX_RANK]; /* 'p' parallel, 'r' reduction */
  int numIns;
  Name ins[MAX_INS];
  VT inTypes[MAX_INS];
  int inMaps[MAX_INS][MPC_MAX_RANK]; /* loop dim per operand dim, -1 = constant 0 */
  Name init;
  VT outType;
  int outMap[MPC_MAX_RANK];
} Generic;

static void mapText(MpcStr *s, int loops, const int *dims, int rank) {
  mpcStrAppendf(s, "affine_map<(");
  for (int i = 0; i < loops; ++i)
    mpcStrAppendf(s, "%sd%d", i ? ", " : "", i);
  mpcStrAppendf(s, ") -> (");
  for (int i = 0; i < rank; ++i) {
    if (dims[i] < 0)
      mpcStrAppendf(s, "%s0", i ? ", " : "");
    else
      mpcStrAppendf(s, "%sd%d", i ? ", " : "", dims[i]);
  }
  mpcStrAppendf(s, ")>");
}

/* Emits the generic with `body` (which refers to %in0.. and %out and ends
 * with the yielded value `result`); returns its SSA name. */
static Name emitGeneric(Lower *L, const Generic *g, Body *body, Name result) {
  Name r = keep(fresh(L));
  MpcStr s = {0};
  mpcStrAppendf(&s, "    %s = linalg.generic {indexing_maps = [", r.s);
  for (int i = 0; i < g->numIns; ++i) {
    mapText(&s, g->loops, g->inMaps[i], g->inTypes[i].s.rank);
    mpcStrAppendf(&s, ", ");
  }
  mapText(&s, g->loops, g->outMap, g->outType.s.rank);
  mpcStrAppendf(&s, "], iterator_types = [");
  for (int i = 0; i < g->loops; ++i)
    mpcStrAppendf(&s, "%s\"%s\"", i ? ", " : "", g->iters[i] == 'r' ? "reduction" : "parallel");
  mpcStrAppendf(&s, "]}");
  const struct Through *through[MAX_INS];
  for (int i = 0; i < g->numIns; ++i)
    through[i] = findThrough(L, g->ins[i].s);
  if (g->numIns) {
    mpcStrAppendf(&s, " ins(");
    for (int i = 0; i < g->numIns; ++i)
      mpcStrAppendf(&s, "%s%s", i ? ", " : "", through[i] ? through[i]->src.s : g->ins[i].s);
    mpcStrAppendf(&s, " : ");
    for (int i = 0; i < g->numIns; ++i)
      mpcStrAppendf(&s, "%s%s", i ? ", " : "", tt(through[i] ? &through[i]->srcT : &g->inTypes[i]));
    mpcStrAppendf(&s, ")");
  }
  mpcStrAppendf(&s, " outs(%s : %s) {\n    ^bb0(", g->init.s, tt(&g->outType));
  for (int i = 0; i < g->numIns; ++i) {
    if (through[i])
      mpcStrAppendf(&s, "%%raw%d: %s, ", i, eltName(through[i]->srcT.k));
    else
      mpcStrAppendf(&s, "%%in%d: %s, ", i, eltName(g->inTypes[i].k));
  }
  mpcStrAppendf(&s, "%%out: %s):\n", eltName(g->outType.k));
  /* Fused casts: the block argument is the uncast value; %inI is the cast,
   * rounding exactly as the cast op would have. */
  for (int i = 0; i < g->numIns; ++i) {
    if (!through[i])
      continue;
    MpcEltKind from = through[i]->srcT.k, to = through[i]->castK;
    char raw[16];
    snprintf(raw, sizeof raw, "%%raw%d", i);
    if ((from == MPC_ELT_F16 && to == MPC_ELT_BF16) || (from == MPC_ELT_BF16 && to == MPC_ELT_F16)) {
      mpcStrAppendf(&s, "      %%wide%d = arith.extf %s : %s to f32\n", i, raw, eltName(from));
      snprintf(raw, sizeof raw, "%%wide%d", i);
      from = MPC_ELT_F32;
    }
    int wf = from == MPC_ELT_F64 ? 64 : from == MPC_ELT_F32 ? 32 : 16;
    int wt = to == MPC_ELT_F64 ? 64 : to == MPC_ELT_F32 ? 32 : 16;
    mpcStrAppendf(&s, "      %%in%d = arith.%s %s : %s to %s\n", i, wt > wf ? "extf" : "truncf", raw, eltName(from),
                  eltName(to));
  }
  mpcStrAppend(&s, body->text.data ? body->text.data : "", body->text.length);
  mpcStrAppendf(&s, "      linalg.yield %s : %s\n    } -> %s\n", result.s, eltName(g->outType.k), tt(&g->outType));
  mpcStrAppend(L->out, s.data, s.length);
  mpcStrFree(&s);
  mpcStrFree(&body->text);
  return r;
}

static Name emitEmpty(Lower *L, const VT *t) {
  Name r = keep(fresh(L));
  emit(L, "    %s = tensor.empty() : %s\n", r.s, tt(t));
  return r;
}

/* An initialised accumulator: tensor.empty filled with `value`. */
static Name emitFilled(Lower *L, const VT *t, double value) {
  Name e = emitEmpty(L, t);
  Name c = keep(fresh(L));
  emit(L, "    %s = arith.constant %s : %s\n", c.s, floatLiteral(value, t->k), eltName(t->k));
  Name r = keep(fresh(L));
  emit(L, "    %s = linalg.fill ins(%s : %s) outs(%s : %s) -> %s\n", r.s, c.s, eltName(t->k), e.s, tt(t), tt(t));
  return r;
}

/* Operand map of a numpy-broadcast operand into a loop space of `out`. */
static void broadcastMap(const MpcShape *in, const MpcShape *out, int *map) {
  int lead = out->rank - in->rank;
  for (int i = 0; i < in->rank; ++i)
    map[i] = (in->dims[i] == 1 && out->dims[lead + i] != 1) ? -1 : lead + i;
}

static void identityMap(int rank, int *map) {
  for (int i = 0; i < rank; ++i)
    map[i] = i;
}

static void addInput(Generic *g, Name n, const VT *t, const int *map) {
  g->ins[g->numIns] = n;
  g->inTypes[g->numIns] = *t;
  memcpy(g->inMaps[g->numIns], map, sizeof(int) * (size_t)t->s.rank);
  g->numIns++;
}

static Name inArg(int i) {
  Name n;
  snprintf(n.s, sizeof n.s, "%%in%d", i);
  return n;
}

/*----------------------------------------------------------------------------
 * Elementwise ops
 *--------------------------------------------------------------------------*/

/*----------------------------------------------------------------------------
 * The lowering of each op of the table (include/mpc/ops.def), in one place
 *--------------------------------------------------------------------------*/

typedef enum {
  LOWER_NONE, /* an op added to ops.def without a lowering: an error */
  LOWER_ELEMENTWISE,
  LOWER_WHERE,
  LOWER_BROADCAST_TO,
  LOWER_TRANSPOSE,
  LOWER_RESHAPE,
  LOWER_SLICE,
  LOWER_CONCAT,
  LOWER_SOFTMAX,
  LOWER_LAYER_NORM,
  LOWER_REDUCE,
  LOWER_CROSS_ENTROPY,
  LOWER_MSE,
  LOWER_EMBEDDING,
  LOWER_CROSS_ENTROPY_GRAD,
  LOWER_GATHER,
  LOWER_MATMUL, /* runtime kernels from here on */
  LOWER_CONV2D,
  LOWER_POOL,
  LOWER_SCATTER_ADD,
  LOWER_CONV2D_GRAD,
  LOWER_POOL_GRAD,
  LOWER_EMBEDDING_GRAD,
} LowerKind;

/* `scalar` is the arith/math op of an elementwise rule with `arity`
 * operands; NULL where scalarRule spells the rule out. */
static const struct {
  LowerKind kind;
  const char *scalar;
  int arity;
} lowerRules[MPC_OP_COUNT] = {
    [MPC_OP_LINEAR] = {LOWER_MATMUL, NULL, 0},
    [MPC_OP_MATMUL] = {LOWER_MATMUL, NULL, 0},
    [MPC_OP_CONV2D] = {LOWER_CONV2D, NULL, 0},
    [MPC_OP_ADD] = {LOWER_ELEMENTWISE, "arith.addf", 2},
    [MPC_OP_SUB] = {LOWER_ELEMENTWISE, "arith.subf", 2},
    [MPC_OP_MUL] = {LOWER_ELEMENTWISE, "arith.mulf", 2},
    [MPC_OP_DIV] = {LOWER_ELEMENTWISE, "arith.divf", 2},
    [MPC_OP_CONCAT] = {LOWER_CONCAT, NULL, 0},
    [MPC_OP_NEG] = {LOWER_ELEMENTWISE, "arith.negf", 1},
    [MPC_OP_RELU] = {LOWER_ELEMENTWISE, NULL, 1},
    [MPC_OP_TANH] = {LOWER_ELEMENTWISE, "math.tanh", 1},
    [MPC_OP_SIGMOID] = {LOWER_ELEMENTWISE, NULL, 1},
    [MPC_OP_ERF] = {LOWER_ELEMENTWISE, "math.erf", 1},
    [MPC_OP_GELU] = {LOWER_ELEMENTWISE, NULL, 1},
    [MPC_OP_EXP] = {LOWER_ELEMENTWISE, "math.exp", 1},
    [MPC_OP_LOG] = {LOWER_ELEMENTWISE, "math.log", 1},
    [MPC_OP_RSQRT] = {LOWER_ELEMENTWISE, "math.rsqrt", 1},
    [MPC_OP_SQRT] = {LOWER_ELEMENTWISE, "math.sqrt", 1},
    [MPC_OP_RECIPROCAL] = {LOWER_ELEMENTWISE, NULL, 1},
    [MPC_OP_POW] = {LOWER_ELEMENTWISE, "math.powf", 2},
    [MPC_OP_SOFTMAX] = {LOWER_SOFTMAX, NULL, 0},
    [MPC_OP_LOG_SOFTMAX] = {LOWER_SOFTMAX, NULL, 0},
    [MPC_OP_LAYER_NORM] = {LOWER_LAYER_NORM, NULL, 0},
    [MPC_OP_REDUCE_SUM] = {LOWER_REDUCE, NULL, 0},
    [MPC_OP_REDUCE_MEAN] = {LOWER_REDUCE, NULL, 0},
    [MPC_OP_REDUCE_MAX] = {LOWER_REDUCE, NULL, 0},
    [MPC_OP_CROSS_ENTROPY] = {LOWER_CROSS_ENTROPY, NULL, 0},
    [MPC_OP_MSE_LOSS] = {LOWER_MSE, NULL, 0},
    [MPC_OP_RESHAPE] = {LOWER_RESHAPE, NULL, 0},
    [MPC_OP_TRANSPOSE] = {LOWER_TRANSPOSE, NULL, 0},
    [MPC_OP_BROADCAST_TO] = {LOWER_BROADCAST_TO, NULL, 0},
    [MPC_OP_SLICE] = {LOWER_SLICE, NULL, 0},
    [MPC_OP_EMBEDDING] = {LOWER_EMBEDDING, NULL, 0},
    [MPC_OP_WHERE] = {LOWER_WHERE, NULL, 0},
    [MPC_OP_MAX_POOL2D] = {LOWER_POOL, NULL, 0},
    [MPC_OP_AVG_POOL2D] = {LOWER_POOL, NULL, 0},
    [MPC_OP_SCATTER_ADD] = {LOWER_SCATTER_ADD, NULL, 0},
    [MPC_OP_UNARY_GRAD] = {LOWER_ELEMENTWISE, NULL, 2},
    [MPC_OP_REDUCE_MAX_GRAD] = {LOWER_ELEMENTWISE, NULL, 3},
    [MPC_OP_CONV2D_GRAD_INPUT] = {LOWER_CONV2D_GRAD, NULL, 0},
    [MPC_OP_CONV2D_GRAD_WEIGHT] = {LOWER_CONV2D_GRAD, NULL, 0},
    [MPC_OP_MAX_POOL2D_GRAD] = {LOWER_POOL_GRAD, NULL, 0},
    [MPC_OP_AVG_POOL2D_GRAD] = {LOWER_POOL_GRAD, NULL, 0},
    [MPC_OP_CROSS_ENTROPY_GRAD] = {LOWER_CROSS_ENTROPY_GRAD, NULL, 0},
    [MPC_OP_EMBEDDING_GRAD] = {LOWER_EMBEDDING_GRAD, NULL, 0},
    [MPC_OP_GATHER] = {LOWER_GATHER, NULL, 0},
};

/* Ops lowered to generics (and gathers) only: they can read any operand
 * through a fused cast. */
static bool kindReadsInGenerics(LowerKind k) { return k != LOWER_NONE && k < LOWER_MATMUL && k != LOWER_RESHAPE &&
                                                      k != LOWER_SLICE && k != LOWER_CONCAT; }

/* dy * f'(x) for mpc.unary_grad's fn (for relu, x may be relu's result). */
static Name unaryGradRule(Body *b, MlirOperation mop, Name dy, Name x, MpcEltKind a) {
#define FN_IS(s) mpcOpStrAttrIs(mop, "fn", s)
  Name one = bodyConst(b, 1, a), d;
  if (FN_IS("relu")) {
    Name pos = bodyOp(b, "arith.cmpf ogt, %s, %s : %s", x.s, bodyConst(b, 0, a).s, eltName(a));
    return bodyOp(b, "arith.select %s, %s, %s : %s", pos.s, dy.s, bodyConst(b, 0, a).s, eltName(a));
  } else if (FN_IS("tanh")) { /* 1 - tanh^2 */
    Name t = bodyUn(b, "math.tanh", x, a);
    d = bodyBin(b, "arith.subf", one, bodyBin(b, "arith.mulf", t, t, a), a);
  } else if (FN_IS("sigmoid")) { /* s (1 - s) */
    Name e = bodyUn(b, "math.exp", bodyUn(b, "arith.negf", x, a), a);
    Name sg = bodyBin(b, "arith.divf", one, bodyBin(b, "arith.addf", one, e, a), a);
    d = bodyBin(b, "arith.mulf", sg, bodyBin(b, "arith.subf", one, sg, a), a);
  } else if (FN_IS("erf")) { /* 2/sqrt(pi) exp(-x^2) */
    Name e = bodyUn(b, "math.exp", bodyUn(b, "arith.negf", bodyBin(b, "arith.mulf", x, x, a), a), a);
    d = bodyBin(b, "arith.mulf", bodyConst(b, 1.1283791670955126, a), e, a);
  } else if (FN_IS("gelu")) { /* Phi(x) + x phi(x) */
    Name cdf = bodyBin(b, "arith.mulf", bodyConst(b, 0.5, a),
                       bodyBin(b, "arith.addf", one,
                               bodyUn(b, "math.erf", bodyBin(b, "arith.mulf", x, bodyConst(b, 0.7071067811865476, a), a), a),
                               a),
                       a);
    Name e = bodyUn(b, "math.exp", bodyBin(b, "arith.mulf", bodyConst(b, -0.5, a), bodyBin(b, "arith.mulf", x, x, a), a), a);
    Name pdf = bodyBin(b, "arith.mulf", bodyConst(b, 0.3989422804014327, a), e, a);
    d = bodyBin(b, "arith.addf", cdf, bodyBin(b, "arith.mulf", x, pdf, a), a);
  } else if (FN_IS("gelu_tanh")) { /* PyTorch's GeluBackward for approximate="tanh" */
    Name x2 = bodyBin(b, "arith.mulf", x, x, a);
    Name inner = bodyBin(b, "arith.mulf", bodyConst(b, 0.7978845608028654, a),
                         bodyBin(b, "arith.addf", x, bodyBin(b, "arith.mulf", bodyConst(b, 0.044715, a),
                                                              bodyBin(b, "arith.mulf", x2, x, a), a), a), a);
    Name t = bodyUn(b, "math.tanh", inner, a);
    Name left = bodyBin(b, "arith.mulf", bodyConst(b, 0.5, a), bodyBin(b, "arith.addf", one, t, a), a);
    Name dinner = bodyBin(b, "arith.mulf", bodyConst(b, 0.7978845608028654, a),
                          bodyBin(b, "arith.addf", one, bodyBin(b, "arith.mulf", bodyConst(b, 3 * 0.044715, a), x2, a), a), a);
    Name right = bodyBin(b, "arith.mulf", bodyBin(b, "arith.mulf", bodyConst(b, 0.5, a), x, a),
                         bodyBin(b, "arith.mulf", bodyBin(b, "arith.subf", one, bodyBin(b, "arith.mulf", t, t, a), a),
                                 dinner, a), a);
    d = bodyBin(b, "arith.addf", left, right, a);
  } else if (FN_IS("exp")) {
    d = bodyUn(b, "math.exp", x, a);
  } else if (FN_IS("log")) {
    return bodyBin(b, "arith.divf", dy, x, a);
  } else if (FN_IS("rsqrt")) { /* -1/2 x^(-3/2) */
    Name r = bodyUn(b, "math.rsqrt", x, a);
    d = bodyBin(b, "arith.mulf", bodyConst(b, -0.5, a), bodyBin(b, "arith.divf", r, x, a), a);
  } else if (FN_IS("sqrt")) {
    d = bodyBin(b, "arith.divf", bodyConst(b, 0.5, a), bodyUn(b, "math.sqrt", x, a), a);
  } else if (FN_IS("reciprocal")) { /* -1/x^2 */
    return bodyUn(b, "arith.negf", bodyBin(b, "arith.divf", dy, bodyBin(b, "arith.mulf", x, x, a), a), a);
  } else {
    return (Name){"%unknown"};
  }
#undef FN_IS
  return bodyBin(b, "arith.mulf", dy, d, a);
}

/* The scalar rule of an elementwise op (operands in arithmetic type a). */
static Name scalarRule(Body *b, const char *op, MlirOperation mop, const Name *x, MpcEltKind a) {
  MpcOpKind kind = mpcOpKindFromName(mlirStringRefCreateFromCString(op));
  if (kind < MPC_OP_COUNT && lowerRules[kind].scalar)
    return lowerRules[kind].arity == 2 ? bodyBin(b, lowerRules[kind].scalar, x[0], x[1], a)
                                       : bodyUn(b, lowerRules[kind].scalar, x[0], a);
  if (kind == MPC_OP_RELU)
    return bodyBin(b, "arith.maximumf", x[0], bodyConst(b, 0, a), a);
  if (kind == MPC_OP_RECIPROCAL)
    return bodyBin(b, "arith.divf", bodyConst(b, 1, a), x[0], a);
  if (kind == MPC_OP_SIGMOID) {
    Name e = bodyUn(b, "math.exp", bodyUn(b, "arith.negf", x[0], a), a);
    return bodyBin(b, "arith.divf", bodyConst(b, 1, a), bodyBin(b, "arith.addf", bodyConst(b, 1, a), e, a), a);
  }
  if (kind == MPC_OP_GELU) {
    bool tanhApprox = mpcOpStrAttrIs(mop, "approximate", "tanh");
    Name inner;
    if (tanhApprox) { /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
      Name x3 = bodyBin(b, "arith.mulf", bodyBin(b, "arith.mulf", x[0], x[0], a), x[0], a);
      Name t = bodyBin(b, "arith.addf", x[0], bodyBin(b, "arith.mulf", bodyConst(b, 0.044715, a), x3, a), a);
      inner = bodyUn(b, "math.tanh", bodyBin(b, "arith.mulf", bodyConst(b, 0.7978845608028654, a), t, a), a);
    } else { /* 0.5 x (1 + erf(x / sqrt(2))) */
      inner = bodyUn(b, "math.erf", bodyBin(b, "arith.mulf", x[0], bodyConst(b, 0.7071067811865476, a), a), a);
    }
    Name h = bodyBin(b, "arith.mulf", bodyConst(b, 0.5, a), x[0], a);
    return bodyBin(b, "arith.mulf", h, bodyBin(b, "arith.addf", bodyConst(b, 1, a), inner, a), a);
  }
  if (kind == MPC_OP_REDUCE_MAX_GRAD) { /* dy where x is the maximum y */
    Name hit = bodyOp(b, "arith.cmpf oeq, %s, %s : %s", x[1].s, x[2].s, eltName(a));
    return bodyOp(b, "arith.select %s, %s, %s : %s", hit.s, x[0].s, bodyConst(b, 0, a).s, eltName(a));
  }
  if (kind == MPC_OP_UNARY_GRAD)
    return unaryGradRule(b, mop, x[0], x[1], a);
  return (Name){"%unknown"};
}

/* Any elementwise op with numpy broadcasting, including casts (op "cast"),
 * broadcast_to ("copy") and where. */
static Name lowerElementwise(Lower *L, const char *op, MlirOperation mop, int numIn, const Name *ins,
                             const VT *inTypes, const VT *outType) {
  Generic g = {.loops = outType->s.rank, .outType = *outType};
  for (int i = 0; i < g.loops; ++i)
    g.iters[i] = 'p';
  int map[MPC_MAX_RANK];
  for (int i = 0; i < numIn; ++i) {
    broadcastMap(&inTypes[i].s, &outType->s, map);
    addInput(&g, ins[i], &inTypes[i], map);
  }
  identityMap(g.loops, g.outMap);
  g.init = emitEmpty(L, outType);
  Body b = {0};
  MpcEltKind a = arithOf(outType->k);
  Name result;
  if (!strcmp(op, "cast") || !strcmp(op, "copy")) {
    result = bodyConvert(&b, inArg(0), inTypes[0].k, outType->k);
  } else if (!strcmp(op, "where")) {
    Name x = bodyConvert(&b, inArg(1), inTypes[1].k, outType->k);
    Name y = bodyConvert(&b, inArg(2), inTypes[2].k, outType->k);
    result = bodyOp(&b, "arith.select %%in0, %s, %s : %s", x.s, y.s, eltName(outType->k));
  } else {
    Name x[MAX_INS];
    for (int i = 0; i < numIn; ++i)
      x[i] = bodyConvert(&b, inArg(i), inTypes[i].k, a);
    result = bodyConvert(&b, scalarRule(&b, op, mop, x, a), a, outType->k);
  }
  return emitGeneric(L, &g, &b, result);
}

/* Converts a whole tensor to element type k (no-op when it already is). */
static Name convertTensor(Lower *L, Name x, const VT *t, MpcEltKind k) {
  if (t->k == k)
    return x;
  VT out = vtMake(&t->s, k);
  return lowerElementwise(L, "cast", (MlirOperation){NULL}, 1, &x, t, &out);
}

/*----------------------------------------------------------------------------
 * Shapes: reshape, keepdim, slice, concat, transpose
 *--------------------------------------------------------------------------*/

/* Reassociation that groups each dim of a tensor of rank `rank` whose
 * `unit[i]` is set with a neighbouring kept dim; "[]" when none is kept. */
static void reassocText(char *buf, size_t size, int rank, const bool *unit) {
  int kept = 0;
  for (int i = 0; i < rank; ++i)
    kept += !unit[i];
  int n = snprintf(buf, size, "[");
  if (kept) {
    int seen = 0;
    bool open = false;
    for (int i = 0; i < rank; ++i) {
      if (!open) {
        n += snprintf(buf + n, size - (size_t)n, "%s[", seen ? ", " : "");
        open = true;
      } else {
        n += snprintf(buf + n, size - (size_t)n, ", ");
      }
      n += snprintf(buf + n, size - (size_t)n, "%d", i);
      if (!unit[i])
        ++seen;
      /* Close the group after a kept dim unless only unit dims follow and
       * this is the last kept dim (they join this group). */
      if (!unit[i] && seen < kept) {
        n += snprintf(buf + n, size - (size_t)n, "]");
        open = false;
      }
    }
    if (open)
      n += snprintf(buf + n, size - (size_t)n, "]");
  }
  snprintf(buf + n, size - (size_t)n, "]");
}

static void shapeList(char *buf, size_t size, const MpcShape *s) {
  int n = snprintf(buf, size, "[");
  for (int i = 0; i < s->rank; ++i)
    n += snprintf(buf + n, size - (size_t)n, "%s%lld", i ? ", " : "", (long long)s->dims[i]);
  snprintf(buf + n, size - (size_t)n, "]");
}

/* Collapses `x` to `to`, which is `x` without some unit dims. */
static Name collapseUnits(Lower *L, Name x, const VT *t, const bool *unit, const VT *to) {
  char re[256];
  reassocText(re, sizeof re, t->s.rank, unit);
  Name r = keep(fresh(L));
  emit(L, "    %s = tensor.collapse_shape %s %s : %s into %s\n", r.s, x.s, re, tt(t), tt(to));
  return r;
}

/* Expands `x` to `to`, which is `x` with unit dims (`unit`) inserted. */
static Name expandUnits(Lower *L, Name x, const VT *t, const bool *unit, const VT *to) {
  char re[256], shape[256];
  reassocText(re, sizeof re, to->s.rank, unit);
  shapeList(shape, sizeof shape, &to->s);
  Name r = keep(fresh(L));
  emit(L, "    %s = tensor.expand_shape %s %s output_shape %s : %s into %s\n", r.s, x.s, re, shape, tt(t), tt(to));
  return r;
}

static Name lowerReshape(Lower *L, Name x, const VT *t, const VT *to) {
  if (mpcShapeEqual(&t->s, &to->s))
    return x;
  bool unit[MPC_MAX_RANK];
  VT flat = *t;
  flat.s.rank = 1;
  flat.s.dims[0] = mpcShapeNumElements(&t->s);
  Name mid = x;
  if (t->s.rank == 0) {
    for (int i = 0; i < to->s.rank; ++i)
      unit[i] = true;
    return expandUnits(L, x, t, unit, to);
  }
  if (to->s.rank == 0) {
    for (int i = 0; i < t->s.rank; ++i)
      unit[i] = true;
    return collapseUnits(L, x, t, unit, to);
  }
  if (t->s.rank > 1) {
    char re[256];
    int n = snprintf(re, sizeof re, "[[");
    for (int i = 0; i < t->s.rank; ++i)
      n += snprintf(re + n, sizeof re - (size_t)n, "%s%d", i ? ", " : "", i);
    snprintf(re + n, sizeof re - (size_t)n, "]]");
    mid = keep(fresh(L));
    emit(L, "    %s = tensor.collapse_shape %s %s : %s into %s\n", mid.s, x.s, re, tt(t), tt(&flat));
  }
  if (to->s.rank == 1)
    return mid;
  char re[256], shape[256];
  int n = snprintf(re, sizeof re, "[[");
  for (int i = 0; i < to->s.rank; ++i)
    n += snprintf(re + n, sizeof re - (size_t)n, "%s%d", i ? ", " : "", i);
  snprintf(re + n, sizeof re - (size_t)n, "]]");
  shapeList(shape, sizeof shape, &to->s);
  Name r = keep(fresh(L));
  emit(L, "    %s = tensor.expand_shape %s %s output_shape %s : %s into %s\n", r.s, mid.s, re, shape, tt(&flat),
       tt(to));
  return r;
}

static void listText(char *buf, size_t size, const int64_t *v, int n) {
  int k = snprintf(buf, size, "[");
  for (int i = 0; i < n; ++i)
    k += snprintf(buf + k, size - (size_t)k, "%s%lld", i ? ", " : "", (long long)v[i]);
  snprintf(buf + k, size - (size_t)k, "]");
}

static Name lowerSlice(Lower *L, MlirOperation op, Name x, const VT *t, const VT *to) {
  int64_t starts[MPC_MAX_RANK] = {0}, ones[MPC_MAX_RANK];
  mpcOpIntsAttr(op, "starts", starts, MPC_MAX_RANK);
  for (int i = 0; i < MPC_MAX_RANK; ++i)
    ones[i] = 1;
  char st[256], sz[256], on[256];
  listText(st, sizeof st, starts, t->s.rank);
  listText(sz, sizeof sz, to->s.dims, to->s.rank);
  listText(on, sizeof on, ones, t->s.rank);
  Name r = keep(fresh(L));
  emit(L, "    %s = tensor.extract_slice %s%s %s %s : %s to %s\n", r.s, x.s, st, sz, on, tt(t), tt(to));
  return r;
}

static Name lowerConcat(Lower *L, MlirOperation op, const VT *to) {
  int64_t axis = mpcOpIntAttr(op, "axis");
  Name acc = emitEmpty(L, to);
  int64_t offset = 0;
  intptr_t n = mlirOperationGetNumOperands(op);
  for (intptr_t i = 0; i < n; ++i) {
    MlirValue v = mlirOperationGetOperand(op, i);
    VT t;
    vtOf(v, &t);
    Name x = convertTensor(L, keep(nameOf(L, v)), &t, to->k);
    int64_t offs[MPC_MAX_RANK] = {0}, ones[MPC_MAX_RANK];
    for (int d = 0; d < MPC_MAX_RANK; ++d)
      ones[d] = 1;
    offs[axis] = offset;
    offset += t.s.dims[axis];
    char of[256], sz[256], on[256];
    listText(of, sizeof of, offs, to->s.rank);
    listText(sz, sizeof sz, t.s.dims, t.s.rank);
    listText(on, sizeof on, ones, to->s.rank);
    VT tk = vtMake(&t.s, to->k);
    Name r = keep(fresh(L));
    emit(L, "    %s = tensor.insert_slice %s into %s%s %s %s : %s into %s\n", r.s, x.s, acc.s, of, sz, on, tt(&tk),
         tt(to));
    acc = r;
  }
  return acc;
}

static Name lowerTranspose(Lower *L, MlirOperation op, Name x, const VT *t, const VT *to) {
  int64_t perm[MPC_MAX_RANK];
  mpcOpIntsAttr(op, "perm", perm, MPC_MAX_RANK);
  Generic g = {.loops = to->s.rank, .outType = *to};
  int map[MPC_MAX_RANK];
  for (int j = 0; j < to->s.rank; ++j) {
    g.iters[j] = 'p';
    map[perm[j]] = j; /* out[j] = in[perm[j]] */
  }
  addInput(&g, x, t, map);
  identityMap(g.loops, g.outMap);
  g.init = emitEmpty(L, to);
  Body b = {0};
  return emitGeneric(L, &g, &b, bodyConvert(&b, inArg(0), t->k, to->k));
}

/*----------------------------------------------------------------------------
 * Reductions, normalisations and losses
 *--------------------------------------------------------------------------*/

/* The shape of `t` without the dims in `reduced`. */
static MpcShape dropDims(const MpcShape *s, const bool *reduced) {
  MpcShape r = {0};
  for (int i = 0; i < s->rank; ++i)
    if (!reduced[i])
      r.dims[r.rank++] = s->dims[i];
  return r;
}

/* Map of a reduced operand: the loop dims that are not reduced. */
static void reducedMap(int rank, const bool *reduced, int *map) {
  int n = 0;
  for (int i = 0; i < rank; ++i)
    if (!reduced[i])
      map[n++] = i;
}

typedef enum { RED_SUM, RED_MAX, RED_SUMEXP, RED_SUMSQDIFF } RedKind;

/* Reduces x over `reduced` dims into an accumulator of arithmetic type a.
 * RED_SUMEXP sums exp(x - m) and RED_SUMSQDIFF sums (x - m)^2, where m is
 * `center`, an already reduced tensor. */
static Name reduceInto(Lower *L, RedKind kind, Name x, const VT *t, const bool *reduced, MpcEltKind a,
                       const Name *center) {
  VT acc = vtMake(&(MpcShape){0}, a);
  acc.s = dropDims(&t->s, reduced);
  Generic g = {.loops = t->s.rank, .outType = acc};
  int map[MPC_MAX_RANK];
  for (int i = 0; i < g.loops; ++i)
    g.iters[i] = reduced[i] ? 'r' : 'p';
  identityMap(g.loops, map);
  addInput(&g, x, t, map);
  reducedMap(t->s.rank, reduced, g.outMap);
  if (center)
    addInput(&g, *center, &acc, g.outMap);
  g.init = emitFilled(L, &acc, kind == RED_MAX ? -INFINITY : 0.0);
  Body b = {0};
  Name v = bodyConvert(&b, inArg(0), t->k, a);
  Name out = {"%out"};
  Name r;
  switch (kind) {
  case RED_MAX:
    r = bodyBin(&b, "arith.maximumf", v, out, a);
    break;
  case RED_SUM:
    r = bodyBin(&b, "arith.addf", v, out, a);
    break;
  case RED_SUMEXP:
    r = bodyBin(&b, "arith.addf", bodyUn(&b, "math.exp", bodyBin(&b, "arith.subf", v, inArg(1), a), a), out, a);
    break;
  default: {
    Name d = bodyBin(&b, "arith.subf", v, inArg(1), a);
    r = bodyBin(&b, "arith.addf", bodyBin(&b, "arith.mulf", d, d, a), out, a);
  }
  }
  return emitGeneric(L, &g, &b, r);
}

/* y = acc * scale, converted to k. */
static Name scaleConvert(Lower *L, Name acc, const VT *accT, double scale, MpcEltKind k) {
  if (scale == 1.0 && accT->k == k)
    return acc;
  VT out = vtMake(&accT->s, k);
  Generic g = {.loops = accT->s.rank, .outType = out};
  int map[MPC_MAX_RANK];
  identityMap(g.loops, map);
  for (int i = 0; i < g.loops; ++i)
    g.iters[i] = 'p';
  addInput(&g, acc, accT, map);
  identityMap(g.loops, g.outMap);
  g.init = emitEmpty(L, &out);
  Body b = {0};
  Name v = inArg(0);
  if (scale != 1.0)
    v = bodyBin(&b, "arith.mulf", v, bodyConst(&b, scale, accT->k), accT->k);
  return emitGeneric(L, &g, &b, bodyConvert(&b, v, accT->k, k));
}

static Name lowerReduce(Lower *L, MlirOperation op, const char *name, Name x, const VT *t, const VT *to) {
  int64_t axes[MPC_MAX_RANK];
  int n = (int)mpcOpIntsAttr(op, "axes", axes, MPC_MAX_RANK);
  bool reduced[MPC_MAX_RANK] = {0};
  int64_t count = 1;
  for (int i = 0; i < n; ++i)
    if (axes[i] >= 0 && axes[i] < t->s.rank && !reduced[axes[i]]) {
      reduced[axes[i]] = true;
      count *= t->s.dims[axes[i]];
    }
  MpcEltKind a = arithOf(to->k);
  Name acc = reduceInto(L, !strcmp(name, "reduce_max") ? RED_MAX : RED_SUM, x, t, reduced, a, NULL);
  VT accT = vtMake(&(MpcShape){0}, a);
  accT.s = dropDims(&t->s, reduced);
  Name r = scaleConvert(L, acc, &accT, !strcmp(name, "reduce_mean") ? 1.0 / (double)count : 1.0, to->k);
  if (mpcOpBoolAttr(op, "keepdim")) {
    VT flat = vtMake(&accT.s, to->k);
    return expandUnits(L, r, &flat, reduced, to);
  }
  return r;
}

static Name lowerSoftmax(Lower *L, bool logSoftmax, int64_t axis, Name x, const VT *t, const VT *to) {
  bool reduced[MPC_MAX_RANK] = {0};
  reduced[axis] = true;
  MpcEltKind a = arithOf(to->k);
  Name m = reduceInto(L, RED_MAX, x, t, reduced, a, NULL);
  Name s = reduceInto(L, RED_SUMEXP, x, t, reduced, a, &m);
  VT redT = vtMake(&(MpcShape){0}, a);
  redT.s = dropDims(&t->s, reduced);
  Generic g = {.loops = t->s.rank, .outType = *to};
  int map[MPC_MAX_RANK], rmap[MPC_MAX_RANK];
  identityMap(g.loops, map);
  reducedMap(t->s.rank, reduced, rmap);
  for (int i = 0; i < g.loops; ++i)
    g.iters[i] = 'p';
  addInput(&g, x, t, map);
  addInput(&g, m, &redT, rmap);
  addInput(&g, s, &redT, rmap);
  identityMap(g.loops, g.outMap);
  g.init = emitEmpty(L, to);
  Body b = {0};
  Name d = bodyBin(&b, "arith.subf", bodyConvert(&b, inArg(0), t->k, a), inArg(1), a);
  Name r = logSoftmax ? bodyBin(&b, "arith.subf", d, bodyUn(&b, "math.log", inArg(2), a), a)
                      : bodyBin(&b, "arith.divf", bodyUn(&b, "math.exp", d, a), inArg(2), a);
  return emitGeneric(L, &g, &b, bodyConvert(&b, r, a, to->k));
}

static Name lowerLayerNorm(Lower *L, MlirOperation op, const Name *in, const VT *inT, const VT *to) {
  const VT *t = &inT[0];
  bool reduced[MPC_MAX_RANK] = {0};
  reduced[t->s.rank - 1] = true;
  int64_t d = t->s.dims[t->s.rank - 1];
  MpcEltKind a = arithOf(to->k);
  VT redT = vtMake(&(MpcShape){0}, a);
  redT.s = dropDims(&t->s, reduced);
  Name sum = reduceInto(L, RED_SUM, in[0], t, reduced, a, NULL);
  Name mean = scaleConvert(L, sum, &redT, 1.0 / (double)d, a);
  Name sq = reduceInto(L, RED_SUMSQDIFF, in[0], t, reduced, a, &mean);
  Generic g = {.loops = t->s.rank, .outType = *to};
  int map[MPC_MAX_RANK], rmap[MPC_MAX_RANK], last[1] = {t->s.rank - 1};
  identityMap(g.loops, map);
  reducedMap(t->s.rank, reduced, rmap);
  for (int i = 0; i < g.loops; ++i)
    g.iters[i] = 'p';
  addInput(&g, in[0], t, map);
  addInput(&g, mean, &redT, rmap);
  addInput(&g, sq, &redT, rmap);
  addInput(&g, in[1], &inT[1], last);
  addInput(&g, in[2], &inT[2], last);
  identityMap(g.loops, g.outMap);
  g.init = emitEmpty(L, to);
  double eps = mpcOpF64Attr(op, "eps");
  Body b = {0};
  Name var = bodyBin(&b, "arith.mulf", inArg(2), bodyConst(&b, 1.0 / (double)d, a), a);
  Name inv = bodyUn(&b, "math.rsqrt", bodyBin(&b, "arith.addf", var, bodyConst(&b, eps, a), a), a);
  Name xm = bodyBin(&b, "arith.subf", bodyConvert(&b, inArg(0), t->k, a), inArg(1), a);
  Name y = bodyBin(&b, "arith.mulf", bodyBin(&b, "arith.mulf", xm, inv, a), bodyConvert(&b, inArg(3), inT[1].k, a), a);
  y = bodyBin(&b, "arith.addf", y, bodyConvert(&b, inArg(4), inT[2].k, a), a);
  return emitGeneric(L, &g, &b, bodyConvert(&b, y, a, to->k));
}

/* tensor.extract of `x` (of type t) inside a body, looking through a fused
 * cast: the element is read from the uncast tensor and rounded as the cast
 * would round it. */
static Name extractThrough(Lower *L, Body *b, Name x, const VT *t, const char *indices) {
  const struct Through *th = findThrough(L, x.s);
  if (!th)
    return bodyOp(b, "tensor.extract %s[%s] : %s", x.s, indices, tt(t));
  Name v = bodyOp(b, "tensor.extract %s[%s] : %s", th->src.s, indices, tt(&th->srcT));
  return bodyConvert(b, v, th->srcT.k, th->castK);
}

/* Per row of logits [B, C]: the maximum m and sum(exp(x - m)), in type a. */
static VT rowMaxSumExp(Lower *L, Name x, const VT *t, MpcEltKind a, Name *m, Name *s) {
  bool reduced[MPC_MAX_RANK] = {false, true};
  *m = reduceInto(L, RED_MAX, x, t, reduced, a, NULL);
  *s = reduceInto(L, RED_SUMEXP, x, t, reduced, a, m);
  return vtMake(&(MpcShape){1, {t->s.dims[0]}}, a);
}

static Name lowerCrossEntropy(Lower *L, MlirOperation op, const Name *in, const VT *inT, const VT *to) {
  const VT *t = &inT[0];
  MpcEltKind a = arithOf(to->k);
  Name m, s;
  VT redT = rowMaxSumExp(L, in[0], t, a, &m, &s);
  VT accT = vtMake(&(MpcShape){0}, a);
  Generic g = {.loops = 1, .iters = {'r'}, .outType = accT};
  int map[1] = {0};
  addInput(&g, m, &redT, map);
  addInput(&g, s, &redT, map);
  addInput(&g, in[1], &inT[1], map);
  g.init = emitFilled(L, &accT, 0.0);
  Body b = {0};
  Name label = bodyIndex(&b, inArg(2), inT[1].k, t->s.dims[1]);
  Name row = bodyOp(&b, "linalg.index 0 : index");
  char idx[64];
  snprintf(idx, sizeof idx, "%s, %s", row.s, label.s);
  Name logit = extractThrough(L, &b, in[0], t, idx);
  Name lse = bodyBin(&b, "arith.addf", inArg(0), bodyUn(&b, "math.log", inArg(1), a), a);
  Name loss = bodyBin(&b, "arith.subf", lse, bodyConvert(&b, logit, t->k, a), a);
  Name sum = emitGeneric(L, &g, &b, bodyBin(&b, "arith.addf", loss, (Name){"%out"}, a));
  double scale = mpcOpStrAttrIs(op, "reduction", "sum") ? 1.0 : 1.0 / (double)t->s.dims[0];
  return scaleConvert(L, sum, &accT, scale, to->k);
}

static Name lowerMse(Lower *L, MlirOperation op, const Name *in, const VT *inT, const VT *to) {
  MpcShape out;
  int bad;
  mpcShapeBroadcast(&inT[0].s, &inT[1].s, &out, &bad);
  MpcEltKind a = arithOf(to->k);
  VT accT = vtMake(&(MpcShape){0}, a);
  Generic g = {.loops = out.rank, .outType = accT};
  int map[MPC_MAX_RANK];
  for (int i = 0; i < g.loops; ++i)
    g.iters[i] = 'r';
  for (int i = 0; i < 2; ++i) {
    broadcastMap(&inT[i].s, &out, map);
    addInput(&g, in[i], &inT[i], map);
  }
  g.init = emitFilled(L, &accT, 0.0);
  Body b = {0};
  Name d = bodyBin(&b, "arith.subf", bodyConvert(&b, inArg(0), inT[0].k, a), bodyConvert(&b, inArg(1), inT[1].k, a), a);
  Name sum = emitGeneric(L, &g, &b, bodyBin(&b, "arith.addf", bodyBin(&b, "arith.mulf", d, d, a), (Name){"%out"}, a));
  double scale = mpcOpStrAttrIs(op, "reduction", "sum") ? 1.0 : 1.0 / (double)mpcShapeNumElements(&out);
  return scaleConvert(L, sum, &accT, scale, to->k);
}

static Name lowerEmbedding(Lower *L, const Name *in, const VT *inT, const VT *to) {
  Generic g = {.loops = to->s.rank, .outType = *to};
  for (int i = 0; i < g.loops; ++i)
    g.iters[i] = 'p';
  int map[MPC_MAX_RANK];
  identityMap(inT[1].s.rank, map);
  addInput(&g, in[1], &inT[1], map);
  identityMap(g.loops, g.outMap);
  g.init = emitEmpty(L, to);
  Body b = {0};
  Name row = bodyIndex(&b, inArg(0), inT[1].k, inT[0].s.dims[0]);
  Name col = bodyOp(&b, "linalg.index %d : index", to->s.rank - 1);
  char idx[64];
  snprintf(idx, sizeof idx, "%s, %s", row.s, col.s);
  Name v = extractThrough(L, &b, in[0], &inT[0], idx);
  return emitGeneric(L, &g, &b, bodyConvert(&b, v, inT[0].k, to->k));
}

/*----------------------------------------------------------------------------
 * Runtime kernel calls
 *--------------------------------------------------------------------------*/

/* The address of a tensor's data as an i64 (a read-only identity-layout
 * buffer of it). */
static Name dataPointer(Lower *L, Name x, const VT *t) {
  Name m = keep(fresh(L)), p = keep(fresh(L)), i = keep(fresh(L));
  emit(L, "    %s = bufferization.to_buffer %s read_only : %s to %s\n", m.s, x.s, tt(t), mt(t));
  emit(L, "    %s = memref.extract_aligned_pointer_as_index %s : %s -> index\n", p.s, m.s, mt(t));
  emit(L, "    %s = arith.index_cast %s : index to i64\n", i.s, p.s);
  return i;
}

/* A call `kernel(meta, out, in0, in1, in2)`; absent inputs pass 0. The
 * call sits in a private helper function on tensors, called where the op
 * was: one-shot bufferization then sees the inputs read at the call (the
 * kernel reads them through raw pointers, which it cannot see) and never
 * reuses their buffers before it. Returns the result tensor. */
static Name kernelCall(Lower *L, const char *kernel, const int64_t *meta, int numMeta, const VT *out, int numIn,
                       const Name *ins, const VT *inTypes) {
  int helper = L->numHelpers++;
  int known = 0;
  while (known < L->numKernels && strcmp(L->kernels[known], kernel))
    ++known;
  if (known == L->numKernels) {
    MPC_ASSERT(L->numKernels < (int)(sizeof L->kernels / sizeof *L->kernels), "too many runtime kernels");
    L->kernels[L->numKernels++] = kernel;
  }
  MpcStr *caller = L->out;
  L->out = &L->helpers;
  emit(L, "  func.func private @__mpc_kernel_call_%d(", helper);
  for (int i = 0; i < numIn; ++i)
    emit(L, "%s%%arg%d: %s", i ? ", " : "", i, tt(&inTypes[i]));
  emit(L, ") -> %s {\n", tt(out));
  char list[1024];
  listText(list, sizeof list, meta, numMeta);
  Name metaT = keep(fresh(L));
  emit(L, "    %s = arith.constant dense<%s> : tensor<%dxi64>\n", metaT.s, list, numMeta);
  VT metaVT = vtMake(&(MpcShape){1, {numMeta}}, MPC_ELT_I64);
  Name ptrs[4];
  ptrs[0] = dataPointer(L, metaT, &metaVT);
  for (int i = 0; i < numIn; ++i) {
    char arg[16];
    snprintf(arg, sizeof arg, "%%arg%d", i);
    ptrs[1 + i] = dataPointer(L, keep(arg), &inTypes[i]);
  }
  Name zero = keep(fresh(L));
  emit(L, "    %s = arith.constant 0 : i64\n", zero.s);
  for (int i = numIn; i < 3; ++i)
    ptrs[1 + i] = zero;
  Name buf = keep(fresh(L)), p = keep(fresh(L)), pi = keep(fresh(L));
  emit(L, "    %s = memref.alloc() {alignment = 64 : i64} : %s\n", buf.s, mt(out));
  emit(L, "    %s = memref.extract_aligned_pointer_as_index %s : %s -> index\n", p.s, buf.s, mt(out));
  emit(L, "    %s = arith.index_cast %s : index to i64\n", pi.s, p.s);
  emit(L, "    func.call @%s(%s, %s, %s, %s, %s) : (i64, i64, i64, i64, i64) -> ()\n", kernel, ptrs[0].s, pi.s,
       ptrs[1].s, ptrs[2].s, ptrs[3].s);
  Name t = keep(fresh(L));
  emit(L, "    %s = bufferization.to_tensor %s restrict writable : %s to %s\n", t.s, buf.s, mt(out), tt(out));
  emit(L, "    return %s : %s\n  }\n", t.s, tt(out));
  L->out = caller;
  Name r = keep(fresh(L));
  emit(L, "    %s = func.call @__mpc_kernel_call_%d(", r.s, helper);
  for (int i = 0; i < numIn; ++i)
    emit(L, "%s%s", i ? ", " : "", ins[i].s);
  emit(L, ") : (");
  for (int i = 0; i < numIn; ++i)
    emit(L, "%s%s", i ? ", " : "", tt(&inTypes[i]));
  emit(L, ") -> %s\n", tt(out));
  return r;
}

static bool isMatrixOp(MlirOperation op) {
  return mpcOpIsNamed(op, "mpc.linear") || mpcOpIsNamed(op, "mpc.matmul") || mpcOpIsNamed(op, "mpc.conv2d");
}

/* A narrowing cast fuses into a matrix op whose product is computed in the
 * cast's type: the kernel rounds its operands to bf16 or f16 while packing
 * exactly as truncf does. A widening cast always fuses. */
static bool matrixComputesIn(MlirOperation op, MpcEltKind k) {
  if (k == MPC_ELT_F32)
    return true;
  VT a, b;
  return vtOf(mlirOperationGetOperand(op, 0), &a) && vtOf(mlirOperationGetOperand(op, 1), &b) && a.k == k &&
         b.k == k;
}

static bool readsInGenerics(MlirOperation op) {
  MpcOpKind kind = mpcOpKindOf(op);
  return kind < MPC_OP_COUNT ? kindReadsInGenerics(lowerRules[kind].kind) : mpcIsCast(op);
}

/* A cast is not emitted when every user can apply it itself: generics
 * convert in their bodies (any cast), and matrix kernels while packing
 * (widening casts, and narrowing to bf16, which packing rounds exactly as
 * truncf does; not narrowing to f16, which the kernels compute in f32). */
static bool castFuses(MlirOperation cast) {
  if (!mpcIsCast(cast))
    return false;
  VT from, to;
  if (!vtOf(mlirOperationGetOperand(cast, 0), &from) || !vtOf(mlirOperationGetResult(cast, 0), &to))
    return false;
  MlirValue src = mlirOperationGetOperand(cast, 0);
  if (mlirValueIsAOpResult(src) && mpcIsCast(mlirOpResultGetOwner(src)))
    return false; /* the second cast of a chain reads the first through; one level */
  bool packable = from.k != MPC_ELT_F64 && to.k != MPC_ELT_F64;
  MlirOpOperand use = mlirValueGetFirstUse(mlirOperationGetResult(cast, 0));
  if (mlirOpOperandIsNull(use))
    return false;
  for (; !mlirOpOperandIsNull(use); use = mlirOpOperandGetNextUse(use)) {
    MlirOperation user = mlirOpOperandGetOwner(use);
    if (!(isMatrixOp(user) ? packable && matrixComputesIn(user, to.k) : readsInGenerics(user)))
      return false;
  }
  return true;
}

static bool isSkipped(Lower *L, MlirOperation op) {
  for (size_t i = 0; i < L->numSkipped; ++i)
    if (L->skipped[i].ptr == op.ptr)
      return true;
  return false;
}

/* An operand of a matrix op, looking through a fused cast: its name and
 * type, and the type it is computed in (the cast's result type). */
static void matrixOperand(Lower *L, MlirValue v, Name *name, VT *t, MpcEltKind *computed) {
  VT castT;
  vtOf(v, &castT);
  *computed = castT.k;
  if (mlirValueIsAOpResult(v) && mpcIsCast(mlirOpResultGetOwner(v)) && isSkipped(L, mlirOpResultGetOwner(v)))
    v = mlirOperationGetOperand(mlirOpResultGetOwner(v), 0);
  *name = keep(nameOf(L, v));
  vtOf(v, t);
}

/* The runtime computes products in bf16 when the op's operands are bf16,
 * rounds operands to f16 (and multiplies in f32) when they are f16, else
 * computes in f32 (f64 when anything is f64). */
static int64_t computeCode(MpcEltKind a, MpcEltKind b, MpcEltKind out) {
  if (a == MPC_ELT_F64 || b == MPC_ELT_F64 || out == MPC_ELT_F64)
    return MPCRT_F64;
  if (a == MPC_ELT_BF16 && b == MPC_ELT_BF16)
    return MPCRT_BF16;
  return a == MPC_ELT_F16 && b == MPC_ELT_F16 ? MPCRT_F16 : MPCRT_F32;
}

/* A ReLU that is the only user of a matrix op's result becomes the GEMM's
 * epilogue: applied to each block of the result while it is in cache, so
 * the activation costs no pass over memory. Returns the epilogue code and
 * marks the ReLU as done. */
static int64_t fuseEpilogue(Lower *L, MlirOperation op) {
  MlirValue r = mlirOperationGetResult(op, 0);
  MlirOpOperand use = mlirValueGetFirstUse(r);
  if (mlirOpOperandIsNull(use) || !mlirOpOperandIsNull(mlirOpOperandGetNextUse(use)))
    return MPCRT_EPILOGUE_NONE;
  MlirOperation user = mlirOpOperandGetOwner(use);
  if (!mpcOpIsNamed(user, "mpc.relu") || !mlirTypeEqual(mlirValueGetType(mlirOperationGetResult(user, 0)),
                                                         mlirValueGetType(r)))
    return MPCRT_EPILOGUE_NONE;
  L->skipped = mpcGrowArray(L->skipped, &L->capSkipped, L->numSkipped + 1, sizeof *L->skipped);
  L->skipped[L->numSkipped++] = user;
  return MPCRT_EPILOGUE_RELU;
}

/* All operands of a matrix op (at most 3), through fused casts. */
static int matrixOperands(Lower *L, MlirOperation op, Name *in, VT *inT, MpcEltKind *comp) {
  int n = (int)mlirOperationGetNumOperands(op);
  for (int i = 0; i < n && i < 3; ++i)
    matrixOperand(L, mlirOperationGetOperand(op, i), &in[i], &inT[i], &comp[i]);
  return n < 3 ? n : 3;
}

static Name lowerMatmul(Lower *L, MlirOperation op, bool linear, const VT *to) {
  Name in[3];
  VT inT[3];
  MpcEltKind comp[3];
  int n = matrixOperands(L, op, in, inT, comp);
  /* meta: aType bType cType biasType batch M N K transB compute epilogue */
  int64_t meta[11];
  const VT *a = &inT[0], *b = &inT[1];
  int64_t K = a->s.dims[a->s.rank - 1];
  int64_t batch = 1, M, N;
  if (linear) {
    N = b->s.dims[0];
    M = mpcShapeNumElements(&a->s) / (K ? K : 1);
  } else {
    M = a->s.dims[a->s.rank - 2];
    N = b->s.dims[b->s.rank - 1];
    for (int i = 0; i < a->s.rank - 2; ++i)
      batch *= a->s.dims[i];
  }
  meta[0] = dtypeCode(a->k);
  meta[1] = dtypeCode(b->k);
  meta[2] = dtypeCode(to->k);
  meta[3] = n > 2 ? dtypeCode(inT[2].k) : -1;
  meta[4] = batch;
  meta[5] = M;
  meta[6] = N;
  meta[7] = K;
  meta[8] = linear;
  meta[9] = computeCode(comp[0], comp[1], to->k);
  meta[10] = fuseEpilogue(L, op);
  return kernelCall(L, "mpcrt_kernel_matmul", meta, 11, to, n, in, inT);
}

static Name lowerConv2d(Lower *L, MlirOperation op, const VT *to) {
  Name in[3];
  VT inT[3];
  MpcEltKind comp[3];
  int n = matrixOperands(L, op, in, inT, comp);
  int64_t strides[2] = {1, 1}, pad[4] = {0}, dil[2] = {1, 1};
  mpcOpIntsAttr(op, "strides", strides, 2);
  mpcOpIntsAttr(op, "padding", pad, 4);
  mpcOpIntsAttr(op, "dilations", dil, 2);
  const MpcShape *x = &inT[0].s, *w = &inT[1].s;
  int64_t meta[22] = {dtypeCode(inT[0].k), dtypeCode(inT[1].k), dtypeCode(to->k), n > 2 ? dtypeCode(inT[2].k) : -1,
                      x->dims[0], x->dims[1], x->dims[2], x->dims[3], w->dims[0], w->dims[2], w->dims[3],
                      to->s.dims[2], to->s.dims[3], strides[0], strides[1], pad[0], pad[1], dil[0], dil[1],
                      mpcOpIntAttr(op, "groups"), computeCode(comp[0], comp[1], to->k), fuseEpilogue(L, op)};
  return kernelCall(L, "mpcrt_kernel_conv2d", meta, 22, to, n, in, inT);
}

static Name lowerPool(Lower *L, MlirOperation op, bool isMax, Name x, const VT *t, const VT *to) {
  int64_t kernel[2] = {1, 1}, strides[2] = {1, 1}, pad[4] = {0};
  mpcOpIntsAttr(op, "kernel", kernel, 2);
  mpcOpIntsAttr(op, "strides", strides, 2);
  mpcOpIntsAttr(op, "padding", pad, 4);
  int64_t meta[15] = {dtypeCode(t->k), dtypeCode(to->k), isMax, t->s.dims[0], t->s.dims[1], t->s.dims[2],
                      t->s.dims[3], to->s.dims[2], to->s.dims[3], kernel[0], kernel[1], strides[0], strides[1],
                      pad[0], pad[1]};
  return kernelCall(L, "mpcrt_kernel_pool2d", meta, 15, to, 1, &x, t);
}

static Name lowerScatterAdd(Lower *L, MlirOperation op, const Name *in, const VT *inT, const VT *to) {
  /* meta: xType idxType updType outType rank axis xdims[rank] idxdims[rank] */
  int64_t meta[6 + 2 * MPC_MAX_RANK];
  int r = inT[0].s.rank;
  meta[0] = dtypeCode(inT[0].k);
  meta[1] = dtypeCode(inT[1].k);
  meta[2] = dtypeCode(inT[2].k);
  meta[3] = dtypeCode(to->k);
  meta[4] = r;
  meta[5] = mpcOpIntAttr(op, "axis");
  for (int i = 0; i < r; ++i) {
    meta[6 + i] = inT[0].s.dims[i];
    meta[6 + r + i] = inT[1].s.dims[i];
  }
  return kernelCall(L, "mpcrt_kernel_scatter_add", meta, 6 + 2 * r, to, 3, in, inT);
}

static bool fail(Lower *L, MlirOperation op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*----------------------------------------------------------------------------
 * Backward ops (from mpc-autodiff)
 *--------------------------------------------------------------------------*/

/* dlogits = dloss * scale * (softmax(logits) - onehot(labels)). */
static Name lowerCrossEntropyGrad(Lower *L, MlirOperation op, const Name *in, const VT *inT, const VT *to) {
  const VT *t = &inT[1];
  MpcEltKind a = arithOf(to->k);
  Name m, sum;
  VT redT = rowMaxSumExp(L, in[1], t, a, &m, &sum);
  Generic g = {.loops = 2, .iters = {'p', 'p'}, .outType = *to};
  int id[2] = {0, 1}, row[1] = {0};
  addInput(&g, in[1], t, id);
  addInput(&g, m, &redT, row);
  addInput(&g, sum, &redT, row);
  addInput(&g, in[2], &inT[2], row);
  addInput(&g, in[0], &inT[0], row); /* rank 0: no dims */
  identityMap(2, g.outMap);
  g.init = emitEmpty(L, to);
  Body b = {0};
  Name x = bodyConvert(&b, inArg(0), t->k, a);
  Name p = bodyBin(&b, "arith.divf", bodyUn(&b, "math.exp", bodyBin(&b, "arith.subf", x, inArg(1), a), a), inArg(2), a);
  Name label = bodyIndex(&b, inArg(3), inT[2].k, t->s.dims[1]);
  Name col = bodyOp(&b, "linalg.index 1 : index");
  Name hit = bodyOp(&b, "arith.cmpi eq, %s, %s : index", col.s, label.s);
  Name diff = bodyBin(&b, "arith.subf", p, bodyOp(&b, "arith.select %s, %s, %s : %s", hit.s, bodyConst(&b, 1, a).s,
                                                  bodyConst(&b, 0, a).s, eltName(a)), a);
  double scale = mpcOpStrAttrIs(op, "reduction", "sum") ? 1.0 : 1.0 / (double)t->s.dims[0];
  Name dl = bodyBin(&b, "arith.mulf", bodyConvert(&b, inArg(4), inT[0].k, a), bodyConst(&b, scale, a), a);
  return emitGeneric(L, &g, &b, bodyConvert(&b, bodyBin(&b, "arith.mulf", diff, dl, a), a, to->k));
}

/* out[i] = x[i with the axis coordinate replaced by indices[i]]; 0 where
 * the index is out of range (scatter_add ignored that update). */
static Name lowerGather(Lower *L, MlirOperation op, const Name *in, const VT *inT, const VT *to) {
  int64_t axis = mpcOpIntAttr(op, "axis");
  Generic g = {.loops = to->s.rank, .outType = *to};
  int map[MPC_MAX_RANK];
  for (int i = 0; i < g.loops; ++i)
    g.iters[i] = 'p';
  identityMap(g.loops, map);
  addInput(&g, in[1], &inT[1], map);
  identityMap(g.loops, g.outMap);
  g.init = emitEmpty(L, to);
  Body b = {0};
  int64_t limit = inT[0].s.dims[axis];
  Name id = inArg(0);
  const char *ik = eltName(inT[1].k);
  Name lo = bodyOp(&b, "arith.cmpi sge, %s, %s : %s", id.s, bodyOp(&b, "arith.constant 0 : %s", ik).s, ik);
  Name hi = bodyOp(&b, "arith.cmpi slt, %s, %s : %s", id.s, bodyOp(&b, "arith.constant %lld : %s", (long long)limit, ik).s, ik);
  Name ok = bodyOp(&b, "arith.andi %s, %s : i1", lo.s, hi.s);
  Name at = bodyIndex(&b, id, inT[1].k, limit);
  char idx[512];
  int off = 0;
  for (int d = 0; d < to->s.rank; ++d) {
    Name ix = d == axis ? at : bodyOp(&b, "linalg.index %d : index", d);
    off += snprintf(idx + off, sizeof idx - (size_t)off, "%s%s", d ? ", " : "", ix.s);
  }
  Name v = bodyConvert(&b, extractThrough(L, &b, in[0], &inT[0], idx), inT[0].k, to->k);
  Name r = bodyOp(&b, "arith.select %s, %s, %s : %s", ok.s, v.s, bodyConst(&b, 0, to->k).s, eltName(to->k));
  return emitGeneric(L, &g, &b, r);
}

static Name lowerConv2dGrad(Lower *L, MlirOperation op, bool input, const Name *in, const VT *inT, const VT *to) {
  int64_t strides[2] = {1, 1}, pad[4] = {0}, dil[2] = {1, 1};
  mpcOpIntsAttr(op, "strides", strides, 2);
  mpcOpIntsAttr(op, "padding", pad, 4);
  mpcOpIntsAttr(op, "dilations", dil, 2);
  /* grad_input(dy, w) -> dx; grad_weight(dy, x) -> dw */
  const VT *dy = &inT[0], *x = input ? to : &inT[1], *w = input ? &inT[1] : to;
  int64_t meta[22] = {dtypeCode(x->k), dtypeCode(w->k), dtypeCode(dy->k), -1, x->s.dims[0], x->s.dims[1],
                      x->s.dims[2], x->s.dims[3], w->s.dims[0], w->s.dims[2], w->s.dims[3], dy->s.dims[2],
                      dy->s.dims[3], strides[0], strides[1], pad[0], pad[1], dil[0], dil[1], mpcOpIntAttr(op, "groups"),
                      computeCode(dy->k, inT[1].k, to->k), MPCRT_EPILOGUE_NONE};
  return kernelCall(L, input ? "mpcrt_kernel_conv2d_grad_input" : "mpcrt_kernel_conv2d_grad_weight", meta, 22, to, 2,
                    in, inT);
}

static Name lowerPoolGrad(Lower *L, MlirOperation op, bool isMax, const Name *in, const VT *inT, const VT *to) {
  int64_t kernel[2] = {1, 1}, strides[2] = {1, 1}, pad[4] = {0};
  mpcOpIntsAttr(op, "kernel", kernel, 2);
  mpcOpIntsAttr(op, "strides", strides, 2);
  mpcOpIntsAttr(op, "padding", pad, 4);
  const VT *dy = &inT[0], *x = &inT[1];
  int64_t meta[15] = {dtypeCode(to->k), dtypeCode(dy->k), isMax, x->s.dims[0], x->s.dims[1], x->s.dims[2],
                      x->s.dims[3], dy->s.dims[2], dy->s.dims[3], kernel[0], kernel[1], strides[0], strides[1],
                      pad[0], pad[1]};
  return kernelCall(L, "mpcrt_kernel_pool2d_grad", meta, 15, to, 2, in, inT);
}

static Name lowerEmbeddingGrad(Lower *L, const Name *in, const VT *inT, const VT *to) {
  int64_t meta[6] = {dtypeCode(to->k), dtypeCode(inT[0].k), dtypeCode(inT[1].k), to->s.dims[0], to->s.dims[1],
                     mpcShapeNumElements(&inT[1].s)};
  return kernelCall(L, "mpcrt_kernel_embedding_grad", meta, 6, to, 2, in, inT);
}

/*----------------------------------------------------------------------------
 * Training ops (from mpc-loss-scaling and mpc-optimizer; lib/training.c)
 *--------------------------------------------------------------------------*/

/* The element of a 0-d tensor, or element `i` of a 1-d one, as a scalar. */
static Name scalarOf(Lower *L, Name t, const VT *type, int i) {
  Name r = keep(fresh(L));
  if (type->s.rank == 0) {
    emit(L, "    %s = tensor.extract %s[] : %s\n", r.s, t.s, tt(type));
  } else {
    Name c = keep(fresh(L));
    emit(L, "    %s = arith.constant %d : index\n", c.s, i);
    emit(L, "    %s = tensor.extract %s[%s] : %s\n", r.s, t.s, c.s, tt(type));
  }
  return r;
}

/* A scalar computed outside bodies: `%vN = TEXT`. */
static Name scalarOp(Lower *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static Name scalarOp(Lower *L, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  Name r = keep(fresh(L));
  emit(L, "    %s = %s\n", r.s, buf);
  return r;
}

static Name scalarConst(Lower *L, double v, MpcEltKind k) {
  if (k == MPC_ELT_I64 || k == MPC_ELT_I32)
    return scalarOp(L, "arith.constant %lld : %s", (long long)v, eltName(k));
  if (k == MPC_ELT_I1)
    return scalarOp(L, "arith.constant %s", v != 0 ? "true" : "false");
  return scalarOp(L, "arith.constant %s : %s", floatLiteral(v, k), eltName(k));
}

/* y = x * s for a scalar s (type a) over a whole tensor. */
static Name scaleBy(Lower *L, Name x, const VT *t, Name s, MpcEltKind a, const VT *to) {
  Generic g = {.loops = t->s.rank, .outType = *to};
  int map[MPC_MAX_RANK];
  for (int i = 0; i < g.loops; ++i)
    g.iters[i] = 'p';
  identityMap(g.loops, map);
  addInput(&g, x, t, map);
  identityMap(g.loops, g.outMap);
  g.init = emitEmpty(L, to);
  Body b = {0};
  Name v = bodyBin(&b, "arith.mulf", bodyConvert(&b, inArg(0), t->k, a), s, a);
  return emitGeneric(L, &g, &b, bodyConvert(&b, v, a, to->k));
}

/* i1 tensor<>: no inf or NaN in x (x - x is 0 exactly for finite x). */
static Name allFinite(Lower *L, Name x, const VT *t) {
  VT acc = vtMake(&(MpcShape){0}, MPC_ELT_I1);
  Generic g = {.loops = t->s.rank, .outType = acc};
  int map[MPC_MAX_RANK];
  for (int i = 0; i < g.loops; ++i)
    g.iters[i] = 'r';
  identityMap(g.loops, map);
  addInput(&g, x, t, map);
  Name e = emitEmpty(L, &acc), yes = scalarConst(L, 1, MPC_ELT_I1);
  g.init = keep(fresh(L));
  emit(L, "    %s = linalg.fill ins(%s : i1) outs(%s : tensor<i1>) -> tensor<i1>\n", g.init.s, yes.s, e.s);
  Body b = {0};
  MpcEltKind a = arithOf(t->k);
  Name v = bodyConvert(&b, inArg(0), t->k, a);
  Name ok = bodyOp(&b, "arith.cmpf oeq, %s, %s : %s", bodyBin(&b, "arith.subf", v, v, a).s, bodyConst(&b, 0, a).s,
                   eltName(a));
  return emitGeneric(L, &g, &b, bodyOp(&b, "arith.andi %s, %%out : i1", ok.s));
}

/* Rounds f32 value v (in a body) to k: to nearest even, or stochastically
 * (random bits below k's precision added to v's bits, then cut off; exact
 * in k's normal range), the random bits a hash of the element's index, the
 * update count and the op's seed. */
static Name roundStore(Body *b, Name v, MpcEltKind k, bool stochastic, int rank, const int64_t *dims, Name count,
                       int64_t seed) {
  if (!stochastic || (k != MPC_ELT_F16 && k != MPC_ELT_BF16))
    return bodyConvert(b, v, MPC_ELT_F32, k);
  Name idx = bodyOp(b, "arith.constant 0 : i64");
  for (int d = 0; d < rank; ++d) {
    Name i = bodyOp(b, "linalg.index %d : index", d);
    Name i64 = bodyOp(b, "arith.index_cast %s : index to i64", i.s);
    Name scaled = bodyOp(b, "arith.muli %s, %s : i64", idx.s, bodyOp(b, "arith.constant %lld : i64", (long long)dims[d]).s);
    idx = bodyOp(b, "arith.addi %s, %s : i64", scaled.s, i64.s);
  }
  /* splitmix64 of (index, count, seed) */
  Name z = bodyOp(b, "arith.muli %s, %s : i64", idx.s, bodyOp(b, "arith.constant %lld : i64", (long long)0x9E3779B97F4A7C15ull).s);
  z = bodyOp(b, "arith.addi %s, %s : i64", z.s,
             bodyOp(b, "arith.muli %s, %s : i64", count.s, bodyOp(b, "arith.constant %lld : i64", (long long)0xD1B54A32D192ED03ull).s).s);
  z = bodyOp(b, "arith.addi %s, %s : i64", z.s, bodyOp(b, "arith.constant %lld : i64", (long long)(seed * 0x94D049BB133111EBull + 1)).s);
  const unsigned shifts[3] = {30, 27, 31};
  const unsigned long long mults[2] = {0xBF58476D1CE4E5B9ull, 0x94D049BB133111EBull};
  for (int r = 0; r < 3; ++r) {
    z = bodyOp(b, "arith.xori %s, %s : i64", z.s,
               bodyOp(b, "arith.shrui %s, %s : i64", z.s, bodyOp(b, "arith.constant %u : i64", shifts[r]).s).s);
    if (r < 2)
      z = bodyOp(b, "arith.muli %s, %s : i64", z.s, bodyOp(b, "arith.constant %lld : i64", (long long)mults[r]).s);
  }
  int low = k == MPC_ELT_BF16 ? 16 : 13; /* f32 mantissa bits below k's */
  Name rnd = bodyOp(b, "arith.trunci %s : i64 to i32", z.s);
  Name mask = bodyOp(b, "arith.constant %d : i32", (1 << low) - 1);
  rnd = bodyOp(b, "arith.andi %s, %s : i32", rnd.s, mask.s);
  Name bits = bodyOp(b, "arith.bitcast %s : f32 to i32", v.s);
  Name sum = bodyOp(b, "arith.addi %s, %s : i32", bits.s, rnd.s);
  Name cut = bodyOp(b, "arith.andi %s, %s : i32", sum.s, bodyOp(b, "arith.constant %d : i32", ~((1 << low) - 1)).s);
  Name sr = bodyOp(b, "arith.truncf %s : f32 to %s", bodyOp(b, "arith.bitcast %s : i32 to f32", cut.s).s, eltName(k));
  Name ok = bodyOp(b, "arith.cmpf oeq, %s, %s : f32", bodyBin(b, "arith.subf", v, v, MPC_ELT_F32).s,
                   bodyConst(b, 0, MPC_ELT_F32).s);
  Name nearest = bodyConvert(b, v, MPC_ELT_F32, k);
  return bodyOp(b, "arith.select %s, %s, %s : %s", ok.s, sr.s, nearest.s, eltName(k));
}

/* The optimizer updates: one generic with a result per updated tensor. */
static bool lowerUpdate(Lower *L, MlirOperation op, const char *name) {
  bool adam = !strcmp(name, "adamw_update"), mom = !strcmp(name, "sgd_momentum_update");
  int ns = adam ? 2 : mom ? 1 : 0;
  intptr_t n = mlirOperationGetNumOperands(op);
  Name in[8];
  VT inT[8];
  for (intptr_t i = 0; i < n && i < 8; ++i) {
    MlirValue v = mlirOperationGetOperand(op, i);
    in[i] = keep(nameOf(L, v));
    vtOf(v, &inT[i]);
  }
  const VT *pt = &inT[0];
  MpcEltKind a = arithOf(pt->k), k = pt->k;
  int lrI = 2 + ns;
  Name lr = scalarOf(L, in[lrI], &inT[lrI], 0);
  Name fin = scalarOf(L, in[n - 1], &inT[n - 1], 0);
  Name count = scalarOf(L, in[lrI + 1], &inT[lrI + 1], 0);
  bool stochastic = mpcOpStrAttrIs(op, "rounding", "stochastic");
  int64_t seed = mpcOpIntAttr(op, "seed");
  if (a == MPC_ELT_F64)
    lr = scalarOp(L, "arith.extf %s : f32 to f64", lr.s);
  double wd = mpcOpF64Attr(op, "weight_decay");
  /* Scalars computed once, in f64 where PyTorch computes them in Python. */
  Name c1 = {{0}}, c2 = {{0}}, stepSize = {{0}}, bc2 = {{0}}, first = {{0}};
  if (adam) {
    double b1 = mpcOpF64Attr(op, "beta1"), b2 = mpcOpF64Attr(op, "beta2");
    Name lr64 = a == MPC_ELT_F64 ? lr : scalarOp(L, "arith.extf %s : f32 to f64", lr.s);
    Name step = scalarOp(L, "arith.addi %s, %s : i64", count.s, scalarConst(L, 1, MPC_ELT_I64).s);
    Name stepf = scalarOp(L, "arith.sitofp %s : i64 to f64", step.s);
    Name p1 = scalarOp(L, "math.powf %s, %s : f64", scalarConst(L, b1, MPC_ELT_F64).s, stepf.s);
    Name p2 = scalarOp(L, "math.powf %s, %s : f64", scalarConst(L, b2, MPC_ELT_F64).s, stepf.s);
    Name one = scalarConst(L, 1, MPC_ELT_F64);
    Name bc1 = scalarOp(L, "arith.subf %s, %s : f64", one.s, p1.s);
    Name bc2d = scalarOp(L, "math.sqrt %s : f64", scalarOp(L, "arith.subf %s, %s : f64", one.s, p2.s).s);
    Name ss = scalarOp(L, "arith.divf %s, %s : f64", lr64.s, bc1.s);
    Name decay = scalarOp(L, "arith.subf %s, %s : f64", one.s,
                          scalarOp(L, "arith.mulf %s, %s : f64", lr64.s, scalarConst(L, wd, MPC_ELT_F64).s).s);
    if (a == MPC_ELT_F64) {
      stepSize = ss, bc2 = bc2d, c1 = decay;
    } else {
      stepSize = scalarOp(L, "arith.truncf %s : f64 to f32", ss.s);
      bc2 = scalarOp(L, "arith.truncf %s : f64 to f32", bc2d.s);
      c1 = scalarOp(L, "arith.truncf %s : f64 to f32", decay.s);
    }
  } else if (mom) {
    first = scalarOp(L, "arith.cmpi eq, %s, %s : i64", count.s, scalarConst(L, 0, MPC_ELT_I64).s);
  }
  (void)c2;
  /* The generic: ins (p, g, state...), outs one per updated tensor. */
  int nOut = 1 + ns;
  Name outs[3];
  for (int i = 0; i < nOut; ++i)
    outs[i] = emitEmpty(L, pt);
  Name res = keep(fresh(L));
  MpcStr m = {0};
  mpcStrAppendf(&m, "affine_map<(");
  for (int i = 0; i < pt->s.rank; ++i)
    mpcStrAppendf(&m, "%sd%d", i ? ", " : "", i);
  mpcStrAppendf(&m, ") -> (");
  for (int i = 0; i < pt->s.rank; ++i)
    mpcStrAppendf(&m, "%sd%d", i ? ", " : "", i);
  mpcStrAppendf(&m, ")>");
  emit(L, "    %s:%d = linalg.generic {indexing_maps = [", res.s, nOut);
  for (int i = 0; i < 2 + ns + nOut; ++i)
    emit(L, "%s%s", i ? ", " : "", m.data);
  emit(L, "], iterator_types = [");
  for (int i = 0; i < pt->s.rank; ++i)
    emit(L, "%s\"parallel\"", i ? ", " : "");
  emit(L, "]} ins(");
  for (int i = 0; i < 2 + ns; ++i)
    emit(L, "%s%s", i ? ", " : "", in[i].s);
  emit(L, " : ");
  for (int i = 0; i < 2 + ns; ++i)
    emit(L, "%s%s", i ? ", " : "", tt(&inT[i]));
  emit(L, ") outs(");
  for (int i = 0; i < nOut; ++i)
    emit(L, "%s%s", i ? ", " : "", outs[i].s);
  emit(L, " : ");
  for (int i = 0; i < nOut; ++i)
    emit(L, "%s%s", i ? ", " : "", tt(pt));
  emit(L, ") {\n    ^bb0(");
  for (int i = 0; i < 2 + ns; ++i)
    emit(L, "%%in%d: %s, ", i, eltName(inT[i].k));
  for (int i = 0; i < nOut; ++i)
    emit(L, "%%o%d: %s%s", i, eltName(k), i + 1 < nOut ? ", " : "");
  emit(L, "):\n");
  mpcStrFree(&m);
  Body b = {0};
  Name p = bodyConvert(&b, inArg(0), inT[0].k, a), g = bodyConvert(&b, inArg(1), inT[1].k, a);
  Name newP, newS[2] = {{{0}}, {{0}}};
  if (adam) {
    double b1 = mpcOpF64Attr(op, "beta1"), b2 = mpcOpF64Attr(op, "beta2"), eps = mpcOpF64Attr(op, "eps");
    Name mv = bodyConvert(&b, inArg(2), inT[2].k, a), vv = bodyConvert(&b, inArg(3), inT[3].k, a);
    Name p1 = bodyBin(&b, "arith.mulf", p, c1, a);
    /* exp_avg.mul_(beta1).add_(g, alpha=1 - beta1), as torch.optim.AdamW */
    Name m1 = bodyBin(&b, "arith.addf", bodyBin(&b, "arith.mulf", mv, bodyConst(&b, b1, a), a),
                      bodyBin(&b, "arith.mulf", g, bodyConst(&b, 1 - b1, a), a), a);
    /* exp_avg_sq.mul_(beta2).addcmul_(g, g, 1 - beta2) */
    Name v1 = bodyBin(&b, "arith.addf", bodyBin(&b, "arith.mulf", vv, bodyConst(&b, b2, a), a),
                      bodyBin(&b, "arith.mulf", bodyBin(&b, "arith.mulf", g, g, a), bodyConst(&b, 1 - b2, a), a), a);
    Name denom = bodyBin(&b, "arith.addf", bodyBin(&b, "arith.divf", bodyUn(&b, "math.sqrt", v1, a), bc2, a),
                         bodyConst(&b, eps, a), a);
    newP = bodyBin(&b, "arith.subf", p1, bodyBin(&b, "arith.mulf", stepSize, bodyBin(&b, "arith.divf", m1, denom, a), a), a);
    newS[0] = m1;
    newS[1] = v1;
  } else {
    Name d = g;
    if (wd != 0)
      d = bodyBin(&b, "arith.addf", d, bodyBin(&b, "arith.mulf", p, bodyConst(&b, wd, a), a), a);
    if (mom) {
      double mu = mpcOpF64Attr(op, "momentum"), damp = mpcOpF64Attr(op, "dampening");
      Name buf = bodyConvert(&b, inArg(2), inT[2].k, a);
      Name upd = bodyBin(&b, "arith.addf", bodyBin(&b, "arith.mulf", buf, bodyConst(&b, mu, a), a),
                         bodyBin(&b, "arith.mulf", d, bodyConst(&b, 1 - damp, a), a), a);
      Name nb = bodyOp(&b, "arith.select %s, %s, %s : %s", first.s, d.s, upd.s, eltName(a)); /* first step: clone */
      d = mpcOpBoolAttr(op, "nesterov") ? bodyBin(&b, "arith.addf", d, bodyBin(&b, "arith.mulf", nb, bodyConst(&b, mu, a), a), a)
                                   : nb;
      newS[0] = nb;
    }
    newP = bodyBin(&b, "arith.subf", p, bodyBin(&b, "arith.mulf", d, lr, a), a);
  }
  /* Round once to the stored type; keep the old values on a skipped step. */
  Name yields[3];
  Name stored = a == MPC_ELT_F64 ? newP : roundStore(&b, newP, k, stochastic, pt->s.rank, pt->s.dims, count, seed);
  yields[0] = bodyOp(&b, "arith.select %s, %s, %%in0 : %s", fin.s, stored.s, eltName(k));
  for (int i = 0; i < ns; ++i) {
    Name st = a == MPC_ELT_F64 ? newS[i]
                               : roundStore(&b, newS[i], k, stochastic, pt->s.rank, pt->s.dims, count, seed + 1000003 * (i + 1));
    yields[1 + i] = bodyOp(&b, "arith.select %s, %s, %%in%d : %s", fin.s, st.s, 2 + i, eltName(k));
  }
  mpcStrAppend(L->out, b.text.data ? b.text.data : "", b.text.length);
  mpcStrFree(&b.text);
  emit(L, "      linalg.yield ");
  for (int i = 0; i < nOut; ++i)
    emit(L, "%s%s", i ? ", " : "", yields[i].s);
  emit(L, " : ");
  for (int i = 0; i < nOut; ++i)
    emit(L, "%s%s", i ? ", " : "", eltName(k));
  emit(L, "\n    } -> (");
  for (int i = 0; i < nOut; ++i)
    emit(L, "%s%s", i ? ", " : "", tt(pt));
  emit(L, ")\n");
  for (int i = 0; i < nOut; ++i) {
    char nm[32];
    snprintf(nm, sizeof nm, "%s#%d", res.s, i);
    bindName(L, mlirOperationGetResult(op, i), atoi(res.s + 2), -1);
    L->names[L->numNames - 1].multi = true;
    L->names[L->numNames - 1].result = i;
    (void)nm;
  }
  return true;
}

static bool lowerTrainOp(Lower *L, MlirOperation op, const char *name) {
  if (strstr(name, "_update") && strcmp(name, "count_update"))
    return lowerUpdate(L, op, name);
  intptr_t n = mlirOperationGetNumOperands(op);
  Name in[MAX_INS];
  VT inT[MAX_INS];
  for (intptr_t i = 0; i < n && i < MAX_INS; ++i) {
    MlirValue v = mlirOperationGetOperand(op, i);
    in[i] = keep(nameOf(L, v));
    vtOf(v, &inT[i]);
  }
  VT to;
  vtOf(mlirOperationGetResult(op, 0), &to);
  Name r;
  if (!strcmp(name, "scale_loss") || !strcmp(name, "unscale")) {
    MpcEltKind a = arithOf(to.k);
    Name s = scalarOf(L, in[1], &inT[1], 0);
    if (!strcmp(name, "unscale")) { /* the reciprocal in f64, as GradScaler */
      Name s64 = scalarOp(L, "arith.extf %s : f32 to f64", s.s);
      Name inv = scalarOp(L, "arith.divf %s, %s : f64", scalarConst(L, 1, MPC_ELT_F64).s, s64.s);
      s = a == MPC_ELT_F64 ? inv : scalarOp(L, "arith.truncf %s : f64 to f32", inv.s);
    } else if (a == MPC_ELT_F64) {
      s = scalarOp(L, "arith.extf %s : f32 to f64", s.s);
    }
    r = scaleBy(L, in[0], &inT[0], s, a, &to);
  } else if (!strcmp(name, "all_finite")) { /* one operand per parameter: any number */
    Name acc = {{0}};
    for (intptr_t i = 0; i < n; ++i) {
      MlirValue v = mlirOperationGetOperand(op, i);
      VT vt;
      vtOf(v, &vt);
      Name f = allFinite(L, keep(nameOf(L, v)), &vt);
      VT bt = vtMake(&(MpcShape){0}, MPC_ELT_I1);
      Name e = scalarOf(L, f, &bt, 0);
      acc = i ? scalarOp(L, "arith.andi %s, %s : i1", acc.s, e.s) : e;
    }
    r = scalarOp(L, "tensor.from_elements %s : tensor<i1>", acc.s);
  } else if (!strcmp(name, "update_scale")) { /* GradScaler's _amp_update_scale_ */
    Name scale = scalarOf(L, in[0], &inT[0], 0), tracker = scalarOf(L, in[0], &inT[0], 1);
    Name fin = scalarOf(L, in[1], &inT[1], 0);
    Name backed = scalarOp(L, "arith.mulf %s, %s : f32", scale.s, scalarConst(L, mpcOpF64Attr(op, "backoff"), MPC_ELT_F32).s);
    Name next = scalarOp(L, "arith.addf %s, %s : f32", tracker.s, scalarConst(L, 1, MPC_ELT_F32).s);
    Name due = scalarOp(L, "arith.cmpf oge, %s, %s : f32", next.s,
                        scalarConst(L, (double)mpcOpIntAttr(op, "interval"), MPC_ELT_F32).s);
    Name grown = scalarOp(L, "arith.mulf %s, %s : f32", scale.s, scalarConst(L, mpcOpF64Attr(op, "growth"), MPC_ELT_F32).s);
    Name finiteGrown = scalarOp(L, "arith.cmpf one, %s, %s : f32", grown.s, scalarConst(L, INFINITY, MPC_ELT_F32).s);
    Name grow = scalarOp(L, "arith.andi %s, %s : i1", due.s, finiteGrown.s);
    Name okScale = scalarOp(L, "arith.select %s, %s, %s : f32", grow.s, grown.s, scale.s);
    Name zero = scalarConst(L, 0, MPC_ELT_F32);
    Name okTracker = scalarOp(L, "arith.select %s, %s, %s : f32", due.s, zero.s, next.s);
    Name s2 = scalarOp(L, "arith.select %s, %s, %s : f32", fin.s, okScale.s, backed.s);
    Name t2 = scalarOp(L, "arith.select %s, %s, %s : f32", fin.s, okTracker.s, zero.s);
    r = scalarOp(L, "tensor.from_elements %s, %s : tensor<2xf32>", s2.s, t2.s);
  } else if (!strcmp(name, "count_update")) {
    Name c = scalarOf(L, in[0], &inT[0], 0), fin = scalarOf(L, in[1], &inT[1], 0);
    Name inc = scalarOp(L, "arith.extui %s : i1 to i64", fin.s);
    r = scalarOp(L, "tensor.from_elements %s : tensor<i64>",
                 scalarOp(L, "arith.addi %s, %s : i64", c.s, inc.s).s);
  } else {
    return fail(L, op, "cannot lower 'mpc.%s': no lowering for this op", name);
  }
  bindResult(L, mlirOperationGetResult(op, 0), r.s);
  return true;
}

/*----------------------------------------------------------------------------
 * Driver
 *--------------------------------------------------------------------------*/

static bool fail(Lower *L, MlirOperation op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(Lower *L, MlirOperation op, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  mlirEmitError(mlirOperationGetLocation(op), msg);
  L->failed = true;
  return false;
}

static bool lowerOp(Lower *L, MlirOperation op) {
  MlirIdentifier ident = mlirOperationGetName(op);
  MlirStringRef full = mlirIdentifierStr(ident);
  char opName[96];
  snprintf(opName, sizeof opName, "%.*s", (int)full.length, full.data);
  if (!strcmp(opName, "func.return")) {
    intptr_t n = mlirOperationGetNumOperands(op);
    /* A value returned twice gets a copy for the second place: upstream's
     * buffer-results-to-out-params crashes on one buffer in two results. */
    Name *names = calloc((size_t)n + 1, sizeof *names);
    if (!names)
      abort();
    for (intptr_t i = 0; i < n; ++i) {
      MlirValue v = mlirOperationGetOperand(op, i);
      names[i] = keep(nameOf(L, v));
      bool seen = false;
      for (intptr_t j = 0; j < i; ++j)
        seen |= mlirValueEqual(mlirOperationGetOperand(op, j), v);
      VT t;
      if (seen && vtOf(v, &t)) {
        Name c = keep(fresh(L));
        emit(L, "    %s = bufferization.alloc_tensor() copy(%s) : %s\n", c.s, names[i].s, tt(&t));
        names[i] = c;
      }
    }
    emit(L, "    return");
    for (intptr_t i = 0; i < n; ++i)
      emit(L, "%s %s", i ? "," : "", names[i].s);
    free(names);
    if (n) {
      emit(L, " :");
      for (intptr_t i = 0; i < n; ++i) {
        VT t;
        vtOf(mlirOperationGetOperand(op, i), &t);
        emit(L, "%s %s", i ? "," : "", tt(&t));
      }
    }
    emit(L, "\n");
    return true;
  }
  if (mpcIsTrainOpName(full))
    return lowerTrainOp(L, op, opName + 4);
  if (!strcmp(opName, "arith.xori")) { /* the skipped flag: not of a tensor<i1> */
    VT bt;
    if (mlirOperationGetNumOperands(op) != 2 || !vtOf(mlirOperationGetResult(op, 0), &bt) || bt.s.rank != 0 ||
        bt.k != MPC_ELT_I1)
      return fail(L, op, "cannot lower '%s': only the xor of two tensor<i1> is supported", opName);
    Name x = scalarOf(L, keep(nameOf(L, mlirOperationGetOperand(op, 0))), &bt, 0);
    Name y = scalarOf(L, keep(nameOf(L, mlirOperationGetOperand(op, 1))), &bt, 0);
    Name r = scalarOp(L, "tensor.from_elements %s : tensor<i1>", scalarOp(L, "arith.xori %s, %s : i1", x.s, y.s).s);
    bindResult(L, mlirOperationGetResult(op, 0), r.s);
    return true;
  }
  if (mlirOperationGetNumResults(op) != 1)
    return fail(L, op, "cannot lower '%s' to linalg: expected an op with one result", opName);
  if (!strcmp(opName, "arith.constant")) {
    MlirAttribute value = mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("value"));
    MpcStr s = {0};
    mlirAttributePrint(value, mpcStrPrinter, &s);
    Name r = keep(fresh(L));
    emit(L, "    %s = arith.constant %.*s\n", r.s, (int)s.length, s.data);
    mpcStrFree(&s);
    bindResult(L, mlirOperationGetResult(op, 0), r.s);
    return true;
  }
  MlirValue result = mlirOperationGetResult(op, 0);
  VT to;
  if (!vtOf(result, &to))
    return fail(L, op, "cannot lower '%s': its result is not a statically shaped tensor of f16, bf16, f32 or f64",
                opName);
  Name in[MAX_INS];
  VT inT[MAX_INS];
  intptr_t numIn = mlirOperationGetNumOperands(op);
  if (numIn > MAX_INS && strcmp(opName, "mpc.concat"))
    return fail(L, op, "cannot lower '%s': too many operands", opName);
  for (intptr_t i = 0; i < numIn && i < MAX_INS; ++i) {
    MlirValue v = mlirOperationGetOperand(op, i);
    in[i] = keep(nameOf(L, v));
    if (!vtOf(v, &inT[i]))
      return fail(L, op, "cannot lower '%s': operand %d is not a statically shaped tensor", opName, (int)i);
  }
  bool intReshape = mpcOpKindOf(op) == MPC_OP_RESHAPE && (to.k == MPC_ELT_I32 || to.k == MPC_ELT_I64);
  if (to.k == MPC_ELT_OTHER || (!mpcEltIsFloat(to.k) && !intReshape))
    return fail(L, op, "cannot lower '%s': result type must be f16, bf16, f32 or f64", opName);

  Name r;
  if (!strcmp(opName, "arith.truncf") || !strcmp(opName, "arith.extf")) {
    if (isSkipped(L, op)) {
      Name n = keep(fresh(L));
      L->throughs = mpcGrowArray(L->throughs, &L->capThroughs, L->numThroughs + 1, sizeof *L->throughs);
      L->throughs[L->numThroughs++] = (struct Through){n, in[0], inT[0], to.k};
      bindResult(L, result, n.s);
      return true;
    }
    r = lowerElementwise(L, "cast", op, 1, in, inT, &to);
  } else if (strncmp(opName, "mpc.", 4)) {
    return fail(L, op, "cannot lower '%s': only mpc ops, arith.constant and arith.extf/truncf casts are supported", opName);
  } else {
    const char *name = opName + 4;
    MpcOpKind kind = mpcOpKindOf(op);
    VT keepType = {to.s, inT[0].k}; /* reshape and slice keep the element type, then convert */
    switch (kind < MPC_OP_COUNT ? lowerRules[kind].kind : LOWER_NONE) {
    case LOWER_ELEMENTWISE:
      r = kind == MPC_OP_RELU && isSkipped(L, op) ? in[0] /* the epilogue of the matrix op before it */
                                                  : lowerElementwise(L, name, op, (int)numIn, in, inT, &to);
      break;
    case LOWER_WHERE: r = lowerElementwise(L, "where", op, 3, in, inT, &to); break;
    case LOWER_BROADCAST_TO: r = lowerElementwise(L, "copy", op, 1, in, inT, &to); break;
    case LOWER_TRANSPOSE: r = lowerTranspose(L, op, in[0], &inT[0], &to); break;
    case LOWER_RESHAPE: r = convertTensor(L, lowerReshape(L, in[0], &inT[0], &keepType), &keepType, to.k); break;
    case LOWER_SLICE: r = convertTensor(L, lowerSlice(L, op, in[0], &inT[0], &keepType), &keepType, to.k); break;
    case LOWER_CONCAT: r = lowerConcat(L, op, &to); break;
    case LOWER_SOFTMAX:
      r = lowerSoftmax(L, kind == MPC_OP_LOG_SOFTMAX, mpcOpIntAttr(op, "axis"), in[0], &inT[0], &to);
      break;
    case LOWER_LAYER_NORM: r = lowerLayerNorm(L, op, in, inT, &to); break;
    case LOWER_REDUCE: r = lowerReduce(L, op, name, in[0], &inT[0], &to); break;
    case LOWER_CROSS_ENTROPY: r = lowerCrossEntropy(L, op, in, inT, &to); break;
    case LOWER_MSE: r = lowerMse(L, op, in, inT, &to); break;
    case LOWER_EMBEDDING: r = lowerEmbedding(L, in, inT, &to); break;
    case LOWER_MATMUL: r = lowerMatmul(L, op, kind == MPC_OP_LINEAR, &to); break;
    case LOWER_CONV2D: r = lowerConv2d(L, op, &to); break;
    case LOWER_POOL: r = lowerPool(L, op, kind == MPC_OP_MAX_POOL2D, in[0], &inT[0], &to); break;
    case LOWER_SCATTER_ADD: r = lowerScatterAdd(L, op, in, inT, &to); break;
    case LOWER_CROSS_ENTROPY_GRAD: r = lowerCrossEntropyGrad(L, op, in, inT, &to); break;
    case LOWER_GATHER: r = lowerGather(L, op, in, inT, &to); break;
    case LOWER_CONV2D_GRAD: r = lowerConv2dGrad(L, op, kind == MPC_OP_CONV2D_GRAD_INPUT, in, inT, &to); break;
    case LOWER_POOL_GRAD: r = lowerPoolGrad(L, op, kind == MPC_OP_MAX_POOL2D_GRAD, in, inT, &to); break;
    case LOWER_EMBEDDING_GRAD: r = lowerEmbeddingGrad(L, in, inT, &to); break;
    default: return fail(L, op, "cannot lower '%s': no lowering for this op", opName);
    }
  }
  bindResult(L, result, r.s);
  return true;
}

static bool lowerFunc(Lower *L, MlirOperation func) {
  MlirAttribute sym = mlirOperationGetAttributeByName(func, mlirStringRefCreateFromCString("sym_name"));
  MlirStringRef name = mlirStringAttrGetValue(sym);
  MlirBlock block = mpcFuncEntryBlock(func);
  if (mlirBlockIsNull(block))
    return fail(L, func, "cannot lower a function without a body");
  /* MLIR accepts a body that ends in an unregistered op (it might be a
   * terminator); a model function must end in func.return. */
  MlirOperation last = mlirBlockGetTerminator(block);
  if (mlirOperationIsNull(last) || !mpcOpIsNamed(last, "func.return"))
    return fail(L, func, "cannot lower a function whose body does not end with func.return");
  MlirAttribute argAttrs = mlirOperationGetAttributeByName(func, mlirStringRefCreateFromCString("arg_attrs"));
  emit(L, "  func.func @%.*s(", (int)name.length, name.data);
  intptr_t numArgs = mlirBlockGetNumArguments(block);
  for (intptr_t i = 0; i < numArgs; ++i) {
    MlirValue arg = mlirBlockGetArgument(block, i);
    VT t;
    if (!vtOf(arg, &t))
      return fail(L, func, "cannot lower argument %d: not a statically shaped tensor", (int)i);
    bindName(L, arg, -1, (int)i);
    emit(L, "%s%%arg%d: %s", i ? ", " : "", (int)i, tt(&t));
    if (!mlirAttributeIsNull(argAttrs) && mlirAttributeIsAArray(argAttrs) &&
        i < mlirArrayAttrGetNumElements(argAttrs)) {
      MlirAttribute d = mlirArrayAttrGetElement(argAttrs, i);
      if (mlirAttributeIsADictionary(d) && mlirDictionaryAttrGetNumElements(d) > 0) {
        MpcStr s = {0};
        mlirAttributePrint(d, mpcStrPrinter, &s);
        emit(L, " %.*s", (int)s.length, s.data);
        mpcStrFree(&s);
      }
    }
  }
  emit(L, ")");
  MlirType ftype =
      mlirTypeAttrGetValue(mlirOperationGetAttributeByName(func, mlirStringRefCreateFromCString("function_type")));
  intptr_t numResults = mlirFunctionTypeGetNumResults(ftype);
  if (numResults) {
    emit(L, " -> (");
    for (intptr_t i = 0; i < numResults; ++i) {
      MpcStr s = {0};
      mlirTypePrint(mlirFunctionTypeGetResult(ftype, i), mpcStrPrinter, &s);
      emit(L, "%s%.*s", i ? ", " : "", (int)s.length, s.data);
      mpcStrFree(&s);
    }
    emit(L, ")");
  }
  emit(L, " attributes {llvm.emit_c_interface} {\n");
  /* Casts that fuse into matrix ops are not emitted. */
  for (MlirOperation op = mlirBlockGetFirstOperation(block); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op))
    if (castFuses(op)) {
      L->skipped = mpcGrowArray(L->skipped, &L->capSkipped, L->numSkipped + 1, sizeof *L->skipped);
      L->skipped[L->numSkipped++] = op;
    }
  for (MlirOperation op = mlirBlockGetFirstOperation(block); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op))
    if (!lowerOp(L, op))
      return false;
  emit(L, "  }\n");
  return true;
}

/* Lowers every function of `module` into `out` (a whole module's text). */
static bool lowerModuleText(MlirOperation module, MpcStr *out) {
  Lower L = {.out = out};
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  emit(&L, "module {\n");
  bool ok = true;
  for (MlirOperation op = mlirBlockGetFirstOperation(body); ok && !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (!mpcIsFunc(op)) {
      ok = fail(&L, op, "cannot lower a top-level op that is not a func.func");
      break;
    }
    ok = lowerFunc(&L, op);
  }
  if (L.helpers.length)
    mpcStrAppend(L.out, L.helpers.data, L.helpers.length);
  mpcStrFree(&L.helpers);
  for (int k = 0; k < L.numKernels; ++k)
    emit(&L, "  func.func private @%s(i64, i64, i64, i64, i64)\n", L.kernels[k]);
  emit(&L, "}\n");
  free(L.names);
  free(L.skipped);
  free(L.throughs);
  return ok && !L.failed;
}

static bool runLower(MlirOperation module, const MpcOptions *options) {
  (void)options;
  MpcStr text = {0};
  if (!lowerModuleText(module, &text)) {
    mpcStrFree(&text);
    return false;
  }
  MlirContext ctx = mlirOperationGetContext(module);
  MlirModule lowered = mlirModuleCreateParse(ctx, mlirStringRefCreate(text.data, text.length));
  if (mlirModuleIsNull(lowered)) {
    mlirEmitError(mlirOperationGetLocation(module), "internal error: the lowered module does not parse");
    if (getenv("MPC_DEBUG_LOWERING"))
      fprintf(stderr, "%.*s", (int)text.length, text.data);
    if (getenv("MPC_ABORT_ON_INTERNAL_ERROR")) /* the fuzzers: make it a finding */
      abort();
    mpcStrFree(&text);
    return false;
  }
  mpcStrFree(&text);
  /* Replace the module's ops with the lowered ones. */
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    mlirOperationDestroy(op);
    op = next;
  }
  MlirBlock from = mlirModuleGetBody(lowered);
  for (MlirOperation op = mlirBlockGetFirstOperation(from); !mlirOperationIsNull(op);) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    mlirOperationRemoveFromParent(op);
    mlirBlockAppendOwnedOperation(body, op);
    op = next;
  }
  mlirModuleDestroy(lowered);
  return true;
}

MlirPass mpcCreateLowerToLinalgPass(const MpcOptions *options) {
  return mpcPassCreate("mpc-lower-to-linalg", "builtin.module", runLower, options);
}
