// Every verifier error of the mpc dialect, one case each.
// RUN: mpc-opt %s --split-input-file --verify-diagnostics

// COM: Unknown ops.
func.func @unknown_mpc_op(%x: tensor<4xf32>) {
  // expected-error@+1 {{unknown operation 'mpc.relux'; did you mean 'mpc.relu'?}}
  %0 = "mpc.relux"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @unknown_mpc_op_far(%x: tensor<4xf32>) {
  // expected-error@+1 {{unknown operation 'mpc.frobnicate' (docs/dialect.md lists the mpc ops)}}
  %0 = "mpc.frobnicate"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @unknown_dialect(%x: tensor<4xf32>) {
  // expected-error@+1 {{unknown operation 'foo.bar': dialect 'foo' is not registered}}
  %0 = "foo.bar"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// COM: Structure: regions, results, operand counts.
func.func @region(%x: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.relu' op takes no regions or successors}}
  %0 = "mpc.relu"(%x) ({ }) : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @two_results(%x: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.relu' op has exactly one result, got 2}}
  %0:2 = "mpc.relu"(%x) : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @too_many_operands(%x: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.relu' op expects 1 operand (x), got 2}}
  %0 = "mpc.relu"(%x, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @optional_operand(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'mpc.linear' op expects 2 or 3 operands (x w b?), got 1}}
  %0 = "mpc.linear"(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @variadic_operand() {
  // expected-error@+1 {{'mpc.concat' op expects at least 1 operand (inputs*), got 0}}
  %0 = "mpc.concat"() {axis = 0 : i64} : () -> tensor<4xf32>
  return
}

// -----

// COM: Operand and result types.
func.func @dynamic_shape(%x: tensor<?x4xf32>) {
  // expected-error@+1 {{'mpc.relu' op operand #0 (x) must be a statically shaped tensor of f16, bf16, f32 or f64, got 'tensor<?x4xf32>'}}
  %0 = "mpc.relu"(%x) : (tensor<?x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @unranked(%x: tensor<*xf32>) {
  // expected-error@+1 {{'mpc.relu' op operand #0 (x) must be a statically shaped tensor of f16, bf16, f32 or f64, got 'tensor<*xf32>'}}
  %0 = "mpc.relu"(%x) : (tensor<*xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @not_a_tensor(%x: f32) {
  // expected-error@+1 {{'mpc.relu' op operand #0 (x) must be a statically shaped tensor of f16, bf16, f32 or f64, got 'f32'}}
  %0 = "mpc.relu"(%x) : (f32) -> f32
  return
}

// -----

func.func @integer_data(%x: tensor<4xi32>) {
  // expected-error@+1 {{'mpc.relu' op operand #0 (x) must be a tensor of f16, bf16, f32 or f64, got 'tensor<4xi32>'}}
  %0 = "mpc.relu"(%x) : (tensor<4xi32>) -> tensor<4xf32>
  return
}

// -----

func.func @float_labels(%l: tensor<4x10xf32>, %y: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.cross_entropy' op operand #1 (labels) must be a tensor of i32 or i64, got 'tensor<4xf32>'}}
  %0 = "mpc.cross_entropy"(%l, %y) {reduction = "mean"} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @float_condition(%c: tensor<4xf32>, %a: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.where' op operand #0 (cond) must be a tensor of i1, got 'tensor<4xf32>'}}
  %0 = "mpc.where"(%c, %a, %a) : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @rank_too_high(%x: tensor<1x1x1x1x1x1x1x1x2xf32>) {
  // expected-error@+1 {{'mpc.relu' op operand #0 (x) has rank 9; at most 8 is supported}}
  %0 = "mpc.relu"(%x) : (tensor<1x1x1x1x1x1x1x1x2xf32>) -> tensor<1x1x1x1x1x1x1x1x2xf32>
  return
}

// -----

func.func @integer_result(%x: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.relu' op result must be a tensor of f16, bf16, f32 or f64, got 'tensor<4xi64>'}}
  %0 = "mpc.relu"(%x) : (tensor<4xf32>) -> tensor<4xi64>
  return
}

// -----

func.func @mixed_float_types(%x: tensor<4x8xf16>, %w: tensor<16x8xf32>) {
  // expected-error@+1 {{'mpc.linear' op operands must have one float element type: operand #0 (x) is f16 but operand #1 (w) is f32}}
  %0 = "mpc.linear"(%x, %w) : (tensor<4x8xf16>, tensor<16x8xf32>) -> tensor<4x16xf16>
  return
}

// -----

func.func @wrong_result_shape(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) {
  // expected-error@+1 {{'mpc.linear' op result type must be 'tensor<4x16xf32>', got 'tensor<4x8xf32>'}}
  %0 = "mpc.linear"(%x, %w) : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @wrong_result_type(%x: tensor<4xbf16>) {
  // expected-error@+1 {{'mpc.tanh' op result type must be 'tensor<4xbf16>', got 'tensor<4xf32>'}}
  %0 = "mpc.tanh"(%x) : (tensor<4xbf16>) -> tensor<4xf32>
  return
}

// -----

func.func @promote_result(%a: tensor<4xf16>, %b: tensor<4xbf16>) {
  // expected-error@+1 {{'mpc.add' op result type must be 'tensor<4xf32>', got 'tensor<4xf16>'}}
  %0 = "mpc.add"(%a, %b) : (tensor<4xf16>, tensor<4xbf16>) -> tensor<4xf16>
  return
}

// -----

// COM: Attributes.
func.func @missing_attribute(%x: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.softmax' op requires attribute 'axis' (an i64 integer such as `1 : i64`)}}
  %0 = "mpc.softmax"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @wrong_integer_width(%x: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.softmax' op attribute 'axis' must be an i64 integer such as `1 : i64`, got 0 : i32}}
  %0 = "mpc.softmax"(%x) {axis = 0 : i32} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @list_not_array(%x: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.reduce_sum' op attribute 'axes' must be an i64 array such as `array<i64: 0, 1>`, got [0]}}
  %0 = "mpc.reduce_sum"(%x) {axes = [0], keepdim = false} : (tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @bool_not_bool(%x: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.reduce_sum' op attribute 'keepdim' must be a boolean (`true` or `false`), got 0 : i64}}
  %0 = "mpc.reduce_sum"(%x) {axes = array<i64: 0>, keepdim = 0} : (tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @float_not_f64(%x: tensor<2x4xf32>, %g: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.layer_norm' op attribute 'eps' must be an f64 float such as `1.0e-05 : f64`, got 9.99999974E-6 : f32}}
  %0 = "mpc.layer_norm"(%x, %g, %g) {eps = 1.0e-05 : f32} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @enum_not_string(%x: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.gelu' op attribute 'approximate' must be a string, got 1 : i64}}
  %0 = "mpc.gelu"(%x) {approximate = 1} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @enum_value(%p: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.mse_loss' op attribute 'reduction' must be "mean" or "sum", got "none"}}
  %0 = "mpc.mse_loss"(%p, %p) {reduction = "none"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @unknown_attribute(%x: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.softmax' op has unknown attribute 'axes' (expected: axis:i64)}}
  %0 = "mpc.softmax"(%x) {axis = 0 : i64, axes = 0 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @attribute_on_attributeless_op(%x: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.relu' op has unknown attribute 'inplace'}}
  %0 = "mpc.relu"(%x) {inplace = true} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// COM: Broadcasting.
func.func @broadcast(%a: tensor<4x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error@+1 {{'mpc.add' op operands are not broadcast-compatible: 4x3 and 4x5 (result dim 1)}}
  %0 = "mpc.add"(%a, %b) : (tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @broadcast_where(%c: tensor<3xi1>, %a: tensor<2x4xf32>) {
  // expected-error@+1 {{'mpc.where' op operands are not broadcast-compatible: 3 and 2x4 (result dim 1)}}
  %0 = "mpc.where"(%c, %a, %a) : (tensor<3xi1>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

// COM: linear and matmul.
func.func @linear_contraction(%x: tensor<4x8xf32>, %w: tensor<16x7xf32>) {
  // expected-error@+1 {{'mpc.linear' op contraction mismatch: x has K = 8 in its last dim but w is [N, K] with K = 7}}
  %0 = "mpc.linear"(%x, %w) : (tensor<4x8xf32>, tensor<16x7xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<4x8xf32>, %w: tensor<8xf32>) {
  // expected-error@+1 {{'mpc.linear' op operand #1 (w) must have rank 2, got rank 1}}
  %0 = "mpc.linear"(%x, %w) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<8xf32>) {
  // expected-error@+1 {{'mpc.linear' op bias b must have N = 16 elements (w's first dim), got 8}}
  %0 = "mpc.linear"(%x, %w, %b) : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<8xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @linear_scalar_input(%x: tensor<f32>, %w: tensor<16x8xf32>) {
  // expected-error@+1 {{'mpc.linear' op operand #0 (x) must have rank at least 1, got rank 0}}
  %0 = "mpc.linear"(%x, %w) : (tensor<f32>, tensor<16x8xf32>) -> tensor<16xf32>
  return
}

// -----

func.func @matmul_ranks(%a: tensor<2x4x8xf32>, %b: tensor<8x5xf32>) {
  // expected-error@+1 {{'mpc.matmul' op operands must have equal batch dims: a is 2x4x8, b is 8x5}}
  %0 = "mpc.matmul"(%a, %b) : (tensor<2x4x8xf32>, tensor<8x5xf32>) -> tensor<2x4x5xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x4x8xf32>, %b: tensor<3x8x5xf32>) {
  // expected-error@+1 {{'mpc.matmul' op operands must have equal batch dims: a is 2x4x8, b is 3x8x5}}
  %0 = "mpc.matmul"(%a, %b) : (tensor<2x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x4x5xf32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<4x8xf32>, %b: tensor<7x5xf32>) {
  // expected-error@+1 {{'mpc.matmul' op contraction mismatch: a is [..., M, K] with K = 8 but b is [..., K, N] with K = 7}}
  %0 = "mpc.matmul"(%a, %b) : (tensor<4x8xf32>, tensor<7x5xf32>) -> tensor<4x5xf32>
  return
}

// -----

// COM: conv2d.
func.func @conv_rank(%x: tensor<4x9x9xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error@+1 {{'mpc.conv2d' op operand #0 (x) must have rank 4, got rank 3}}
  %0 = "mpc.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<4x9x9xf32>, tensor<6x4x3x3xf32>) -> tensor<6x7x7xf32>
  return
}

// -----

func.func @conv_strides_length(%x: tensor<1x4x9x9xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error@+1 {{'mpc.conv2d' op attribute 'strides' must have 2 elements, got 3}}
  %0 = "mpc.conv2d"(%x, %w) {strides = array<i64: 1, 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x9x9xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x7x7xf32>
  return
}

// -----

func.func @conv_negative_padding(%x: tensor<1x4x9x9xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error@+1 {{'mpc.conv2d' op attribute 'padding' must have elements >= 0, got -1 at index 2}}
  %0 = "mpc.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, -1, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x9x9xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x7x7xf32>
  return
}

// -----

func.func @conv_zero_stride(%x: tensor<1x4x9x9xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error@+1 {{'mpc.conv2d' op attribute 'strides' must have elements >= 1, got 0 at index 1}}
  %0 = "mpc.conv2d"(%x, %w) {strides = array<i64: 1, 0>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x9x9xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x7x7xf32>
  return
}

// -----

func.func @conv_groups_zero(%x: tensor<1x4x9x9xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error@+1 {{'mpc.conv2d' op attribute 'groups' must be >= 1, got 0}}
  %0 = "mpc.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 0 : i64} : (tensor<1x4x9x9xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x7x7xf32>
  return
}

// -----

func.func @conv_groups_divide(%x: tensor<1x4x9x9xf32>, %w: tensor<6x1x3x3xf32>) {
  // expected-error@+1 {{'mpc.conv2d' op groups = 4 must divide both the input channels (4) and the output channels (6)}}
  %0 = "mpc.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 4 : i64} : (tensor<1x4x9x9xf32>, tensor<6x1x3x3xf32>) -> tensor<1x6x7x7xf32>
  return
}

// -----

func.func @conv_weight_channels(%x: tensor<1x4x9x9xf32>, %w: tensor<6x3x3x3xf32>) {
  // expected-error@+1 {{'mpc.conv2d' op w must be [O, C/groups, KH, KW] with C/groups = 4, got 3 in dim 1}}
  %0 = "mpc.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x9x9xf32>, tensor<6x3x3x3xf32>) -> tensor<1x6x7x7xf32>
  return
}

// -----

func.func @conv_bias(%x: tensor<1x4x9x9xf32>, %w: tensor<6x4x3x3xf32>, %b: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.conv2d' op bias b must have O = 6 elements (w's first dim), got 4}}
  %0 = "mpc.conv2d"(%x, %w, %b) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x9x9xf32>, tensor<6x4x3x3xf32>, tensor<4xf32>) -> tensor<1x6x7x7xf32>
  return
}

// -----

func.func @conv_kernel_too_large(%x: tensor<1x4x3x3xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error@+1 {{'mpc.conv2d' op kernel height (5 with dilation) is larger than the padded input (3)}}
  %0 = "mpc.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>, groups = 1 : i64} : (tensor<1x4x3x3xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x1x1xf32>
  return
}

// -----

func.func @conv_output_size(%x: tensor<1x4x9x9xf32>, %w: tensor<6x4x3x3xf32>) {
  // COM: (9 + 1 + 1 - 3) / 2 + 1 = 5
  // expected-error@+1 {{'mpc.conv2d' op result type must be 'tensor<1x6x5x5xf32>', got 'tensor<1x6x4x4xf32>'}}
  %0 = "mpc.conv2d"(%x, %w) {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x9x9xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x4x4xf32>
  return
}

// -----

// COM: Pooling.
func.func @pool_padding(%x: tensor<1x2x6x6xf32>) {
  // expected-error@+1 {{'mpc.max_pool2d' op padding must be at most half the kernel (2), got [2, 0, 0, 0]}}
  %0 = "mpc.max_pool2d"(%x) {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, padding = array<i64: 2, 0, 0, 0>} : (tensor<1x2x6x6xf32>) -> tensor<1x2x9x5xf32>
  return
}

// -----

func.func @pool_kernel_too_large(%x: tensor<1x2x2x2xf32>) {
  // expected-error@+1 {{'mpc.avg_pool2d' op kernel width (3) is larger than the padded input (2)}}
  %0 = "mpc.avg_pool2d"(%x) {kernel = array<i64: 1, 3>, strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x1xf32>
  return
}

// -----

func.func @pool_kernel_length(%x: tensor<1x2x6x6xf32>) {
  // expected-error@+1 {{'mpc.max_pool2d' op attribute 'kernel' must have 2 elements, got 1}}
  %0 = "mpc.max_pool2d"(%x) {kernel = array<i64: 2>, strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<1x2x6x6xf32>) -> tensor<1x2x5x5xf32>
  return
}

// -----

// COM: concat.
func.func @concat_axis(%a: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.concat' op axis 2 is out of range for rank 2 (axes are non-negative, below the rank)}}
  %0 = "mpc.concat"(%a, %a) {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error@+1 {{'mpc.concat' op inputs must have the same rank: input #0 is 2x3, input #1 is 3}}
  %0 = "mpc.concat"(%a, %b) {axis = 0 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x3xf32>
  return
}

// -----

func.func @concat_dims(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error@+1 {{'mpc.concat' op inputs must match outside axis 0: input #0 is 2x3, input #1 is 2x4}}
  %0 = "mpc.concat"(%a, %b) {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return
}

// -----

// COM: softmax and layer_norm.
func.func @softmax_axis(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.log_softmax' op axis 5 is out of range for rank 2}}
  %0 = "mpc.log_softmax"(%x) {axis = 5 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @softmax_negative_axis(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.softmax' op axis -1 is out of range for rank 2 (axes are non-negative, below the rank)}}
  %0 = "mpc.softmax"(%x) {axis = -1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @softmax_scalar(%x: tensor<f32>) {
  // expected-error@+1 {{'mpc.softmax' op operand #0 (x) must have rank at least 1, got rank 0}}
  %0 = "mpc.softmax"(%x) {axis = 0 : i64} : (tensor<f32>) -> tensor<f32>
  return
}

// -----

func.func @layer_norm_gamma(%x: tensor<2x8xf32>, %g: tensor<4xf32>, %b: tensor<8xf32>) {
  // expected-error@+1 {{'mpc.layer_norm' op gamma must have D = 8 elements (x's last dim), got 4}}
  %0 = "mpc.layer_norm"(%x, %g, %b) {eps = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<4xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @layer_norm_beta(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %b: tensor<2x8xf32>) {
  // expected-error@+1 {{'mpc.layer_norm' op operand #2 (beta) must have rank 1, got rank 2}}
  %0 = "mpc.layer_norm"(%x, %g, %b) {eps = 1.0e-05 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @layer_norm_eps(%x: tensor<2x8xf32>, %g: tensor<8xf32>) {
  // expected-error@+1 {{'mpc.layer_norm' op attribute 'eps' must be finite and non-negative, got -1}}
  %0 = "mpc.layer_norm"(%x, %g, %g) {eps = -1.0 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// -----

// COM: Reductions.
func.func @reduce_empty(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.reduce_mean' op attribute 'axes' must not be empty}}
  %0 = "mpc.reduce_mean"(%x) {axes = array<i64>, keepdim = false} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @reduce_too_many(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.reduce_sum' op attribute 'axes' has 3 entries but x has rank 2}}
  %0 = "mpc.reduce_sum"(%x) {axes = array<i64: 0, 1, 1>, keepdim = false} : (tensor<2x3xf32>) -> tensor<f32>
  return
}

// -----

func.func @reduce_axis(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.reduce_max' op axis 2 is out of range for rank 2}}
  %0 = "mpc.reduce_max"(%x) {axes = array<i64: 2>, keepdim = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @reduce_duplicate(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.reduce_sum' op attribute 'axes' lists axis 1 twice}}
  %0 = "mpc.reduce_sum"(%x) {axes = array<i64: 1, 1>, keepdim = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @reduce_keepdim_shape(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.reduce_sum' op result type must be 'tensor<2x1xf32>', got 'tensor<2xf32>'}}
  %0 = "mpc.reduce_sum"(%x) {axes = array<i64: 1>, keepdim = true} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

// COM: Losses.
func.func @cross_entropy_batch(%l: tensor<4x10xf32>, %y: tensor<5xi64>) {
  // expected-error@+1 {{'mpc.cross_entropy' op labels must have B = 4 elements (logits are [B, C]), got 5}}
  %0 = "mpc.cross_entropy"(%l, %y) {reduction = "mean"} : (tensor<4x10xf32>, tensor<5xi64>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_rank(%l: tensor<10xf32>, %y: tensor<1xi64>) {
  // expected-error@+1 {{'mpc.cross_entropy' op operand #0 (logits) must have rank 2, got rank 1}}
  %0 = "mpc.cross_entropy"(%l, %y) {reduction = "mean"} : (tensor<10xf32>, tensor<1xi64>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_not_scalar(%l: tensor<4x10xf32>, %y: tensor<4xi64>) {
  // expected-error@+1 {{'mpc.cross_entropy' op result type must be 'tensor<f32>', got 'tensor<4xf32>'}}
  %0 = "mpc.cross_entropy"(%l, %y) {reduction = "sum"} : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<4xf32>
  return
}

// -----

func.func @mse_shapes(%p: tensor<4x3xf32>, %t: tensor<4x1xf32>) {
  // expected-error@+1 {{'mpc.mse_loss' op pred and target must have the same shape: 4x3 vs 4x1}}
  %0 = "mpc.mse_loss"(%p, %t) {reduction = "mean"} : (tensor<4x3xf32>, tensor<4x1xf32>) -> tensor<f32>
  return
}

// -----

// COM: Data movement.
func.func @reshape_int_to_float(%x: tensor<2x3xi64>) {
  // expected-error@+1 {{'mpc.reshape' op result type must be 'tensor<6xi64>', got 'tensor<6xf32>'}}
  %0 = "mpc.reshape"(%x) : (tensor<2x3xi64>) -> tensor<6xf32>
  return
}

// -----

func.func @reshape_bool(%x: tensor<2x3xi1>) {
  // expected-error@+1 {{'mpc.reshape' op operand #0 (x) must be a tensor of f16, bf16, f32, f64, i32 or i64, got 'tensor<2x3xi1>'}}
  %0 = "mpc.reshape"(%x) : (tensor<2x3xi1>) -> tensor<6xi1>
  return
}

// -----

func.func @reshape_count(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.reshape' op cannot reshape 2x3 (6 elements) into 7 (7 elements)}}
  %0 = "mpc.reshape"(%x) : (tensor<2x3xf32>) -> tensor<7xf32>
  return
}

// -----

func.func @transpose_length(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.transpose' op attribute 'perm' must have 2 elements, got 3}}
  %0 = "mpc.transpose"(%x) {perm = array<i64: 0, 1, 2>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @transpose_permutation(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.transpose' op attribute 'perm' must be a permutation of 0..1, got 0 at index 1}}
  %0 = "mpc.transpose"(%x) {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @broadcast_to_mismatch(%x: tensor<3xf32>) {
  // expected-error@+1 {{'mpc.broadcast_to' op cannot broadcast 3 to 2x4}}
  %0 = "mpc.broadcast_to"(%x) : (tensor<3xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @broadcast_to_lower_rank(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.broadcast_to' op cannot broadcast 2x3 to 3}}
  %0 = "mpc.broadcast_to"(%x) : (tensor<2x3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @slice_length(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.slice' op attribute 'starts' must have 2 elements, got 1}}
  %0 = "mpc.slice"(%x) {starts = array<i64: 0>, sizes = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<1x1xf32>
  return
}

// -----

func.func @slice_empty(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.slice' op attribute 'sizes' must have elements >= 1, got 0 at index 1}}
  %0 = "mpc.slice"(%x) {starts = array<i64: 0, 0>, sizes = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<1x0xf32>
  return
}

// -----

func.func @slice_bounds(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.slice' op slice [2, 4) of dim 1 is out of bounds (size 3)}}
  %0 = "mpc.slice"(%x) {starts = array<i64: 0, 2>, sizes = array<i64: 1, 2>} : (tensor<2x3xf32>) -> tensor<1x2xf32>
  return
}

// -----

func.func @embedding_table(%t: tensor<10xf32>, %ids: tensor<4xi64>) {
  // expected-error@+1 {{'mpc.embedding' op operand #0 (table) must have rank 2, got rank 1}}
  %0 = "mpc.embedding"(%t, %ids) : (tensor<10xf32>, tensor<4xi64>) -> tensor<4xf32>
  return
}

// -----

func.func @embedding_ids_rank(%t: tensor<10x4xf32>, %ids: tensor<1x1x1x1x1x1x1x2xi64>) {
  // expected-error@+1 {{'mpc.embedding' op operand #1 (ids) must have rank 0 to 7, got rank 8}}
  %0 = "mpc.embedding"(%t, %ids) : (tensor<10x4xf32>, tensor<1x1x1x1x1x1x1x2xi64>) -> tensor<1x1x1x1x1x1x1x2xf32>
  return
}

// -----

func.func @scatter_axis(%x: tensor<4x3xf32>, %i: tensor<2x3xi64>, %u: tensor<2x3xf32>) {
  // expected-error@+1 {{'mpc.scatter_add' op axis 2 is out of range for rank 2}}
  %0 = "mpc.scatter_add"(%x, %i, %u) {axis = 2 : i64} : (tensor<4x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @scatter_shapes(%x: tensor<4x3xf32>, %i: tensor<2x3xi64>, %u: tensor<2x2xf32>) {
  // expected-error@+1 {{'mpc.scatter_add' op indices and updates must have the same shape: 2x3 vs 2x2}}
  %0 = "mpc.scatter_add"(%x, %i, %u) {axis = 0 : i64} : (tensor<4x3xf32>, tensor<2x3xi64>, tensor<2x2xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @scatter_rank(%x: tensor<4x3xf32>, %i: tensor<3xi64>, %u: tensor<3xf32>) {
  // expected-error@+1 {{'mpc.scatter_add' op updates must have the rank of x (2), got rank 1}}
  %0 = "mpc.scatter_add"(%x, %i, %u) {axis = 0 : i64} : (tensor<4x3xf32>, tensor<3xi64>, tensor<3xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @scatter_extent(%x: tensor<4x3xf32>, %i: tensor<2x5xi64>, %u: tensor<2x5xf32>) {
  // expected-error@+1 {{'mpc.scatter_add' op updates dim 1 (5) exceeds x's (3)}}
  %0 = "mpc.scatter_add"(%x, %i, %u) {axis = 0 : i64} : (tensor<4x3xf32>, tensor<2x5xi64>, tensor<2x5xf32>) -> tensor<4x3xf32>
  return
}
