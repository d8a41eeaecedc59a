"""Is a KL detector's add_batch speed a property of the detector (its memory layout) or of the
moment (this shared VM's speed)? Times add_batch on 1 M seeded Beta(8, 2) scores (CPU time,
M updates/s) for 40 new detectors, then times the 4 slowest and the 3 fastest again, in
interleaved rounds, beside a fixed pure-Python loop as the machine's own speed. See
docs/benchmarks.md (Drift detection, goal status).
Usage: python benches/python/kl_layout.py  (a venv with numpy and faultlens)."""
import time

import numpy as np

import faultlens

baseline = np.random.default_rng(20261201).beta(8, 2, 20_000)
free = np.random.default_rng(7).beta(8, 2, 1_000_000)
small = free[:100_000].tolist()


def rate(d) -> float:
    t = time.process_time()
    d.add_batch(free, 0.0)
    return 1.0 / (time.process_time() - t)


def python_loop() -> float:
    """M iterations/s of a plain Python loop: the machine's speed at this moment."""
    t = time.process_time()
    s = 0.0
    for x in small:
        s += x * 0.5
    return 0.1 / (time.process_time() - t)


made = []
for _ in range(40):
    d = faultlens.KlDriftDetector.from_baseline(baseline)
    made.append((rate(d), python_loop(), d))
print("40 new detectors, each timed once (KL M/s, python loop M/s):")
print("  " + " ".join(f"{r:.0f}/{p:.0f}" for r, p, _ in made))
made.sort(key=lambda t: t[0])
picked = made[:4] + made[-3:]
again = [[] for _ in picked]
for _ in range(5):
    for i, (_, _, d) in enumerate(picked):
        again[i].append(rate(d))
print("the 4 slowest and the 3 fastest, timed again (median of 5 interleaved rounds):")
for (r, p, _), rs in zip(picked, again):
    print(f"  first {r:4.0f} (python loop {p:4.1f}) -> again {np.median(rs):4.0f}")
