#!/usr/bin/python3
"""Checks the parameters mpc-import wrote against the ONNX model they came from.

    check_params.py MODEL.onnx MODEL.mlir MODEL.safetensors

Reads the safetensors file by hand (an 8-byte little-endian header length, a JSON
header, then the data) and checks:
  - the header is well formed: F32 tensors whose data_offsets tile the data exactly;
  - its tensors are exactly the IR's mpc.param arguments, in argument order, with the
    argument's shape;
  - they are exactly the model's float initializers with more than one element (the
    one-element ones are constants), each bit-identical to the initializer.
Prints "NAME: N parameters, bit-identical" or the first difference, and exits 1 on one.
"""
import json
import re
import struct
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def fail(msg):
    print("error: " + msg)
    sys.exit(1)


def main():
    model_path, mlir_path, st_path = sys.argv[1:4]
    blob = open(st_path, "rb").read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    header.pop("__metadata__", None)
    data = blob[8 + n:]
    st = {}
    end = 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        if info["dtype"] != "F32":
            fail("%s: dtype %s, expected F32" % (name, info["dtype"]))
        lo, hi = info["data_offsets"]
        if lo != end or hi - lo != 4 * int(np.prod(info["shape"], dtype=np.int64)):
            fail("%s: data_offsets %s do not follow the previous tensor (%d) or fit shape %s" % (name, [lo, hi], end, info["shape"]))
        end = hi
        st[name] = np.frombuffer(data[lo:hi], dtype="<f4").reshape(info["shape"])
    if end != len(data):
        fail("%d bytes of data, the tensors use %d" % (len(data), end))

    args = re.findall(r"%arg\d+: tensor<([0-9x]*)xf32> \{mpc\.param = \"([^\"]*)\"\}", open(mlir_path).read())
    if [a[1] for a in args] != list(st):
        fail("mpc.param arguments %s, safetensors holds %s" % ([a[1] for a in args], list(st)))
    for dims, name in args:
        shape = [int(d) for d in dims.split("x")] if dims else []
        if list(st[name].shape) != shape:
            fail("%s: shape %s in the IR, %s in the file" % (name, shape, list(st[name].shape)))

    model = onnx.load(model_path)
    expected = {}
    for init in model.graph.initializer:
        a = numpy_helper.to_array(init)
        if a.dtype == np.float32 and a.size > 1:
            expected[init.name] = a
    if sorted(expected) != sorted(st):
        fail("model's float initializers %s, safetensors holds %s" % (sorted(expected), sorted(st)))
    for name, a in expected.items():
        if a.shape != st[name].shape or a.tobytes() != st[name].tobytes():
            fail("%s differs from the model's initializer" % name)
    print("%s: %d parameters, bit-identical" % (model_path.rsplit("/", 1)[-1], len(st)))


if __name__ == "__main__":
    main()
