// A linear classifier for Fashion-MNIST batches of 256.
func.func @forward(%x: tensor<256x784xf32> {mpc.input = "x"},
                   %y: tensor<256xi64> {mpc.input = "y"},
                   %w: tensor<10x784xf32> {mpc.param = "fc.weight"},
                   %b: tensor<10xf32> {mpc.param = "fc.bias"}) -> tensor<f32> {
  %logits = "mpc.linear"(%x, %w, %b) : (tensor<256x784xf32>, tensor<10x784xf32>, tensor<10xf32>) -> tensor<256x10xf32>
  %loss = "mpc.cross_entropy"(%logits, %y) {reduction = "mean"} : (tensor<256x10xf32>, tensor<256xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}
