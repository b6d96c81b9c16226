// RUN: mpc-opt --split-input-file --mpc-lower-to-linalg %s | FileCheck %s

// Elementwise ops become one linalg.generic each, computing f16/bf16 values
// in f32 and rounding the result once; broadcast operands map size-1 dims to 0.
// CHECK-LABEL: func.func @elementwise
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK: linalg.generic {indexing_maps = [#[[BC:.*]], #[[ID:.*]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<1x8xbf16>, tensor<4x8xbf16>)
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.addf %{{.*}}, %{{.*}} : f32
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// COM: tanh in f32 is written out (an odd polynomial, or 1 - 2/(e^2|x| + 1)), so
// COM: that its loop vectorises; math-edges.test checks its values.
// CHECK: math.absf %{{.*}} : f32
// CHECK: math.floor
// CHECK: math.copysign %{{.*}}, %{{.*}} : f32
// CHECK-NOT: math.tanh
// CHECK: return
func.func @elementwise(%a: tensor<1x8xbf16>, %b: tensor<4x8xbf16>) -> tensor<4x8xbf16> {
  %0 = "mpc.add"(%a, %b) : (tensor<1x8xbf16>, tensor<4x8xbf16>) -> tensor<4x8xbf16>
  %1 = "mpc.tanh"(%0) : (tensor<4x8xbf16>) -> tensor<4x8xbf16>
  return %1 : tensor<4x8xbf16>
}

// -----

// A bf16 truncf that only feeds a matrix op is not emitted: the kernel reads
// the f32 value and rounds while packing (meta: aType=f32(2), bType=f32(2),
// cType=bf16(1), no bias(-1), batch 1, M=4, N=16, K=8, transB, compute=bf16(1),
// no epilogue).
// CHECK-LABEL: func.func @fused_cast
// CHECK-NOT: arith.truncf
// CHECK: %[[R:.*]] = call @__mpc_kernel_call_0(%arg0, %arg1) : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xbf16>
// CHECK: return %[[R]]
// CHECK: func.func private @__mpc_kernel_call_0
// CHECK: arith.constant dense<[2, 2, 1, -1, 1, 4, 16, 8, 1, 1, 0]> : tensor<11xi64>
// CHECK: bufferization.to_buffer %arg0 read_only
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<4x16xbf16>
// CHECK: call @mpcrt_kernel_matmul(
// CHECK: bufferization.to_tensor %{{.*}} restrict writable
// CHECK: func.func private @mpcrt_kernel_matmul(i64, i64, i64, i64, i64)
func.func @fused_cast(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xbf16> {
  %0 = arith.truncf %x : tensor<4x8xf32> to tensor<4x8xbf16>
  %1 = arith.truncf %w : tensor<16x8xf32> to tensor<16x8xbf16>
  %2 = "mpc.linear"(%0, %1) : (tensor<4x8xbf16>, tensor<16x8xbf16>) -> tensor<4x16xbf16>
  return %2 : tensor<4x16xbf16>
}

// -----

// A truncf to f16 fuses too: the kernel rounds its operands to f16 while
// packing and multiplies in f32 (compute code 0 = f16). A cast with a user
// that needs the tensor itself (here the return) is emitted.
// CHECK-LABEL: func.func @unfused_casts
// CHECK-NEXT: call @__mpc_kernel_call_0(%arg0, %arg1) : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf16>
// CHECK: linalg.generic
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: call @__mpc_kernel_call_1(%{{.*}}, %arg1) : (tensor<4x8xbf16>, tensor<16x8xf32>)
// CHECK: func.func private @__mpc_kernel_call_0
// CHECK: arith.constant dense<[2, 2, 0, -1, 1, 4, 16, 8, 1, 0, 0]>
func.func @unfused_casts(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> (tensor<4x16xf16>, tensor<4x8xbf16>, tensor<4x16xbf16>) {
  %0 = arith.truncf %x : tensor<4x8xf32> to tensor<4x8xf16>
  %1 = arith.truncf %w : tensor<16x8xf32> to tensor<16x8xf16>
  %2 = "mpc.linear"(%0, %1) : (tensor<4x8xf16>, tensor<16x8xf16>) -> tensor<4x16xf16>
  %3 = arith.truncf %x : tensor<4x8xf32> to tensor<4x8xbf16>
  %4 = arith.truncf %w : tensor<16x8xf32> to tensor<16x8xbf16>
  %5 = "mpc.linear"(%3, %4) : (tensor<4x8xbf16>, tensor<16x8xbf16>) -> tensor<4x16xbf16>
  return %2, %3, %5 : tensor<4x16xf16>, tensor<4x8xbf16>, tensor<4x16xbf16>
}

// -----

// Reductions accumulate in f32 whatever the element type, then round.
// CHECK-LABEL: func.func @reduce
// CHECK: %[[INIT:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<4xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]{{.*}} outs(%[[INIT]] : tensor<4xf32>)
// CHECK: arith.addf %{{.*}}, %out : f32
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [4, 1] : tensor<4xf16> into tensor<4x1xf16>
func.func @reduce(%x: tensor<4x8xf16>) -> tensor<4x1xf16> {
  %0 = "mpc.reduce_mean"(%x) {axes = array<i64: 1>, keepdim = true} : (tensor<4x8xf16>) -> tensor<4x1xf16>
  return %0 : tensor<4x1xf16>
}

// -----

// Data movement lowers to the tensor dialect.
// CHECK-LABEL: func.func @movement
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1, 2]] : tensor<2x3x4xf32> into tensor<24xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [6, 4] : tensor<24xf32> into tensor<6x4xf32>
// CHECK: tensor.extract_slice %{{.*}}[1, 0] [2, 4] [1, 1] : tensor<6x4xf32> to tensor<2x4xf32>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<4x4xf32>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[2, 0] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<4x4xf32>
func.func @movement(%x: tensor<2x3x4xf32>) -> tensor<4x4xf32> {
  %0 = "mpc.reshape"(%x) : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %1 = "mpc.slice"(%0) {starts = array<i64: 1, 0>, sizes = array<i64: 2, 4>} : (tensor<6x4xf32>) -> tensor<2x4xf32>
  %2 = "mpc.concat"(%1, %1) {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<4x4xf32>
  return %2 : tensor<4x4xf32>
}

// -----

// Nothing to lower: the function comes back as it was, plus the C interface.
// CHECK-LABEL: func.func @identity(%arg0: tensor<4xf32> {mpc.input = "x"}) -> tensor<4xf32> attributes {llvm.emit_c_interface} {
// CHECK-NEXT: return %arg0 : tensor<4xf32>
// CHECK-NEXT: }
func.func @identity(%x: tensor<4xf32> {mpc.input = "x"}) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

// A cast whose users all lower to generics is not emitted: each generic
// reads the uncast tensor and applies the cast in its body, rounding as the
// cast would (here f32 -> f16, then f16 -> f32 for the arithmetic), so the
// cast costs no pass over memory. The gather of cross_entropy does the same.
// CHECK-LABEL: func.func @fused_into_generics
// CHECK-NOT: outs(%{{.*}} : tensor<4x8xf16>)
// CHECK: linalg.generic {{.*}} ins(%arg0 : tensor<4x8xf32>) outs(%{{.*}} : tensor<4x8xf16>)
// CHECK-NEXT: ^bb0(%[[RAW:.*]]: f32, %{{.*}}: f16):
// CHECK-NEXT: %[[H:.*]] = arith.truncf %[[RAW]] : f32 to f16
// CHECK-NEXT: arith.extf %[[H]] : f16 to f32
// CHECK: math.floor
// CHECK: arith.bitcast %{{.*}} : i32 to f32
// CHECK: tensor.extract %arg0[%{{.*}}, %{{.*}}] : tensor<4x8xf32>
// CHECK-NEXT: arith.truncf %{{.*}} : f32 to f16
func.func @fused_into_generics(%x: tensor<4x8xf32>, %y: tensor<4xi64>) -> (tensor<4x8xf16>, tensor<f16>) {
  %0 = arith.truncf %x : tensor<4x8xf32> to tensor<4x8xf16>
  %1 = "mpc.exp"(%0) : (tensor<4x8xf16>) -> tensor<4x8xf16>
  %2 = "mpc.cross_entropy"(%0, %y) {reduction = "mean"} : (tensor<4x8xf16>, tensor<4xi64>) -> tensor<f16>
  return %1, %2 : tensor<4x8xf16>, tensor<f16>
}

// -----

// A ReLU that is the only user of a matrix op becomes the GEMM's epilogue
// (last meta entry 1): no generic for it. A ReLU of a result with another
// user stays a generic.
// CHECK-LABEL: func.func @relu_epilogue
// CHECK-NEXT: %[[H:.*]] = call @__mpc_kernel_call_0(%arg0, %arg1, %arg2)
// CHECK-NEXT: %[[Y:.*]] = call @__mpc_kernel_call_1(%[[H]], %arg1, %arg2)
// CHECK: linalg.generic {{.*}} ins(%[[Y]] : tensor<4x8xf32>)
// CHECK: arith.maximumf
// CHECK: return %[[H]], %{{.*}}, %[[Y]]
// CHECK: func.func private @__mpc_kernel_call_0
// CHECK: dense<[2, 2, 2, 2, 1, 4, 8, 8, 1, 2, 1]>
// CHECK: func.func private @__mpc_kernel_call_1
// CHECK: dense<[2, 2, 2, 2, 1, 4, 8, 8, 1, 2, 0]>
func.func @relu_epilogue(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %b: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = "mpc.linear"(%x, %w, %b) : (tensor<4x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %1 = "mpc.relu"(%0) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %2 = "mpc.linear"(%1, %w, %b) : (tensor<4x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %3 = "mpc.relu"(%2) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %1, %3, %2 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}
