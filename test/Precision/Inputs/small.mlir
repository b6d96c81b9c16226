func.func @forward(%x: tensor<4x8xf32> {mpc.input = "x"}, %y: tensor<4xi64> {mpc.input = "y"},
                   %w: tensor<3x8xf32> {mpc.param = "fc.weight"}, %b: tensor<3xf32> {mpc.param = "fc.bias"}) -> tensor<f32> {
  %0 = "mpc.linear"(%x, %w, %b) : (tensor<4x8xf32>, tensor<3x8xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %1 = "mpc.relu"(%0) : (tensor<4x3xf32>) -> tensor<4x3xf32>
  %2 = "mpc.softmax"(%1) {axis = 1 : i64} : (tensor<4x3xf32>) -> tensor<4x3xf32>
  %3 = "mpc.cross_entropy"(%2, %y) {reduction = "mean"} : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<f32>
  return %3 : tensor<f32>
}
