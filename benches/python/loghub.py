"""What the Loghub benches share: where the data is, and the one seeded stratified split
(bench_classify and bench_trust score the same held-out lines)."""
import os
import random
from collections import defaultdict

LOGHUB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "loghub")


def split(rows, seed=0, test_share=0.2, ordered=True):
    """Stratified: per class, floor(20%) of its lines go to test (so singletons stay in train).

    Returns (train, test) indices into `rows`, ascending; with `ordered=False` class by class in
    shuffled order instead (the order bench_trust's figures were measured in: fold assignment,
    hence calibration, depends on it)."""
    rng = random.Random(seed)
    by = defaultdict(list)
    for i, (_, y) in enumerate(rows):
        by[y].append(i)
    train, test = [], []
    for y in sorted(by):
        idx = by[y][:]
        rng.shuffle(idx)
        k = int(len(idx) * test_share)
        test += idx[:k]
        train += idx[k:]
    if not ordered:
        return train, test
    return sorted(train), sorted(test)
