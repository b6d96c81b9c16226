#!/usr/bin/env bash
# The main job: set up, build, and run the compiler on the example model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
# Until the code generator exists, the main job compiles the example MLP for
# bf16-mixed and shows the IR after every pass and what runs in which type.
echo "== mpc-opt --precision=bf16-mixed --print-ir-after-all --report=build/mlp-bf16-mixed.json examples/mlp.mlir"
build/tools/mpc-opt --precision=bf16-mixed --print-ir-after-all --report=build/mlp-bf16-mixed.json \
  examples/mlp.mlir -o build/mlp-bf16-mixed.mlir
echo "== build/mlp-bf16-mixed.json (summary)"
python3 -c 'import json; print(json.dumps(json.load(open("build/mlp-bf16-mixed.json"))["summary"], indent=2))'
