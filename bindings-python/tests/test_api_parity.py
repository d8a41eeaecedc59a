"""docs/api.json is the API manifest: the Python module must expose exactly its names."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import faultlens

from conftest import API_JSON, load_json

API = load_json(API_JSON)
PY_EXTRAS = API["extras"]["python"]


def test_functions_exist():
    for name in API["functions"] + PY_EXTRAS["functions"]:
        assert callable(getattr(faultlens, name, None)), name


@pytest.mark.parametrize("cls_name", sorted(API["classes"]))
def test_class_public_names_are_exactly_the_manifest(cls_name):
    spec = API["classes"][cls_name]
    cls = getattr(faultlens, cls_name)
    want = set(spec["methods"]) | set(spec["static"]) | set(PY_EXTRAS["classes"].get(cls_name, []))
    have = {n for n in dir(cls) if not n.startswith("_")}
    assert have == want, f"missing {sorted(want - have)}, unlisted {sorted(have - want)}"
    for name in spec["static"]:
        assert callable(getattr(cls, name)), name  # callable on the class itself


def test_error_classes_exist():
    for code in API["errors"]:
        assert issubclass(getattr(faultlens, f"{code}Error"), faultlens.FaultlensError)


def test_stubs_ship_and_match_the_runtime():
    pkg = Path(faultlens.__file__).parent
    assert (pkg / "py.typed").is_file()
    stub = pkg / "_faultlens.pyi"
    tree = ast.parse(stub.read_text(encoding="utf-8"))
    classes = {
        node.name: {
            n.name for n in node.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")
        }
        for node in tree.body
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_")
    }
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert functions == set(API["functions"]) | set(PY_EXTRAS["functions"])
    for cls_name, names in classes.items():
        runtime = {n for n in dir(getattr(faultlens, cls_name)) if not n.startswith("_")}
        assert names == runtime, cls_name
    assert set(API["classes"]) <= set(classes)


def test_version():
    assert faultlens.version() == faultlens.__version__
    assert faultlens.__version__.count(".") == 2


def test_dir_shows_only_the_public_api():
    # No import leftovers (`annotations`, `os`, ...): every public name is API or a submodule.
    public = {n for n in dir(faultlens) if not n.startswith("_")}
    assert public - {"prometheus"} == set(faultlens.__all__)


@pytest.mark.skipif(not os.environ.get("FAULTLENS_EXPECT_INSTALLED"), reason="only under scripts/test.sh")
def test_testing_the_installed_package_not_the_source_tree():
    assert "site-packages" in faultlens.__file__, faultlens.__file__


RECORDS = {k: v["fields"] for k, v in API["records"].items() if k != "about"}
# Training lines for a small fitted classifier (two per label, enough for its held-out split).
TRAIN = [("disk quota exceeded on /var", "expand_disk"), ("no space left on device /data", "expand_disk"),
         ("connection refused to 10.0.0.7:5432", "restart_db"), ("connection reset by peer 10.0.0.9", "restart_db"),
         ("x509: certificate has expired", "renew_cert"), ("tls certificate verify failed: expired", "renew_cert")]


def test_records_are_what_the_binding_returns_and_accepts():
    # Dicts converted from core JSON come with sorted keys: compare the sets of names.
    clf = faultlens.TextClassifier()
    assert sorted(clf.config()) == sorted(RECORDS["ClassifierConfig"])
    # Every config field is a keyword argument (non-default values, so a dropped one shows).
    assert faultlens.TextClassifier(novelty_prior=0.3, novelty_threshold=0.4).config()["novelty_prior"] == 0.3
    clf.fit([t for t, _ in TRAIN], [l for _, l in TRAIN])
    assert list(clf.predict_one("disk quota exceeded on /home")) == RECORDS["Prediction"]
    assert sorted(clf.metrics()) == sorted(RECORDS["ClassifierMetrics"])
    assert sorted(faultlens.SimilarityIndex(dim=2).metrics()) == sorted(RECORDS["IndexMetrics"])
    assert sorted(faultlens.TextIndex().metrics()) == sorted(RECORDS["IndexMetrics"])

    r = faultlens.Resolver()
    assert sorted(r.config()) == sorted(RECORDS["ResolverConfig"])
    assert faultlens.Resolver(novelty_threshold=0.25).config()["novelty_threshold"] == 0.25
    r.add_knowledge([t for t, _ in TRAIN], [l for _, l in TRAIN])
    res = r.resolve("disk quota exceeded on /home")
    assert sorted(res.to_dict()) == sorted(RECORDS["Resolution"])
    assert all(hasattr(res, f) for f in RECORDS["Resolution"])
    assert {n for n in dir(res) if not n.startswith("_")} == set(RECORDS["Resolution"]) | {"to_dict"}
    for f in ("novelty", "novel"):
        assert f"{f}=" in repr(res)
    r.record_outcome("disk quota exceeded on /home", res.solution, True)
    assert sorted(r.outcomes()[-1]) == sorted(RECORDS["Outcome"])
    assert sorted(r.metrics()) == sorted(RECORDS["MetricsSnapshot"])
    assert sorted(r.summary()) == sorted(RECORDS["ResolverSummary"])


def test_stub_records_match_the_manifest():
    pkg = Path(faultlens.__file__).parent
    tree = ast.parse((pkg / "_faultlens.pyi").read_text(encoding="utf-8"))
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}

    def kwonly(cls: str) -> list[str]:
        init = next(n for n in classes[cls].body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
        return [a.arg for a in init.args.kwonlyargs]

    def typed_dict(cls: str) -> list[str]:
        return [n.target.id for n in classes[cls].body if isinstance(n, ast.AnnAssign)]

    def properties(cls: str) -> list[str]:
        return [n.name for n in classes[cls].body if isinstance(n, ast.FunctionDef)
                and any(isinstance(d, ast.Name) and d.id == "property" for d in n.decorator_list)]

    # Configs are `**config: Unpack[_<Name>Options]` (generated, see test_options.py).
    assert kwonly("TextClassifier") == ["verbose"]
    assert typed_dict("_ClassifierOptions") == RECORDS["ClassifierConfig"]
    assert typed_dict("_ResolverOptions") == RECORDS["ResolverConfig"]
    assert typed_dict("_Prediction") == RECORDS["Prediction"]
    assert properties("Resolution") == RECORDS["Resolution"]
    assert typed_dict("_ResolverOutcome") == RECORDS["Outcome"]
    assert typed_dict("_Metrics") == RECORDS["MetricsSnapshot"]
    assert typed_dict("_ClassifierMetrics") == RECORDS["ClassifierMetrics"]
    assert typed_dict("_IndexMetrics") == RECORDS["IndexMetrics"]
    assert typed_dict("_ResolverSummary") == RECORDS["ResolverSummary"]
