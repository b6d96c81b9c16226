#!/usr/bin/env python3
"""1024 x 1024 x 1024 matmul: mpc's runtime kernels against PyTorch, same run.

    python3 bench/matmul.py [--build build] [--n 1024] [--repeats 7]

PyTorch is Debian's python3-torch on the CPU with 2 threads. Its default BLAS is
the slow reference BLAS, so for a fair f32 baseline this script fetches
Debian's OpenBLAS (OpenMP build) once into bench/.deps and re-runs itself with
it first on LD_LIBRARY_PATH (../shared/notes/toolchain.md). bf16 in that torch
goes through oneDNN with AVX512-BF16. Prints GFLOP/s for both, the ratio
mpc / PyTorch (> 1: mpc faster), and the fraction of this machine kind's
measured peak (about 220 GFLOP/s f32 and 445 bf16 on 2 cores).
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEAK = {"f32": 220.0, "bf16": 445.0}


def openblas_dir():
    deps = os.path.join(HERE, ".deps")
    found = glob.glob(os.path.join(deps, "usr/lib/*/openblas-openmp"))
    if found:
        return found[0]
    os.makedirs(deps, exist_ok=True)
    try:
        subprocess.run(["apt-get", "download", "libopenblas0-openmp"], cwd=deps, check=True, capture_output=True)
        deb = glob.glob(os.path.join(deps, "libopenblas0-openmp_*.deb"))[0]
        subprocess.run(["dpkg-deb", "-x", deb, deps], check=True)
    except (subprocess.CalledProcessError, IndexError) as e:
        print(f"note: no OpenBLAS ({e}); PyTorch f32 uses its default BLAS", file=sys.stderr)
        return None
    found = glob.glob(os.path.join(deps, "usr/lib/*/openblas-openmp"))
    return found[0] if found else None


def torch_gflops(n, repeats):
    import torch
    torch.set_num_threads(2)
    out = {}
    for name, dtype in (("f32", torch.float32), ("bf16", torch.bfloat16)):
        g = torch.Generator().manual_seed(0)
        a = (torch.rand(n, n, generator=g) - 0.5).to(dtype)
        b = (torch.rand(n, n, generator=g) - 0.5).to(dtype)
        best = float("inf")
        for r in range(repeats + 1):
            t0 = time.perf_counter()
            torch.mm(a, b)
            t = time.perf_counter() - t0
            if r:
                best = min(best, t)
        out[name] = 2.0 * n ** 3 / best / 1e9
    return out


def mpc_gflops(build, n, repeats):
    exe = os.path.join(build, "bench", "mpcrt-gemm-bench")
    text = subprocess.run([exe, str(n), str(repeats)], check=True, capture_output=True, text=True,
                          env=dict(os.environ, MPC_NUM_THREADS="2")).stdout
    out = {}
    for line in text.splitlines():
        m = re.match(r"gemm (\w+) .* kernel=(\S+) .* gflops=([\d.]+)", line)
        if m:
            out[m.group(1)] = (float(m.group(3)), m.group(2))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    if "MPC_BENCH_CHILD" not in os.environ:
        blas = openblas_dir()
        env = dict(os.environ, MPC_BENCH_CHILD="1", OMP_NUM_THREADS="2")
        if blas:
            env["LD_LIBRARY_PATH"] = blas + os.pathsep + env.get("LD_LIBRARY_PATH", "")
        sys.exit(subprocess.run([sys.executable] + sys.argv, env=env).returncode)
    # Alternate the two sides twice so that machine noise hits both.
    runs = []
    for _ in range(2):
        runs.append((mpc_gflops(args.build, args.n, args.repeats), torch_gflops(args.n, args.repeats)))
    print(f"matmul {args.n}x{args.n}x{args.n}, 2 threads, best of {args.repeats} (x2 alternating)")
    print(f"{'type':5} {'mpc GFLOP/s':>12} {'kernel':>12} {'torch GFLOP/s':>14} {'mpc/torch':>10} {'mpc % of peak':>14}")
    for name in ("f32", "bf16"):
        mpc = max(r[0][name][0] for r in runs)
        kernel = runs[0][0][name][1]
        torch_ = max(r[1][name] for r in runs)
        print(f"{name:5} {mpc:12.1f} {kernel:>12} {torch_:14.1f} {mpc / torch_:10.2f} {100 * mpc / PEAK[name]:13.0f}%")


if __name__ == "__main__":
    main()
