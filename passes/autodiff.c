/*===- autodiff.c - the mpc-autodiff pass -----------------------*- C -*-===*
 *
 * Reverse-mode differentiation of the model function. From
 *
 *   func.func @forward(inputs and params...) -> (loss, metrics...)
 *
 * it builds, after @forward,
 *
 *   func.func @forward_grad(inputs and params..., %dloss {mpc.seed})
 *       -> (loss, metrics..., d(loss)/d(param) {mpc.grad = NAME} ...)
 *
 * whose body is @forward's ops followed by their vector-Jacobian products
 * in reverse order, %dloss being the gradient of the loss (1, or the loss
 * scale once mpc-loss-scaling has run). Only values that depend on a
 * parameter get gradients. The gradient of a value has the value's type, so
 * backward ops run in the type their forward op was given, as autocast's
 * backward does: the gradient of an arith.truncf is an arith.extf and the
 * other way round, and each backward op carries mpc.precision when its
 * forward op does. Parameters'
 * gradients arrive in the parameters' type (f32 master weights in mixed
 * modes). docs/passes.md lists the rule of every op.
 *===----------------------------------------------------------------------===*/
#include "emitter.h"
#include "ir.h"

#include <math.h>
#include <mlir-c/BuiltinAttributes.h>
#include <mlir-c/Diagnostics.h>
#include <mlir-c/BuiltinTypes.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const void *ptr;
  MpcVal g;
} Adjoint;

typedef struct {
  MpcEmitter e;
  Adjoint *adj;
  size_t numAdj, capAdj;
  const void **active;
  size_t numActive, capActive;
  bool tag; /* the forward op being differentiated carries mpc.precision */
  bool failed;
} AD;

static bool isActive(const AD *a, MlirValue v) {
  for (size_t i = 0; i < a->numActive; ++i)
    if (a->active[i] == v.ptr)
      return true;
  return false;
}

static void markActive(AD *a, MlirValue v) {
  a->active = mpcGrowArray(a->active, &a->capActive, a->numActive + 1, sizeof *a->active);
  a->active[a->numActive++] = v.ptr;
}

static Adjoint *findAdj(AD *a, MlirValue v) {
  for (size_t i = 0; i < a->numAdj; ++i)
    if (a->adj[i].ptr == v.ptr)
      return &a->adj[i];
  return NULL;
}

static bool failAt(AD *a, MlirOperation op, const char *fmt, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, fmt, what);
  mlirEmitError(mlirOperationGetLocation(op), msg);
  a->failed = true;
  return false;
}

/*----------------------------------------------------------------------------
 * Building blocks: each creates one op in the new function
 *--------------------------------------------------------------------------*/

static MpcEltKind wider(MpcEltKind x, MpcEltKind y) {
  if (x == y)
    return x;
  if (x == MPC_ELT_F64 || y == MPC_ELT_F64)
    return MPC_ELT_F64;
  return MPC_ELT_F32; /* f32 with anything, or f16 with bf16 */
}

/* Backward ops carry mpc.precision (the type they compute in) when their
 * forward op does: after the precision passes they are pinned like it; on
 * IR the precision passes have not seen, they are left for them to decide. */
static MpcVal mk(AD *a, const char *name, int n, const MpcVal *ins, const char *attrs, const MpcShape *s,
                 MpcEltKind k) {
  a->e.precision = a->tag ? mpcEltPrecision(k) : NULL;
  return mpcEmitOp(&a->e, name, n, ins, attrs, s, k);
}

static MpcVal un(AD *a, const char *name, MpcVal x) { return mk(a, name, 1, &x, NULL, &x.s, x.k); }

static MpcVal bin(AD *a, const char *name, MpcVal x, MpcVal y) {
  MpcShape s;
  int bad;
  mpcShapeBroadcast(&x.s, &y.s, &s, &bad);
  MpcVal ins[2] = {x, y};
  return mk(a, name, 2, ins, NULL, &s, wider(x.k, y.k));
}

static MpcVal scalar(AD *a, double value, MpcEltKind k) {
  MpcShape s = {0};
  return mpcEmitConst(&a->e, value, &s, k);
}

static void intsText(char *buf, size_t size, const int64_t *v, int n) {
  int off = snprintf(buf, size, "array<i64");
  for (int i = 0; i < n; ++i)
    off += snprintf(buf + off, size - (size_t)off, "%s%lld", i ? ", " : ": ", (long long)v[i]);
  snprintf(buf + off, size - (size_t)off, ">");
}

static MpcVal cast(AD *a, MpcVal x, MpcEltKind k) {
  if (x.k == k)
    return x;
  if ((x.k == MPC_ELT_F16 && k == MPC_ELT_BF16) || (x.k == MPC_ELT_BF16 && k == MPC_ELT_F16))
    x = cast(a, x, MPC_ELT_F32);
  int wx = x.k == MPC_ELT_F64 ? 64 : x.k == MPC_ELT_F32 ? 32 : 16, wk = k == MPC_ELT_F64 ? 64 : k == MPC_ELT_F32 ? 32 : 16;
  return mpcEmitOp(&a->e, wk > wx ? "arith.extf" : "arith.truncf", 1, &x, NULL, &x.s, k);
}

static MpcVal reshape(AD *a, MpcVal x, const MpcShape *to) {
  if (mpcShapeEqual(&x.s, to))
    return x;
  return mk(a, "mpc.reshape", 1, &x, NULL, to, x.k);
}

static MpcVal reduce(AD *a, const char *name, MpcVal x, const bool *axes, bool keepdim) {
  int64_t list[MPC_MAX_RANK];
  int n = 0;
  MpcShape s = {0};
  for (int i = 0; i < x.s.rank; ++i) {
    if (axes[i])
      list[n++] = i;
    if (!axes[i] || keepdim)
      s.dims[s.rank++] = axes[i] ? 1 : x.s.dims[i];
  }
  if (!n)
    return x;
  char attrs[256], l[160];
  intsText(l, sizeof l, list, n);
  snprintf(attrs, sizeof attrs, "axes = %s, keepdim = %s", l, keepdim ? "true" : "false");
  return mk(a, name, 1, &x, attrs, &s, x.k);
}

static MpcVal transpose(AD *a, MpcVal x, const int64_t *perm) {
  MpcShape s = {x.s.rank, {0}};
  for (int i = 0; i < x.s.rank; ++i)
    s.dims[i] = x.s.dims[perm[i]];
  char attrs[200], l[160];
  intsText(l, sizeof l, perm, x.s.rank);
  snprintf(attrs, sizeof attrs, "perm = %s", l);
  return mk(a, "mpc.transpose", 1, &x, attrs, &s, x.k);
}

/* Swaps the last two dims. */
static MpcVal transposeLast(AD *a, MpcVal x) {
  int64_t perm[MPC_MAX_RANK];
  for (int i = 0; i < x.s.rank; ++i)
    perm[i] = i;
  perm[x.s.rank - 2] = x.s.rank - 1;
  perm[x.s.rank - 1] = x.s.rank - 2;
  return transpose(a, x, perm);
}

static MpcVal broadcastTo(AD *a, MpcVal x, const MpcShape *to) {
  if (mpcShapeEqual(&x.s, to))
    return x;
  return mk(a, "mpc.broadcast_to", 1, &x, NULL, to, x.k);
}

/* Sums a broadcast result's gradient back to an operand's shape. */
static MpcVal unbroadcast(AD *a, MpcVal g, const MpcShape *to) {
  if (mpcShapeEqual(&g.s, to))
    return g;
  bool axes[MPC_MAX_RANK] = {0};
  int lead = g.s.rank - to->rank;
  for (int i = 0; i < g.s.rank; ++i)
    axes[i] = i < lead || (to->dims[i - lead] == 1 && g.s.dims[i] != 1);
  return reshape(a, reduce(a, "mpc.reduce_sum", g, axes, true), to);
}

/*----------------------------------------------------------------------------
 * Adjoints
 *--------------------------------------------------------------------------*/

/* Adds `g` to the gradient of v, summing it to v's shape and converting it
 * to v's type first. */
static void give(AD *a, MlirValue v, MpcVal g) {
  MpcVal t;
  mpcValOf(v, &t);
  g = cast(a, unbroadcast(a, g, &t.s), t.k);
  Adjoint *old = findAdj(a, v);
  if (old) {
    old->g = bin(a, "mpc.add", old->g, g);
    return;
  }
  a->adj = mpcGrowArray(a->adj, &a->capAdj, a->numAdj + 1, sizeof *a->adj);
  a->adj[a->numAdj++] = (Adjoint){v.ptr, g};
}

static MpcVal F(AD *a, MlirOperation op, int i) {
  MpcVal v;
  mpcEmitLookup(&a->e, mlirOperationGetOperand(op, i), &v);
  return v;
}

static MpcVal R(AD *a, MlirOperation op) {
  MpcVal v;
  mpcEmitLookup(&a->e, mlirOperationGetResult(op, 0), &v);
  return v;
}

static bool act(AD *a, MlirOperation op, int i) {
  return i < mlirOperationGetNumOperands(op) && isActive(a, mlirOperationGetOperand(op, i));
}

static void giveTo(AD *a, MlirOperation op, int i, MpcVal g) { give(a, mlirOperationGetOperand(op, i), g); }

/* "name = value, ..." for the listed attributes of op. */
static void copyAttrs(MlirOperation op, const char *const *names, int n, char *buf, size_t size) {
  int off = 0;
  buf[0] = '\0';
  for (int i = 0; i < n; ++i) {
    MlirAttribute at = mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString(names[i]));
    if (mlirAttributeIsNull(at))
      continue;
    char *text = mpcAttrText(at);
    off += snprintf(buf + off, size - (size_t)off, "%s%s = %s", off ? ", " : "", names[i], text);
    free(text);
  }
}

/*----------------------------------------------------------------------------
 * The vector-Jacobian product of each op
 *--------------------------------------------------------------------------*/

static void vjpLinear(AD *a, MlirOperation op, MpcVal dy) {
  MpcVal x = F(a, op, 0), w = F(a, op, 1);
  int64_t K = x.s.dims[x.s.rank - 1], N = w.s.dims[0];
  int64_t M = mpcShapeNumElements(&x.s) / (K ? K : 1);
  if (act(a, op, 0)) { /* dx = dy w, a plain product of [M, N] and [N, K] */
    MpcShape dy2 = {2, {M, N}}, dx2 = {2, {M, K}};
    MpcVal ins[2] = {reshape(a, dy, &dy2), w};
    giveTo(a, op, 0, reshape(a, mk(a, "mpc.matmul", 2, ins, NULL, &dx2, dy.k), &x.s));
  }
  if (act(a, op, 1)) { /* dw = dy^T x over all leading dims */
    MpcShape dy2 = {2, {M, N}}, x2 = {2, {M, K}};
    MpcVal ins[2] = {transposeLast(a, reshape(a, dy, &dy2)), reshape(a, x, &x2)};
    MpcShape ws = {2, {N, K}};
    giveTo(a, op, 1, mk(a, "mpc.matmul", 2, ins, NULL, &ws, dy.k));
  }
  if (act(a, op, 2)) {
    bool axes[MPC_MAX_RANK] = {0};
    for (int i = 0; i + 1 < dy.s.rank; ++i)
      axes[i] = true;
    giveTo(a, op, 2, reduce(a, "mpc.reduce_sum", dy, axes, false));
  }
}

static void vjpMatmul(AD *a, MlirOperation op, MpcVal dy) {
  MpcVal x = F(a, op, 0), w = F(a, op, 1);
  if (act(a, op, 0)) {
    MpcVal ins[2] = {dy, transposeLast(a, w)};
    giveTo(a, op, 0, mk(a, "mpc.matmul", 2, ins, NULL, &x.s, dy.k));
  }
  if (act(a, op, 1)) {
    MpcVal ins[2] = {transposeLast(a, x), dy};
    giveTo(a, op, 1, mk(a, "mpc.matmul", 2, ins, NULL, &w.s, dy.k));
  }
}

static void vjpConv2d(AD *a, MlirOperation op, MpcVal dy) {
  static const char *const names[] = {"strides", "padding", "dilations", "groups"};
  char attrs[512];
  copyAttrs(op, names, 4, attrs, sizeof attrs);
  MpcVal x = F(a, op, 0), w = F(a, op, 1);
  if (act(a, op, 0)) {
    MpcVal ins[2] = {dy, w};
    giveTo(a, op, 0, mk(a, "mpc.conv2d_grad_input", 2, ins, attrs, &x.s, dy.k));
  }
  if (act(a, op, 1)) {
    MpcVal ins[2] = {dy, x};
    giveTo(a, op, 1, mk(a, "mpc.conv2d_grad_weight", 2, ins, attrs, &w.s, dy.k));
  }
  if (act(a, op, 2)) {
    bool axes[MPC_MAX_RANK] = {true, false, true, true};
    giveTo(a, op, 2, reduce(a, "mpc.reduce_sum", dy, axes, false));
  }
}

static void vjpUnaryGrad(AD *a, MlirOperation op, MpcVal dy, const char *fn) {
  if (!act(a, op, 0))
    return;
  /* relu's gradient reads relu's result (positive exactly where x is), so
   * the forward matrix op keeps ReLU as its epilogue. */
  MpcVal x = strcmp(fn, "relu") ? F(a, op, 0) : R(a, op);
  char attrs[64];
  snprintf(attrs, sizeof attrs, "fn = \"%s\"", fn);
  MpcVal ins[2] = {dy, cast(a, x, dy.k)};
  giveTo(a, op, 0, mk(a, "mpc.unary_grad", 2, ins, attrs, &dy.s, dy.k));
}

static void vjpPow(AD *a, MlirOperation op, MpcVal dy) {
  MpcVal x = F(a, op, 0), y = F(a, op, 1), z = R(a, op);
  if (act(a, op, 0)) { /* dy * y * x^(y-1) */
    MpcVal ym1 = bin(a, "mpc.sub", y, scalar(a, 1.0, y.k));
    giveTo(a, op, 0, bin(a, "mpc.mul", bin(a, "mpc.mul", dy, y), bin(a, "mpc.pow", x, ym1)));
  }
  if (act(a, op, 1)) /* dy * x^y * log(x) */
    giveTo(a, op, 1, bin(a, "mpc.mul", bin(a, "mpc.mul", dy, z), un(a, "mpc.log", x)));
}

static void lastAxis(bool *axes, int rank, int64_t axis) {
  memset(axes, 0, sizeof(bool) * MPC_MAX_RANK);
  axes[axis < 0 ? rank - 1 : axis] = true;
}

static void vjpSoftmax(AD *a, MlirOperation op, MpcVal dy, bool logSoftmax) {
  if (!act(a, op, 0))
    return;
  MpcVal y = R(a, op);
  bool axes[MPC_MAX_RANK];
  lastAxis(axes, y.s.rank, mpcOpIntAttr(op, "axis"));
  if (logSoftmax) { /* dy - exp(y) sum(dy) */
    MpcVal s = reduce(a, "mpc.reduce_sum", dy, axes, true);
    giveTo(a, op, 0, bin(a, "mpc.sub", dy, bin(a, "mpc.mul", un(a, "mpc.exp", y), s)));
  } else { /* y (dy - sum(dy y)) */
    MpcVal s = reduce(a, "mpc.reduce_sum", bin(a, "mpc.mul", dy, y), axes, true);
    giveTo(a, op, 0, bin(a, "mpc.mul", y, bin(a, "mpc.sub", dy, s)));
  }
}

static void vjpLayerNorm(AD *a, MlirOperation op, MpcVal dy) {
  MpcVal x = F(a, op, 0), gamma = F(a, op, 1);
  int r = x.s.rank;
  bool last[MPC_MAX_RANK], lead[MPC_MAX_RANK] = {0};
  lastAxis(last, r, r - 1);
  for (int i = 0; i + 1 < r; ++i)
    lead[i] = true;
  double eps = mpcOpF64Attr(op, "eps");
  /* Recompute the normalised input: xhat = (x - mean) rstd. */
  MpcVal xc = bin(a, "mpc.sub", x, reduce(a, "mpc.reduce_mean", x, last, true));
  MpcVal var = reduce(a, "mpc.reduce_mean", bin(a, "mpc.mul", xc, xc), last, true);
  MpcVal rstd = un(a, "mpc.rsqrt", bin(a, "mpc.add", var, scalar(a, eps, var.k)));
  MpcVal xhat = bin(a, "mpc.mul", xc, rstd);
  if (act(a, op, 1))
    giveTo(a, op, 1, reduce(a, "mpc.reduce_sum", bin(a, "mpc.mul", dy, xhat), lead, false));
  if (act(a, op, 2))
    giveTo(a, op, 2, reduce(a, "mpc.reduce_sum", dy, lead, false));
  if (act(a, op, 0)) { /* rstd (g - mean(g) - xhat mean(g xhat)), g = dy gamma */
    MpcVal g = bin(a, "mpc.mul", dy, gamma);
    MpcVal m1 = reduce(a, "mpc.reduce_mean", g, last, true);
    MpcVal m2 = reduce(a, "mpc.reduce_mean", bin(a, "mpc.mul", g, xhat), last, true);
    MpcVal inner = bin(a, "mpc.sub", bin(a, "mpc.sub", g, m1), bin(a, "mpc.mul", xhat, m2));
    giveTo(a, op, 0, bin(a, "mpc.mul", rstd, inner));
  }
}

/* The reduced axes of a reduce op and dy reshaped to keepdim form. */
static MpcVal keptGrad(AD *a, MlirOperation op, MpcVal dy, MpcVal x, bool *axes) {
  int64_t list[MPC_MAX_RANK];
  int n = (int)mpcOpIntsAttr(op, "axes", list, MPC_MAX_RANK);
  memset(axes, 0, sizeof(bool) * MPC_MAX_RANK);
  for (int i = 0; i < n; ++i)
    if (list[i] >= 0 && list[i] < x.s.rank)
      axes[list[i]] = true;
  MpcShape kept = x.s;
  for (int i = 0; i < x.s.rank; ++i)
    if (axes[i])
      kept.dims[i] = 1;
  return reshape(a, dy, &kept);
}

static void vjpReduce(AD *a, MlirOperation op, MpcVal dy, MpcOpKind kind) {
  if (!act(a, op, 0))
    return;
  MpcVal x = F(a, op, 0);
  bool axes[MPC_MAX_RANK];
  MpcVal dk = keptGrad(a, op, dy, x, axes);
  if (kind == MPC_OP_REDUCE_MAX) { /* as torch.amax: split evenly among tied maxima */
    MpcVal yk = cast(a, keptGrad(a, op, R(a, op), x, axes), dk.k), xk = cast(a, x, dk.k);
    MpcVal ones[3] = {scalar(a, 1.0, dk.k), xk, yk};
    MpcVal hits = reduce(a, "mpc.reduce_sum", mk(a, "mpc.reduce_max_grad", 3, ones, NULL, &x.s, dk.k), axes, true);
    MpcVal ins[3] = {bin(a, "mpc.div", dk, hits), xk, yk};
    giveTo(a, op, 0, mk(a, "mpc.reduce_max_grad", 3, ins, NULL, &x.s, dk.k));
    return;
  }
  if (kind == MPC_OP_REDUCE_MEAN) {
    int64_t count = 1;
    for (int i = 0; i < x.s.rank; ++i)
      if (axes[i])
        count *= x.s.dims[i];
    dk = bin(a, "mpc.mul", dk, scalar(a, 1.0 / (double)count, dk.k));
  }
  giveTo(a, op, 0, broadcastTo(a, dk, &x.s));
}

static void vjpCrossEntropy(AD *a, MlirOperation op, MpcVal dy) {
  if (!act(a, op, 0))
    return;
  MpcVal logits = F(a, op, 0), labels = F(a, op, 1);
  char attrs[64];
  static const char *const names[] = {"reduction"};
  copyAttrs(op, names, 1, attrs, sizeof attrs);
  MpcVal ins[3] = {dy, cast(a, logits, dy.k), labels};
  giveTo(a, op, 0, mk(a, "mpc.cross_entropy_grad", 3, ins, attrs, &logits.s, dy.k));
}

static void vjpMse(AD *a, MlirOperation op, MpcVal dy) {
  MpcVal p = F(a, op, 0), t = F(a, op, 1);
  double scale = 2.0 / (mpcOpStrAttrIs(op, "reduction", "sum") ? 1.0 : (double)mpcShapeNumElements(&p.s));
  MpcVal d = bin(a, "mpc.sub", p, t);
  MpcVal dp = bin(a, "mpc.mul", d, bin(a, "mpc.mul", dy, scalar(a, scale, dy.k)));
  if (act(a, op, 0))
    giveTo(a, op, 0, dp);
  if (act(a, op, 1))
    giveTo(a, op, 1, un(a, "mpc.neg", dp));
}

static void vjpConcat(AD *a, MlirOperation op, MpcVal dy) {
  int64_t axis = mpcOpIntAttr(op, "axis"), offset = 0;
  for (intptr_t i = 0, n = mlirOperationGetNumOperands(op); i < n; ++i) {
    MpcVal x = F(a, op, (int)i);
    if (act(a, op, (int)i)) {
      int64_t starts[MPC_MAX_RANK] = {0};
      starts[axis] = offset;
      char s1[160], s2[160], attrs[360];
      intsText(s1, sizeof s1, starts, x.s.rank);
      intsText(s2, sizeof s2, x.s.dims, x.s.rank);
      snprintf(attrs, sizeof attrs, "sizes = %s, starts = %s", s2, s1);
      MpcVal piece = mk(a, "mpc.slice", 1, &dy, attrs, &x.s, dy.k);
      giveTo(a, op, (int)i, piece);
    }
    offset += x.s.dims[axis];
  }
}

/* The gradient of a slice: dy padded with zeros back to x's shape, one
 * concat per sliced axis. */
static void vjpSlice(AD *a, MlirOperation op, MpcVal dy) {
  if (!act(a, op, 0))
    return;
  MpcVal x = F(a, op, 0), cur = dy;
  int64_t starts[MPC_MAX_RANK] = {0};
  mpcOpIntsAttr(op, "starts", starts, MPC_MAX_RANK);
  for (int d = 0; d < x.s.rank; ++d) {
    int64_t before = starts[d], after = x.s.dims[d] - starts[d] - cur.s.dims[d];
    if (!before && !after)
      continue;
    MpcVal parts[3];
    int n = 0;
    MpcShape s = cur.s;
    if (before) {
      s.dims[d] = before;
      parts[n++] = mpcEmitConst(&a->e, 0.0, &s, cur.k);
    }
    parts[n++] = cur;
    if (after) {
      s.dims[d] = after;
      parts[n++] = mpcEmitConst(&a->e, 0.0, &s, cur.k);
    }
    MpcShape out = cur.s;
    out.dims[d] = x.s.dims[d];
    char attrs[32];
    snprintf(attrs, sizeof attrs, "axis = %d : i64", d);
    cur = mk(a, "mpc.concat", n, parts, attrs, &out, cur.k);
  }
  giveTo(a, op, 0, cur);
}

static void vjpWhere(AD *a, MlirOperation op, MpcVal dy) {
  MpcVal cond = F(a, op, 0);
  MpcVal zero = scalar(a, 0.0, dy.k);
  for (int i = 1; i <= 2; ++i)
    if (act(a, op, i)) {
      MpcVal ins[3] = {cond, i == 1 ? dy : zero, i == 1 ? zero : dy};
      giveTo(a, op, i, mk(a, "mpc.where", 3, ins, NULL, &dy.s, dy.k));
    }
}

static void vjpPool(AD *a, MlirOperation op, MpcVal dy, bool isMax) {
  if (!act(a, op, 0))
    return;
  static const char *const names[] = {"kernel", "strides", "padding"};
  char attrs[400];
  copyAttrs(op, names, 3, attrs, sizeof attrs);
  MpcVal x = F(a, op, 0);
  MpcVal ins[2] = {dy, cast(a, x, dy.k)};
  giveTo(a, op, 0, mk(a, isMax ? "mpc.max_pool2d_grad" : "mpc.avg_pool2d_grad", 2, ins, attrs, &x.s, dy.k));
}

static bool vjp(AD *a, MlirOperation op, MpcVal dy) {
  MlirStringRef full = mlirIdentifierStr(mlirOperationGetName(op));
  a->e.loc = mlirOperationGetLocation(op);
  a->e.hasLoc = true;
  a->tag = !mlirAttributeIsNull(mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("mpc.precision")));
  if (mpcIsCast(op)) { /* the gradient of a cast is the cast back */
    giveTo(a, op, 0, dy);
    return true;
  }
  MpcOpKind kind = mpcOpKindOf(op);
  MpcVal x = mlirOperationGetNumOperands(op) ? F(a, op, 0) : dy;
  switch (kind) {
  case MPC_OP_LINEAR: vjpLinear(a, op, dy); break;
  case MPC_OP_MATMUL: vjpMatmul(a, op, dy); break;
  case MPC_OP_CONV2D: vjpConv2d(a, op, dy); break;
  case MPC_OP_ADD:
  case MPC_OP_SUB:
    if (act(a, op, 0))
      giveTo(a, op, 0, dy);
    if (act(a, op, 1))
      giveTo(a, op, 1, kind == MPC_OP_SUB ? un(a, "mpc.neg", dy) : dy);
    break;
  case MPC_OP_MUL:
    if (act(a, op, 0))
      giveTo(a, op, 0, bin(a, "mpc.mul", dy, F(a, op, 1)));
    if (act(a, op, 1))
      giveTo(a, op, 1, bin(a, "mpc.mul", dy, x));
    break;
  case MPC_OP_DIV: {
    MpcVal q = bin(a, "mpc.div", dy, F(a, op, 1));
    if (act(a, op, 0))
      giveTo(a, op, 0, q);
    if (act(a, op, 1)) /* -dy a / b^2 = -(dy / b) y */
      giveTo(a, op, 1, un(a, "mpc.neg", bin(a, "mpc.mul", q, R(a, op))));
    break;
  }
  case MPC_OP_CONCAT: vjpConcat(a, op, dy); break;
  case MPC_OP_NEG:
    if (act(a, op, 0))
      giveTo(a, op, 0, un(a, "mpc.neg", dy));
    break;
  case MPC_OP_RELU: vjpUnaryGrad(a, op, dy, "relu"); break;
  case MPC_OP_TANH: vjpUnaryGrad(a, op, dy, "tanh"); break;
  case MPC_OP_SIGMOID: vjpUnaryGrad(a, op, dy, "sigmoid"); break;
  case MPC_OP_ERF: vjpUnaryGrad(a, op, dy, "erf"); break;
  case MPC_OP_GELU: {
    vjpUnaryGrad(a, op, dy, mpcOpStrAttrIs(op, "approximate", "tanh") ? "gelu_tanh" : "gelu");
    break;
  }
  case MPC_OP_EXP: vjpUnaryGrad(a, op, dy, "exp"); break;
  case MPC_OP_LOG: vjpUnaryGrad(a, op, dy, "log"); break;
  case MPC_OP_RSQRT: vjpUnaryGrad(a, op, dy, "rsqrt"); break;
  case MPC_OP_SQRT: vjpUnaryGrad(a, op, dy, "sqrt"); break;
  case MPC_OP_RECIPROCAL: vjpUnaryGrad(a, op, dy, "reciprocal"); break;
  case MPC_OP_POW: vjpPow(a, op, dy); break;
  case MPC_OP_SOFTMAX: vjpSoftmax(a, op, dy, false); break;
  case MPC_OP_LOG_SOFTMAX: vjpSoftmax(a, op, dy, true); break;
  case MPC_OP_LAYER_NORM: vjpLayerNorm(a, op, dy); break;
  case MPC_OP_REDUCE_SUM:
  case MPC_OP_REDUCE_MEAN:
  case MPC_OP_REDUCE_MAX: vjpReduce(a, op, dy, kind); break;
  case MPC_OP_CROSS_ENTROPY: vjpCrossEntropy(a, op, dy); break;
  case MPC_OP_MSE_LOSS: vjpMse(a, op, dy); break;
  case MPC_OP_RESHAPE:
    if (act(a, op, 0))
      giveTo(a, op, 0, reshape(a, dy, &x.s));
    break;
  case MPC_OP_TRANSPOSE:
    if (act(a, op, 0)) {
      int64_t perm[MPC_MAX_RANK], inv[MPC_MAX_RANK];
      int n = (int)mpcOpIntsAttr(op, "perm", perm, MPC_MAX_RANK);
      for (int i = 0; i < n; ++i)
        inv[perm[i]] = i;
      giveTo(a, op, 0, transpose(a, dy, inv));
    }
    break;
  case MPC_OP_BROADCAST_TO:
    if (act(a, op, 0))
      giveTo(a, op, 0, dy);
    break;
  case MPC_OP_SLICE: vjpSlice(a, op, dy); break;
  case MPC_OP_EMBEDDING:
    if (act(a, op, 0)) {
      MpcVal ins[2] = {dy, F(a, op, 1)};
      giveTo(a, op, 0, mk(a, "mpc.embedding_grad", 2, ins, NULL, &x.s, dy.k));
    }
    break;
  case MPC_OP_WHERE: vjpWhere(a, op, dy); break;
  case MPC_OP_MAX_POOL2D: vjpPool(a, op, dy, true); break;
  case MPC_OP_AVG_POOL2D: vjpPool(a, op, dy, false); break;
  case MPC_OP_SCATTER_ADD:
    if (act(a, op, 0))
      giveTo(a, op, 0, dy);
    if (act(a, op, 2)) {
      char attrs[64];
      static const char *const names[] = {"axis"};
      copyAttrs(op, names, 1, attrs, sizeof attrs);
      MpcVal idx = F(a, op, 1), upd = F(a, op, 2);
      MpcVal ins[2] = {dy, idx};
      giveTo(a, op, 2, mk(a, "mpc.gather", 2, ins, attrs, &upd.s, dy.k));
    }
    break;
  default: {
    char name[96];
    snprintf(name, sizeof name, "%.*s", (int)full.length, full.data);
    return failAt(a, op, "mpc-autodiff: cannot differentiate '%s' (docs/passes.md lists the differentiable ops)", name);
  }
  }
  return !a->failed;
}

/*----------------------------------------------------------------------------
 * Driver
 *--------------------------------------------------------------------------*/

/* The model function: @forward, else the first function with an mpc.param
 * argument. */
static MlirOperation findModel(MlirOperation module) {
  MlirOperation f = mpcModuleLookupFunc(module, "forward");
  if (!mlirOperationIsNull(f))
    return f;
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    MlirBlock b = mpcIsFunc(op) ? mpcFuncEntryBlock(op) : (MlirBlock){NULL};
    for (intptr_t i = 0; !mlirBlockIsNull(b) && i < mlirBlockGetNumArguments(b); ++i)
      if (!mlirAttributeIsNull(mpcFuncArgAttr(op, i, "mpc.param")))
        return op;
  }
  return (MlirOperation){NULL};
}

static bool buildGrad(MlirOperation module, MlirOperation func) {
  MlirBlock block = mpcFuncEntryBlock(func);
  MlirOperation ret = mlirBlockIsNull(block) ? (MlirOperation){NULL} : mlirBlockGetTerminator(block);
  if (mlirOperationIsNull(ret) || !mpcOpIsNamed(ret, "func.return") || mlirOperationGetNumOperands(ret) < 1) {
    mlirEmitError(mlirOperationGetLocation(func),
                  "mpc-autodiff: the model function must end in func.return of a loss (SPEC section 4)");
    return false;
  }
  MpcVal loss;
  if (!mpcValOf(mlirOperationGetOperand(ret, 0), &loss) || loss.s.rank != 0 || !mpcEltIsFloat(loss.k)) {
    mlirEmitError(mlirOperationGetLocation(func),
                  "mpc-autodiff: the model function's first result must be a scalar float loss (tensor<f32>)");
    return false;
  }
  if (!mlirOperationIsNull(mpcModuleLookupFunc(module, "forward_grad"))) {
    mlirEmitError(mlirOperationGetLocation(func), "mpc-autodiff: the module already has a @forward_grad");
    return false;
  }
  AD a = {0};
  MpcEmitter *e = &a.e;
  intptr_t numArgs = mlirBlockGetNumArguments(block), numRes = mlirOperationGetNumOperands(ret);
  mpcEmitf(e, "module {\n  func.func @forward_grad(");
  int numParams = 0;
  for (intptr_t i = 0; i < numArgs; ++i) {
    MlirValue arg = mlirBlockGetArgument(block, i);
    MpcVal t;
    if (!mpcValOf(arg, &t)) {
      mlirEmitError(mlirOperationGetLocation(func), "mpc-autodiff: every argument must be a ranked tensor");
      mpcEmitterFree(e);
      return false;
    }
    mpcEmitCopyArg(e, func, i, (int)i);
    if (!mlirAttributeIsNull(mpcFuncArgAttr(func, i, "mpc.param")) && mpcEltIsFloat(t.k)) {
      markActive(&a, arg);
      numParams++;
    }
  }
  MpcVal seed = loss;
  snprintf(seed.n, sizeof seed.n, "%%arg%d", (int)numArgs);
  mpcEmitf(e, "%s%s: %s {mpc.seed}) -> (", numArgs ? ", " : "", seed.n, mpcValType(&seed));
  for (intptr_t i = 0; i < numRes; ++i) {
    MpcVal t;
    mpcValOf(mlirOperationGetOperand(ret, i), &t);
    mpcEmitf(e, "%s%s", i ? ", " : "", mpcValType(&t));
  }
  for (intptr_t i = 0; i < numArgs; ++i) {
    MlirValue arg = mlirBlockGetArgument(block, i);
    if (!isActive(&a, arg))
      continue;
    MpcVal t;
    mpcValOf(arg, &t);
    char *name = mpcAttrText(mpcFuncArgAttr(func, i, "mpc.param"));
    mpcEmitf(e, ", %s {mpc.grad = %s}", mpcValType(&t), name);
    free(name);
  }
  mpcEmitf(e, ") {\n");
  if (!numParams)
    mpcEmitDiagnostic(mlirOperationGetLocation(func), MPC_DIAG_WARNING, "mpc-autodiff: the model function has no float mpc.param");

  /* Forward: copy every op; a result is active when an operand is. */
  size_t numOps = 0, cap = 0;
  MlirOperation *ops = NULL;
  for (MlirOperation op = mlirBlockGetFirstOperation(block); !mlirOperationEqual(op, ret);
       op = mlirOperationGetNextInBlock(op)) {
    ops = mpcGrowArray(ops, &cap, numOps + 1, sizeof *ops);
    ops[numOps++] = op;
    if (!mpcEmitCopyOp(e, op)) {
      a.failed = true;
      break;
    }
    bool any = false;
    for (intptr_t i = 0; i < mlirOperationGetNumOperands(op); ++i)
      any |= isActive(&a, mlirOperationGetOperand(op, i));
    for (intptr_t r = 0; any && r < mlirOperationGetNumResults(op); ++r) {
      MpcVal t;
      if (mpcValOf(mlirOperationGetResult(op, r), &t) && mpcEltIsFloat(t.k))
        markActive(&a, mlirOperationGetResult(op, r));
    }
  }

  /* Backward. */
  MlirValue lossValue = mlirOperationGetOperand(ret, 0);
  if (!a.failed && isActive(&a, lossValue))
    give(&a, lossValue, seed);
  for (size_t i = numOps; !a.failed && i-- > 0;) {
    MlirOperation op = ops[i];
    if (mlirOperationGetNumResults(op) != 1)
      continue;
    Adjoint *g = findAdj(&a, mlirOperationGetResult(op, 0));
    if (!g)
      continue;
    if (mpcOpIsNamed(op, "arith.constant"))
      continue;
    vjp(&a, op, g->g);
  }
  free(ops);

  bool ok = !a.failed;
  if (ok) {
    a.e.hasLoc = false;
    /* Parameter gradients; zeros for a parameter the loss does not use. */
    MpcStr grads = {0}, types = {0};
    for (intptr_t i = 0; i < numArgs; ++i) {
      MlirValue arg = mlirBlockGetArgument(block, i);
      if (!isActive(&a, arg))
        continue;
      Adjoint *g = findAdj(&a, arg);
      MpcVal v;
      if (g) {
        v = g->g;
      } else {
        mpcValOf(arg, &v);
        v = mpcEmitConst(e, 0.0, &v.s, v.k);
      }
      mpcStrAppendf(&grads, ", %s", v.n);
      mpcStrAppendf(&types, ", %s", mpcValType(&v));
    }
    mpcEmitf(e, "    return");
    for (intptr_t i = 0; i < numRes; ++i) {
      MpcVal v;
      mpcEmitLookup(e, mlirOperationGetOperand(ret, i), &v);
      mpcEmitf(e, "%s %s", i ? "," : "", v.n);
    }
    mpcEmitf(e, "%.*s : ", (int)grads.length, grads.data ? grads.data : "");
    for (intptr_t i = 0; i < numRes; ++i) {
      MpcVal t;
      mpcValOf(mlirOperationGetOperand(ret, i), &t);
      mpcEmitf(e, "%s%s", i ? ", " : "", mpcValType(&t));
    }
    mpcEmitf(e, "%.*s\n  }", (int)types.length, types.data ? types.data : "");
    mpcStrFree(&grads);
    mpcStrFree(&types);
    a.e.loc = mlirOperationGetLocation(func);
    a.e.hasLoc = true;
    mpcEmitLoc(e);
    mpcEmitf(e, "\n}\n");
    ok = mpcEmitParseInto(module, e->out.data, mlirOperationGetNextInBlock(func), "mpc-autodiff");
  }
  mpcEmitterFree(e);
  free(a.adj);
  free(a.active);
  return ok;
}

static bool runAutodiff(MlirOperation module, const MpcOptions *options) {
  (void)options;
  MlirOperation func = findModel(module);
  if (mlirOperationIsNull(func)) {
    mlirEmitError(mpcModuleErrorLocation(module),
                  "mpc-autodiff: no model function (@forward, or a func.func with mpc.param arguments)");
    return false;
  }
  return buildGrad(module, func);
}

MlirPass mpcCreateAutodiffPass(const MpcOptions *options) {
  return mpcPassCreate("mpc-autodiff", "builtin.module", runAutodiff, options);
}
