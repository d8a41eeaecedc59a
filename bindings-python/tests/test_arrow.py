"""Arrow in, Arrow out: every batch entry point takes Arrow columns (pyarrow, polars) as well as
lists, with the same results; nulls, binary/non-UTF-8 values, empty batches, chunked arrays and
wrong column types are clear errors naming the column; nothing is lost across batch boundaries."""

from __future__ import annotations

import random

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (scripts/test.sh installs it)")
pl = pytest.importorskip("polars", reason="polars is not installed (scripts/test.sh installs it)")

import faultlens  # noqa: E402
from faultlens import InvalidConfigError, InvalidInputError  # noqa: E402

TRAIN = [
    ("disk quota exceeded on /var", "expand_disk"), ("no space left on device /data", "expand_disk"),
    ("disk full on /home while writing", "expand_disk"), ("write failed: no space left on /tmp", "expand_disk"),
    ("connection refused to 10.0.0.7:5432", "restart_db"), ("connection reset by peer 10.0.0.9", "restart_db"),
    ("database connection pool exhausted", "restart_db"), ("could not connect to postgres at 10.0.0.8", "restart_db"),
    ("x509: certificate has expired", "renew_cert"), ("tls certificate verify failed: expired", "renew_cert"),
    ("ssl handshake failed: certificate expired", "renew_cert"), ("certificate for api.example.com expired", "renew_cert"),
]
TEXTS = [t for t, _ in TRAIN]
LABELS = [l for _, l in TRAIN]
QUERIES = ["disk quota exceeded on /srv", "connection refused to 10.1.1.1:5432", "certificate expired yesterday",
           "unrelated banana message", "no space left on device /mnt"]


def text_inputs(texts):
    """The same texts as every Arrow shape the binding accepts."""
    return {
        "list": list(texts),
        "pa_array": pa.array(texts),
        "pa_large": pa.array(texts, type=pa.large_string()),
        "pa_view": pa.array(texts, type=pa.string_view()),
        "pa_binary": pa.array([t.encode() for t in texts], type=pa.binary()),
        "pa_chunked": pa.chunked_array([texts[:2], texts[2:3], [], texts[3:]], type=pa.string()),
        "pa_dictionary": pa.array(texts).dictionary_encode(),
        "pa_table": pa.table({"text": texts}),
        "pa_record_batch": pa.record_batch({"text": pa.array(texts)}),
        "pl_series": pl.Series("text", texts),
        "pl_frame": pl.DataFrame({"text": texts}),
    }


@pytest.fixture(scope="module")
def clf():
    return faultlens.TextClassifier(model="logistic").fit(TEXTS, LABELS)


@pytest.fixture(scope="module")
def resolver():
    r = faultlens.Resolver()
    r.add_knowledge(TEXTS, LABELS)
    return r


@pytest.mark.parametrize("shape", list(text_inputs(QUERIES)))
def test_every_text_entry_point_takes_every_arrow_shape(shape, clf, resolver):
    given = text_inputs(QUERIES)[shape]
    pre = faultlens.Preprocessor()
    assert pre.process_batch(given) == pre.process_batch(QUERIES)
    assert [t.id for t in pre.template_batch(given)] == [t.id for t in pre.template_batch(QUERIES)]
    vec = faultlens.TfidfVectorizer().fit(TEXTS)
    assert (vec.transform(given) != vec.transform(QUERIES)).nnz == 0
    assert list(clf.predict(given)) == list(clf.predict(QUERIES))
    np.testing.assert_array_equal(clf.predict_proba(given), clf.predict_proba(QUERIES))
    want = [r.to_dict() for r in resolver.resolve_batch(QUERIES)]
    got = [r.to_dict() for r in resolver.resolve_batch(given)]
    for w, g in zip(want, got):
        w.pop("elapsed_us"), g.pop("elapsed_us")
    assert got == want
    index = faultlens.TextIndex()
    index.add(TEXTS)
    assert index.search_batch(given, k=2) == index.search_batch(QUERIES, k=2)


def test_fit_and_score_take_arrow_too():
    a = faultlens.TextClassifier(model="naive_bayes").fit(pa.array(TEXTS), pa.array(LABELS))
    b = faultlens.TextClassifier(model="naive_bayes").fit(TEXTS, LABELS)
    np.testing.assert_array_equal(a.predict_proba(QUERIES), b.predict_proba(QUERIES))
    assert a.score(pl.Series(TEXTS), pl.Series(LABELS)) == b.score(TEXTS, LABELS)


def test_resolve_batch_arrow_output(resolver):
    objects = resolver.resolve_batch(QUERIES)
    table = resolver.resolve_batch(pa.array(QUERIES), output="table")
    batch = resolver.resolve_batch(QUERIES, output="record_batch")
    assert isinstance(table, pa.Table) and isinstance(batch, pa.RecordBatch)
    assert table.column_names == ["solution", "method", "confidence", "reliable", "novelty", "novel"]
    assert table.schema.field("solution").type == pa.string()
    assert table.num_rows == len(QUERIES) == batch.num_rows
    assert table.column("solution").to_pylist() == [r.solution for r in objects]
    assert table.column("method").to_pylist() == [r.method for r in objects]
    assert table.column("confidence").to_pylist() == [r.confidence for r in objects]
    assert table.column("reliable").to_pylist() == [r.reliable for r in objects]
    assert batch.to_pydict() == table.to_pydict()
    empty = resolver.resolve_batch(pa.array([], type=pa.string()), output="table")
    assert empty.num_rows == 0 and empty.column_names == table.column_names
    with pytest.raises(InvalidConfigError, match="output"):
        resolver.resolve_batch(QUERIES, output="arrowz")


@pytest.mark.parametrize("bad, message", [
    (pa.array(["a", None, "c"]), r"column `texts` has a null at row 1"),
    (pa.chunked_array([["a", "b"], ["c", None]]), r"null at row 3"),
    (pa.array([b"ok", b"\xff\xfe"], type=pa.binary()), r"column `texts` row 1 is not valid UTF-8"),
    (pa.array([1, 2, 3]), r"column `texts` must hold strings .* got Int64"),
    (pa.table({"msg": [1, 2]}), r"column `msg` must hold strings"),
    (pa.table({"a": ["x"], "b": ["y"]}), r"`texts` has 2 columns \(a, b\)"),
    (pl.Series("body", [1.5, 2.5]), r"column `body` must hold strings .* got Float64"),
])
def test_bad_text_columns_are_clear_errors(bad, message, resolver):
    with pytest.raises(InvalidInputError, match=message):
        faultlens.Preprocessor().process_batch(bad)
    with pytest.raises(InvalidInputError, match=message.replace("`texts`", "`[a-z_]+`")):
        resolver.resolve_batch(bad)


def test_classifier_errors_name_the_argument(clf):
    with pytest.raises(InvalidInputError, match=r"column `X` has a null at row 0"):
        clf.predict(pa.array([None, "x"], type=pa.string()))
    with pytest.raises(InvalidInputError, match=r"column `raw_documents` must hold strings"):
        faultlens.TfidfVectorizer().fit(TEXTS).transform(pa.array([1.0]))


def test_empty_text_batches(clf, resolver):
    empty = pa.array([], type=pa.string())
    assert faultlens.Preprocessor().process_batch(empty) == []
    assert resolver.resolve_batch(empty) == []
    assert clf.predict_proba(empty).shape == (0, 3)
    assert faultlens.Preprocessor().process_batch(pa.chunked_array([], type=pa.string())) == []


# ---- drift: float64 Arrow arrays --------------------------------------------------------------

def test_drift_batch_calls_take_float64_arrow():
    rng = np.random.default_rng(7)
    ref, cur = rng.normal(0, 1, 2000), rng.normal(0.5, 1, 2000)
    want = faultlens.ks_2samp(ref, cur)
    for a, b in [(pa.array(ref), pa.array(cur)), (pl.Series(ref), pl.Series(cur)),
                 (pa.chunked_array([ref[:700], ref[700:]]), pa.chunked_array([cur[:5], cur[5:]]))]:
        assert faultlens.ks_2samp(a, b) == want
    scores = rng.uniform(0, 1, 3000)
    d1, d2 = faultlens.KlDriftDetector(), faultlens.KlDriftDetector()
    d1.set_baseline(scores[:1000])
    d2.set_baseline(pa.array(scores[:1000]))
    b1 = d1.add_batch(scores[1000:])
    b2 = d2.add_batch(pa.chunked_array([scores[1000:2000], scores[2000:]]))
    assert {k: v for k, v in b1.items() if k != "drift_starts"} == {k: v for k, v in b2.items() if k != "drift_starts"}
    np.testing.assert_array_equal(b1["drift_starts"], b2["drift_starts"])
    a1, a2 = faultlens.Adwin(), faultlens.Adwin()
    np.testing.assert_equal(a1.update_many(scores), a2.update_many(pa.array(scores)))


@pytest.mark.parametrize("bad, message", [
    (pa.array([1.0, None]), r"column `values` has a null at row 1"),
    (pa.array([1, 2], type=pa.int64()), r"column `values` must be float64, got Int64"),
    (pa.array(["a"]), r"must be float64"),
])
def test_drift_bad_arrow_columns(bad, message):
    with pytest.raises(InvalidInputError, match=message):
        faultlens.ks_2samp(bad, [1.0, 2.0])
    with pytest.raises(InvalidInputError, match=message):
        faultlens.Adwin().update_many(bad)


# ---- WindowAggregator.push_arrow --------------------------------------------------------------

def make_events(n, seed=3, late_every=97):
    """Events over a few keys with some out-of-order and late ones (fixed seed)."""
    rnd = random.Random(seed)
    rows, t = [], 1_000_000
    for i in range(n):
        t += rnd.randint(0, 40)
        ts = t - 120_000 if i % late_every == 0 and i else t  # far behind the watermark: late
        svc = f"svc{rnd.randint(0, 3)}"
        rows.append((ts, svc, f"/r{rnd.randint(0, 2)}", rnd.choice(["500", "503"]), f"boom {i}", f"tr{i}"))
    return rows


def as_table(rows, **types):
    cols = list(zip(*rows)) if rows else [[]] * 6
    names = ["timestamp_ms", "service", "route", "error_code", "message", "trace_id"]
    return pa.table({n: pa.array(list(c), type=types.get(n, pa.int64() if n == "timestamp_ms" else pa.string()))
                     for n, c in zip(names, cols)})


CONFIG = dict(window_ms=60_000, threshold=20, allowed_lateness_ms=10_000)


def dict_result(out):
    return {"incidents": out["incidents"], "late": out["late"], "rejected": out["rejected"]}


def test_push_arrow_equals_push_batch_across_batch_boundaries():
    rows = make_events(6000)
    ref = faultlens.WindowAggregator(**CONFIG)
    want = ref.push_batch(rows)
    want_stats = ref.stats()
    want_final = ref.flush()
    assert want["incidents"] and want["late"]
    table = as_table(rows)
    # One table of many chunks (batch boundaries inside one call) ...
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=777))
    w = faultlens.WindowAggregator(**CONFIG)
    out = w.push_arrow(chunked)
    got = out["incidents"].to_pylist()
    assert [i["id"] for i in got] == [i["id"] for i in want["incidents"]]
    assert [i["count"] for i in got] == [i["count"] for i in want["incidents"]]
    assert [(i["service"], i["route"], i["error_code"]) for i in got] == \
        [(i["key"]["service"], i["key"]["route"], i["key"]["error_code"]) for i in want["incidents"]]
    assert out["late"].column("row").to_pylist() == want["late"]
    assert out["late"].column("timestamp_ms").to_pylist() == [rows[i][0] for i in want["late"]]
    assert out["rejected"].num_rows == 0
    assert [i["id"] for i in w.flush()["incidents"]] == [i["id"] for i in want_final["incidents"]]
    # ... and many calls (boundaries between calls): the same incidents, nothing lost or doubled.
    w2 = faultlens.WindowAggregator(**CONFIG)
    ids, late = [], []
    for start in range(0, len(rows), 1000):
        o = w2.push_arrow(table.slice(start, 1000))
        ids += o["incidents"].column("id").to_pylist()
        late += [start + r for r in o["late"].column("row").to_pylist()]
    assert ids == [i["id"] for i in want["incidents"]] and late == want["late"]
    assert w2.stats() == want_stats


def test_push_arrow_takes_polars_views_dictionaries_binary_and_renamed_columns():
    rows = make_events(1500)
    want = faultlens.WindowAggregator(**CONFIG).push_batch(rows)
    variants = [
        pl.from_arrow(as_table(rows)),  # polars exports strings as string_view
        as_table(rows, service=pa.large_string(), route=pa.binary()),
        as_table(rows).set_column(1, "service", as_table(rows).column("service").dictionary_encode()),
        as_table(rows).rename_columns(["ts", "svc", "route", "error_code", "message", "trace_id"]),
    ]
    for i, v in enumerate(variants):
        cols = {"timestamp_ms": "ts", "service": "svc"} if i == 3 else None
        out = faultlens.WindowAggregator(**CONFIG).push_arrow(v, columns=cols)
        assert out["incidents"].column("id").to_pylist() == [x["id"] for x in want["incidents"]], i
        assert out["late"].column("row").to_pylist() == want["late"], i


def test_push_arrow_message_and_trace_columns_are_optional_and_nulls_read_as_absent():
    rows = make_events(300)
    t = as_table(rows).select(["timestamp_ms", "service", "route", "error_code"])
    w = faultlens.WindowAggregator(**CONFIG)
    assert w.push_arrow(t)["late"].num_rows == len(faultlens.WindowAggregator(**CONFIG).push_batch(
        [r[:4] for r in rows])["late"])
    # A null in a non-key field is fine; in a key field it is the core's clear error.
    w = faultlens.WindowAggregator(**CONFIG, key_fields=["service"])
    ok = pa.table({"timestamp_ms": [1, 2], "service": ["a", "b"], "route": [None, "x"]})
    assert w.push_arrow(ok)["incidents"].num_rows == 0
    with pytest.raises(InvalidInputError, match="service"):
        w.push_arrow(pa.table({"timestamp_ms": [3, 4], "service": ["a", None]}))
    assert w.stats()["events"] == 2  # the refused batch left nothing behind


def test_push_arrow_key_null_after_other_nulls_names_its_row():
    # A non-key column's null comes first; the error is the key column's first null, in any
    # chunk and through a dictionary, and nothing of the call is pushed.
    w = faultlens.WindowAggregator(**CONFIG, key_fields=["service", "route"])
    first = pa.table({"timestamp_ms": [1, 2, 3], "service": ["a", "a", "a"], "route": ["r", "r", "r"],
                      "error_code": [None, "c", None]})
    svc = pa.array(["a", "a", None, "a"]).dictionary_encode()
    second = pa.table({"timestamp_ms": [4, 5, 6, 7], "service": svc, "route": ["r", None, "r", "r"],
                       "error_code": ["c", "c", "c", "c"]})
    both = pa.Table.from_batches(first.to_batches() + pa.table(
        {k: second.column(k).cast(pa.string()) for k in second.column_names}
        | {"timestamp_ms": second.column("timestamp_ms")}).select(first.column_names).to_batches())
    with pytest.raises(InvalidInputError, match=r"event 4 has no `route`"):
        w.push_arrow(both)
    with pytest.raises(InvalidInputError, match=r"event 1 has no `route`"):
        w.push_arrow(second)
    assert w.stats()["events"] == 0
    with pytest.raises(InvalidInputError, match=r"event 2 has no `service`"):
        w.push_arrow(second.set_column(2, "route", pa.array(["r"] * 4)))
    assert w.stats()["events"] == 0


def test_push_arrow_errors_name_the_column():
    w = faultlens.WindowAggregator(**CONFIG)
    cases = [
        (pa.table({"ts": [1], "service": ["a"], "route": ["r"], "error_code": ["c"]}), r"no timestamp column `timestamp_ms`"),
        (pa.table({"timestamp_ms": [1.5], "service": ["a"], "route": ["r"], "error_code": ["c"]}), r"column `timestamp_ms` must be int64"),
        (pa.table({"timestamp_ms": pa.array([1, None]), "service": ["a", "a"], "route": ["r", "r"], "error_code": ["c", "c"]}), r"column `timestamp_ms` has a null at row 1"),
        (pa.table({"timestamp_ms": [1], "service": [7], "route": ["r"], "error_code": ["c"]}), r"column `service` must hold strings, got Int64"),
        (pa.table({"timestamp_ms": [1], "service": pa.array([b"\xff"], pa.binary()), "route": ["r"], "error_code": ["c"]}), r"column `service` row 0 is not valid UTF-8"),
    ]
    for table, message in cases:
        with pytest.raises(InvalidInputError, match=message):
            w.push_arrow(table)
    # A bad row in a later chunk: nothing of the earlier chunks was pushed either.
    good = as_table(make_events(100))
    bad = pa.table({"timestamp_ms": pa.array([9_000_000, None]), "service": ["a", "a"], "route": ["r", "r"],
                    "error_code": ["c", "c"], "message": ["m", "m"], "trace_id": ["t", "t"]})
    with pytest.raises(InvalidInputError, match=r"null at row 101"):
        w.push_arrow(pa.concat_tables([good, bad]))
    assert w.stats()["events"] == 0
    with pytest.raises(InvalidInputError, match="push_batch"):
        w.push_arrow([(1, "a", "r", "c")])
    with pytest.raises(InvalidInputError, match="not an event field"):
        w.push_arrow(good, columns={"severity": "x"})


def test_push_arrow_empty_batches():
    w = faultlens.WindowAggregator(**CONFIG)
    out = w.push_arrow(as_table([]))
    assert out["incidents"].num_rows == 0 and out["late"].num_rows == 0
    assert out["incidents"].column_names[:4] == ["id", "service", "route", "error_code"]
    assert out["late"].column_names[0] == "row"
    assert w.push_arrow(pa.Table.from_batches([], schema=as_table([]).schema))["late"].num_rows == 0
    assert w.stats()["events"] == 0


def test_push_arrow_from_parquet(tmp_path):
    import pyarrow.parquet as pq

    rows = make_events(2000)
    pq.write_table(as_table(rows), tmp_path / "e.parquet", row_group_size=300)
    out = faultlens.WindowAggregator(**CONFIG).push_arrow(pq.read_table(tmp_path / "e.parquet"))
    want = faultlens.WindowAggregator(**CONFIG).push_batch(rows)
    assert out["incidents"].column("id").to_pylist() == [i["id"] for i in want["incidents"]]
