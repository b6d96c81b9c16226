#!/usr/bin/python3
"""Generate small ONNX test models for mpc-import, with inputs and expected outputs.

What it makes (all into the output folder given on the command line):

  Models, each exported with torch.onnx.export at opset 13 AND opset 17
  (export_params=True, do_constant_folding=True, static shapes, no dynamic axes):
    mlp_op13.onnx / mlp_op17.onnx
        inputs  x f32[8,64] "x", y i64[8] "y"
        Linear(64,32) -> ReLU -> Linear(32,10)
        outputs "loss" (f32 scalar, mean cross-entropy), "logits" f32[8,10]
    cnn_op13.onnx / cnn_op17.onnx
        input   x f32[2,1,12,12] "x"
        Conv2d(1,4,3,pad=1) [2,4,12,12] -> ReLU -> MaxPool2d(2) [2,4,6,6]
        -> Conv2d(4,8,3) [2,8,4,4] -> GELU(exact) -> AvgPool2d(2) [2,8,2,2]
        -> Flatten [2,32] -> Linear(32,10) -> log_softmax(dim=1)
        output  "logp" f32[2,10]
    gpt_op13.onnx / gpt_op17.onnx
        inputs  ids i64[2,8] "ids", targets i64[2,8] "targets"
        tiny GPT: vocab 32, seq 8, d_model 16, 2 heads, 1 pre-LN block,
        hand-written causal attention, MLP 16->64->16 with exact GELU,
        final LayerNorm, Linear(16,32) head.  block.ln1 gets random
        gamma/beta; ln2/ln_f keep ones/zeros, which torch 1.13 dedups into
        Identity nodes (ln_f.weight = Identity(block.ln2.weight), ...).
        outputs "loss" (f32 scalar, mean cross-entropy), "logits" f32[2,8,32]

  Inputs (same for both opsets) as .npy:
    mlp_x.npy, mlp_y.npy, cnn_x.npy, gpt_ids.npy, gpt_targets.npy
  PyTorch float32 reference outputs (same for both opsets):
    mlp_out0.npy (loss), mlp_out1.npy (logits), cnn_out0.npy (logp),
    gpt_out0.npy (loss), gpt_out1.npy (logits)

  Training reference for the "imported MLP trains" test:
    mlp_train_x.npy f32[64,64], mlp_train_y.npy i64[64]
        labels = argmax(x @ W) for a fixed random W f32[64,10]
    mlp_sgd_losses.txt
        starting from the exported MLP weights, plain SGD (lr=0.1, no
        momentum, no weight decay), batch 8, 8 steps in file order (no
        shuffle: step k uses rows 8*(k-1) .. 8*k-1); one line per step,
        the mean cross-entropy loss computed at that step before the update.

How to run (from the repository root):

    /usr/bin/python3 test/Import/make_models.py test/Import/Inputs

Everything is seeded (torch.manual_seed, numpy RandomState), so re-running
with the same versions reproduces the same files.  After writing, each .onnx
file is checked with onnx.checker.check_model and run through a small NumPy
evaluator (run_onnx below) whose results must match the saved PyTorch
outputs to 1e-5; the script then prints the
graph inputs, initializer names, a Counter of node op types per file, and the
size of every file written (the total must stay under 1 MB).

Versions used to produce the committed files (Debian packages):
    python3-torch 1.13 (torch 1.13.0a0), python3-onnx 1.12 (onnx 1.12.0),
    numpy 1.24.2
Use /usr/bin/python3: another python3 on PATH may lack torch/onnx.
onnx.reference is not available in onnx 1.12 (and onnxruntime is not
installed), hence the built-in evaluator; the PyTorch outputs are the
expected values.
"""

import collections
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx

OPSETS = (13, 17)
SIZE_LIMIT = 1 << 20  # 1 MB for everything written


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def logits(self, x):
        return self.fc2(F.relu(self.fc1(x)))

    def forward(self, x, y):
        logits = self.logits(x)
        loss = F.cross_entropy(logits, y)
        return loss, logits


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)   # [2,1,12,12] -> [2,4,12,12]
        self.pool1 = nn.MaxPool2d(2)                 # -> [2,4,6,6]
        self.conv2 = nn.Conv2d(4, 8, 3, stride=1)    # -> [2,8,4,4]
        self.gelu = nn.GELU()                        # exact (erf)
        self.pool2 = nn.AvgPool2d(2)                 # -> [2,8,2,2]
        self.flatten = nn.Flatten()                  # -> [2,32]
        self.fc = nn.Linear(8 * 2 * 2, 10)           # -> [2,10]

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(self.gelu(self.conv2(x)))
        logits = self.fc(self.flatten(x))
        return F.log_softmax(logits, dim=1)


VOCAB, SEQ, BATCH, DMODEL, NHEAD = 32, 8, 2, 16, 2


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(DMODEL, 3 * DMODEL)
        self.proj = nn.Linear(DMODEL, DMODEL)
        self.register_buffer("mask", torch.tril(torch.ones(SEQ, SEQ)))

    def forward(self, x):
        # Python-int sizes (shapes are static) so tracing records constants.
        B, T, C = BATCH, SEQ, DMODEL
        H = NHEAD
        Dh = C // H
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.reshape(B, T, H, Dh).transpose(1, 2)   # [B,H,T,Dh]
        k = k.reshape(B, T, H, Dh).transpose(1, 2)
        v = v.reshape(B, T, H, Dh).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(Dh))
        att = att.masked_fill(self.mask[:T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v                                   # [B,H,T,Dh]
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.proj(y)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(DMODEL)
        self.attn = CausalSelfAttention()
        self.ln2 = nn.LayerNorm(DMODEL)
        self.fc = nn.Linear(DMODEL, 4 * DMODEL)
        self.gelu = nn.GELU()
        self.fc_out = nn.Linear(4 * DMODEL, DMODEL)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        x = x + self.fc_out(self.gelu(self.fc(self.ln2(x))))
        return x


class TinyGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok_emb = nn.Embedding(VOCAB, DMODEL)
        self.pos_emb = nn.Parameter(torch.randn(SEQ, DMODEL) * 0.02)
        self.block = Block()
        self.ln_f = nn.LayerNorm(DMODEL)
        self.head = nn.Linear(DMODEL, VOCAB)

    def forward(self, ids, targets):
        x = self.tok_emb(ids) + self.pos_emb
        x = self.ln_f(self.block(x))
        logits = self.head(x)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
        return loss, logits


# --------------------------------------------------------------------------
# Minimal ONNX evaluator (onnx.reference does not exist in onnx 1.12 and
# onnxruntime is not installed).  Covers exactly the ops these exports use
# and fails loudly on anything else, so the exported graphs -- not just the
# PyTorch modules -- are checked against the saved expected outputs.
# --------------------------------------------------------------------------

def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pool_pads(a, nd):
    pads = list(a.get("pads", [0] * (2 * nd)))
    assert pads[:nd] == pads[nd:], "asymmetric pool pads not supported here"
    assert a.get("ceil_mode", 0) == 0 and a.get("auto_pad", b"NOTSET") == b"NOTSET"
    return pads[:nd]


def run_onnx(model, feeds):
    from onnx import numpy_helper
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env.update(feeds)
    def T(a):
        return torch.from_numpy(np.array(a))  # copy: initializers are read-only
    for n in model.graph.node:
        a = _attrs(n)
        x = [env[i] if i else None for i in n.input]
        op = n.op_type
        if op == "Constant":
            out = [numpy_helper.to_array(a["value"])]
        elif op == "Identity":
            out = [x[0]]
        elif op == "Gemm":
            A, B = x[0], x[1]
            if a.get("transA", 0): A = A.T
            if a.get("transB", 0): B = B.T
            y = a.get("alpha", 1.0) * (A @ B)
            if len(x) > 2: y = y + a.get("beta", 1.0) * x[2]
            out = [y]
        elif op == "MatMul":
            out = [np.matmul(x[0], x[1])]
        elif op in ("Add", "Sub", "Mul", "Div", "Pow"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply,
                 "Div": np.divide, "Pow": np.power}[op]
            out = [f(x[0], x[1]).astype(x[0].dtype)]
        elif op == "Relu":
            out = [np.maximum(x[0], 0)]
        elif op == "Sqrt":
            out = [np.sqrt(x[0])]
        elif op == "Erf":
            out = [torch.erf(T(x[0])).numpy()]
        elif op == "ReduceMean":
            out = [np.mean(x[0], axis=tuple(a["axes"]),
                           keepdims=bool(a.get("keepdims", 1)))]
        elif op == "Softmax" or op == "LogSoftmax":
            ax = a.get("axis", -1)
            z = x[0] - np.max(x[0], axis=ax, keepdims=True)
            lse = np.log(np.sum(np.exp(z), axis=ax, keepdims=True))
            out = [np.exp(z - lse) if op == "Softmax" else z - lse]
        elif op == "Where":
            out = [np.where(x[0], x[1], x[2])]
        elif op == "Gather":
            out = [np.take(x[0], x[1], axis=a.get("axis", 0))]
        elif op == "Reshape":
            assert a.get("allowzero", 0) == 0
            shape = [d if d != 0 else x[0].shape[i] for i, d in enumerate(x[1])]
            out = [x[0].reshape(shape)]
        elif op == "Transpose":
            out = [np.transpose(x[0], a["perm"])]
        elif op == "Flatten":
            ax = a.get("axis", 1)
            out = [x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)]
        elif op == "Split":
            idx = np.cumsum(x[1])[:-1]
            out = np.split(x[0], idx, axis=a.get("axis", 0))
        elif op == "Pad":
            assert a.get("mode", b"constant") == b"constant" and len(x) == 2
            p = x[1]; r = x[0].ndim
            out = [np.pad(x[0], [(p[i], p[i + r]) for i in range(r)])]
        elif op == "Conv":
            nd = x[1].ndim - 2
            pads = _pool_pads(a, nd)
            out = [F.conv2d(T(x[0]), T(x[1]), T(x[2]) if len(x) > 2 else None,
                            stride=a.get("strides", [1] * nd), padding=pads,
                            dilation=a.get("dilations", [1] * nd),
                            groups=a.get("group", 1)).numpy()]
        elif op in ("MaxPool", "AveragePool"):
            pads = _pool_pads(a, 2)
            k, st = a["kernel_shape"], a.get("strides", [1, 1])
            if op == "MaxPool":
                out = [F.max_pool2d(T(x[0]), k, st, pads).numpy()]
            else:
                out = [F.avg_pool2d(T(x[0]), k, st, pads,
                                    count_include_pad=bool(a.get("count_include_pad", 0))).numpy()]
        elif op == "LayerNormalization":
            ax = a.get("axis", -1)
            axes = tuple(range(ax % x[0].ndim, x[0].ndim))
            mu = np.mean(x[0], axis=axes, keepdims=True)
            var = np.mean((x[0] - mu) ** 2, axis=axes, keepdims=True)
            y = (x[0] - mu) / np.sqrt(var + np.float32(a.get("epsilon", 1e-5)))
            y = y * x[1]
            if len(x) > 2: y = y + x[2]
            out = [y]
        elif op == "SoftmaxCrossEntropyLoss":
            assert a.get("reduction", b"mean") == b"mean" and len(x) == 2
            logits, lab = x[0], x[1]
            z = logits - logits.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            ign = a.get("ignore_index", None)
            keep = np.ones_like(lab, dtype=bool) if ign is None else lab != ign
            nll = -logp[np.arange(len(lab))[keep], lab[keep]]
            out = [np.asarray(nll.mean(), dtype=logits.dtype)]
        else:
            raise NotImplementedError(f"evaluator: op {op}")
        for name, v in zip(n.output, out):
            if name:
                env[name] = np.asarray(v)
    return [env[o.name] for o in model.graph.output]


def check_against(model, feeds, expected, path):
    got = run_onnx(model, feeds)
    assert len(got) == len(expected), path
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g.shape == e.shape and g.dtype == e.dtype, (path, i, g.shape, e.shape, g.dtype)
        err = float(np.max(np.abs(g - e)))
        assert np.allclose(g, e, rtol=1e-5, atol=1e-5), (path, i, err)
        print(f"  evaluator check {os.path.basename(path)} out{i}: max |onnx - torch| = {err:.3g}")


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def export(model, args, in_names, out_names, path, opset):
    model.eval()
    torch.onnx.export(
        model, args, path,
        export_params=True,
        opset_version=opset,
        do_constant_folding=True,
        input_names=in_names,
        output_names=out_names,
        dynamic_axes=None,
    )
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


def describe(name, m):
    g = m.graph
    inits = [i.name for i in g.initializer]
    init_set = set(inits)
    inputs = [i.name for i in g.input]
    print(f"== {name}  (opset {m.opset_import[0].version}, ir_version {m.ir_version})")
    print("  graph inputs:      ", inputs)
    print("  graph outputs:     ", [o.name for o in g.output])
    print("  inputs that are initializers:", [i for i in inputs if i in init_set])
    print("  initializers:")
    for t in g.initializer:
        print(f"    {t.name:32s} {onnx.TensorProto.DataType.Name(t.data_type):6s} {list(t.dims)}")
    cnt = collections.Counter(n.op_type for n in g.node)
    print(f"  nodes: {len(g.node)}  op types: {dict(sorted(cnt.items()))}")
    print("  node sequence:", " ".join(n.op_type for n in g.node))
    return cnt


def save(outdir, fname, arr, written):
    path = os.path.join(outdir, fname)
    np.save(path, arr)
    written.append(path)


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTPUT_DIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    written = []
    models = {}

    # ---------------- MLP ----------------
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    mlp = MLP()
    mlp_x = rng.standard_normal((8, 64)).astype(np.float32)
    mlp_y = rng.randint(0, 10, size=(8,)).astype(np.int64)
    with torch.no_grad():
        loss, logits = mlp(torch.from_numpy(mlp_x), torch.from_numpy(mlp_y))
    save(outdir, "mlp_x.npy", mlp_x, written)
    save(outdir, "mlp_y.npy", mlp_y, written)
    save(outdir, "mlp_out0.npy", loss.numpy().astype(np.float32), written)
    save(outdir, "mlp_out1.npy", logits.numpy().astype(np.float32), written)
    for op in OPSETS:
        p = os.path.join(outdir, f"mlp_op{op}.onnx")
        models[p] = export(mlp, (torch.from_numpy(mlp_x), torch.from_numpy(mlp_y)),
                           ["x", "y"], ["loss", "logits"], p, op)
        check_against(models[p], {"x": mlp_x, "y": mlp_y},
                      [loss.numpy(), logits.numpy()], p)
        written.append(p)

    # MLP training reference: start from the exported weights.
    rng_t = np.random.RandomState(1)
    train_x = rng_t.standard_normal((64, 64)).astype(np.float32)
    rule = rng_t.standard_normal((64, 10)).astype(np.float32)
    train_y = np.argmax(train_x @ rule, axis=1).astype(np.int64)
    save(outdir, "mlp_train_x.npy", train_x, written)
    save(outdir, "mlp_train_y.npy", train_y, written)
    trainee = MLP()
    trainee.load_state_dict(mlp.state_dict())
    trainee.train()
    opt = torch.optim.SGD(trainee.parameters(), lr=0.1)
    losses = []
    for step in range(8):
        xb = torch.from_numpy(train_x[step * 8:(step + 1) * 8])
        yb = torch.from_numpy(train_y[step * 8:(step + 1) * 8])
        opt.zero_grad()
        l, _ = trainee(xb, yb)
        l.backward()
        opt.step()
        losses.append(float(l.item()))
    p = os.path.join(outdir, "mlp_sgd_losses.txt")
    with open(p, "w") as f:
        for l in losses:
            f.write(f"{l:.8f}\n")
    written.append(p)

    # ---------------- CNN ----------------
    torch.manual_seed(1)
    rng = np.random.RandomState(2)
    cnn = CNN()
    cnn_x = rng.standard_normal((2, 1, 12, 12)).astype(np.float32)
    with torch.no_grad():
        logp = cnn(torch.from_numpy(cnn_x))
    assert tuple(logp.shape) == (2, 10)
    save(outdir, "cnn_x.npy", cnn_x, written)
    save(outdir, "cnn_out0.npy", logp.numpy().astype(np.float32), written)
    for op in OPSETS:
        p = os.path.join(outdir, f"cnn_op{op}.onnx")
        models[p] = export(cnn, (torch.from_numpy(cnn_x),), ["x"], ["logp"], p, op)
        check_against(models[p], {"x": cnn_x}, [logp.numpy()], p)
        written.append(p)

    # ---------------- GPT ----------------
    torch.manual_seed(2)
    rng = np.random.RandomState(3)
    gpt = TinyGPT()
    # Give ln1 non-trivial gamma/beta so the LayerNorm affine part is tested.
    # ln2 and ln_f keep the default ones/zeros on purpose: torch 1.13's
    # exporter deduplicates equal-valued initializers, so ln_f.weight/bias
    # become Identity nodes reading block.ln2.weight/bias -- a real-world
    # export artifact the importer must handle.
    with torch.no_grad():
        gpt.block.ln1.weight.add_(0.1 * torch.randn(DMODEL))
        gpt.block.ln1.bias.add_(0.1 * torch.randn(DMODEL))
    gpt_ids = rng.randint(0, VOCAB, size=(BATCH, SEQ)).astype(np.int64)
    gpt_targets = rng.randint(0, VOCAB, size=(BATCH, SEQ)).astype(np.int64)
    gpt.eval()
    with torch.no_grad():
        loss, logits = gpt(torch.from_numpy(gpt_ids), torch.from_numpy(gpt_targets))
    assert tuple(logits.shape) == (BATCH, SEQ, VOCAB)
    save(outdir, "gpt_ids.npy", gpt_ids, written)
    save(outdir, "gpt_targets.npy", gpt_targets, written)
    save(outdir, "gpt_out0.npy", loss.numpy().astype(np.float32), written)
    save(outdir, "gpt_out1.npy", logits.numpy().astype(np.float32), written)
    for op in OPSETS:
        p = os.path.join(outdir, f"gpt_op{op}.onnx")
        models[p] = export(gpt, (torch.from_numpy(gpt_ids), torch.from_numpy(gpt_targets)),
                           ["ids", "targets"], ["loss", "logits"], p, op)
        check_against(models[p], {"ids": gpt_ids, "targets": gpt_targets},
                      [loss.numpy(), logits.numpy()], p)
        written.append(p)

    # ---------------- Report ----------------
    print(f"torch {torch.__version__}, onnx {onnx.__version__}, numpy {np.__version__}")
    for p, m in models.items():
        describe(os.path.basename(p), m)
    print("mlp_sgd_losses:", " ".join(f"{l:.6f}" for l in losses))
    total = 0
    print("files written:")
    for p in written:
        s = os.path.getsize(p)
        total += s
        print(f"  {s:8d}  {os.path.basename(p)}")
    print(f"  {total:8d}  total")
    assert total < SIZE_LIMIT, f"total size {total} exceeds {SIZE_LIMIT}"


if __name__ == "__main__":
    main()
