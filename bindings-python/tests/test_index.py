"""SimilarityIndex / TextIndex from Python: numpy in, tuples out, errors, files, pickling, GIL."""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest

import faultlens
from faultlens import SimilarityIndex, TextIndex


def unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_add_and_search_float32_batch_and_single():
    x = unit_rows(500, 16, 1)
    idx = SimilarityIndex(dim=16, exact_below=100)
    idx.add(np.arange(500, dtype=np.uint64), x, payloads=[f"p{i}" for i in range(500)])
    assert len(idx) == 500 and idx.len() == 500 and 7 in idx
    batch = idx.search(x[:5], k=3)
    assert [row[0][0] for row in batch] == [0, 1, 2, 3, 4]
    one = idx.search(x[3], k=2)
    hid, score, payload = one[0]
    assert (hid, payload) == (3, "p3") and score == pytest.approx(1.0, abs=1e-5)
    # Exact search agrees with numpy.
    q = unit_rows(1, 16, 2)[0]
    hits = idx.search(q, k=5, exact=True)
    truth = np.argsort(-(x @ q))[:5]
    assert [h[0] for h in hits] == truth.tolist()


def test_other_dtypes_and_layouts_are_converted():
    x = unit_rows(50, 8, 3)
    idx = SimilarityIndex(dim=8, metric="l2")
    idx.add(list(range(50)), x.astype(np.float64).tolist())
    strided = np.asfortranarray(x[:4])
    assert [r[0][0] for r in idx.search(strided, k=1)] == [0, 1, 2, 3]
    assert idx.search(x[0], k=1)[0][1] == pytest.approx(0.0, abs=1e-6)


def test_threshold_filter_range_remove_get():
    idx = SimilarityIndex(dim=2)
    idx.add([1, 2, 3], np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32),
            payloads=['{"team":"db"}', '{"team":"web"}', None])
    assert [h[0] for h in idx.search([1.0, 0.0], k=10, threshold=0.9)] == [1, 2]
    f = {"type": "payload", "field": "team", "value": "web"}
    assert [h[0] for h in idx.search([1.0, 0.0], k=10, filter=f)] == [2]
    assert [h[0] for h in idx.search([1.0, 0.0], k=10, filter={"type": "ids", "ids": [3]})] == [3]
    assert [h[0] for h in idx.range_search([1.0, 0.0], 0.5)] == [1, 2]
    vec, payload = idx.get(1)
    assert vec.dtype == np.float32 and payload == '{"team":"db"}'
    idx.remove([1])
    assert idx.get(1) is None and 1 not in idx
    assert [h[0] for h in idx.search([1.0, 0.0], k=10)] == [2, 3]
    idx.compact()
    assert idx.n_vectors() == 2 and sorted(idx.ids()) == [2, 3]


def test_errors_are_typed_and_leave_the_index_usable():
    idx = SimilarityIndex(dim=3)
    idx.add([1], np.ones((1, 3), dtype=np.float32))
    with pytest.raises(faultlens.DimensionError):
        idx.add([2], np.ones((1, 4), dtype=np.float32))
    with pytest.raises(faultlens.InvalidInputError, match="non-finite"):
        idx.add([2], np.array([[1, np.nan, 0]], dtype=np.float32))
    with pytest.raises(faultlens.InvalidInputError, match="non-zero"):
        idx.add([2], np.zeros((1, 3), dtype=np.float32))
    with pytest.raises(faultlens.InvalidInputError, match="already"):
        idx.add([1], np.ones((1, 3), dtype=np.float32))
    with pytest.raises(faultlens.InvalidInputError, match="k must be"):
        idx.search(np.ones(3, dtype=np.float32), k=0)
    with pytest.raises(faultlens.InvalidInputError, match="not in the index"):
        idx.remove([99])
    with pytest.raises(faultlens.InvalidInputError, match="filter"):
        idx.search(np.ones(3, dtype=np.float32), filter={"type": "nope"})
    with pytest.raises(faultlens.InvalidConfigError, match="dim"):
        SimilarityIndex(dim=0)
    with pytest.raises(faultlens.InvalidConfigError, match="metric"):
        SimilarityIndex(dim=3, metric="hamming")
    with pytest.raises(faultlens.CorruptError):
        SimilarityIndex.from_bytes(idx.to_bytes()[:-2])
    assert len(idx) == 1
    assert len(idx.search(np.ones(3, dtype=np.float32), k=100)) == 1


def test_max_items_caps_adds_with_a_clear_error():
    idx = SimilarityIndex(dim=3, max_items=2)
    assert idx.config()["max_items"] == 2
    idx.add([1], np.array([[1, 0, 0]], dtype=np.float32))
    with pytest.raises(faultlens.InvalidInputError, match="max_items = 2"):
        idx.add([2, 3], np.eye(3, dtype=np.float32)[1:])
    assert len(idx) == 1  # all or nothing
    idx.add([2], np.array([[0, 1, 0]], dtype=np.float32))
    back = SimilarityIndex.from_bytes(idx.to_bytes())
    with pytest.raises(faultlens.InvalidInputError, match="max_items"):
        back.add([3], np.array([[0, 0, 1]], dtype=np.float32))
    with pytest.raises(faultlens.InvalidConfigError, match="max_items"):
        SimilarityIndex(dim=3, max_items=0)
    assert SimilarityIndex(dim=3).config().get("max_items") is None


def test_save_load_and_pickle(tmp_path):
    x = unit_rows(300, 8, 4)
    idx = SimilarityIndex(dim=8, exact_below=50)
    idx.add(range(300), x)
    path = tmp_path / "idx.flm"
    idx.save(path)
    assert faultlens.inspect(path)["kind"] == "similarity_index"
    for back in (SimilarityIndex.load(path), pickle.loads(pickle.dumps(idx))):
        assert len(back) == 300
        assert back.search(x[:10], k=5, exact=True) == idx.search(x[:10], k=5, exact=True)
    assert idx.config()["dim"] == 8


def test_search_releases_the_gil():
    x = unit_rows(3000, 64, 5)
    idx = SimilarityIndex(dim=64, exact_below=10**9)
    idx.add(range(3000), x)
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(1)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        for _ in range(3):
            idx.search(x[:400], k=10, exact=True)
    finally:
        done.set()
        t.join()
    assert len(ticks) > 10


def test_text_index():
    idx = TextIndex()
    ids = idx.add(
        ["Connection refused to 10.0.0.7:5432", "Disk quota exceeded for /var/lib/postgres"],
        payloads=["restart db", "clean disk"],
    )
    assert ids == [0, 1]
    (hid, score, text, payload), = idx.search("connection refused to 10.1.1.1:80", k=1)
    assert (hid, payload) == (0, "restart db") and score > 0.99
    assert text == "Connection refused to 10.0.0.7:5432"
    assert idx.search_batch(["disk quota exceeded", "zzz"], k=1, threshold=0.5)[1] == []
    e = idx.embed(["disk quota"])
    assert e.shape == (1, idx.config()["embedding"]["dim"]) and e.dtype == np.float32
    back = pickle.loads(pickle.dumps(idx))
    assert back.get(1) == ("Disk quota exceeded for /var/lib/postgres", "clean disk")
    ext = TextIndex(embedding={"type": "external", "dim": 3})
    ext.add_embedded(["a", "b"], np.eye(3, dtype=np.float32)[:2])
    assert ext.search_embedded(np.array([0.1, 0.9, 0], dtype=np.float32), k=1)[0][2] == "b"
    with pytest.raises(faultlens.DimensionError):
        ext.add_embedded(["c"], np.ones((1, 4), dtype=np.float32))
    with pytest.raises(faultlens.InvalidInputError):
        ext.add(["c"])


def test_string_keys_filters_and_target_recall():
    x = unit_rows(6, 8, 31)
    idx = SimilarityIndex(dim=8)
    idx.add([1, 2], x[:2])
    idx.add(["inc-2041", "결제-타임아웃"], x[2:4], payloads=['{"svc": "pay", "ms": 120}', None])
    hits = idx.search(x[2], k=1)
    assert hits[0][0] == "inc-2041" and hits[0][2] == '{"svc": "pay", "ms": 120}'
    assert idx.search(x[0], k=1)[0][0] == 1
    assert "inc-2041" in idx and idx.contains(1) and not idx.contains("nope")
    assert idx.get("결제-타임아웃")[1] is None
    assert sorted(idx.keys()) == ["inc-2041", "결제-타임아웃"]
    with pytest.raises(faultlens.InvalidInputError, match="twice"):
        idx.add(["a", "a"], x[:2])
    with pytest.raises(faultlens.InvalidInputError, match="not a mix"):
        idx.add([3, "b"], x[:2])
    f = {"type": "and", "filters": [{"type": "payload_in", "field": "svc", "values": ["pay", "db"]},
                                    {"type": "range", "field": "ms", "gte": 100}]}
    assert [h[0] for h in idx.search(x[0], k=10, filter=f)] == ["inc-2041"]
    assert [h[0] for h in idx.search(x[0], k=10, filter={"type": "keys", "keys": ["결제-타임아웃"]})] == ["결제-타임아웃"]
    with pytest.raises(faultlens.InvalidInputError, match="at least one"):
        idx.search(x[0], filter={"type": "range", "field": "ms"})
    back = pickle.loads(pickle.dumps(idx))
    assert back.search(x[3], k=1)[0][0] == "결제-타임아웃"
    idx.remove(["inc-2041"])
    assert "inc-2041" not in idx and len(idx) == 3
    # Below exact_below the search is exact; the tuning knobs report it.
    assert idx.estimated_recall() == 1.0 and idx.effective_ef() == 0
    assert SimilarityIndex(dim=8, target_recall=None).config()["target_recall"] is None
    with pytest.raises(faultlens.InvalidConfigError, match="target_recall"):
        SimilarityIndex(dim=8, target_recall=0)


def test_hybrid_text_index():
    texts = ["payment service timeout", "database connection refused", "disk full on node 3"]
    emb = unit_rows(3, 4, 41)
    t = TextIndex(embedding={"type": "hybrid", "embedding_dim": 4})
    assert t.add_hybrid(texts, emb, payloads=["retry", "restart db", None]) == [0, 1, 2]
    rows = t.search_hybrid(["payment timeout", "disk full"], emb[[0, 2]], k=2)
    assert rows[0][0][0] == 0 and rows[0][0][2] == texts[0] and rows[0][0][3] == "retry"
    assert rows[1][0][0] == 2
    w = t.search_hybrid(["payment timeout"], emb[:1], k=1, fusion={"type": "weighted", "text_weight": 0.3})
    assert w[0][0][0] == 0
    with pytest.raises(faultlens.InvalidInputError, match="text_weight"):
        t.search_hybrid(["x"], emb[:1], fusion={"type": "weighted", "text_weight": 3})
    with pytest.raises(faultlens.InvalidInputError, match="add_hybrid"):
        t.add(["x"])
    assert t.search_embedded(emb[1], k=1)[0][0] == 1
    assert pickle.loads(pickle.dumps(t)).search_hybrid(["disk full"], emb[2:3], k=1)[0][0][0] == 2
