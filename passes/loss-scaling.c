/*===- loss-scaling.c - the mpc-loss-scaling pass ---------------*- C -*-===*
 *
 * Loss scaling with torch.cuda.amp.GradScaler's semantics, on the
 * @forward_grad that mpc-autodiff built. With --loss-scale=dynamic (the
 * 16-mixed default) the function gains the scaler state
 *
 *   %scaler: tensor<2xf32> {mpc.state = "scaler"}   [scale, growth tracker]
 *
 * and instead of the seed argument differentiates `mpc.scale_loss(1,
 * %scaler)`: the backward pass runs on the loss times the scale, so small
 * f16 gradients do not flush to zero. Every gradient is then divided by the
 * scale (`mpc.unscale`, the reciprocal computed in f64), checked in one
 * `mpc.all_finite`, and the scale updated by `mpc.update_scale` (halved on
 * a non-finite step, doubled after `interval` finite ones, never to inf).
 * The function returns the finite flag {mpc.finite} and the new state.
 * static:VALUE uses a constant scale and no state; none (the default of
 * every other mode) leaves the function unchanged.
 *===----------------------------------------------------------------------===*/
#include "emitter.h"
#include "ir.h"

#include <mlir-c/BuiltinAttributes.h>
#include <mlir-c/Diagnostics.h>
#include <stdio.h>
#include <string.h>

static bool runLossScaling(MlirOperation module, const MpcOptions *options) {
  MpcLossScaleKind kind = mpcLossScaleResolve(&options->lossScale, options->mode);
  MlirOperation func = mpcModuleLookupFunc(module, "forward_grad");
  if (mlirOperationIsNull(func)) {
    mlirEmitError(mpcModuleErrorLocation(module), "mpc-loss-scaling: no @forward_grad (run mpc-autodiff first)");
    return false;
  }
  if (kind == MPC_SCALE_NONE)
    return true;
  MlirBlock block = mpcFuncEntryBlock(func);
  intptr_t numArgs = mlirBlockGetNumArguments(block), seedIndex = -1;
  for (intptr_t i = 0; i < numArgs; ++i)
    if (mpcFuncArgHas(func, i, "mpc.seed"))
      seedIndex = i;
  if (seedIndex < 0) {
    mlirEmitError(mlirOperationGetLocation(func),
                  "mpc-loss-scaling: @forward_grad has no {mpc.seed} argument (is its loss already scaled?)");
    return false;
  }
  MlirOperation ret = mlirBlockGetTerminator(block);
  intptr_t numRes = mlirOperationGetNumOperands(ret);
  bool dynamic = kind == MPC_SCALE_DYNAMIC;

  MpcEmitter e = {0};
  mpcEmitf(&e, "module {\n  func.func @forward_grad(");
  int out = 0;
  for (intptr_t i = 0; i < numArgs; ++i)
    if (i != seedIndex)
      mpcEmitCopyArg(&e, func, i, out++);
  MpcShape two = {1, {2}}, scalarShape = {0};
  MpcVal scaler = {.s = two, .k = MPC_ELT_F32};
  if (dynamic) {
    snprintf(scaler.n, sizeof scaler.n, "%%arg%d", out);
    mpcEmitf(&e, "%s%s: tensor<2xf32> {mpc.state = \"scaler\"}", out ? ", " : "", scaler.n);
  }
  mpcEmitf(&e, ") -> (");
  for (intptr_t i = 0; i < numRes; ++i) {
    MpcVal t;
    mpcValOf(mlirOperationGetOperand(ret, i), &t);
    MlirAttribute g = mpcFuncResultAttr(func, i, "mpc.grad");
    char *name = mlirAttributeIsNull(g) ? NULL : mpcAttrText(g);
    mpcEmitf(&e, "%s%s", i ? ", " : "", mpcValType(&t));
    if (name)
      mpcEmitf(&e, " {mpc.grad = %s}", name);
    free(name);
  }
  mpcEmitf(&e, ", tensor<i1> {mpc.finite}%s) {\n", dynamic ? ", tensor<2xf32> {mpc.state = \"scaler\"}" : "");

  e.loc = mlirOperationGetLocation(func);
  e.hasLoc = true;
  if (!dynamic) {
    scaler = mpcEmitFresh(&e, &two, MPC_ELT_F32);
    mpcEmitf(&e, "    %s = arith.constant dense<[%.17e, 0.0]> : tensor<2xf32>\n", scaler.n, options->lossScale.init);
  }
  MpcVal seedT;
  mpcValOf(mlirBlockGetArgument(block, seedIndex), &seedT);
  MpcVal ins[2] = {mpcEmitConst(&e, 1.0, &scalarShape, seedT.k), scaler};
  MpcVal seed = mpcEmitOp(&e, "mpc.scale_loss", 2, ins, NULL, &scalarShape, seedT.k);
  mpcEmitBind(&e, mlirBlockGetArgument(block, seedIndex), &seed);

  bool ok = true;
  for (MlirOperation op = mlirBlockGetFirstOperation(block); ok && !mlirOperationEqual(op, ret);
       op = mlirOperationGetNextInBlock(op))
    ok = mpcEmitCopyOp(&e, op);
  if (ok) {
    MpcVal *res = calloc((size_t)numRes + 1, sizeof *res), *grads = calloc((size_t)numRes + 1, sizeof *grads);
    MPC_ASSERT(res && grads, "out of memory");
    int numGrads = 0;
    for (intptr_t i = 0; i < numRes; ++i) {
      mpcEmitLookup(&e, mlirOperationGetOperand(ret, i), &res[i]);
      if (mlirAttributeIsNull(mpcFuncResultAttr(func, i, "mpc.grad")))
        continue;
      MpcVal u[2] = {res[i], scaler};
      res[i] = mpcEmitOp(&e, "mpc.unscale", 2, u, NULL, &res[i].s, res[i].k);
      grads[numGrads++] = res[i];
    }
    MpcVal finite;
    if (numGrads) {
      finite = mpcEmitOp(&e, "mpc.all_finite", numGrads, grads, NULL, &scalarShape, MPC_ELT_I1);
    } else {
      finite = mpcEmitConst(&e, 1, &scalarShape, MPC_ELT_I1);
    }
    MpcVal next = scaler;
    if (dynamic) {
      char attrs[160];
      snprintf(attrs, sizeof attrs, "growth = %.17e : f64, backoff = %.17e : f64, interval = %lld : i64",
               options->lossScale.growth, options->lossScale.backoff, (long long)options->lossScale.interval);
      MpcVal in2[2] = {scaler, finite};
      next = mpcEmitOp(&e, "mpc.update_scale", 2, in2, attrs, &two, MPC_ELT_F32);
    }
    e.hasLoc = false;
    mpcEmitf(&e, "    return");
    for (intptr_t i = 0; i < numRes; ++i)
      mpcEmitf(&e, "%s %s", i ? "," : "", res[i].n);
    mpcEmitf(&e, ", %s%s%s :", finite.n, dynamic ? ", " : "", dynamic ? next.n : "");
    for (intptr_t i = 0; i < numRes; ++i)
      mpcEmitf(&e, "%s %s", i ? "," : "", mpcValType(&res[i]));
    mpcEmitf(&e, ", tensor<i1>%s\n  }", dynamic ? ", tensor<2xf32>" : "");
    e.loc = mlirOperationGetLocation(func);
    e.hasLoc = true;
    mpcEmitLoc(&e);
    mpcEmitf(&e, "\n}\n");
    free(res);
    free(grads);
    ok = mpcEmitParseInto(module, e.out.data, func, "mpc-loss-scaling");
    if (ok)
      mlirOperationDestroy(func);
  }
  mpcEmitterFree(&e);
  return ok;
}

MlirPass mpcCreateLossScalingPass(const MpcOptions *options) {
  return mpcPassCreate("mpc-loss-scaling", "builtin.module", runLossScaling, options);
}
