#!/usr/bin/env python3
"""Runs every mpc op through mpc-compile --forward in one precision mode and
compares each result with an f64 reference computed here with NumPy, an
implementation that shares no code with mpc.

    check_ops.py MPC_COMPILE WORKDIR MODE [CASE ...]

All cases go into one model (one input set and one result each), compiled
once for MODE and run once. Inputs are rounded to bf16 precision first, so
that they are exact in every type (f16, bf16, f32, f64) and the error
measured is the op's own, not the input's rounding. Prints one line per case
and exits non-zero when any case is outside its tolerance.

The error of a case is normwise: max|y - ref| / max|ref| (losses and other
scalars: the relative error). Tolerances, per compute type:
  f64   1e-13  one rounding is 1.1e-16; sums of a few hundred terms and
               libm stay below 1e-15 (measured: 2.3e-16 at most).
  f32   1e-6   one rounding is 6e-8; f32 accumulation over K <= 64 terms
               and 1-ulp transcendentals stay near 1e-7 (measured 1.2e-7).
  f16   1e-3   an op computes in f32 and rounds its result to f16 once:
               2^-11 = 4.9e-4 relative at worst (measured 4.7e-4).
  bf16  8e-3   the same with bf16's 2^-8 = 3.9e-3, twice over for ops whose
               f32 operand is rounded to bf16 inside (measured 3.2e-3).
"""
import math
import os
import subprocess
import sys

import numpy as np

# The compute type of each mode's ops; the mixed modes run some ops in f32,
# and are held to their low type's tolerance.
MODES = {"32-true": "f32", "64-true": "f64", "16-true": "f16", "bf16-true": "bf16", "16-mixed": "f16",
         "bf16-mixed": "bf16"}
TOL = {"f64": 1e-13, "f32": 1e-6, "f16": 1e-3, "bf16": 8e-3}

rng = np.random.default_rng(20261128)


def bf16_round(a):
    """Rounds f32 values to the nearest bf16 (ties to even), as float32."""
    a = np.asarray(a, dtype=np.float32)
    bits = a.view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(np.uint32).view(np.float32)


def rand(shape, lo=-2.0, hi=2.0, away=0.0):
    x = rng.uniform(lo, hi, size=shape).astype(np.float32)
    if away:
        x = np.where(np.abs(x) < away, np.copysign(away, x), x).astype(np.float32)
    return bf16_round(x)


def ints(shape, hi, dtype=np.int64):
    return rng.integers(0, hi, size=shape).astype(dtype)


def ttype(shape, elt="f32"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + elt + ">"


def erf(a):
    return np.vectorize(math.erf)(a)


# ---- references (f64) -------------------------------------------------------

def conv2d_ref(x, w, b, stride, pad, dil, groups):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.zeros((n, c, h + pad[0] + pad[2], wd + pad[1] + pad[3]))
    xp[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + wd] = x
    oh = (h + pad[0] + pad[2] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + pad[1] + pad[3] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, o, oh, ow))
    og = o // groups
    for oc in range(o):
        g = oc // og
        for i in range(oh):
            for j in range(ow):
                win = xp[:, g * cg:(g + 1) * cg,
                         i * stride[0]:i * stride[0] + dil[0] * (kh - 1) + 1:dil[0],
                         j * stride[1]:j * stride[1] + dil[1] * (kw - 1) + 1:dil[1]]
                y[:, oc, i, j] = np.sum(win * w[oc], axis=(1, 2, 3)) + (b[oc] if b is not None else 0.0)
    return y


def pool_ref(x, k, s, pad, is_max):
    n, c, h, w = x.shape
    oh = (h + pad[0] + pad[2] - k[0]) // s[0] + 1
    ow = (w + pad[1] + pad[3] - k[1]) // s[1] + 1
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s[0] - pad[0], j * s[1] - pad[1]
            win = x[:, :, max(r0, 0):min(r0 + k[0], h), max(c0, 0):min(c0 + k[1], w)]
            y[:, :, i, j] = win.max(axis=(2, 3)) if is_max else win.sum(axis=(2, 3)) / (k[0] * k[1])
    return y


def log_softmax_ref(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def cross_entropy_ref(logits, labels, reduction):
    lp = log_softmax_ref(logits, 1)
    losses = -lp[np.arange(len(labels)), labels]
    return losses.mean() if reduction == "mean" else losses.sum()


def scatter_add_ref(x, idx, upd, axis):
    out = x.copy()
    for pos in np.ndindex(*idx.shape):
        target = list(pos)
        target[axis] = idx[pos]
        out[tuple(target)] += upd[pos]
    return out


# ---- cases ------------------------------------------------------------------
# Each case: name -> (inputs {name: array}, op text with {name} placeholders for
# SSA values and {T:name} for their types, result shape, reference function).

def cases():
    c = {}

    def add(name, inputs, op, out_shape, ref):
        c[name] = (inputs, op, out_shape, ref)

    x = rand((3, 5, 16)); w = rand((8, 16)); b = rand((8,))
    add("linear", {"x": x, "w": w, "b": b}, '"mpc.linear"({x}, {w}, {b})', (3, 5, 8),
        lambda i: i["x"] @ i["w"].T + i["b"])
    add("linear_nobias", {"x": rand((6, 32)), "w": rand((5, 32))}, '"mpc.linear"({x}, {w})', (6, 5),
        lambda i: i["x"] @ i["w"].T)
    add("matmul", {"a": rand((2, 4, 16)), "b": rand((2, 16, 8))}, '"mpc.matmul"({a}, {b})', (2, 4, 8),
        lambda i: np.matmul(i["a"], i["b"]))
    add("matmul2d", {"a": rand((7, 9)), "b": rand((9, 3))}, '"mpc.matmul"({a}, {b})', (7, 3),
        lambda i: i["a"] @ i["b"])
    add("conv2d", {"x": rand((2, 3, 9, 9)), "w": rand((4, 3, 3, 3)), "b": rand((4,))},
        '"mpc.conv2d"({x}, {w}, {b}) {{strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, '
        'dilations = array<i64: 1, 1>, groups = 1 : i64}}', (2, 4, 5, 5),
        lambda i: conv2d_ref(i["x"], i["w"], i["b"], (2, 2), (1, 1, 1, 1), (1, 1), 1))
    add("conv2d_groups", {"x": rand((1, 4, 8, 8)), "w": rand((6, 2, 3, 3))},
        '"mpc.conv2d"({x}, {w}) {{strides = array<i64: 1, 1>, padding = array<i64: 2, 2, 2, 2>, '
        'dilations = array<i64: 2, 2>, groups = 2 : i64}}', (1, 6, 8, 8),
        lambda i: conv2d_ref(i["x"], i["w"], None, (1, 1), (2, 2, 2, 2), (2, 2), 2))
    bin_refs = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}
    for name, fn in bin_refs.items():
        add(name, {"a": rand((4, 1, 6)), "b": rand((5, 1), away=0.25 if name == "div" else 0.0)},
            f'"mpc.{name}"({{a}}, {{b}})', (4, 5, 6), lambda i, fn=fn: fn(i["a"], i["b"]))
    add("concat", {"a": rand((2, 3, 4)), "b": rand((2, 5, 4))}, '"mpc.concat"({a}, {b}) {{axis = 1 : i64}}',
        (2, 8, 4), lambda i: np.concatenate([i["a"], i["b"]], axis=1))
    unary = {
        "neg": (lambda a: -a, (-2, 2)),
        "relu": (lambda a: np.maximum(a, 0), (-2, 2)),
        "tanh": (np.tanh, (-3, 3)),
        "sigmoid": (lambda a: 1 / (1 + np.exp(-a)), (-4, 4)),
        "erf": (erf, (-2, 2)),
        "exp": (np.exp, (-3, 3)),
        "log": (np.log, (0.1, 4)),
        "rsqrt": (lambda a: 1 / np.sqrt(a), (0.1, 4)),
        "sqrt": (np.sqrt, (0.1, 4)),
    }
    for name, (fn, (lo, hi)) in unary.items():
        add(name, {"x": rand((5, 7), lo, hi)}, f'"mpc.{name}"({{x}})', (5, 7), lambda i, fn=fn: fn(i["x"]))
    add("reciprocal", {"x": rand((5, 7), away=0.25)}, '"mpc.reciprocal"({x})', (5, 7), lambda i: 1 / i["x"])
    add("gelu", {"x": rand((5, 7), -3, 3)}, '"mpc.gelu"({x}) {{approximate = "none"}}', (5, 7),
        lambda i: 0.5 * i["x"] * (1 + erf(i["x"] / math.sqrt(2))))
    add("gelu_tanh", {"x": rand((5, 7), -3, 3)}, '"mpc.gelu"({x}) {{approximate = "tanh"}}', (5, 7),
        lambda i: 0.5 * i["x"] * (1 + np.tanh(math.sqrt(2 / math.pi) * (i["x"] + 0.044715 * i["x"] ** 3))))
    add("pow", {"x": rand((3, 4), 0.5, 2), "y": rand((4,), -2, 2)}, '"mpc.pow"({x}, {y})', (3, 4),
        lambda i: np.power(i["x"], i["y"]))
    add("softmax", {"x": rand((3, 7, 5), -3, 3)}, '"mpc.softmax"({x}) {{axis = 1 : i64}}', (3, 7, 5),
        lambda i: np.exp(log_softmax_ref(i["x"], 1)))
    add("log_softmax", {"x": rand((3, 7, 5), -3, 3)}, '"mpc.log_softmax"({x}) {{axis = 2 : i64}}', (3, 7, 5),
        lambda i: log_softmax_ref(i["x"], 2))

    def layer_norm(i):
        m = i["x"].mean(axis=-1, keepdims=True)
        v = ((i["x"] - m) ** 2).mean(axis=-1, keepdims=True)
        return (i["x"] - m) / np.sqrt(v + 1e-5) * i["g"] + i["b"]
    add("layer_norm", {"x": rand((4, 6, 32)), "g": rand((32,)), "b": rand((32,))},
        '"mpc.layer_norm"({x}, {g}, {b}) {{eps = 1.000000e-05 : f64}}', (4, 6, 32), layer_norm)
    add("reduce_sum", {"x": rand((3, 4, 5))}, '"mpc.reduce_sum"({x}) {{axes = array<i64: 0, 2>, keepdim = false}}',
        (4,), lambda i: i["x"].sum(axis=(0, 2)))
    add("reduce_mean", {"x": rand((3, 4, 5))}, '"mpc.reduce_mean"({x}) {{axes = array<i64: 1>, keepdim = true}}',
        (3, 1, 5), lambda i: i["x"].mean(axis=1, keepdims=True))
    add("reduce_max", {"x": rand((3, 4, 5))}, '"mpc.reduce_max"({x}) {{axes = array<i64: 2>, keepdim = false}}',
        (3, 4), lambda i: i["x"].max(axis=2))
    add("reduce_all", {"x": rand((3, 4))}, '"mpc.reduce_sum"({x}) {{axes = array<i64: 0, 1>, keepdim = true}}',
        (1, 1), lambda i: i["x"].sum(keepdims=True))
    add("cross_entropy", {"z": rand((8, 10), -3, 3), "y": ints((8,), 10)},
        '"mpc.cross_entropy"({z}, {y}) {{reduction = "mean"}}', (), lambda i: cross_entropy_ref(i["z"], i["y"], "mean"))
    add("cross_entropy_sum", {"z": rand((6, 5), -3, 3), "y": ints((6,), 5, np.int32)},
        '"mpc.cross_entropy"({z}, {y}) {{reduction = "sum"}}', (), lambda i: cross_entropy_ref(i["z"], i["y"], "sum"))
    add("mse_loss", {"p": rand((6, 7)), "t": rand((6, 7))}, '"mpc.mse_loss"({p}, {t}) {{reduction = "mean"}}', (),
        lambda i: ((i["p"] - i["t"]) ** 2).mean())
    add("mse_loss_sum", {"p": rand((6, 7)), "t": rand((6, 7))}, '"mpc.mse_loss"({p}, {t}) {{reduction = "sum"}}', (),
        lambda i: ((i["p"] - i["t"]) ** 2).sum())
    add("reshape", {"x": rand((2, 3, 4))}, '"mpc.reshape"({x})', (4, 6), lambda i: i["x"].reshape(4, 6))
    add("reshape_scalar", {"x": rand((1, 1))}, '"mpc.reshape"({x})', (), lambda i: i["x"].reshape(()))
    add("transpose", {"x": rand((2, 3, 4))}, '"mpc.transpose"({x}) {{perm = array<i64: 2, 0, 1>}}', (4, 2, 3),
        lambda i: i["x"].transpose(2, 0, 1))
    add("broadcast_to", {"x": rand((1, 4))}, '"mpc.broadcast_to"({x})', (3, 2, 4),
        lambda i: np.broadcast_to(i["x"], (3, 2, 4)))
    add("slice", {"x": rand((4, 5, 6))},
        '"mpc.slice"({x}) {{starts = array<i64: 1, 0, 2>, sizes = array<i64: 2, 3, 4>}}', (2, 3, 4),
        lambda i: i["x"][1:3, 0:3, 2:6])
    add("embedding", {"t": rand((10, 8)), "ids": ints((3, 4), 10)}, '"mpc.embedding"({t}, {ids})', (3, 4, 8),
        lambda i: i["t"][i["ids"]])
    add("where", {"c": rng.random((4, 5)) < 0.5, "a": rand((4, 5)), "b": rand((5,))}, '"mpc.where"({c}, {a}, {b})',
        (4, 5), lambda i: np.where(i["c"], i["a"], i["b"]))
    add("max_pool2d", {"x": rand((2, 3, 8, 8))},
        '"mpc.max_pool2d"({x}) {{kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, '
        'padding = array<i64: 1, 1, 1, 1>}}', (2, 3, 4, 4),
        lambda i: pool_ref(i["x"], (3, 3), (2, 2), (1, 1, 1, 1), True))
    add("avg_pool2d", {"x": rand((2, 3, 8, 8))},
        '"mpc.avg_pool2d"({x}) {{kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, '
        'padding = array<i64: 0, 0, 0, 0>}}', (2, 3, 4, 4),
        lambda i: pool_ref(i["x"], (2, 2), (2, 2), (0, 0, 0, 0), False))
    add("scatter_add", {"x": rand((5, 4)), "i": ints((3, 4), 5), "u": rand((3, 4))},
        '"mpc.scatter_add"({x}, {i}, {u}) {{axis = 0 : i64}}', (5, 4),
        lambda i: scatter_add_ref(i["x"], i["i"], i["u"], 0))
    return c


def elt_of(a):
    if a.dtype == np.bool_:
        return "i1"
    if a.dtype == np.int64:
        return "i64"
    if a.dtype == np.int32:
        return "i32"
    return "f32"


def model_text(selected):
    args, body, results = [], [], []
    for n, (name, (inputs, op, out_shape, _)) in enumerate(selected):
        values, types = {}, []
        for key, a in inputs.items():
            arg = f"{name}_{key}"
            args.append(f'%{arg}: {ttype(a.shape, elt_of(a))} {{mpc.input = "{arg}"}}')
            values[key] = f"%{arg}"
            types.append(ttype(a.shape, elt_of(a)))
        rtype = ttype(out_shape)
        body.append(f"  %r{n} = " + op.format(**values) + f" : ({', '.join(types)}) -> {rtype}")
        results.append((f"%r{n}", rtype))
    return ("func.func @forward(" + ",\n    ".join(args) + ")\n    -> (" + ", ".join(t for _, t in results)
            + ") {\n" + "\n".join(body) + "\n  return " + ", ".join(v for v, _ in results) + " : "
            + ", ".join(t for _, t in results) + "\n}\n")


def load_result(path):
    a = np.load(path)
    if a.dtype == np.uint16:  # bf16, stored as its bits (docs/runtime.md)
        a = (a.astype(np.uint32).reshape(-1) << 16).view(np.float32).reshape(a.shape)
    return a.astype(np.float64)


def main():
    if len(sys.argv) < 4 or sys.argv[3] not in MODES:
        sys.exit("usage: check_ops.py MPC_COMPILE WORKDIR MODE [CASE ...]  (MODE: " + ", ".join(MODES) + ")")
    compiler, work, mode = sys.argv[1:4]
    all_cases = cases()
    wanted = sys.argv[4:] or list(all_cases)
    selected = [(n, all_cases[n]) for n in wanted]
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "ops.mlir")
    with open(model, "w") as f:
        f.write(model_text(selected))
    runner = os.path.join(work, "runner")
    subprocess.run([compiler, "--forward", model, "--precision=" + mode, "-o", runner], check=True)
    cmd = [runner, "--out", os.path.join(work, "out")]
    for name, (inputs, _, _, _) in selected:
        for key, a in inputs.items():
            path = os.path.join(work, f"{name}_{key}.npy")
            np.save(path, a)
            cmd += ["--input", f"{name}_{key}={path}"]
    subprocess.run(cmd, check=True)
    elt = MODES[mode]
    tol = TOL[elt]
    failures = 0
    for n, (name, (inputs, _, out_shape, ref)) in enumerate(selected):
        expected = np.asarray(ref({k: a.astype(np.float64) if a.dtype == np.float32 else a
                                   for k, a in inputs.items()}), dtype=np.float64)
        got = load_result(os.path.join(work, "out", f"result{n}.npy"))
        if got.shape != tuple(out_shape) or expected.shape != got.shape:
            print(f"FAIL {name} [{elt}]: shape {got.shape}, expected {expected.shape}")
            failures += 1
            continue
        scale = max(np.max(np.abs(expected)), 1e-30)
        err = float(np.max(np.abs(got - expected)) / scale) if got.size else 0.0
        ok = np.all(np.isfinite(got)) and err <= tol
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name} [{elt}]: error {err:.2e} (tolerance {tol:.0e})")
    print(f"{len(selected) - failures} of {len(selected)} ops within tolerance in {mode}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
