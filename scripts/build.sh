#!/usr/bin/env bash
# Configures (once) and builds mpc in build/ (or $MPC_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${MPC_BUILD_DIR:-build}
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
fi
ninja -C "$build"
