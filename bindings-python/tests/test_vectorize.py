"""TfidfVectorizer: scikit-learn parity on shared fixtures, conversions, config mapping, errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from faultlens import (
    InvalidConfigError,
    InvalidInputError,
    NotFittedError,
    Preprocessor,
    TfidfVectorizer,
)

from conftest import FIXTURES, load_json

SKLEARN = load_json(FIXTURES / "tfidf_sklearn.json")


@pytest.mark.parametrize("case", SKLEARN["cases"], ids=[c["name"] for c in SKLEARN["cases"]])
def test_matches_scikit_learn_on_token_lists(case):
    docs = SKLEARN["docs"]
    v = TfidfVectorizer(preprocessor=None, **case["options"])
    x = v.fit_transform(docs)
    assert v.feature_names() == case["feature_names"]
    want = scipy.sparse.csr_matrix(
        (case["data"], case["indices"], case["indptr"]), shape=tuple(case["shape"])
    ).toarray()
    assert x.shape == tuple(case["shape"])
    np.testing.assert_allclose(x.toarray(), want, rtol=0, atol=1e-6)
    if case["idf"] is not None:
        np.testing.assert_allclose(v.idf(), case["idf"], rtol=0, atol=1e-6)
    # The same through fit_tokens/transform_tokens and through whitespace-joined raw texts.
    v2 = TfidfVectorizer(preprocessor=None, **case["options"]).fit_tokens(docs)
    np.testing.assert_allclose(v2.transform_tokens(docs).toarray(), want, rtol=0, atol=1e-6)
    v3 = TfidfVectorizer(preprocessor=None, **case["options"]).fit([" ".join(d) for d in docs])
    assert v3.feature_names() == case["feature_names"]


def test_output_types():
    v = TfidfVectorizer(ngram_range=(1, 2))
    x = v.fit_transform(["disk full on /dev/sda1", "disk quota exceeded", "disk full again"])
    assert isinstance(x, scipy.sparse.csr_matrix)
    assert x.dtype == np.float64
    assert x.shape == (3, v.n_features())
    assert x.has_sorted_indices
    np.testing.assert_allclose(np.linalg.norm(x.toarray(), axis=1), 1.0)
    idf = v.idf()
    assert isinstance(idf, np.ndarray) and idf.dtype == np.float64 and idf.shape == (v.n_features(),)
    names = v.feature_names()
    assert isinstance(names, list) and names == sorted(names)
    assert v.vocabulary() == {n: i for i, n in enumerate(names)}
    assert isinstance(v.n_features(), int)
    empty = v.transform([])
    assert empty.shape == (0, v.n_features()) and empty.nnz == 0


def test_scikit_learn_aliases():
    v = TfidfVectorizer()
    assert not hasattr(v, "vocabulary_")  # NotFittedError is an AttributeError
    assert not hasattr(v, "idf_")
    v.fit(["connection refused", "connection reset by peer"])
    assert v.vocabulary_ == v.vocabulary()
    np.testing.assert_array_equal(v.idf_, v.idf())
    out = v.get_feature_names_out()
    assert isinstance(out, np.ndarray) and out.dtype == object
    assert list(out) == v.feature_names()


def test_fit_accepts_texts_or_token_lists_and_returns_self():
    texts = ["Disk quota exceeded", "Connection refused"]
    v = TfidfVectorizer(preprocessor=None)
    assert v.fit([t.split() for t in texts]) is v
    assert v.fit_tokens([t.split() for t in texts]) is v
    assert v.feature_names() == ["Connection", "Disk", "exceeded", "quota", "refused"]
    a = v.transform(texts).toarray()
    b = v.transform([t.split() for t in texts]).toarray()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, v.fit_transform_tokens([t.split() for t in texts]).toarray())
    with pytest.raises(TypeError, match="list of str"):
        v.fit("a single string")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        v.fit([1, 2, 3])  # type: ignore[list-item]


def test_preprocessor_option():
    texts = ["Retrying connection to 10.0.0.1", "retrying connection to 10.0.0.2"]
    default = TfidfVectorizer().fit(texts)  # omitted: the default Preprocessor
    assert default.feature_names() == ["<ip>", "connect", "retri"]
    assert TfidfVectorizer(preprocessor=Preprocessor()).fit(texts).feature_names() == default.feature_names()
    assert TfidfVectorizer(preprocessor={}).fit(texts).feature_names() == default.feature_names()
    custom = TfidfVectorizer(preprocessor=Preprocessor(stemmer="none")).fit(texts)
    assert custom.feature_names() == ["<ip>", "connection", "retrying"]
    assert custom.config()["preprocessor"]["stemmer"] == "none"
    raw = TfidfVectorizer(preprocessor=None).fit(texts)  # whitespace split only
    assert raw.feature_names() == ["10.0.0.1", "10.0.0.2", "Retrying", "connection", "retrying", "to"]
    assert raw.config()["preprocessor"] is None
    with pytest.raises(InvalidConfigError, match="`preprocessor`"):
        TfidfVectorizer(preprocessor={"stemer": "none"})


def test_config_mapping_keeps_int_and_float():
    docs = ["a b", "a c", "a d"]
    v = TfidfVectorizer(preprocessor=None, min_df=2, max_df=0.9)
    cfg = v.config()
    assert cfg["min_df"] == 2 and isinstance(cfg["min_df"], int)
    assert cfg["max_df"] == 0.9 and isinstance(cfg["max_df"], float)
    # 1 is a count (one document), 1.0 a fraction (every document).
    assert TfidfVectorizer(preprocessor=None, min_df=1).fit(docs).feature_names() == ["a", "b", "c", "d"]
    assert TfidfVectorizer(preprocessor=None, min_df=1.0).fit(docs).feature_names() == ["a"]
    assert TfidfVectorizer(preprocessor=None, min_df=np.int64(2)).fit(docs).feature_names() == ["a"]


def test_norm_none_and_round_trip_of_config():
    docs = ["a b b", "a c"]
    by_none = TfidfVectorizer(preprocessor=None, norm=None).fit_transform(docs).toarray()
    by_name = TfidfVectorizer(preprocessor=None, norm="none").fit_transform(docs).toarray()
    np.testing.assert_array_equal(by_none, by_name)
    assert by_none.max() > 1.0
    v = TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True, norm=None, max_features=10)
    assert v.config()["norm"] == "none"
    assert v.config()["ngram_range"] == [1, 3]
    assert TfidfVectorizer(**v.config()).config() == v.config()
    assert repr(TfidfVectorizer()) == "TfidfVectorizer()"
    assert repr(TfidfVectorizer(norm=None)) == "TfidfVectorizer(norm='none')"
    assert "preprocessor={'stemmer': 'none'}" in repr(TfidfVectorizer(preprocessor={"stemmer": "none"}))


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"ngram_range": (3, 1)}, "ngram_range"),
        ({"ngram_range": (0, 1)}, "ngram_range"),
        ({"max_features": 0}, "max_features"),
        ({"max_distinct_terms": 0}, "max_distinct_terms"),
        ({"min_df": 5, "max_df": 2}, "min_df"),
        ({"min_df": 0.9, "max_df": 0.2}, "min_df"),
        ({"max_df": 1.5}, "max_df"),
        ({"norm": "l3"}, "norm"),
        ({"ngram_rang": (1, 2)}, "ngram_rang"),  # unknown keyword
        ({"max_features": -1}, "max_features"),
        ({"sublinear_tf": "yes"}, "sublinear_tf"),
    ],
)
def test_bad_options_name_the_field(kwargs, field):
    with pytest.raises(InvalidConfigError, match=f"`{field}`"):
        TfidfVectorizer(**kwargs)


def test_df_bounds_checked_at_fit_time():
    v = TfidfVectorizer(preprocessor=None, min_df=3, max_df=0.1)
    with pytest.raises(InvalidConfigError, match="`max_df`"):
        v.fit(["a b", "a c", "a d"])
    assert not v.is_fitted()


def test_not_fitted():
    v = TfidfVectorizer()
    assert v.is_fitted() is False
    for call in (
        lambda: v.transform(["a"]),
        lambda: v.transform_tokens([["a"]]),
        lambda: v.similarity("a", "b"),
        v.n_features,
        v.feature_names,
        v.vocabulary,
        v.idf,
        v.get_feature_names_out,
    ):
        with pytest.raises(NotFittedError, match="TfidfVectorizer is not fitted"):
            call()


def test_max_distinct_terms_caps_fit_with_an_error_naming_it():
    docs = [f"w{i}a w{i}b w{i}c" for i in range(50)]

    def capped(cap):
        return TfidfVectorizer(preprocessor=None, ngram_range=(1, 2), max_distinct_terms=cap)

    with pytest.raises(InvalidInputError, match="max_distinct_terms = 100"):
        capped(100).fit(docs)
    assert capped(250).fit(docs).n_features() == 250
    assert capped(None).fit(docs).n_features() == 250
    assert TfidfVectorizer().config()["max_distinct_terms"] == 10_000_000


def test_empty_corpus_and_empty_vocabulary():
    with pytest.raises(InvalidInputError, match="empty corpus"):
        TfidfVectorizer().fit([])
    with pytest.raises(InvalidInputError, match="empty vocabulary"):
        TfidfVectorizer().fit(["", "  ", "the of"])
    v = TfidfVectorizer().fit(["disk full"])
    with pytest.raises(InvalidInputError):
        v.fit([])
    assert v.feature_names() == ["disk", "full"]  # a failed fit keeps the previous model


def test_similarity():
    v = TfidfVectorizer(ngram_range=(1, 2)).fit(
        ["Connection refused to 10.0.0.7:5432 after 3 retries", "Disk quota exceeded for /var/lib/pg"]
    )
    same = v.similarity(
        "Connection refused to 10.0.0.7:5432 after 3 retries",
        "Connection refused to 10.0.0.9:5432 after 5 retries",
    )
    assert isinstance(same, float) and same == pytest.approx(1.0)
    assert v.similarity("disk quota exceeded", "connection refused") == 0.0


def test_concurrent_fit_and_reads_do_not_block_or_tear():
    import threading

    lines = [f"job {i % 97} failed on node-{i % 13} with code {i % 7}" for i in range(100_000)]
    v = TfidfVectorizer(ngram_range=(1, 2)).fit(lines[:50])
    errors = []

    def refit():
        try:
            v.fit(lines)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=refit)
    t.start()
    reads = 0
    while t.is_alive() or reads == 0:
        # Each read sees either the old or the new model, never a half-written one.
        assert v.is_fitted()
        x = v.transform(lines[:5])
        assert x.shape[0] == 5 and x.shape[1] > 0
        reads += 1
    t.join()
    assert not errors
    assert v.transform(lines[:5]).shape[1] == v.n_features()
