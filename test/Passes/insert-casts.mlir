// --mpc-insert-casts makes types follow mpc.precision: one cast per value and
// type, placed after the definition.
// RUN: mpc-opt --mpc-insert-casts --split-input-file %s | FileCheck %s
// RUN: mpc-opt --precision=16-true --mpc-insert-casts --split-input-file %s | FileCheck %s --check-prefix=TRUE16

// COM: A weight used by three ops is cast once; results take the compute type.
// CHECK-LABEL: func.func @shared_weight
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32>, %[[W:.+]]: tensor<8x8xf32>)
// CHECK-NEXT: %[[XH:.+]] = arith.truncf %[[X]] : tensor<4x8xf32> to tensor<4x8xf16>
// CHECK-NEXT: %[[WH:.+]] = arith.truncf %[[W]] : tensor<8x8xf32> to tensor<8x8xf16>
// CHECK-NEXT: %[[A:.+]] = "mpc.linear"(%[[XH]], %[[WH]]) {mpc.precision = "f16"} : (tensor<4x8xf16>, tensor<8x8xf16>) -> tensor<4x8xf16>
// CHECK-NEXT: %[[B:.+]] = "mpc.linear"(%[[A]], %[[WH]])
// CHECK-NEXT: %[[C:.+]] = "mpc.linear"(%[[B]], %[[WH]])
// CHECK-NEXT: %[[CF:.+]] = arith.extf %[[C]] : tensor<4x8xf16> to tensor<4x8xf32>
// CHECK-NEXT: "mpc.softmax"(%[[CF]])
// CHECK-NOT: arith.truncf
func.func @shared_weight(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %0 = "mpc.linear"(%x, %w) {mpc.precision = "f16"} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %1 = "mpc.linear"(%0, %w) {mpc.precision = "f16"} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %2 = "mpc.linear"(%1, %w) {mpc.precision = "f16"} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %3 = "mpc.softmax"(%2) {axis = 1 : i64, mpc.precision = "f32"} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %3 : tensor<4x8xf32>
}

// -----

// COM: A value used in two types gets one cast per type, each reused.
// CHECK-LABEL: func.func @two_types
// CHECK-DAG: arith.truncf %arg0 : tensor<4xf32> to tensor<4xf16>
// CHECK-DAG: arith.truncf %arg0 : tensor<4xf32> to tensor<4xbf16>
// CHECK-NOT: arith.truncf
// CHECK: return
func.func @two_types(%x: tensor<4xf32>) {
  %0 = "mpc.relu"(%x) {mpc.precision = "f16"} : (tensor<4xf32>) -> tensor<4xf32>
  %1 = "mpc.tanh"(%x) {mpc.precision = "bf16"} : (tensor<4xf32>) -> tensor<4xf32>
  %2 = "mpc.neg"(%x) {mpc.precision = "f16"} : (tensor<4xf32>) -> tensor<4xf32>
  %3 = "mpc.sigmoid"(%x) {mpc.precision = "bf16"} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// COM: f16 to bf16 goes through f32: neither holds the other.
// CHECK-LABEL: func.func @f16_to_bf16
// CHECK: %[[E:.+]] = arith.extf %arg0 : tensor<4xf16> to tensor<4xf32>
// CHECK-NEXT: %[[T:.+]] = arith.truncf %[[E]] : tensor<4xf32> to tensor<4xbf16>
// CHECK-NEXT: "mpc.relu"(%[[T]]) {mpc.precision = "bf16"} : (tensor<4xbf16>) -> tensor<4xbf16>
func.func @f16_to_bf16(%x: tensor<4xf16>) {
  %0 = "mpc.relu"(%x) {mpc.precision = "bf16"} : (tensor<4xf16>) -> tensor<4xf16>
  return
}

// -----

// COM: Users that are not mpc ops get the type they had back; func.return
// COM: makes the signature follow (the loss keeps its op's compute type).
// CHECK-LABEL: func.func @other_users
// CHECK-SAME: -> (tensor<f16>, tensor<4xf32>)
// CHECK: %[[R:.+]] = "mpc.relu"{{.*}} -> tensor<4xf16>
// CHECK-NEXT: %[[BACK:.+]] = arith.extf %[[R]] : tensor<4xf16> to tensor<4xf32>
// CHECK: %[[S:.+]] = arith.addf %[[BACK]], %[[BACK]] : tensor<4xf32>
// CHECK: %[[L:.+]] = "mpc.mse_loss"{{.*}} -> tensor<f16>
// CHECK: return %[[L]], %[[S]] : tensor<f16>, tensor<4xf32>
func.func @other_users(%x: tensor<4xf32>) -> (tensor<f32>, tensor<4xf32>) {
  %0 = "mpc.relu"(%x) {mpc.precision = "f16"} : (tensor<4xf32>) -> tensor<4xf32>
  %1 = arith.addf %0, %0 : tensor<4xf32>
  %2 = "mpc.mse_loss"(%0, %0) {reduction = "mean", mpc.precision = "f16"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<f32>
  return %2, %1 : tensor<f32>, tensor<4xf32>
}

// -----

// COM: Integer operands are never cast; ops without mpc.precision keep their
// COM: type (in true modes their retyped operands are cast back).
// CHECK-LABEL: func.func @integers_and_undecided
// CHECK: %[[T:.+]] = arith.truncf %arg0 : tensor<2x5xf32> to tensor<2x5xf16>
// CHECK-NEXT: "mpc.cross_entropy"(%[[T]], %arg1) {mpc.precision = "f16", reduction = "sum"} : (tensor<2x5xf16>, tensor<2xi64>) -> tensor<f16>
// CHECK: "mpc.relu"(%arg0) : (tensor<2x5xf32>) -> tensor<2x5xf32>
// TRUE16-LABEL: func.func @integers_and_undecided
// TRUE16-SAME: (%arg0: tensor<2x5xf16>, %arg1: tensor<2xi64>)
// TRUE16: %[[E:.+]] = arith.extf %arg0 : tensor<2x5xf16> to tensor<2x5xf32>
// TRUE16: "mpc.relu"(%[[E]]) : (tensor<2x5xf32>) -> tensor<2x5xf32>
func.func @integers_and_undecided(%l: tensor<2x5xf32>, %y: tensor<2xi64>) {
  %0 = "mpc.cross_entropy"(%l, %y) {reduction = "sum", mpc.precision = "f16"} : (tensor<2x5xf32>, tensor<2xi64>) -> tensor<f32>
  %1 = "mpc.relu"(%l) : (tensor<2x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

// COM: Nothing to do: every op already has its compute type.
// CHECK-LABEL: func.func @unchanged
// CHECK-NEXT: %[[A:.+]] = "mpc.relu"(%arg0) {mpc.precision = "f32"} : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT: return %[[A]] : tensor<4xf32>
// TRUE16-LABEL: func.func @unchanged
// TRUE16-SAME: (%arg0: tensor<4xf16>) -> tensor<4xf32>
// TRUE16-NEXT: %[[E:.+]] = arith.extf %arg0 : tensor<4xf16> to tensor<4xf32>
// TRUE16-NEXT: "mpc.relu"(%[[E]]) {mpc.precision = "f32"}
func.func @unchanged(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "mpc.relu"(%x) {mpc.precision = "f32"} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// COM: In true modes float arguments change type (integer ones do not); an
// COM: argument returned directly changes the signature too.
// TRUE16-LABEL: func.func @true_mode_arguments
// TRUE16-SAME: (%arg0: tensor<4xf16>, %arg1: tensor<4xi64>, %arg2: tensor<4xf16>) -> (tensor<4xf16>, tensor<4xf16>)
// TRUE16-NEXT: %[[N:.+]] = "mpc.neg"(%arg0) {mpc.precision = "f16"} : (tensor<4xf16>) -> tensor<4xf16>
// TRUE16-NEXT: return %[[N]], %arg2
func.func @true_mode_arguments(%x: tensor<4xf32>, %i: tensor<4xi64>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = "mpc.neg"(%x) {mpc.precision = "f16"} : (tensor<4xf32>) -> tensor<4xf32>
  return %0, %y : tensor<4xf32>, tensor<4xf32>
}

// -----

// COM: Unranked tensors are left alone, even in true modes (found by the fuzzer).
// TRUE16-LABEL: func.func @unranked
// TRUE16-SAME: (%arg0: tensor<*xf32>, %arg1: tensor<4xf16>) -> tensor<4xf16>
func.func @unranked(%u: tensor<*xf32>, %x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "mpc.relu"(%x) {mpc.precision = "f16"} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// COM: A true mode changes an argument's type; the user's own cast of it
// COM: reads a cast back that is placed before it (not after, which would
// COM: not dominate).
// RUN: mpc-opt --precision=64-true %S/Inputs/arg-cast-first.mlir | FileCheck %s --check-prefix=ARGCAST
// ARGCAST: %[[BACK:.+]] = arith.truncf %arg0 : tensor<3x4xf64> to tensor<3x4xf32>
// ARGCAST-NEXT: %[[MINE:.+]] = arith.truncf %[[BACK]] : tensor<3x4xf32> to tensor<3x4xbf16>
// ARGCAST-NEXT: arith.extf %[[MINE]] : tensor<3x4xbf16> to tensor<3x4xf64>
