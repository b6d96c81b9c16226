// RUN: mpc-opt --split-input-file --verify-diagnostics --mpc-lower-to-linalg %s

func.func @unknown_op(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{cannot lower 'math.sin': only mpc ops, arith.constant and arith.extf/truncf casts are supported}}
  %0 = math.sin %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func private @callee(%x: tensor<4xf32>) -> tensor<4xf32>
// expected-error@-1 {{cannot lower a function without a body}}

// -----

func.func private @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
func.func @call(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{cannot lower 'func.call': only mpc ops, arith.constant and arith.extf/truncf casts are supported}}
  %0 = func.call @f(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// MLIR accepts a body ending in an unregistered op (it might terminate the
// block); the lowering does not (found by the fuzzer).
// expected-error@+1 {{cannot lower a function whose body does not end with func.return}}
func.func @no_return(%x: tensor<4xf32>) {
  %0 = "mpc.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
}

// -----

func.func @xor_of_vectors(%a: tensor<4xi1>, %b: tensor<4xi1>) -> tensor<4xi1> {
  // expected-error@+1 {{cannot lower 'arith.xori': only the xor of two tensor<i1> is supported}}
  %0 = arith.xori %a, %b : tensor<4xi1>
  return %0 : tensor<4xi1>
}
