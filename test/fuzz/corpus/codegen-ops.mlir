func.func @forward(%linear_x: tensor<3x5x16xf32> {mpc.input = "linear_x"},
    %linear_w: tensor<8x16xf32> {mpc.input = "linear_w"},
    %linear_b: tensor<8xf32> {mpc.input = "linear_b"},
    %linear_nobias_x: tensor<6x32xf32> {mpc.input = "linear_nobias_x"},
    %linear_nobias_w: tensor<5x32xf32> {mpc.input = "linear_nobias_w"},
    %matmul_a: tensor<2x4x16xf32> {mpc.input = "matmul_a"},
    %matmul_b: tensor<2x16x8xf32> {mpc.input = "matmul_b"},
    %matmul2d_a: tensor<7x9xf32> {mpc.input = "matmul2d_a"},
    %matmul2d_b: tensor<9x3xf32> {mpc.input = "matmul2d_b"},
    %conv2d_x: tensor<2x3x9x9xf32> {mpc.input = "conv2d_x"},
    %conv2d_w: tensor<4x3x3x3xf32> {mpc.input = "conv2d_w"},
    %conv2d_b: tensor<4xf32> {mpc.input = "conv2d_b"},
    %conv2d_groups_x: tensor<1x4x8x8xf32> {mpc.input = "conv2d_groups_x"},
    %conv2d_groups_w: tensor<6x2x3x3xf32> {mpc.input = "conv2d_groups_w"},
    %add_a: tensor<4x1x6xf32> {mpc.input = "add_a"},
    %add_b: tensor<5x1xf32> {mpc.input = "add_b"},
    %sub_a: tensor<4x1x6xf32> {mpc.input = "sub_a"},
    %sub_b: tensor<5x1xf32> {mpc.input = "sub_b"},
    %mul_a: tensor<4x1x6xf32> {mpc.input = "mul_a"},
    %mul_b: tensor<5x1xf32> {mpc.input = "mul_b"},
    %div_a: tensor<4x1x6xf32> {mpc.input = "div_a"},
    %div_b: tensor<5x1xf32> {mpc.input = "div_b"},
    %concat_a: tensor<2x3x4xf32> {mpc.input = "concat_a"},
    %concat_b: tensor<2x5x4xf32> {mpc.input = "concat_b"},
    %neg_x: tensor<5x7xf32> {mpc.input = "neg_x"},
    %relu_x: tensor<5x7xf32> {mpc.input = "relu_x"},
    %tanh_x: tensor<5x7xf32> {mpc.input = "tanh_x"},
    %sigmoid_x: tensor<5x7xf32> {mpc.input = "sigmoid_x"},
    %erf_x: tensor<5x7xf32> {mpc.input = "erf_x"},
    %exp_x: tensor<5x7xf32> {mpc.input = "exp_x"},
    %log_x: tensor<5x7xf32> {mpc.input = "log_x"},
    %rsqrt_x: tensor<5x7xf32> {mpc.input = "rsqrt_x"},
    %sqrt_x: tensor<5x7xf32> {mpc.input = "sqrt_x"},
    %reciprocal_x: tensor<5x7xf32> {mpc.input = "reciprocal_x"},
    %gelu_x: tensor<5x7xf32> {mpc.input = "gelu_x"},
    %gelu_tanh_x: tensor<5x7xf32> {mpc.input = "gelu_tanh_x"},
    %pow_x: tensor<3x4xf32> {mpc.input = "pow_x"},
    %pow_y: tensor<4xf32> {mpc.input = "pow_y"},
    %softmax_x: tensor<3x7x5xf32> {mpc.input = "softmax_x"},
    %log_softmax_x: tensor<3x7x5xf32> {mpc.input = "log_softmax_x"},
    %layer_norm_x: tensor<4x6x32xf32> {mpc.input = "layer_norm_x"},
    %layer_norm_g: tensor<32xf32> {mpc.input = "layer_norm_g"},
    %layer_norm_b: tensor<32xf32> {mpc.input = "layer_norm_b"},
    %reduce_sum_x: tensor<3x4x5xf32> {mpc.input = "reduce_sum_x"},
    %reduce_mean_x: tensor<3x4x5xf32> {mpc.input = "reduce_mean_x"},
    %reduce_max_x: tensor<3x4x5xf32> {mpc.input = "reduce_max_x"},
    %reduce_all_x: tensor<3x4xf32> {mpc.input = "reduce_all_x"},
    %cross_entropy_z: tensor<8x10xf32> {mpc.input = "cross_entropy_z"},
    %cross_entropy_y: tensor<8xi64> {mpc.input = "cross_entropy_y"},
    %cross_entropy_sum_z: tensor<6x5xf32> {mpc.input = "cross_entropy_sum_z"},
    %cross_entropy_sum_y: tensor<6xi32> {mpc.input = "cross_entropy_sum_y"},
    %mse_loss_p: tensor<6x7xf32> {mpc.input = "mse_loss_p"},
    %mse_loss_t: tensor<6x7xf32> {mpc.input = "mse_loss_t"},
    %mse_loss_sum_p: tensor<6x7xf32> {mpc.input = "mse_loss_sum_p"},
    %mse_loss_sum_t: tensor<6x7xf32> {mpc.input = "mse_loss_sum_t"},
    %reshape_x: tensor<2x3x4xf32> {mpc.input = "reshape_x"},
    %reshape_scalar_x: tensor<1x1xf32> {mpc.input = "reshape_scalar_x"},
    %transpose_x: tensor<2x3x4xf32> {mpc.input = "transpose_x"},
    %broadcast_to_x: tensor<1x4xf32> {mpc.input = "broadcast_to_x"},
    %slice_x: tensor<4x5x6xf32> {mpc.input = "slice_x"},
    %embedding_t: tensor<10x8xf32> {mpc.input = "embedding_t"},
    %embedding_ids: tensor<3x4xi64> {mpc.input = "embedding_ids"},
    %where_c: tensor<4x5xi1> {mpc.input = "where_c"},
    %where_a: tensor<4x5xf32> {mpc.input = "where_a"},
    %where_b: tensor<5xf32> {mpc.input = "where_b"},
    %max_pool2d_x: tensor<2x3x8x8xf32> {mpc.input = "max_pool2d_x"},
    %avg_pool2d_x: tensor<2x3x8x8xf32> {mpc.input = "avg_pool2d_x"},
    %scatter_add_x: tensor<5x4xf32> {mpc.input = "scatter_add_x"},
    %scatter_add_i: tensor<3x4xi64> {mpc.input = "scatter_add_i"},
    %scatter_add_u: tensor<3x4xf32> {mpc.input = "scatter_add_u"})
    -> (tensor<3x5x8xf32>, tensor<6x5xf32>, tensor<2x4x8xf32>, tensor<7x3xf32>, tensor<2x4x5x5xf32>, tensor<1x6x8x8xf32>, tensor<4x5x6xf32>, tensor<4x5x6xf32>, tensor<4x5x6xf32>, tensor<4x5x6xf32>, tensor<2x8x4xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<3x4xf32>, tensor<3x7x5xf32>, tensor<3x7x5xf32>, tensor<4x6x32xf32>, tensor<4xf32>, tensor<3x1x5xf32>, tensor<3x4xf32>, tensor<1x1xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<4x6xf32>, tensor<f32>, tensor<4x2x3xf32>, tensor<3x2x4xf32>, tensor<2x3x4xf32>, tensor<3x4x8xf32>, tensor<4x5xf32>, tensor<2x3x4x4xf32>, tensor<2x3x4x4xf32>, tensor<5x4xf32>) {
  %r0 = "mpc.linear"(%linear_x, %linear_w, %linear_b) : (tensor<3x5x16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<3x5x8xf32>
  %r1 = "mpc.linear"(%linear_nobias_x, %linear_nobias_w) : (tensor<6x32xf32>, tensor<5x32xf32>) -> tensor<6x5xf32>
  %r2 = "mpc.matmul"(%matmul_a, %matmul_b) : (tensor<2x4x16xf32>, tensor<2x16x8xf32>) -> tensor<2x4x8xf32>
  %r3 = "mpc.matmul"(%matmul2d_a, %matmul2d_b) : (tensor<7x9xf32>, tensor<9x3xf32>) -> tensor<7x3xf32>
  %r4 = "mpc.conv2d"(%conv2d_x, %conv2d_w, %conv2d_b) {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x5x5xf32>
  %r5 = "mpc.conv2d"(%conv2d_groups_x, %conv2d_groups_w) {strides = array<i64: 1, 1>, padding = array<i64: 2, 2, 2, 2>, dilations = array<i64: 2, 2>, groups = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x8x8xf32>
  %r6 = "mpc.add"(%add_a, %add_b) : (tensor<4x1x6xf32>, tensor<5x1xf32>) -> tensor<4x5x6xf32>
  %r7 = "mpc.sub"(%sub_a, %sub_b) : (tensor<4x1x6xf32>, tensor<5x1xf32>) -> tensor<4x5x6xf32>
  %r8 = "mpc.mul"(%mul_a, %mul_b) : (tensor<4x1x6xf32>, tensor<5x1xf32>) -> tensor<4x5x6xf32>
  %r9 = "mpc.div"(%div_a, %div_b) : (tensor<4x1x6xf32>, tensor<5x1xf32>) -> tensor<4x5x6xf32>
  %r10 = "mpc.concat"(%concat_a, %concat_b) {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x8x4xf32>
  %r11 = "mpc.neg"(%neg_x) : (tensor<5x7xf32>) -> tensor<5x7xf32>
  %r12 = "mpc.relu"(%relu_x) : (tensor<5x7xf32>) -> tensor<5x7xf32>
  %r13 = "mpc.tanh"(%tanh_x) : (tensor<5x7xf32>) -> tensor<5x7xf32>
  %r14 = "mpc.sigmoid"(%sigmoid_x) : (tensor<5x7xf32>) -> tensor<5x7xf32>
  %r15 = "mpc.erf"(%erf_x) : (tensor<5x7xf32>) -> tensor<5x7xf32>
  %r16 = "mpc.exp"(%exp_x) : (tensor<5x7xf32>) -> tensor<5x7xf32>
  %r17 = "mpc.log"(%log_x) : (tensor<5x7xf32>) -> tensor<5x7xf32>
  %r18 = "mpc.rsqrt"(%rsqrt_x) : (tensor<5x7xf32>) -> tensor<5x7xf32>
  %r19 = "mpc.sqrt"(%sqrt_x) : (tensor<5x7xf32>) -> tensor<5x7xf32>
  %r20 = "mpc.reciprocal"(%reciprocal_x) : (tensor<5x7xf32>) -> tensor<5x7xf32>
  %r21 = "mpc.gelu"(%gelu_x) {approximate = "none"} : (tensor<5x7xf32>) -> tensor<5x7xf32>
  %r22 = "mpc.gelu"(%gelu_tanh_x) {approximate = "tanh"} : (tensor<5x7xf32>) -> tensor<5x7xf32>
  %r23 = "mpc.pow"(%pow_x, %pow_y) : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %r24 = "mpc.softmax"(%softmax_x) {axis = 1 : i64} : (tensor<3x7x5xf32>) -> tensor<3x7x5xf32>
  %r25 = "mpc.log_softmax"(%log_softmax_x) {axis = 2 : i64} : (tensor<3x7x5xf32>) -> tensor<3x7x5xf32>
  %r26 = "mpc.layer_norm"(%layer_norm_x, %layer_norm_g, %layer_norm_b) {eps = 1.000000e-05 : f64} : (tensor<4x6x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<4x6x32xf32>
  %r27 = "mpc.reduce_sum"(%reduce_sum_x) {axes = array<i64: 0, 2>, keepdim = false} : (tensor<3x4x5xf32>) -> tensor<4xf32>
  %r28 = "mpc.reduce_mean"(%reduce_mean_x) {axes = array<i64: 1>, keepdim = true} : (tensor<3x4x5xf32>) -> tensor<3x1x5xf32>
  %r29 = "mpc.reduce_max"(%reduce_max_x) {axes = array<i64: 2>, keepdim = false} : (tensor<3x4x5xf32>) -> tensor<3x4xf32>
  %r30 = "mpc.reduce_sum"(%reduce_all_x) {axes = array<i64: 0, 1>, keepdim = true} : (tensor<3x4xf32>) -> tensor<1x1xf32>
  %r31 = "mpc.cross_entropy"(%cross_entropy_z, %cross_entropy_y) {reduction = "mean"} : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
  %r32 = "mpc.cross_entropy"(%cross_entropy_sum_z, %cross_entropy_sum_y) {reduction = "sum"} : (tensor<6x5xf32>, tensor<6xi32>) -> tensor<f32>
  %r33 = "mpc.mse_loss"(%mse_loss_p, %mse_loss_t) {reduction = "mean"} : (tensor<6x7xf32>, tensor<6x7xf32>) -> tensor<f32>
  %r34 = "mpc.mse_loss"(%mse_loss_sum_p, %mse_loss_sum_t) {reduction = "sum"} : (tensor<6x7xf32>, tensor<6x7xf32>) -> tensor<f32>
  %r35 = "mpc.reshape"(%reshape_x) : (tensor<2x3x4xf32>) -> tensor<4x6xf32>
  %r36 = "mpc.reshape"(%reshape_scalar_x) : (tensor<1x1xf32>) -> tensor<f32>
  %r37 = "mpc.transpose"(%transpose_x) {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %r38 = "mpc.broadcast_to"(%broadcast_to_x) : (tensor<1x4xf32>) -> tensor<3x2x4xf32>
  %r39 = "mpc.slice"(%slice_x) {starts = array<i64: 1, 0, 2>, sizes = array<i64: 2, 3, 4>} : (tensor<4x5x6xf32>) -> tensor<2x3x4xf32>
  %r40 = "mpc.embedding"(%embedding_t, %embedding_ids) : (tensor<10x8xf32>, tensor<3x4xi64>) -> tensor<3x4x8xf32>
  %r41 = "mpc.where"(%where_c, %where_a, %where_b) : (tensor<4x5xi1>, tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %r42 = "mpc.max_pool2d"(%max_pool2d_x) {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : (tensor<2x3x8x8xf32>) -> tensor<2x3x4x4xf32>
  %r43 = "mpc.avg_pool2d"(%avg_pool2d_x) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : (tensor<2x3x8x8xf32>) -> tensor<2x3x4x4xf32>
  %r44 = "mpc.scatter_add"(%scatter_add_x, %scatter_add_i, %scatter_add_u) {axis = 0 : i64} : (tensor<5x4xf32>, tensor<3x4xi64>, tensor<3x4xf32>) -> tensor<5x4xf32>
  return %r0, %r1, %r2, %r3, %r4, %r5, %r6, %r7, %r8, %r9, %r10, %r11, %r12, %r13, %r14, %r15, %r16, %r17, %r18, %r19, %r20, %r21, %r22, %r23, %r24, %r25, %r26, %r27, %r28, %r29, %r30, %r31, %r32, %r33, %r34, %r35, %r36, %r37, %r38, %r39, %r40, %r41, %r42, %r43, %r44 : tensor<3x5x8xf32>, tensor<6x5xf32>, tensor<2x4x8xf32>, tensor<7x3xf32>, tensor<2x4x5x5xf32>, tensor<1x6x8x8xf32>, tensor<4x5x6xf32>, tensor<4x5x6xf32>, tensor<4x5x6xf32>, tensor<4x5x6xf32>, tensor<2x8x4xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<5x7xf32>, tensor<3x4xf32>, tensor<3x7x5xf32>, tensor<3x7x5xf32>, tensor<4x6x32xf32>, tensor<4xf32>, tensor<3x1x5xf32>, tensor<3x4xf32>, tensor<1x1xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<4x6xf32>, tensor<f32>, tensor<4x2x3xf32>, tensor<3x2x4xf32>, tensor<2x3x4xf32>, tensor<3x4x8xf32>, tensor<4x5xf32>, tensor<2x3x4x4xf32>, tensor<2x3x4x4xf32>, tensor<5x4xf32>
}
