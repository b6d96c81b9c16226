// --pass-pipeline runs upstream MLIR passes, plain or anchored, in argv
// order with the mpc pass flags.
// RUN: mpc-opt --pass-pipeline=canonicalize %s | FileCheck %s
// RUN: mpc-opt '--pass-pipeline=builtin.module(canonicalize)' %s | FileCheck %s
// RUN: mpc-opt --mpc-verify --pass-pipeline=canonicalize,cse --mpc-verify %s | FileCheck %s
// RUN: not mpc-opt '--pass-pipeline=builtin.module(func.func(frob))' %s 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: mpc-opt %s | FileCheck %s --check-prefix=NONE

// COM: canonicalize folds the arith ops and leaves the mpc op alone.
// CHECK-LABEL: func.func @fold
// CHECK-NOT: arith.addf
// CHECK: "mpc.relu"
// NONE: arith.addf
func.func @fold(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c1 = arith.constant 1.0 : f32
  %c2 = arith.constant 2.0 : f32
  %s = arith.addf %c1, %c2 : f32
  %0 = "mpc.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// BAD: mpc-opt: error: bad --pass-pipeline 'builtin.module(func.func(frob))': {{.*}}frob
