// --mpc-lint-precision warns about values the chosen types cannot hold, at
// their location, and changes nothing.
// RUN: mpc-opt --mpc-lint-precision --verify-diagnostics --split-input-file %s
// RUN: mpc-opt --mpc-lint-precision --split-input-file %s 2>/dev/null | FileCheck %s

// CHECK-LABEL: func.func @mask_overflow
// CHECK: arith.constant dense<-1.000000e+09> : tensor<f32>
func.func @mask_overflow(%c: tensor<4xi1>, %s: tensor<4xf16>) {
  // expected-warning@+1 {{constant -1e+09 overflows f16 (largest finite value 65504): 'mpc.where' computes in f16, so it becomes -inf}}
  %neg = arith.constant dense<-1.0e+09> : tensor<f32>
  %0 = "mpc.where"(%c, %s, %neg) {mpc.precision = "f16"} : (tensor<4xi1>, tensor<4xf16>, tensor<f32>) -> tensor<4xf32>
  return
}

// -----

// COM: The same mask is fine in bf16 and f32.
func.func @mask_fits(%c: tensor<4xi1>, %s: tensor<4xf32>) {
  %neg = arith.constant dense<-1.0e+09> : tensor<f32>
  %0 = "mpc.where"(%c, %s, %neg) {mpc.precision = "bf16"} : (tensor<4xi1>, tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %1 = "mpc.where"(%c, %s, %neg) {mpc.precision = "f32"} : (tensor<4xi1>, tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return
}

// -----

func.func @underflow(%x: tensor<4xf32>) {
  // expected-warning@+1 {{constant 1e-08 underflows to zero in f16 (smallest value 5.96046e-08): 'mpc.add' computes in f16}}
  %tiny = arith.constant dense<[1.0, 2.0, 1.0e-08, 0.0]> : tensor<4xf32>
  %0 = "mpc.add"(%x, %tiny) {mpc.precision = "f16"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @f64_constant_in_f32(%x: tensor<2xf32>) {
  // expected-warning@+1 {{constant 1e+300 overflows f32}}
  %big = arith.constant dense<1.0e+300> : tensor<2xf64>
  %0 = "mpc.mul"(%x, %big) {mpc.precision = "f32"} : (tensor<2xf32>, tensor<2xf64>) -> tensor<2xf64>
  return
}

// -----

func.func @eps(%x: tensor<2x8xf16>, %g: tensor<8xf16>) {
  // expected-warning@+1 {{attribute 'eps' = 1e-08 underflows to zero in f16 (smallest value 5.96046e-08): 'mpc.layer_norm' computes in f16}}
  %0 = "mpc.layer_norm"(%x, %g, %g) {eps = 1.0e-08 : f64, mpc.precision = "f16"} : (tensor<2x8xf16>, tensor<8xf16>, tensor<8xf16>) -> tensor<2x8xf16>
  // COM: 1e-5 is a subnormal in f16, but not zero.
  %1 = "mpc.layer_norm"(%x, %g, %g) {eps = 1.0e-05 : f64, mpc.precision = "f16"} : (tensor<2x8xf16>, tensor<8xf16>, tensor<8xf16>) -> tensor<2x8xf16>
  return
}

// -----

// COM: Nothing to warn about; ops without a decision are not checked.
// CHECK-LABEL: func.func @clean
// CHECK-NEXT: arith.constant
// CHECK-NEXT: "mpc.add"
func.func @clean(%x: tensor<4xf32>) {
  %c = arith.constant dense<-1.0e+09> : tensor<4xf32>
  %0 = "mpc.add"(%x, %c) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}
