#!/usr/bin/python3
"""Writes small ONNX models for mpc-import's error tests into a directory.

    make_bad_models.py OUTDIR

Run at test time by errors.test and import-ir.test (needs Debian's python3-onnx).
Each model is minimal and breaks exactly one thing; the ones that are valid ONNX
(every model the importer should reject for a reason of its own, plus
ok_relu.onnx) go through onnx.checker, so a failing test can't be blamed on a
malformed fixture; the shape errors are valid protobuf that only ONNX's shape
inference would catch.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
I64 = TensorProto.INT64


def model(nodes, inputs, outputs, inits=(), opset=13, name="g", check=True):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="make_bad_models.py")
    m.ir_version = 7  # what torch 1.13 writes; accepted by onnx 1.12's checker
    if check:  # "full" adds ONNX's shape inference, which rejects the shape errors
        onnx.checker.check_model(m, full_check=(check == "full"))
    return m


def vi(name, elem, dims):
    return helper.make_tensor_value_info(name, elem, dims)


def build():
    ms = {}

    # An op mpc-import does not map: Resize, named the way torch.onnx names nodes.
    roi = numpy_helper.from_array(np.zeros(0, np.float32), "roi")
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    ms["unsupported"] = model(
        [helper.make_node("Resize", ["x", "roi", "scales"], ["y"], name="/layer/Resize_3", mode="nearest")],
        [vi("x", F, [1, 1, 2, 2])], [vi("y", F, [1, 1, 4, 4])], inits=[roi, scales])

    # Another unlisted op, Mod, with valid inputs.
    ms["unsupported_mod"] = model(
        [helper.make_node("Mod", ["a", "b"], ["c"], name="/Mod_7")],
        [vi("a", I64, [4]), vi("b", I64, [4])], [vi("c", I64, [4])])

    # A dynamic batch dimension (dim_param), as torch.onnx writes for dynamic_axes.
    ms["dynamic"] = model(
        [helper.make_node("Relu", ["x"], ["y"], name="/Relu")],
        [vi("x", F, ["batch", 4])], [vi("y", F, ["batch", 4])])

    # Integer arithmetic (no mpc op does int64 Add).
    ms["int_arith"] = model(
        [helper.make_node("Add", ["a", "b"], ["c"], name="/Add")],
        [vi("a", I64, [3]), vi("b", I64, [3])], [vi("c", I64, [3])])

    # A node input that nothing defines (the checker rejects this, so no check).
    ms["undefined_input"] = model(
        [helper.make_node("Relu", ["nowhere"], ["y"], name="/Relu")],
        [vi("x", F, [2, 3])], [vi("y", F, [2, 3])], check=False)

    # Shapes that do not broadcast: [2,3] + [4].
    ms["shape_mismatch"] = model(
        [helper.make_node("Add", ["a", "b"], ["c"], name="/bad/Add")],
        [vi("a", F, [2, 3]), vi("b", F, [4])], [vi("c", F, [2, 3])])

    # A graph output of type int64 (a model function returns floats).
    ms["int_output"] = model(
        [helper.make_node("Shape", ["x"], ["s"], name="/Shape")],
        [vi("x", F, [2, 3])], [vi("s", I64, [2])])

    # Reshape [2,3] (6 elements) to a constant shape of 8 elements.
    shape = numpy_helper.from_array(np.array([2, 4], np.int64), "shape")
    ms["reshape_bad"] = model(
        [helper.make_node("Reshape", ["x", "shape"], ["y"], name="/Reshape")],
        [vi("x", F, [2, 3])], [vi("y", F, [2, 4])], inits=[shape])

    # A graph without outputs.
    ms["no_output"] = model(
        [helper.make_node("Relu", ["x"], ["y"], name="/Relu")],
        [vi("x", F, [2, 3])], [], check=False)

    # Two nodes writing the same value (not SSA; the checker rejects it).
    ms["duplicate_def"] = model(
        [helper.make_node("Relu", ["x"], ["y"], name="/Relu"),
         helper.make_node("Neg", ["x"], ["y"], name="/Neg")],
        [vi("x", F, [2, 3])], [vi("y", F, [2, 3])], check=False)

    # An initializer whose data lives in an external file.
    w = TensorProto(name="w", data_type=F, dims=[3])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", "12")):
        e = w.external_data.add()
        e.key, e.value = k, v
    ms["external_data"] = model(
        [helper.make_node("Add", ["x", "w"], ["y"], name="/Add")],
        [vi("x", F, [2, 3])], [vi("y", F, [2, 3])], inits=[w], check=False)

    # An opset older than the importer's range (13 to 17).
    ms["bad_opset"] = model(
        [helper.make_node("Relu", ["x"], ["y"], name="/Relu")],
        [vi("x", F, [2, 3])], [vi("y", F, [2, 3])], opset=3, check=False)

    # A node from another domain (onnxruntime's contrib ops).
    m = model(
        [helper.make_node("FusedGelu", ["x"], ["y"], name="/FusedGelu", domain="com.microsoft")],
        [vi("x", F, [2, 3])], [vi("y", F, [2, 3])], check=False)
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    ms["other_domain"] = m

    # A good model: y = Relu(x), y2 = (Relu(x) + w) * s, with w a [3] parameter and
    # s a 1-element initializer (a constant, not a parameter).
    w = numpy_helper.from_array(np.array([0.5, -1.0, 2.0], np.float32), "w")
    s = numpy_helper.from_array(np.array([3.0], np.float32), "s")
    ms["ok_relu"] = model(
        [helper.make_node("Relu", ["x"], ["y"], name="/Relu"),
         helper.make_node("Add", ["y", "w"], ["t"], name="/Add"),
         helper.make_node("Mul", ["t", "s"], ["y2"], name="/Mul")],
        [vi("x", F, [2, 3])], [vi("y", F, [2, 3]), vi("y2", F, [2, 3])], inits=[w, s], check="full")

    # A parameter used twice, once through a Transpose (tied weights, as a GPT's embedding
    # and head): one mpc.param argument in the initializer's own shape, the transpose
    # done in the model so that training updates the one parameter.
    table = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3), "emb.weight")
    ms["tied"] = model(
        [helper.make_node("Gather", ["emb.weight", "ids"], ["h"], name="/emb/Gather"),
         helper.make_node("Transpose", ["emb.weight"], ["wt"], name="/head/Transpose", perm=[1, 0]),
         helper.make_node("MatMul", ["h", "wt"], ["logits"], name="/head/MatMul")],
        [vi("ids", I64, [2])], [vi("logits", F, [2, 4])], inits=[table], check="full")

    # A constant f16 cannot hold, added to a matrix product (f16 in 16-mixed): the precision
    # lint's warning names the ONNX node.
    wb = numpy_helper.from_array(np.ones((3, 4), np.float32), "fc.weight")
    big = numpy_helper.from_array(np.array([1e6], np.float32), "big")
    ms["big_const"] = model(
        [helper.make_node("MatMul", ["x", "fc.weight"], ["h"], name="/fc/MatMul"),
         helper.make_node("Add", ["h", "big"], ["y"], name="/shift/Add")],
        [vi("x", F, [2, 3])], [vi("y", F, [2, 4])], inits=[wb, big], check="full")

    # Constant folding: a Constant [[1,2,3],[4,5,6]] transposed, sliced (rows 1..2) and
    # sliced again with step -1 (columns reversed); each result is added to x.
    c = numpy_helper.from_array(np.array([[1, 2, 3], [4, 5, 6]], np.float32), "c")
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)
    ms["fold"] = model(
        [helper.make_node("Constant", [], ["c"], name="/c", value=c),
         helper.make_node("Transpose", ["c"], ["t"], name="/t", perm=[1, 0]),
         helper.make_node("Slice", ["t", "s0", "e0", "a0"], ["s"], name="/s"),
         helper.make_node("Slice", ["s", "s1", "e1", "a1", "st1"], ["r"], name="/r"),
         helper.make_node("Add", ["x", "s"], ["y1"], name="/y1"),
         helper.make_node("Add", ["x", "r"], ["y2"], name="/y2")],
        [vi("x", F, [2, 2])], [vi("y1", F, [2, 2]), vi("y2", F, [2, 2])],
        inits=[i64("s0", [1]), i64("e0", [3]), i64("a0", [0]), i64("s1", [-1]), i64("e1", [-3]), i64("a1", [1]),
               i64("st1", [-1])], check="full")

    # A 1-D convolution (PyTorch's Conv1d): x [1, 2, 7], w [3, 2, 3], pad 1, stride 2.
    w1 = numpy_helper.from_array(np.ones((3, 2, 3), np.float32), "conv.weight")
    ms["conv1d"] = model(
        [helper.make_node("Conv", ["x", "conv.weight"], ["y"], name="/conv/Conv", pads=[1, 1], strides=[2],
                          kernel_shape=[3])],
        [vi("x", F, [1, 2, 7])], [vi("y", F, [1, 3, 4])], inits=[w1], check="full")
    return ms


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_bad_models.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, m in build().items():
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(m.SerializeToString())


if __name__ == "__main__":
    main()
