// Results that alias: an argument returned as it is, a value returned twice,
// an argument returned twice, a scalar input, and a dead op.
func.func @forward(%x: tensor<2x3xf32> {mpc.input = "x"}, %s: tensor<f32> {mpc.input = "s"})
    -> (tensor<2x3xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<f32>, tensor<f32>) {
  %0 = "mpc.transpose"(%x) {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %1 = "mpc.mul"(%0, %s) : (tensor<3x2xf32>, tensor<f32>) -> tensor<3x2xf32>
  %dead = "mpc.slice"(%x) {starts = array<i64: 0, 1>, sizes = array<i64: 2, 2>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return %x, %1, %1, %s, %s : tensor<2x3xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<f32>, tensor<f32>
}
