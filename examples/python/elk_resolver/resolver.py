"""The ELK auto-resolver's cascade on faultlens: rules -> similar past errors -> classifier.

The planning document's four modules map onto one faultlens Resolver:
- enhanced_resolver.py (regex rules, then TF-IDF similarity, threshold 0.7): `load_rules` +
  `load_knowledge`; the similarity stage is calibrated, so 0.7 means "70% likely right";
- ml_classifier.py (NB / SVM / RF chosen by cross-validation, confidence threshold): a
  `TextClassifier(model="auto")`, evaluated on a held-out split and saved to one model file;
- integrated_resolver.py (thresholds 1.0 / 0.7 / 0.8, method preference): the Resolver's
  `exact_threshold` / `similarity_threshold` / `classifier_threshold`, plus the per-solution
  similarity thresholds of the `solutions` table (data/solutions.json);
- monitoring.py (mean/max prediction time, mean confidence, outcomes): `Resolver.summary()`,
  and `record_outcome` for the feedback the `similarity_matches` table stored.

Run:  python resolver.py [MODEL_DIR]   (trains into MODEL_DIR, default ./models, then resolves
the planning document's test errors and prints the summary)
"""

from __future__ import annotations

import functools
import json
import pathlib
import sys

import faultlens

DATA = pathlib.Path(__file__).resolve().parent / "data"
CLASSIFIER_FILE = "elk_error_classifier.flm"
RESOLVER_FILE = "elk_resolver.flm"

# integrated_resolver.py's `method_preference` values -> faultlens methods.
METHODS = {"auto": "auto", "rule_based": "rules", "similarity": "similarity", "ml_only": "classifier"}


def load_pairs() -> list[dict]:
    return [json.loads(line) for line in (DATA / "knowledge.jsonl").read_text().splitlines() if line.strip()]


@functools.lru_cache(maxsize=1)
def load_solutions() -> dict[str, dict]:
    return json.loads((DATA / "solutions.json").read_text())


def train_classifier(pairs: list[dict]) -> tuple[faultlens.TextClassifier, dict]:
    """ml_classifier.py: hold out one error per solution (a stratified split small enough for
    this data), let cross-validation choose the model, report accuracy on the held-out errors,
    then refit on everything."""
    held_out, train = [], []
    seen: set[str] = set()
    for p in pairs:
        (train if p["solution"] in seen else held_out).append(p)
        seen.add(p["solution"])
    clf = faultlens.TextClassifier(model="auto", cv_folds=3, seed=42)
    clf.fit([p["error"] for p in train], [p["solution"] for p in train])
    report = faultlens.evaluate(clf, [p["error"] for p in held_out], [p["solution"] for p in held_out])
    chosen = clf.model()
    final = faultlens.TextClassifier(model=chosen, seed=42)
    final.fit([p["error"] for p in pairs], [p["solution"] for p in pairs])
    return final, {"model": chosen, "held_out_accuracy": report["accuracy"], "held_out": len(held_out)}


def build(model_dir: pathlib.Path) -> tuple[faultlens.Resolver, dict]:
    """Trains the classifier, assembles the resolver and saves both into `model_dir`."""
    model_dir.mkdir(parents=True, exist_ok=True)
    pairs = load_pairs()
    clf, report = train_classifier(pairs)
    clf.save(str(model_dir / CLASSIFIER_FILE))
    solutions = load_solutions()
    resolver = faultlens.Resolver(
        exact_threshold=1.0,
        similarity_threshold=0.7,
        classifier_threshold=0.8,
        solution_thresholds=[
            {"solution": name, "threshold": s["similarity_threshold"]} for name, s in solutions.items()
        ],
    )
    resolver.load_rules(str(DATA / "rules.toml"))
    resolver.load_knowledge(str(DATA / "knowledge.jsonl"))
    resolver.load_classifier(str(model_dir / CLASSIFIER_FILE))
    resolver.save(str(model_dir / RESOLVER_FILE))
    return resolver, report


def load_or_build(model_dir: pathlib.Path) -> faultlens.Resolver:
    """The saved resolver (rules, knowledge, classifier, feedback) when there is one."""
    path = model_dir / RESOLVER_FILE
    if path.exists():
        return faultlens.Resolver.load(str(path))
    return build(model_dir)[0]


def answer(resolver: faultlens.Resolver, error_text: str, method_preference: str = "auto") -> dict:
    """integrated_resolver.py's result shape, from one Resolution. Raises KeyError for an
    unknown method preference."""
    r = resolver.resolve(error_text, METHODS[method_preference])
    solution = r.solution if r.reliable else None
    return {
        "error_text": error_text,
        "final_solution": solution,
        "command": load_solutions().get(solution, {}).get("command") if solution else None,
        "best_guess": r.solution,
        "confidence": r.confidence,
        "method_used": r.method,
        "reliable": r.reliable,
        "novel": r.novel,
        "rule": r.rule,
        "processing_time": r.elapsed_us / 1e6,
        "similar_errors": [{"id": s.id, "error": s.error, "solution": s.solution, "similarity": s.similarity} for s in r.similar],
        "predictions": [{"label": p.label, "probability": p.probability} for p in r.predictions],
    }


def main(argv: list[str]) -> int:
    model_dir = pathlib.Path(argv[1] if len(argv) > 1 else "models")
    resolver, report = build(model_dir)
    print(f"classifier: cross-validation chose {report['model']}, "
          f"accuracy {report['held_out_accuracy']:.2f} on {report['held_out']} held-out errors")
    print(f"resolver: {len(resolver.rules())} rules, {resolver.knowledge_size()} past errors, saved in {model_dir}/")

    # integrated_resolver.py's usage example.
    test_errors = [
        "elasticsearch connection refused port 9200",
        "kibana memory heap space error",
        "logstash pipeline configuration syntax error",
        "filebeat permission denied log access",
        "elasticsearch service connection timeout on port 9200",
        "unknown service timeout error",
    ]
    for error in test_errors:
        a = answer(resolver, error)
        verdict = a["final_solution"] or f"(none: best guess {a['best_guess']}, route to a person)"
        print(f"\nerror:      {error}\nsolution:   {verdict}\nconfidence: {a['confidence']:.3f}\n"
              f"method:     {a['method_used']}\ntime:       {a['processing_time'] * 1000:.2f} ms")

    # The operator reports back: the permissions fix worked, the network check did not.
    resolver.record_outcome("filebeat permission denied log access", "fix_permissions", True)
    resolver.record_outcome("unknown service timeout error", "check_network", False)
    s = resolver.summary()
    print(f"\nsummary: {s['total']} resolutions, {s['reliable']} reliable, mean {s['mean_latency_ms']:.2f} ms "
          f"(max {s['max_latency_ms']:.2f} ms), mean confidence {s['mean_confidence']:.2f}")
    for solution, c in sorted(s["by_solution"].items()):
        print(f"  {solution}: {c['success']} worked, {c['failure']} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
