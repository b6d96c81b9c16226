#!/usr/bin/env python3
"""Prints 'loss falls' when the mean loss of a trainer log's last 10 steps is
below FRACTION times the first step's loss, else 'FLAT ...'.

    falls.py LOG.csv FRACTION
"""
import csv
import math
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
losses = [float(r["loss"]) for r in rows]
first, last = losses[0], sum(losses[-10:]) / len(losses[-10:])
ok = math.isfinite(last) and last < float(sys.argv[2]) * first
print(("loss falls" if ok else "FLAT") + f": first {first:.6g}, mean of the last 10 {last:.6g}")
