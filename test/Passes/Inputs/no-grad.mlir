// A model function with nothing derived from it yet.
func.func @forward(%w: tensor<4xf32> {mpc.param = "w"}) -> tensor<f32> {
  %s = "mpc.reduce_sum"(%w) {axes = array<i64: 0>, keepdim = false} : (tensor<4xf32>) -> tensor<f32>
  return %s : tensor<f32>
}
