// A pin must name a float type.
// RUN: mpc-opt --precision=16-mixed --mpc-assign-precision --verify-diagnostics --split-input-file %s

func.func @bad_pin(%x: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.relu' op has mpc.precision = "f8"; expected "f16", "bf16", "f32" or "f64"}}
  %0 = "mpc.relu"(%x) {mpc.precision = "f8"} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @pin_not_string(%x: tensor<4xf32>) {
  // expected-error@+1 {{'mpc.relu' op has mpc.precision = 16 : i64; expected}}
  %0 = "mpc.relu"(%x) {mpc.precision = 16} : (tensor<4xf32>) -> tensor<4xf32>
  return
}
