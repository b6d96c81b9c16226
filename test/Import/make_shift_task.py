#!/usr/bin/env python3
"""Writes a next-token task for the imported tiny GPT: random ids [64, 8]
over 32 tokens and targets that are the ids shifted by one (the last wraps).

    make_shift_task.py DIR     (writes DIR/ids.npy, DIR/targets.npy)
"""
import os
import sys

import numpy as np

rng = np.random.default_rng(0)
ids = rng.integers(0, 32, size=(64, 8)).astype(np.int64)
np.save(os.path.join(sys.argv[1], "ids.npy"), ids)
np.save(os.path.join(sys.argv[1], "targets.npy"), np.roll(ids, -1, axis=1))
