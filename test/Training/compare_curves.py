#!/usr/bin/env python3
"""Compares an mpc trainer's loss log with a reference loss curve made by
mlp_curves.py. Needs only NumPy.

    compare_curves.py REFERENCE.txt COLUMN LOG.csv --rtol R [--steps N]

REFERENCE.txt: '#' comment lines, then a header row naming the columns
(the first is 'step'), then one whitespace-separated row per step.
LOG.csv: header 'step,loss,loss_scale,skipped', one row per step, steps
counted from 1. The first N steps (default: all the log's steps) are
compared; every one must be in both files. Prints the worst relative
difference |loss - ref| / |ref| and its step, then 'ok' or 'FAIL: ...';
the exit status is 0 either way (FileCheck decides), and 1 with a one-line
message when a file or an argument is malformed.
"""
import argparse
import csv
import sys

import numpy as np


class Malformed(Exception):
    pass


def read_reference(path, column):
    header, rows = None, []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split()
            if header is None:
                header = fields
                if header[0] != "step":
                    raise Malformed(f"{path}:{n}: header must start with 'step'")
                if column not in header:
                    raise Malformed(f"{path}: no column '{column}' (has {', '.join(header[1:])})")
                continue
            if len(fields) != len(header):
                raise Malformed(f"{path}:{n}: {len(fields)} fields, header has {len(header)}")
            try:
                rows.append((int(fields[0]), float(fields[header.index(column)])))
            except ValueError:
                raise Malformed(f"{path}:{n}: not a number")
    if header is None or not rows:
        raise Malformed(f"{path}: no header or no rows")
    return check_steps(path, rows)


def read_log(path):
    rows = []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["step", "loss"]:
            raise Malformed(f"{path}: header must start with 'step,loss'")
        for n, fields in enumerate(reader, 2):
            if not fields:
                continue
            if len(fields) != len(header):
                raise Malformed(f"{path}:{n}: {len(fields)} fields, header has {len(header)}")
            try:
                rows.append((int(fields[0]), float(fields[1])))
            except ValueError:
                raise Malformed(f"{path}:{n}: not a number")
    if not rows:
        raise Malformed(f"{path}: no rows")
    return check_steps(path, rows)


def check_steps(path, rows):
    steps = [s for s, _ in rows]
    if steps != list(range(1, len(steps) + 1)):
        raise Malformed(f"{path}: steps must be 1, 2, 3, ... in order")
    return np.array([v for _, v in rows], dtype=np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reference")
    ap.add_argument("column")
    ap.add_argument("log")
    ap.add_argument("--rtol", type=float, required=True)
    ap.add_argument("--steps", type=int)
    args = ap.parse_args()
    try:
        ref = read_reference(args.reference, args.column)
        log = read_log(args.log)
        n = len(log) if args.steps is None else args.steps
        if n < 1:
            raise Malformed("--steps must be at least 1")
        if len(log) < n:
            raise Malformed(f"{args.log}: {len(log)} steps, {n} wanted")
        if len(ref) < n:
            raise Malformed(f"{args.reference}: {len(ref)} steps, {n} wanted")
    except (Malformed, OSError) as e:
        print(f"compare_curves.py: {e}", file=sys.stderr)
        sys.exit(1)
    ref, log = ref[:n], log[:n]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(log - ref) / np.abs(ref)
    rel = np.where(np.isnan(rel), np.inf, rel)  # a NaN loss is a failure
    worst = int(np.argmax(rel))
    print(f"steps {n}, worst relative difference {rel[worst]:.3g} at step {worst + 1} "
          f"(loss {log[worst]:.9g}, reference {ref[worst]:.9g})")
    bad = np.flatnonzero(~(rel <= args.rtol))
    if bad.size:
        print(f"FAIL: {bad.size} of {n} steps differ by more than rtol {args.rtol:g}, first at step {bad[0] + 1}")
    else:
        print("ok")


if __name__ == "__main__":
    main()
