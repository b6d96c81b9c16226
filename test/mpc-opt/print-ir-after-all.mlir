// --print-ir-after-all dumps the module after every pass, to stderr.
// RUN: mpc-opt --print-ir-after-all --mpc-verify --pass-pipeline=canonicalize %s 2>&1 >/dev/null | FileCheck %s
// RUN: mpc-opt --print-ir-after-all %s 2>&1 >/dev/null | count 0

// CHECK: // -----// IR Dump After mpc-verify (mpc-verify) ('builtin.module' operation) //----- //
// CHECK: "mpc.relu"
// CHECK: // -----// IR Dump After Canonicalizer (canonicalize) ('builtin.module' operation) //----- //
// CHECK: "mpc.relu"
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "mpc.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
