// --mpc-loss-scaling on @forward_grad: GradScaler's scheme, chosen per mode.
// RUN: mpc-opt --precision=16-mixed --mpc-autodiff --mpc-loss-scaling %s | FileCheck %s --check-prefix=DYN
// RUN: mpc-opt --precision=32-true --loss-scale=dynamic:init=1024,growth=4,backoff=0.25,interval=10 --mpc-autodiff --mpc-loss-scaling %s | FileCheck %s --check-prefix=KEYS
// RUN: mpc-opt --precision=bf16-mixed --loss-scale=static:128 --mpc-autodiff --mpc-loss-scaling %s | FileCheck %s --check-prefix=STATIC
// COM: bf16-mixed scales nothing by default: @forward_grad is left as it was.
// RUN: mpc-opt --precision=bf16-mixed --mpc-autodiff %s > %t.grad.mlir
// RUN: mpc-opt --precision=bf16-mixed --mpc-loss-scaling %t.grad.mlir > %t.after.mlir
// RUN: mpc-opt %t.grad.mlir | diff - %t.after.mlir
// RUN: mpc-opt --precision=16-mixed --loss-scale=none --mpc-loss-scaling %t.grad.mlir | diff - %t.after.mlir

// COM: Dynamic (the 16-mixed default): the seed becomes scale_loss(1, scaler),
// COM: every gradient is unscaled, all are checked at once, the scale updated.
// DYN-LABEL: func.func @forward_grad
// DYN-SAME: %arg4: tensor<2xf32> {mpc.state = "scaler"})
// DYN-SAME: -> (tensor<f32>, tensor<5x3xf32> {mpc.grad = "fc.weight"}, tensor<5xf32> {mpc.grad = "fc.bias"}, tensor<i1> {mpc.finite}, tensor<2xf32> {mpc.state = "scaler"})
// DYN-NOT: mpc.seed
// DYN: %[[ONE:.+]] = arith.constant dense<1.000000e+00> : tensor<f32>
// DYN-NEXT: %[[SEED:.+]] = "mpc.scale_loss"(%[[ONE]], %arg4) : (tensor<f32>, tensor<2xf32>) -> tensor<f32>
// DYN: "mpc.cross_entropy_grad"(%[[SEED]],
// DYN: %[[U1:.+]] = "mpc.unscale"(%{{.+}}, %arg4) : (tensor<5x3xf32>, tensor<2xf32>) -> tensor<5x3xf32>
// DYN-NEXT: %[[U2:.+]] = "mpc.unscale"(%{{.+}}, %arg4) : (tensor<5xf32>, tensor<2xf32>) -> tensor<5xf32>
// DYN-NEXT: %[[F:.+]] = "mpc.all_finite"(%[[U1]], %[[U2]]) : (tensor<5x3xf32>, tensor<5xf32>) -> tensor<i1>
// DYN-NEXT: %[[S:.+]] = "mpc.update_scale"(%arg4, %[[F]]) {backoff = 5.000000e-01 : f64, growth = 2.000000e+00 : f64, interval = 2000 : i64}
// DYN-NEXT: return %{{.+}}, %[[U1]], %[[U2]], %[[F]], %[[S]]

// KEYS: "mpc.update_scale"(%arg4, %{{.+}}) {backoff = 2.500000e-01 : f64, growth = 4.000000e+00 : f64, interval = 10 : i64}

// COM: Static: a constant scale, no state, no update; bf16-mixed with a
// COM: scaler only when asked for.
// STATIC-LABEL: func.func @forward_grad
// STATIC-NOT: mpc.state
// STATIC: %[[C:.+]] = arith.constant dense<[1.280000e+02, 0.000000e+00]> : tensor<2xf32>
// STATIC: "mpc.scale_loss"(%{{.+}}, %[[C]])
// STATIC: "mpc.unscale"(%{{.+}}, %[[C]])
// STATIC: "mpc.all_finite"
// STATIC-NOT: mpc.update_scale
// STATIC: return
func.func @forward(%x: tensor<4x3xf32> {mpc.input = "x"}, %y: tensor<4xi64> {mpc.input = "y"},
                   %w: tensor<5x3xf32> {mpc.param = "fc.weight"}, %b: tensor<5xf32> {mpc.param = "fc.bias"}) -> tensor<f32> {
  %h = "mpc.linear"(%x, %w, %b) : (tensor<4x3xf32>, tensor<5x3xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %l = "mpc.cross_entropy"(%h, %y) {reduction = "mean"} : (tensor<4x5xf32>, tensor<4xi64>) -> tensor<f32>
  return %l : tensor<f32>
}
