"""An error auto-resolver as an ELK operator would write it with faultlens.

Loads exact rules (TOML) and a knowledge base of past error -> remedy pairs (JSONL), trains the
classifier on the same pairs, resolves a few new errors through the cascade (rules -> similar
past errors -> classifier), flags the ones unlike anything known, records feedback and prints the
answers and the Prometheus metrics.

Run (after `pip install ./bindings-python`):  python examples/python/resolver.py
"""
import json
import pathlib
import sys

import faultlens

DATA = pathlib.Path(__file__).resolve().parent.parent / "data"


def main() -> int:
    pairs = [json.loads(line) for line in (DATA / "errors.jsonl").read_text().splitlines() if line.strip()]
    errors = [p["error"] for p in pairs]
    remedies = [p["solution"] for p in pairs]

    classifier = faultlens.TextClassifier()
    classifier.fit(errors, remedies)

    resolver = faultlens.Resolver(similarity_threshold=0.7, classifier_threshold=0.8)
    resolver.load_rules(str(DATA / "rules.toml"))
    added = resolver.load_knowledge(str(DATA / "errors.jsonl"))
    resolver.set_classifier(classifier)
    print(f"faultlens {faultlens.version()}: {len(resolver.rules())} rules, {added} known errors, "
          f"classifier over {len(classifier.classes_)} remedies")

    incoming = [
        "Container checkout-5f9c2 was OOMKilled (exit code 137), memory limit 512Mi",
        "[billing] db pool exhausted: 99/50 connections in use, waited 3s",
        "dial tcp: lookup payments.internal on 10.0.0.2:53: no such host",
        "java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"name\" is null",
        "the flux capacitor hummed an unfamiliar tune",
    ]
    for text, r in zip(incoming, resolver.resolve_batch(incoming)):
        # Not reliable: the resolver abstains (the solution is only its best guess); novel: the
        # error is unlike anything known, a case for a person rather than an automatic remedy.
        mark = "" if r.reliable else "  (novel: route to a person)" if r.novel else "  (unreliable)"
        print(f"\n{text[:90]}\n  -> {r.solution} via {r.method}, confidence {r.confidence:.2f}, "
              f"{r.elapsed_us} us{mark}")
        for s in r.similar[:2]:
            print(f"     similar {s.similarity:.2f}: {s.error[:70]} -> {s.solution}")

    # The operator confirms the second answer worked: it joins the knowledge base.
    second = resolver.resolve(incoming[1])
    resolver.record_outcome(incoming[1], second.solution, True)

    print("\n# /metrics excerpt")
    for line in resolver.metrics_prometheus().splitlines():
        if line.startswith(("faultlens_resolutions_total", "faultlens_novel_inputs_total",
                            "faultlens_outcomes_total{method=\"similarity")):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
