#!/usr/bin/env python3
"""Compiled models against PyTorch, same run: a 1024^3 matmul (f32 and bf16)
and the MLP forward (examples/mlp.mlir, batch 256) in f32 and bf16.

    python3 bench/forward.py [--build build] [--repeats 20]

mpc's side is what mpc-compile --forward builds: the runner's --repeat N
times N evaluations of the model function after a warm-up (inputs already
converted and in memory, as PyTorch's are). PyTorch is Debian's python3-torch
on the CPU with 2 threads: OpenBLAS's OpenMP build for f32 (fetched by
matmul.py into bench/.deps, which this script re-uses the same way), oneDNN
for bf16 (torch.autocast for the MLP, bf16 tensors for the matmul).

Prints, for each case: milliseconds, GFLOP/s, the ratio PyTorch time / mpc
time (> 1: mpc faster) and mpc's fraction of this machine kind's measured
peak (about 220 GFLOP/s f32 and 445 bf16 on 2 cores). The two sides
alternate twice and each keeps its best, as the machines are noisy.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from matmul import PEAK, openblas_dir  # noqa: E402

MATMUL = """func.func @forward(%a: tensor<{n}x{n}xf32> {{mpc.input = "a"}}, %b: tensor<{n}x{n}xf32> {{mpc.input = "b"}})
    -> tensor<{n}x{n}xf32> {{
  %c = "mpc.matmul"(%a, %b) : (tensor<{n}x{n}xf32>, tensor<{n}x{n}xf32>) -> tensor<{n}x{n}xf32>
  return %c : tensor<{n}x{n}xf32>
}}
"""
MLP_FLOP = 2 * 256 * (784 * 1024 + 1024 * 1024 + 1024 * 10)


def mpc_ms(compiler, model, mode, inputs, repeats, work):
    runner = os.path.join(work, f"{os.path.basename(model)}-{mode}")
    if not os.path.exists(runner):
        subprocess.run([compiler, "--forward", model, "--precision=" + mode, "-o", runner], check=True)
    cmd = [runner, "--seed", "1", "--out", os.path.join(work, "out"), "--repeat", str(repeats)]
    for name, path in inputs.items():
        cmd += ["--input", f"{name}={path}"]
    err = subprocess.run(cmd, check=True, capture_output=True, text=True).stderr
    return float(re.search(r"forward: ([0-9.]+) ms", err).group(1))


def torch_ms(fn, repeats):
    fn()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t0) / repeats * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--n", type=int, default=1024)
    args = ap.parse_args()

    blas = openblas_dir()
    if blas and blas not in os.environ.get("LD_LIBRARY_PATH", ""):
        env = dict(os.environ, LD_LIBRARY_PATH=blas + os.pathsep + os.environ.get("LD_LIBRARY_PATH", ""))
        os.execve(sys.executable, [sys.executable] + sys.argv, env)

    import numpy as np
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(2)

    compiler = os.path.join(args.build, "tools", "mpc-compile")
    n = args.n
    work = tempfile.mkdtemp(prefix="mpc-bench-")
    rng = np.random.default_rng(0)
    a = (rng.random((n, n), dtype=np.float32) - 0.5)
    b = (rng.random((n, n), dtype=np.float32) - 0.5)
    np.save(os.path.join(work, "a.npy"), a)
    np.save(os.path.join(work, "b.npy"), b)
    matmul = os.path.join(work, "matmul.mlir")
    with open(matmul, "w") as f:
        f.write(MATMUL.format(n=n))
    x = rng.random((256, 784), dtype=np.float32)
    y = rng.integers(0, 10, 256).astype(np.int64)
    np.save(os.path.join(work, "x.npy"), x)
    np.save(os.path.join(work, "y.npy"), y)
    mlp = os.path.join(ROOT, "examples", "mlp.mlir")

    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    ta16, tb16 = ta.to(torch.bfloat16), tb.to(torch.bfloat16)
    g = torch.Generator().manual_seed(0)
    w = [torch.rand(1024, 784, generator=g) - 0.5, torch.rand(1024) - 0.5, torch.rand(1024, 1024, generator=g) - 0.5,
         torch.rand(1024) - 0.5, torch.rand(10, 1024, generator=g) - 0.5, torch.rand(10) - 0.5]
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def mlp_torch():
        with torch.no_grad():
            h = F.relu(F.linear(tx, w[0], w[1]))
            h = F.relu(F.linear(h, w[2], w[3]))
            return F.cross_entropy(F.linear(h, w[4], w[5]), ty)

    def mlp_torch_bf16():
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            return mlp_torch()

    cases = [
        ("matmul f32", "f32", 2.0 * n ** 3, lambda r: mpc_ms(compiler, matmul, "32-true", {"a": f"{work}/a.npy", "b": f"{work}/b.npy"}, r, work),
         lambda r: torch_ms(lambda: torch.mm(ta, tb), r)),
        ("matmul bf16", "bf16", 2.0 * n ** 3, lambda r: mpc_ms(compiler, matmul, "bf16-true", {"a": f"{work}/a.npy", "b": f"{work}/b.npy"}, r, work),
         lambda r: torch_ms(lambda: torch.mm(ta16, tb16), r)),
        ("MLP forward f32 (32-true)", "f32", MLP_FLOP, lambda r: mpc_ms(compiler, mlp, "32-true", {"x": f"{work}/x.npy", "y": f"{work}/y.npy"}, r, work),
         lambda r: torch_ms(mlp_torch, r)),
        ("MLP forward bf16 (bf16-mixed / autocast)", "bf16", MLP_FLOP,
         lambda r: mpc_ms(compiler, mlp, "bf16-mixed", {"x": f"{work}/x.npy", "y": f"{work}/y.npy"}, r, work),
         lambda r: torch_ms(mlp_torch_bf16, r)),
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; f32 BLAS: "
          f"{'OpenBLAS (openmp)' if blas else 'default'}")
    print(f"{'case':44s} {'mpc ms':>8s} {'torch ms':>9s} {'mpc GFLOP/s':>12s} {'torch/mpc':>10s} {'% of peak':>10s}")
    for name, kind, flop, mpc, peer in cases:
        mine = theirs = float("inf")
        for _ in range(2):
            mine = min(mine, mpc(args.repeats))
            theirs = min(theirs, peer(args.repeats))
        gflops = flop / (mine * 1e-3) / 1e9
        print(f"{name:44s} {mine:8.2f} {theirs:9.2f} {gflops:12.1f} {theirs / mine:10.2f} "
              f"{100 * gflops / PEAK[kind]:9.0f}%")


if __name__ == "__main__":
    main()
