// --verify-diagnostics itself: every designator form matches, and unmet or
// unexpected diagnostics fail the run with located errors.
// RUN: mpc-opt --split-input-file --verify-diagnostics %s
// RUN: split-file %S/Inputs/verify-diagnostics-failing.txt %t
// RUN: not mpc-opt --verify-diagnostics %t/unmet.mlir 2>&1 | FileCheck %s --check-prefix=UNMET
// RUN: not mpc-opt --verify-diagnostics %t/unexpected.mlir 2>&1 | FileCheck %s --check-prefix=UNEXPECTED
// RUN: not mpc-opt --verify-diagnostics %t/wrong-line.mlir 2>&1 | FileCheck %s --check-prefix=WRONGLINE
// RUN: not mpc-opt --verify-diagnostics %t/malformed.mlir 2>&1 | FileCheck %s --check-prefix=MALFORMED

func.func @same_line(%x: tensor<4xf32>) {
  %0 = "mpc.relu"(%x) : (tensor<4xf32>) -> tensor<5xf32> // expected-error {{result type must be 'tensor<4xf32>'}}
  return
}

// -----

func.func @plus_and_minus(%x: tensor<4xf32>) {
  // expected-error@+2 {{'mpc.exp' op result type}}
  // COM: a line in between
  %0 = "mpc.exp"(%x) : (tensor<4xf32>) -> tensor<5xf32>
  %1 = "mpc.log"(%x) : (tensor<4xf32>) -> tensor<5xf32>
  // expected-error@-1 {{'mpc.log' op result type}}
  return
}

// -----

func.func @above_and_below(%x: tensor<4xf32>) {
  // COM: @below skips the designator lines under it to reach the op.
  // expected-error@below {{'mpc.sqrt' op result type must be}}
  // expected-error@+2 {{'mpc.rsqrt' op}}
  %0 = "mpc.sqrt"(%x) : (tensor<4xf32>) -> tensor<5xf32>
  %1 = "mpc.rsqrt"(%x) : (tensor<4xf32>) -> tensor<3xf32>
  %2 = "mpc.exp"(%x) : (tensor<4xf32>) -> tensor<3xf32>
  // expected-error@above {{'mpc.exp' op result type must be 'tensor<4xf32>', got 'tensor<3xf32>'}}
  return
}

// -----

// COM: Parser errors and their notes are diagnostics too.
func.func @notes(%x: tensor<4xf32>) {
  // expected-note@+1 {{prior use here}}
  %0 = "mpc.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  // expected-error@+1 {{use of value '%0' expects different type than prior uses}}
  %1 = "mpc.relu"(%0) : (tensor<5xf32>) -> tensor<5xf32>
  return
}

// -----

// COM: A chunk without expectations and without errors passes.
func.func @clean(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// UNMET: unmet.mlir:2:6: error: expected error "this is never emitted" was not produced
// UNEXPECTED: unexpected.mlir:2:8: error: unexpected error: 'mpc.relu' op result type must be 'tensor<4xf32>', got 'tensor<5xf32>'
// WRONGLINE-DAG: wrong-line.mlir:2:6: error: expected error "result type" was not produced
// WRONGLINE-DAG: wrong-line.mlir:3:8: error: unexpected error: 'mpc.relu' op result type
// MALFORMED-DAG: malformed.mlir:2:6: error: expected '{{[{][{]}}' after the expected-* designator
// MALFORMED-DAG: malformed.mlir:3:6: error: expected '@above', '@below', '@+N' or '@-N'
// MALFORMED-DAG: malformed.mlir:4:6: error: expected '{{[}][}]}}' to end the expected message
// MALFORMED-DAG: malformed.mlir:5:6: error: expected a line offset after '@+' or '@-'
