// A 784-1024-1024-10 MLP classifier for Fashion-MNIST, batch 256, in the
// mpc dialect. The function returns the mean cross-entropy loss.
//
//   mpc-opt examples/mlp.mlir                      parse, verify, print
//   mpc-opt --mpc-verify --print-ir-after-all examples/mlp.mlir
func.func @forward(%x: tensor<256x784xf32> {mpc.input = "x"},
                   %y: tensor<256xi64> {mpc.input = "y"},
                   %w1: tensor<1024x784xf32> {mpc.param = "fc1.weight"},
                   %b1: tensor<1024xf32> {mpc.param = "fc1.bias"},
                   %w2: tensor<1024x1024xf32> {mpc.param = "fc2.weight"},
                   %b2: tensor<1024xf32> {mpc.param = "fc2.bias"},
                   %w3: tensor<10x1024xf32> {mpc.param = "fc3.weight"},
                   %b3: tensor<10xf32> {mpc.param = "fc3.bias"}) -> tensor<f32> {
  %h1 = "mpc.linear"(%x, %w1, %b1) : (tensor<256x784xf32>, tensor<1024x784xf32>, tensor<1024xf32>) -> tensor<256x1024xf32>
  %a1 = "mpc.relu"(%h1) : (tensor<256x1024xf32>) -> tensor<256x1024xf32>
  %h2 = "mpc.linear"(%a1, %w2, %b2) : (tensor<256x1024xf32>, tensor<1024x1024xf32>, tensor<1024xf32>) -> tensor<256x1024xf32>
  %a2 = "mpc.relu"(%h2) : (tensor<256x1024xf32>) -> tensor<256x1024xf32>
  %logits = "mpc.linear"(%a2, %w3, %b3) : (tensor<256x1024xf32>, tensor<10x1024xf32>, tensor<10xf32>) -> tensor<256x10xf32>
  %loss = "mpc.cross_entropy"(%logits, %y) {reduction = "mean"} : (tensor<256x10xf32>, tensor<256xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}
