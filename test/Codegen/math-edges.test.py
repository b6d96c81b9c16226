"""Checks math-edges.test's results against NumPy in f64 (see the test)."""
import sys

import numpy as np

out = sys.argv[1]
x = np.load(out + "/x.npy").astype(np.float64)
with np.errstate(all="ignore"):
    refs = {"exp": np.exp(x), "tanh": np.tanh(x), "sigmoid": 1 / (1 + np.exp(-x))}
for i, name in enumerate(["exp", "tanh", "sigmoid"]):
    got = np.load(f"{out}/out/result{i}.npy").astype(np.float32)
    want = refs[name].astype(np.float32)
    bad = []
    for g, w, xi in zip(got, want, x):
        if np.isnan(w) or np.isinf(w) or w == 0:
            ok = (np.isnan(g) and np.isnan(w)) or (g == w and np.signbit(g) == np.signbit(w))
            # a result that NumPy flushes to 0 may come out as the nearest subnormal
            ok = ok or (w == 0 and abs(g) <= 2 * np.finfo(np.float32).smallest_subnormal)
        elif abs(w) < np.finfo(np.float32).tiny:
            # subnormal results: sigmoid(-90) = 1 / (1 + exp(90)) is 0 in f32
            # arithmetic (exp(90) overflows), as in PyTorch; allow anything
            # below the smallest normal
            ok = abs(float(g)) < np.finfo(np.float32).tiny
        else:
            ulp = np.spacing(np.float32(abs(w)))
            ok = abs(float(g) - float(w)) <= 2 * ulp
        if not ok:
            bad.append(f"x={xi!r}: {g!r} vs {w!r}")
    print(f"{name}: {len(got)} values " + ("ok" if not bad else "FAIL: " + "; ".join(bad)))
