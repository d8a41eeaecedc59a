"""faultlens on Apache Spark: three jobs, each with its single-process twin for checking.

1. classify_and_resolve: `mapInArrow` over the lines; the fitted TextClassifier and Resolver
   travel as model-file bytes in a broadcast variable, are rebuilt once per Python worker
   process (cached by broadcast id), and take each Arrow batch's text column as it is.
2. window_incidents: one WindowAggregator per partition over events repartitioned by key.
   Lateness is decided globally first (an event is late when it is older than the largest
   event time seen *before it in arrival order* minus the allowed lateness), because a
   partition sees only its keys' events and so a lower watermark: it would call fewer events
   late than one aggregator over the whole stream. The global decision is a prefix maximum over
   the arrival order, computed scale-out in two passes (per range partition, then carried in).
   Globally late events are reported and dropped; no remaining event can be late inside its
   partition (its watermark is never above the global one), and the per-key incident rule
   depends only on that key's events, so the incidents equal the single-process run's exactly.
3. drift_by_service: `groupBy("service").applyInArrow`: per service, the classifier's confidence
   on its lines against the classifier's own held-out confidences (KS test and the KL detector).

Run `python run_example.py` (examples/spark) for the checks; `docs/scale-out.md` explains more.
"""
from __future__ import annotations

from typing import Iterator

import pyarrow as pa

KEYS = ["service", "route", "error_code"]

# ---- 1. classify and resolve with mapInArrow --------------------------------------------------

RESULT_SCHEMA = ("seq long, label string, solution string, method string, confidence double, "
                 "reliable boolean, predicted_confidence double")

_models: dict = {}


def _load(bc):
    """The models of broadcast `bc`, built once per Python worker process."""
    import faultlens

    clf_bytes, resolver_bytes = bc.value  # PySpark keeps one copy per worker process
    key = (hash(clf_bytes), hash(resolver_bytes))  # bytes cache their hash: cheap per batch
    got = _models.get(key)
    if got is None:
        got = (faultlens.TextClassifier.from_bytes(clf_bytes), faultlens.Resolver.from_bytes(resolver_bytes))
        _models.clear()  # one model set per worker: drop the previous job's
        _models[key] = got
    return got


def classify_batches(bc):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        clf, resolver = _load(bc)
        # Labels are taken from an Arrow array of the classes by index: no Python str per line.
        classes = pa.array(clf.classes_, pa.string())
        for b in batches:
            text = b.column("text")
            proba = clf.predict_proba(text)
            res = resolver.resolve_batch(text, output="record_batch")
            yield pa.record_batch({
                "seq": b.column("seq"),
                "label": classes.take(proba.argmax(axis=1)) if len(proba) else pa.array([], pa.string()),
                "solution": res.column("solution"),
                "method": res.column("method"),
                "confidence": res.column("confidence"),
                "reliable": res.column("reliable"),
                "predicted_confidence": pa.array(proba.max(axis=1) if len(proba) else [], pa.float64()),
            })
    return run


def classify_and_resolve(spark, df, clf, resolver):
    bc = spark.sparkContext.broadcast((clf.to_bytes(), resolver.to_bytes()))
    return df.select("seq", "text").mapInArrow(classify_batches(bc), RESULT_SCHEMA)


def classify_local(table: pa.Table, clf, resolver) -> dict[str, list]:
    """The single-process run of the same calls, for the line-for-line comparison."""
    text = table.column("text")
    proba = clf.predict_proba(text)
    res = resolver.resolve_batch(text, output="table")
    return {"seq": table.column("seq").to_pylist(),
            "label": list(clf.classes_[proba.argmax(axis=1)]),
            "solution": res.column("solution").to_pylist(), "method": res.column("method").to_pylist(),
            "confidence": res.column("confidence").to_pylist(), "reliable": res.column("reliable").to_pylist(),
            "predicted_confidence": proba.max(axis=1).tolist()}


# ---- 2. window incidents, partitioned by key ----------------------------------------------------

INCIDENT_SCHEMA = ("service string, route string, error_code string, start_ms long, end_ms long, "
                   "count long, id string")


def _mark_late(spark, df, parts: int, lateness: int):
    """Per event, `late`: older than the largest event time before it in arrival order (`seq`)
    minus `lateness`. Two passes: range partitions of `seq`, their maxima collected on the
    driver and carried into the following partitions."""
    from pyspark.sql import functions as F

    ranged = df.repartitionByRange(parts, "seq").sortWithinPartitions("seq") \
        .withColumn("pid", F.spark_partition_id()).cache()
    maxima = dict(ranged.groupBy("pid").agg(F.max("timestamp_ms").alias("m")).collect())
    carried, running = {}, None
    for pid in sorted(maxima):
        carried[pid] = running
        running = maxima[pid] if running is None else max(running, maxima[pid])
    bc = spark.sparkContext.broadcast(carried)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import numpy as np

        seen = None
        for b in batches:
            if b.num_rows == 0:
                continue
            if seen is None:
                seen = bc.value.get(b.column("pid")[0].as_py())
            ts = b.column("timestamp_ms").to_numpy()
            before = np.maximum.accumulate(ts)
            prior = np.empty_like(ts)
            prior[1:] = before[:-1]
            prior[0] = np.iinfo(np.int64).min if seen is None else seen
            if seen is not None:
                prior = np.maximum(prior, seen)
            late = np.zeros(len(ts), dtype=bool)
            has_prior = prior != np.iinfo(np.int64).min
            late[has_prior] = ts[has_prior] < prior[has_prior] - lateness
            seen = int(before[-1]) if seen is None else max(seen, int(before[-1]))
            yield b.append_column("late", pa.array(late, pa.bool_()))

    schema = ", ".join(f"{f.name} {f.dataType.simpleString()}" for f in ranged.schema.fields) + ", late boolean"
    return ranged.mapInArrow(run, schema)


def window_partition(config: dict):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import faultlens

        w = faultlens.WindowAggregator(**config)
        found = []
        for b in batches:
            found.append(w.push_arrow(b)["incidents"])
        found.append(_incidents_table(w.flush()["incidents"]))
        for t in found:
            for rb in t.select(["service", "route", "error_code", "start_ms", "end_ms", "count", "id"]) \
                    .cast(_INCIDENT_ARROW).to_batches():
                yield rb
    return run


_INCIDENT_ARROW = pa.schema([("service", pa.string()), ("route", pa.string()), ("error_code", pa.string()),
                             ("start_ms", pa.int64()), ("end_ms", pa.int64()), ("count", pa.int64()),
                             ("id", pa.string())])


def _incidents_table(incidents: list[dict]) -> pa.Table:
    return pa.table({"service": [i["key"]["service"] for i in incidents],
                     "route": [i["key"]["route"] for i in incidents],
                     "error_code": [i["key"]["error_code"] for i in incidents],
                     "start_ms": pa.array([i["start_ms"] for i in incidents], pa.int64()),
                     "end_ms": pa.array([i["end_ms"] for i in incidents], pa.int64()),
                     "count": pa.array([i["count"] for i in incidents], pa.int64()),
                     "id": pa.array([i["id"] for i in incidents], pa.string())})


def window_incidents(spark, df, config: dict, parts: int):
    """(incidents DataFrame, late `seq`s DataFrame) over events partitioned by key."""
    from pyspark.sql import functions as F

    marked = _mark_late(spark, df, parts, config["allowed_lateness_ms"])
    late = marked.filter("late").select("seq")
    on_time = marked.filter(~F.col("late")).select("seq", "timestamp_ms", *KEYS) \
        .repartition(parts, *KEYS).sortWithinPartitions("seq")
    return on_time.mapInArrow(window_partition(config), INCIDENT_SCHEMA), late


def window_local(table: pa.Table, config: dict):
    """One WindowAggregator over the whole stream in arrival order."""
    import faultlens

    w = faultlens.WindowAggregator(**config)
    out = w.push_arrow(table.sort_by("seq").select(["seq", "timestamp_ms", *KEYS]))
    incidents = out["incidents"].to_pylist() + [
        {**i["key"], **{k: i[k] for k in ("start_ms", "end_ms", "count", "id")}} for i in w.flush()["incidents"]]
    late = sorted(out["late"].column("seq").to_pylist())
    return incidents, late


# ---- 3. drift per service -----------------------------------------------------------------------

DRIFT_SCHEMA = "service string, n long, ks_statistic double, ks_pvalue double, kl double, drift boolean"


def drift_group(bc):
    def run(table: pa.Table) -> pa.Table:
        import faultlens

        baseline = bc.value
        service = table.column("service")[0].as_py()
        scores = table.sort_by("seq").column("predicted_confidence")
        ks = faultlens.ks_2samp(baseline, scores)
        # The KL window: at most half the baseline (the detector wants a reference larger than
        # the windows it compares with it).
        window = max(50, min(1000, len(baseline) // 2))
        batch = faultlens.KlDriftDetector.from_baseline(baseline, window=window).add_batch(scores)
        return pa.table({"service": [service], "n": [table.num_rows], "ks_statistic": [ks["statistic"]],
                         "ks_pvalue": [ks["pvalue"]], "kl": [batch["kl"]], "drift": [batch["drift"]]})
    return run


def drift_by_service(spark, scored, baseline):
    bc = spark.sparkContext.broadcast(baseline)
    return scored.select("service", "seq", "predicted_confidence").groupBy("service") \
        .applyInArrow(drift_group(bc), DRIFT_SCHEMA)


def drift_local(table: pa.Table, baseline) -> list[dict]:
    import pyarrow.compute as pc

    out = []
    run = drift_group(type("B", (), {"value": baseline})())
    for service in sorted(set(table.column("service").to_pylist())):
        out += run(table.filter(pc.equal(table.column("service"), service))).to_pylist()
    return out
