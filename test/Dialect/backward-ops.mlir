// Round trip of the backward ops (the op table's last rows, made by
// mpc-autodiff) and the training ops (lib/training.c): parse, verify, print,
// parse the printout again; nothing changes.
// RUN: mpc-opt --mpc-verify %s | mpc-opt --mpc-verify | FileCheck %s

// CHECK-LABEL: func.func @backward
func.func @backward(%dy: tensor<2x3x4x4xf32>, %x: tensor<2x1x6x6xf32>, %w: tensor<3x1x3x3xf32>,
                    %dp: tensor<2x3x2x2xf32>, %c: tensor<2x3x4x4xf32>, %dl: tensor<f32>, %logits: tensor<4x5xf32>,
                    %labels: tensor<4xi64>, %de: tensor<5x4xf32>, %ids: tensor<5xi64>, %v: tensor<4x5xf32>,
                    %m: tensor<4x1xf32>, %idx: tensor<4x2xi32>) {
  // CHECK: "mpc.unary_grad"(%arg{{[0-9]+}}, %arg{{[0-9]+}}) {fn = "gelu_tanh"} : (tensor<4x5xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>
  %0 = "mpc.unary_grad"(%v, %logits) {fn = "gelu_tanh"} : (tensor<4x5xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>
  // CHECK: "mpc.reduce_max_grad"({{.*}}) : (tensor<4x1xf32>, tensor<4x5xf32>, tensor<4x1xf32>) -> tensor<4x5xf32>
  %1 = "mpc.reduce_max_grad"(%m, %logits, %m) : (tensor<4x1xf32>, tensor<4x5xf32>, tensor<4x1xf32>) -> tensor<4x5xf32>
  // CHECK: "mpc.conv2d_grad_input"({{.*}}) -> tensor<2x1x6x6xf32>
  %2 = "mpc.conv2d_grad_input"(%dy, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x3x4x4xf32>, tensor<3x1x3x3xf32>) -> tensor<2x1x6x6xf32>
  // CHECK: "mpc.conv2d_grad_weight"({{.*}}) -> tensor<3x1x3x3xf32>
  %3 = "mpc.conv2d_grad_weight"(%dy, %x) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x3x4x4xf32>, tensor<2x1x6x6xf32>) -> tensor<3x1x3x3xf32>
  // CHECK: "mpc.max_pool2d_grad"({{.*}}) -> tensor<2x3x4x4xf32>
  %4 = "mpc.max_pool2d_grad"(%dp, %c) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : (tensor<2x3x2x2xf32>, tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
  // CHECK: "mpc.avg_pool2d_grad"({{.*}}) -> tensor<2x3x4x4xf32>
  %5 = "mpc.avg_pool2d_grad"(%dp, %c) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : (tensor<2x3x2x2xf32>, tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
  // CHECK: "mpc.cross_entropy_grad"({{.*}}) {reduction = "mean"} : (tensor<f32>, tensor<4x5xf32>, tensor<4xi64>) -> tensor<4x5xf32>
  %6 = "mpc.cross_entropy_grad"(%dl, %logits, %labels) {reduction = "mean"} : (tensor<f32>, tensor<4x5xf32>, tensor<4xi64>) -> tensor<4x5xf32>
  // CHECK: "mpc.embedding_grad"({{.*}}) : (tensor<5x4xf32>, tensor<5xi64>) -> tensor<7x4xf32>
  %7 = "mpc.embedding_grad"(%de, %ids) : (tensor<5x4xf32>, tensor<5xi64>) -> tensor<7x4xf32>
  // CHECK: "mpc.gather"({{.*}}) {axis = 1 : i64} : (tensor<4x5xf32>, tensor<4x2xi32>) -> tensor<4x2xf32>
  %8 = "mpc.gather"(%v, %idx) {axis = 1 : i64} : (tensor<4x5xf32>, tensor<4x2xi32>) -> tensor<4x2xf32>
  return
}

// CHECK-LABEL: func.func @training
func.func @training(%p: tensor<4xbf16>, %g: tensor<4xbf16>, %s: tensor<2xf32>, %lr: tensor<f32>, %n: tensor<i64>,
                    %l: tensor<f32>) {
  // CHECK: "mpc.scale_loss"
  %0 = "mpc.scale_loss"(%l, %s) : (tensor<f32>, tensor<2xf32>) -> tensor<f32>
  // CHECK: "mpc.unscale"
  %1 = "mpc.unscale"(%g, %s) : (tensor<4xbf16>, tensor<2xf32>) -> tensor<4xbf16>
  // CHECK: "mpc.all_finite"({{.*}}) : (tensor<4xbf16>, tensor<4xbf16>) -> tensor<i1>
  %ok = "mpc.all_finite"(%1, %g) : (tensor<4xbf16>, tensor<4xbf16>) -> tensor<i1>
  // CHECK: "mpc.update_scale"
  %2 = "mpc.update_scale"(%s, %ok) {growth = 2.0 : f64, backoff = 0.5 : f64, interval = 2000 : i64} : (tensor<2xf32>, tensor<i1>) -> tensor<2xf32>
  // CHECK: "mpc.count_update"
  %3 = "mpc.count_update"(%n, %ok) : (tensor<i64>, tensor<i1>) -> tensor<i64>
  // CHECK: "mpc.sgd_update"
  %4 = "mpc.sgd_update"(%p, %1, %lr, %n, %ok) {weight_decay = 0.0 : f64, rounding = "stochastic", seed = 3 : i64} : (tensor<4xbf16>, tensor<4xbf16>, tensor<f32>, tensor<i64>, tensor<i1>) -> tensor<4xbf16>
  // CHECK: "mpc.sgd_momentum_update"
  %5:2 = "mpc.sgd_momentum_update"(%p, %1, %p, %lr, %n, %ok) {momentum = 0.9 : f64, dampening = 0.0 : f64, nesterov = true, weight_decay = 0.0 : f64, rounding = "nearest", seed = 0 : i64} : (tensor<4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<f32>, tensor<i64>, tensor<i1>) -> (tensor<4xbf16>, tensor<4xbf16>)
  // CHECK: "mpc.adamw_update"
  %6:3 = "mpc.adamw_update"(%p, %1, %p, %p, %lr, %n, %ok) {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-08 : f64, weight_decay = 0.01 : f64, rounding = "nearest", seed = 0 : i64} : (tensor<4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<4xbf16>, tensor<f32>, tensor<i64>, tensor<i1>) -> (tensor<4xbf16>, tensor<4xbf16>, tensor<4xbf16>)
  return
}
