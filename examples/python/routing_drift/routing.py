"""A routing model and its concept-drift baseline, saved together (the Routing ML v4 plan).

The service predicts a process routing for each item description and watches the model's
confidence for concept drift. The plan's drift detector needed a separate `validation_scores.npy`
next to the model ("no file, no drift detection"); here the baseline is the classifier's own
held-out confidences, stored in its model file (`TextClassifier.baseline_confidences()`), and the
detector built from it is saved beside the model so a restart keeps its window and events.

Run:  python routing.py [MODEL_DIR]   (trains into MODEL_DIR/active, default ./models)
"""

from __future__ import annotations

import pathlib
import random
import sys

import faultlens

MODEL_FILE = "model.flm"
DRIFT_FILE = "drift.flm"

# Item families the factory makes, the routing each one takes, and words that describe them.
FAMILIES = {
    "CNC_LATHE>GRINDING>INSPECTION": (["shaft", "pin", "spindle", "axle"], ["turning", "od grind", "chamfer", "keyway"]),
    "LASER_CUT>BENDING>WELDING>PAINT": (["bracket", "cover", "panel", "frame"], ["sheet", "bend 90", "weld seam", "powder coat"]),
    "MILLING>DRILLING>DEBURR>INSPECTION": (["housing", "block", "manifold", "base"], ["pocket", "tapped hole", "face mill", "bore"]),
    "FORGING>CNC_LATHE>HEAT_TREAT>INSPECTION": (["flange", "hub", "gear blank", "coupling"], ["forged", "quench", "temper", "hardness"]),
}
MATERIALS = ["SUS304", "SS400", "S45C", "AL6061", "SCM440"]
# A product line the model never saw: its items get low, spread-out confidences.
NEW_LINE = (["pcb carrier", "sensor mount", "cable clip", "lens holder"], ["injection mold", "ultrasonic weld", "insert nut", "abs resin"])


def make_items(n: int, seed: int, new_line: bool = False) -> tuple[list[str], list[str]]:
    """`n` item descriptions and their routings (fixed `seed`); `new_line` draws the unseen family
    (routing "UNKNOWN")."""
    rng = random.Random(seed)
    texts, routings = [], []
    for _ in range(n):
        if new_line:
            routing, (shapes, ops) = "UNKNOWN", NEW_LINE
        else:
            routing = rng.choice(sorted(FAMILIES))
            shapes, ops = FAMILIES[routing]
        words = [rng.choice(MATERIALS), rng.choice(shapes), *rng.sample(ops, 2), f"{rng.randint(10, 400)}mm"]
        rng.shuffle(words)
        texts.append(" ".join(words))
        routings.append(routing)
    return texts, routings


def train(model_dir: pathlib.Path) -> dict:
    """backend/cli/train_model.py: fit, then save the model and its drift baseline together."""
    active = model_dir / "active"
    active.mkdir(parents=True, exist_ok=True)
    # The held-out fifth of the items is the drift baseline: at least one window (1000 scores),
    # or the reference would be noisier than the windows compared with it.
    texts, routings = make_items(5000, seed=1)
    clf = faultlens.TextClassifier(model="logistic", holdout=0.2, seed=0).fit(texts, routings)
    clf.save(str(active / MODEL_FILE))
    detector = initialize_baseline_from_model(active)
    detector.save(str(active / DRIFT_FILE))
    return {"items": len(texts), "routings": len(clf.classes()), "baseline_scores": len(clf.baseline_confidences())}


def initialize_baseline_from_model(active: pathlib.Path) -> faultlens.KlDriftDetector:
    """A fresh detector whose baseline is the model's held-out confidences: window 1000 as in
    the plan, thresholds calibrated from the baseline (the plan's fixed 0.3 / 0.5 / 1.0 would be
    `threshold_mode="fixed"`), retrain after 5 drift events in 7 days or one severe event."""
    clf = faultlens.TextClassifier.load(str(active / MODEL_FILE))
    return faultlens.KlDriftDetector.from_baseline(
        clf.baseline_confidences(), window=1000, retrain_drifts=5, retrain_days=7)


def main(argv: list[str]) -> int:
    model_dir = pathlib.Path(argv[1] if len(argv) > 1 else "models")
    info = train(model_dir)
    d = faultlens.KlDriftDetector.load(str(model_dir / "active" / DRIFT_FILE))
    t = d.thresholds()
    print(f"trained on {info['items']} items, {info['routings']} routings; drift baseline: "
          f"{info['baseline_scores']} held-out confidences; KL thresholds watch {t['watch']:.3f}, "
          f"drift {t['drift']:.3f}, severe {t['severe']:.3f}; saved in {model_dir / 'active'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
