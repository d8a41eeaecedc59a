#!/usr/bin/env python3
"""Side by side, same events, same run: faultlens.WindowAggregator vs what users run today.

Three implementations of the same semantics (docs/window.md: watermark = max event time - allowed
lateness, late events not counted, count at t = same-key events in (t - W, t], an incident fires
when the count exceeds the threshold and the key's previous event was not over it):

  python   plain Python: a heap holds events until the watermark passes them, then a dict of
           per-key deques counts them (the dict-and-deque code services run today)
  pandas   vectorised pandas: late events from a cumulative max, per-(key, time) counts, a
           time-based groupby-rolling sum over (t - W, t], the fire rule with a per-key shift
           (skipped when pandas is missing)
  faultlens  WindowAggregator.push_batch in batches of 10,000 dicts (GIL released inside)

The stream (seeded): keys = Loghub system x template x 15 routes (about 10k keys), Zipf(1.1);
one event per ms of event time, out of order by up to 3 s, 0.05% of events 20 s late (beyond the
5 s allowed lateness); a burst of 300 events on a random key every 20k events. 5-minute window,
threshold 200. Each implementation runs in its own process (so peak memory is its own), on
the same generated events (peak RSS is reset after generating them); the script checks that all find the same incidents (key, start, end,
count) and the same number of late events, then prints events/s, peak RSS and the ratios.

Run: benches/python/run.sh (venv with pandas and faultlens), or directly with --events N.
"""
from __future__ import annotations

import argparse
import bisect
import collections
import gc
import glob
import heapq
import itertools
import json
import os
import random
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LOGHUB = os.path.join(HERE, "..", "..", "..", "shared", "data", "loghub")
WINDOW_MS, THRESHOLD, LATENESS_MS, BATCH = 300_000, 200, 5_000, 10_000


def generate(n, seed=1):
    """Events as tuples (timestamp_ms, service, route, error_code, message, trace_id)."""
    classes = collections.OrderedDict()
    for f in sorted(glob.glob(os.path.join(LOGHUB, "*.jsonl"))):
        for line in open(f, encoding="utf-8"):
            r = json.loads(line)
            classes.setdefault((r["system"], r["label"]), []).append(r["text"])
    if not classes:
        classes = {(f"svc{i % 8}", f"E{i}"): [f"worker {i} failed: connection refused"] for i in range(700)}
    keys, texts = [], []
    for (system, label), lines in classes.items():
        for r in range(15):
            keys.append((system, f"/api/v1/r{r}", label))
            texts.append(lines)
    rng = random.Random(seed)
    order = list(range(len(keys)))
    rng.shuffle(order)
    cum = list(itertools.accumulate(1.0 / (rank + 1) ** 1.1 for rank in range(len(keys))))
    total = cum[-1]
    events = []
    i = 0
    while len(events) < n:
        k = order[min(bisect.bisect_left(cum, rng.random() * total), len(keys) - 1)]
        t = i - rng.randrange(3_000)
        if rng.randrange(2_000) == 0:
            t -= 20_000
        lines = texts[k]
        events.append((t, *keys[k], lines[i % len(lines)], "%016x" % rng.getrandbits(64)))
        if i % 20_000 == 19_999:
            hot = rng.randrange(len(keys))
            for b in range(300):
                lines = texts[hot]
                events.append((i + b * 1_000 // 300, *keys[hot], lines[b % len(lines)], "%016x" % rng.getrandbits(64)))
        i += 1
    return events[:n]


def run_python(events):
    """Same semantics in plain Python: heap until the watermark passes, then per-key deques."""
    heap, state, incidents = [], {}, []
    late = 0
    wm = max_seen = None
    seq = 0

    def drain(wm):
        batch = []
        while heap and heap[0][0] < wm:
            batch.append(heapq.heappop(heap))
        j = 0
        while j < len(batch):
            t, key = batch[j][0], batch[j][1]
            n = 1
            while j + n < len(batch) and batch[j + n][0] == t and batch[j + n][1] == key:
                n += 1
            j += n
            st = state.get(key)
            if st is None:
                st = state[key] = [collections.deque(), False]
            d = st[0]
            cutoff = t - WINDOW_MS
            while d and d[0] <= cutoff:
                d.popleft()
            d.extend([t] * n)
            over = len(d) > THRESHOLD
            if over and not st[1]:
                incidents.append((key, d[0], t, len(d)))
            st[1] = over

    for start in range(0, len(events), BATCH):
        for t, svc, route, code, msg, trace in events[start:start + BATCH]:
            if wm is not None and t < wm:
                late += 1
                continue
            if max_seen is None or t > max_seen:
                max_seen = t
                wm = t - LATENESS_MS
            seq += 1
            heapq.heappush(heap, (t, (svc, route, code), seq, msg, trace))
        drain(wm)
    drain(max_seen + 1)
    return incidents, late


def run_pandas(events):
    import pandas as pd

    df = pd.DataFrame(events, columns=["t", "service", "route", "error_code", "message", "trace_id"])
    prior_max = df["t"].cummax().shift(1)
    late = (df["t"] < prior_max - LATENESS_MS).fillna(False)
    on = df[~late]
    g = on.groupby(["service", "route", "error_code", "t"], sort=True).size().rename("n").reset_index()
    g["ts"] = pd.to_datetime(g["t"], unit="ms")
    keys = ["service", "route", "error_code"]
    rolled = g.groupby(keys, sort=False).rolling(f"{WINDOW_MS}ms", on="ts", closed="right").agg({"n": "sum", "t": "min"})
    rolled = rolled.reset_index(level=keys)
    g["count"] = rolled["n"].to_numpy().astype("int64")
    g["start"] = rolled["t"].to_numpy().astype("int64")
    g["over"] = g["count"] > THRESHOLD
    prev = g.groupby(keys, sort=False)["over"].shift(1, fill_value=False)
    fired = g[g["over"] & ~prev.astype(bool)]
    incidents = [((r.service, r.route, r.error_code), int(r.start), int(r.t), int(r.count)) for r in fired.itertuples()]
    return incidents, int(late.sum())


def run_faultlens(events):
    import faultlens

    w = faultlens.WindowAggregator(window_ms=WINDOW_MS, threshold=THRESHOLD, allowed_lateness_ms=LATENESS_MS)
    incidents, late = [], 0
    for start in range(0, len(events), BATCH):
        out = w.push_batch(events[start:start + BATCH])
        incidents += out["incidents"]
        late += len(out["late"])
    incidents += w.flush()["incidents"]
    return [((i["key"]["service"], i["key"]["route"], i["key"]["error_code"]), i["start_ms"], i["end_ms"], i["count"])
            for i in incidents], late


IMPLS = {"python": run_python, "pandas": run_pandas, "faultlens": run_faultlens}


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def child(impl, n):
    events = generate(n)
    gc.collect()
    try:  # reset the peak-RSS mark so it measures the implementation, not the generator (Linux)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    base = status_kb("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t, cpu = time.perf_counter(), time.process_time()
    incidents, late = IMPLS[impl](events)
    secs, cpu = time.perf_counter() - t, time.process_time() - cpu
    peak = status_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"impl": impl, "seconds": secs, "cpu_seconds": cpu, "events": n, "late": late,
                      "rss_events_mb": base / 1024, "rss_peak_mb": peak / 1024,
                      "incidents": sorted(map(list, incidents))}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--child")
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.child:
        return child(a.child, a.events)
    try:
        import pandas  # noqa: F401
        impls = ["python", "pandas", "faultlens"]
    except ImportError:
        impls = ["python", "faultlens"]
    results = {}
    for impl in impls:
        out = subprocess.run([sys.executable, __file__, "--child", impl, "--events", str(a.events)],
                             check=True, capture_output=True, text=True).stdout
        results[impl] = json.loads(out)
    ref = results["faultlens"]
    print(f"{a.events:,} events, {len(ref['incidents'])} incidents, {ref['late']} late; "
          f"window {WINDOW_MS} ms, threshold {THRESHOLD}, lateness {LATENESS_MS} ms")
    # Events per second of CPU time (the machine may be shared; wall time is shown too).
    print(f"{'implementation':12s} {'events/s cpu':>13s} {'events/s wall':>14s} {'peak RSS MB':>12s} "
          f"{'added MB':>9s} {'faultlens is':>13s} same")
    for impl, r in results.items():
        same = r["incidents"] == ref["incidents"] and r["late"] == ref["late"]
        rate = r["events"] / r["cpu_seconds"]
        ratio = (ref["events"] / ref["cpu_seconds"]) / rate
        print(f"{impl:12s} {rate:13,.0f} {r['events'] / r['seconds']:14,.0f} {r['rss_peak_mb']:12,.0f} "
              f"{r['rss_peak_mb'] - r['rss_events_mb']:9,.0f} {ratio:12.1f}x {'yes' if same else 'NO'}")
        if not same:
            print(f"  {impl}: {len(r['incidents'])} incidents, {r['late']} late", file=sys.stderr)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({k: {x: y for x, y in v.items() if x != "incidents"} for k, v in results.items()}, f, indent=1)
    if any(r["incidents"] != ref["incidents"] or r["late"] != ref["late"] for r in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
