"""Throughput of one classify job in Spark: faultlens in `mapInArrow` against scikit-learn in a
pandas UDF, and where the time goes. Run through `run_example.py --bench` / `--bench-only`.

Every Spark job reads the same lines (written as one Parquet file per partition, then cached
unless `--bench-source parquet`), one partition per core by default (`--bench-parts`): a PySpark
worker runs `gc.collect()` after every task, 80-95 ms once scikit-learn and pandas are imported,
so small partitions measure that rather than the model (large jobs' 128 MB splits amortise it the
same way). Arrow batches of `--bench-batch` lines; each job writes its label column to Spark's
`noop` sink; best of `--repeat` runs. Per job, besides the wall time: the CPU seconds of the JVM
(reading the lines, Arrow to and from the Python workers, the sink) and of the Python worker
processes (read from /proc), and inside the workers the thread CPU of the model call and of
building the output (Spark accumulators).

Outside Spark, in this process on one core, the same calls on the same lines in batches of the
same size: what Spark adds is the difference.
"""
import os
import pickle
import time

import pyarrow as pa

# This module is imported by the Python workers running the faultlens jobs: it imports neither
# pandas nor scikit-learn, so those workers' heaps (and their per-task gc.collect) stay small.
_HZ = os.sysconf("SC_CLK_TCK")


def _cpu_tree(root):
    """(CPU seconds of process `root`, of its descendant processes, dead ones reaped included)."""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:].split()
        own = (int(rest[11]) + int(rest[12])) / _HZ
        reaped = (int(rest[13]) + int(rest[14])) / _HZ
        procs[int(d)] = (int(rest[1]), own, reaped)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    below, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        below += procs[pid][1] + procs[pid][2]
        todo += children.get(pid, [])
    return procs[root][1], below


# A module-level cache in each Python worker (PySpark reuses a worker across tasks): one model
# per broadcast, rebuilt only when other bytes arrive. A worker keeps one copy of a broadcast's
# value, and a bytes object caches its hash: the look-up is cheap per batch.
_models: dict = {}


def _model(bc, build):
    key = hash(bc.value)
    got = _models.get(key)
    if got is None:
        _models.clear()
        got = _models[key] = build(bc.value)
    return got


def faultlens_job(bc, acc_model, acc_glue):
    """`mapInArrow` body: the text column straight into `predict`, labels out as Arrow."""
    def run(batches):
        import faultlens

        # Spark runs one task per core already: faultlens' own threads would compete with it.
        faultlens.set_parallelism(False)
        clf = _model(bc, faultlens.TextClassifier.from_bytes)
        for b in batches:
            t0 = time.thread_time()
            labels = clf.predict(b.column("text"))
            t1 = time.thread_time()
            out = pa.record_batch({"label": pa.array(labels, pa.string())})
            acc_model.add(t1 - t0)
            acc_glue.add(time.thread_time() - t1)
            yield out
    return run


def identity_job(batches):
    """`mapInArrow` body with no model: each batch's text column handed back (the floor)."""
    for b in batches:
        yield pa.record_batch({"label": b.column("text")})


def _rate(n, secs):
    return n / secs if secs > 0 else float("inf")


def local_rates(table: pa.Table, fl, models: dict, n: int, batch: int) -> dict[str, float]:
    """Lines/s of each model's predict in this process, one core, batches of `batch` lines."""
    import faultlens

    faultlens.set_parallelism(False)
    text = table.column("text").slice(0, n).combine_chunks()
    rates = {}
    t = time.perf_counter()
    for i in range(0, n, batch):
        pa.array(fl.predict(text.slice(i, batch)), pa.string())
    rates["faultlens"] = _rate(n, time.perf_counter() - t)
    series = text.to_pandas()
    for name, m in models.items():
        t = time.perf_counter()
        for i in range(0, n, batch):
            m.predict(series.iloc[i:i + batch])
        rates[name] = _rate(n, time.perf_counter() - t)
    faultlens.set_parallelism(True)
    return rates


def _write_parts(table: pa.Table, path: str, parts: int) -> None:
    import pyarrow.parquet as pq

    os.makedirs(path)
    step = -(-table.num_rows // parts)
    for i in range(parts):
        pq.write_table(table.slice(i * step, step), os.path.join(path, f"part-{i:03d}.parquet"))


def bench(spark, table: pa.Table, clf, a, work: str) -> dict:
    import faultlens
    import sklearn_job

    n = table.num_rows
    head = table.slice(0, a.train)
    texts, labels = head.column("text").to_pylist(), head.column("label").to_pylist()
    sk = {"same": sklearn_job.same_job().fit(texts, labels), "bare": sklearn_job.bare().fit(texts, labels)}

    # Accuracy on lines not trained on: the scikit-learn job is a real equivalent.
    rest = table.slice(a.train, a.local_lines)
    truth = rest.column("label").to_numpy(zero_copy_only=False)
    acc = {"faultlens": float((clf.predict(rest.column("text")) == truth).mean())}
    for name, m in sk.items():
        acc[name] = float((m.predict(rest.column("text").to_pylist()) == truth).mean())
    batch = int(spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch"))
    local = local_rates(table, clf, sk, min(n, a.local_lines), a.bench_batch)

    sc = spark.sparkContext
    jvm_pid = sc._gateway.proc.pid
    fl_bc = sc.broadcast(clf.to_bytes())
    sk_bc = {k: sc.broadcast(pickle.dumps(m)) for k, m in sk.items()}
    acc_model, acc_glue = sc.accumulator(0.0), sc.accumulator(0.0)

    # One Parquet file per partition; a high open cost keeps Spark from packing files together.
    open_cost = spark.conf.get("spark.sql.files.openCostInBytes")
    spark.conf.set("spark.sql.files.openCostInBytes", str(1 << 40))
    frames = {}
    for parts in sorted({a.bench_parts, 8} if a.sweep else {a.bench_parts}):
        path = os.path.join(work, f"bench-text-{n}-{parts}")
        if not os.path.exists(path):
            _write_parts(table.select(["text"]), path, parts)
        frames[parts] = spark.read.parquet(path)
        got = frames[parts].rdd.getNumPartitions()
        if got != parts:
            raise RuntimeError(f"{path}: Spark made {got} partitions of {parts} files")
    df = frames[a.bench_parts]

    jobs = {
        "identity": lambda df: df.mapInArrow(identity_job, "label string"),
        "faultlens": lambda df: df.mapInArrow(faultlens_job(fl_bc, acc_model, acc_glue), "label string"),
        "sklearn same": lambda df: df.select(sklearn_job.predict_udf(sk_bc["same"], acc_model)("text").alias("label")),
        "sklearn bare": lambda df: df.select(sklearn_job.predict_udf(sk_bc["bare"], acc_model)("text").alias("label")),
    }
    results = {}

    def measure(name, job, df, sink="noop"):
        best = None
        for _ in range(a.repeat):
            acc_model.value, acc_glue.value = 0.0, 0.0
            jvm0, py0 = _cpu_tree(jvm_pid)
            t = time.perf_counter()
            out = job(df)
            if sink == "noop":
                out.write.format("noop").mode("overwrite").save()
            else:
                out.count()
            secs = time.perf_counter() - t
            jvm1, py1 = _cpu_tree(jvm_pid)
            r = {"secs": secs, "rate": _rate(n, secs), "jvm_cpu": jvm1 - jvm0, "py_cpu": py1 - py0,
                 "model_cpu": acc_model.value, "glue_cpu": acc_glue.value}
            if best is None or r["secs"] < best["secs"]:
                best = r
        results[name] = best
        us = {k: best[k] / n * 1e6 for k in ("jvm_cpu", "py_cpu", "model_cpu", "glue_cpu")}
        print(f"bench {name:<36} {best['rate']:>9,.0f} lines/s ({best['secs']:.2f} s); CPU per line: "
              f"JVM {us['jvm_cpu']:.1f} us, Python workers {us['py_cpu']:.1f} us "
              f"(model {us['model_cpu']:.1f}, output {us['glue_cpu']:.1f})", flush=True)

    cached = df.cache()
    cached.count()
    source = cached if a.bench_source == "cache" else df
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(a.bench_batch))
    # The faultlens workers first: a worker that ran a scikit-learn task keeps its imports. One
    # unmeasured run first, so the JVM's code for this plan is compiled.
    names = a.jobs.split(",")
    jobs["faultlens"](source).write.format("noop").mode("overwrite").save()
    for name in [x for x in names if not x.startswith("sklearn")]:
        measure(name, jobs[name], source)
    if a.sweep:
        for src, frame in (("Parquet", df), ("a cached DataFrame", cached)):
            for size in (2_000, 10_000, 50_000):
                spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(size))
                measure(f"identity, {src}, batches of {size}", jobs["identity"], frame)
                measure(f"faultlens, {src}, batches of {size}", jobs["faultlens"], frame)
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(a.bench_batch))
        measure("identity, count() instead of noop", jobs["identity"], source, sink="count")
        measure("identity, 8 partitions", jobs["identity"], frames[8])
        measure("faultlens, 8 partitions", jobs["faultlens"], frames[8])
    for name in [x for x in names if x.startswith("sklearn")]:
        measure(name, jobs[name], source)
    cached.unpersist()
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch))
    spark.conf.set("spark.sql.files.openCostInBytes", open_cost)

    print(f"bench outside Spark, one core, batches of {a.bench_batch}: " +
          ", ".join(f"{k} {v:,.0f} lines/s" for k, v in local.items()))
    print("bench accuracy on the untrained lines: " + ", ".join(f"{k} {v:.4f}" for k, v in acc.items()))
    for key, what in (("sklearn same", "same job"), ("sklearn bare", "without preprocessing (not the same job)")):
        if "faultlens" in results and key in results:
            cpu = {k: results[k]["jvm_cpu"] + results[k]["py_cpu"] for k in ("faultlens", key)}
            print(f"bench faultlens / scikit-learn {what} = {results['faultlens']['rate'] / results[key]['rate']:.1f}x "
                  f"(CPU per line: {cpu[key] / cpu['faultlens']:.1f}x)")
    faultlens.set_parallelism(True)
    return {"spark": results, "local": local, "accuracy": acc}
