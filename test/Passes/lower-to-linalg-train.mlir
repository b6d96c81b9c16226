// --mpc-lower-to-linalg on the training ops: scalar code on the 0-d state,
// one generic per tensor reduction or update.
// RUN: mpc-opt --split-input-file --mpc-lower-to-linalg %s | FileCheck %s

// COM: all_finite: one i1 and-reduction per gradient (x - x == 0 only for
// COM: finite x), combined as scalars.
// CHECK-LABEL: func.func @finite
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%arg0 : tensor<4xf32>) outs(%{{.*}} : tensor<i1>)
// CHECK: %[[D:.+]] = arith.subf %[[X:.+]], %[[X]] : f32
// CHECK-NEXT: %[[OK:.+]] = arith.cmpf oeq, %[[D]], %{{.*}} : f32
// CHECK-NEXT: arith.andi %[[OK]], %out : i1
// CHECK: linalg.generic {{.*}} ins(%arg1 : tensor<2x3xbf16>)
// CHECK: arith.andi %{{.*}}, %{{.*}} : i1
// CHECK: tensor.from_elements %{{.*}} : tensor<i1>
func.func @finite(%a: tensor<4xf32>, %b: tensor<2x3xbf16>) -> tensor<i1> {
  %0 = "mpc.all_finite"(%a, %b) : (tensor<4xf32>, tensor<2x3xbf16>) -> tensor<i1>
  return %0 : tensor<i1>
}

// -----

// COM: update_scale: GradScaler's rule as scalar code; growth only when the
// COM: grown scale is finite; the skipped flag is the xor of finite and true.
// CHECK-LABEL: func.func @scaler
// CHECK: %[[S:.+]] = tensor.extract %arg0[%{{.*}}] : tensor<2xf32>
// CHECK: arith.mulf %[[S]], %{{.*}} : f32
// CHECK: arith.cmpf one, %{{.*}}, %{{.*}} : f32
// CHECK: tensor.from_elements %{{.*}}, %{{.*}} : tensor<2xf32>
// CHECK: arith.extui %{{.*}} : i1 to i64
// CHECK: tensor.from_elements %{{.*}} : tensor<i64>
// CHECK: arith.xori %{{.*}}, %{{.*}} : i1
func.func @scaler(%s: tensor<2xf32>, %ok: tensor<i1>, %n: tensor<i64>) -> (tensor<2xf32>, tensor<i64>, tensor<i1>) {
  %0 = "mpc.update_scale"(%s, %ok) {growth = 2.0 : f64, backoff = 0.5 : f64, interval = 2000 : i64} : (tensor<2xf32>, tensor<i1>) -> tensor<2xf32>
  %1 = "mpc.count_update"(%n, %ok) : (tensor<i64>, tensor<i1>) -> tensor<i64>
  %t = arith.constant dense<true> : tensor<i1>
  %2 = arith.xori %ok, %t : tensor<i1>
  return %0, %1, %2 : tensor<2xf32>, tensor<i64>, tensor<i1>
}

// -----

// COM: An update computes in f32 and rounds once to the stored bf16; a step
// COM: that is not finite selects the old values; adamw has one generic with
// COM: three results.
// CHECK-LABEL: func.func @updates
// CHECK: %[[F:.+]] = tensor.extract %arg4[] : tensor<i1>
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<4xbf16>, tensor<4xbf16>) outs(%{{.*}} : tensor<4xbf16>)
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK: %[[P:.+]] = arith.truncf %{{.*}} : f32 to bf16
// CHECK-NEXT: arith.select %[[F]], %[[P]], %in : bf16
// CHECK: %{{.+}}:3 = linalg.generic
// CHECK-SAME: outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK: math.sqrt %{{.*}} : f32
// CHECK: linalg.yield %{{.*}}, %{{.*}}, %{{.*}} : f32, f32, f32
func.func @updates(%p: tensor<4xbf16>, %g: tensor<4xbf16>, %lr: tensor<f32>, %n: tensor<i64>, %ok: tensor<i1>,
                   %q: tensor<4xf32>, %h: tensor<4xf32>) -> (tensor<4xbf16>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = "mpc.sgd_update"(%p, %g, %lr, %n, %ok) {weight_decay = 0.0 : f64, rounding = "nearest", seed = 0 : i64} : (tensor<4xbf16>, tensor<4xbf16>, tensor<f32>, tensor<i64>, tensor<i1>) -> tensor<4xbf16>
  %1:3 = "mpc.adamw_update"(%q, %h, %q, %q, %lr, %n, %ok) {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-08 : f64, weight_decay = 0.01 : f64, rounding = "nearest", seed = 1 : i64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<i64>, tensor<i1>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %0, %1#0, %1#1, %1#2 : tensor<4xbf16>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
