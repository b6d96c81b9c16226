// --mpc-fold-casts removes cast chains that change nothing, keeps lossy ones,
// and erases casts left without users.
// RUN: mpc-opt --mpc-fold-casts --split-input-file %s | FileCheck %s

// CHECK-LABEL: func.func @round_trip
// CHECK-NEXT: %[[R:.+]] = "mpc.relu"(%arg0) : (tensor<4xf16>) -> tensor<4xf16>
// CHECK-NEXT: return %[[R]]
func.func @round_trip(%x: tensor<4xf16>) -> tensor<4xf16> {
  %0 = arith.extf %x : tensor<4xf16> to tensor<4xf32>
  %1 = arith.truncf %0 : tensor<4xf32> to tensor<4xf16>
  %2 = "mpc.relu"(%1) : (tensor<4xf16>) -> tensor<4xf16>
  return %2 : tensor<4xf16>
}

// -----

// COM: Rounding first then widening loses bits: kept.
// CHECK-LABEL: func.func @lossy
// CHECK-NEXT: arith.truncf %arg0 : tensor<4xf32> to tensor<4xf16>
// CHECK-NEXT: arith.extf
func.func @lossy(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = arith.truncf %x : tensor<4xf32> to tensor<4xf16>
  %1 = arith.extf %0 : tensor<4xf16> to tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// COM: Widening twice is one widening; a narrower round trip is a widening.
// CHECK-LABEL: func.func @chains
// CHECK-DAG: %[[A:.+]] = arith.extf %arg0 : tensor<4xf16> to tensor<4xf64>
// CHECK-DAG: %[[B:.+]] = arith.extf %arg0 : tensor<4xf16> to tensor<4xf32>
// CHECK: return %[[A]], %[[B]]
func.func @chains(%x: tensor<4xf16>) -> (tensor<4xf64>, tensor<4xf32>) {
  %0 = arith.extf %x : tensor<4xf16> to tensor<4xf32>
  %1 = arith.extf %0 : tensor<4xf32> to tensor<4xf64>
  %2 = arith.extf %x : tensor<4xf16> to tensor<4xf64>
  %3 = arith.truncf %2 : tensor<4xf64> to tensor<4xf32>
  return %1, %3 : tensor<4xf64>, tensor<4xf32>
}

// -----

// COM: bf16 -> f32 -> f16 is a real conversion: kept.
// CHECK-LABEL: func.func @bf16_to_f16
// CHECK-NEXT: arith.extf %arg0 : tensor<4xbf16> to tensor<4xf32>
// CHECK-NEXT: arith.truncf
func.func @bf16_to_f16(%x: tensor<4xbf16>) -> tensor<4xf16> {
  %0 = arith.extf %x : tensor<4xbf16> to tensor<4xf32>
  %1 = arith.truncf %0 : tensor<4xf32> to tensor<4xf16>
  return %1 : tensor<4xf16>
}

// -----

// COM: Dead casts go, other dead ops stay (they are canonicalize's job).
// CHECK-LABEL: func.func @dead
// CHECK-NOT: arith.extf
// CHECK: arith.addf
// CHECK-NEXT: return
func.func @dead(%x: tensor<4xf16>, %y: tensor<4xf32>) {
  %0 = arith.extf %x : tensor<4xf16> to tensor<4xf32>
  %1 = arith.truncf %0 : tensor<4xf32> to tensor<4xf16>
  %2 = arith.addf %y, %y : tensor<4xf32>
  return
}

// -----

// COM: Nothing to fold.
// CHECK-LABEL: func.func @unchanged
// CHECK-NEXT: %[[T:.+]] = arith.truncf %arg0 : tensor<4xf32> to tensor<4xf16>
// CHECK-NEXT: %[[R:.+]] = "mpc.relu"(%[[T]])
// CHECK-NEXT: return %[[R]]
func.func @unchanged(%x: tensor<4xf32>) -> tensor<4xf16> {
  %0 = arith.truncf %x : tensor<4xf32> to tensor<4xf16>
  %1 = "mpc.relu"(%0) : (tensor<4xf16>) -> tensor<4xf16>
  return %1 : tensor<4xf16>
}
