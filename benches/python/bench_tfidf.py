#!/usr/bin/env python3
"""Side by side, same lines, same run: scikit-learn TfidfVectorizer(ngram_range=(1,3)) vs faultlens.

Prints lines/s for fit and transform, single-threaded and batch (all cores), and the ratio.
Three comparisons:
  default      each library's own default analyzer (faultlens also masks, stems, drops stopwords)
  same_tokens  both get the same whitespace-separated tokens (faultlens's processed text) and only vectorise
  py_stack     the Python preprocessing an auto-resolver runs (regex masking + NLTK Snowball stemming)
               followed by scikit-learn, vs faultlens's default pipeline (skipped without nltk)

Run through benches/python/run.sh (makes a venv with scikit-learn, nltk and faultlens).
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer as SkTfidf

import faultlens

HERE = os.path.dirname(os.path.abspath(__file__))
LOGHUB = os.path.join(HERE, "..", "..", "..", "shared", "data", "loghub")


def load_lines(n):
    if n <= 16000 or not os.path.exists(os.path.join(HERE, "..", "..", "..", "shared", "tools", "expand_loghub.py")):
        lines = [json.loads(l)["text"] for f in sorted(glob.glob(os.path.join(LOGHUB, "*.jsonl"))) for l in open(f)]
        return (lines * (n // len(lines) + 1))[:n] if lines else []
    out = subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "..", "shared", "tools", "expand_loghub.py"),
                          "--lines", str(n), "--seed", "1"], check=True, capture_output=True, text=True).stdout
    return [json.loads(l)["text"] for l in out.splitlines()]


def best_of(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def row(name, n, sk_s, fl_s):
    sk, fl = n / sk_s, n / fl_s
    print(f"{name:42s} {sk:12,.0f} {fl:12,.0f} {fl / sk:8.1f}x")
    return {"name": name, "sklearn_lines_per_s": round(sk), "faultlens_lines_per_s": round(fl), "ratio": round(fl / sk, 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=16000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    lines = load_lines(a.lines)
    if not lines:
        sys.exit("no data: needs ../shared/data/loghub")
    n = len(lines)
    print(f"{n} Loghub lines, ngram_range=(1,3), best of {a.repeat}; cores: {os.cpu_count()}; faultlens {faultlens.version()}")
    print(f"{'':42s} {'sklearn l/s':>12s} {'faultlens l/s':>12s} {'ratio':>9s}")
    results = []

    def run_pair(label, make_sk, make_fl, docs_sk, docs_fl):
        sk = make_sk()
        sk_fit = best_of(lambda: make_sk().fit(docs_sk), a.repeat)
        sk.fit(docs_sk)
        sk_tr = best_of(lambda: sk.transform(docs_sk), a.repeat)
        for parallel in (False, True):
            faultlens.set_parallelism(parallel)
            fl = make_fl()
            fl_fit = best_of(lambda: make_fl().fit(docs_fl), a.repeat)
            fl.fit(docs_fl)
            fl_tr = best_of(lambda: fl.transform(docs_fl), a.repeat)
            mode = "all cores" if parallel else "1 thread"
            results.append(row(f"{label} fit ({mode})", n, sk_fit, fl_fit))
            results.append(row(f"{label} transform ({mode})", n, sk_tr, fl_tr))
        faultlens.set_parallelism(True)

    run_pair("default", lambda: SkTfidf(ngram_range=(1, 3)),
             lambda: faultlens.TfidfVectorizer(ngram_range=(1, 3)), lines, lines)

    # Batch calls tokenise each distinct masked line once; this row shows the speed without repeats.
    seen, distinct = set(), []
    for line, t in zip(lines, faultlens.Preprocessor().template_batch(lines)):
        if t.masked not in seen:
            seen.add(t.masked)
            distinct.append(line)
    n_all = n
    n = len(distinct)
    run_pair("distinct_masked", lambda: SkTfidf(ngram_range=(1, 3)),
             lambda: faultlens.TfidfVectorizer(ngram_range=(1, 3)), distinct, distinct)
    n = n_all

    processed = faultlens.Preprocessor().process_batch(lines)
    token_lists = [p.split(" ") if p else [] for p in processed]
    run_pair("same_tokens", lambda: SkTfidf(ngram_range=(1, 3), tokenizer=str.split, lowercase=False, token_pattern=None),
             lambda: faultlens.TfidfVectorizer(ngram_range=(1, 3), preprocessor=None), processed, processed)

    try:
        from nltk.stem.snowball import SnowballStemmer
    except ImportError:
        print("py_stack skipped: nltk not installed")
    else:
        stem = SnowballStemmer("english").stem
        masks = [(re.compile(p, re.I), r) for p, r in [
            (r"\b[a-z][a-z0-9+.\-]{1,15}://\S+", " <url> "), (r"\b\S+@\S+\.[a-z]{2,}\b", " <email> "),
            (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", " <uuid> "),
            (r"\b\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}:\d{2}\S*", " <ts> "), (r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b", " <ip> "),
            (r"(?<!\w)/[\w.\-/]+", " <path> "), (r"\b0x[0-9a-f]+\b", " <hex> "), (r"\d+", " <num> ")]]
        word = re.compile(r"<\w+>|\w\w+")

        def py_analyzer(text):
            text = text.lower()
            for rx, rep in masks:
                text = rx.sub(rep, text)
            return [t if t.startswith("<") else stem(t) for t in word.findall(text)]

        def ngrams(text):
            toks = py_analyzer(text)
            return [" ".join(toks[i:i + n]) for n in (1, 2, 3) for i in range(len(toks) - n + 1)]

        def sk_stack():
            return SkTfidf(analyzer=ngrams)
        run_pair("py_stack", sk_stack, lambda: faultlens.TfidfVectorizer(ngram_range=(1, 3)), lines, lines)

    if a.json:
        with open(a.json, "w") as f:
            json.dump({"lines": n, "cores": os.cpu_count(), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
