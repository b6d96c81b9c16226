// --mpc-verify checks the IR between stages and changes nothing.
// RUN: mpc-opt --mpc-verify %s --split-input-file | FileCheck %s
// RUN: mpc-opt --mpc-verify %s --split-input-file | mpc-opt --split-input-file | FileCheck %s

// COM: Valid IR passes through unchanged.
// CHECK-LABEL: func.func @valid
// CHECK-NEXT: %[[A:.+]] = "mpc.linear"(%arg0, %arg1) : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: %[[B:.+]] = "mpc.relu"(%[[A]]) : (tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: return %[[B]]
func.func @valid(%x: tensor<2x3xf32>, %w: tensor<4x3xf32>) -> tensor<2x4xf32> {
  %0 = "mpc.linear"(%x, %w) : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %1 = "mpc.relu"(%0) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %1 : tensor<2x4xf32>
}

// -----

// COM: mpc ops nested in other ops' regions are verified too.
// CHECK-LABEL: func.func @nested
// CHECK: scf.execute_region
// CHECK: "mpc.tanh"
func.func @nested(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = scf.execute_region -> tensor<4xf32> {
    %0 = "mpc.tanh"(%x) : (tensor<4xf32>) -> tensor<4xf32>
    scf.yield %0 : tensor<4xf32>
  }
  return %r : tensor<4xf32>
}
