#!/usr/bin/env python3
"""Compiled trainers against PyTorch, same run: the time of one training step
(forward, backward, optimizer update) for the MLP (examples/mlp.mlir, batch
256, SGD lr 0.05, Fashion-MNIST) and the tiny GPT (examples/tiny_gpt.mlir,
2 layers, d_model 256, 8 x 128 tokens, AdamW lr 1e-3, random tokens) in
32-true, bf16-mixed and bf16-true.

    python3 bench/train.py [--build build] [--mlp-steps 30] [--gpt-steps 10] [--warmup 3]

mpc's side is what mpc-compile --train builds, compiled once per model and
mode. A trainer reports the time of its whole loop, the first (cold) steps
included, so each measurement runs it twice, for W and for W + N steps
(W = --warmup), and takes the difference over N. PyTorch's side is an
nn.Module of the same architecture and parameter names with the same
optimizer, zero_grad / forward / backward / step: fp32 for 32-true,
torch.autocast("cpu", torch.bfloat16) for bf16-mixed, model.to(bfloat16) for
bf16-true; W warm-up steps, then the mean of N. Both sides use 2 threads
(MPC_NUM_THREADS, torch.set_num_threads), OpenBLAS's OpenMP build for
PyTorch's f32 (fetched by matmul.py into bench/.deps) and oneDNN for bf16.
The two sides alternate twice (--rounds) and each keeps its best mean.

Both sides start from the same parameters (PyTorch's initialisation, passed to
the trainer with --init) and see the same batches, so the losses after W + N
steps are printed as a check that the two compute the same training (close in
32-true; the bf16 modes round differently).

Prints, for each case: ms per step for both, the ratio PyTorch time / mpc
time (> 1: mpc faster) and the two final losses.
"""
import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from matmul import openblas_dir  # noqa: E402

MODES = ("32-true", "bf16-mixed", "bf16-true")
FASHION = "/usr/share/datasets/fashion-mnist"
MLP_BATCH = 256
GPT = dict(B=8, T=128, D=256, H=4, V=512, L=2)  # examples/tiny_gpt.mlir
OPTIMIZERS = {  # the same hyperparameters on both sides (PyTorch's defaults otherwise)
    "mlp": ("sgd:lr=0.05", 0.05),
    "gpt": ("adamw:lr=0.001,beta1=0.9,beta2=0.999,eps=1e-08,weight_decay=0.01", 1e-3),
}


def read_idx(path):
    import numpy as np
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def mlp_data(samples, rng):
    """Fashion-MNIST's first training images (scaled to [0, 1]) and labels, or
    random data of the same shape where the data set is missing."""
    import numpy as np
    images, labels = (os.path.join(FASHION, f) for f in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"))
    if os.path.exists(images) and os.path.exists(labels):
        x = read_idx(images)[:samples].reshape(-1, 784).astype(np.float32) / 255
        y = read_idx(labels)[:samples].astype(np.int64)
        return x, y, "Fashion-MNIST"
    return rng.random((samples, 784), dtype=np.float32), rng.integers(0, 10, samples).astype(np.int64), "random"


def gpt_data(sequences, rng):
    """Random token sequences: ids and next-token labels, both flat (the
    trainer takes B*T tokens, B sequences, per batch)."""
    import numpy as np
    seq = rng.integers(0, GPT["V"], (sequences, GPT["T"] + 1)).astype(np.int64)
    return seq[:, :-1].reshape(-1).copy(), seq[:, 1:].reshape(-1).copy()


def save_safetensors(path, tensors):
    """tensors: name -> float32 numpy array."""
    header, offset = {}, 0
    for name, a in tensors.items():
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for a in tensors.values():
            f.write(a.tobytes())


def torch_models():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.fc3 = nn.Linear(784, 1024), nn.Linear(1024, 1024), nn.Linear(1024, 10)

        def forward(self, x, y):
            return F.cross_entropy(self.fc3(F.relu(self.fc2(F.relu(self.fc1(x))))), y)

    class Attention(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)

    class Feed(nn.Module):
        def __init__(self, d, f):
            super().__init__()
            self.fc, self.proj = nn.Linear(d, f), nn.Linear(f, d)

    class Block(nn.Module):
        def __init__(self, d, h):
            super().__init__()
            self.h = h
            self.ln1, self.attn, self.ln2, self.mlp = nn.LayerNorm(d), Attention(d), nn.LayerNorm(d), Feed(d, 4 * d)

        def forward(self, x, mask):
            B, T, D = x.shape
            qkv = self.attn.qkv(self.ln1(x)).reshape(B, T, 3, self.h, D // self.h).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            s = torch.matmul(q, k.transpose(-1, -2)) * (D // self.h) ** -0.5
            p = torch.softmax(torch.where(mask, s, torch.tensor(-1e9, dtype=s.dtype)), dim=-1)
            att = torch.matmul(p, v).transpose(1, 2).reshape(B, T, D)
            x = x + self.attn.proj(att)
            return x + self.mlp.proj(F.gelu(self.mlp.fc(self.ln2(x)), approximate="tanh"))

    class TinyGPT(nn.Module):
        """The names of its parameters are the model's mpc.param names."""

        def __init__(self, B, T, D, H, V, L):
            super().__init__()
            self.B, self.T = B, T
            self.wte, self.wpe = nn.Embedding(V, D), nn.Embedding(T, D)
            self.h = nn.ModuleList(Block(D, H) for _ in range(L))
            self.ln_f, self.lm_head = nn.LayerNorm(D), nn.Linear(D, V, bias=False)
            self.register_buffer("mask", torch.ones(T, T, dtype=torch.bool).tril(), persistent=False)

        def forward(self, ids, labels):
            x = self.wte(ids).reshape(self.B, self.T, -1) + self.wpe.weight
            for block in self.h:
                x = block(x, self.mask)
            logits = self.lm_head(self.ln_f(x))
            return F.cross_entropy(logits.reshape(self.B * self.T, -1), labels)

    return {"mlp": MLP, "gpt": lambda: TinyGPT(**GPT)}


def torch_run(make, init, mode, batches, optimizer, warmup, steps):
    """The mean ms of `steps` training steps after `warmup`, and the last loss."""
    import torch
    model = make()
    model.load_state_dict(init)
    if mode == "bf16-true":
        model = model.to(torch.bfloat16)
        batches = [tuple(t.to(torch.bfloat16) if t.is_floating_point() else t for t in b) for b in batches]
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=OPTIMIZERS["mlp"][1])
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=OPTIMIZERS["gpt"][1], betas=(0.9, 0.999), eps=1e-8,
                                weight_decay=0.01)

    def step(k):
        x, y = batches[k % len(batches)]
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode == "bf16-mixed"):
            loss = model(x, y)
        loss.backward()
        opt.step()
        return loss

    for k in range(warmup):
        step(k)
    t0 = time.perf_counter()
    for k in range(warmup, warmup + steps):
        loss = step(k)
    ms = (time.perf_counter() - t0) / steps * 1e3
    return ms, float(loss)


def trainer_run(trainer, inputs, init, lr, steps, env):
    cmd = [trainer, "--steps", str(steps), "--lr", repr(lr), "--init", init, "--quiet"]
    for name, path in inputs.items():
        cmd += ["--input", f"{name}={path}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    m = re.search(r"trained (\d+) steps in ([0-9.]+) s .*final loss ([-0-9.eE+naif]+)", out)
    if not m:
        raise RuntimeError(f"{trainer}: unexpected output: {out!r}")
    return float(m.group(2)), float(m.group(3))


def mpc_run(trainer, inputs, init, lr, warmup, steps, env):
    """ms per step from two runs (W and W + N steps), and the last loss."""
    t_warm, _ = trainer_run(trainer, inputs, init, lr, warmup, env)
    t_all, loss = trainer_run(trainer, inputs, init, lr, warmup + steps, env)
    return (t_all - t_warm) / steps * 1e3, loss


def compile_all(compiler, jobs, parallel):
    """jobs: (output, model, optimizer, mode). Runs `parallel` at a time;
    returns output -> error text (None when it built)."""
    pending, running, errors = list(jobs), [], {}
    while pending or running:
        while pending and len(running) < parallel:
            out, model, opt, mode = pending.pop(0)
            cmd = [compiler, f"--train={opt}", model, f"--precision={mode}", "-o", out]
            running.append((out, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        out, p = running.pop(0)
        text = p.communicate()[0]
        errors[out] = None if p.returncode == 0 else (text.strip() or f"exit status {p.returncode}")
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--mlp-steps", type=int, default=30)
    ap.add_argument("--gpt-steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2, help="alternations of the two sides (each keeps its best)")
    ap.add_argument("--models", default="mlp,gpt", help="comma-separated: mlp, gpt")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated precision modes")
    ap.add_argument("--work", help="keep the trainers and data here (default: a fresh temporary directory)")
    args = ap.parse_args()

    blas = openblas_dir()
    if blas and blas not in os.environ.get("LD_LIBRARY_PATH", ""):
        env = dict(os.environ, LD_LIBRARY_PATH=blas + os.pathsep + os.environ.get("LD_LIBRARY_PATH", ""),
                   OMP_NUM_THREADS="2")
        os.execve(sys.executable, [sys.executable] + sys.argv, env)

    import numpy as np
    import torch
    torch.set_num_threads(2)
    trainer_env = dict(os.environ, MPC_NUM_THREADS="2")

    started = time.perf_counter()
    compiler = os.path.join(args.build, "tools", "mpc-compile")
    work = args.work or tempfile.mkdtemp(prefix="mpc-bench-train-")
    os.makedirs(work, exist_ok=True)
    models = [m for m in args.models.split(",") if m]
    modes = [m for m in args.modes.split(",") if m]
    steps = {"mlp": args.mlp_steps, "gpt": args.gpt_steps}
    sources = {"mlp": os.path.join(ROOT, "examples", "mlp.mlir"), "gpt": os.path.join(ROOT, "examples", "tiny_gpt.mlir")}

    # Data: enough batches that neither side wraps around.
    rng = np.random.default_rng(0)
    data, tensors, source = {}, {}, {}
    for m in models:
        n = args.warmup + steps[m]
        if m == "mlp":
            x, y, source[m] = mlp_data(n * MLP_BATCH, rng)
            tensors[m] = [(torch.from_numpy(x[i * MLP_BATCH:(i + 1) * MLP_BATCH]),
                           torch.from_numpy(y[i * MLP_BATCH:(i + 1) * MLP_BATCH])) for i in range(n)]
        else:
            x, y = gpt_data(n * GPT["B"], rng)
            source[m] = "random tokens"
            tok = GPT["B"] * GPT["T"]
            tensors[m] = [(torch.from_numpy(x[i * tok:(i + 1) * tok]), torch.from_numpy(y[i * tok:(i + 1) * tok]))
                          for i in range(n)]
        data[m] = {"x": os.path.join(work, f"{m}-x.npy"), "y": os.path.join(work, f"{m}-y.npy")}
        np.save(data[m]["x"], x)
        np.save(data[m]["y"], y)

    # One initialisation per model (PyTorch's), for both sides.
    makers = torch_models()
    inits, init_files = {}, {}
    for m in models:
        torch.manual_seed(0)
        inits[m] = {k: v.clone() for k, v in makers[m]().state_dict().items()}
        init_files[m] = os.path.join(work, f"{m}-init.safetensors")
        save_safetensors(init_files[m], {k: v.numpy() for k, v in inits[m].items()})

    trainers = {(m, mode): os.path.join(work, f"{m}-{mode}") for m in models for mode in modes}
    todo = [(out, sources[m], OPTIMIZERS[m][0], mode) for (m, mode), out in trainers.items() if not os.path.exists(out)]
    t0 = time.perf_counter()
    errors = compile_all(compiler, todo, max(1, min(2, os.cpu_count() or 1)))
    compile_s = time.perf_counter() - t0

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; f32 BLAS: "
          f"{'OpenBLAS (openmp)' if blas else 'default'}; MLP data: {source.get('mlp', '-')}; "
          f"{args.warmup} warm-up steps, then the mean of N (x{args.rounds} alternating, best kept); "
          f"compiling {len(todo)} trainers took {compile_s:.0f} s")
    print(f"{'model':5s} {'mode':10s} {'N':>3s} {'mpc ms/step':>11s} {'torch ms/step':>13s} {'torch/mpc':>9s} "
          f"{'mpc loss':>9s} {'torch loss':>10s}")
    sys.stdout.flush()
    failures = []
    for m in models:
        for mode in modes:
            trainer = trainers[(m, mode)]
            label = f"{m.upper() if m == 'mlp' else 'GPT':5s} {mode:10s} {steps[m]:3d}"
            if errors.get(trainer):
                failures.append((m, mode, errors[trainer]))
                print(f"{label} {'compile failed':>11s}")
                continue
            mine = theirs = float("inf")
            mine_loss = theirs_loss = None
            for _ in range(args.rounds):
                ms, loss = mpc_run(trainer, data[m], init_files[m], OPTIMIZERS[m][1], args.warmup, steps[m], trainer_env)
                mine, mine_loss = min(mine, ms), mine_loss if mine_loss is not None else loss
                ms, loss = torch_run(makers[m], inits[m], mode, tensors[m], OPTIMIZERS[m][0].split(":")[0],
                                     args.warmup, steps[m])
                theirs, theirs_loss = min(theirs, ms), theirs_loss if theirs_loss is not None else loss
            print(f"{label} {mine:11.2f} {theirs:13.2f} {theirs / mine:9.2f} {mine_loss:9.4f} {theirs_loss:10.4f}")
            sys.stdout.flush()
    for m, mode, text in failures:
        print(f"\n{m} {mode}: mpc-compile failed:\n{text}", file=sys.stderr)
    print(f"total {time.perf_counter() - started:.0f} s; trainers and data in {work}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
