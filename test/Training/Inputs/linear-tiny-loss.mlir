// A linear classifier whose loss is scaled by 1e-6: its gradients are a
// millionth of the usual ones, below f16's smallest subnormal (6e-8) once
// divided by the batch, so 16-mixed needs loss scaling to train it.
func.func @forward(%x: tensor<256x784xf32> {mpc.input = "x"},
                   %y: tensor<256xi64> {mpc.input = "y"},
                   %w: tensor<10x784xf32> {mpc.param = "fc.weight"},
                   %b: tensor<10xf32> {mpc.param = "fc.bias"}) -> tensor<f32> {
  %logits = "mpc.linear"(%x, %w, %b) : (tensor<256x784xf32>, tensor<10x784xf32>, tensor<10xf32>) -> tensor<256x10xf32>
  %ce = "mpc.cross_entropy"(%logits, %y) {reduction = "mean"} : (tensor<256x10xf32>, tensor<256xi64>) -> tensor<f32>
  %tiny = arith.constant dense<1.0e-06> : tensor<f32>
  %loss = "mpc.mul"(%ce, %tiny) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %loss : tensor<f32>
}
