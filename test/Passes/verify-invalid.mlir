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

// Parameter and input names are checkpoint keys and trainer flags: one argument each.
// expected-error@+1 {{'func.func' op arguments #1 and #2 have the same mpc.param name 'fc.bias'}}
func.func @forward(%x: tensor<4xf32> {mpc.input = "x"}, %a: tensor<4xf32> {mpc.param = "fc.bias"},
                   %b: tensor<4xf32> {mpc.param = "fc.bias"}) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// expected-error@+1 {{'func.func' op arguments #0 and #1 have the same mpc.input name 'x'}}
func.func @inputs(%x: tensor<4xf32> {mpc.input = "x"}, %y: tensor<4xf32> {mpc.input = "x"}) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
