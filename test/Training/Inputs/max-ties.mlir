// loss = sum over rows of max(w): ties in a row share its gradient.
func.func @forward(%w: tensor<2x4xf32> {mpc.param = "w"}) -> tensor<f32> {
  %m = "mpc.reduce_max"(%w) {axes = array<i64: 1>, keepdim = false} : (tensor<2x4xf32>) -> tensor<2xf32>
  %s = "mpc.reduce_sum"(%m) {axes = array<i64: 0>, keepdim = false} : (tensor<2xf32>) -> tensor<f32>
  return %s : tensor<f32>
}
