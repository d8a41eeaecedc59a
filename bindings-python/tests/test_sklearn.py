"""scikit-learn's estimator protocol for TextClassifier and TfidfVectorizer, against the installed
scikit-learn: clone/get_params/set_params, tags, fit returning self, labels of any type, Pipeline,
GridSearchCV, cross_val_score, CalibratedClassifierCV, and the applicable estimator checks."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is not installed (scripts/test.sh installs it)")

from sklearn.base import clone, is_classifier  # noqa: E402
from sklearn.calibration import CalibratedClassifierCV  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.utils import estimator_checks as ec  # noqa: E402
from sklearn.utils import get_tags  # noqa: E402

import faultlens  # noqa: E402
from faultlens import InvalidConfigError, InvalidInputError, TextClassifier, TfidfVectorizer  # noqa: E402

from conftest import FIXTURES  # noqa: E402


def _corpus():
    """The classifier fixture's training lines of 8 labels with 10 lines each, so every fold of a
    3-fold split holds each label at least 3 times."""
    rows = [json.loads(line) for line in open(FIXTURES / "classify" / "train.jsonl", encoding="utf-8")]
    counts = Counter(r["label"] for r in rows)
    keep = sorted(label for label, n in counts.items() if n >= 10)[:8]
    rows = [r for r in rows if r["label"] in keep]
    return [r["text"] for r in rows], [r["label"] for r in rows]


X, Y = _corpus()
CV = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)


def test_importing_faultlens_does_not_import_sklearn():
    code = "import sys, faultlens; faultlens.TextClassifier(); print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("make", [
    lambda: TextClassifier(alpha=0.5, tfidf={"min_df": 1, "ngram_range": (1, 2)}),
    lambda: TfidfVectorizer(ngram_range=(1, 2), min_df=1, norm=None),
])
def test_clone_keeps_the_very_objects_given(make):
    est = make()
    twin = clone(est)
    assert type(twin) is type(est) and twin is not est
    assert twin.get_params() == est.get_params()  # clone deep-copies values that are not estimators
    nested = {"min_df": 1}
    assert TextClassifier(tfidf=nested).get_params()["tfidf"] is nested  # what clone checks


def test_signature_lists_every_core_field():
    import inspect

    clf_params = set(inspect.signature(TextClassifier).parameters)
    assert clf_params == set(TextClassifier().config()) | {"verbose"}
    assert set(inspect.signature(TfidfVectorizer).parameters) == set(TfidfVectorizer().config())
    assert TextClassifier().get_params()["tfidf"] is None  # None: the core's default tf-idf
    # Defaults are immutable values (scikit-learn's rule): the core's default preprocessor is
    # spelled "default", a fraction max_df a float.
    assert TfidfVectorizer().get_params()["preprocessor"] == "default"
    assert TfidfVectorizer().get_params()["max_df"] == 1.0
    assert TfidfVectorizer(preprocessor="default").config() == TfidfVectorizer().config()
    assert TfidfVectorizer(preprocessor=None).config()["preprocessor"] is None


def test_set_params_validates_and_returns_self():
    c = TextClassifier()
    assert c.set_params(alpha=0.25, model="naive_bayes") is c
    assert c.get_params()["alpha"] == 0.25 and c.config()["alpha"] == 0.25
    with pytest.raises(InvalidConfigError, match="alpha"):
        c.set_params(alpha="much")
    assert c.get_params()["alpha"] == 0.25  # a refused change leaves the parameters as they were
    with pytest.raises(InvalidConfigError, match="bogus"):
        c.set_params(bogus=1)
    with pytest.raises(InvalidConfigError, match="bogus"):
        TextClassifier(bogus=1)
    v = TfidfVectorizer()
    assert v.set_params(min_df=2) is v and v.config()["min_df"] == 2
    with pytest.raises(InvalidConfigError, match="norm"):
        v.set_params(norm="l7")
    # A fitted vectorizer keeps transforming as fitted; the new parameters apply at the next fit.
    v.fit(X)
    n = v.n_features()
    v.set_params(max_features=5)
    assert v.n_features() == n and v.fit(X).n_features() == 5


def test_tags_and_fit_returns_self():
    clf, vec = TextClassifier(model="naive_bayes"), TfidfVectorizer()
    assert is_classifier(clf) and not is_classifier(vec)
    tags = get_tags(clf)
    assert tags.input_tags.string and not tags.input_tags.two_d_array and tags.target_tags.required
    assert get_tags(vec).transformer_tags is not None
    assert clf.fit(X, Y) is clf
    assert vec.fit(X) is vec and vec.fit(X, Y) is vec
    assert vec.fit_transform(X).shape[0] == len(X)


@pytest.mark.parametrize("kind", ["int", "numpy_int", "bool_like", "str"])
def test_classes_keep_the_label_type(kind):
    names = sorted(set(Y))
    if kind == "str":
        labels, expect = list(Y), np.array(names, dtype=object)
    else:
        # Codes whose str order differs from their numeric order (10 before 9 as text).
        code = {n: (i + 1) * 3 if kind != "bool_like" else i for i, n in enumerate(names)}
        labels = [code[l] for l in Y]
        if kind == "numpy_int":
            labels = np.array(labels, dtype=np.int64)
        expect = np.array(sorted(code.values()))
    clf = TextClassifier(model="logistic").fit(X, labels)
    assert list(clf.classes_) == list(expect)
    if kind != "str":
        assert clf.classes_.dtype.kind == "i"
    pred = clf.predict(X)
    proba = clf.predict_proba(X)
    assert list(pred) == list(clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X, labels) >= 0.9
    assert type(pred[0]) is type(np.asarray(labels)[0]) or kind == "str"
    back = pickle.loads(pickle.dumps(clf))
    assert type(back) is TextClassifier and list(back.classes_) == list(clf.classes_)
    assert (back.predict(X) == pred).all()
    np.testing.assert_array_equal(back.predict_proba(X), proba)


class _SameText:
    """A label type whose values differ but print the same."""

    def __init__(self, v):
        self.v = v

    def __eq__(self, other):
        return self.v == other.v

    def __lt__(self, other):
        return self.v < other.v

    def __hash__(self):
        return hash(self.v)

    def __str__(self):
        return "same"


def test_labels_that_collide_as_text_are_refused():
    a, b = _SameText(1), _SameText(2)
    with pytest.raises(InvalidInputError, match="distinct"):
        TextClassifier().fit(X[:4], [a, b, a, b])
    with pytest.raises(InvalidInputError, match="mix str with other types"):
        TextClassifier().fit(X[:4], [1, "a", 1, "a"])


def test_pickle_and_load_give_the_public_class(tmp_path):
    clf = TextClassifier(model="naive_bayes", alpha=0.3).fit(X, Y)
    clf._parent_callback_ctx = object()  # what a meta-estimator leaves during its fit
    back = pickle.loads(pickle.dumps(clf))
    assert type(back) is TextClassifier and back.get_params() == clf.get_params()
    assert not hasattr(back, "_parent_callback_ctx")
    clf.save(tmp_path / "m.flm")
    loaded = TextClassifier.load(tmp_path / "m.flm")
    assert type(loaded) is TextClassifier and loaded.get_params()["alpha"] == 0.3
    assert (loaded.predict(X) == clf.predict(X)).all()
    vec = TfidfVectorizer(min_df=2).fit(X)
    vback = TfidfVectorizer.from_bytes(vec.to_bytes())
    assert type(vback) is TfidfVectorizer and vback.get_params()["min_df"] == 2
    assert (vback.transform(X) != vec.transform(X)).nnz == 0


def test_pipeline_with_faultlens_vectorizer_and_sklearn_model():
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=200))
    assert pipe.fit(X, Y) is pipe
    assert pipe.score(X, Y) >= 0.9
    assert clone(pipe).fit(X, Y).score(X, Y) == pipe.score(X, Y)


def test_cross_val_score_and_calibration():
    scores = cross_val_score(TextClassifier(model="logistic"), X, Y, cv=CV)
    assert len(scores) == 3 and scores.min() >= 0.8
    cal = CalibratedClassifierCV(TextClassifier(model="naive_bayes"), cv=3).fit(X, Y)
    proba = cal.predict_proba(X)
    assert proba.shape == (len(X), len(set(Y)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (cal.predict(X) == np.asarray(Y, dtype=object)).mean() >= 0.9


def test_grid_search_in_a_pipeline_equals_the_manual_loop():
    grid = {"clf__c": [0.1, 10.0], "clf__model": ["logistic", "naive_bayes"]}
    search = GridSearchCV(Pipeline([("clf", TextClassifier())]), grid, cv=CV).fit(X, Y)
    for i, params in enumerate(search.cv_results_["params"]):
        manual = []
        for train, test in CV.split(X, Y):
            clf = TextClassifier(c=params["clf__c"], model=params["clf__model"])
            clf.fit([X[j] for j in train], [Y[j] for j in train])
            manual.append(clf.score([X[j] for j in test], [Y[j] for j in test]))
        assert search.cv_results_["mean_test_score"][i] == pytest.approx(np.mean(manual), abs=1e-12)
    assert type(search.best_estimator_.named_steps["clf"]) is TextClassifier


# scikit-learn's own checks. `check_estimator` runs none of them on text estimators (their tags
# say `two_d_array=False`, as scikit-learn's TfidfVectorizer's do), so the API checks that apply
# are called one by one; the rest are listed with the reason they do not apply.
APPLICABLE = [
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
    "check_mixin_order",
]
NOT_APPLICABLE = {
    # These fit on generated numeric 2-D arrays; faultlens estimators take texts. The same
    # properties are tested above with texts (fit returns self, parameters not overwritten,
    # only `_`-suffixed public attributes after fit).
    "check_fit_score_takes_y": "fits numeric 2-D X; texts only (tested with texts above)",
    "check_estimators_overwrite_params": "fits numeric 2-D X (tested with texts: test_fit_keeps_params)",
    "check_dont_overwrite_parameters": "fits numeric 2-D X (tested with texts: test_fit_keeps_params)",
    "check_estimators_fit_returns_self": "fits numeric 2-D X (tested with texts above)",
    "check_readonly_memmap_input": "numeric memmapped X; texts are Python str",
    "check_estimators_unfitted": "numeric X; faultlens raises its own NotFittedError (an AttributeError)",
    "check_n_features_in_after_fitting": "`n_features_in_` counts columns of 2-D X; a text input has none",
    "check_positive_only_tag_during_fit": "numeric X",
    # A deliberate difference: configuration is validated where it is written (constructor,
    # set_params), as in the Rust, Node and C APIs, so a bad option names its field at once.
    "check_do_not_raise_errors_in_init_or_set_params": "faultlens validates options in __init__/set_params",
}


def _estimators():
    return [TextClassifier(), TfidfVectorizer()]


@pytest.mark.parametrize("check", APPLICABLE)
@pytest.mark.parametrize("est", _estimators(), ids=lambda e: type(e).__name__)
def test_applicable_estimator_checks(est, check):
    getattr(ec, check)(type(est).__name__, est)


def test_every_api_check_is_run_or_listed():
    api = {c.func.__name__ if hasattr(c, "func") else c.__name__ for c in ec._yield_api_checks(TextClassifier())}
    assert api <= set(APPLICABLE) | set(NOT_APPLICABLE), sorted(api - set(APPLICABLE) - set(NOT_APPLICABLE))


def test_fit_keeps_params():
    for est, y in ((TextClassifier(model="naive_bayes", alpha=0.5), Y), (TfidfVectorizer(min_df=2), None)):
        before = {k: pickle.dumps(v) for k, v in est.get_params().items()}
        public_before = {k for k in vars(est) if not k.startswith("_")}
        est.fit(X, y)
        assert {k: pickle.dumps(v) for k, v in est.get_params().items()} == before
        added = {k for k in vars(est) if not k.startswith("_")} - public_before
        assert all(k.endswith("_") for k in added), added


def test_importing_faultlens_exposes_the_subclasses():
    assert faultlens.TextClassifier is TextClassifier
    assert TextClassifier.__module__ == "faultlens" and TfidfVectorizer.__module__ == "faultlens"
    assert isinstance(TextClassifier(), faultlens._faultlens.TextClassifier)
