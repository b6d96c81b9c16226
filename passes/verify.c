/*===- verify.c - the mpc-verify pass ---------------------------*- C -*-===*
 *
 * Runs the dialect verifier (lib/verify.c) as a pass, so that pipelines can
 * check the IR between stages.
 *===----------------------------------------------------------------------===*/
#include "mpc/mpc.h"

static bool runVerify(MlirOperation op) { return mpcVerify(op); }

MlirPass mpcCreateVerifyPass(void) {
  return mpcPassCreate("mpc-verify", "builtin.module", runVerify);
}
