// Input for insert-casts-complex.mlir: a complex<f32> argument used by an op.
func.func @used(%z: tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>> {
  // expected-error@+1 {{64-true cannot widen complex<f32> argument #0 to complex<f64>: 'tensor.insert_slice' uses it}}
  %0 = tensor.insert_slice %z into %z[0] [4] [1] : tensor<4xcomplex<f32>> into tensor<4xcomplex<f32>>
  return %0 : tensor<4xcomplex<f32>>
}
