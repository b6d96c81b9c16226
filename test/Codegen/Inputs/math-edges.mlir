// exp, tanh and sigmoid on edge values (math-edges.test).
func.func @forward(%x: tensor<16xf32> {mpc.input = "x"}) -> (tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) {
  %e = "mpc.exp"(%x) : (tensor<16xf32>) -> tensor<16xf32>
  %t = "mpc.tanh"(%x) : (tensor<16xf32>) -> tensor<16xf32>
  %s = "mpc.sigmoid"(%x) : (tensor<16xf32>) -> tensor<16xf32>
  return %e, %t, %s : tensor<16xf32>, tensor<16xf32>, tensor<16xf32>
}
