// loss = sum(w * x): the gradient of w is x, here all ones, so SGD moves every
// weight by exactly -lr per step.
func.func @forward(%x: tensor<1x64xf32> {mpc.input = "x"},
                   %w: tensor<64xf32> {mpc.param = "w", mpc.init = "ones"}) -> tensor<f32> {
  %p = "mpc.mul"(%x, %w) : (tensor<1x64xf32>, tensor<64xf32>) -> tensor<1x64xf32>
  %loss = "mpc.reduce_sum"(%p) {axes = array<i64: 0, 1>, keepdim = false} : (tensor<1x64xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}
