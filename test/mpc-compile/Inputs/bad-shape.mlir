func.func @forward(%x: tensor<4xf32>) -> tensor<5xf32> {
  %0 = "mpc.relu"(%x) : (tensor<4xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}
