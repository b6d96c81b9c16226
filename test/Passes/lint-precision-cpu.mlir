// bf16 modes on a CPU target without AVX512-BF16 get a warning; the CPU's
// flags come from MPC_CPU_FLAGS here so the test does not depend on the host.
// RUN: env MPC_CPU_FLAGS="fpu avx512f avx512bw" mpc-opt --precision=bf16-mixed --verify-diagnostics %s
// RUN: env MPC_CPU_FLAGS="fpu avx512f avx512bw" mpc-opt --precision=bf16-true --verify-diagnostics %s
// RUN: env MPC_CPU_FLAGS="avx512f avx512_bf16" mpc-opt --precision=bf16-mixed %s 2>&1 | FileCheck %s --check-prefix=QUIET
// RUN: env MPC_CPU_FLAGS="fpu" mpc-opt --precision=bf16-mixed --target=cuda %s 2>&1 | FileCheck %s --check-prefix=QUIET
// RUN: env MPC_CPU_FLAGS="fpu" mpc-opt --precision=16-mixed %s 2>&1 | FileCheck %s --check-prefix=QUIET
// QUIET-NOT: warning

// expected-warning@+1 {{on a CPU without AVX512-BF16: bf16 arithmetic is emulated and will be slow}}
func.func @f(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  %0 = "mpc.linear"(%x, %w) : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}
