#!/usr/bin/env bash
# The main job: set up, build, compile the example MLP and run it on real data.
# (Training arrives with the training issue; until then the main job compiles
# the model's forward pass into a native runner and evaluates one batch.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
work=build/main
mkdir -p "$work"

echo "== what runs in which type: mpc-opt --precision=bf16-mixed --report=$work/mlp-bf16-mixed.json examples/mlp.mlir"
build/tools/mpc-opt --precision=bf16-mixed --report="$work/mlp-bf16-mixed.json" examples/mlp.mlir \
  -o "$work/mlp-bf16-mixed.mlir"
/usr/bin/python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["summary"]))' "$work/mlp-bf16-mixed.json"

echo "== one Fashion-MNIST batch (the first 256 training images) and seeded weights"
/usr/bin/python3 test/Codegen/mlp_batch.py "$work"

for mode in 32-true bf16-mixed; do
  echo "== mpc-compile -v --forward examples/mlp.mlir --precision=$mode -o $work/mlp-$mode"
  build/tools/mpc-compile -v --forward examples/mlp.mlir --precision="$mode" -o "$work/mlp-$mode"
  "$work/mlp-$mode" --input x="$work/x.npy" --input y="$work/y.npy" --init "$work/params.safetensors" \
    --out "$work/out-$mode" --repeat 20
  /usr/bin/python3 -c 'import numpy as np, sys; print(f"loss ({sys.argv[2]}): {float(np.load(sys.argv[1])):.7f}")' \
    "$work/out-$mode/result0.npy" "$mode"
done
echo "PyTorch's fp32 loss for the same batch and weights (test/Codegen/Inputs/mlp-reference.txt): $(tail -n 1 test/Codegen/Inputs/mlp-reference.txt)"
