#!/usr/bin/env python3
"""Runs ONNX's own node conformance tests through mpc-import and a forward runner.

usage: conformance.py --import MPC_IMPORT --compile MPC_COMPILE --work WORKDIR
                      [--data DIR] [-j N] [-k SUBSTRING ...] [--min-pass N] [--verbose]

The data is ONNX's backend node tests as Debian's libonnx-testdata installs them:
DIR/<test>/model.onnx and DIR/<test>/test_data_set_<n>/{input,output}_<i>.pb, each
.pb a serialized onnx.TensorProto. For every test (sorted by name; -k keeps only the
tests whose name contains one of the substrings):

1. Skipped (op): a node (subgraphs included) whose op type is not in
   `mpc-import --list-ops`. Nodes of a domain other than "" / "ai.onnx" count as the
   missing op "DOMAIN:OpType" unless the list names them so.
2. `mpc-import model.onnx -o WORK/<test>/model.mlir`. A failure whose message contains
   "unsupported" is skipped (feature); any other failure, a crash or a timeout fails.
3. Every input of every test_data_set is written as .npy (dtype kept; bf16 as '<u2'
   bit patterns, the runtime's convention), `mpc-compile --forward` builds a runner,
   the runner runs once per test_data_set, and each result<i>.npy is compared with
   output_<i>.pb: same dtype, same shape, floats within ONNX's tolerance (below),
   integers and booleans equal.

Prints `PASS name` / `FAIL name: reason` per test that was not skipped, a summary of
the missing ops and the unsupported features, then
`conformance: P passed, F failed, S skipped (A unsupported op, B unsupported feature) of T`.
Exits 1 when a test failed or fewer than --min-pass tests passed, 2 on a usage or
setup error (no data, mpc-import --list-ops fails).
"""
import argparse
import collections
import concurrent.futures
import glob
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import traceback

import numpy as np
import onnx
from onnx import numpy_helper

DEFAULT_DATA = "/usr/share/libonnx-testdata/data/node"

# Tolerances are ONNX's own backend-test defaults: onnx/backend/test/loader sets
# rtol=1e-3, atol=1e-7 for every node test, and onnx/backend/test/runner compares with
# np.testing.assert_allclose (|actual - expected| <= atol + rtol * |expected|, NaN equal
# to NaN, infinities equal only to themselves) after asserting equal dtypes.
RTOL = 1e-3
ATOL = 1e-7

TIMEOUT_IMPORT = 30
TIMEOUT_COMPILE = 120
TIMEOUT_RUN = 60

DEFAULT_DOMAINS = ("", "ai.onnx")

# Tests that run but whose expected outputs mpc does not reproduce, each for a reason outside
# mpc or one that mpc cannot see at import time. Each is reported (KNOWN) and must still fail:
# a known test that passes is a FAIL, so that this list never hides a fixed difference.
KNOWN = {
    # ONNX 1.12's expected bf16 values truncate the float's low 16 bits; mpc (like PyTorch and
    # later ONNX releases, which regenerated this data) rounds to nearest even.
    "test_cast_FLOAT_to_BFLOAT16": "expected values truncate instead of rounding to nearest even",
    "test_castlike_FLOAT_to_BFLOAT16_expanded": "test data: input 'like' is [1], the model declares 3x4",
    "test_castlike_BFLOAT16_to_FLOAT_expanded": "test data: input 'like' is [1], the model declares 3x4",
    # Negative runtime indices count from the end in ONNX; mpc.embedding clamps ids into
    # [0, V) (what the ids are is known only at run time).
    "test_gather_negative_indices": "runtime negative indices (mpc's embedding clamps them)",
}
# The same for families of tests, by a part of their names. Labels equal to an ignore_index
# outside [0, C) (negative_ii, high_ii) are ignored by ONNX; mpc accepts such an ignore_index
# (PyTorch exports -100 with every cross_entropy) but its embedding-based loss clamps the
# label into range: only the run-time label values tell, and a compiler does not see them.
KNOWN_PATTERNS = {
    "negative_ii": "labels hold an ignore_index outside [0, C), which mpc clamps into range",
    "high_ii": "labels hold an ignore_index outside [0, C), which mpc clamps into range",
}


def known_reason(name):
    if name in KNOWN:
        return KNOWN[name]
    for part, reason in KNOWN_PATTERNS.items():
        if part in name:
            return reason
    return None


class Outcome:
    PASS, FAIL, SKIP_OP, SKIP_FEATURE, KNOWN = "PASS", "FAIL", "SKIP_OP", "SKIP_FEATURE", "KNOWN"

    def __init__(self, kind, detail=""):
        self.kind, self.detail = kind, detail


# ---------------------------------------------------------------------------
# Model inspection


def walk_nodes(graph):
    """Every node of the graph and of its subgraphs (If, Loop, Scan bodies)."""
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from walk_nodes(attr.g)
            for sub in attr.graphs:
                yield from walk_nodes(sub)


def missing_ops(model, supported):
    missing = set()
    for node in walk_nodes(model.graph):
        if node.domain in DEFAULT_DOMAINS:
            if node.op_type not in supported:
                missing.add(node.op_type)
        else:
            qualified = node.domain + ":" + node.op_type
            if qualified not in supported:
                missing.add(qualified)
    return sorted(missing)


def value_kind(value_info):
    return value_info.type.WhichOneof("value")  # tensor_type, sequence_type, optional_type, ...


def declared_shape(value_info):
    """The static shape of a tensor value, or None when a dim is symbolic or unknown."""
    tt = value_info.type.tensor_type
    if not tt.HasField("shape"):
        return None
    dims = []
    for d in tt.shape.dim:
        if not d.HasField("dim_value"):
            return None
        dims.append(d.dim_value)
    return tuple(dims)


def fmt_shape(shape):
    return "x".join(str(d) for d in shape) if shape else "scalar"


def load_tensor(path):
    tp = onnx.TensorProto()
    with open(path, "rb") as f:
        tp.ParseFromString(f.read())
    return numpy_helper.to_array(tp)


def data_sets(test_dir):
    def index(p):
        m = re.search(r"(\d+)$", p)
        return int(m.group(1)) if m else -1
    return sorted((p for p in glob.glob(os.path.join(test_dir, "test_data_set_*")) if os.path.isdir(p)), key=index)


def count_files(data_set, prefix):
    return len(glob.glob(os.path.join(data_set, prefix + "_*.pb")))


def safetensors_has_tensors(path):
    """True unless the file is a well-formed safetensors file with no tensors."""
    try:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
        return any(k != "__metadata__" for k in header)
    except (OSError, ValueError, struct.error):
        return True  # let the runner say what is wrong with it


# ---------------------------------------------------------------------------
# Subprocesses


def run_tool(cmd, timeout):
    """(returncode or 'timeout', stderr text, or stdout when stderr is empty).

    The tool runs in its own process group, and a timeout kills the whole group:
    mpc-compile's linker and other grandchildren would otherwise keep the pipes open."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.communicate()
        return "timeout", ""
    err = err.decode("utf-8", "replace")
    return p.returncode, err if err.strip() else out.decode("utf-8", "replace")


def error_line(text):
    """The line that says what went wrong: the first `error:` line, else the last non-empty one."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        if "error:" in l:
            return l
    return lines[-1] if lines else "(no message)"


def describe_failure(tool, rc, stderr, timeout):
    if rc == "timeout":
        return "%s timed out after %d s" % (tool, timeout)
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = "signal %d" % -rc
        return "%s crashed (%s)%s" % (tool, name, ": " + error_line(stderr) if stderr.strip() else "")
    return "%s exited %d: %s" % (tool, rc, error_line(stderr))


def strip_location(msg):
    """`file:line:col: error: text` or `mpc-import: error: text` -> `text`."""
    i = msg.find("error:")
    return msg[i + len("error:"):].strip() if i >= 0 else msg.strip()


def feature_group(msg):
    return re.sub(r"\d+", "N", strip_location(msg))


# ---------------------------------------------------------------------------
# Comparison


def bf16_bits_to_f32(a):
    return (a.astype(np.uint32) << 16).view(np.float32)


def compare(expected, actual, elem_type):
    """None when `actual` matches `expected`, else what differs."""
    if elem_type == onnx.TensorProto.BFLOAT16:
        # bf16 has no NumPy type: the test data holds it as uint16 bits (or as
        # float32, when the .pb itself is BFLOAT16), the runner writes '<u2' bits.
        if actual.dtype != np.uint16:
            return "dtype %s, expected bf16 bits as uint16" % actual.dtype
        actual = bf16_bits_to_f32(actual)
        expected = bf16_bits_to_f32(expected) if expected.dtype == np.uint16 else expected.astype(np.float32)
    elif actual.dtype != expected.dtype:
        return "dtype %s, expected %s" % (actual.dtype, expected.dtype)
    if actual.shape != expected.shape:
        return "shape %s, expected %s" % (fmt_shape(actual.shape), fmt_shape(expected.shape))
    if expected.size == 0:
        return None
    if expected.dtype.kind == "f":
        e = expected.astype(np.float64)
        a = actual.astype(np.float64)
        e_nan, a_nan = np.isnan(e), np.isnan(a)
        e_inf, a_inf = np.isinf(e), np.isinf(a)
        finite = ~(e_nan | a_nan | e_inf | a_inf)
        bad = (e_nan != a_nan) | ((e_inf | a_inf) & ~(e_nan | a_nan) & (a != e))
        abs_err = np.zeros_like(e)
        abs_err[finite] = np.abs(a[finite] - e[finite])
        bad |= finite & (abs_err > ATOL + RTOL * np.abs(e))
        if not bad.any():
            return None
        rel_err = np.zeros_like(e)
        nz = finite & (e != 0)
        rel_err[nz] = abs_err[nz] / np.abs(e[nz])
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        special = int((bad & ~finite).sum())
        return "%d of %d values differ (max abs err %.3g, max rel err %.3g%s; first at %s: got %.9g, expected %.9g; rtol %g, atol %g)" % (
            int(bad.sum()), e.size, abs_err.max(), rel_err.max(),
            ", %d NaN/inf mismatches" % special if special else "",
            list(first), actual[first].item(), expected[first].item(), RTOL, ATOL)
    if expected.dtype.kind in "biu":
        bad = actual != expected
        if not bad.any():
            return None
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
        return "%d of %d values differ (max abs err %.6g; first at %s: got %r, expected %r)" % (
            int(bad.sum()), expected.size, diff.max(), list(first), actual[first].item(), expected[first].item())
    if np.array_equal(actual, expected):
        return None
    return "values differ (dtype %s)" % expected.dtype


# ---------------------------------------------------------------------------
# One test


def run_test(name, test_dir, model, args):
    work = os.path.join(args.work, name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    mlir = os.path.join(work, "model.mlir")
    weights = os.path.join(work, "model.safetensors")

    rc, err = run_tool([args.importer, os.path.join(test_dir, "model.onnx"), "-o", mlir], TIMEOUT_IMPORT)
    if rc != 0:
        if rc != "timeout" and rc > 0 and "unsupported" in err:
            return Outcome(Outcome.SKIP_FEATURE, error_line(err))
        return Outcome(Outcome.FAIL, describe_failure("mpc-import", rc, err, TIMEOUT_IMPORT))
    if not os.path.isfile(mlir):
        return Outcome(Outcome.FAIL, "mpc-import exited 0 but wrote no %s" % os.path.basename(mlir))

    graph = model.graph
    initialized = {t.name for t in graph.initializer}
    sets = data_sets(test_dir)
    if not sets:
        return Outcome(Outcome.FAIL, "test data: no test_data_set_* directory")

    # Inputs first (cheap), so that a data problem is reported before compiling.
    # input_<i>.pb feeds graph.input[i], output_<i>.pb is graph.output[i], as in ONNX's runner.
    runs = []
    for ds in sets:
        tag = os.path.basename(ds)
        n_in, n_out = count_files(ds, "input"), count_files(ds, "output")
        if n_in > len(graph.input):
            return Outcome(Outcome.FAIL, "test data: %s has %d inputs, the model %d" % (tag, n_in, len(graph.input)))
        if n_out != len(graph.output):
            return Outcome(Outcome.FAIL, "test data: %s has %d outputs, the model %d" % (tag, n_out, len(graph.output)))
        in_dir = os.path.join(work, tag)
        os.makedirs(in_dir, exist_ok=True)
        feeds = []
        for i in range(n_in):
            vi = graph.input[i]
            if vi.name in initialized:
                continue  # a parameter: its value comes from --init (no node test has one)
            if value_kind(vi) != "tensor_type":
                return Outcome(Outcome.FAIL, "mpc-import accepted input '%s' of %s" % (vi.name, value_kind(vi)))
            arr = load_tensor(os.path.join(ds, "input_%d.pb" % i))
            if arr.dtype == object:
                return Outcome(Outcome.FAIL, "mpc-import accepted input '%s' of strings" % vi.name)
            shape = declared_shape(vi)
            if shape is not None and shape != arr.shape:
                return Outcome(Outcome.FAIL, "test data: %s input '%s' is %s but the model declares %s" % (
                    tag, vi.name, fmt_shape(arr.shape), fmt_shape(shape)))
            path = os.path.join(in_dir, "input_%d.npy" % i)
            arr = np.array(arr, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
            if arr.dtype.byteorder == ">":
                arr = arr.astype(arr.dtype.newbyteorder("<"))
            np.save(path, arr)
            feeds += ["--input", "%s=%s" % (vi.name, path)]
        runs.append((tag, ds, feeds, os.path.join(work, "out_" + tag.rsplit("_", 1)[-1])))
    for vo in graph.output:
        if value_kind(vo) != "tensor_type":
            return Outcome(Outcome.FAIL, "mpc-import accepted output '%s' of %s" % (vo.name, value_kind(vo)))

    runner = os.path.join(work, "runner")
    rc, err = run_tool([args.compiler, "--forward", mlir, "-o", runner], TIMEOUT_COMPILE)
    if rc != 0:
        return Outcome(Outcome.FAIL, describe_failure("mpc-compile", rc, err, TIMEOUT_COMPILE))
    if not os.path.isfile(runner):
        return Outcome(Outcome.FAIL, "mpc-compile exited 0 but wrote no runner")

    init = ["--init", weights] if os.path.isfile(weights) and safetensors_has_tensors(weights) else []
    for tag, ds, feeds, out_dir in runs:
        shutil.rmtree(out_dir, ignore_errors=True)
        rc, err = run_tool([runner] + feeds + init + ["--out", out_dir], TIMEOUT_RUN)
        where = "%s: " % tag if len(runs) > 1 else ""
        if rc != 0:
            return Outcome(Outcome.FAIL, where + describe_failure("runner", rc, err, TIMEOUT_RUN))
        results = glob.glob(os.path.join(out_dir, "result*.npy"))
        if len(results) != len(graph.output):
            return Outcome(Outcome.FAIL, "%srunner wrote %d results, the model has %d outputs" % (
                where, len(results), len(graph.output)))
        for i, vo in enumerate(graph.output):
            path = os.path.join(out_dir, "result%d.npy" % i)
            if not os.path.isfile(path):
                return Outcome(Outcome.FAIL, "%srunner wrote no result%d.npy" % (where, i))
            try:
                actual = np.load(path, allow_pickle=False)
            except (OSError, ValueError) as e:
                return Outcome(Outcome.FAIL, "%sresult%d.npy: NumPy cannot read it: %s" % (where, i, e))
            expected = load_tensor(os.path.join(ds, "output_%d.pb" % i))
            why = compare(expected, actual, vo.type.tensor_type.elem_type)
            if why:
                return Outcome(Outcome.FAIL, "%soutput %d '%s': %s" % (where, i, vo.name, why))
    return Outcome(Outcome.PASS)


def run_test_safely(name, test_dir, model, args):
    try:
        o = run_test(name, test_dir, model, args)
    except Exception as e:  # a bug here, or unreadable data: visible, not fatal to the run
        if args.verbose:
            traceback.print_exc()
        o = Outcome(Outcome.FAIL, "conformance.py: %s: %s" % (type(e).__name__, e))
    reason = known_reason(name)
    if reason:
        if o.kind == Outcome.FAIL:
            return Outcome(Outcome.KNOWN, "%s (%s)" % (reason, o.detail))
        if o.kind == Outcome.PASS:
            return Outcome(Outcome.FAIL, "listed as a known difference (%s) but passes: remove it" % reason)
    return o


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--import", dest="importer", required=True, metavar="MPC_IMPORT")
    ap.add_argument("--compile", dest="compiler", required=True, metavar="MPC_COMPILE")
    ap.add_argument("--work", required=True, metavar="WORKDIR", help="one subdirectory per test goes here")
    ap.add_argument("--data", default=DEFAULT_DATA, metavar="DIR", help="the node tests (default %(default)s)")
    ap.add_argument("-j", dest="jobs", type=int, default=2, metavar="N", help="tests in parallel (default 2)")
    ap.add_argument("-k", dest="filters", action="append", nargs="+", default=[], metavar="SUBSTRING",
                    help="only tests whose name contains one of these")
    ap.add_argument("--min-pass", type=int, default=0, metavar="N", help="fail unless at least N tests pass")
    ap.add_argument("--verbose", action="store_true", help="also list skipped tests and every missing op")
    args = ap.parse_args()
    filters = [s for group in args.filters for s in group]

    def setup_error(msg):
        print("conformance.py: error: " + msg, file=sys.stderr)
        return 2

    if not os.path.isdir(args.data):
        return setup_error("no test data at %s" % args.data)
    try:
        p = subprocess.run([args.importer, "--list-ops"], capture_output=True, text=True, timeout=TIMEOUT_IMPORT)
    except (OSError, subprocess.TimeoutExpired) as e:
        return setup_error("%s --list-ops: %s" % (args.importer, e))
    if p.returncode != 0:
        return setup_error("%s --list-ops exited %d: %s" % (args.importer, p.returncode, error_line(p.stderr)))
    supported = {l.strip() for l in p.stdout.splitlines() if l.strip()}
    os.makedirs(args.work, exist_ok=True)

    names = sorted(n for n in os.listdir(args.data) if os.path.isfile(os.path.join(args.data, n, "model.onnx")))
    if filters:
        names = [n for n in names if any(s in n for s in filters)]

    outcomes = {}
    missing_count = collections.Counter()  # op -> tests skipped for it
    jobs = []
    for name in names:
        test_dir = os.path.join(args.data, name)
        try:
            model = onnx.load(os.path.join(test_dir, "model.onnx"))
        except Exception as e:
            outcomes[name] = Outcome(Outcome.FAIL, "test data: onnx cannot load model.onnx: %s" % e)
            continue
        missing = missing_ops(model, supported)
        if missing:
            missing_count.update(missing)
            outcomes[name] = Outcome(Outcome.SKIP_OP, ", ".join(missing))
        else:
            jobs.append((name, test_dir, model))

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {name: pool.submit(run_test_safely, name, test_dir, model, args) for name, test_dir, model in jobs}
        # Report in name order, each line as soon as it and all before it are known.
        for name in names:
            if name in futures:
                outcomes[name] = futures[name].result()
            o = outcomes[name]
            if o.kind == Outcome.PASS:
                print("PASS", name, flush=True)
            elif o.kind == Outcome.FAIL:
                print("FAIL %s: %s" % (name, o.detail), flush=True)
            elif o.kind == Outcome.KNOWN:
                print("KNOWN %s: %s" % (name, o.detail), flush=True)
            elif args.verbose:
                what = "unsupported op" if o.kind == Outcome.SKIP_OP else "unsupported feature"
                print("SKIP %s: %s: %s" % (name, what, strip_location(o.detail)), flush=True)

    kinds = collections.Counter(o.kind for o in outcomes.values())
    n_pass, n_fail = kinds[Outcome.PASS], kinds[Outcome.FAIL]
    n_op, n_feature, n_known = kinds[Outcome.SKIP_OP], kinds[Outcome.SKIP_FEATURE], kinds[Outcome.KNOWN]

    if missing_count:
        ranked = sorted(missing_count.items(), key=lambda kv: (-kv[1], kv[0]))
        print("missing ops (tests skipped for each, %d ops in all): %s" % (
            len(ranked), ", ".join("%s %d" % kv for kv in ranked[:15])))
        if args.verbose:
            for op, n in ranked:
                print("  missing op %-40s %d" % (op, n))
    groups = collections.defaultdict(list)
    for name in names:
        if outcomes[name].kind == Outcome.SKIP_FEATURE:
            groups[feature_group(outcomes[name].detail)].append(name)
    if groups:
        print("unsupported features (tests skipped for each):")
        for msg, tests in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            print("  %4d  %s  [e.g. %s]" % (len(tests), msg, tests[0]))

    print("conformance: %d passed, %d failed, %d known differences, %d skipped (%d unsupported op, "
          "%d unsupported feature) of %d" % (n_pass, n_fail, n_known, n_op + n_feature, n_op, n_feature, len(names)),
          flush=True)
    status = 0
    if n_fail:
        status = 1
    if n_pass < args.min_pass:
        print("conformance: error: %d passed, fewer than --min-pass %d" % (n_pass, args.min_pass), file=sys.stderr)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
