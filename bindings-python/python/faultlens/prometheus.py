"""Export faultlens objects through the service's own ``prometheus_client``.

``register(obj, name="...")`` adds a resolver, classifier, window aggregator, drift detector (KL,
ADWIN, Page-Hinkley), incident grouper or index to a registry (default: prometheus_client's global
``REGISTRY``); every scrape then reads the object's plain-data accessor (``Resolver.metrics()``,
``TextClassifier.metrics()``, ``WindowAggregator.stats()``, ``KlDriftDetector.status()``, ``Adwin.n_detections()``,
``IncidentGrouper.len()``/``groups()``, ``SimilarityIndex.len()``/``metrics()``, ...) once and reports it with
the label ``name``. The families and names are the same in Node's ``faultlens/prometheus``.
``prometheus_client`` is optional: it is imported only here, when this module is imported, never
by ``import faultlens``.

    from prometheus_client import start_http_server
    import faultlens, faultlens.prometheus
    resolver = faultlens.Resolver()
    faultlens.prometheus.register(resolver, name="elk")
    start_http_server(9100)
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from prometheus_client.core import (
    REGISTRY,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from . import (
    Adwin,
    IncidentGrouper,
    KlDriftDetector,
    PageHinkley,
    Resolver,
    SimilarityIndex,
    TextClassifier,
    TextIndex,
    WindowAggregator,
)

__all__ = ["register", "unregister"]

_LEVELS = ("filling", "normal", "watch", "drift", "severe")
_KINDS = (Resolver, TextClassifier, WindowAggregator, KlDriftDetector, Adwin, PageHinkley, IncidentGrouper, SimilarityIndex, TextIndex)
_KIND_NAMES = "a Resolver, TextClassifier, WindowAggregator, KlDriftDetector, Adwin, PageHinkley, IncidentGrouper, SimilarityIndex or TextIndex"
_DETECTED_DOC = "1 when the detector reports drift now (KL: the window is over the drift threshold)."


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


def _histogram(family, fam_name: str, doc: str, name: str, h: dict) -> None:
    buckets = [(_le(b), c) for b, c in h["buckets"]] + [("+Inf", h["count"])]
    family(HistogramMetricFamily, fam_name, doc, ["name"]).add_metric([name], buckets, h["sum"])


class _Collector:
    """One collector per registry, holding every registered object (so two resolvers share the
    metric families and differ by ``name``)."""

    def __init__(self) -> None:
        self._objects: dict[str, Any] = {}
        self._lock = threading.Lock()

    def add(self, name: str, obj: Any) -> None:
        with self._lock:
            if name in self._objects:
                raise ValueError(f"a faultlens object named {name!r} is already registered")
            self._objects[name] = obj

    def remove(self, name: str) -> bool:
        with self._lock:
            return self._objects.pop(name, None) is not None

    def describe(self):
        # Families depend on what is registered: let the registry call collect() instead.
        return []

    def collect(self):
        with self._lock:
            objects = sorted(self._objects.items())
        families: dict[str, Any] = {}

        def family(kind, fam_name, doc, labels):
            f = families.get(fam_name)
            if f is None:
                f = families[fam_name] = kind(fam_name, doc, labels=labels)
            return f

        for name, obj in objects:
            if isinstance(obj, Resolver):
                self._resolver(family, name, obj.metrics())
            elif isinstance(obj, TextClassifier):
                self._classifier(family, name, obj.metrics())
            elif isinstance(obj, WindowAggregator):
                self._window(family, name, obj.stats())
            elif isinstance(obj, KlDriftDetector):
                self._drift(family, name, obj.status())
            elif isinstance(obj, (Adwin, PageHinkley)):
                self._change(family, name, obj)
            elif isinstance(obj, IncidentGrouper):
                self._grouper(family, name, obj)
            elif isinstance(obj, (SimilarityIndex, TextIndex)):
                self._index(family, name, obj)
        yield from families.values()

    @staticmethod
    def _resolver(family, name: str, m: dict) -> None:
        res = family(CounterMetricFamily, "faultlens_resolutions", "Resolutions by the method that answered.", ["name", "method"])
        for method, v in m["resolutions"].items():
            res.add_metric([name, method], v)
        for key, fam_name, doc in [
            ("unreliable", "faultlens_unreliable_resolutions", "Abstentions: resolutions no stage answered reliably."),
            ("novel", "faultlens_novel_inputs", "Resolutions whose input was unlike the knowledge base and the training data."),
            ("errors", "faultlens_resolve_errors", "Resolve calls that failed with an error."),
        ]:
            family(CounterMetricFamily, fam_name, doc, ["name"]).add_metric([name], m[key])
        out = family(CounterMetricFamily, "faultlens_outcomes", "Feedback on answers, by method and result.", ["name", "method", "result"])
        for method, c in m["outcomes"].items():
            out.add_metric([name, method, "success"], c["success"])
            out.add_metric([name, method, "failure"], c["failure"])
        for key, fam_name, doc in [
            ("latency_seconds", "faultlens_resolve_latency_seconds", "Time per resolution."),
            ("confidence", "faultlens_resolve_confidence", "Confidence of answered resolutions."),
        ]:
            _histogram(family, fam_name, doc, name, m[key])

    @staticmethod
    def _classifier(family, name: str, m: dict) -> None:
        for key, fam_name, doc in [
            ("predictions", "faultlens_classifier_predictions", "Rows predicted (every prediction method)."),
            ("novel", "faultlens_classifier_novel_inputs", "Predicted rows unlike the training data (novelty above novelty_threshold)."),
            ("unreliable", "faultlens_classifier_unreliable_predictions", "Predicted rows with confidence below threshold."),
        ]:
            family(CounterMetricFamily, fam_name, doc, ["name"]).add_metric([name], m[key])
        _histogram(family, "faultlens_classifier_confidence", "Confidence of the rows predict_one scored.", name, m["confidence"])

    @staticmethod
    def _window(family, name: str, s: dict) -> None:
        for key, doc in [
            ("events", "On-time events counted."),
            ("late_events", "Events older than the watermark (not counted)."),
            ("rejected_events", "Events beyond max_future_ms (not counted)."),
            ("evicted_keys", "Keys evicted by max_keys."),
            ("evicted_events", "Not-yet-final events dropped with evicted keys."),
            ("expired_keys", "Keys removed because their window emptied."),
            ("incidents", "Incidents raised."),
        ]:
            family(CounterMetricFamily, f"faultlens_window_{key}", doc, ["name"]).add_metric([name], s[key])
        for key, doc in [("live_keys", "Keys held now."), ("pending_events", "Events waiting for the watermark.")]:
            family(GaugeMetricFamily, f"faultlens_window_{key}", doc, ["name"]).add_metric([name], s[key])
        if s.get("watermark_ms") is not None:
            family(GaugeMetricFamily, "faultlens_window_watermark_ms", "Current watermark (event time, ms).", ["name"]).add_metric([name], s["watermark_ms"])

    @staticmethod
    def _drift(family, name: str, st: dict) -> None:
        for key, doc in [("kl", "KL divergence of the current window from the baseline."), ("psi", "Population stability index of the window."), ("js", "Jensen-Shannon divergence of the window.")]:
            family(GaugeMetricFamily, f"faultlens_drift_{key}", doc, ["name"]).add_metric([name], st[key])
        family(GaugeMetricFamily, "faultlens_drift_detected", _DETECTED_DOC, ["name"]).add_metric([name], float(st["drift"]))
        family(GaugeMetricFamily, "faultlens_drift_should_retrain", "1 when the model should be retrained.", ["name"]).add_metric([name], float(st["should_retrain"]))
        lvl = family(GaugeMetricFamily, "faultlens_drift_level", "1 for the current drift level, 0 for the others.", ["name", "level"])
        for level in _LEVELS:
            lvl.add_metric([name, level], float(st["level"] == level))
        family(GaugeMetricFamily, "faultlens_drift_window_scores", "Scores in the current window.", ["name"]).add_metric([name], st["n_window"])
        family(CounterMetricFamily, "faultlens_drift_scores", "Scores seen.", ["name"]).add_metric([name], st["n_seen"])

    @staticmethod
    def _change(family, name: str, d: Any) -> None:
        family(GaugeMetricFamily, "faultlens_drift_detected", _DETECTED_DOC, ["name"]).add_metric([name], float(d.drift_detected()))
        family(CounterMetricFamily, "faultlens_drift_detections", "Changes detected (Adwin, PageHinkley).", ["name"]).add_metric([name], d.n_detections())

    @staticmethod
    def _index(family, name: str, i: Any) -> None:
        family(GaugeMetricFamily, "faultlens_index_items", "Items held by the index.", ["name"]).add_metric([name], i.len())
        m = i.metrics()
        for key, doc in [
            ("searches", "Queries answered (one per query row)."),
            ("added", "Items added."),
            ("removed", "Items removed."),
        ]:
            family(CounterMetricFamily, f"faultlens_index_{key}", doc, ["name"]).add_metric([name], m[key])
        if isinstance(i, SimilarityIndex):
            recall = i.estimated_recall()
            if recall is not None:
                family(GaugeMetricFamily, "faultlens_index_estimated_recall", "Recall@10 the index estimated for its search breadth.", ["name"]).add_metric([name], recall)
            family(GaugeMetricFamily, "faultlens_index_ef", "HNSW search breadth in use.", ["name"]).add_metric([name], i.effective_ef())

    @staticmethod
    def _grouper(family, name: str, g: Any) -> None:
        family(GaugeMetricFamily, "faultlens_incident_grouper_incidents", "Incidents held.", ["name"]).add_metric([name], g.len())
        family(GaugeMetricFamily, "faultlens_incident_grouper_groups", "Groups of the incidents held.", ["name"]).add_metric([name], len(g.groups()))


# Keyed by the registry object itself, weakly: an id() key would outlive a dropped registry and be
# reused by the next one, which would then find the old registry's names already taken.
_collectors: weakref.WeakKeyDictionary[Any, _Collector] = weakref.WeakKeyDictionary()
_guard = threading.Lock()


def register(obj: Any, name: str, registry: Any = REGISTRY) -> None:
    """Reports ``obj`` (a Resolver, TextClassifier, WindowAggregator, KlDriftDetector, Adwin, PageHinkley,
    IncidentGrouper, SimilarityIndex or TextIndex) in ``registry`` with the label ``name``, read at
    every scrape. A name is unique per registry."""
    if not isinstance(obj, _KINDS):
        raise TypeError(f"cannot export a {type(obj).__name__}: need {_KIND_NAMES}")
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty str")
    with _guard:
        c = _collectors.get(registry)
        if c is None:
            c = _collectors[registry] = _Collector()
            registry.register(c)
        c.add(name, obj)


def unregister(name: str, registry: Any = REGISTRY) -> bool:
    """Stops reporting the object registered as ``name``; returns whether there was one."""
    with _guard:
        c = _collectors.get(registry)
        return c is not None and c.remove(name)
