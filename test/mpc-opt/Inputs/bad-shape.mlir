// Input for output-file.test: a contraction mismatch on line 4.
func.func @f(%x: tensor<4x8xf32>, %w: tensor<16x7xf32>) {
  // The error is reported here, on the op below.
  %0 = "mpc.linear"(%x, %w) : (tensor<4x8xf32>, tensor<16x7xf32>) -> tensor<4x16xf32>
  return
}
