"""How a KL detector's add_batch speed depends on the detector (its memory layout), not on the
run: times add_batch on 1 M seeded Beta(8, 2) scores (CPU time, M updates/s) for detectors made
three ways. See docs/benchmarks.md (Drift detection, goal status).
Usage: python benches/python/kl_layout.py  (a venv with numpy and faultlens)."""
import time

import numpy as np

import faultlens

baseline = np.random.default_rng(20261201).beta(8, 2, 20_000)
free = np.random.default_rng(7).beta(8, 2, 1_000_000)


def rate(d) -> float:
    t = time.process_time()
    d.add_batch(free, 0.0)
    return 1.0 / (time.process_time() - t)


def show(what: str, rates: list[float]) -> None:
    print(f"{what}: " + " ".join(f"{r:.0f}" for r in rates))


show("a new detector each time (from_baseline)",
     [rate(faultlens.KlDriftDetector.from_baseline(baseline)) for _ in range(20)])
made = [faultlens.KlDriftDetector.from_baseline(baseline) for _ in range(8)]
show("eight made first, then timed in turn", [rate(d) for d in made])
blob = made[0].to_bytes()
show("a new detector each time (from_bytes)",
     [rate(faultlens.KlDriftDetector.from_bytes(blob)) for _ in range(20)])
