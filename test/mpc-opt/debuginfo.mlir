// --mlir-print-debuginfo prints locations; in split chunks they are the
// lines of the original file.
// RUN: mpc-opt --split-input-file --mlir-print-debuginfo %s | FileCheck %s

// CHECK: "mpc.relu"{{.*}} loc(#[[L1:loc[0-9]*]])
// CHECK: #[[L1]] = loc("{{.*}}debuginfo.mlir":[[@LINE+5]]:8)
// CHECK: // -----
// CHECK: "mpc.tanh"{{.*}} loc(#[[L2:loc[0-9]*]])
// CHECK: #[[L2]] = loc("{{.*}}debuginfo.mlir":[[@LINE+9]]:8)
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "mpc.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @g(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "mpc.tanh"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
