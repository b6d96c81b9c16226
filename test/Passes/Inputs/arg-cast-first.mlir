// A model whose first op is a cast of an argument (mpc-insert-casts in 64-true).
func.func @forward(%x: tensor<3x4xf32> {mpc.input = "x"}, %w: tensor<3x4xf32> {mpc.param = "w"}) -> tensor<f32> {
  %a = arith.truncf %x : tensor<3x4xf32> to tensor<3x4xbf16>
  %b = arith.extf %a : tensor<3x4xbf16> to tensor<3x4xf32>
  %m = "mpc.mul"(%b, %w) : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %s = "mpc.reduce_sum"(%m) {axes = array<i64: 0, 1>, keepdim = false} : (tensor<3x4xf32>) -> tensor<f32>
  return %s : tensor<f32>
}
