/*===- verify.c - the mpc-verify pass ---------------------------*- C -*-===*
 *
 * Runs the dialect verifier (lib/verify.c) as a pass, so that pipelines can
 * check the IR between stages.
 *===----------------------------------------------------------------------===*/
#include "mpc/mpc.h"

static bool runVerify(MlirOperation op, const MpcOptions *options) {
  (void)options;
  return mpcVerify(op);
}

MlirPass mpcCreateVerifyPass(const MpcOptions *options) {
  return mpcPassCreate("mpc-verify", "builtin.module", runVerify, options);
}
