// 64-true widens complex<f32> arguments to complex<f64> along with f32 ones.
// RUN: mpc-opt --precision=64-true %s | FileCheck %s
// RUN: mpc-opt --precision=16-mixed %s | FileCheck %s --check-prefix=MIXED
// RUN: mpc-opt --precision=64-true --verify-diagnostics %S/Inputs/complex-used.mlir

// CHECK-LABEL: func.func @passthrough
// CHECK-SAME: (%arg0: tensor<4xcomplex<f64>>, %arg1: tensor<4xf64>) -> (tensor<4xcomplex<f64>>, tensor<4xf64>)
// MIXED-LABEL: func.func @passthrough
// MIXED-SAME: (%arg0: tensor<4xcomplex<f32>>, %arg1: tensor<4xf32>)
func.func @passthrough(%z: tensor<4xcomplex<f32>>, %x: tensor<4xf32>) -> (tensor<4xcomplex<f32>>, tensor<4xf32>) {
  %0 = "mpc.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %z, %0 : tensor<4xcomplex<f32>>, tensor<4xf32>
}
