#!/usr/bin/env python3
"""Prints summary statistics of a bf16 (or f32) tensor in a safetensors file.

    read_bf16.py FILE.safetensors NAME [--expect-mean M --tol T]

With --expect-mean, appends 'ok' or 'FAIL' to the line (|mean - M| <= T).
"""
import argparse
import json
import struct

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("file")
ap.add_argument("name")
ap.add_argument("--expect-mean", type=float)
ap.add_argument("--tol", type=float, default=0.0)
args = ap.parse_args()
with open(args.file, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()
e = header[args.name]
raw = data[e["data_offsets"][0]:e["data_offsets"][1]]
if e["dtype"] == "BF16":
    v = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
else:
    v = np.frombuffer(raw, {"F32": np.float32, "F16": np.float16, "F64": np.float64}[e["dtype"]]).astype(np.float32)
line = f"{args.name}: {v.size} values, mean {v.mean():.6f}, min {v.min():.6f}, max {v.max():.6f}"
if args.expect_mean is not None:
    line += " ok" if abs(v.mean() - args.expect_mean) <= args.tol else " FAIL"
print(line)
