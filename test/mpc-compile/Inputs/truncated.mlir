func.func @forward(
