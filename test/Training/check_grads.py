#!/usr/bin/env python3
"""Checks the gradient rule of every differentiable mpc op against finite
differences of an f64 NumPy reference that shares no code with mpc.

    check_grads.py MPC_OPT MPC_COMPILE WORKDIR MODE[,MODE...] [CASE ...]

Each case is one op whose float operands are all mpc.param arguments; its
loss is reduce_sum(mul(op(params), R)) with R a fixed random mpc.input (a
loss op's own scalar for cross_entropy and mse_loss). The cases are split
into three models (LLVM's code generation time grows faster than the
function), each one's loss the sum of its cases' losses, so the gradient of
a case's parameters is that of its own loss. For each MODE a model goes
through the training pipeline's order, `mpc-opt --precision=MODE` and then
`mpc-opt --mpc-autodiff` (so that the backward ops get the forward ops'
types), and @forward_grad is compiled with `mpc-compile --forward
--entry=forward_grad --precision=MODE` (the compiles run in parallel) and run
once with seed 1.0. Every returned gradient is compared with central finite
differences of the case's loss, computed here in f64 with the references of
test/Codegen/check_ops.py. Parameters are rounded to bf16 precision, so that
they are exact in every mode and every mode differentiates at the same point.
Prints one line per gradient, the worst error of the gradients held to the
mode's tolerance, and a summary per mode; exits non-zero when any gradient is
outside its tolerance.

Finite differences: the 4-point stencil (f(x-2h) - 8 f(x-h) + 8 f(x+h) -
f(x+2h)) / 12h per element, h = 2^round(log2(1e-3 max(|x|, 0.1))), a power
of two, so that x + k h is exact. Its truncation error is h^4 |f'''''| / 30,
about 1e-12 relative; its rounding error is about 1.5 u |f| / h with
u = 1.1e-16, and evaluating the stencil on the op's output before summing
against R keeps |f| to the terms that x changes: below 1e-11 relative. The
inputs keep every stencil point on one side of a kink: relu's inputs are at
least 0.05 from 0, the values that reduce_max and max_pool2d compare are at
least 0.02 apart, reciprocal's and div's denominators are at least 0.5 from 0,
log, sqrt, rsqrt and pow's base are positive.

The error of a gradient is normwise: max|g - g_fd| / max|g_fd|. Tolerances,
per mode:
  64-true     1e-9    everything is f64: the FD error above (measured: 1.3e-11
                      at most) plus the gradient's own rounding (~1e-15). A
                      gradient that went through f32 anywhere is off by
                      1e-8 to 1e-7 and fails.
  32-true     1e-5    the forward values and the backward ops are f32
                      (u = 6e-8). A gradient reads or recomputes rounded
                      forward values and goes through at most a few sums of
                      <= 100 terms, which a priori bounds it by ~100 u = 6e-6;
                      softmax's and layer_norm's rules subtract nearly equal
                      terms but stay well inside that (measured: 2.1e-7 at
                      most, softmax). The FD error is negligible.
  bf16-mixed  8e-3    the matrix ops (linear, matmul, conv2d) and their
                      backward ops compute in bf16 (u = 2^-8 = 3.9e-3): f32
                      accumulation, the result rounded to bf16 once, plus an
                      operand's rounding where it is not bf16-exact: 2u
                      (measured: 2.9e-3, linear's dx). The other ops compute
                      in f32 as in 32-true.
The `casts` case rounds to f32 on purpose (arith.truncf to f32 stays an f32
round trip in 64-true), so it is held to the 32-true tolerance in 64-true
(measured 3e-8).
"""
import concurrent.futures
import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Codegen"))
from check_ops import (bf16_round, conv2d_ref, cross_entropy_ref, erf, load_result,  # noqa: E402
                       log_softmax_ref, pool_ref, scatter_add_ref, ttype)
from mlp_batch import write_safetensors  # noqa: E402

TOL = {"64-true": 1e-9, "32-true": 1e-5, "bf16-mixed": 8e-3}
NAME = {"64-true": "f64", "32-true": "f32", "bf16-mixed": "bf16-mixed"}

rng = np.random.default_rng(20261205)


def rand(shape, lo=-2.0, hi=2.0, away=0.0):
    x = np.asarray(rng.uniform(lo, hi, size=shape), dtype=np.float32).reshape(-1)
    if away:
        x = np.where(np.abs(x) < away, np.copysign(away, x), x).astype(np.float32)
    return bf16_round(x).reshape(shape)


def distinct(shape):
    """A permutation of values 0.04 apart, at least 0.02 apart after bf16
    rounding (no ties for max to pick from)."""
    n = int(np.prod(shape))
    x = bf16_round(((rng.permutation(n) - n / 2) * 0.04).reshape(shape))
    s = np.sort(x.ravel().astype(np.float64))
    assert np.min(np.diff(s)) >= 0.02, "distinct(): values too close"
    return x


def ints(shape, hi, dtype=np.int64):
    return rng.integers(0, hi, size=shape).astype(dtype)


# ---- cases ------------------------------------------------------------------

class Case:
    """params: float operands (mpc.param); inputs: integer and i1 operands
    (mpc.input); operands: the op's operand keys in order; ref(values) the f64
    result; loss: the result is a scalar loss, used as is."""

    def __init__(self, name, op, params, operands, out_shape, ref, inputs=None, attrs="", loss=False, body=None,
                 f32_floor=False):
        self.name, self.op, self.params, self.operands = name, op, params, operands
        self.out_shape, self.ref, self.inputs, self.attrs = tuple(out_shape), ref, inputs or {}, attrs
        self.loss, self.body, self.f32_floor = loss, body, f32_floor
        self.R = None if loss else rand(self.out_shape, -1.0, 1.0)


def elt_of(a):
    return {np.dtype(np.bool_): "i1", np.dtype(np.int64): "i64", np.dtype(np.int32): "i32"}.get(a.dtype, "f32")


def cases():
    c = []

    def add(*args, **kw):
        c.append(Case(*args, **kw))

    def conv_attrs(s, p, d, g):
        return (f"strides = array<i64: {s[0]}, {s[1]}>, padding = array<i64: {p[0]}, {p[1]}, {p[2]}, {p[3]}>, "
                f"dilations = array<i64: {d[0]}, {d[1]}>, groups = {g} : i64")

    add("linear", "linear", {"x": rand((6, 16)), "w": rand((8, 16)), "b": rand((8,))}, ["x", "w", "b"], (6, 8),
        lambda v: v["x"] @ v["w"].T + v["b"])
    add("linear_nobias", "linear", {"x": rand((5, 12)), "w": rand((7, 12))}, ["x", "w"], (5, 7),
        lambda v: v["x"] @ v["w"].T)
    add("linear_rank3", "linear", {"x": rand((2, 3, 16)), "w": rand((8, 16)), "b": rand((8,))}, ["x", "w", "b"],
        (2, 3, 8), lambda v: v["x"] @ v["w"].T + v["b"])
    add("matmul", "matmul", {"a": rand((7, 9)), "b": rand((9, 3))}, ["a", "b"], (7, 3), lambda v: v["a"] @ v["b"])
    add("matmul_batched", "matmul", {"a": rand((2, 4, 8)), "b": rand((2, 8, 5))}, ["a", "b"], (2, 4, 5),
        lambda v: np.matmul(v["a"], v["b"]))
    add("conv2d", "conv2d", {"x": rand((2, 3, 7, 7)), "w": rand((4, 3, 3, 3)), "b": rand((4,))}, ["x", "w", "b"],
        (2, 4, 4, 4), lambda v: conv2d_ref(v["x"], v["w"], v["b"], (2, 2), (1, 1, 1, 1), (1, 1), 1),
        attrs=conv_attrs((2, 2), (1, 1, 1, 1), (1, 1), 1))
    add("conv2d_groups", "conv2d", {"x": rand((1, 4, 7, 7)), "w": rand((6, 2, 3, 3))}, ["x", "w"], (1, 6, 6, 6),
        lambda v: conv2d_ref(v["x"], v["w"], None, (1, 1), (2, 1, 1, 2), (2, 2), 2),
        attrs=conv_attrs((1, 1), (2, 1, 1, 2), (2, 2), 2))
    # Stride 2 leaves the last row and column out of every window.
    add("conv2d_stride_dil", "conv2d", {"x": rand((1, 2, 9, 8)), "w": rand((3, 2, 2, 2)), "b": rand((3,))},
        ["x", "w", "b"], (1, 3, 4, 4), lambda v: conv2d_ref(v["x"], v["w"], v["b"], (2, 2), (1, 0, 0, 1), (2, 2), 1),
        attrs=conv_attrs((2, 2), (1, 0, 0, 1), (2, 2), 1))
    for name, fn in {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}.items():
        add(name, name, {"a": rand((4, 1, 6)), "b": rand((5, 1), away=0.5 if name == "div" else 0.0)}, ["a", "b"],
            (4, 5, 6), lambda v, fn=fn: fn(v["a"], v["b"]))
    # Both operands' gradients go to one parameter and are added.
    add("mul_same", "mul", {"x": rand((4, 5))}, ["x", "x"], (4, 5), lambda v: v["x"] * v["x"])
    add("mul_scalar", "mul", {"a": rand((3, 4)), "b": rand(())}, ["a", "b"], (3, 4), lambda v: v["a"] * v["b"])
    add("div_scalar", "div", {"a": rand(()), "b": rand((3, 4), away=0.5)}, ["a", "b"], (3, 4),
        lambda v: v["a"] / v["b"])
    add("concat", "concat", {"a": rand((2, 3, 4)), "b": rand((2, 5, 4)), "c": rand((2, 1, 4))}, ["a", "b", "c"],
        (2, 9, 4), lambda v: np.concatenate([v["a"], v["b"], v["c"]], axis=1), attrs="axis = 1 : i64")
    unary = {
        "neg": (lambda a: -a, dict()),
        "relu": (lambda a: np.maximum(a, 0), dict(away=0.05)),
        "tanh": (np.tanh, dict(lo=-3, hi=3)),
        "sigmoid": (lambda a: 1 / (1 + np.exp(-a)), dict(lo=-4, hi=4)),
        "erf": (erf, dict()),
        "exp": (np.exp, dict(lo=-3, hi=3)),
        "log": (np.log, dict(lo=0.2, hi=4)),
        "rsqrt": (lambda a: 1 / np.sqrt(a), dict(lo=0.2, hi=4)),
        "sqrt": (np.sqrt, dict(lo=0.2, hi=4)),
        "reciprocal": (lambda a: 1 / a, dict(away=0.5)),
    }
    for name, (fn, kw) in unary.items():
        add(name, name, {"x": rand((5, 7), **kw)}, ["x"], (5, 7), lambda v, fn=fn: fn(v["x"]))
    add("gelu", "gelu", {"x": rand((5, 7), -3, 3)}, ["x"], (5, 7),
        lambda v: 0.5 * v["x"] * (1 + erf(v["x"] / math.sqrt(2))), attrs='approximate = "none"')
    add("gelu_tanh", "gelu", {"x": rand((5, 7), -3, 3)}, ["x"], (5, 7),
        lambda v: 0.5 * v["x"] * (1 + np.tanh(math.sqrt(2 / math.pi) * (v["x"] + 0.044715 * v["x"] ** 3))),
        attrs='approximate = "tanh"')
    add("pow", "pow", {"x": rand((3, 4), 0.5, 2), "y": rand((4,), -2, 2)}, ["x", "y"], (3, 4),
        lambda v: np.power(v["x"], v["y"]))
    add("softmax", "softmax", {"x": rand((3, 7, 5), -3, 3)}, ["x"], (3, 7, 5),
        lambda v: np.exp(log_softmax_ref(v["x"], 1)), attrs="axis = 1 : i64")
    add("log_softmax", "log_softmax", {"x": rand((3, 7, 5), -3, 3)}, ["x"], (3, 7, 5),
        lambda v: log_softmax_ref(v["x"], 2), attrs="axis = 2 : i64")
    add("log_softmax_axis0", "log_softmax", {"x": rand((6, 4), -3, 3)}, ["x"], (6, 4),
        lambda v: log_softmax_ref(v["x"], 0), attrs="axis = 0 : i64")

    def layer_norm(v):
        m = v["x"].mean(axis=-1, keepdims=True)
        var = ((v["x"] - m) ** 2).mean(axis=-1, keepdims=True)
        return (v["x"] - m) / np.sqrt(var + 1e-5) * v["g"] + v["b"]
    add("layer_norm", "layer_norm", {"x": rand((4, 3, 16)), "g": rand((16,)), "b": rand((16,))}, ["x", "g", "b"],
        (4, 3, 16), layer_norm, attrs="eps = 1.000000e-05 : f64")

    def reduce_case(name, op, axes, keepdim, shape, fn):
        out = tuple(1 if i in axes else d for i, d in enumerate(shape) if keepdim or i not in axes)
        x = distinct(shape) if op == "reduce_max" else rand(shape)
        add(name, op, {"x": x}, ["x"], out, lambda v: fn(v["x"], axis=axes, keepdims=keepdim),
            attrs=f"axes = array<i64: {', '.join(map(str, axes))}>, keepdim = {str(keepdim).lower()}")
    reduce_case("reduce_sum", "reduce_sum", (0, 2), False, (3, 4, 5), np.sum)
    reduce_case("reduce_sum_keep", "reduce_sum", (1,), True, (3, 4, 5), np.sum)
    reduce_case("reduce_sum_all", "reduce_sum", (0, 1), False, (3, 4), np.sum)
    reduce_case("reduce_mean", "reduce_mean", (1,), True, (3, 4, 5), np.mean)
    reduce_case("reduce_mean_2", "reduce_mean", (0, 2), False, (3, 4, 5), np.mean)
    reduce_case("reduce_max", "reduce_max", (2,), False, (3, 4, 5), np.max)
    reduce_case("reduce_max_keep", "reduce_max", (0, 1), True, (3, 4, 5), np.max)
    add("cross_entropy", "cross_entropy", {"z": rand((6, 5), -3, 3)}, ["z", "y"], (),
        lambda v: cross_entropy_ref(v["z"], v["y"], "mean"), inputs={"y": ints((6,), 5)},
        attrs='reduction = "mean"', loss=True)
    add("cross_entropy_sum", "cross_entropy", {"z": rand((5, 4), -3, 3)}, ["z", "y"], (),
        lambda v: cross_entropy_ref(v["z"], v["y"], "sum"), inputs={"y": ints((5,), 4, np.int32)},
        attrs='reduction = "sum"', loss=True)
    add("mse_loss", "mse_loss", {"p": rand((6, 7)), "t": rand((6, 7))}, ["p", "t"], (),
        lambda v: ((v["p"] - v["t"]) ** 2).mean(), attrs='reduction = "mean"', loss=True)
    add("mse_loss_sum", "mse_loss", {"p": rand((4, 5)), "t": rand((4, 5))}, ["p", "t"], (),
        lambda v: ((v["p"] - v["t"]) ** 2).sum(), attrs='reduction = "sum"', loss=True)
    add("reshape", "reshape", {"x": rand((2, 3, 4))}, ["x"], (4, 6), lambda v: v["x"].reshape(4, 6))
    add("transpose", "transpose", {"x": rand((2, 3, 4))}, ["x"], (4, 2, 3), lambda v: v["x"].transpose(2, 0, 1),
        attrs="perm = array<i64: 2, 0, 1>")
    add("broadcast_to", "broadcast_to", {"x": rand((1, 4))}, ["x"], (3, 2, 4),
        lambda v: np.broadcast_to(v["x"], (3, 2, 4)))
    add("slice", "slice", {"x": rand((4, 5, 6))}, ["x"], (2, 3, 3), lambda v: v["x"][1:3, 1:4, 2:5],
        attrs="starts = array<i64: 1, 1, 2>, sizes = array<i64: 2, 3, 3>")
    ids = np.array([[0, 3, 3, 1], [5, 0, 3, 2]], dtype=np.int64)  # row 4 unused, 0 and 3 repeated
    add("embedding", "embedding", {"t": rand((6, 5))}, ["t", "ids"], (2, 4, 5), lambda v: v["t"][v["ids"]],
        inputs={"ids": ids})
    add("where", "where", {"a": rand((4, 5)), "b": rand((5,))}, ["c", "a", "b"], (4, 5),
        lambda v: np.where(v["c"], v["a"], v["b"]), inputs={"c": rng.random((4, 5)) < 0.5})
    add("max_pool2d", "max_pool2d", {"x": distinct((2, 2, 7, 7))}, ["x"], (2, 2, 4, 4),
        lambda v: pool_ref(v["x"], (3, 3), (2, 2), (1, 1, 1, 1), True),
        attrs="kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>")
    add("avg_pool2d", "avg_pool2d", {"x": rand((2, 2, 7, 7))}, ["x"], (2, 2, 4, 4),
        lambda v: pool_ref(v["x"], (3, 3), (2, 2), (1, 1, 1, 1), False),
        attrs="kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>")
    add("avg_pool2d_asym", "avg_pool2d", {"x": rand((1, 2, 6, 5))}, ["x"], (1, 2, 3, 3),
        lambda v: pool_ref(v["x"], (2, 2), (2, 2), (0, 1, 1, 0), False),
        attrs="kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 1, 1, 0>")
    add("scatter_add", "scatter_add", {"x": rand((5, 4)), "u": rand((3, 4))}, ["x", "i", "u"], (5, 4),
        lambda v: scatter_add_ref(v["x"], v["i"], v["u"], 0), inputs={"i": ints((3, 4), 5)}, attrs="axis = 0 : i64")
    add("scatter_add_axis1", "scatter_add", {"x": rand((3, 6)), "u": rand((2, 4))}, ["x", "i", "u"], (3, 6),
        lambda v: scatter_add_ref(v["x"], v["i"], v["u"], 1), inputs={"i": ints((2, 4), 6, np.int32)},
        attrs="axis = 1 : i64")
    # tanh, then sigmoid in f64 between an arith.extf and an arith.truncf.
    add("casts", None, {"x": rand((3, 4), -2, 2)}, ["x"], (3, 4),
        lambda v: 1 / (1 + np.exp(-np.tanh(v["x"]))), f32_floor=True,
        body=['%{p}__t = "mpc.tanh"(%{p}_x) : (tensor<3x4xf32>) -> tensor<3x4xf32>',
              '%{p}__e = arith.extf %{p}__t : tensor<3x4xf32> to tensor<3x4xf64>',
              '%{p}__s = "mpc.sigmoid"(%{p}__e) : (tensor<3x4xf64>) -> tensor<3x4xf64>',
              '%{p}__y = arith.truncf %{p}__s : tensor<3x4xf64> to tensor<3x4xf32>'])
    return c


# ---- the model --------------------------------------------------------------

def model_text(selected):
    """@forward: the sum of the cases' losses; returns the argument names in
    order (params first within each case)."""
    args, body, losses = [], [], []
    for case in selected:
        p = case.name
        types = {}
        for key, a in case.params.items():
            args.append(f'%{p}_{key}: {ttype(a.shape)} {{mpc.param = "{p}.{key}"}}')
            types[key] = ttype(a.shape)
        for key, a in case.inputs.items():
            args.append(f'%{p}_{key}: {ttype(a.shape, elt_of(a))} {{mpc.input = "{p}.{key}"}}')
            types[key] = ttype(a.shape, elt_of(a))
        rtype = ttype(case.out_shape)
        if case.body:
            body += ["  " + line.format(p=p) for line in case.body]
        else:
            attrs = f" {{{case.attrs}}}" if case.attrs else ""
            body.append(f'  %{p}__y = "mpc.{case.op}"(' + ", ".join(f"%{p}_{k}" for k in case.operands) + f"){attrs}"
                        f" : ({', '.join(types[k] for k in case.operands)}) -> {rtype}")
        if case.loss:
            losses.append(f"%{p}__y")
            continue
        args.append(f'%{p}_R: {rtype} {{mpc.input = "{p}.R"}}')
        body.append(f'  %{p}__m = "mpc.mul"(%{p}__y, %{p}_R) : ({rtype}, {rtype}) -> {rtype}')
        rank = len(case.out_shape)
        if rank:
            body.append(f'  %{p}__l = "mpc.reduce_sum"(%{p}__m) {{axes = array<i64: {", ".join(map(str, range(rank)))}>, '
                        f'keepdim = false}} : ({rtype}) -> tensor<f32>')
            losses.append(f"%{p}__l")
        else:
            losses.append(f"%{p}__m")
    total = losses[0]
    for n, l in enumerate(losses[1:]):
        body.append(f'  %sum{n} = "mpc.add"({total}, {l}) : (tensor<f32>, tensor<f32>) -> tensor<f32>')
        total = f"%sum{n}"
    return ("func.func @forward(" + ",\n    ".join(args) + ") -> tensor<f32> {\n" + "\n".join(body)
            + f"\n  return {total} : tensor<f32>\n}}\n"), len(args)


# ---- finite differences -----------------------------------------------------

def case_values(case, params):
    v = {k: a for k, a in params.items()}
    v.update(case.inputs)
    return v


def fd_gradient(case, key):
    """The 4-point central difference of the case's loss in params[key]."""
    base = {k: a.astype(np.float64) for k, a in case.params.items()}
    R = None if case.loss else case.R.astype(np.float64)
    x = base[key]
    g = np.zeros(x.shape)
    for j in np.ndindex(*x.shape):
        h = 2.0 ** round(math.log2(1e-3 * max(abs(x[j]), 0.1)))
        outs = []
        for k in (-2, -1, 1, 2):
            p = dict(base)
            p[key] = x.copy()
            p[key][j] += k * h
            outs.append(np.asarray(case.ref(case_values(case, p)), dtype=np.float64))
        d = ((outs[0] - outs[3]) + 8.0 * (outs[2] - outs[1])) / (12.0 * h)
        g[j] = d if R is None else np.sum(d * R)
    return g


# ---- main -------------------------------------------------------------------

PARTS = 3  # LLVM's code generation is superlinear in the function's size


def build_and_run(opt, compiler, work, mode, part):
    """Precision, autodiff, compile and one run for one mode and one part of
    the cases; returns the gradients in the part's parameter order."""
    os.makedirs(work, exist_ok=True)
    text, num_args = model_text(part)
    model, assigned, grad = (os.path.join(work, f) for f in ("model.mlir", "assigned.mlir", "grad.mlir"))
    with open(model, "w") as f:
        f.write(text)
    runner = os.path.join(work, "runner")
    subprocess.run([opt, "--precision=" + mode, model, "-o", assigned], check=True)
    subprocess.run([opt, "--mpc-autodiff", assigned, "-o", grad], check=True)
    subprocess.run([compiler, "--forward", "--entry=forward_grad", grad, "--precision=" + mode, "-o", runner],
                   check=True)
    params = {f"{c.name}.{k}": a for c in part for k, a in c.params.items()}
    write_safetensors(os.path.join(work, "params.safetensors"), params)
    cmd = [runner, "--init", os.path.join(work, "params.safetensors"), "--out", os.path.join(work, "out")]
    feeds = {f"{c.name}.{k}": a for c in part for k, a in c.inputs.items()}
    feeds.update({f"{c.name}.R": c.R for c in part if not c.loss})
    feeds[f"arg{num_args}"] = np.array(1.0, dtype=np.float32)  # the seed
    for name, a in feeds.items():
        path = os.path.join(work, f"{name}.npy")
        np.save(path, a)
        cmd += ["--input", f"{name}={path}"]
    subprocess.run(cmd, check=True)
    keys = [(c.name, k) for c in part for k in c.params]
    return {key: load_result(os.path.join(work, "out", f"result{n + 1}.npy")) for n, key in enumerate(keys)}


def check_mode(mode, selected, grads, fds):
    total, failures, worst = 0, 0, (0.0, "")
    for case in selected:
        tol = max(TOL[mode], TOL["32-true"]) if case.f32_floor else TOL[mode]
        for key in case.params:
            expected, got = fds[(case.name, key)], grads[(case.name, key)]
            total += 1
            label = f"{case.name}.{key} [{NAME[mode]}]"
            if got.shape != expected.shape:
                print(f"FAIL {label}: shape {got.shape}, expected {expected.shape}")
                failures += 1
                continue
            err = float(np.max(np.abs(got - expected)) / max(np.max(np.abs(expected)), 1e-30))
            ok = bool(np.all(np.isfinite(got))) and err <= tol
            failures += not ok
            if tol == TOL[mode]:
                worst = max(worst, (err, case.name + "." + key))
            print(f"{'ok  ' if ok else 'FAIL'} {label}: error {err:.2e} (tolerance {tol:.0e})")
    print(f"worst in {mode}: {worst[0]:.2e} ({worst[1]})")
    print(f"{total - failures} of {total} gradients within tolerance in {mode}")
    return failures


def main():
    if len(sys.argv) < 5 or any(m not in TOL for m in sys.argv[4].split(",")):
        sys.exit("usage: check_grads.py MPC_OPT MPC_COMPILE WORKDIR MODE[,MODE...] [CASE ...]  (MODE: "
                 + ", ".join(TOL) + ")")
    opt, compiler, work, modes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
    all_cases = cases()
    wanted = sys.argv[5:]
    selected = [c for c in all_cases if not wanted or c.name in wanted]
    if wanted and len(selected) != len(wanted):
        sys.exit("check_grads.py: unknown case in " + " ".join(wanted))
    parts = [selected[i::PARTS] for i in range(PARTS) if selected[i::PARTS]]
    # The parts compile on worker threads (the tools run as processes) while
    # the finite differences run here.
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        jobs = {mode: [pool.submit(build_and_run, opt, compiler, os.path.join(work, mode, f"part{i}"), mode, part)
                       for i, part in enumerate(parts)] for mode in modes}
        fds = {(c.name, k): fd_gradient(c, k) for c in selected for k in c.params}
        failures = 0
        for mode in modes:
            grads = {}
            for job in jobs[mode]:
                grads.update(job.result())
            failures += check_mode(mode, selected, grads, fds)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
