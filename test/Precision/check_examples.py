#!/usr/bin/env python3
"""Runs the precision pipeline on the example models in every mode on both
targets and checks the result (used by examples.test):

- mixed modes: matrix ops (linear, matmul, conv2d) run in the low type;
  softmax, layer_norm and the losses in f32;
- true modes: every op in the mode's type, and the float parameters too;
- 32-true: no cast at all;
- no round trips: running mpc-fold-casts again changes nothing;
- the output verifies (mpc-opt reparses it).
Prints one line per model, mode and target; exits 1 on the first failure.
"""
import json
import os
import subprocess
import sys
import tempfile

MODES = {"32-true": None, "16-mixed": "f16", "bf16-mixed": "bf16", "16-true": "f16", "bf16-true": "bf16",
         "64-true": "f64"}
MATRIX = {"mpc.linear", "mpc.matmul", "mpc.conv2d"}
FULL = {"mpc.softmax", "mpc.log_softmax", "mpc.layer_norm", "mpc.cross_entropy", "mpc.mse_loss"}


def run(args, stdin=None):
    return subprocess.run(["mpc-opt"] + args, input=stdin, capture_output=True, text=True)


def check(model, mode, target, tmp):
    report = os.path.join(tmp, "report.json")
    out = run([f"--precision={mode}", f"--target={target}", f"--report={report}", model])
    if out.returncode != 0:
        return "mpc-opt failed: " + out.stderr
    ops = json.load(open(report))["ops"]
    summary = json.load(open(report))["summary"]
    low = MODES[mode]
    for op in ops:
        name, ty = op["name"], op["type"]
        if mode.endswith("-mixed"):
            if name in MATRIX and ty != low:
                return f"{name} at {op['location']} runs in {ty}, expected {low}"
            if name in FULL and ty != "f32":
                return f"{name} at {op['location']} runs in {ty}, expected f32"
        elif low and ty != low:
            return f"{name} at {op['location']} runs in {ty}, expected {low} everywhere"
    if mode == "32-true" and summary["casts_inserted"] != 0:
        return f"32-true inserted {summary['casts_inserted']} casts"
    if low and not mode.endswith("-mixed"):
        before, after = summary["parameter_bytes"]["before"], summary["parameter_bytes"]["after"]
        if after * 4 != before * {"f16": 2, "bf16": 2, "f64": 8}[low]:
            return f"parameters {before} -> {after} bytes"
    refolded = run(["--mpc-fold-casts"], stdin=out.stdout)
    if refolded.returncode != 0 or refolded.stdout != out.stdout:
        return "a cast round trip survived (mpc-fold-casts changed the output)"
    return None


def main():
    examples = sys.argv[1]
    failures = runs = 0
    with tempfile.TemporaryDirectory() as tmp:
        for model in ("mlp.mlir", "cnn.mlir", "transformer_block.mlir"):
            for mode in MODES:
                for target in ("cpu", "cuda"):
                    problem = check(os.path.join(examples, model), mode, target, tmp)
                    print(f"{'FAIL' if problem else 'ok'} {model} {mode} {target}" + (f": {problem}" if problem else ""))
                    failures += problem is not None
                    runs += 1
    print(f"examples: {runs - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
