#!/usr/bin/python3
"""Writes the small single-node seeds of the ONNX importer's fuzz corpus.

    /usr/bin/python3 test/fuzz/make_onnx_corpus.py test/fuzz/onnx-corpus

Each model is one supported op (plus a Constant where an operand must be
constant), opset 17, static shapes, every output a float tensor, so that it
imports and verifies. The corpus also holds copies of test/Import/Inputs/*.onnx.
Needs the onnx module (Debian's python3-onnx).
"""
import os
import sys

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper

F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


def vi(name, ty, shape):
    return helper.make_tensor_value_info(name, ty, shape)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def model(name, nodes, inputs, outputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(graph, producer_name="mpc-fuzz-seed", opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    checker.check_model(m)
    return m


def seeds():
    w = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    yield "gemm", model("gemm", [helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1, alpha=1.0, beta=1.0)],
                        [vi("x", F, [2, 4])], [vi("y", F, [2, 3])],
                        [init("w", w), init("b", np.ones(3, np.float32))])
    yield "conv", model("conv", [helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[3, 3],
                                                  pads=[1, 1, 1, 1], strides=[1, 1], dilations=[1, 1], group=1)],
                        [vi("x", F, [1, 1, 4, 4])], [vi("y", F, [1, 2, 4, 4])],
                        [init("w", np.full((2, 1, 3, 3), 0.1, np.float32)), init("b", np.zeros(2, np.float32))])
    yield "reshape", model("reshape", [
        helper.make_node("Constant", [], ["shape"], value=init("shape", np.array([3, -1], np.int64))),
        helper.make_node("Reshape", ["x", "shape"], ["y"])],
        [vi("x", F, [2, 3, 2])], [vi("y", F, [3, 4])])
    yield "gather", model("gather", [helper.make_node("Gather", ["table", "ids"], ["y"], axis=0)],
                          [vi("ids", I64, [2, 3])], [vi("y", F, [2, 3, 4])],
                          [init("table", np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4))])
    yield "split", model("split", [
        helper.make_node("Constant", [], ["sizes"], value=init("sizes", np.array([2, 4], np.int64))),
        helper.make_node("Split", ["x", "sizes"], ["a", "b"], axis=1)],
        [vi("x", F, [2, 6])], [vi("a", F, [2, 2]), vi("b", F, [2, 4])])
    yield "slice", model("slice", [helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"])],
                         [vi("x", F, [4, 6])], [vi("y", F, [4, 4])],
                         [init("starts", np.array([1], np.int64)), init("ends", np.array([-1], np.int64)),
                          init("axes", np.array([1], np.int64)), init("steps", np.array([1], np.int64))])
    yield "softmax-cross-entropy", model("sce", [
        helper.make_node("SoftmaxCrossEntropyLoss", ["scores", "labels"], ["loss"], reduction="mean",
                         ignore_index=-100)],
        [vi("scores", F, [4, 5]), vi("labels", I64, [4])], [vi("loss", F, [])])
    yield "where", model("where", [helper.make_node("Where", ["c", "x", "y"], ["z"])],
                         [vi("c", B, [2, 3]), vi("x", F, [2, 3]), vi("y", F, [1, 3])], [vi("z", F, [2, 3])])
    yield "layer-norm", model("ln", [
        helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1, epsilon=1e-5)],
        [vi("x", F, [2, 3, 4])], [vi("y", F, [2, 3, 4])],
        [init("g", np.linspace(0.5, 1.5, 4, dtype=np.float32)), init("b", np.full(4, 0.1, np.float32))])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, m in seeds():
        with open(os.path.join(out, f"node-{name}.onnx"), "wb") as f:
            f.write(m.SerializeToString())


if __name__ == "__main__":
    main()
