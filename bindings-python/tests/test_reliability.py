"""Threads and processes: no Python thread frozen by another thread's compile, load or wait for
an object's lock (the GIL is released while waiting and compiling), and a child forked while a
thread holds an object's lock gets a clear error instead of hanging (docs/reliability.md)."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

import faultlens
from faultlens import FaultlensError, KlDriftDetector, Resolver, TextClassifier, WindowAggregator

from conftest import FIXTURES

MAX_STALL_S = 0.050


def regex_rules(n):
    return [
        {
            "name": f"r{i}",
            "pattern": rf"(conn|socket) refused .* port {i}\b|timeout after \d+ ms in svc{i}",
            "solution": f"fix {i}",
        }
        for i in range(n)
    ]


def allowed_stall(took):
    """The stall a run may show: MAX_STALL_S, or a quarter of the heavy call's own time on a
    machine so loaded that the call itself ran slowly. A thread holding the GIL through the call
    stalls the others for all of it, so this still fails then, however busy the machine."""
    return max(MAX_STALL_S, took / 4)


def least_stall(heavy, waiter=None, tries=3):
    """`stalls_while` up to `tries` times, keeping the run with the shortest stall: a thread
    holding the GIL through a compile or a wait stalls every run for its whole length, while the
    OS scheduler on a busy machine adds an occasional long gap to one run."""
    best = None
    for _ in range(tries):
        run = stalls_while(heavy, waiter)
        if best is None or run[0] < best[0]:
            best = run
        if best[0] < allowed_stall(best[1]):
            break
    return best


def stalls_while(heavy, waiter=None):
    """Runs `heavy` in a thread (and `waiter` in a loop in another, contending for the same
    object), while this thread ticks every millisecond. Returns (longest gap between ticks
    beyond the tick itself, seconds `heavy` took, how often `waiter` ran)."""
    done = threading.Event()
    took = []
    errors = []
    waits = [0]

    def run_heavy():
        start = time.perf_counter()
        try:
            heavy()
        except BaseException as e:  # reported below
            errors.append(e)
        took.append(time.perf_counter() - start)
        done.set()

    def run_waiter():
        try:
            while not done.is_set():
                waiter()
                waits[0] += 1
                # Leaves the GIL most of the time: on an oversubscribed machine, a thread that
                # always holds it gets preempted holding it, which stalls the timer too.
                time.sleep(0.0005)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run_heavy)]
    if waiter is not None:
        threads.append(threading.Thread(target=run_waiter))
    worst = 0.0
    for t in threads:
        t.start()
    while not done.is_set():
        t0 = time.perf_counter()
        time.sleep(0.001)
        worst = max(worst, time.perf_counter() - t0 - 0.001)
    for t in threads:
        t.join()
    assert not errors, errors
    return worst, took[0], waits[0]


def test_set_rules_compiles_without_the_gil():
    r = Resolver()
    r.set_rules(regex_rules(10))
    rules = regex_rules(3_000)
    stall, took, waits = least_stall(
        lambda: r.set_rules(rules), lambda: r.resolve("timeout after 5 ms in svc7")
    )
    assert len(r.rules()) == 3_000
    assert stall < allowed_stall(took), f"a thread was frozen {stall * 1e3:.0f} ms (compile took {took:.2f} s)"
    assert waits > 0


def test_load_rules_and_resolve_waiting_for_the_lock_keep_the_gil_free(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(regex_rules(3_000)))
    r = Resolver()
    r.set_rules(regex_rules(10))
    stall, took, _ = least_stall(lambda: r.load_rules(path), lambda: r.resolve("timeout after 5 ms in svc7"))
    assert r.resolve("timeout after 5 ms in svc7").rule == "r7"
    assert stall < allowed_stall(took), f"a thread was frozen {stall * 1e3:.0f} ms (load took {took:.2f} s)"


def test_kl_set_baseline_and_add_keep_the_gil_free():
    d = KlDriftDetector()
    d.set_baseline(np.random.default_rng(1).beta(2, 5, 2_000))
    baseline = np.random.default_rng(2).beta(2, 5, 50_000)
    stall, took, waits = least_stall(lambda: d.set_baseline(baseline), lambda: d.add(0.3))
    assert stall < allowed_stall(took), f"a thread was frozen {stall * 1e3:.0f} ms (set_baseline took {took:.2f} s)"


def test_window_push_and_merge_keep_the_gil_free():
    cfg = dict(allowed_lateness_ms=1_000, threshold=1_000)
    w, other = WindowAggregator(**cfg), WindowAggregator(**cfg)
    events = [(i, f"s{i % 5000}", "/", "E", "message", "") for i in range(300_000)]
    other.push_batch(events[:50_000])

    def heavy():
        w.push_batch(events)
        w.merge(other)

    stall, took, waits = least_stall(heavy, lambda: w.stats())
    assert stall < allowed_stall(took), f"a thread was frozen {stall * 1e3:.0f} ms (push and merge took {took:.2f} s)"


def read_training():
    texts, labels = [], []
    with open(FIXTURES / "classify" / "train.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts.append(row["text"])
            labels.append(row["label"])
    return texts, labels


def fork_during(long_call, in_child):
    """Starts `long_call` in a thread, forks while it runs, calls `in_child()` in the child.
    Returns the child's exit code: 10 answered, 11 the clear fork error, 12 another
    FaultlensError, 13 a new object failed in the child, 14 anything else. Fails if the child
    hangs (30 s)."""
    worker = threading.Thread(target=long_call)
    worker.start()
    time.sleep(0.2)
    assert worker.is_alive(), "the call ended before the fork: make it longer"
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status, never return into pytest
        code = 14
        try:
            try:
                in_child()
                code = 10
            except FaultlensError as e:
                clear = "fork" in str(e) and "rebuild or re-load" in str(e)
                code = 11 if clear and isinstance(e, faultlens.InheritedError) else 12
                if code == 12:
                    print(f"child: {type(e).__name__}: {e}", file=sys.stderr)
            # A new object works in the child (batches run on the calling thread there).
            texts, labels = read_training()
            if TextClassifier().fit(texts, labels).predict([texts[0]])[0] != labels[0]:
                code = 13
        except BaseException as e:
            print(f"child: {type(e).__name__}: {e}", file=sys.stderr)
        os._exit(code)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                assert os.WIFEXITED(status), status
                return os.WEXITSTATUS(status)
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung")
    finally:
        worker.join()


needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@needs_fork
def test_fork_while_a_thread_holds_the_lock_gives_the_child_a_clear_error():
    # A vectoriser's fit holds its write lock throughout: the child inherits the lock held.
    texts, _ = read_training()
    big = [f"{t} host{i % 997} shard{i % 31} req{i}" for i, t in enumerate(texts * 300)]
    v = faultlens.TfidfVectorizer()
    v.fit(texts)
    assert fork_during(lambda: v.fit(big), lambda: v.transform(["connection refused"])) == 11
    assert v.n_features() > 0  # the parent is unaffected


@needs_fork
def test_fork_while_a_resolver_learns_never_hangs_the_child():
    # add_knowledge holds the resolver's core locks (its knowledge writer's turn, then the
    # knowledge base) and the object's own lock for the whole call: the child gets
    # InheritedError (11), or an answer (10) if the fork fell after the call.
    texts, labels = read_training()
    errors = [f"{t} host{i % 997} shard{i % 31} req{i}" for i, t in enumerate(texts * 150)]
    solutions = [labels[i % len(labels)] for i in range(len(errors))]
    r = faultlens.Resolver()
    r.add_knowledge(texts, labels)
    start = time.monotonic()
    code = fork_during(lambda: r.add_knowledge(errors, solutions), lambda: r.resolve(texts[0]))
    assert code in (10, 11), code
    assert time.monotonic() - start < 60
    assert r.knowledge_size() == len(texts) + len(errors)  # the parent is unaffected


@needs_fork
def test_fork_while_another_thread_fits_a_classifier_never_hangs_the_child():
    # The classifier fits a copy and swaps it in, so the child finds it unlocked and answers
    # (here: not fitted yet, a NotFittedError, i.e. 12) or, if the swap happened first, predicts.
    texts, labels = read_training()
    big = [f"{t} host{i % 997} shard{i % 31}" for i, t in enumerate(texts * 12)]
    clf = TextClassifier(model="linear_svm")
    code = fork_during(lambda: clf.fit(big, labels * 12), lambda: clf.predict([texts[0]]))
    assert code in (10, 12), code
    assert clf.is_fitted()
