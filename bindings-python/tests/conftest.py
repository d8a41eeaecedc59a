"""Shared paths for the binding tests: the fixtures every language runs live in <repo>/tests/fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
API_JSON = REPO_ROOT / "docs" / "api.json"


# The novelty tests' data, the same in every binding's tests: a few lines about Elasticsearch,
# its disks and its network, a line from a system they never mention, a known error's variant.
with open(FIXTURES / "novelty.json", encoding="utf-8") as _f:
    NOVELTY = json.load(_f)
NOV_TEXTS = [p["error"] for p in NOVELTY["pairs"]]
NOV_LABELS = [p["solution"] for p in NOVELTY["pairs"]]
NOV_FOREIGN = NOVELTY["foreign"]
NOV_VARIANT = NOVELTY["variant"]


def load_json(path: Path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def golden() -> dict:
    return load_json(FIXTURES / "models" / "v1" / "golden.json")
