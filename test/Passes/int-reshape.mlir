// An integer reshape (labels [B, T] flattened for cross_entropy, as PyTorch's
// targets.reshape(-1)): no precision pass touches it in any mode (no
// mpc.precision, no cast, i64 stays i64), and it lowers to a collapse_shape.
// RUN: mpc-opt --precision=16-mixed %s | FileCheck %s --check-prefix=MIXED
// RUN: mpc-opt --precision=64-true %s | FileCheck %s --check-prefix=F64
// RUN: mpc-opt --precision=bf16-true --mpc-lower-to-linalg %s | FileCheck %s --check-prefix=LOWER

func.func @forward(%logits: tensor<2x4x8xf32> {mpc.input = "logits"},
                   %y: tensor<2x4xi64> {mpc.input = "y"}) -> tensor<f32> {
  %l = "mpc.reshape"(%logits) : (tensor<2x4x8xf32>) -> tensor<8x8xf32>
  %t = "mpc.reshape"(%y) : (tensor<2x4xi64>) -> tensor<8xi64>
  %loss = "mpc.cross_entropy"(%l, %t) {reduction = "mean"} : (tensor<8x8xf32>, tensor<8xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}
// MIXED: "mpc.reshape"(%arg1) : (tensor<2x4xi64>) -> tensor<8xi64>
// MIXED-NOT: arith.extf {{.*}}i64
// F64: "mpc.reshape"(%arg1) : (tensor<2x4xi64>) -> tensor<8xi64>
// F64: "mpc.cross_entropy"{{.*}} : (tensor<8x8xf64>, tensor<8xi64>) -> tensor<f64>
// LOWER: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<2x4xi64> into tensor<8xi64>
