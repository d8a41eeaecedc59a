#!/usr/bin/env python3
"""Arrow batch calls vs the Rust core on the same lines and models, in one run:

  TextClassifier.predict      Arrow string array in   vs  list[str] in  vs  Rust `predict`
  Resolver.resolve_batch      Arrow in, Arrow table out  vs  list in, Resolution objects out
                              vs  Rust `resolve_batch`

The lines are the Spark example's corpus (examples/spark/corpus.py: Loghub lines with fresh
digits); the models are trained on its first lines and saved, the Rust side
(examples/arrow_baseline.rs) loads the same files. Best of 3 runs each (the machine is shared).
The goal: the binding adds at most 20% (Rust rate / Arrow rate <= 1.2).

Run: benches/python/run.sh arrow  (or directly: --lines N).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "examples", "spark"))
import corpus  # noqa: E402


def best(f, reps=3):
    t = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        t = min(t, time.perf_counter() - t0)
    return t


def main():
    import pyarrow as pa

    import faultlens

    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--train", type=int, default=5_000)
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-arrow"))
    ap.add_argument("--json")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    cols = corpus.generate(a.lines + a.train, seed=2)
    train_t, train_l = cols["text"][: a.train], cols["label"][: a.train]
    texts = cols["text"][a.train:]
    clf = faultlens.TextClassifier(model="logistic").fit(train_t, train_l)
    resolver = faultlens.Resolver()
    resolver.add_knowledge(train_t[: a.train // 2], train_l[: a.train // 2])
    resolver.set_classifier(clf)
    model, rmodel, lines = (os.path.join(a.work, n) for n in ("clf.flm", "resolver.flm", "lines.txt"))
    clf.save(model)
    resolver.save(rmodel)
    with open(lines, "w", encoding="utf-8") as f:
        f.write("\n".join(t.replace("\n", " ") for t in texts) + "\n")
    arrow = pa.array(texts)
    exe = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "examples",
                       "arrow_baseline")

    def rust(mode, path):
        out = subprocess.run([exe, mode, path, lines], check=True, capture_output=True, text=True).stdout
        return json.loads(out)["seconds"]

    n = len(texts)
    rows = {
        "predict: Arrow in": best(lambda: clf.predict(arrow)),
        "predict: list in": best(lambda: clf.predict(texts)),
        "predict: Rust core": rust("classify", model),
        "resolve_batch: Arrow in, table out": best(lambda: resolver.resolve_batch(arrow, output="table")),
        "resolve_batch: list in, objects out": best(lambda: resolver.resolve_batch(texts)),
        "resolve_batch: Rust core": rust("resolve", rmodel),
    }
    print(f"{n:,} lines, model {clf.model()}, {len(clf.classes_)} classes; best of 3")
    print(f"{'call':40s} {'lines/s':>12s} {'Rust / this':>12s}")
    for name, secs in rows.items():
        core = rows[name.split(":")[0] + ": Rust core"]
        print(f"{name:40s} {n / secs:12,.0f} {secs / core:11.2f}x")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({k: n / v for k, v in rows.items()}, f, indent=1)


if __name__ == "__main__":
    main()
