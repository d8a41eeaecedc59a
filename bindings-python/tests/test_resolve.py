"""faultlens.Resolver: the cascade over the bundled example rules and knowledge base, feedback,
metrics parsed by prometheus_client's real parser, round trips, pickling and bad input."""

from __future__ import annotations

import pickle
import threading

import pytest

import faultlens
from conftest import NOV_FOREIGN, NOV_LABELS, NOV_TEXTS, NOV_VARIANT, REPO_ROOT

DATA = REPO_ROOT / "examples" / "data"


@pytest.fixture()
def resolver() -> faultlens.Resolver:
    r = faultlens.Resolver(similarity_threshold=0.7, top_k=2)
    assert r.load_rules(DATA / "rules.toml") == len(r.rules())
    added = r.load_knowledge(str(DATA / "errors.jsonl"))
    assert added == r.knowledge_size() > 100
    return r


def test_rules_answer_first(resolver):
    res = resolver.resolve("Container api-1 was OOMKilled (exit code 137)")
    assert (res.method, res.solution, res.rule) == ("exact_match", "increase_memory_limit", "oom-killed")
    assert res.confidence == 1.0 and res.reliable
    assert isinstance(res.elapsed_us, int)
    assert res.to_dict()["method"] == "exact_match"


def test_similarity_and_candidates(resolver):
    res = resolver.resolve(
        "Container billing-7ccf2 was OOMKilled (exit code 137), memory limit 2048Mi", method="similarity"
    )
    assert res.method == "similarity_match"
    assert res.solution == "increase_memory_limit"
    # confidence is the probability that the answer is right (calibrated on the knowledge base),
    # not the cosine: a near-copy of a known error is almost surely right; the cosine stays in
    # `similarity`.
    assert 0.9 < res.confidence <= 1.0 and res.reliable and not res.novel
    assert 1 <= len(res.similar) <= 2
    best = res.similar[0]
    assert isinstance(best, faultlens.SimilarError)
    assert best.similarity > 0.9 and res.novelty == pytest.approx(1.0 - best.similarity)
    assert res.similar == sorted(res.similar, key=lambda s: -s.similarity) or len(res.similar) == 1


def test_no_match_is_unreliable(resolver):
    res = resolver.resolve("zzqx flux capacitor hums")
    assert res.method == "no_match" and res.solution is None and not res.reliable
    assert repr(res) == ("Resolution(solution=None, confidence=0.000, method='no_match', reliable=False, "
                         "novelty=1.000, novel=True)")


def test_reprs_read_as_python(resolver):
    res = resolver.resolve(
        "Container billing-7ccf2 was OOMKilled (exit code 137), memory limit 2048Mi", method="similarity"
    )
    r = repr(res)
    assert r.startswith("Resolution(solution='increase_memory_limit', ") and "reliable=True" in r, r
    assert "Some(" not in r and "true" not in r and "false" not in r
    best = res.similar[0]
    # A str shows as Python writes it (single quotes, Python escapes), so eval gives it back.
    assert repr(best).startswith(f"SimilarError(id={best.id}, similarity=")
    assert repr(best).endswith(f"solution={best.solution!r})")
    t = faultlens.Preprocessor().template("user \"x\" said \u00e9")
    assert repr(t) == f"Template(masked={t.masked!r}, id={t.id!r})"


def test_batch_equals_single_calls(resolver):
    texts = ["disk quota exceeded on /var", "x509: certificate has expired", "zzqx", "ThrottlingException: Rate exceeded"]
    batch = resolver.resolve_batch(texts)
    single = [resolver.resolve(t) for t in texts]
    assert [(b.method, b.solution, b.confidence) for b in batch] == [(s.method, s.solution, s.confidence) for s in single]


def test_feedback_joins_knowledge_and_counts(resolver):
    text = "zorblat frobnicated wibblewobble quux"
    assert resolver.resolve(text, method="similarity").method == "no_match"
    before = resolver.knowledge_size()
    resolver.record_outcome(text, "restart_ledger", True)
    assert resolver.knowledge_size() == before + 1
    again = resolver.resolve(text, method="similarity")
    # The learned pair is now a copy of the text (cosine 1) and answers reliably.
    assert again.solution == "restart_ledger" and again.reliable
    assert again.similar[0].similarity == pytest.approx(1.0)
    out = resolver.outcomes()
    assert out[-1]["solution"] == "restart_ledger" and out[-1]["success"] is True
    resolver.record_outcome("Container x was OOMKilled", "increase_memory_limit", False)
    assert resolver.metrics()["total"] >= 2


def test_metrics_parse_with_prometheus_client(resolver):
    from prometheus_client.parser import text_string_to_metric_families

    resolver.resolve("no space left on device")
    resolver.resolve("zzqx")
    resolver.record_outcome("no space left on device", "expand_disk", True)
    with pytest.raises(faultlens.InvalidInputError):
        resolver.resolve("")
    families = {f.name: f for f in text_string_to_metric_families(resolver.metrics_prometheus())}
    by_method = {s.labels["method"]: s.value for s in families["faultlens_resolutions"].samples
                 if s.name == "faultlens_resolutions_total"}
    assert by_method["exact_match"] == 1 and by_method["no_match"] == 1
    assert families["faultlens_resolve_latency_seconds"].type == "histogram"
    errors = [s.value for s in families["faultlens_resolve_errors"].samples if s.name.endswith("_total")]
    assert errors == [1]
    outcomes = [s for s in families["faultlens_outcomes"].samples
                if s.labels.get("method") == "exact_match" and s.labels.get("result") == "success"]
    assert outcomes and outcomes[0].value == 1
    resolver.reset_metrics()
    assert resolver.metrics()["total"] == 0


def test_round_trips_and_pickle(resolver, tmp_path):
    text = "ThrottlingException: Rate exceeded (Request ID: 123)"
    want = resolver.resolve(text).to_dict()
    path = tmp_path / "resolver.flm"
    resolver.save(path)
    assert faultlens.inspect(path)["kind"] == "resolver"
    for other in (faultlens.Resolver.load(path), faultlens.Resolver.from_bytes(resolver.to_bytes()),
                  pickle.loads(pickle.dumps(resolver))):
        got = other.resolve(text).to_dict()
        assert (got["solution"], got["method"], got["confidence"]) == (want["solution"], want["method"], want["confidence"])
    assert faultlens.Resolver(**resolver.config()).config() == resolver.config()


def test_set_rules_and_bad_input(tmp_path):
    r = faultlens.Resolver()
    assert r.set_rules([{"pattern": "refused", "solution": "restart"}]) == 1
    assert r.resolve("Connection REFUSED").solution == "restart"
    with pytest.raises(faultlens.InvalidInputError, match="broken"):
        r.set_rules([{"name": "broken", "pattern": "(", "solution": "x"}])
    assert r.resolve("connection refused").solution == "restart"  # old rules kept
    bad = tmp_path / "kb.jsonl"
    bad.write_text('{"error": "database connection refused", "solution": "restart_db"}\nnot json\n')
    with pytest.raises(faultlens.InvalidInputError, match="line 2"):
        r.load_knowledge(bad)
    assert r.load_knowledge(bad, skip_invalid=True) == 1
    with pytest.raises(faultlens.InvalidInputError, match="psychic"):
        r.resolve("x", method="psychic")
    with pytest.raises(faultlens.InvalidInputError):
        r.resolve("x" * (10 * 1024 * 1024))
    with pytest.raises(faultlens.InvalidInputError, match="no classifier"):
        r.resolve("x", method="classifier")
    with pytest.raises(faultlens.InvalidConfigError, match="similarity_threshold"):
        faultlens.Resolver(similarity_threshold=1.5)
    with pytest.raises(faultlens.InvalidConfigError):
        faultlens.Resolver(no_such_option=1)
    assert r.resolve("connection refused").solution == "restart"


def test_threads_resolve_while_learning(resolver):
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(50):
                resolver.resolve(f"Container c{i}-{j} was OOMKilled")
                resolver.resolve_batch([f"disk quota exceeded {j}", "zzqx"])
                if i == 0:
                    resolver.record_outcome(f"novel failure mode {j} in shard {i}", "page_oncall", True)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert resolver.metrics()["total"] == 4 * 50 * 3


def test_classifier_stage(resolver, tmp_path):
    import json

    pairs = [json.loads(l) for l in (DATA / "errors.jsonl").read_text().splitlines() if l.strip()]
    clf = faultlens.TextClassifier().fit([p["error"] for p in pairs], [p["solution"] for p in pairs])
    with pytest.raises(faultlens.NotFittedError):
        resolver.set_classifier(faultlens.TextClassifier())
    resolver.set_classifier(clf)
    text = "Pod api-7f was OOMKilled (exit code 137)"
    res = resolver.resolve(text, method="classifier")
    assert res.method == "ml_prediction" and res.solution == "increase_memory_limit"
    assert res.predictions[0].label == res.solution
    assert res.predictions[0].probability == pytest.approx(res.confidence)
    assert res.similar == []
    # The classifier travels with the resolver file, and loads from its own file.
    path = tmp_path / "resolver.flm"
    resolver.save(path)
    again = faultlens.Resolver.load(path).resolve(text, method="classifier")
    assert again.confidence == pytest.approx(res.confidence)
    clf.save(tmp_path / "clf.flm")
    other = faultlens.Resolver()
    other.load_classifier(tmp_path / "clf.flm")
    assert other.resolve(text).method == "ml_prediction"


KB_ERRORS = [
    "connection refused to postgres on port 5432",
    "disk quota exceeded on /var/lib/data",
    "certificate has expired for api.example.com",
    "worker timed out waiting for lock on table orders",
]
KB_SOLUTIONS = ["restart_db", "free_disk", "renew_cert", "kill_lock"]


def test_a_text_index_as_the_knowledge():
    import numpy as np

    idx = faultlens.TextIndex()
    idx.add(KB_ERRORS, payloads=KB_SOLUTIONS)
    r = faultlens.Resolver()
    r.set_knowledge_index(idx)
    assert r.knowledge_size() == 4 and not r.knowledge_is_embedded()
    res = r.resolve("connection refused to postgres on port 6543")
    assert (res.method, res.solution) == ("similarity_match", "restart_db")
    assert res.similar[0].error == KB_ERRORS[0]
    r.add_knowledge(["queue consumer lag above limit"], ["scale_consumers"])
    assert (r.knowledge_size(), len(idx)) == (5, 4)  # the resolver holds a copy
    back = faultlens.Resolver.from_bytes(r.to_bytes())
    assert back.resolve("queue consumer lag above limit").solution == "scale_consumers"

    # Your own embeddings (sentence-transformers, an embedding endpoint): dim checked.
    ext = faultlens.TextIndex(embedding={"type": "external", "dim": 3})
    vecs = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], dtype=np.float32)
    ext.add_embedded(KB_ERRORS, vecs, payloads=KB_SOLUTIONS)
    r.set_knowledge_index(ext)
    assert r.knowledge_is_embedded()
    res = r.resolve_embedded("anything", np.array([0, 0.1, 0.99], dtype=np.float32))
    assert (res.method, res.solution) == ("similarity_match", "renew_cert")
    with pytest.raises(faultlens.InvalidInputError, match="resolve_embedded"):
        r.resolve("anything")
    with pytest.raises(faultlens.DimensionError):
        r.resolve_embedded("x", np.ones(2, dtype=np.float32))
    assert r.add_knowledge_embedded(["new"], ["fix_new"], np.array([[0, -1, 0]], dtype=np.float32)) == 5
    batch = r.resolve_batch_embedded(["a", "b"], np.array([[0, -1, 0], [1, 0, 0]], dtype=np.float32))
    assert [b.solution for b in batch] == ["fix_new", "restart_db"]
    assert faultlens.Resolver.from_bytes(r.to_bytes()).knowledge_is_embedded()


def test_novel_inputs_abstain_and_are_counted():
    from prometheus_client.parser import text_string_to_metric_families

    r = faultlens.Resolver(novelty_threshold=0.5)
    r.add_knowledge(NOV_TEXTS, NOV_LABELS)
    r.set_classifier(faultlens.TextClassifier().fit(NOV_TEXTS, NOV_LABELS))
    known = r.resolve(NOV_TEXTS[4])
    assert (known.solution, known.reliable, known.novel) == ("expand_disk", True, False)
    res = r.resolve(NOV_FOREIGN)
    assert (res.reliable, res.novel) == (False, True)
    assert res.confidence < 0.5 and 0.5 < res.novelty <= 1.0
    assert (res.to_dict()["novel"], res.to_dict()["novelty"]) == (True, res.novelty)
    assert "novel=True" in repr(res)
    m = r.metrics()
    assert (m["novel"], m["unreliable"], m["total"]) == (1, 1, 2)
    families = {f.name: f for f in text_string_to_metric_families(r.metrics_prometheus())}
    assert [s.value for s in families["faultlens_novel_inputs"].samples] == [1]
    assert "\nfaultlens_novel_inputs_total 1\n" in r.metrics_prometheus()
    assert r.config()["novelty_threshold"] == 0.5
    with pytest.raises(faultlens.InvalidConfigError, match="novelty_threshold"):
        faultlens.Resolver(novelty_threshold=1.5)


def test_feedback_names_the_matched_error_and_a_failure_lowers_confidence():
    r = faultlens.Resolver()
    r.add_knowledge(NOV_TEXTS, NOV_LABELS)
    text = NOV_VARIANT
    before = r.resolve(text, method="similarity")
    assert (before.method, before.solution) == ("similarity_match", "expand_disk")
    r.record_outcome(text, before.solution, False)
    out = r.outcomes()[-1]
    assert (out["method"], out["matched_id"]) == ("similarity_match", before.similar[0].id)
    assert out["similarity"] == pytest.approx(before.similar[0].similarity)
    after = r.resolve(text, method="similarity")
    assert after.solution == before.solution
    assert after.confidence < before.confidence
    # An answer from another stage names no past error.
    r.set_rules([{"pattern": "kafka", "solution": "restart_broker"}])
    assert r.resolve(NOV_FOREIGN).method == "exact_match"
    r.record_outcome(NOV_FOREIGN, "restart_broker", True)
    last = r.outcomes()[-1]
    assert (last["method"], last["matched_id"], last["similarity"]) == ("exact_match", None, None)


def test_summary_per_solution_thresholds_and_outcome_rule(resolver):
    oom = "Container api-1 was OOMKilled (exit code 137)"
    assert resolver.resolve(oom).rule == "oom-killed"
    resolver.record_outcome(oom, "increase_memory_limit", True)
    resolver.record_outcome(oom, "increase_memory_limit", False)
    assert resolver.outcomes()[-1]["rule"] == "oom-killed"
    s = resolver.summary()
    assert s["by_solution"]["increase_memory_limit"] == {"success": 1, "failure": 1, "success_rate": 0.5}
    assert s["by_stage"]["exact_match"]["resolutions"] == 1
    assert s["max_latency_ms"] >= s["mean_latency_ms"] * 0.999 > 0
    # A risky remedy can demand more certainty than its stage: the rule now abstains.
    strict = faultlens.Resolver(solution_thresholds=[{"solution": "increase_memory_limit", "threshold": 1.0}],
                                exact_threshold=0.5)
    assert strict.config()["solution_thresholds"][0]["threshold"] == 1.0
    with pytest.raises(faultlens.InvalidConfigError, match="solution_thresholds"):
        faultlens.Resolver(solution_thresholds=[{"solution": "x", "threshold": 2}])
    # An empty resolver learns from its first success.
    empty = faultlens.Resolver()
    empty.record_outcome("disk quota exceeded on /home", "clean_home", True)
    assert empty.knowledge_size() == 1
    assert empty.resolve("disk quota exceeded on /home").solution == "clean_home"
