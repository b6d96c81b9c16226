func.func @forward(%x: tensor<2x3xf32> {mpc.input = "x"},
                   %w: tensor<4x3xf32> {mpc.param = "fc.weight", mpc.init = "ones"},
                   %b: tensor<4xf32> {mpc.param = "fc.bias", mpc.init = "zeros"}) -> (tensor<f32>, tensor<2x4xf32>) {
  %0 = "mpc.linear"(%x, %w, %b) : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %1 = "mpc.relu"(%0) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %2 = "mpc.reduce_sum"(%1) {axes = array<i64: 0, 1>, keepdim = false} : (tensor<2x4xf32>) -> tensor<f32>
  return %2, %1 : tensor<f32>, tensor<2x4xf32>
}
