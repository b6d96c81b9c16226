// The training ops are checked like every mpc op: operand kinds, result
// types and attributes (lib/training.c).
// RUN: mpc-opt --mpc-verify --verify-diagnostics --split-input-file %s

func.func @f(%g: tensor<4xf32>, %s: tensor<3xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{'mpc.unscale' op operand #1 must be the scaler state, tensor<2xf32>, got 'tensor<3xf32>'}}
  %0 = "mpc.unscale"(%g, %s) : (tensor<4xf32>, tensor<3xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @f(%g: tensor<4xf32>, %s: tensor<2xf32>) -> tensor<4xf16> {
  // expected-error@+1 {{'mpc.scale_loss' op result #0 must be 'tensor<4xf32>', got 'tensor<4xf16>'}}
  %0 = "mpc.scale_loss"(%g, %s) : (tensor<4xf32>, tensor<2xf32>) -> tensor<4xf16>
  return %0 : tensor<4xf16>
}

// -----

func.func @f() -> tensor<i1> {
  // expected-error@+1 {{'mpc.all_finite' op takes one or more float tensors, got 0 operands}}
  %0 = "mpc.all_finite"() : () -> tensor<i1>
  return %0 : tensor<i1>
}

// -----

func.func @f(%g: tensor<4xf32>) -> tensor<f32> {
  // expected-error@+1 {{'mpc.all_finite' op result #0 must be the finite flag, tensor<i1>, got 'tensor<f32>'}}
  %0 = "mpc.all_finite"(%g) : (tensor<4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @f(%s: tensor<2xf32>, %ok: tensor<i1>) -> tensor<2xf32> {
  // expected-error@+1 {{'mpc.update_scale' op requires attribute 'interval' (i64)}}
  %0 = "mpc.update_scale"(%s, %ok) {growth = 2.0 : f64, backoff = 0.5 : f64} : (tensor<2xf32>, tensor<i1>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @f(%p: tensor<4xf32>, %g: tensor<4xf16>, %lr: tensor<f32>, %n: tensor<i64>, %ok: tensor<i1>) -> tensor<4xf32> {
  // expected-error@+1 {{'mpc.sgd_update' op operand #1 must have the type of the first operand, 'tensor<4xf32>', got 'tensor<4xf16>'}}
  %0 = "mpc.sgd_update"(%p, %g, %lr, %n, %ok) {weight_decay = 0.0 : f64, rounding = "nearest", seed = 0 : i64} : (tensor<4xf32>, tensor<4xf16>, tensor<f32>, tensor<i64>, tensor<i1>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @f(%p: tensor<4xf32>, %g: tensor<4xf32>, %lr: tensor<f32>, %n: tensor<i64>, %ok: tensor<i1>) -> tensor<4xf32> {
  // expected-error@+1 {{'mpc.sgd_update' op requires attribute 'rounding' ("nearest" or "stochastic")}}
  %0 = "mpc.sgd_update"(%p, %g, %lr, %n, %ok) {weight_decay = 0.0 : f64, rounding = "up", seed = 0 : i64} : (tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<i64>, tensor<i1>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @f(%p: tensor<4xf32>, %m: tensor<4xf32>, %lr: tensor<f32>, %n: tensor<i32>, %ok: tensor<i1>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  // expected-error@+1 {{'mpc.adamw_update' op operand #5 must be the update count, tensor<i64>, got 'tensor<i32>'}}
  %0:3 = "mpc.adamw_update"(%p, %p, %m, %m, %lr, %n, %ok) {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-08 : f64, weight_decay = 0.0 : f64, rounding = "nearest", seed = 0 : i64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<i32>, tensor<i1>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %0#0, %0#1, %0#2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

func.func @f(%p: tensor<4xf32>, %lr: tensor<f32>, %n: tensor<i64>, %ok: tensor<i1>) -> tensor<4xf32> {
  // expected-error@+1 {{'mpc.sgd_momentum_update' op has 2 results, got 1}}
  %0 = "mpc.sgd_momentum_update"(%p, %p, %p, %lr, %n, %ok) {momentum = 0.9 : f64, dampening = 0.0 : f64, nesterov = false, weight_decay = 0.0 : f64, rounding = "nearest", seed = 0 : i64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<i64>, tensor<i1>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @f(%n: tensor<i64>, %ok: tensor<i1>) -> tensor<i64> {
  // expected-error@+1 {{'mpc.count_update' op takes 2 operands, got 1}}
  %0 = "mpc.count_update"(%n) : (tensor<i64>) -> tensor<i64>
  return %0 : tensor<i64>
}

// -----

// COM: Backward ops are op-table ops: their shape rules apply.
func.func @f(%dy: tensor<2x3x4x4xf32>, %w: tensor<3x1x3x3xf32>) -> tensor<2x1x7x7xf32> {
  // expected-error@+1 {{'mpc.conv2d_grad_input' op dy must be 2x3x5x5 (conv2d of the result's shape), got 2x3x4x4}}
  %0 = "mpc.conv2d_grad_input"(%dy, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x3x4x4xf32>, tensor<3x1x3x3xf32>) -> tensor<2x1x7x7xf32>
  return %0 : tensor<2x1x7x7xf32>
}

// -----

func.func @f(%dy: tensor<5x4xf32>, %ids: tensor<6xi64>) -> tensor<7x4xf32> {
  // expected-error@+1 {{'mpc.embedding_grad' op dy must be the ids' shape 6 plus one dim, got 5x4}}
  %0 = "mpc.embedding_grad"(%dy, %ids) : (tensor<5x4xf32>, tensor<6xi64>) -> tensor<7x4xf32>
  return %0 : tensor<7x4xf32>
}

// -----

func.func @f(%dy: tensor<2x3x2x2xf32>, %x: tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32> {
  // expected-error@+1 {{'mpc.max_pool2d_grad' op dy must be 2x3x1x1 (the pooling of x), got 2x3x2x2}}
  %0 = "mpc.max_pool2d_grad"(%dy, %x) {kernel = array<i64: 3, 3>, strides = array<i64: 3, 3>, padding = array<i64: 0, 0, 0, 0>} : (tensor<2x3x2x2xf32>, tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

func.func @f(%dy: tensor<4xf32>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{'mpc.unary_grad' op attribute 'fn' must be "relu", "tanh", "sigmoid", "erf", "gelu", "gelu_tanh", "exp", "log", "rsqrt", "sqrt" or "reciprocal", got "softplus"}}
  %0 = "mpc.unary_grad"(%dy, %x) {fn = "softplus"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @f(%dy: tensor<2x3x4x4xf32>, %x: tensor<2x1x6x6xf32>) -> tensor<3x1x2x2xf32> {
  // expected-error@+1 {{'mpc.conv2d_grad_weight' op dy must be 2x3x5x5 (conv2d of the result's shape), got 2x3x4x4}}
  %0 = "mpc.conv2d_grad_weight"(%dy, %x) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x3x4x4xf32>, tensor<2x1x6x6xf32>) -> tensor<3x1x2x2xf32>
  return %0 : tensor<3x1x2x2xf32>
}

// -----

func.func @f(%dl: tensor<f32>, %logits: tensor<4x5xf32>, %labels: tensor<3xi64>) -> tensor<4x5xf32> {
  // expected-error@+1 {{'mpc.cross_entropy_grad' op labels must have B = 4 elements (logits are [B, C]), got 3}}
  %0 = "mpc.cross_entropy_grad"(%dl, %logits, %labels) {reduction = "mean"} : (tensor<f32>, tensor<4x5xf32>, tensor<3xi64>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

func.func @f(%x: tensor<4x5xf32>, %idx: tensor<4x6xi32>) -> tensor<4x6xf32> {
  // expected-error@+1 {{'mpc.gather' op indices dim 1 (6) exceeds x's (5)}}
  %0 = "mpc.gather"(%x, %idx) {axis = 0 : i64} : (tensor<4x5xf32>, tensor<4x6xi32>) -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

func.func @f(%dy: tensor<2x3x2x2xf32>, %x: tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32> {
  // expected-error@+1 {{'mpc.avg_pool2d_grad' op dy must be 2x3x1x1 (the pooling of x), got 2x3x2x2}}
  %0 = "mpc.avg_pool2d_grad"(%dy, %x) {kernel = array<i64: 3, 3>, strides = array<i64: 3, 3>, padding = array<i64: 0, 0, 0, 0>} : (tensor<2x3x2x2xf32>, tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

func.func @f(%dy: tensor<4x3xf32>, %x: tensor<4x5xf32>, %y: tensor<4x1xf32>) -> tensor<4x5xf32> {
  // expected-error@+1 {{'mpc.reduce_max_grad' op operands are not broadcast-compatible: 4x3 and 4x5 (result dim 1)}}
  %0 = "mpc.reduce_max_grad"(%dy, %x, %y) : (tensor<4x3xf32>, tensor<4x5xf32>, tensor<4x1xf32>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}
