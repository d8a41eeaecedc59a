#!/usr/bin/env python3
"""faultlens on Spark (local[2]), checked against single-process runs of the same calls.

    python run_example.py [--lines 20000] [--parts 4] [--work DIR]
    python run_example.py --bench --lines 1000000   # + throughput vs scikit-learn in a pandas UDF
                                                    # (bench.py; needs scikit-learn and nltk)

Checks (each prints ok/FAIL; the last line is "N passed, N failed"):
  1. mapInArrow classify + resolve == single process, line for line (labels, solutions, methods,
     confidences, reliable flags, top-class probabilities)
  2. window incidents over events repartitioned by key, one WindowAggregator per partition ==
     one aggregator over the whole stream (every incident, and the late events)
  3. drift per service (groupBy.applyInArrow) == the same per-service calls in one process
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

import corpus  # noqa: E402
import faultlens_spark as fs  # noqa: E402

WINDOW = {"window_ms": 60_000, "threshold": 40, "allowed_lateness_ms": 5_000}


def train(table: pa.Table, n: int):
    """A classifier and a resolver from the first `n` lines (the rest are new to them)."""
    import faultlens

    head = table.slice(0, n)
    texts, labels = head.column("text").to_pylist(), head.column("label").to_pylist()
    clf = faultlens.TextClassifier(model="logistic").fit(texts, labels)
    resolver = faultlens.Resolver()
    resolver.add_knowledge(texts[: n // 2], labels[: n // 2])
    resolver.set_classifier(clf)
    return clf, resolver


def spark_session(cores: int = 2):
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master(f"local[{cores}]").appName("faultlens-example")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.driver.memory", "2g")
            .getOrCreate())


def rows_by_seq(table: pa.Table) -> dict[str, list]:
    return table.sort_by("seq").to_pydict()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=20_000)
    ap.add_argument("--train", type=int, default=3_000)
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--work", default=None)
    ap.add_argument("--loghub", default=None, help="Loghub samples folder (default: the test fixtures)")
    ap.add_argument("--bench", action="store_true", help="after the checks, the throughput comparison (bench.py)")
    ap.add_argument("--bench-only", action="store_true", help="the comparison without the checks")
    ap.add_argument("--jobs", default="identity,faultlens,sklearn same,sklearn bare", help="bench: Spark jobs to time")
    ap.add_argument("--repeat", type=int, default=3, help="bench: runs per job (the best is kept)")
    ap.add_argument("--local-lines", type=int, default=50_000, help="bench: lines timed outside Spark")
    ap.add_argument("--bench-parts", type=int, default=2, help="bench: partitions (one per core by default)")
    ap.add_argument("--bench-source", choices=("parquet", "cache"), default="cache",
                    help="bench: read the lines from Parquet each run, or from a cached DataFrame")
    ap.add_argument("--bench-batch", type=int, default=10_000,
                    help="bench: spark.sql.execution.arrow.maxRecordsPerBatch (Spark's default: 10000)")
    ap.add_argument("--sweep", action="store_true", help="bench: also Parquet reads, count(), other batch sizes")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="faultlens-spark-")
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, f"corpus-{a.lines}.parquet")
    if not os.path.exists(path):
        pq.write_table(pa.table(corpus.generate(a.lines, 1, a.loghub)), path, row_group_size=64 * 1024)
    table = pq.read_table(path)
    clf, resolver = train(table, a.train)

    spark = spark_session()
    spark.sparkContext.setLogLevel("ERROR")
    # The job functions live in faultlens_spark.py: ship it to the executors' Python workers.
    spark.sparkContext.addPyFile(os.path.join(HERE, "faultlens_spark.py"))
    df = spark.read.parquet(path)
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)

    if a.bench_only:
        run_bench(spark, table, clf, a, work)
        spark.stop()
        return 0

    # 1. classify + resolve
    t = time.perf_counter()
    scored = fs.classify_and_resolve(spark, df, clf, resolver)
    got = rows_by_seq(scored.toArrow())
    spark_secs = time.perf_counter() - t
    want = fs.classify_local(table, clf, resolver)
    same = [k for k in want if got[k] != want[k]]
    check("mapInArrow classify+resolve == single process, line for line", not same and len(got["seq"]) == a.lines,
          f"{a.lines} lines in {spark_secs:.1f} s" if not same else f"columns differ: {same}")

    # 2. window incidents by key
    t = time.perf_counter()
    incidents, late = fs.window_incidents(spark, df, WINDOW, a.parts)
    got_inc = sorted(tuple(r) for r in incidents.toArrow().to_pylist() for r in [r.values()])
    got_late = sorted(late.toArrow().column("seq").to_pylist())
    secs = time.perf_counter() - t
    want_inc, want_late = fs.window_local(table, WINDOW)
    want_inc = sorted(tuple(i[k] for k in ("service", "route", "error_code", "start_ms", "end_ms", "count", "id"))
                      for i in want_inc)
    check("window incidents, one aggregator per key partition == one aggregator", got_inc == want_inc,
          f"{len(want_inc)} incidents" + ("" if got_inc == want_inc else f" vs {len(got_inc)}"))
    check("late events == one aggregator's", got_late == want_late,
          f"{len(want_late)} late ({secs:.1f} s)" + ("" if got_late == want_late else f" vs {len(got_late)}"))

    # 3. drift per service over the classifier's confidence column
    baseline = clf.baseline_confidences()
    scored_table = pa.table({"seq": got["seq"], "predicted_confidence": got["predicted_confidence"]})
    joined = table.select(["seq", "service"]).join(scored_table, "seq").sort_by("seq")
    spark_drift = fs.drift_by_service(spark, df.select("seq", "service").join(scored, "seq"), baseline)
    got_drift = sorted(spark_drift.toArrow().to_pylist(), key=lambda r: r["service"])
    want_drift = fs.drift_local(joined, baseline)
    check("drift per service == single process", got_drift == want_drift,
          ", ".join(f"{r['service']}: KS p={r['ks_pvalue']:.3g}" for r in want_drift))

    if a.bench:
        run_bench(spark, table, clf, a, work)
    spark.stop()
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def run_bench(spark, table, clf, a, work):
    """scikit-learn and NLTK are needed only here: imported late, shipped to the workers."""
    import bench

    for f in ("sklearn_job.py", "bench.py"):
        spark.sparkContext.addPyFile(os.path.join(HERE, f))
    print(f"bench load average before: {os.getloadavg()[0]:.1f}", flush=True)
    bench.bench(spark, table, clf, a, work)
    print(f"bench load average after: {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
