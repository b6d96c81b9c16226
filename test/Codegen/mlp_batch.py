#!/usr/bin/env python3
"""One batch and one set of weights for examples/mlp.mlir, made the same way
by mpc's test (mlp-vs-pytorch.test) and by the script that computed the
PyTorch reference (mlp_reference.py): the first 256 Fashion-MNIST training
images and labels, and weights drawn with NumPy's PCG64 (seed 2026) from
PyTorch's nn.Linear init distributions, U(-1/sqrt(fan_in), +1/sqrt(fan_in)).

    mlp_batch.py OUTDIR   writes OUTDIR/x.npy (uint8, 256x784), OUTDIR/y.npy
                          (int64) and OUTDIR/params.safetensors (f32)
"""
import gzip
import json
import os
import struct
import sys

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"
LAYERS = [("fc1", 1024, 784), ("fc2", 1024, 1024), ("fc3", 10, 1024)]


def batch(n=256):
    with gzip.open(os.path.join(DATA, "train-images-idx3-ubyte.gz")) as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051 and rows * cols == 784
        x = np.frombuffer(f.read(n * 784), dtype=np.uint8).reshape(n, 784)
    with gzip.open(os.path.join(DATA, "train-labels-idx1-ubyte.gz")) as f:
        magic, count = struct.unpack(">II", f.read(8))
        assert magic == 2049
        y = np.frombuffer(f.read(n), dtype=np.uint8).astype(np.int64)
    return x, y


def params():
    rng = np.random.default_rng(2026)
    p = {}
    for name, out, fan_in in LAYERS:
        bound = 1.0 / np.sqrt(fan_in)
        p[f"{name}.weight"] = rng.uniform(-bound, bound, size=(out, fan_in)).astype(np.float32)
        p[f"{name}.bias"] = rng.uniform(-bound, bound, size=(out,)).astype(np.float32)
    return p


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, a in tensors.items():
        data = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    x, y = batch()
    np.save(os.path.join(out, "x.npy"), x)
    np.save(os.path.join(out, "y.npy"), y)
    write_safetensors(os.path.join(out, "params.safetensors"), params())
