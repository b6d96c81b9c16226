// --mpc-autodiff builds @forward_grad: @forward's ops, then each op's
// vector-Jacobian product in reverse, backward ops in the forward op's type
// (and with its mpc.precision when it has one).
// RUN: mpc-opt --mpc-autodiff --split-input-file %s | FileCheck %s

// COM: @forward itself is left as it was (the case where nothing changes).
// CHECK-LABEL: func.func @forward(
// CHECK-NEXT: %[[H:.+]] = "mpc.linear"(%arg0, %arg2, %arg3) : (tensor<4x3xf32>, tensor<5x3xf32>, tensor<5xf32>) -> tensor<4x5xf32>
// CHECK-NEXT: "mpc.relu"(%[[H]])
// CHECK-NEXT: "mpc.cross_entropy"
// CHECK-NEXT: return
// COM: The seed is the last argument; the parameters' gradients follow the loss.
// CHECK-LABEL: func.func @forward_grad(%arg0: tensor<4x3xf32> {mpc.input = "x"}, %arg1: tensor<4xi64> {mpc.input = "y"}, %arg2: tensor<5x3xf32> {mpc.param = "fc.weight"}, %arg3: tensor<5xf32> {mpc.param = "fc.bias"}, %arg4: tensor<f32> {mpc.seed}) -> (tensor<f32>, tensor<5x3xf32> {mpc.grad = "fc.weight"}, tensor<5xf32> {mpc.grad = "fc.bias"})
// CHECK: %[[A:.+]] = "mpc.relu"
// CHECK: %[[L:.+]] = "mpc.cross_entropy"(%[[A]], %arg1)
// CHECK-NEXT: %[[DL:.+]] = "mpc.cross_entropy_grad"(%arg4, %[[A]], %arg1) {reduction = "mean"}
// COM: relu's gradient reads relu's result, so the GEMM keeps ReLU as its epilogue.
// CHECK-NEXT: %[[DH:.+]] = "mpc.unary_grad"(%[[DL]], %[[A]]) {fn = "relu"}
// COM: x is an input: no gradient flows into it.
// CHECK-NOT: "mpc.linear"
// CHECK-NEXT: %[[T:.+]] = "mpc.transpose"(%[[DH]]) {{.*}}perm = array<i64: 1, 0>
// CHECK-NEXT: %[[DW:.+]] = "mpc.matmul"(%[[T]], %arg0) {{.*}} -> tensor<5x3xf32>
// CHECK-NEXT: %[[DB:.+]] = "mpc.reduce_sum"(%[[DH]]) {axes = array<i64: 0>, keepdim = false}
// CHECK-NEXT: return %[[L]], %[[DW]], %[[DB]]
func.func @forward(%x: tensor<4x3xf32> {mpc.input = "x"}, %y: tensor<4xi64> {mpc.input = "y"},
                   %w: tensor<5x3xf32> {mpc.param = "fc.weight"}, %b: tensor<5xf32> {mpc.param = "fc.bias"}) -> tensor<f32> {
  %h = "mpc.linear"(%x, %w, %b) : (tensor<4x3xf32>, tensor<5x3xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %a = "mpc.relu"(%h) : (tensor<4x5xf32>) -> tensor<4x5xf32>
  %l = "mpc.cross_entropy"(%a, %y) {reduction = "mean"} : (tensor<4x5xf32>, tensor<4xi64>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// COM: Casts: the gradient of truncf is extf and the other way round, so the
// COM: backward mul runs in bf16 like the forward one and the master weight's
// COM: gradient arrives in f32. A broadcast operand's gradient is summed back
// COM: to its shape. An unused parameter gets zeros.
// CHECK-LABEL: func.func @forward_grad
// CHECK-SAME: -> (tensor<f32>, tensor<3xf32> {mpc.grad = "w"}, tensor<5xf32> {mpc.grad = "unused"})
// CHECK: %[[XB:.+]] = arith.truncf %arg0 : tensor<2x3xf32> to tensor<2x3xbf16>
// CHECK: %[[S:.+]] = "mpc.reduce_sum"
// CHECK-NEXT: %[[R:.+]] = "mpc.reshape"(%arg3) {mpc.precision = "f32"} : (tensor<f32>) -> tensor<1x1xf32>
// CHECK-NEXT: %[[B:.+]] = "mpc.broadcast_to"(%[[R]]) {mpc.precision = "f32"} : (tensor<1x1xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: %[[BB:.+]] = arith.truncf %[[B]] : tensor<2x3xf32> to tensor<2x3xbf16>
// CHECK-NEXT: %[[M:.+]] = "mpc.mul"(%[[BB]], %[[XB]]) {mpc.precision = "bf16"} : (tensor<2x3xbf16>, tensor<2x3xbf16>) -> tensor<2x3xbf16>
// CHECK-NEXT: %[[SUM:.+]] = "mpc.reduce_sum"(%[[M]]) {axes = array<i64: 0>, keepdim = true, mpc.precision = "bf16"}
// CHECK-NEXT: %[[G:.+]] = "mpc.reshape"(%[[SUM]]) {{.*}} -> tensor<3xbf16>
// CHECK-NEXT: %[[GW:.+]] = arith.extf %[[G]] : tensor<3xbf16> to tensor<3xf32>
// CHECK-NEXT: %[[Z:.+]] = arith.constant dense<0.000000e+00> : tensor<5xf32>
// CHECK-NEXT: return %[[S]], %[[GW]], %[[Z]]
func.func @forward(%x: tensor<2x3xf32> {mpc.input = "x"}, %w: tensor<3xf32> {mpc.param = "w"},
                   %unused: tensor<5xf32> {mpc.param = "unused"}) -> tensor<f32> {
  %wb = arith.truncf %w : tensor<3xf32> to tensor<3xbf16>
  %xb = arith.truncf %x : tensor<2x3xf32> to tensor<2x3xbf16>
  %m = "mpc.mul"(%xb, %wb) {mpc.precision = "bf16"} : (tensor<2x3xbf16>, tensor<3xbf16>) -> tensor<2x3xbf16>
  %e = arith.extf %m : tensor<2x3xbf16> to tensor<2x3xf32>
  %s = "mpc.reduce_sum"(%e) {axes = array<i64: 0, 1>, keepdim = false, mpc.precision = "f32"} : (tensor<2x3xf32>) -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// COM: A value used twice sums its gradients; conv2d, pooling and embedding
// COM: use their backward ops; a metric result is returned, not differentiated.
// CHECK-LABEL: func.func @forward_grad
// CHECK-SAME: -> (tensor<f32>, tensor<f32>, tensor<3x1x3x3xf32> {mpc.grad = "conv.weight"}, tensor<3xf32> {mpc.grad = "conv.bias"}, tensor<7x4xf32> {mpc.grad = "emb"})
// CHECK: %[[E:.+]] = "mpc.embedding"(%arg3, %arg4)
// CHECK: %[[DQ:.+]] = "mpc.broadcast_to"
// CHECK-NEXT: %[[D1:.+]] = "mpc.mul"(%[[DQ]], %[[E]]) :
// CHECK-NEXT: %[[D2:.+]] = "mpc.mul"(%[[DQ]], %[[E]])
// CHECK-NEXT: %[[D:.+]] = "mpc.add"(%[[D1]], %[[D2]])
// CHECK-NEXT: %[[DT:.+]] = "mpc.embedding_grad"(%[[D]], %arg4) : (tensor<5x4xf32>, tensor<5xi64>) -> tensor<7x4xf32>
// CHECK: %[[DP:.+]] = "mpc.max_pool2d_grad"(%{{.+}}, %[[C:.+]]) {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
// CHECK-NOT: conv2d_grad_input
// CHECK-NEXT: %[[DW:.+]] = "mpc.conv2d_grad_weight"(%[[DP]], %arg0) {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x3x4x4xf32>, tensor<2x1x6x6xf32>) -> tensor<3x1x3x3xf32>
// CHECK-NEXT: %[[DB:.+]] = "mpc.reduce_sum"(%[[DP]]) {axes = array<i64: 0, 2, 3>
// CHECK-NEXT: return %{{.+}}, %{{.+}}, %[[DW]], %[[DB]], %[[DT]]
func.func @forward(%x: tensor<2x1x6x6xf32> {mpc.input = "x"}, %w: tensor<3x1x3x3xf32> {mpc.param = "conv.weight"},
                   %b: tensor<3xf32> {mpc.param = "conv.bias"}, %t: tensor<7x4xf32> {mpc.param = "emb"},
                   %ids: tensor<5xi64> {mpc.input = "ids"}) -> (tensor<f32>, tensor<f32>) {
  %c = "mpc.conv2d"(%x, %w, %b) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x1x6x6xf32>, tensor<3x1x3x3xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
  %p = "mpc.max_pool2d"(%c) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : (tensor<2x3x4x4xf32>) -> tensor<2x3x2x2xf32>
  %s = "mpc.reduce_sum"(%p) {axes = array<i64: 0, 1, 2, 3>, keepdim = false} : (tensor<2x3x2x2xf32>) -> tensor<f32>
  %e = "mpc.embedding"(%t, %ids) : (tensor<7x4xf32>, tensor<5xi64>) -> tensor<5x4xf32>
  %q = "mpc.mul"(%e, %e) : (tensor<5x4xf32>, tensor<5x4xf32>) -> tensor<5x4xf32>
  %s2 = "mpc.reduce_mean"(%q) {axes = array<i64: 0, 1>, keepdim = false} : (tensor<5x4xf32>) -> tensor<f32>
  %l = "mpc.add"(%s, %s2) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %l, %s : tensor<f32>, tensor<f32>
}
