#!/usr/bin/env bash
# The main job: set up, build, and run the compiler on the example model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
echo "== mpc-opt --mpc-verify --print-ir-after-all examples/mlp.mlir"
build/tools/mpc-opt --mpc-verify --print-ir-after-all examples/mlp.mlir
