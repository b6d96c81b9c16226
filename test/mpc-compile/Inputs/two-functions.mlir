func.func @helper(%x: tensor<3xf32> {mpc.input = "x"}) -> tensor<3xf32> {
  %0 = "mpc.neg"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
func.func @forward(%x: tensor<3xf32> {mpc.input = "x"}) -> tensor<3xf32> {
  %0 = "mpc.relu"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
