func.func @f(%y: tensor<2x4xi64> {mpc.input = "y"}, %l: tensor<8x8xf32> {mpc.param = "w"}) -> tensor<f32> {
  %t = "mpc.reshape"(%y) : (tensor<2x4xi64>) -> tensor<8xi64>
  %loss = "mpc.cross_entropy"(%l, %t) {reduction = "mean"} : (tensor<8x8xf32>, tensor<8xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}
