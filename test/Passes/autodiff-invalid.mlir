// Errors of the training passes, each a located one-line message.
// RUN: not mpc-opt --mpc-autodiff --split-input-file %s 2>&1 | FileCheck %s
// RUN: not mpc-opt --mpc-loss-scaling %S/Inputs/no-grad.mlir 2>&1 | FileCheck %s --check-prefix=NOGRAD-LS
// RUN: not mpc-opt --train=sgd --mpc-optimizer %S/Inputs/no-grad.mlir 2>&1 | FileCheck %s --check-prefix=NOGRAD-OPT
// RUN: not mpc-opt --mpc-autodiff --mpc-optimizer %S/Inputs/no-grad.mlir 2>&1 | FileCheck %s --check-prefix=NOOPT
// RUN: not mpc-opt --precision=16-mixed --mpc-autodiff --mpc-loss-scaling --mpc-loss-scaling %S/Inputs/no-grad.mlir 2>&1 | FileCheck %s --check-prefix=TWICE
// RUN: not mpc-opt --train=sgd --mpc-autodiff --mpc-optimizer --mpc-autodiff --mpc-optimizer %S/Inputs/no-grad.mlir 2>&1 | FileCheck %s --check-prefix=STEPTWICE

// CHECK: autodiff-invalid.mlir:[[@LINE+1]]:1: error: mpc-autodiff: no model function (@forward, or a func.func with mpc.param arguments)
func.func @noparams(%x: tensor<4xf32> {mpc.input = "x"}) -> tensor<f32> {
  %s = "mpc.reduce_sum"(%x) {axes = array<i64: 0>, keepdim = false} : (tensor<4xf32>) -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// CHECK: autodiff-invalid.mlir:[[@LINE+1]]:1: error: mpc-autodiff: the model function's first result must be a scalar float loss (tensor<f32>)
func.func @forward(%w: tensor<4xf32> {mpc.param = "w"}) -> tensor<4xf32> {
  %r = "mpc.relu"(%w) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// COM: Backward ops have no gradient rules of their own (no second order).
func.func @forward(%w: tensor<4xf32> {mpc.param = "w"}, %d: tensor<4xf32> {mpc.input = "d"}) -> tensor<f32> {
  // CHECK: autodiff-invalid.mlir:[[@LINE+1]]:8: error: mpc-autodiff: cannot differentiate 'mpc.unary_grad' (docs/passes.md lists the differentiable ops)
  %r = "mpc.unary_grad"(%d, %w) {fn = "tanh"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %s = "mpc.reduce_sum"(%r) {axes = array<i64: 0>, keepdim = false} : (tensor<4xf32>) -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// CHECK: autodiff-invalid.mlir:[[@LINE+1]]:1: error: mpc-autodiff: the module already has a @forward_grad
func.func @forward(%w: tensor<4xf32> {mpc.param = "w"}) -> tensor<f32> {
  %s = "mpc.reduce_sum"(%w) {axes = array<i64: 0>, keepdim = false} : (tensor<4xf32>) -> tensor<f32>
  return %s : tensor<f32>
}
func.func @forward_grad() {
  return
}

// NOGRAD-LS: no-grad.mlir:{{[0-9]+}}:1: error: mpc-loss-scaling: no @forward_grad (run mpc-autodiff first)
// NOGRAD-OPT: no-grad.mlir:{{[0-9]+}}:1: error: mpc-optimizer: no @forward_grad (run mpc-autodiff first)
// NOOPT: error: mpc-optimizer: no optimizer chosen (--train=sgd|momentum|adamw)
// TWICE: error: mpc-loss-scaling: @forward_grad has no {mpc.seed} argument (is its loss already scaled?)
// STEPTWICE: error: mpc-optimizer: the module already has a @train_step
