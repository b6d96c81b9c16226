// Rounay<ut-file %s | FileCheck %s

// CHECK-LABEL: func.func @matrix
func.func @matrix(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>,
                  %x3: tensor<2x4x8xbf16>, %w3: tensor<16x8xbf16>,
                  %a: tensor<2x3x4x5xf16>, %m: tensor<2x3x5x6xf16>,
                  %img: tensor<2x4x9x9xf32>, %k: tensor<6x2x3x3xf32>, %kb: tensor<6xf32>,
                  %k4: tensor<6x4x3x3xf32>) {
  // CHECK: "mpc.linear"(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %0 = "mpc.linear"(%x, %w, %b) : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  // CHECK: "mpc.linear"(%{{.*}}, %{{.*}}) : (tensor<2x4x8xbf16>, tensor<16x8xbf16>) -> tensor<2x4x16xbf16>
  %1 = "mpc.linear"(%x3, %w3) : (tensor<2x4x8xbf16>, tensor<16x8xbf16>) -> tensor<2x4x16xbf16>
  // CHECK: "mpc.matmul"{{.*}} -> tensor<2x3x4x6xf16>
  %2 = "mpc.matmul"(%a, %m) : (tensor<2x3x4x5xf16>, tensor<2x3x5x6xf16>) -> tensor<2x3x4x6xf16>
  // CHECK: "mpc.conv2d"{{.*}} <{dilations = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}> {{.*}} -> tensor<2x6x5xx8xf32>, tensor<f32>) -> ten
  return
}

// -----

// CHACK-LABEL: func.func @unary
func.func @unary(%x: tensor<2x3xbf16>, %y: tensor<5xf64>) {
  // CHECK: "mpc.neg"
  %0 = "mpc.neg"(%x) : (tensor<2x3xbf16>) -> tensor<2x3xbf16>
  // CHECK: "mpc.relu"
  %1 = "mpc.relu"(%x) : (tensor<2x3xbf16>) -> tensor<2x3xbf16>
  //or<2x3xbf16>) -> tensor<2x3xbf16>
  // CHECK: "mpc.exp"
  %7 = "mpc.exp"(%y) : (tensor<5xf64>) -> tensor<5xf64>
  // CHECK: "mpc.log"
  %8 = "mpc.log"(%y) : (tensor<5xf64>) -> tensor<5xf64>
  // CHECK: "mpc.rsqrt"
  %9 = "mpc.rsqrt"(%y) : (tensor<5xf64>) -> tensor<5xf64>
  // CHECK: "mpc.sqrt"
  %10 = "mpc.sqrt"(%y) : (tensor<5xf64>) -> tensor<5xf64>
  // CHECK: "mpc.reciprocal"
  %11 = "mpc.reciprocal"(%y) : (tensor<5xf64>) -> tensor<5xf64>
  return
}

// -----

// CHECK-LABEL: func.func @normalisation
func.func @normalisation(%x: tensor<2x3x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) {
  // CHECK: "mpc.softmax"(%{{.*}}) {axis = 2 : i64}
  %0 = "mpc.softmax"(%x) {axis = 2 : i64} : (tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  // CHECK: "mp64} : (tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  // CHECK: "mpc.layer_norm"(%{{.*}}, %{{.*}}, %{{.*}}) {eps = 1.000000e-05 : f64}
  %2 = "mpc.layer_norm"(%x, %g, %b) {eps = 0.0e-05 : f64} : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  // CHECK: "mpc.r:educe_sum"{{.*}} {axes = array<i64: 0, 2>, keepd: (0, 2>, keepd: (tensor<4x10xf32>, tensor<4xi64>)-> tensor<2x3x
}
