#!/usr/bin/env python3
"""Compares a trainer log's losses with a reference list, one loss a line.

    compare_losses.py LOG.csv REFERENCE.txt TOL

Prints the worst relative difference; exits 1 when it exceeds TOL or the
step counts differ.
"""
import csv
import sys

got = [float(r["loss"]) for r in csv.DictReader(open(sys.argv[1]))]
want = [float(line) for line in open(sys.argv[2]) if line.strip()]
tol = float(sys.argv[3])
if len(got) != len(want):
    sys.exit("compare_losses: %d steps in the log, %d in the reference" % (len(got), len(want)))
worst = max(abs(g - w) / abs(w) for g, w in zip(got, want))
print("%d steps, worst relative difference %.1e (tol %.0e) %s" % (len(got), worst, tol, "ok" if worst <= tol else "FAIL"))
sys.exit(0 if worst <= tol else 1)
