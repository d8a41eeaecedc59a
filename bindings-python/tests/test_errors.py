"""Every core error code maps to faultlens.<code>Error (docs/errors.md), raised by a real call."""

from __future__ import annotations

import pickle
import struct

import pytest

import faultlens
from faultlens import FaultlensError, Preprocessor, TfidfVectorizer

from conftest import API_JSON, load_json

CODES = load_json(API_JSON)["errors"]

# Extra built-in bases per class, from docs/errors.md.
EXTRA_BASES = {
    "InvalidConfig": (ValueError,),
    "InvalidInput": (ValueError,),
    "NotFitted": (ValueError, AttributeError),
    "Dimension": (ValueError,),
    "Format": (),
    "Corrupt": (),
    "WrongKind": (),
    "Io": (OSError,),
    "Inherited": (),
}


def _trigger(code, tmp_path):
    """A real call that makes the core return this error code (None: no API returns it yet)."""
    good = TfidfVectorizer(preprocessor=None).fit(["a b"]).to_bytes()
    return {
        "InvalidConfig": lambda: TfidfVectorizer(max_features=0),
        "InvalidInput": lambda: TfidfVectorizer().fit([]),
        "NotFitted": lambda: TfidfVectorizer().transform(["x"]),
        # A baseline histogram whose length is not the configured number of bins (10).
        "Dimension": lambda: faultlens.KlDriftDetector.from_histogram([1, 2, 3]),
        "Format": lambda: TfidfVectorizer.from_bytes(good[:8] + struct.pack("<I", 99) + good[12:]),
        "Corrupt": lambda: Preprocessor.from_bytes(b"not a model"),
        "WrongKind": lambda: Preprocessor.from_bytes(good),
        "Io": lambda: Preprocessor.load(tmp_path / "missing.flm"),
        # Needs a fork while another thread holds a lock: test_reliability.py forks for it.
        "Inherited": None,
    }[code]


def test_manifest_codes_match_the_table():
    assert sorted(CODES) == sorted(EXTRA_BASES)


@pytest.mark.parametrize("code", CODES)
def test_error_class(code, tmp_path):
    cls = getattr(faultlens, f"{code}Error")
    assert issubclass(cls, FaultlensError) and issubclass(cls, Exception)
    for base in EXTRA_BASES[code]:
        assert issubclass(cls, base)
    assert cls.code == code
    assert cls.__module__ == "faultlens"
    trigger = _trigger(code, tmp_path)
    if trigger is None:
        # Inherited needs a lock held by another thread at fork(): the real forks are in
        # test_reliability.py::test_fork_while_*; only the class itself is checked here.
        pytest.skip(f"{code} needs a fork during another thread's call (test_reliability.py)")
    with pytest.raises(cls) as info:
        trigger()
    err = info.value
    assert type(err) is cls  # exactly this class, not only a subclass
    assert str(err)  # the core's message
    assert isinstance(err, FaultlensError)
    back = pickle.loads(pickle.dumps(err))  # crosses process boundaries (multiprocessing)
    assert type(back) is cls and str(back) == str(err)


def test_messages_are_the_core_display(tmp_path):
    with pytest.raises(FaultlensError) as e:
        TfidfVectorizer().idf()
    assert str(e.value) == "TfidfVectorizer is not fitted: call fit() first"
    with pytest.raises(FaultlensError) as e:
        TfidfVectorizer(ngram_range=(3, 1))
    assert str(e.value) == "invalid config `ngram_range`: (3, 1) is invalid: need 1 <= min_n <= max_n <= 8"
    with pytest.raises(FaultlensError) as e:
        Preprocessor.load(tmp_path / "missing.flm")
    assert str(e.value).startswith(f"I/O error on `{tmp_path / 'missing.flm'}`: ")


def test_errors_are_catchable_as_exception_not_base_exception_only():
    # A PanicException would derive from BaseException only; every failure must be an Exception.
    for call in (
        lambda: TfidfVectorizer(ngram_range=(9, 9)),
        lambda: TfidfVectorizer().fit(["the of", "and"]),
        lambda: Preprocessor(custom_masks=[{"pattern": "a*", "placeholder": "<x>"}]),
        lambda: Preprocessor(custom_masks=[{"pattern": "x", "placeholder": "oops"}]),
        lambda: TfidfVectorizer.from_bytes(b"FAULTLNS" + b"\x01\x00\x00\x00" + b"\xff" * 16),
    ):
        try:
            call()
        except Exception as e:  # noqa: BLE001
            assert isinstance(e, FaultlensError), repr(e)
        else:
            pytest.fail("expected an error")


def test_a_panic_inside_faultlens_is_a_faultlens_error_and_python_lives_on():
    from faultlens import _faultlens

    with pytest.raises(FaultlensError, match="panic inside faultlens.*boom") as e:
        _faultlens._panic_for_tests("boom")
    assert type(e.value) is FaultlensError
    assert TfidfVectorizer().fit(["disk full", "disk quota"]).n_features() > 0


def test_lone_surrogates_are_a_clear_invalid_input_error():
    # "\ud800" has no UTF-8 form (surrogateescape decoding makes such strings): every str argument
    # names the code point and its index instead of a codec error or "must be a list of str".
    from faultlens import InvalidInputError, Resolver, TextClassifier

    bad = "disk\ud800full"
    calls = [
        lambda: Preprocessor().tokens(bad),
        lambda: Preprocessor().tokens_batch(["ok", bad]),
        lambda: TfidfVectorizer().fit(["ok", bad]),
        lambda: Resolver().resolve(bad),
        lambda: TextClassifier().fit(["a b", bad], ["x", "y"]),
    ]
    for call in calls:
        with pytest.raises(InvalidInputError) as e:
            call()
        assert "lone surrogate U+D800 at index 4" in str(e.value)
        assert isinstance(e.value, ValueError)
        assert isinstance(e.value.__cause__, UnicodeEncodeError)
    # A list holding a non-str is still the TypeError it was.
    with pytest.raises(TypeError):
        TfidfVectorizer().fit(["ok", 3])
