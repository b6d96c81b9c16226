// Chunks are processed independently, printed with '// -----' between them,
// and errors carry the line numbers of the original file.
// RUN: mpc-opt --split-input-file %s 2>&1 | FileCheck %s
// RUN: not mpc-opt --split-input-file %S/Inputs/split-one-bad.mlir 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not mpc-opt %s 2>&1 | FileCheck %s --check-prefix=WHOLE

// CHECK: func.func @first
// CHECK: // -----
// CHECK: func.func @second
// CHECK: // -----
// CHECK: func.func @third
func.func @first(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "mpc.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// COM: The same name in another chunk is fine: chunks do not see each other.
func.func @second(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

func.func @third(%x: tensor<2xf16>) -> tensor<2xf16> {
  %0 = "mpc.neg"(%x) : (tensor<2xf16>) -> tensor<2xf16>
  return %0 : tensor<2xf16>
}

// -----

func.func @second(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// BAD: split-one-bad.mlir:7:8: error: 'mpc.relu' op result type must be 'tensor<4xf32>', got 'tensor<5xf32>'
// BAD-NOT: @good

// COM: Without the flag the file is one module, and @second is defined twice.
// WHOLE: split-input-file.mlir:33:1: error: redefinition of symbol named 'second'
