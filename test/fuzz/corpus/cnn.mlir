// A small convolutional network for 28x28 grey images (Fashion-MNIST):
// two 3x3 convolutions with ReLU and 2x2 max pooling, then a linear
// classifier and a cross-entropy loss. Batch 64.
//
//   mpc-opt --precision=bf16-mixed examples/cnn.mlir
//   mpc-compile --forward examples/cnn.mlir --precision=bf16-mixed -o cnn-runner
func.func @forward(%x: tensor<64x1x28x28xf32> {mpc.input = "x"},
                   %y: tensor<64xi64> {mpc.input = "y"},
                   %w1: tensor<8x1x3x3xf32> {mpc.param = "conv1.weight"},
                   %b1: tensor<8xf32> {mpc.param = "conv1.bias"},
                   %w2: tensor<16x8x3x3xf32> {mpc.param = "conv2.weight"},
                   %b2: tensor<16xf32> {mpc.param = "conv2.bias"},
                   %w3: tensor<10x784xf32> {mpc.param = "fc.weight"},
                   %b3: tensor<10xf32> {mpc.param = "fc.bias"}) -> tensor<f32> {
  %c1 = "mpc.conv2d"(%x, %w1, %b1) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
                                    dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<64x1x28x28xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>) -> tensor<64x8x28x28xf32>
  %r1 = "mpc.relu"(%c1) : (tensor<64x8x28x28xf32>) -> tensor<64x8x28x28xf32>
  %p1 = "mpc.max_pool2d"(%r1) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : (tensor<64x8x28x28xf32>) -> tensor<64x8x14x14xf32>
  %c2 = "mpc.conv2d"(%p1, %w2, %b2) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
                                     dilations = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<64x8x14x14xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<64x16x14x14xf32>
  %r2 = "mpc.relu"(%c2) : (tensor<64x16x14x14xf32>) -> tensor<64x16x14x14xf32>
  %p2 = "mpc.max_pool2d"(%r2) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>}
      : (tensor<64x16x14x14xf32>) -> tensor<64x16x7x7xf32>
  %f = "mpc.reshape"(%p2) : (tensor<64x16x7x7xf32>) -> tensor<64x784xf32>
  %logits = "mpc.linear"(%f, %w3, %b3) : (tensor<64x784xf32>, tensor<10x784xf32>, tensor<10xf32>) -> tensor<64x10xf32>
  %loss = "mpc.cross_entropy"(%logits, %y) {reduction = "mean"} : (tensor<64x10xf32>, tensor<64xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}
