#!/usr/bin/env bash
# Installs the Debian packages mpc needs, and only those that are missing.
#   scripts/setup.sh          build + main job
#   scripts/setup.sh --test   also what the test suite needs (clang for the fuzzer)
set -euo pipefail

packages=(cmake ninja-build gcc libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools lld zlib1g-dev
          protobuf-c-compiler libprotobuf-c-dev libonnx-dev
          python3 python3-numpy dataset-fashion-mnist)
if [[ "${1:-}" == "--test" ]]; then
  # clang for the fuzzers (NumPy, which the main job uses too, is above); ONNX's
  # Python package and its node conformance tests for the importer's tests.
  packages+=(clang-22 libclang-rt-22-dev python3-onnx libonnx-testdata)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
