"""Preprocessor: conversions, shared cases, batches, GIL release and the fork guard."""

from __future__ import annotations

import multiprocessing
import pickle
import sys
import threading
import time

import pytest

import faultlens
from faultlens import InvalidConfigError, Preprocessor, Template, TfidfVectorizer

from conftest import FIXTURES, load_json

TEXT_CASES = load_json(FIXTURES / "text_cases.json")


@pytest.mark.parametrize("case", TEXT_CASES, ids=[c["name"] for c in TEXT_CASES])
def test_shared_text_cases(case):
    p = Preprocessor(**case["config"])
    assert p.tokens(case["text"]) == case["tokens"]
    assert p.process(case["text"]) == " ".join(case["tokens"])
    t = p.template(case["text"])
    assert (t.masked, t.id) == (case["masked"], case["template_id"])


def test_batches_equal_single_calls():
    p = Preprocessor()
    lines = [c["text"] for c in TEXT_CASES] * 20  # 380 lines: above the parallel threshold
    assert p.tokens_batch(lines) == [p.tokens(t) for t in lines]
    assert p.process_batch(lines) == [p.process(t) for t in lines]
    assert p.template_batch(lines) == [p.template(t) for t in lines]
    assert p.tokens_batch([]) == []
    assert p.tokens_batch(tuple(lines[:3])) == [p.tokens(t) for t in lines[:3]]


def test_template_object():
    t = Preprocessor().template("PacketResponder  1 for block blk_38865049064139660 terminating")
    assert t.masked == "packetresponder <num> for block blk_<num> terminating"
    assert len(t.id) == 16 and int(t.id, 16) >= 0
    assert t["masked"] == t.masked and t["id"] == t.id
    with pytest.raises(KeyError):
        t["other"]
    assert isinstance(t, Template)
    assert t == Template(t.masked, t.id) and hash(t) == hash(Template(t.masked, t.id))
    assert pickle.loads(pickle.dumps(t)) == t
    assert {t: 1}[t] == 1
    assert "packetresponder" in repr(t)


def test_keyword_config_round_trips():
    p = Preprocessor(
        lowercase=False,
        stemmer="none",
        masks=("ip", "num"),
        custom_masks=[{"pattern": r"ord-[a-z]+", "placeholder": "<order>"}, (r"tx-\d+", "<tx>")],
        extra_stop_words=["foo"],
        min_token_length=1,
    )
    cfg = p.config()
    assert cfg["lowercase"] is False and cfg["stemmer"] == "none"
    assert cfg["masks"] == ["ip", "num"]
    assert cfg["custom_masks"][1] == {"pattern": r"tx-\d+", "placeholder": "<tx>"}
    assert Preprocessor(**cfg).config() == cfg
    assert p.tokens("Order ord-abc tx-12 foo") == ["Order", "<order>", "<tx>"]
    assert Preprocessor().config() == Preprocessor(**Preprocessor().config()).config()
    assert repr(Preprocessor()) == "Preprocessor()"
    assert repr(Preprocessor(stemmer="none")) == "Preprocessor(stemmer='none')"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"stemmer": "klingon"}, "stemmer"),
        ({"stop_words": "french"}, "stop_words"),
        ({"masks": ["phone"]}, "masks"),
        ({"custom_masks": [{"pattern": "(", "placeholder": "<x>"}]}, "custom_masks"),
        ({"lowercas": True}, "lowercas"),  # unknown keyword
        ({"min_token_length": "two"}, "min_token_length"),  # wrong type
        ({"min_token_length": -1}, "min_token_length"),
        ({"masks": {"ip"}}, "masks"),  # unsupported Python type
    ],
)
def test_bad_config_names_the_field(kwargs, field):
    with pytest.raises(InvalidConfigError, match=f"`{field}`"):
        Preprocessor(**kwargs)


def test_arguments_are_keyword_only_and_typed():
    with pytest.raises(TypeError):
        Preprocessor(True)  # type: ignore[misc]
    with pytest.raises(TypeError):
        Preprocessor().tokens(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Preprocessor().tokens_batch("not a list")  # type: ignore[arg-type]


def test_bytes_round_trip_accepts_bytes_and_bytearray():
    p = Preprocessor(split_identifiers=True)
    b = p.to_bytes()
    assert isinstance(b, bytes) and b[:8] == b"FAULTLNS"
    for data in (b, bytearray(b)):
        q = Preprocessor.from_bytes(data)
        assert q.config() == p.config()
        assert q.tokens("kube-proxy down") == p.tokens("kube-proxy down")


# --- GIL and fork -------------------------------------------------------------------------------


def _ticks_during(call):
    """How often a sleeping-and-waking thread got the GIL while `call` ran. The switch interval
    is raised to 30 s, so the thread can only run when the call releases the GIL itself."""
    ticks = 0
    stop = threading.Event()

    def ticker():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.0002)

    old = sys.getswitchinterval()
    t = threading.Thread(target=ticker)
    t.start()
    try:
        time.sleep(0.01)
        sys.setswitchinterval(30.0)
        before = ticks
        result = call()
        during = ticks - before
    finally:
        sys.setswitchinterval(old)
        stop.set()
        t.join()
    return during, result


def _lines(n):
    return [f"worker {i} failed to connect to 10.0.{i % 256}.{i % 7}:5432 after {i % 9} retries" for i in range(n)]


def test_gil_released_during_batch_preprocessing():
    lines = _lines(200_000)
    during, out = _ticks_during(lambda: Preprocessor().tokens_batch(lines))
    assert len(out) == len(lines)
    assert during >= 10, f"another thread ran only {during} times during tokens_batch"


def test_gil_released_during_transform():
    lines = _lines(200_000)
    v = TfidfVectorizer(ngram_range=(1, 2)).fit(lines[:1000])
    during, x = _ticks_during(lambda: v.transform(lines))
    assert x.shape == (len(lines), v.n_features())
    assert during >= 10, f"another thread ran only {during} times during transform"


def _child(queue):
    p = Preprocessor()
    out = p.tokens_batch(_lines(2000))  # would hang on the parent's dead rayon pool
    queue.put((faultlens.parallelism(), len(out)))


@pytest.mark.skipif(not hasattr(multiprocessing, "get_context") or sys.platform == "win32", reason="needs fork")
def test_forked_child_runs_batches_without_the_pool():
    assert faultlens.parallelism() is True
    Preprocessor().tokens_batch(_lines(2000))  # make sure the parent's thread pool exists
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue,))
    proc.start()
    proc.join(60)
    if proc.is_alive():
        proc.kill()
        pytest.fail("forked child hung")
    assert proc.exitcode == 0
    assert queue.get(timeout=10) == (False, 2000)
    assert faultlens.parallelism() is True  # the parent is untouched


def test_parallelism_switch():
    try:
        faultlens.set_parallelism(False)
        assert faultlens.parallelism() is False
        lines = _lines(600)
        assert Preprocessor().tokens_batch(lines) == [Preprocessor().tokens(t) for t in lines]
    finally:
        faultlens.set_parallelism(True)
    assert faultlens.parallelism() is True


def test_gil_released_for_one_huge_line():
    big = "timeout error " * 1_000_000
    during, out = _ticks_during(lambda: Preprocessor().tokens(big))
    assert len(out) == 2_000_000
    assert during >= 10, f"another thread ran only {during} times during tokens(<14 MB line>)"
