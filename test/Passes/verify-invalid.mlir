// --mpc-verify fails the pipeline on a bad op nested in another op's region.
// RUN: mpc-opt --mpc-verify --verify-diagnostics %s

func.func @nested(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = scf.execute_region -> tensor<4xf32> {
    // expected-error@+1 {{'mpc.tanh' op result type must be 'tensor<4xf32>', got 'tensor<4xf16>'}}
    %0 = "mpc.tanh"(%x) : (tensor<4xf32>) -> tensor<4xf16>
    scf.yield %x : tensor<4xf32>
  }
  return %r : tensor<4xf32>
}
