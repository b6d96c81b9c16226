#!/usr/bin/env python3
"""Computes the PyTorch reference for mlp-vs-pytorch.test: the fp32 loss of
examples/mlp.mlir (784-1024-1024-10, ReLU, mean cross-entropy) on the batch
and weights of mlp_batch.py, with torch.nn.functional on the CPU.

    mlp_reference.py > Inputs/mlp-reference.txt

Needs Debian's python3-torch; the test itself needs only NumPy.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlp_batch  # noqa: E402

x, y = mlp_batch.batch()
p = {k: torch.from_numpy(v) for k, v in mlp_batch.params().items()}
with torch.no_grad():
    h = torch.from_numpy(x.astype(np.float32)) / 255.0
    h = F.relu(F.linear(h, p["fc1.weight"], p["fc1.bias"]))
    h = F.relu(F.linear(h, p["fc2.weight"], p["fc2.bias"]))
    logits = F.linear(h, p["fc3.weight"], p["fc3.bias"])
    loss = F.cross_entropy(logits, torch.from_numpy(y), reduction="mean")
print(f"# torch {torch.__version__}, float32, CPU: examples/mlp.mlir on mlp_batch.py's batch and weights")
print(f"{loss.item():.9g}")
