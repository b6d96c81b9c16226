#!/usr/bin/env bash
# The main job: set up, build, compile the example MLP into a bf16-mixed
# trainer and train it on Fashion-MNIST, then evaluate it on the test set.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
work=build/main
data=/usr/share/datasets/fashion-mnist
mkdir -p "$work"

echo "== what runs in which type: mpc-opt --precision=bf16-mixed --report=$work/mlp-bf16-mixed.json examples/mlp.mlir"
build/tools/mpc-opt --precision=bf16-mixed --report="$work/mlp-bf16-mixed.json" examples/mlp.mlir \
  -o "$work/mlp-bf16-mixed.mlir"
/usr/bin/python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["summary"]))' "$work/mlp-bf16-mixed.json"

echo "== mpc-compile -v --train=sgd examples/mlp.mlir --precision=bf16-mixed -o $work/train-mlp"
build/tools/mpc-compile -v --train=sgd examples/mlp.mlir --precision=bf16-mixed -o "$work/train-mlp"

echo "== $work/train-mlp: 3 epochs of Fashion-MNIST, shuffled, SGD lr 0.05, then the test set"
"$work/train-mlp" --input x="$data/train-images-idx3-ubyte.gz" --input y="$data/train-labels-idx1-ubyte.gz" \
  --epochs 3 --shuffle --lr 0.05 --seed 1 --log "$work/train-mlp.csv" --save "$work/mlp.safetensors" \
  --eval x="$data/t10k-images-idx3-ubyte.gz" --eval y="$data/t10k-labels-idx1-ubyte.gz"

echo "== the loss, every 50 steps ($work/train-mlp.csv)"
awk -F, 'NR > 1 && ($1 == 1 || $1 % 50 == 0) { printf "step %4d  loss %.4f\n", $1, $2 }' "$work/train-mlp.csv"
echo "== checkpoint: $work/mlp.safetensors (parameters by their mpc.param names, optimizer state, step)"
