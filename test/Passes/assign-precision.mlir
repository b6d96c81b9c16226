// --mpc-assign-precision records each op's compute type as mpc.precision and
// changes no type.
// RUN: mpc-opt --precision=16-mixed --mpc-assign-precision --split-input-file %s | FileCheck %s --check-prefix=MIXED
// RUN: mpc-opt --precision=bf16-mixed --mpc-assign-precision --split-input-file %s | FileCheck %s --check-prefix=BF16
// RUN: mpc-opt --precision=16-true --mpc-assign-precision --split-input-file %s | FileCheck %s --check-prefix=TRUE16
// RUN: mpc-opt --precision=64-true --mpc-assign-precision --split-input-file %s | FileCheck %s --check-prefix=F64
// RUN: mpc-opt --precision=32-true --mpc-assign-precision --split-input-file %s | FileCheck %s --check-prefix=F32

// MIXED-LABEL: func.func @classes
// MIXED: "mpc.linear"{{.*}}mpc.precision = "f16"{{.*}} -> tensor<4x16xf32>
// MIXED: "mpc.relu"{{.*}}mpc.precision = "f16"
// MIXED: "mpc.softmax"{{.*}}mpc.precision = "f32"
// MIXED: "mpc.tanh"{{.*}}mpc.precision = "f32"
// MIXED: "mpc.matmul"{{.*}}mpc.precision = "f16"
// MIXED: "mpc.add"{{.*}}mpc.precision = "f16"
// MIXED: "mpc.add"{{.*}}mpc.precision = "f32"
// BF16-LABEL: func.func @classes
// BF16: "mpc.linear"{{.*}}mpc.precision = "bf16"
// BF16: "mpc.relu"{{.*}}mpc.precision = "bf16"
// BF16: "mpc.softmax"{{.*}}mpc.precision = "f32"
// TRUE16-LABEL: func.func @classes
// TRUE16-COUNT-7: mpc.precision = "f16"
// F64-LABEL: func.func @classes
// F64-COUNT-7: mpc.precision = "f64"
// F32-LABEL: func.func @classes
// F32-COUNT-7: mpc.precision = "f32"
func.func @classes(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %m: tensor<16x4xf32>, %b: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = "mpc.linear"(%x, %w) : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  // COM: follow after a lower op stays low.
  %1 = "mpc.relu"(%0) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %2 = "mpc.softmax"(%1) {axis = 1 : i64} : (tensor<4x16xf32>) -> tensor<4x16xf32>
  // COM: follow after an fp32 op stays f32 until the next lower op.
  %3 = "mpc.tanh"(%2) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %4 = "mpc.matmul"(%3, %m) : (tensor<4x16xf32>, tensor<16x4xf32>) -> tensor<4x4xf32>
  // COM: promote: f16 with f16 is f16; f16 with f32 (an argument) is f32.
  %5 = "mpc.add"(%4, %4) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %6 = "mpc.add"(%5, %b) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %6 : tensor<4x4xf32>
}

// -----

// COM: Rank-0 tensors and splat constants follow their partner in promotion.
// MIXED-LABEL: func.func @scalars
// MIXED: %[[L:.+]] = "mpc.linear"{{.*}}mpc.precision = "f16"
// MIXED: "mpc.mul"(%[[L]], %arg2) {mpc.precision = "f16"}
// MIXED: "mpc.add"(%[[L]], %cst) {mpc.precision = "f16"}
// MIXED: "mpc.sub"(%[[L]], %arg3) {mpc.precision = "f32"}
// MIXED: "mpc.div"(%arg2, %cst) {mpc.precision = "f32"}
func.func @scalars(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %s: tensor<f32>, %y: tensor<4x16xf32>) {
  %0 = "mpc.linear"(%x, %w) : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %1 = "mpc.mul"(%0, %s) : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %c = arith.constant dense<2.0> : tensor<4x16xf32>
  %2 = "mpc.add"(%0, %c) : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  // COM: a full tensor does take part: f16 with f32 gives f32.
  %3 = "mpc.sub"(%0, %y) : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  // COM: only scalars: the widest of them.
  %4 = "mpc.div"(%s, %c) : (tensor<f32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return
}

// -----

// COM: An op that carries mpc.precision keeps it (a pin) in every mode.
// MIXED-LABEL: func.func @pinned
// MIXED: "mpc.linear"{{.*}}mpc.precision = "f32"
// MIXED: "mpc.softmax"{{.*}}mpc.precision = "f16"
// TRUE16-LABEL: func.func @pinned
// TRUE16: "mpc.linear"{{.*}}mpc.precision = "f32"
// F64-LABEL: func.func @pinned
// F64: "mpc.linear"{{.*}}mpc.precision = "f32"
func.func @pinned(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) {
  %0 = "mpc.linear"(%x, %w) {mpc.precision = "f32"} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %1 = "mpc.softmax"(%0) {axis = 1 : i64, mpc.precision = "f16"} : (tensor<4x16xf32>) -> tensor<4x16xf32>
  return
}

// -----

// COM: {mpc.autocast = false} keeps every op as written, in every mode.
// MIXED-LABEL: func.func @no_autocast
// MIXED: "mpc.linear"{{.*}}mpc.precision = "f32"
// MIXED: "mpc.relu"{{.*}}mpc.precision = "f64"
// TRUE16-LABEL: func.func @no_autocast
// TRUE16: "mpc.linear"{{.*}}mpc.precision = "f32"
func.func @no_autocast(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %d: tensor<3xf64>) attributes {mpc.autocast = false} {
  %0 = "mpc.linear"(%x, %w) : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %1 = "mpc.relu"(%d) : (tensor<3xf64>) -> tensor<3xf64>
  return
}

// -----

// COM: Ops in nested regions are assigned too; in true modes a follow op
// COM: reads the argument's new type.
// MIXED-LABEL: func.func @nested
// MIXED: scf.execute_region
// MIXED: "mpc.linear"{{.*}}mpc.precision = "f16"
// TRUE16-LABEL: func.func @nested
// TRUE16: "mpc.neg"{{.*}}mpc.precision = "f16"
func.func @nested(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x8xf32> {
  %r = scf.execute_region -> tensor<4x16xf32> {
    %0 = "mpc.linear"(%x, %w) : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
    scf.yield %0 : tensor<4x16xf32>
  }
  %n = "mpc.neg"(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}

// -----

// COM: Nothing to decide: no mpc op, integer tensors untouched.
// MIXED-LABEL: func.func @integers
// MIXED-NEXT: return %arg0 : tensor<4xi64>
// MIXED-NOT: mpc.precision
func.func @integers(%i: tensor<4xi64>) -> tensor<4xi64> {
  return %i : tensor<4xi64>
}
