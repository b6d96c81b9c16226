#!/usr/bin/env bash
# Every test: set up, build, run the lit suite (which includes the C unit
# tests and the fuzz-corpus replay), run it again under ASan+UBSan, then fuzz
# parse+verify for a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
lit=/usr/lib/llvm-22/bin/lit

echo "== build and lit suite"
scripts/build.sh
"$lit" -sv build/test -o build/lit-results.json
# ONNX's node conformance tests ran inside the suite (test/Import/conformance.test): their counts.
grep -h "^conformance:" build/test/Import/Output/conformance.test.tmp/log.txt || echo "conformance: did not run"

echo "== lit suite under AddressSanitizer + UndefinedBehaviorSanitizer"
MPC_BUILD_DIR=build-asan scripts/build.sh -DMPC_SANITIZE=ON
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$lit" -s build-asan/test -o build-asan/lit-results.json

echo "== fuzz parse+verify+precision, the runtime's file readers and the ONNX importer, ${MPC_FUZZ_SECONDS:-60} s each"
if [[ ! -f build-fuzz/build.ninja ]]; then
  cmake -G Ninja -S . -B build-fuzz -DCMAKE_C_COMPILER=/usr/lib/llvm-22/bin/clang \
    -DMPC_BUILD_FUZZERS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
ninja -C build-fuzz mpc-parse-fuzzer mpcrt-files-fuzzer mpc-onnx-fuzzer
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ir" "$work/files" "$work/onnx"
build-fuzz/test/fuzz/mpc-parse-fuzzer -max_total_time="${MPC_FUZZ_SECONDS:-60}" -timeout=10 \
  -rss_limit_mb=4096 -dict=test/fuzz/mpc.dict -artifact_prefix="$work/" -print_final_stats=1 \
  "$work/ir" test/fuzz/corpus test/fuzz/regressions 2>&1 | tail -n 12
build-fuzz/test/fuzz/mpcrt-files-fuzzer -max_total_time="${MPC_FUZZ_SECONDS:-60}" -timeout=10 \
  -rss_limit_mb=4096 -artifact_prefix="$work/" -print_final_stats=1 \
  "$work/files" test/fuzz/runtime-corpus 2>&1 | tail -n 12
build-fuzz/test/fuzz/mpc-onnx-fuzzer -max_total_time="${MPC_FUZZ_SECONDS:-60}" -timeout=10 \
  -rss_limit_mb=4096 -dict=test/fuzz/onnx.dict -artifact_prefix="$work/" -print_final_stats=1 \
  "$work/onnx" test/fuzz/onnx-corpus test/fuzz/regressions-onnx 2>&1 | tail -n 12

# One closing line for both lit runs (the fuzzer exits non-zero on a finding).
python3 - build/lit-results.json build-asan/lit-results.json <<'PY'
import json, sys
ok = bad = skipped = 0
for path in sys.argv[1:]:
    for t in json.load(open(path))["tests"]:
        code = t["code"]
        if code in ("PASS", "XFAIL"):
            ok += 1
        elif code in ("UNSUPPORTED", "SKIPPED"):
            skipped += 1
        else:
            bad += 1
print(f"tests: {ok} passed, {bad} failed, {skipped} skipped")
sys.exit(1 if bad else 0)
PY
