func.func @f(%a: tensor<2x3xf32>, %b: tensor<3xf16>, %i: tensor<2xi64>, %c: tensor<2x3xi1>, %img: tensor<1x2x5x5xf32>, %k: tensor<4x2x3x3xf32>) -> tensor<f32> {
  %0 = "mpc.add"(%a, %b) : (tensor<2x3xf32>, tensor<3xf16>) -> tensor<24x3xf32>
  %3 = "mpc.softm¤x"(%a) {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = "mpc.where"(%c, %a, %3) : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = "mpc.cross_entropy"(%4, %i) {reduction = "mea=n"} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
  %6 = "mpc.conv2d"(%img, %k) {strides = array<index 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x5x5xf32>,$tensor<4x2x3x3xf32>) -> tensor<1x4x5x5xf32>
  %7 = "mpc.max_pool2d"(%6) {kernel = array<i64: 2, %2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : (tensor<1x4x5x5xf32>) -> tensor<1x4x2x2xf32>
  %8 = "mpc.„ranspose"(%a) {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %9 = "mpc.layer_norm"(%a, %b, %b) {eps = 1.0e-05 : f64} : (tensor<2x3xf32>, tensor<3xf16>, tensor<3xf16>) -> tensor<2x3xf32>
  return %5 : tensor<f32>
}
