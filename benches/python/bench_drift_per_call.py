"""One call per score, through Python: faultlens KlDriftDetector.add, Adwin.update and
PageHinkley.update against river's ADWIN and PageHinkley (update, then drift_detected), on the
same 200,000 seeded Beta(8, 2) scores, in one run. Millions of calls per second of CPU time,
median of 3 interleaved rounds. The Python call itself dominates here; feed arrays
(add_batch / update_many, benches/python/bench_drift.py) where scores come in batches.
Usage: python benches/python/bench_drift_per_call.py  (a venv with numpy, river and faultlens)."""
import time

import numpy as np
from river import drift as rdrift

import faultlens

baseline = np.random.default_rng(20261201).beta(8, 2, 20_000)
xs = np.random.default_rng(7).beta(8, 2, 200_000).tolist()


def run(make, step) -> float:
    d = make()
    t = time.process_time()
    for x in xs:
        step(d, x)
    return len(xs) / (time.process_time() - t) / 1e6


CASES = {
    "faultlens KlDriftDetector.add": (lambda: faultlens.KlDriftDetector.from_baseline(baseline), lambda d, x: d.add(x, 0.0)),
    "faultlens Adwin.update": (faultlens.Adwin, lambda d, x: d.update(x)),
    "faultlens PageHinkley.update": (faultlens.PageHinkley, lambda d, x: d.update(x)),
    "river ADWIN.update": (rdrift.ADWIN, lambda d, x: (d.update(x), d.drift_detected)),
    "river PageHinkley.update": (rdrift.PageHinkley, lambda d, x: (d.update(x), d.drift_detected)),
}
rates = {name: [] for name in CASES}
for _ in range(3):
    for name, (make, step) in CASES.items():
        rates[name].append(run(make, step))
med = {name: float(np.median(r)) for name, r in rates.items()}
for name, r in med.items():
    print(f"{name}: {r:.2f} M calls/s")
print(f"KlDriftDetector.add vs river ADWIN: {med['faultlens KlDriftDetector.add'] / med['river ADWIN.update']:.1f}x")
print(f"Adwin.update vs river ADWIN: {med['faultlens Adwin.update'] / med['river ADWIN.update']:.1f}x")
print(f"PageHinkley.update vs river PageHinkley: {med['faultlens PageHinkley.update'] / med['river PageHinkley.update']:.1f}x")
