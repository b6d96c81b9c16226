// A model function whose first result is not a scalar: it runs, but cannot be trained.
func.func @forward(%x: tensor<4xf32> {mpc.input = "x"}, %w: tensor<4xf32> {mpc.param = "w"}) -> tensor<4xf32> {
  %0 = "mpc.mul"(%x, %w) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
