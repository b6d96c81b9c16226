#!/usr/bin/env python3
"""Compiles each example model with mpc-compile --forward in every precision
mode, runs it on random inputs (float inputs uniform in [0, 1), integer
inputs in [0, 10), valid labels and token ids for every example) with
parameters from the default init rules (seed 1), and checks that every
result is finite. Prints the first result (the loss) of each run, and
checks it against the 64-true run of the same program with parameters
from the same seed (initialised in f64 and rounded to each mode's type):
  32-true              2e-6 relative (measured 2.6e-7 at most)
  16-mixed, bf16-mixed 2e-4          (low-precision matrix ops with f32
                                      accumulation, f32 losses; 2.3e-5)
  16-true              2e-3          (f16 everywhere, 2^-11 per op; 3.8e-4)
  bf16-true            1e-2          (bf16 everywhere, 2^-8 per op; 2.9e-3)
The measured differences are those of the committed examples and seed.

    run_examples.py MPC_COMPILE EXAMPLES_DIR WORKDIR
"""
import glob
import os
import re
import subprocess
import sys

import numpy as np

MODES = ["64-true", "32-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true"]
TOL = {"64-true": 0.0, "32-true": 2e-6, "16-mixed": 2e-4, "bf16-mixed": 2e-4, "16-true": 2e-3, "bf16-true": 1e-2}
ARG = re.compile(r"%\w+:\s*tensor<([0-9x]*)(f16|bf16|f32|f64|i32|i64|i1)>\s*\{mpc\.input\s*=\s*\"([^\"]+)\"")


def inputs_of(path):
    found = []
    for dims, elt, name in ARG.findall(open(path).read()):
        shape = tuple(int(d) for d in dims.split("x") if d)
        found.append((name, shape, elt))
    return found


def load(path):
    a = np.load(path)
    if a.dtype == np.uint16:  # bf16 bits
        a = (a.astype(np.uint32).reshape(-1) << 16).view(np.float32).reshape(a.shape)
    return a.astype(np.float64)


def main():
    compiler, examples, work = sys.argv[1:4]
    rng = np.random.default_rng(7)
    failures = runs = 0
    for model in sorted(glob.glob(os.path.join(examples, "*.mlir"))):
        name = os.path.splitext(os.path.basename(model))[0]
        args = []
        for input_name, shape, elt in inputs_of(model):
            path = os.path.join(work, f"{name}-{input_name}.npy")
            if elt.startswith("i"):
                np.save(path, rng.integers(0, 10, size=shape).astype(np.int64 if elt == "i64" else np.int32))
            else:
                np.save(path, rng.random(shape, dtype=np.float32))
            args += ["--input", f"{input_name}={path}"]
        for mode in MODES:
            runs += 1
            runner = os.path.join(work, f"{name}-{mode}")
            out = os.path.join(work, f"{name}-{mode}-out")
            subprocess.run([compiler, "--forward", model, "--precision=" + mode, "-o", runner], check=True,
                           stderr=subprocess.DEVNULL)
            subprocess.run([runner, "--seed", "1", "--out", out] + args, check=True)
            results = [load(p) for p in sorted(glob.glob(os.path.join(out, "result*.npy")))]
            finite = bool(results) and all(np.all(np.isfinite(r)) for r in results)
            loss = float(results[0].reshape(-1)[0]) if results else float("nan")
            if mode == "64-true":
                reference = loss
            err = abs(loss - reference) / abs(reference)
            ok = finite and err <= TOL[mode]
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name} {mode}: loss {loss:.6f}, "
                  f"relative difference from 64-true {err:.1e} (tolerance {TOL[mode]:.0e})")
    print(f"examples: {runs - failures} of {runs} runs finite and within tolerance of 64-true")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
