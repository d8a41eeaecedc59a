"""TextClassifier: scikit-learn estimator protocol, conversions, GIL release, pickling, errors,
and the cross-language model fixture (Python trains, saves; every language predicts the same)."""

from __future__ import annotations

import copy
import io
import json
import pickle
import threading
import time

import numpy as np
import pytest

import faultlens
from faultlens import (
    FormatError,
    InvalidConfigError,
    InvalidInputError,
    NotFittedError,
    TextClassifier,
    compare,
    evaluate,
)

from conftest import FIXTURES, NOV_FOREIGN, NOV_LABELS, NOV_TEXTS, load_json

CLASSIFY = FIXTURES / "classify"
EXPECTED = load_json(CLASSIFY / "expected.json")


def read(name):
    texts, labels = [], []
    with open(CLASSIFY / name, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            texts.append(r["text"])
            labels.append(r["label"])
    return texts, labels


TRAIN = read("train.jsonl")
TEST = read("test.jsonl")


@pytest.fixture(scope="module")
def clf():
    return TextClassifier().fit(*TRAIN)


def test_trains_in_python_saves_and_matches_the_shared_probabilities(tmp_path):
    # Same default options and data as the Rust generator of model.flm: training is
    # deterministic, so the probabilities match the ones Node, C and Rust read from model.flm.
    c = TextClassifier().fit(*TRAIN)
    path = tmp_path / "clf.flm"
    c.save(path)
    loaded = TextClassifier.load(path)
    want = np.array(EXPECTED["proba"])
    for model in (c, loaded, TextClassifier.load(CLASSIFY / "model.flm")):
        assert model.classes() == EXPECTED["classes"]
        got = model.predict_proba(EXPECTED["texts"])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
        assert list(model.predict(EXPECTED["texts"])) == EXPECTED["predict"]
    assert faultlens.inspect(path)["kind"] == "text_classifier"


def test_estimator_protocol(clf):
    texts, labels = TEST
    proba = clf.predict_proba(texts)
    assert proba.shape == (len(texts), len(clf.classes_))
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    pred = clf.predict(texts)
    assert isinstance(pred, np.ndarray) and pred.dtype == object
    assert list(pred) == [clf.classes_[i] for i in proba.argmax(axis=1)]
    assert clf.score(texts, labels) == pytest.approx(np.mean(pred == np.array(labels, dtype=object)))
    assert clf.score(texts, labels) >= 0.9
    params = clf.get_params()
    assert params["model"] == "logistic" and params["verbose"] is False
    assert TextClassifier(**{k: v for k, v in params.items()}).get_params() == params
    assert clf.is_fitted() and clf.model() == "logistic"
    info = clf.training_info()
    assert info["n_samples"] == len(TRAIN[0]) and info["options"]["model"] == "logistic"
    base = clf.baseline_confidences()
    assert base.dtype == np.float64 and len(base) > 0 and ((base >= 0) & (base <= 1)).all()


def test_numpy_inputs_and_set_params():
    texts = np.array(TRAIN[0])
    labels = np.array(TRAIN[1], dtype=object)
    c = TextClassifier(model="naive_bayes")
    assert c.set_params(alpha=0.05, threshold=0.5) is c
    assert c.get_params()["alpha"] == 0.05
    c.fit(texts, labels)
    assert c.model() == "naive_bayes"
    p = c.predict_one(TEST[0][0])
    assert p["reliable"] == (p["confidence"] >= 0.5)
    with pytest.raises(InvalidConfigError, match="threshold"):
        c.set_params(threshold=2.0)
    with pytest.raises(InvalidConfigError, match="modle"):
        TextClassifier(modle="auto")


def test_predict_one(clf):
    text = "Failed password for invalid user admin from 10.1.2.3 port 2222 ssh2"
    p = clf.predict_one(text)
    assert set(p) == {"label", "confidence", "reliable", "novelty", "novel", "alternatives", "explanation"}
    assert p["label"] in clf.classes()
    assert p["reliable"] == (p["confidence"] >= 0.7)
    assert len(p["alternatives"]) <= 3
    # Alternatives are class probabilities below the label's; `confidence` is the probability
    # that the label is right for this input (novelty included), which may be lower.
    top = clf.predict_proba([text])[0].max()
    assert all(isinstance(a, tuple) and a[1] <= top for a in p["alternatives"])
    assert 0.0 <= p["confidence"] <= 1.0 and 0.0 <= p["novelty"] <= 1.0
    assert p["explanation"] and all(w > 0 for _, w in p["explanation"])


def test_confidence_accounts_for_novelty():
    # Confidence is the probability of being right for the input at hand: a copy of a training
    # line is reliable and not novel; a line from a system the model never saw is neither.
    clf = TextClassifier(novelty_prior=0.2, novelty_threshold=0.5).fit(NOV_TEXTS, NOV_LABELS)
    known = clf.predict_one(NOV_TEXTS[4])
    assert (known["label"], known["reliable"], known["novel"]) == ("expand_disk", True, False)
    assert 0.0 <= known["novelty"] < 0.5
    foreign = clf.predict_one(NOV_FOREIGN)
    assert (foreign["reliable"], foreign["novel"]) == (False, True)
    assert foreign["confidence"] < 0.5 and 0.5 < foreign["novelty"] <= 1.0
    # novelty_threshold applies at once to a fitted model.
    assert clf.set_params(novelty_threshold=1.0).predict_one(NOV_FOREIGN)["novel"] is False
    assert "novelty_threshold=1.0" in repr(clf)
    with pytest.raises(InvalidConfigError, match="novelty_prior"):
        TextClassifier(novelty_prior=1.0)
    with pytest.raises(InvalidConfigError, match="novelty_threshold"):
        TextClassifier(novelty_threshold=-0.1)


def test_pickle_copy_and_joblib(clf):
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(TEST[0]), clf.predict_proba(TEST[0]))
    assert copy.deepcopy(clf).classes() == clf.classes()
    joblib = pytest.importorskip("joblib")
    buf = io.BytesIO()
    joblib.dump(clf, buf)
    buf.seek(0)
    assert joblib.load(buf).classes() == clf.classes()


def test_partial_fit_and_auto():
    c = TextClassifier(model="naive_bayes").fit(*TRAIN)
    n = len(c.classes())
    c.partial_fit(["session opened for user root"] * 3, ["New:label"] * 3)
    assert c.classes()[-1] == "New:label" and len(c.classes()) == n + 1
    lr = TextClassifier().fit(*TRAIN)
    with pytest.raises(InvalidInputError, match="naive_bayes"):
        lr.partial_fit(["x"], [TRAIN[1][0]])
    auto = TextClassifier(model="auto", cv_folds=3).fit(*TRAIN)
    scores = auto.training_info()["cv_scores"]
    assert {s["model"] for s in scores} == {"logistic", "naive_bayes", "linear_svm"}
    assert auto.model() in {"logistic", "naive_bayes", "linear_svm"}


def test_progress_callback_and_verbose_bar(capsys):
    seen = []
    TextClassifier(model="linear_svm").fit(*TRAIN, progress=lambda s, d, t: seen.append((s, d, t)))
    assert {"vectorize", "calibrate"} <= {s for s, _, _ in seen}
    TextClassifier(verbose=True).fit(*TRAIN)
    err = capsys.readouterr().err
    assert "vectorize" in err and "train" in err

    def boom(stage, done, total):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        TextClassifier().fit(*TRAIN, progress=boom)


def test_evaluate_and_compare(clf):
    texts, labels = TEST
    r = evaluate(clf, texts, labels)
    assert r["accuracy"] == pytest.approx(clf.score(texts, labels))
    assert "macro avg" in r["text"] and len(r["confusion"]) == len(r["labels"])
    weak = TextClassifier(model="naive_bayes", alpha=50.0).fit(*TRAIN)
    cmp = compare(weak, clf, texts, labels)
    assert cmp["better"] == "b" and 0 <= cmp["p_value"] <= 1
    assert cmp["significant"] == (cmp["p_value"] < 0.05)
    with pytest.raises(InvalidInputError, match="never seen"):
        compare(weak, clf, texts, ["Nope:E0"] + labels[1:])


def test_bad_input():
    c = TextClassifier()
    with pytest.raises(NotFittedError):
        c.predict(["x"])
    with pytest.raises(AttributeError):  # NotFittedError is an AttributeError: hasattr works
        c.classes_
    with pytest.raises(InvalidInputError, match="differ in length"):
        c.fit(["a", "b"], ["x"])
    with pytest.raises(InvalidInputError, match="only one class"):
        c.fit(["a", "b"], ["x", "x"])
    with pytest.raises(InvalidInputError, match="empty"):
        c.fit(["a", "b"], ["x", ""])
    with pytest.raises(TypeError, match="list or 1-D array of str"):
        c.fit("a single string", ["x"])
    with pytest.raises(TypeError):  # int labels are fine (test_sklearn.py); a non-sequence is not
        c.fit(["a", "b"], object())
    data = bytearray((CLASSIFY / "model.flm").read_bytes())
    data[8:12] = (7).to_bytes(4, "little")
    with pytest.raises(FormatError, match="v7"):
        TextClassifier.from_bytes(bytes(data))


def test_fit_releases_the_gil():
    # While a fit runs in a thread, the main thread keeps running Python code.
    big_texts = TRAIN[0] * 20
    big_labels = TRAIN[1] * 20
    c = TextClassifier(model="linear_svm")
    t = threading.Thread(target=c.fit, args=(big_texts, big_labels))
    ticks = 0
    t.start()
    start = time.perf_counter()
    while t.is_alive():
        ticks += 1
        time.sleep(0.001)
    t.join()
    assert c.is_fitted()
    assert ticks > 5, f"main thread starved during fit ({time.perf_counter() - start:.3f}s)"
