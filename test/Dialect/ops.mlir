// Round trip of every mpc op: parse, verify, print, parse the printout again.
// RUN: mpc-opt %s | mpc-opt | FileCheck %s
// RUN: mpc-opt --split-input-file %s | FileCheck %s

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
  // CHECK: "mpc.conv2d"{{.*}} <{dilations = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}> {{.*}} -> tensor<2x6x5x5xf32>
  %3 = "mpc.conv2d"(%img, %k, %kb) <{strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 2 : i64}> : (tensor<2x4x9x9xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<2x6x5x5xf32>
  // CHECK: "mpc.conv2d"{{.*}}dilations = array<i64: 2, 2>, groups = 1 : i64{{.*}} -> tensor<2x6x5x5xf32>
  %4 = "mpc.conv2d"(%img, %k4) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>, groups = 1 : i64} : (tensor<2x4x9x9xf32>, tensor<6x4x3x3xf32>) -> tensor<2x6x5x5xf32>
  return
}

// -----

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%a: tensor<4x8xf32>, %row: tensor<8xf32>, %h: tensor<4x1xf16>, %s: tensor<f32>,
                       %c: tensor<4x8xi1>, %bf: tensor<4x8xbf16>) {
  // CHECK: "mpc.add"{{.*}} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %0 = "mpc.add"(%a, %row) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  // COM: promote: f16 with f32 computes in f32.
  // CHECK: "mpc.sub"{{.*}} : (tensor<4x1xf16>, tensor<8xf32>) -> tensor<4x8xf32>
  %1 = "mpc.sub"(%h, %row) : (tensor<4x1xf16>, tensor<8xf32>) -> tensor<4x8xf32>
  // CHECK: "mpc.mul"{{.*}} : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %2 = "mpc.mul"(%a, %s) : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  // COM: promote: f16 with bf16 computes in f32.
  // CHECK: "mpc.div"{{.*}} : (tensor<4x1xf16>, tensor<4x8xbf16>) -> tensor<4x8xf32>
  %3 = "mpc.div"(%h, %bf) : (tensor<4x1xf16>, tensor<4x8xbf16>) -> tensor<4x8xf32>
  // CHECK: "mpc.concat"{{.*}} {axis = 1 : i64} : (tensor<4x8xf32>, tensor<4x1xf16>, tensor<4x8xf32>) -> tensor<4x17xf32>
  %4 = "mpc.concat"(%a, %h, %0) {axis = 1 : i64} : (tensor<4x8xf32>, tensor<4x1xf16>, tensor<4x8xf32>) -> tensor<4x17xf32>
  // CHECK: "mpc.pow"{{.*}} -> tensor<4x8xf32>
  %5 = "mpc.pow"(%a, %s) : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  // CHECK: "mpc.where"{{.*}} : (tensor<4x8xi1>, tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %6 = "mpc.where"(%c, %a, %s) : (tensor<4x8xi1>, tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  return
}

// -----

// CHECK-LABEL: func.func @unary
func.func @unary(%x: tensor<2x3xbf16>, %y: tensor<5xf64>) {
  // CHECK: "mpc.neg"
  %0 = "mpc.neg"(%x) : (tensor<2x3xbf16>) -> tensor<2x3xbf16>
  // CHECK: "mpc.relu"
  %1 = "mpc.relu"(%x) : (tensor<2x3xbf16>) -> tensor<2x3xbf16>
  // CHECK: "mpc.tanh"
  %2 = "mpc.tanh"(%x) : (tensor<2x3xbf16>) -> tensor<2x3xbf16>
  // CHECK: "mpc.sigmoid"
  %3 = "mpc.sigmoid"(%x) : (tensor<2x3xbf16>) -> tensor<2x3xbf16>
  // CHECK: "mpc.erf"
  %4 = "mpc.erf"(%y) : (tensor<5xf64>) -> tensor<5xf64>
  // CHECK: "mpc.gelu"(%{{.*}}) {approximate = "none"}
  %5 = "mpc.gelu"(%x) {approximate = "none"} : (tensor<2x3xbf16>) -> tensor<2x3xbf16>
  // CHECK: "mpc.gelu"(%{{.*}}) {approximate = "tanh"}
  %6 = "mpc.gelu"(%x) {approximate = "tanh"} : (tensor<2x3xbf16>) -> tensor<2x3xbf16>
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
  // CHECK: "mpc.log_softmax"(%{{.*}}) {axis = 0 : i64}
  %1 = "mpc.log_softmax"(%x) {axis = 0 : i64} : (tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  // CHECK: "mpc.layer_norm"(%{{.*}}, %{{.*}}, %{{.*}}) {eps = 1.000000e-05 : f64}
  %2 = "mpc.layer_norm"(%x, %g, %b) {eps = 1.0e-05 : f64} : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  // CHECK: "mpc.reduce_sum"{{.*}} {axes = array<i64: 0, 2>, keepdim = false} : (tensor<2x3x8xf32>) -> tensor<3xf32>
  %3 = "mpc.reduce_sum"(%x) {axes = array<i64: 0, 2>, keepdim = false} : (tensor<2x3x8xf32>) -> tensor<3xf32>
  // CHECK: "mpc.reduce_mean"{{.*}} {axes = array<i64: 2>, keepdim = true} : (tensor<2x3x8xf32>) -> tensor<2x3x1xf32>
  %4 = "mpc.reduce_mean"(%x) {axes = array<i64: 2>, keepdim = true} : (tensor<2x3x8xf32>) -> tensor<2x3x1xf32>
  // CHECK: "mpc.reduce_max"{{.*}} -> tensor<f32>
  %5 = "mpc.reduce_max"(%x) {axes = array<i64: 2, 1, 0>, keepdim = false} : (tensor<2x3x8xf32>) -> tensor<f32>
  return
}

// -----

// CHECK-LABEL: func.func @losses
func.func @losses(%logits: tensor<4x10xf32>, %labels: tensor<4xi64>, %l32: tensor<4xi32>,
                  %p: tensor<4x3xf16>, %t: tensor<4x3xf16>) {
  // CHECK: "mpc.cross_entropy"{{.*}} {reduction = "mean"} : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<f32>
  %0 = "mpc.cross_entropy"(%logits, %labels) {reduction = "mean"} : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<f32>
  // CHECK: "mpc.cross_entropy"{{.*}} {reduction = "sum"} : (tensor<4x10xf32>, tensor<4xi32>) -> tensor<f32>
  %1 = "mpc.cross_entropy"(%logits, %l32) {reduction = "sum"} : (tensor<4x10xf32>, tensor<4xi32>) -> tensor<f32>
  // CHECK: "mpc.mse_loss"{{.*}} {reduction = "mean"} : (tensor<4x3xf16>, tensor<4x3xf16>) -> tensor<f16>
  %2 = "mpc.mse_loss"(%p, %t) {reduction = "mean"} : (tensor<4x3xf16>, tensor<4x3xf16>) -> tensor<f16>
  return
}

// -----

// CHECK-LABEL: func.func @movement
func.func @movement(%x: tensor<2x3x4xf32>, %row: tensor<4xf32>, %table: tensor<10x6xbf16>, %ids: tensor<2x5xi32>,
                    %img: tensor<1x2x6x6xf32>, %idx: tensor<2x3x4xi64>, %upd: tensor<2x3x4xf32>) {
  // CHECK: "mpc.reshape"{{.*}} -> tensor<6x4xf32>
  %0 = "mpc.reshape"(%x) : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  // Integer tensors (labels) reshape too.
  // CHECK: "mpc.reshape"{{.*}} : (tensor<2x5xi32>) -> tensor<10xi32>
  %r = "mpc.reshape"(%ids) : (tensor<2x5xi32>) -> tensor<10xi32>
  // CHECK: "mpc.transpose"(%{{.*}}) {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %1 = "mpc.transpose"(%x) {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  // CHECK: "mpc.broadcast_to"{{.*}} : (tensor<4xf32>) -> tensor<5x3x4xf32>
  %2 = "mpc.broadcast_to"(%row) : (tensor<4xf32>) -> tensor<5x3x4xf32>
  // CHECK: "mpc.slice"(%{{.*}}) {sizes = array<i64: 1, 2, 4>, starts = array<i64: 1, 1, 0>} : (tensor<2x3x4xf32>) -> tensor<1x2x4xf32>
  %3 = "mpc.slice"(%x) {starts = array<i64: 1, 1, 0>, sizes = array<i64: 1, 2, 4>} : (tensor<2x3x4xf32>) -> tensor<1x2x4xf32>
  // CHECK: "mpc.embedding"{{.*}} : (tensor<10x6xbf16>, tensor<2x5xi32>) -> tensor<2x5x6xbf16>
  %4 = "mpc.embedding"(%table, %ids) : (tensor<10x6xbf16>, tensor<2x5xi32>) -> tensor<2x5x6xbf16>
  // CHECK: "mpc.max_pool2d"{{.*}} -> tensor<1x2x3x3xf32>
  %5 = "mpc.max_pool2d"(%img) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : (tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32>
  // CHECK: "mpc.avg_pool2d"{{.*}} -> tensor<1x2x6x6xf32>
  %6 = "mpc.avg_pool2d"(%img) {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32>
  // CHECK: "mpc.scatter_add"{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x3x4xi64>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %7 = "mpc.scatter_add"(%x, %idx, %upd) {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x3x4xi64>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return
}
