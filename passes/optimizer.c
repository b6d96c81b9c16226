/*===- optimizer.c - the mpc-optimizer pass ---------------------*- C -*-===*
 *
 * Turns @forward_grad (from mpc-autodiff, and mpc-loss-scaling if the mode
 * scales) into the training step (docs/training.md):
 *
 *   func.func @train_step(inputs and params..., [%scaler {mpc.state = "scaler"}],
 *                         optimizer state {mpc.state = "optimizer.KIND.PARAM"}...,
 *                         %count: tensor<i64> {mpc.state = "optimizer.step"},
 *                         %lr: tensor<f32> {mpc.lr})
 *     -> (new params {mpc.param}..., new state {mpc.state}..., [new scaler],
 *         new count, loss {mpc.loss}, skipped: tensor<i1> {mpc.skipped},
 *         metrics {mpc.metric}...)
 *
 * One update op per parameter (mpc.sgd_update, mpc.sgd_momentum_update or
 * mpc.adamw_update) computes in f32 (f64 in 64-true) and rounds once to the
 * stored type; it leaves the parameter and its state unchanged when the
 * gradients were not all finite. The count of applied updates (Adam's bias
 * correction, the trainer's learning-rate schedule) only advances on
 * applied steps.
 *===----------------------------------------------------------------------===*/
#include "emitter.h"
#include "ir.h"

#include <mlir-c/BuiltinAttributes.h>
#include <mlir-c/Diagnostics.h>
#include <stdio.h>
#include <string.h>

/* Writes a string attribute's value (without quotes) into buf. */
static void attrString(MlirAttribute a, char *buf, size_t size) {
  MlirStringRef s = mlirStringAttrGetValue(a);
  snprintf(buf, size, "%.*s", (int)s.length, s.data);
}

typedef struct {
  MpcVal param, grad, state[2], next[2];
  char name[128];
} Slot;

static const char *stateKind(const MpcOptimizer *o, int i) {
  if (o->kind == MPC_OPT_ADAMW)
    return i == 0 ? "exp_avg" : "exp_avg_sq";
  return "momentum_buffer";
}

static int numStates(const MpcOptimizer *o) {
  return o->kind == MPC_OPT_ADAMW ? 2 : o->momentum > 0 ? 1 : 0;
}

static bool runOptimizer(MlirOperation module, const MpcOptions *options) {
  const MpcOptimizer *o = &options->optimizer;
  MlirOperation func = mpcModuleLookupFunc(module, "forward_grad");
  if (mlirOperationIsNull(func)) {
    mlirEmitError(mpcModuleErrorLocation(module), "mpc-optimizer: no @forward_grad (run mpc-autodiff first)");
    return false;
  }
  if (o->kind == MPC_OPT_NONE) {
    mlirEmitError(mpcModuleErrorLocation(module), "mpc-optimizer: no optimizer chosen (--train=sgd|momentum|adamw)");
    return false;
  }
  if (!mlirOperationIsNull(mpcModuleLookupFunc(module, "train_step"))) {
    mlirEmitError(mlirOperationGetLocation(func), "mpc-optimizer: the module already has a @train_step");
    return false;
  }
  MlirBlock block = mpcFuncEntryBlock(func);
  MlirOperation ret = mlirBlockGetTerminator(block);
  intptr_t numArgs = mlirBlockGetNumArguments(block), numRes = mlirOperationGetNumOperands(ret);
  int ns = numStates(o);
  MpcEmitter e = {0};
  mpcEmitf(&e, "module {\n  func.func @train_step(");

  /* Arguments: everything but the seed, which becomes the constant 1. */
  int out = 0;
  intptr_t seedIndex = -1;
  for (intptr_t i = 0; i < numArgs; ++i) {
    if (mpcFuncArgHas(func, i, "mpc.seed"))
      seedIndex = i;
    else
      mpcEmitCopyArg(&e, func, i, out++);
  }
  /* One slot per gradient result: its parameter argument and state. */
  Slot *slots = calloc((size_t)numRes + 1, sizeof *slots);
  MPC_ASSERT(slots, "out of memory");
  int numSlots = 0;
  intptr_t finiteIndex = -1, scalerResult = -1;
  for (intptr_t r = 0; r < numRes; ++r) {
    if (!mlirAttributeIsNull(mpcFuncResultAttr(func, r, "mpc.finite")))
      finiteIndex = r;
    if (!mlirAttributeIsNull(mpcFuncResultAttr(func, r, "mpc.state")))
      scalerResult = r;
    MlirAttribute g = mpcFuncResultAttr(func, r, "mpc.grad");
    if (mlirAttributeIsNull(g))
      continue;
    Slot *s = &slots[numSlots++];
    attrString(g, s->name, sizeof s->name);
    for (intptr_t i = 0; i < numArgs; ++i) {
      MlirAttribute p = mpcFuncArgAttr(func, i, "mpc.param");
      char pn[128];
      if (mlirAttributeIsNull(p))
        continue;
      attrString(p, pn, sizeof pn);
      if (!strcmp(pn, s->name))
        mpcEmitLookup(&e, mlirBlockGetArgument(block, i), &s->param);
    }
    if (!s->param.n[0]) {
      mlirEmitError(mlirOperationGetLocation(func), "mpc-optimizer: a gradient has no parameter of its name");
      mpcEmitterFree(&e);
      free(slots);
      return false;
    }
    for (int k = 0; k < ns; ++k) {
      s->state[k] = s->param;
      snprintf(s->state[k].n, sizeof s->state[k].n, "%%arg%d", out);
      mpcEmitf(&e, "%s%s: %s {mpc.state = \"optimizer.%s.%s\"}", out ? ", " : "", s->state[k].n,
               mpcValType(&s->param), stateKind(o, k), s->name);
      out++;
    }
  }
  MpcShape scalarShape = {0};
  MpcVal count = {.s = scalarShape, .k = MPC_ELT_I64}, lr = {.s = scalarShape, .k = MPC_ELT_F32};
  snprintf(count.n, sizeof count.n, "%%arg%d", out++);
  snprintf(lr.n, sizeof lr.n, "%%arg%d", out++);
  mpcEmitf(&e, "%s%s: tensor<i64> {mpc.state = \"optimizer.step\"}, %s: tensor<f32> {mpc.lr}) -> (",
           out > 2 ? ", " : "", count.n, lr.n);
  /* Results. */
  MpcStr types = {0};
  for (int i = 0; i < numSlots; ++i)
    mpcStrAppendf(&types, "%s%s {mpc.param = \"%s\"}", types.length ? ", " : "", mpcValType(&slots[i].param),
                  slots[i].name);
  for (int i = 0; i < numSlots; ++i)
    for (int k = 0; k < ns; ++k)
      mpcStrAppendf(&types, ", %s {mpc.state = \"optimizer.%s.%s\"}", mpcValType(&slots[i].param), stateKind(o, k),
                    slots[i].name);
  if (scalerResult >= 0)
    mpcStrAppendf(&types, "%stensor<2xf32> {mpc.state = \"scaler\"}", types.length ? ", " : "");
  MpcVal loss;
  mpcValOf(mlirOperationGetOperand(ret, 0), &loss);
  mpcStrAppendf(&types, "%stensor<i64> {mpc.state = \"optimizer.step\"}, %s {mpc.loss}, tensor<i1> {mpc.skipped}",
                types.length ? ", " : "", mpcValType(&loss));
  int numMetrics = 0;
  for (intptr_t r = 1; r < numRes; ++r) {
    if (r == finiteIndex || r == scalerResult || !mlirAttributeIsNull(mpcFuncResultAttr(func, r, "mpc.grad")))
      continue;
    MpcVal t;
    mpcValOf(mlirOperationGetOperand(ret, r), &t);
    mpcStrAppendf(&types, ", %s {mpc.metric = \"result%d\"}", mpcValType(&t), ++numMetrics);
  }
  mpcEmitf(&e, "%s) {\n", types.data);
  mpcStrFree(&types);

  e.loc = mlirOperationGetLocation(func);
  e.hasLoc = true;
  if (seedIndex >= 0) {
    MpcVal st;
    mpcValOf(mlirBlockGetArgument(block, seedIndex), &st);
    MpcVal one = mpcEmitConst(&e, 1.0, &st.s, st.k);
    mpcEmitBind(&e, mlirBlockGetArgument(block, seedIndex), &one);
  }
  bool ok = true;
  for (MlirOperation op = mlirBlockGetFirstOperation(block); ok && !mlirOperationEqual(op, ret);
       op = mlirOperationGetNextInBlock(op))
    ok = mpcEmitCopyOp(&e, op);
  if (ok) {
    MpcVal *res = calloc((size_t)numRes + 1, sizeof *res);
    MPC_ASSERT(res, "out of memory");
    for (intptr_t r = 0; r < numRes; ++r)
      mpcEmitLookup(&e, mlirOperationGetOperand(ret, r), &res[r]);
    int g = 0;
    for (intptr_t r = 0; r < numRes; ++r)
      if (!mlirAttributeIsNull(mpcFuncResultAttr(func, r, "mpc.grad")))
        slots[g++].grad = res[r];
    MpcVal finite;
    if (finiteIndex >= 0) {
      finite = res[finiteIndex];
    } else if (numSlots) {
      MpcVal *grads = calloc((size_t)numSlots, sizeof *grads);
      MPC_ASSERT(grads, "out of memory");
      for (int i = 0; i < numSlots; ++i)
        grads[i] = slots[i].grad;
      finite = mpcEmitOp(&e, "mpc.all_finite", numSlots, grads, NULL, &scalarShape, MPC_ELT_I1);
      free(grads);
    } else {
      finite = mpcEmitConst(&e, 1, &scalarShape, MPC_ELT_I1);
    }
    for (int i = 0; i < numSlots; ++i) {
      Slot *s = &slots[i];
      bool low = s->param.k == MPC_ELT_F16 || s->param.k == MPC_ELT_BF16;
      const char *rounding = o->stochasticRounding && low ? "stochastic" : "nearest";
      char attrs[400];
      MpcVal ins[7];
      int n = 0;
      ins[n++] = s->param;
      ins[n++] = s->grad;
      for (int k = 0; k < ns; ++k)
        ins[n++] = s->state[k];
      ins[n++] = lr;
      const char *opName;
      if (o->kind == MPC_OPT_ADAMW) {
        opName = "mpc.adamw_update";
        ins[n++] = count;
        snprintf(attrs, sizeof attrs,
                 "beta1 = %.17e : f64, beta2 = %.17e : f64, eps = %.17e : f64, weight_decay = %.17e : f64, "
                 "rounding = \"%s\", seed = %d : i64",
                 o->beta1, o->beta2, o->eps, o->weightDecay, rounding, i);
      } else if (ns) {
        opName = "mpc.sgd_momentum_update";
        ins[n++] = count;
        snprintf(attrs, sizeof attrs,
                 "momentum = %.17e : f64, dampening = %.17e : f64, nesterov = %s, weight_decay = %.17e : f64, "
                 "rounding = \"%s\", seed = %d : i64",
                 o->momentum, o->dampening, o->nesterov ? "true" : "false", o->weightDecay, rounding, i);
      } else {
        opName = "mpc.sgd_update";
        ins[n++] = count; /* stochastic rounding draws from the update count */
        snprintf(attrs, sizeof attrs, "weight_decay = %.17e : f64, rounding = \"%s\", seed = %d : i64",
                 o->weightDecay, rounding, i);
      }
      ins[n++] = finite;
      /* A multi-result op: written by hand. */
      MpcVal first = mpcEmitFresh(&e, &s->param.s, s->param.k);
      mpcEmitf(&e, "    %s:%d = \"%s\"(", first.n, 1 + ns, opName);
      for (int k = 0; k < n; ++k)
        mpcEmitf(&e, "%s%s", k ? ", " : "", ins[k].n);
      mpcEmitf(&e, ") {%s} : (", attrs);
      for (int k = 0; k < n; ++k)
        mpcEmitf(&e, "%s%s", k ? ", " : "", mpcValType(&ins[k]));
      mpcEmitf(&e, ") -> (");
      for (int k = 0; k <= ns; ++k)
        mpcEmitf(&e, "%s%s", k ? ", " : "", mpcValType(&s->param));
      mpcEmitf(&e, ")");
      mpcEmitLoc(&e);
      mpcEmitf(&e, "\n");
      s->param = first;
      for (int k = 0; k < ns; ++k) {
        s->next[k] = first;
        snprintf(s->next[k].n, sizeof s->next[k].n, "%.24s#%d", first.n, k + 1);
      }
      snprintf(s->param.n, sizeof s->param.n, "%.24s#0", first.n);
    }
    MpcVal cu[2] = {count, finite};
    MpcVal newCount = mpcEmitOp(&e, "mpc.count_update", 2, cu, NULL, &scalarShape, MPC_ELT_I64);
    MpcVal yes = mpcEmitConst(&e, 1, &scalarShape, MPC_ELT_I1);
    MpcVal skipped = mpcEmitFresh(&e, &scalarShape, MPC_ELT_I1);
    mpcEmitf(&e, "    %s = arith.xori %s, %s : tensor<i1>\n", skipped.n, finite.n, yes.n);
    /* return */
    MpcStr names = {0}, rtypes = {0};
    for (int i = 0; i < numSlots; ++i) {
      mpcStrAppendf(&names, "%s%s", names.length ? ", " : "", slots[i].param.n);
      mpcStrAppendf(&rtypes, "%s%s", rtypes.length ? ", " : "", mpcValType(&slots[i].param));
    }
    for (int i = 0; i < numSlots; ++i)
      for (int k = 0; k < ns; ++k) {
        mpcStrAppendf(&names, ", %s", slots[i].next[k].n);
        mpcStrAppendf(&rtypes, ", %s", mpcValType(&slots[i].next[k]));
      }
    if (scalerResult >= 0) {
      mpcStrAppendf(&names, "%s%s", names.length ? ", " : "", res[scalerResult].n);
      mpcStrAppendf(&rtypes, "%stensor<2xf32>", rtypes.length ? ", " : "");
    }
    mpcStrAppendf(&names, "%s%s, %s, %s", names.length ? ", " : "", newCount.n, res[0].n, skipped.n);
    mpcStrAppendf(&rtypes, "%stensor<i64>, %s, tensor<i1>", rtypes.length ? ", " : "", mpcValType(&loss));
    for (intptr_t r = 1; r < numRes; ++r) {
      if (r == finiteIndex || r == scalerResult || !mlirAttributeIsNull(mpcFuncResultAttr(func, r, "mpc.grad")))
        continue;
      mpcStrAppendf(&names, ", %s", res[r].n);
      mpcStrAppendf(&rtypes, ", %s", mpcValType(&res[r]));
    }
    mpcEmitf(&e, "    return %s : %s\n  }", names.data, rtypes.data);
    mpcStrFree(&names);
    mpcStrFree(&rtypes);
    mpcEmitLoc(&e);
    mpcEmitf(&e, "\n}\n");
    free(res);
    ok = mpcEmitParseInto(module, e.out.data, func, "mpc-optimizer");
    if (ok)
      mlirOperationDestroy(func);
  }
  free(slots);
  mpcEmitterFree(&e);
  return ok;
}

MlirPass mpcCreateOptimizerPass(const MpcOptions *options) {
  return mpcPassCreate("mpc-optimizer", "builtin.module", runOptimizer, options);
}
