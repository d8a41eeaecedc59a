#!/usr/bin/env python3
"""Trust protocol, side by side in one run: does a `reliable` answer hold when the data shifts?

Data: ../shared/data/loghub (8 systems; label = system:EventId). Per system:
  temporal      the first 50% of lines (file order) train the classifier and fill the knowledge
                base; the rest are resolved. Accuracy, ECE (10 bins), coverage (share marked
                reliable) and precision of the reliable answers, for the classifier alone and for
                the full resolver (knowledge base + classifier; no rules).
  cross-system  trained on system A (first half), asked about every line of each other system B:
                share marked reliable (every such answer is wrong).
  random        seeded stratified 80/20 split (loghub.split, the one bench_classify uses):
                accuracy and ECE (must not get worse).
Reliable = confidence >= 0.8 for classifiers (the resolver's classifier threshold); the resolver's
own `reliable` flag (similarity 0.7 / classifier 0.8, as probabilities of being right).
scikit-learn anchors: TfidfVectorizer(ngram_range=(1,3)) + LogisticRegression(C=10), and
CalibratedClassifierCV(LinearSVC(), cv=3) (classes with fewer than 3 lines repeated to 3 so the
folds can be made, see `_SingletonSafeSVC`), reliable at predict_proba max >= 0.8.

Usage: benches/python/run.sh trust   (or: python bench_trust.py [--systems A,B] [--json out])
"""
import argparse
import glob
import json
import os

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from loghub import LOGHUB, split

THRESHOLD = 0.8


def load(systems=None):
    data = {}
    for path in sorted(glob.glob(os.path.join(LOGHUB, "*.jsonl"))):
        rows = [json.loads(l) for l in open(path, encoding="utf-8")]
        name = rows[0]["system"]
        if systems and name not in systems:
            continue
        data[name] = [(r["text"], name + ":" + r["label"]) for r in rows]
    return data


def scores(conf, right, reliable):
    conf, right, reliable = np.asarray(conf, float), np.asarray(right, bool), np.asarray(reliable, bool)
    bins = np.minimum((conf * 10).astype(int), 9)
    ece = sum(abs(conf[bins == b].mean() - right[bins == b].mean()) * (bins == b).sum()
              for b in range(10) if (bins == b).any()) / len(conf)
    n_rel = int(reliable.sum())
    return {
        "accuracy": float(right.mean()),
        "ece": float(ece),
        "coverage": n_rel / len(conf),
        "precision": float(right[reliable].mean()) if n_rel else 1.0,
        "reliable_wrong": int((reliable & ~right).sum()),
    }


class Sk:
    """A scikit-learn pipeline as the resolver's classifier stage."""

    def __init__(self, name, make):
        self.name, self.make = name, make

    def fit(self, texts, labels):
        self.model = self.make(labels).fit(texts, labels)
        return self

    def answer(self, texts):
        p = self.model.predict_proba(texts)
        best = p.argmax(1)
        conf = p[np.arange(len(texts)), best]
        return [self.model.classes_[b] for b in best], conf, conf >= THRESHOLD


def lr(_labels):
    return make_pipeline(TfidfVectorizer(ngram_range=(1, 3)), LogisticRegression(C=10, max_iter=1000))


def svc(_labels):
    return make_pipeline(TfidfVectorizer(ngram_range=(1, 3)), _SingletonSafeSVC())


class _SingletonSafeSVC(CalibratedClassifierCV):
    """CalibratedClassifierCV(LinearSVC(), cv=3) with each class's lines repeated until it has
    three (scikit-learn refuses folds missing a class; Loghub has classes of one line)."""

    def __init__(self):
        super().__init__(LinearSVC(), cv=3)

    def fit(self, X, y):
        from scipy.sparse import vstack

        y = np.asarray(y)
        vals, counts = np.unique(y, return_counts=True)
        extra = [i for v, c in zip(vals, counts) if c < 3 for i in np.flatnonzero(y == v).tolist() * (3 - c)]
        if extra:
            X = vstack([X, X[extra]])
            y = np.concatenate([y, y[extra]])
        return super().fit(X, y)


class Fl:
    """faultlens: the classifier alone, and the resolver (knowledge base + classifier)."""

    name = "faultlens"

    def fit(self, texts, labels):
        import faultlens

        self.clf = faultlens.TextClassifier().fit(texts, labels)
        self.res = faultlens.Resolver()
        self.res.add_knowledge(texts, labels)
        self.res.set_classifier(self.clf)
        return self

    def answer(self, texts):
        preds = [self.clf.predict_one(t) for t in texts]
        conf = np.array([p["confidence"] for p in preds])
        return [p["label"] for p in preds], conf, conf >= THRESHOLD

    def resolve(self, texts):
        rs = self.res.resolve_batch(texts)
        return [r.solution for r in rs], np.array([r.confidence for r in rs]), np.array([r.reliable for r in rs])


def run(data, models):
    out = {"temporal": {}, "cross": {}, "random": {}}
    fitted = {}
    print("== temporal split: first half trains, second half resolved")
    print(f"{'system':10} {'model':18} {'acc':>6} {'ECE':>6} {'cover':>6} {'prec':>7} {'wrong':>6}")
    for name, rows in data.items():
        h = len(rows) // 2
        tx, ty = [t for t, _ in rows[:h]], [y for _, y in rows[:h]]
        qx, qy = [t for t, _ in rows[h:]], [y for _, y in rows[h:]]
        for mk in models:
            m = mk().fit(tx, ty)
            fitted[(name, m.name)] = m
            kinds = [("classifier", m.answer)] + ([("resolver", m.resolve)] if hasattr(m, "resolve") else [])
            for kind, fn in kinds:
                labels, conf, rel = fn(qx)
                s = scores(conf, [a == b for a, b in zip(labels, qy)], rel)
                label = f"{m.name} {kind}" if hasattr(m, "resolve") else m.name
                out["temporal"].setdefault(name, {})[label] = s
                print(f"{name:10} {label:18} {s['accuracy']:6.3f} {s['ece']:6.3f} {s['coverage']:6.3f} "
                      f"{s['precision']:7.4f} {s['reliable_wrong']:6d}")
    print("== cross-system: share of another system's lines marked reliable (worst pair, mean)")
    for label in sorted({k for v in out["temporal"].values() for k in v}):
        shares = []
        for a in data:
            for b, rows in data.items():
                if a == b:
                    continue
                mname = label.split(" ")[0]
                m = fitted[(a, mname)]
                fn = m.resolve if label.endswith("resolver") else m.answer
                _, _, rel = fn([t for t, _ in rows])
                shares.append((float(np.mean(rel)), a, b))
        worst = max(shares)
        out["cross"][label] = {"worst": worst[0], "worst_pair": f"{worst[1]}->{worst[2]}",
                               "mean": float(np.mean([s for s, _, _ in shares]))}
        print(f"{label:22} worst {worst[0]:.4f} ({worst[1]} -> {worst[2]}), mean {np.mean([s for s, _, _ in shares]):.4f}")
    print("== random stratified 80/20 split (seed 0)")
    for name, rows in data.items():
        tr_idx, te_idx = split(rows, ordered=False)
        tr, te = [rows[i] for i in tr_idx], [rows[i] for i in te_idx]
        tx, ty = [t for t, _ in tr], [y for _, y in tr]
        qx, qy = [t for t, _ in te], [y for _, y in te]
        for mk in models:
            m = mk().fit(tx, ty)
            labels, conf, rel = m.answer(qx)
            s = scores(conf, [a == b for a, b in zip(labels, qy)], rel)
            out["random"].setdefault(name, {})[m.name] = s
            print(f"{name:10} {m.name:18} acc {s['accuracy']:.3f} ECE {s['ece']:.3f} cover {s['coverage']:.3f} prec {s['precision']:.4f}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--systems")
    ap.add_argument("--json")
    ap.add_argument("--only", help="comma list of: faultlens,sklearn-lr,sklearn-svc")
    a = ap.parse_args()
    data = load(a.systems.split(",") if a.systems else None)
    models = {"faultlens": Fl,
              "sklearn-lr": lambda: Sk("sklearn-lr", lr),
              "sklearn-svc": lambda: Sk("sklearn-svc", svc)}
    chosen = [models[k] for k in (a.only.split(",") if a.only else models)]
    out = run(data, chosen)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
