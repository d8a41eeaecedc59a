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


@pytest.mark.skipif(not os.environ.get("FAULTLENS_EXPECT_INSTALLED"), reason="only under scripts/test.sh")
def test_testing_the_installed_package_not_the_source_tree():
    assert "site-packages" in faultlens.__file__, faultlens.__file__
