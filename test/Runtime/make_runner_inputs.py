#!/usr/bin/env python3
"""Writes the files runner.test feeds the fake model (fake-model.c) into DIR."""
import json
import os
import struct
import sys

import numpy as np

d = sys.argv[1]
np.save(os.path.join(d, "x.npy"), (np.arange(6, dtype=np.float32) * 0.5).reshape(2, 3))
np.save(os.path.join(d, "x8.npy"), np.array([[0, 51, 102], [153, 204, 255]], dtype=np.uint8))
np.save(os.path.join(d, "y.npy"), np.array([1, 2], dtype=np.int64))
np.save(os.path.join(d, "y32.npy"), np.array([1, 2], dtype=np.int32))
np.save(os.path.join(d, "yfloat.npy"), np.array([1, 2], dtype=np.float32))
np.save(os.path.join(d, "xt.npy"), np.zeros((3, 2), dtype=np.float32))


def safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, (dtype, arr) in tensors.items():
        raw = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


half = (np.full(3, 0.5, dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)  # bf16 bits of 0.5
safetensors(os.path.join(d, "ckpt.safetensors"),
            {"w": ("F32", np.array([1, 2, 3], dtype=np.float32)), "b": ("BF16", half)})
safetensors(os.path.join(d, "no-b.safetensors"), {"w": ("F32", np.array([1, 2, 3], dtype=np.float32))})
safetensors(os.path.join(d, "w-shape.safetensors"),
            {"w": ("F32", np.array([1, 2], dtype=np.float32)), "b": ("BF16", half)})
