#!/usr/bin/env python3
"""Cross-checks the runtime's file formats against NumPy (numpy-interop.test).

1. NumPy writes .npy files (every dtype, format versions 1.0 and 2.0, rank 0
   to 3); mpcrt-inspect must describe them as NumPy sees them.
2. mpcrt-inspect writes .npy files; NumPy must load the same values.
3. mpcrt-inspect writes a safetensors checkpoint; an independent reader here
   (the format's spec: u64 header length, JSON, data) must find the values.
Prints one line per case and a summary; exits 1 on any mismatch.
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np

tmp = sys.argv[1]
failures = 0


def report(ok, what):
    global failures
    print(("ok " if ok else "FAIL ") + what)
    failures += not ok


def inspect(*args):
    out = subprocess.run(["mpcrt-inspect", *args], capture_output=True, text=True)
    return out.returncode, out.stdout.strip(), out.stderr.strip()


def describe(arr, name):
    dims = "".join(f"{d}x" for d in arr.shape)
    flat = arr.astype(np.float64).ravel()
    # Same formatting as mpcrt-inspect (%.9g); sums in float64 in index order.
    s = 0.0
    for v in flat:
        s += float(v)
    first = float(flat[0]) if flat.size else 0.0
    last = float(flat[-1]) if flat.size else 0.0
    return f"{dims}{name} sum={s:.9g} first={first:.9g} last={last:.9g}"


DTYPES = {"f16": np.float16, "f32": np.float32, "f64": np.float64, "i8": np.int8, "i16": np.int16,
          "i32": np.int32, "i64": np.int64, "u8": np.uint8, "u16": np.uint16, "bool": np.bool_}

# 1. NumPy -> mpc
for name, dt in DTYPES.items():
    for shape in [(), (5,), (2, 3), (2, 3, 4)]:
        for version in [(1, 0), (2, 0)]:
            n = int(np.prod(shape)) if shape else 1
            arr = (np.arange(n) * 0.25 - 1).astype(dt) if np.dtype(dt).kind == "f" else (np.arange(n) % 7).astype(dt)
            arr = arr.reshape(shape)
            path = os.path.join(tmp, f"np-{name}-{len(shape)}-{version[0]}.npy")
            with open(path, "wb") as f:
                np.lib.format.write_array(f, arr, version=version)
            code, out, err = inspect(path)
            want = describe(arr, name)
            report(code == 0 and out == want, f"numpy->mpc {name} {shape} v{version[0]}: {out or err} / {want}")

# 2. mpc -> NumPy (bf16 travels as uint16 bits)
for name, dt in list(DTYPES.items()) + [("bf16", np.uint16)]:
    path = os.path.join(tmp, f"mpc-{name}.npy")
    code, _, err = inspect("--write-npy", path, name, "2x3x5")
    arr = np.load(path)
    if name == "bf16":
        values = (arr.astype(np.uint32) << 16).view(np.float32)
        expect = np.arange(30) * 0.25 - 1
        ok = code == 0 and arr.dtype == np.uint16 and np.array_equal(values.ravel(), expect)
    else:
        expect = (np.arange(30) * 0.25 - 1) if np.dtype(dt).kind == "f" else (np.arange(30) % 7)
        ok = code == 0 and arr.dtype == np.dtype(dt) and arr.shape == (2, 3, 5) and np.array_equal(
            arr.ravel().astype(np.float64), np.asarray(expect, dtype=dt).astype(np.float64))
    report(ok, f"mpc->numpy {name}: {arr.dtype} {arr.shape} {err}")

# 3. mpc safetensors -> an independent reader
path = os.path.join(tmp, "ck.safetensors")
code, _, err = inspect("--write-safetensors", path)
raw = open(path, "rb").read()
(hlen,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + hlen])
data = raw[8 + hlen:]
w = header["fc.weight"]
b = header["fc.bias"]
s = header["step"]
wv = np.frombuffer(data[w["data_offsets"][0]:w["data_offsets"][1]], dtype="<f4").reshape(w["shape"])
bv = (np.frombuffer(data[b["data_offsets"][0]:b["data_offsets"][1]], dtype="<u2").astype(np.uint32) << 16).view(np.float32)
sv = np.frombuffer(data[s["data_offsets"][0]:s["data_offsets"][1]], dtype="<i8")
report(code == 0 and hlen % 8 == 0 and header["__metadata__"] == {"format": "pt"}, f"safetensors header: {err}")
report(w["dtype"] == "F32" and np.array_equal(wv, (np.arange(6) * 0.25 - 1).reshape(2, 3)), "safetensors F32 values")
report(b["dtype"] == "BF16" and np.array_equal(bv, np.arange(3) * 0.25 - 1), "safetensors BF16 values")
report(s["dtype"] == "I64" and s["shape"] == [] and sv.tolist() == [7], "safetensors I64 scalar")
offsets = sorted(tuple(v["data_offsets"]) for k, v in header.items() if k != "__metadata__")
report(offsets[0][0] == 0 and all(a[1] == b[0] for a, b in zip(offsets, offsets[1:])) and offsets[-1][1] == len(data),
       "safetensors data is contiguous and covers the file")

print(f"interop: {failures == 0 and 'all' or 'some'} cases; {failures} failed")
sys.exit(1 if failures else 0)
