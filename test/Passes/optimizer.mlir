// --mpc-optimizer turns @forward_grad into @train_step (docs/training.md).
// RUN: mpc-opt --train=sgd --mpc-autodiff --mpc-optimizer %s | FileCheck %s --check-prefix=SGD
// RUN: mpc-opt --train=momentum:nesterov=true,weight_decay=0.0001 --mpc-autodiff --mpc-optimizer %s | FileCheck %s --check-prefix=MOM
// RUN: mpc-opt --train=adamw:beta2=0.95,eps=1e-6 --precision=16-mixed %s | FileCheck %s --check-prefix=ADAM
// RUN: mpc-opt --train=sgd:rounding=stochastic --precision=bf16-true %s | FileCheck %s --check-prefix=SR
// RUN: mpc-opt --train=sgd:rounding=stochastic --precision=bf16-mixed %s | FileCheck %s --check-prefix=SRMIXED

// COM: @forward is left as it was (trainers evaluate it for --eval).
// SGD-LABEL: func.func @forward(
// SGD-NEXT: %[[H:.+]] = "mpc.linear"(%arg0, %arg2, %arg3) : (tensor<4x3xf32>, tensor<5x3xf32>, tensor<5xf32>) -> tensor<4x5xf32>
// SGD-NEXT: %[[L:.+]] = "mpc.cross_entropy"(%[[H]], %arg1) {reduction = "mean"}
// SGD-NEXT: return %[[L]], %[[H]]
// COM: Plain SGD: no optimizer state; the seed is 1; all_finite guards the
// COM: update; the count advances only on applied steps; skipped = !finite.
// SGD-LABEL: func.func @train_step(%arg0: tensor<4x3xf32> {mpc.input = "x"}, %arg1: tensor<4xi64> {mpc.input = "y"}, %arg2: tensor<5x3xf32> {mpc.param = "fc.weight"}, %arg3: tensor<5xf32> {mpc.param = "fc.bias"}, %arg4: tensor<i64> {mpc.state = "optimizer.step"}, %arg5: tensor<f32> {mpc.lr})
// SGD-SAME: -> (tensor<5x3xf32> {mpc.param = "fc.weight"}, tensor<5xf32> {mpc.param = "fc.bias"}, tensor<i64> {mpc.state = "optimizer.step"}, tensor<f32> {mpc.loss}, tensor<i1> {mpc.skipped}, tensor<4x5xf32> {mpc.metric = "result1"})
// SGD: %[[ONE:.+]] = arith.constant dense<1.000000e+00> : tensor<f32>
// SGD: "mpc.cross_entropy_grad"(%[[ONE]],
// SGD: %[[F:.+]] = "mpc.all_finite"(%[[GW:.+]], %[[GB:.+]]) :
// SGD-NEXT: %[[W:.+]] = "mpc.sgd_update"(%arg2, %[[GW]], %arg5, %arg4, %[[F]]) {rounding = "nearest", seed = 0 : i64, weight_decay = 0.000000e+00 : f64}
// SGD-NEXT: %[[B:.+]] = "mpc.sgd_update"(%arg3, %[[GB]], %arg5, %arg4, %[[F]]) {rounding = "nearest", seed = 1 : i64
// SGD-NEXT: %[[N:.+]] = "mpc.count_update"(%arg4, %[[F]]) : (tensor<i64>, tensor<i1>) -> tensor<i64>
// SGD-NEXT: %[[T:.+]] = arith.constant dense<true> : tensor<i1>
// SGD-NEXT: %[[SK:.+]] = arith.xori %[[F]], %[[T]] : tensor<i1>
// SGD-NEXT: return %[[W]], %[[B]], %[[N]], %[[L:.+]], %[[SK]], %[[H:.+]] :
// SGD-NOT: forward_grad

// MOM-LABEL: func.func @train_step
// MOM-SAME: %arg4: tensor<5x3xf32> {mpc.state = "optimizer.momentum_buffer.fc.weight"}, %arg5: tensor<5xf32> {mpc.state = "optimizer.momentum_buffer.fc.bias"}, %arg6: tensor<i64> {mpc.state = "optimizer.step"}, %arg7: tensor<f32> {mpc.lr}
// MOM: %[[U:.+]]:2 = "mpc.sgd_momentum_update"(%arg2, %{{.+}}, %arg4, %arg7, %arg6, %{{.+}}) {dampening = 0.000000e+00 : f64, momentum = 9.000000e-01 : f64, nesterov = true, rounding = "nearest", seed = 0 : i64, weight_decay = 1.000000e-04 : f64}
// MOM-SAME: -> (tensor<5x3xf32>, tensor<5x3xf32>)
// MOM: return %[[U]]#0, %{{.+}}#0, %[[U]]#1,

// COM: AdamW in 16-mixed: f32 master weights and state, the loss scaler's
// COM: finite flag shared by the updates, state in PyTorch's names.
// ADAM-LABEL: func.func @train_step
// ADAM-SAME: %arg4: tensor<2xf32> {mpc.state = "scaler"}, %arg5: tensor<5x3xf32> {mpc.state = "optimizer.exp_avg.fc.weight"}, %arg6: tensor<5x3xf32> {mpc.state = "optimizer.exp_avg_sq.fc.weight"}
// ADAM: %[[F:.+]] = "mpc.all_finite"
// ADAM-NEXT: "mpc.update_scale"(%arg4, %[[F]])
// ADAM-NEXT: "mpc.adamw_update"(%arg2, %{{.+}}, %arg5, %arg6, %arg{{[0-9]+}}, %arg{{[0-9]+}}, %[[F]]) {beta1 = 9.000000e-01 : f64, beta2 = 0.94999999999999996 : f64, eps = 9.9999999999999995E-7 : f64, rounding = "nearest", seed = 0 : i64, weight_decay = 1.000000e-02 : f64} : (tensor<5x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>, tensor<f32>, tensor<i64>, tensor<i1>) -> (tensor<5x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>)

// COM: Stochastic rounding applies to parameters stored in a 16-bit type.
// SR: "mpc.sgd_update"(%arg2, %{{.+}}) {rounding = "stochastic", seed = 0 : i64, {{.*}}} : (tensor<5x3xbf16>, tensor<5x3xbf16>, tensor<f32>, tensor<i64>, tensor<i1>) -> tensor<5x3xbf16>
// SRMIXED: "mpc.sgd_update"(%arg2, %{{.+}}) {rounding = "nearest", {{.*}}} : (tensor<5x3xf32>,
func.func @forward(%x: tensor<4x3xf32> {mpc.input = "x"}, %y: tensor<4xi64> {mpc.input = "y"},
                   %w: tensor<5x3xf32> {mpc.param = "fc.weight"}, %b: tensor<5xf32> {mpc.param = "fc.bias"}) -> (tensor<f32>, tensor<4x5xf32>) {
  %h = "mpc.linear"(%x, %w, %b) : (tensor<4x3xf32>, tensor<5x3xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %l = "mpc.cross_entropy"(%h, %y) {reduction = "mean"} : (tensor<4x5xf32>, tensor<4xi64>) -> tensor<f32>
  return %l, %h : tensor<f32>, tensor<4x5xf32>
}
