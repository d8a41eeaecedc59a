#!/usr/bin/env python3
"""A Loghub-like corpus for the Spark example, generated with a fixed seed.

Each row is a real Loghub line (tests/fixtures/classify/{train,test}.jsonl, or every file of a
Loghub sample folder given with --loghub) whose digit and hex runs are replaced by random ones of
the same length (as ../shared/tools/expand_loghub.py does), plus what a log pipeline carries:

    seq           arrival order (int64)
    timestamp_ms  event time: one event per ms, out of order by up to 3 s, 0.1% 20 s late
    service       the Loghub system ("OpenSSH", "HDFS", ...)
    route         one of 8 routes
    error_code    the Loghub event id ("E10")
    text, label   the line and its "System:EventId" label

Written as Parquet (one file; Spark reads it in splits). Usage:
    python corpus.py --lines 1000000 --out corpus.parquet [--seed 1] [--loghub DIR]
"""
from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "classify"
RUN = re.compile(r"0x[0-9a-fA-F]+|[0-9a-fA-F]*[0-9][0-9a-fA-F]*")


def vary(text: str, rng: random.Random) -> str:
    def sub(m):
        s = m.group(0)
        if s.startswith("0x"):
            return "0x" + "".join(rng.choice("0123456789abcdef") for _ in s[2:])
        return "".join(rng.choice("0123456789") if c.isdigit() else rng.choice("abcdef") if c.isalpha() else c
                       for c in s)
    return RUN.sub(sub, text)


def samples(loghub: str | None) -> list[dict]:
    files = sorted(Path(loghub).glob("*.jsonl")) if loghub else [FIXTURES / "train.jsonl", FIXTURES / "test.jsonl"]
    rows = []
    for f in files:
        for line in f.open(encoding="utf-8"):
            r = json.loads(line)
            label = r["label"] if ":" in r["label"] else f"{r.get('system', f.stem)}:{r['label']}"
            rows.append({"text": r["text"], "label": label})
    return rows


def generate(lines: int, seed: int = 1, loghub: str | None = None) -> dict[str, list]:
    rng = random.Random(seed)
    base = samples(loghub)
    cols = {k: [] for k in ("seq", "timestamp_ms", "service", "route", "error_code", "text", "label")}
    for i in range(lines):
        r = base[rng.randrange(len(base))]
        system, event = r["label"].split(":", 1)
        t = 1_700_000_000_000 + i - rng.randrange(3_000)
        if rng.randrange(1_000) == 0:
            t -= 20_000
        cols["seq"].append(i)
        cols["timestamp_ms"].append(t)
        cols["service"].append(system)
        cols["route"].append(f"/api/r{rng.randrange(8)}")
        cols["error_code"].append(event)
        cols["text"].append(vary(r["text"], rng))
        cols["label"].append(r["label"])
    return cols


def main() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--loghub", help="a folder of Loghub *.jsonl samples (default: the test fixtures)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    cols = generate(a.lines, a.seed, a.loghub)
    pq.write_table(pa.table(cols), a.out, row_group_size=64 * 1024)


if __name__ == "__main__":
    main()
