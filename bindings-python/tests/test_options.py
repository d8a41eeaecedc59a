"""The generated option types (docs/api.json "configs" -> the stub's TypedDicts) match what the
constructors accept and what config() returns."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import faultlens

from conftest import API_JSON, load_json

CONFIGS = {k: v for k, v in load_json(API_JSON)["configs"].items() if k not in ("about", "$defs")}
# The class each options type configures, and the keys it cannot do without.
CONSTRUCTORS = {
    "PreprocessorOptions": (faultlens.Preprocessor, {}),
    "TfidfOptions": (faultlens.TfidfVectorizer, {}),
    "ClassifierOptions": (faultlens.TextClassifier, {}),
    "ResolverOptions": (faultlens.Resolver, {}),
    "IndexOptions": (faultlens.SimilarityIndex, {"dim": 4}),
    "TextIndexOptions": (faultlens.TextIndex, {}),
    "WindowOptions": (faultlens.WindowAggregator, {"allowed_lateness_ms": 0}),
    "GrouperOptions": (faultlens.IncidentGrouper, {}),
    "KlDriftOptions": (faultlens.KlDriftDetector, {}),
    "AdwinOptions": (faultlens.Adwin, {}),
    "PageHinkleyOptions": (faultlens.PageHinkley, {}),
}


def stub_typed_dicts() -> dict[str, list[str]]:
    tree = ast.parse((Path(faultlens.__file__).parent / "_faultlens.pyi").read_text(encoding="utf-8"))
    return {
        n.name: [a.target.id for a in n.body if isinstance(a, ast.AnnAssign)]
        for n in tree.body
        if isinstance(n, ast.ClassDef)
    }


def every_field(name: str) -> dict:
    """Each field at its schema default; a field without one (required, or an unset optional
    value) at the required value or None."""
    required = CONSTRUCTORS[name][1]
    return {
        key: prop["default"] if "default" in prop else required.get(key)
        for key, prop in CONFIGS[name]["properties"].items()
    }


def test_every_options_type_has_a_constructor_or_a_method():
    assert set(CONFIGS) == set(CONSTRUCTORS) | {"IndexSearchOptions"}


@pytest.mark.parametrize("name", sorted(CONSTRUCTORS))
def test_every_field_is_accepted_at_its_default(name):
    cls, required = CONSTRUCTORS[name]
    assert cls(**every_field(name)).config() == cls(**required).config()


@pytest.mark.parametrize("name", sorted(CONSTRUCTORS))
def test_typed_dict_keys_are_the_config_keys(name):
    cls, required = CONSTRUCTORS[name]
    fields = stub_typed_dicts()[f"_{name}"]
    assert fields == list(CONFIGS[name]["properties"])
    # config() leaves out an optional value that is unset and has no default (max_items).
    unset = {k for k, p in CONFIGS[name]["properties"].items() if "default" not in p and k not in required}
    assert set(cls(**required).config()) | unset == set(fields)


def test_search_options_are_the_search_keywords():
    index = faultlens.SimilarityIndex(dim=2)
    index.add([1, 2], np.array([[1, 0], [0, 1]], dtype=np.float32))
    defaults = {k: p.get("default") for k, p in CONFIGS["IndexSearchOptions"]["properties"].items()}
    assert index.search(np.array([1, 0], dtype=np.float32), k=1, **defaults) == index.search(
        np.array([1, 0], dtype=np.float32), k=1
    )
    assert stub_typed_dicts()["_IndexSearchOptions"] == list(defaults)


def test_constructors_take_the_generated_types():
    tree = ast.parse((Path(faultlens.__file__).parent / "_faultlens.pyi").read_text(encoding="utf-8"))
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    for name, (cls, _) in CONSTRUCTORS.items():
        init = next(f for f in classes[cls.__name__].body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
        assert ast.unparse(init.args.kwarg.annotation) == f"Unpack[_{name}]", cls.__name__
