#!/usr/bin/env python3
"""Computes the PyTorch reference loss curves for the training tests:
examples/mlp.mlir (784-1024-1024-10, ReLU, mean cross-entropy, batch 256)
trained on the CPU from mlp_batch.params() on the Fashion-MNIST training set
in file order (step k, counted from 1, uses images [256(k-1), 256k), pixels
uint8/255 as float32, labels int64). Each curve records the loss of every
step's forward pass, before that step's update.

    mlp_curves.py [OUTDIR] [--only=sgd,momentum,adamw]   (default: Inputs/ next to
                                                         this script, all three)

writes
    mlp-sgd-curves.txt      SGD lr 0.05 (no momentum, no weight decay), 200
                            steps; columns step, fp32, bf16_autocast, fp64
    mlp-momentum-curve.txt  SGD lr 0.05, momentum 0.9, nesterov False,
                            weight_decay 1e-4, 50 steps; columns step, fp32, fp64
    mlp-adamw-curve.txt     AdamW lr 1e-3, betas (0.9, 0.999), eps 1e-8,
                            weight_decay 0.01, 50 steps; columns step, fp32, fp64

Needs Debian's python3-torch; the tests themselves need only NumPy
(compare_curves.py).
"""
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Codegen"))
import mlp_batch  # noqa: E402

BATCH = 256
SGD_STEPS = 200
OPT_STEPS = 50


def forward(p, x, y):
    h = F.relu(F.linear(x, p["fc1.weight"], p["fc1.bias"]))
    h = F.relu(F.linear(h, p["fc2.weight"], p["fc2.bias"]))
    logits = F.linear(h, p["fc3.weight"], p["fc3.bias"])
    return F.cross_entropy(logits, y, reduction="mean")


def train(x_all, y_all, steps, make_opt, dtype=torch.float32, bf16_autocast=False):
    init = mlp_batch.params()
    p = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in init.items()}
    opt = make_opt(list(p.values()))
    losses = []
    for k in range(steps):
        x = torch.from_numpy(x_all[k * BATCH:(k + 1) * BATCH].astype(np.float32) / np.float32(255.0)).to(dtype)
        y = torch.from_numpy(y_all[k * BATCH:(k + 1) * BATCH])
        opt.zero_grad(set_to_none=True)
        if bf16_autocast:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = forward(p, x, y)
        else:
            loss = forward(p, x, y)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return losses


def sgd(ps):
    return torch.optim.SGD(ps, lr=0.05, momentum=0.0, weight_decay=0.0)


def momentum(ps):
    return torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=False, weight_decay=1e-4)


def adamw(ps):
    return torch.optim.AdamW(ps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)


def write(path, header, columns, rows):
    with open(path, "w") as f:
        for line in header:
            f.write(f"# {line}\n")
        f.write(" ".join(columns) + "\n")
        for i, row in enumerate(rows, 1):
            f.write(f"{i} " + " ".join(f"{v:.9g}" for v in row) + "\n")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--only=")]
    only = [a[7:].split(",") for a in sys.argv[1:] if a.startswith("--only=")]
    only = set(only[0]) if only else {"sgd", "momentum", "adamw"}
    out = args[0] if args else os.path.join(HERE, "Inputs")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    x_all, y_all = mlp_batch.batch(SGD_STEPS * BATCH)
    common = [
        f"torch {torch.__version__}, CPU, torch.set_num_threads(2); made by test/Training/mlp_curves.py",
        "examples/mlp.mlir (784-1024-1024-10 MLP, ReLU, mean cross-entropy), batch 256,",
        "initial weights mlp_batch.params() (NumPy PCG64 seed 2026), Fashion-MNIST training set",
        "in file order: step k (from 1) uses images [256(k-1), 256k), pixels uint8/255 rounded to",
        "float32 (then widened for fp64), labels int64.",
        "Each value is the loss of that step's forward pass, before the step's update.",
    ]
    t0 = time.time()
    if "sgd" in only:
        write_sgd(out, common, x_all, y_all)
    if "momentum" in only:
        mom = train(x_all, y_all, OPT_STEPS, momentum)
        mom64 = train(x_all, y_all, OPT_STEPS, momentum, dtype=torch.float64)
        write(os.path.join(out, "mlp-momentum-curve.txt"), common + [
            "Optimizer: torch.optim.SGD lr 0.05, momentum 0.9, dampening 0, nesterov False,",
            "  weight_decay 1e-4, 50 steps. fp32: float32 params and data; fp64: float64.",
        ], ["step", "fp32", "fp64"], list(zip(mom, mom64)))
    if "adamw" in only:
        adw = train(x_all, y_all, OPT_STEPS, adamw)
        adw64 = train(x_all, y_all, OPT_STEPS, adamw, dtype=torch.float64)
        write(os.path.join(out, "mlp-adamw-curve.txt"), common + [
            "Optimizer: torch.optim.AdamW lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0.01,",
            "  amsgrad False, 50 steps. fp32: float32 params and data; fp64: float64.",
            "Adam amplifies rounding: this fp32 curve leaves the fp64 one by 1.2e-5 at step 6",
            "  and 4.5e-3 at step 50.",
        ], ["step", "fp32", "fp64"], list(zip(adw, adw64)))
    print(f"done in {time.time() - t0:.1f} s", file=sys.stderr)


def write_sgd(out, common, x_all, y_all):
    fp32 = train(x_all, y_all, SGD_STEPS, sgd)
    bf16 = train(x_all, y_all, SGD_STEPS, sgd, bf16_autocast=True)
    fp64 = train(x_all, y_all, SGD_STEPS, sgd, dtype=torch.float64)
    write(os.path.join(out, "mlp-sgd-curves.txt"), common + [
        "Optimizer: torch.optim.SGD lr 0.05, no momentum, no weight decay, 200 steps.",
        "fp32: float32 params and data.",
        "bf16_autocast: torch.autocast('cpu', dtype=torch.bfloat16) around the forward (loss included),",
        "  float32 master weights, loss in float32 as autocast gives it.",
        "fp64: float64 params and data (high-precision reference).",
    ], ["step", "fp32", "bf16_autocast", "fp64"], list(zip(fp32, bf16, fp64)))


if __name__ == "__main__":
    main()
