"""Model files from Python: golden v1 files, save/load, bytes, pickling and every kind of damage."""

from __future__ import annotations

import copy
import errno
import io
import os
import pickle
import signal
import struct
import sys

import numpy as np
import pytest

import faultlens
from faultlens import (
    CorruptError,
    FormatError,
    IoError,
    Preprocessor,
    TfidfVectorizer,
    WrongKindError,
)

from conftest import FIXTURES

V1 = FIXTURES / "models" / "v1"


def fitted():
    return TfidfVectorizer(ngram_range=(1, 2)).fit(
        ["Connection refused to 10.0.0.7:5432", "Disk quota exceeded for /var/lib/pg", "connection reset"]
    )


def test_golden_v1_files_load_and_behave(golden):
    v = TfidfVectorizer.load(V1 / "tfidf_vectorizer.flm")
    assert v.is_fitted()
    # Same config as written (the file may spell a fraction as 1.0 or {"fraction": 1.0}); the
    # korean option came after v1, and older files load with it off (Hangul words kept whole).
    expected = {**golden["config"], "preprocessor": {**golden["config"]["preprocessor"], "korean": "none"}}
    assert v.config() == TfidfVectorizer(**expected).config()
    assert v.feature_names() == golden["feature_names"]
    x = v.transform(golden["probe_texts"])
    np.testing.assert_allclose(x.toarray(), golden["probe_dense"], rtol=0, atol=1e-9)
    p = Preprocessor.load(str(V1 / "preprocessor.flm"))  # str and PathLike both work
    assert p.tokens(golden["probe_texts"][0]) == golden["probe_tokens"]
    assert p.config()["split_identifiers"] is True


def test_inspect(golden):
    info = faultlens.inspect(V1 / "tfidf_vectorizer.flm")
    assert info["kind"] == "tfidf_vectorizer"
    assert info["format_version"] == 1  # a version 1 golden file
    assert isinstance(info["library_version"], str) and info["payload_bytes"] > 0
    assert faultlens.inspect(str(V1 / "preprocessor.flm"))["kind"] == "preprocessor"


@pytest.mark.parametrize("make", [fitted, TfidfVectorizer, lambda: Preprocessor(stemmer="none")])
def test_save_load_and_bytes_round_trip(tmp_path, make):
    obj = make()
    cls = type(obj)
    path = tmp_path / "model.flm"
    obj.save(path)
    assert path.read_bytes() == obj.to_bytes()
    assert cls.load(path).to_bytes() == obj.to_bytes()
    assert cls.from_bytes(obj.to_bytes()).to_bytes() == obj.to_bytes()
    assert faultlens.inspect(path)["kind"] == ("preprocessor" if cls is Preprocessor else "tfidf_vectorizer")
    assert [p.name for p in tmp_path.iterdir()] == ["model.flm"]  # no temporary files left


@pytest.mark.parametrize("make", [fitted, TfidfVectorizer, Preprocessor])
def test_pickle_and_copy(make):
    obj = make()
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        data = pickle.dumps(obj, protocol=protocol)
        # Pickles name the public class, not the native module.
        assert b"faultlens" in data and b"_faultlens" not in data
        back = pickle.loads(data)
        assert type(back) is type(obj) and back.to_bytes() == obj.to_bytes()
    assert copy.deepcopy(obj).to_bytes() == obj.to_bytes()
    assert copy.copy(obj).to_bytes() == obj.to_bytes()


def test_pickled_vectorizer_still_transforms():
    v = fitted()
    buf = io.BytesIO()
    pickle.dump({"model": v, "n": 1}, buf)  # what joblib.dump does, nested in a container
    buf.seek(0)
    w = pickle.load(buf)["model"]
    texts = ["connection refused to 10.1.1.1:80"]
    np.testing.assert_array_equal(w.transform(texts).toarray(), v.transform(texts).toarray())


def test_joblib_round_trip(tmp_path):
    joblib = pytest.importorskip("joblib")
    v = fitted()
    joblib.dump(v, tmp_path / "v.joblib")
    assert joblib.load(tmp_path / "v.joblib").to_bytes() == v.to_bytes()


def test_damaged_files_raise_the_right_error(tmp_path):
    good = fitted().to_bytes()
    flipped = bytearray(good)
    flipped[-3] ^= 0x01
    newer = good[:8] + struct.pack("<I", 99) + good[12:]
    cases = [
        (b"", CorruptError, "truncated"),
        (good[:10], CorruptError, "truncated"),
        (good[:-1], CorruptError, "truncated"),
        (b"PK\x03\x04 this is a zip file, not a model", CorruptError, "magic"),
        (bytes(flipped), CorruptError, "checksum"),
        (newer, FormatError, r"v99 unsupported \(this build reads v1\.\.=v2\)"),
        (Preprocessor().to_bytes(), WrongKindError, "expected `tfidf_vectorizer`, file holds `preprocessor`"),
    ]
    for i, (data, error, message) in enumerate(cases):
        with pytest.raises(error, match=message):
            TfidfVectorizer.from_bytes(data)
        path = tmp_path / f"bad{i}.flm"
        path.write_bytes(data)
        with pytest.raises(error, match=message):
            TfidfVectorizer.load(path)
    with pytest.raises(WrongKindError):
        Preprocessor.from_bytes(good)
    with pytest.raises(FormatError):
        faultlens.inspect(_write(tmp_path / "newer.flm", newer))


def _write(path, data):
    path.write_bytes(data)
    return path


def test_missing_file_is_io_error_with_errno(tmp_path):
    with pytest.raises(IoError) as e:
        TfidfVectorizer.load(tmp_path / "missing.flm")
    assert isinstance(e.value, OSError)
    assert e.value.errno == errno.ENOENT
    assert isinstance(e.value.__cause__, FileNotFoundError)
    # The error names its file, as open() does: `filename` and the message.
    assert e.value.filename == str(tmp_path / "missing.flm")
    assert str(tmp_path / "missing.flm") in str(e.value)
    with pytest.raises(IoError) as e:
        Preprocessor().save(tmp_path / "no" / "such" / "dir" / "p.flm")
    assert e.value.filename.startswith(str(tmp_path / "no" / "such" / "dir"))
    with pytest.raises(IoError) as e:
        faultlens.inspect(tmp_path / "missing.flm")
    assert e.value.filename == str(tmp_path / "missing.flm")


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_save_onto_a_symlink_replaces_its_target(tmp_path):
    target = tmp_path / "real.flm"
    link = tmp_path / "link.flm"
    Preprocessor(min_token_length=3).save(target)
    link.symlink_to("real.flm")
    Preprocessor(min_token_length=7).save(link)
    assert link.is_symlink()  # the link is kept
    assert Preprocessor.load(target).to_bytes() == Preprocessor(min_token_length=7).to_bytes()
    assert sorted(os.listdir(tmp_path)) == ["link.flm", "real.flm"]


def test_inspect_reads_the_header_only(tmp_path):
    data = bytearray(Preprocessor().to_bytes())
    data[-2] ^= 1  # the payload's end: load checks it, inspect does not read it
    path = _write(tmp_path / "p.flm", bytes(data))
    assert faultlens.inspect(path)["kind"] == "preprocessor"
    with pytest.raises(CorruptError):
        Preprocessor.load(path)


@pytest.mark.skipif(sys.platform == "win32", reason="needs resource.RLIMIT_FSIZE")
def test_failed_save_keeps_the_previous_file(tmp_path):
    import resource

    path = tmp_path / "model.flm"
    Preprocessor().save(path)
    before = path.read_bytes()
    big = fitted()
    assert len(big.to_bytes()) > len(before)
    # Make every write past len(before) bytes fail (EFBIG), as a full disk would; this also
    # works as root, where permission tricks do not.
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (len(before), hard))
    try:
        with pytest.raises(IoError) as e:
            big.save(path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert e.value.errno == errno.EFBIG
    assert path.read_bytes() == before
    assert Preprocessor.load(path).to_bytes() == before
    assert os.listdir(tmp_path) == ["model.flm"]  # the temporary file was removed
    big.save(path)  # and the next save works
    assert TfidfVectorizer.load(path).to_bytes() == big.to_bytes()
