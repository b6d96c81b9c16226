func.func @good(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "mpc.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
// -----
func.func @bad(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "mpc.relu"(%x) : (tensor<4xf32>) -> tensor<5xf32>
  return %x : tensor<4xf32>
}
