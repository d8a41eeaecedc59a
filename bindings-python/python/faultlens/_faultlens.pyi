"""Type stubs of the native module faultlens._faultlens (re-exported by ``faultlens``).

Keep in sync with bindings-python/src/*.rs; tests/test_api_parity.py checks the names.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypedDict, Union

# Stubs are read by type checkers only, which all know typing_extensions (Unpack and Required
# are in `typing` from Python 3.11; this package supports 3.9).
from typing_extensions import Required, Unpack

import numpy as np
import numpy.typing as npt
import scipy.sparse

__version__: str

_Path = Union[str, "os.PathLike[str]"]
_Bytes = Union[bytes, bytearray]
# An object with the Arrow PyCapsule interface (`__arrow_c_array__`/`__arrow_c_stream__`):
# pyarrow Array/ChunkedArray/RecordBatch/Table, polars Series/DataFrame, ... (docs/python.md).
_Arrow = Any
# Texts or labels: a list, tuple or 1-D numpy array of str, or an Arrow string column.
_Strs = Union[Sequence[str], "npt.NDArray[Any]", _Arrow]
# Raw texts, or documents already split into tokens.
_Docs = Union[Sequence[str], Sequence[Sequence[str]]]

# --- generated option types (scripts/gen_option_types.py from docs/api.json "configs"; do not edit) ---

class _MaskRule(TypedDict, total=False):
    """A user-supplied masking rule: every match of `pattern` becomes `placeholder`."""
    pattern: Required[str]
    """A `regex` crate pattern (linear time; add `(?i)` for case-insensitive)."""
    placeholder: Required[str]
    """The token that replaces a match: `<` + ASCII letters, digits or `_` + `>`, e.g. `<order_id>`."""

class _PreprocessorOptions(TypedDict, total=False):
    """Preprocessing options. Every field has a default, so a config file may name only what it changes."""
    lowercase: bool
    """Lowercase the text first (default on; some templates differ only in letter case)."""
    mask: bool
    """Replace variable parts with placeholder tokens (default on)."""
    masks: Sequence[str]
    """Which built-in masks run when `mask` is on (default: all of `BUILTIN_MASKS`)."""
    custom_masks: Sequence[_MaskRule | tuple[str, str]]
    """Extra masking rules, applied before the built-ins. Default: `[]`."""
    split_identifiers: bool
    """Also emit the parts of compound identifiers (`kube-proxy` → `kube-proxy kube proxy`). Default: `False`."""
    stop_words: str
    """Built-in stopword list: `"english"` (default) or `"none"`."""
    extra_stop_words: Sequence[str]
    """Words added to the stopword list (use `stop_words = "none"` to replace the list). Default: `[]`."""
    stemmer: str
    """Snowball stemmer language (any rust-stemmers language, e.g. `"english"`, `"german"`) or `"none"`. Default: `'english'`."""
    min_token_length: int
    """Tokens shorter than this many characters are dropped (placeholders are always kept). Default: `2`."""
    korean: str
    """Korean handling: `"rules"` (default) strips particles and verbal endings from Hangul words (`서비스가` → `서비스`, `발생했습니다` → `발생`) and drops a few auxiliary words; `"none"` keeps Hangul words as written. Words not ending in Hangul never change. A file saved before this option existed loads with `"none"`, so it tokenises as it did."""

class _DfBoundCount(TypedDict, total=False):
    count: Required[int]

class _DfBoundFraction(TypedDict, total=False):
    fraction: Required[float]

_DfBound = Union[int, float, _DfBoundCount, _DfBoundFraction]
"""A document count (an integer, or {"count": n}) or a fraction of the documents in [0, 1] (a float, or {"fraction": x})."""

class _TfidfOptions(TypedDict, total=False):
    """TF-IDF options, named as in scikit-learn."""
    ngram_range: tuple[int, int] | list[int]
    """Smallest and largest n of the word n-grams (default `(1, 1)`; 1 <= min <= max <= 8)."""
    min_df: _DfBound
    """Ignore n-grams in fewer documents than this (default count 1)."""
    max_df: _DfBound
    """Ignore n-grams in more documents than this (default fraction 1.0)."""
    max_features: int | None
    """Keep only the most frequent n-grams across the corpus (ties: alphabetical order; at least 1, `None` = no limit). Default: `None`."""
    sublinear_tf: bool
    """Replace tf with `1 + ln(tf)`. Default: `False`."""
    norm: Literal["l2", "l1", "none"] | None
    """Row normalisation (default l2)."""
    use_idf: bool
    """Weight by inverse document frequency (default on)."""
    smooth_idf: bool
    """Add one to document frequencies, as if a document held every term once (default on)."""
    preprocessor: _PreprocessorOptions | Preprocessor | None
    """How raw texts become tokens; `None` splits on whitespace and nothing else."""
    max_distinct_terms: int | None
    """Most distinct n-grams `fit` may count before pruning (default 10,000,000, about 0.5 GB of counts; at least 1, `None` = no limit). A corpus with more fails with an error naming this field instead of exhausting memory (typically ids or hashes the masks left in place)."""

class _ClassifierOptions(TypedDict, total=False):
    """Options of a `TextClassifier`. Defaults were chosen by measurement on Loghub (see `docs/classify.md`): scikit-learn's `C=1` under-fits classes with one or two examples, and `alpha=1` flattens naive Bayes when there are hundreds of classes."""
    model: Literal["logistic", "naive_bayes", "linear_svm", "auto"]
    """The model (default `logistic`)."""
    tfidf: _TfidfOptions
    """TF-IDF options, including the preprocessor (default: 1- and 2-grams, sublinear tf)."""
    c: float
    """Inverse L2 strength for `logistic` and `linear_svm` (default 50; above 0, at most 1e9)."""
    alpha: float
    """Additive smoothing for `naive_bayes` (default 0.01; above 0, at most 1e9)."""
    max_iter: int
    """Solver iteration cap (L-BFGS iterations; SVM passes over the data). Default 300, at least 1."""
    tol: float
    """Solver tolerance (largest gradient entry for L-BFGS, projected-gradient gap for the SVM; default 1e-4, above 0)."""
    cv_folds: int
    """Folds for `auto` model selection (default 5, at least 2)."""
    calibration_folds: int
    """Held-out folds used to fit the SVM's Platt scaling (default 3, at least 2)."""
    holdout: float
    """Share of the training data held out once to record the confidence distribution on unseen data (the drift baseline) for `logistic` and `naive_bayes`; 0 skips it. Default 0.2, in [0, 0.5). (`auto` and `linear_svm` get that distribution from their folds at no extra cost.)"""
    seed: int
    """Seed for fold assignment and the SVM's sample order (default 0)."""
    threshold: float
    """`predict_one` calls a prediction reliable when its confidence reaches this (default 0.7, in [0, 1])."""
    top_k: int
    """Alternatives returned by `predict_one` (default 3)."""
    explain_top: int
    """N-grams returned in `predict_one`'s explanation (default 5)."""
    novelty_prior: float
    """Share of inputs assumed to come from templates the training data never showed, when fitting the confidence model (default 0.2, in (0, 1); see `docs/classify.md`). Higher makes confidence more cautious away from the training data."""
    novelty_threshold: float
    """`predict_one` calls an input novel when its novelty (1 - cosine of the whole text to the nearest training line) exceeds this (default 0.5, in [0, 1])."""

class _SolutionThreshold(TypedDict, total=False):
    """A threshold for one solution, overriding its stage's (see `ResolverConfig::solution_thresholds`)."""
    solution: Required[str]
    """The solution text, exactly as the rule, knowledge base or classifier gives it."""
    threshold: Required[float]
    """Confidence an answer with this solution needs, in [0, 1]."""

class _ResolverOptions(TypedDict, total=False):
    """Resolver settings (thresholds per stage, candidates kept, feedback, limits)."""
    exact_threshold: float
    """A rule answers when its confidence (always 1.0) reaches this. Default 1.0, in [0, 1]."""
    similarity_threshold: float
    """A similar past error answers when the probability that its solution is right (calibrated on the knowledge base, see `docs/resolve.md`) reaches this. Default 0.7, in [0, 1]."""
    classifier_threshold: float
    """The classifier answers when the probability that its label is right (novelty included) reaches this. Default 0.8, in [0, 1]."""
    top_k: int
    """Candidates kept per stage (similar errors, classifier labels). Default 3, 1..=10000."""
    learn_from_feedback: bool
    """Successful outcomes join the knowledge base. Default true."""
    max_text_bytes: int
    """Longest text accepted, in bytes; longer input is an error rather than a slow call. Default 1 MiB, at least 1."""
    max_outcomes: int
    """Outcomes kept in memory for `outcomes()` (oldest dropped first). Default 10,000."""
    knowledge_vectorizer: _TfidfOptions
    """How the knowledge base turns error texts into vectors."""
    novelty_threshold: float
    """An unanswered input is `novel` when its novelty (1 - its similarity to the nearest past error or training line) exceeds this. Default 0.5, in [0, 1]."""
    solution_thresholds: Sequence[_SolutionThreshold]
    """Per-solution thresholds: an answer with one of these solutions is reliable only when its confidence reaches the solution's threshold, whatever stage gave it (a risky remedy can demand more certainty than its stage). Default none."""

class _IndexOptions(TypedDict, total=False):
    """Settings of a `SimilarityIndex`."""
    dim: Required[int]
    """Number of components of every vector (required, 1..=65536)."""
    metric: Literal["cosine", "dot", "l2"]
    """Similarity measure (default cosine)."""
    m: int
    """HNSW links per node and layer (layer 0 keeps twice as many); default 16, 2..=128."""
    ef_construction: int
    """Candidate list size while building the graph; default 200, 1..=100000."""
    ef_search: int
    """Candidate list size while searching when `target_recall` is `None` (and unless a search passes its own `ef`); default 64, 1..=100000."""
    target_recall: float | None
    """Recall@10 the index aims for when it picks its own search breadth (default 0.95, in (0, 1]). When the graph is built (and again each time the index has doubled), the index searches a fixed sample of its own vectors at growing `ef` against exact answers and keeps the smallest `ef` whose measured recall reaches the target, and measures a scan of int8 codes with an exact rerank the same way; of the graph, that scan (when they reach the target) and an exact scan, searches use the fastest (timed on a few sample queries). The estimate is reported by `SimilarityIndex::estimated_recall`. `None` searches with `ef_search` as given."""
    exact_below: int
    """Below this many distinct vectors no graph is built and every search is an exact scan (default 8192: on 384-dim vectors an exact scan of 8192 takes 2-8 ms by machine load, far under a 50 ms budget, where an ef=64 graph search is faster but misses up to half of the true top 10 on high-dimensional data; see `docs/index.md` and `docs/benchmarks.md`)."""
    max_items: int | None
    """Most ids the index may hold (at least 1); an `add` that would go past it fails with `InvalidInput` naming `max_items` and adds nothing (default `None`: no cap beyond memory and the 2^32 - 1 distinct vectors a graph can address)."""

class _FilterIds(TypedDict, total=False):
    """Only these ids (unknown ids are ignored)."""
    type: Required[Literal["ids"]]
    ids: Required[Sequence[int]]
    """The ids that may be returned."""

class _FilterKeys(TypedDict, total=False):
    """Only these string keys (see `SimilarityIndex::add_keyed`; unknown keys are ignored)."""
    type: Required[Literal["keys"]]
    keys: Required[Sequence[str]]
    """The keys that may be returned."""

class _FilterPayload(TypedDict, total=False):
    """Only items whose payload has `field` equal to `value`."""
    type: Required[Literal["payload"]]
    field: Required[str]
    """Top-level field of the payload object."""
    value: Required[Any]
    """Required value (compared as JSON: `"db"` matches the string, `3` the number)."""

class _FilterPayloadIn(TypedDict, total=False):
    """Only items whose payload has `field` equal to one of `values` (SQL `IN`)."""
    type: Required[Literal["payload_in"]]
    field: Required[str]
    """Top-level field of the payload object."""
    values: Required[Sequence[Any]]
    """Accepted values, compared as JSON."""

class _FilterRange(TypedDict, total=False):
    """Only items whose payload has a numeric `field` within the bounds (each optional, at least one given; a field that is not a JSON number never passes)."""
    type: Required[Literal["range"]]
    field: Required[str]
    """Top-level field of the payload object."""
    gte: float | None
    """Greater than or equal to."""
    gt: float | None
    """Strictly greater than."""
    lte: float | None
    """Less than or equal to."""
    lt: float | None
    """Strictly less than."""

class _FilterAnd(TypedDict, total=False):
    """Items that pass every one of `filters` (at least one)."""
    type: Required[Literal["and"]]
    filters: Required[Sequence[_Filter]]
    """The conditions, all required."""

_Filter = Union[_FilterIds, _FilterKeys, _FilterPayload, _FilterPayloadIn, _FilterRange, _FilterAnd]
"""Restricts a search to some items. Results keep full recall however tight the filter: when few items pass, the search scans exactly those items instead of walking the graph. Payload conditions read the payload as a JSON object and look at one top-level field; an item without a payload, or whose payload is not a JSON object, passes none of them."""

class _IndexSearchOptions(TypedDict, total=False):
    """Per-search options."""
    threshold: float | None
    """Keep only results at least this close: `score >= threshold` for cosine and dot, `distance <= threshold` for l2. Default: `None`."""
    ef: int | None
    """HNSW candidate list size for this search (default `IndexConfig::ef_search`)."""
    filter: _Filter | None
    """Restrict results to some ids or payloads. Default: `None`."""
    exact: bool
    """Scan every vector instead of walking the graph (exact answers, linear time). Default: `False`."""

class _EmbeddingTfidf(TypedDict, total=False):
    """The faultlens pipeline: TF-IDF (fitted on the stored texts, refitted as they grow) projected to `dim` dense components."""
    type: Required[Literal["tfidf"]]
    tfidf: _TfidfOptions
    """Vectoriser settings (default: the default preprocessor, unigrams)."""
    dim: int
    """Dense dimension after projection (default 512)."""

class _EmbeddingExternal(TypedDict, total=False):
    """Vectors computed by the caller (sentence-transformers, an embedding endpoint) with `dim` components, passed to `add_embedded` / `search_embedded`."""
    type: Required[Literal["external"]]
    dim: Required[int]
    """Number of components of every embedding."""

class _EmbeddingHybrid(TypedDict, total=False):
    """Both: each text is stored with its TF-IDF vector (as `tfidf`) and the caller's embedding of `embedding_dim` components. Added by `add_hybrid`; searched by `search_hybrid` (the two scores fused, see `Fusion`), or by one side alone with `search` (text) or `search_embedded` (embedding)."""
    type: Required[Literal["hybrid"]]
    tfidf: _TfidfOptions
    """Vectoriser settings (default: the default preprocessor, unigrams)."""
    dim: int
    """Dense dimension of the projected TF-IDF vectors (default 512)."""
    embedding_dim: Required[int]
    """Number of components of every caller embedding."""

_Embedding = Union[_EmbeddingTfidf, _EmbeddingExternal, _EmbeddingHybrid]
"""Where a `TextIndex`'s vectors come from."""

class _TextIndexOptions(TypedDict, total=False):
    """Settings of a `TextIndex`."""
    embedding: _Embedding
    """How texts become vectors."""
    index: _IndexOptionsNested
    """The vector index; its `dim` may stay 0 (it is taken from `embedding`)."""

class _WindowKey(TypedDict, total=False):
    """A grouping key: the fields named in `key_fields` are set, the others are `None`."""
    service: str | None
    """The service, when it is a key field. Default: `None`."""
    route: str | None
    """The route, when it is a key field. Default: `None`."""
    error_code: str | None
    """The error code, when it is a key field. Default: `None`."""

class _KeyThreshold(TypedDict, total=False):
    """A threshold for one key, overriding `WindowConfig::threshold`."""
    key: Required[_WindowKey]
    """The key; exactly the fields of `key_fields` must be set."""
    threshold: Required[int]
    """An incident fires when the count exceeds this (at least 1)."""

class _RateTrigger(TypedDict, total=False):
    """Fires on a rise over a key's own normal rate (see the module docs of `crate::window` and `docs/window.md` for the estimator). Set as `WindowConfig::rate`."""
    factor: float
    """The count must exceed `factor` times the key's baseline (default 1.5; at least 1). "15% more errors than usual" is 1.15."""
    z: float
    """...and lie at least `z` Poisson standard deviations above it (default 3; at least 0)."""
    alpha: float
    """Weight of the newest complete period in the baseline, in (0, 1] (default 0.1: roughly the last 10 periods count)."""
    min_history: int
    """Complete periods a key needs before its baseline is trusted (default 3, at least 1)."""
    forget_after: int
    """A key with no event for more than this many periods starts over (default 100, 1..=10000)."""
    min_count: int
    """Counts below this never fire on rate (default 1)."""

class _WindowOptions(TypedDict, total=False):
    """Options of a `WindowAggregator`. Every time rule is here, in milliseconds of event time."""
    window_ms: int
    """Window length: an event at `t` counts the key's events in `(t - window_ms, t]`. Default 300000 (5 minutes), 1..=366 days."""
    key_fields: Sequence[Literal["service", "route", "error_code"]]
    """The fields that make the key, a non-empty subset of `service`, `route`, `error_code` (default all three)."""
    threshold: int
    """An incident fires when a count exceeds this (default 10, at least 1)."""
    key_thresholds: Sequence[_KeyThreshold]
    """Per-key thresholds overriding `threshold`. Default: `[]`."""
    allowed_lateness_ms: Required[int | None]
    """How far behind the largest event time an event may be and still count. Required: there is no default (0 means events must arrive in time order; at most 366 days)."""
    cooldown_ms: int
    """After an incident of a key at `t`, no incident of that key fires before `t + cooldown_ms`, even once re-armed (default 0: re-arming alone decides; at most 366 days)."""
    max_keys: int
    """Most keys held at once; beyond it the least recently seen key is evicted (default 100000, at least 1)."""
    max_samples: int
    """Most sample messages per incident (default 5, at most 1000)."""
    max_trace_ids: int
    """Most trace ids per incident (default 10, at most 1000)."""
    max_future_ms: int | None
    """When set, an event more than this ahead of the largest event time seen so far is rejected (reported in `Outcome::rejected`, not counted), so one bad clock cannot make every later event late. Default `None`: no limit (at most 366 days)."""
    rate: _RateTrigger | None
    """When set, an incident also fires when a count rises over the key's own learned normal (see `RateTrigger`), alongside `threshold`. Default `None`: the threshold alone. For rate triggers only, set `threshold` to `u64::MAX`."""

class _GrouperOptions(TypedDict, total=False):
    """Options of an `IncidentGrouper`."""
    min_similarity: float
    """Incidents at least this similar are linked (default 0.5, in (0, 1])."""
    text_weight: float
    """Weight of the text similarity when both incidents have text and an embedding (default 0.5, in [0, 1])."""
    max_incidents: int
    """Most incidents held (default 100,000): each add compares with the held incidents that share a token with it (with an embedding: every held incident that has one)."""
    preprocessor: _PreprocessorOptions | Preprocessor
    """How texts become tokens (default: the project's default preprocessing)."""

class _Thresholds(TypedDict, total=False):
    """KL levels: above `watch` is worth a look, above `drift` is drift, above `severe` asks for retraining at once."""
    watch: Required[float]
    """Start of the watch zone."""
    drift: Required[float]
    """Drift is flagged when KL exceeds this."""
    severe: Required[float]
    """Any KL above this triggers the retrain policy."""

class _KlDriftOptions(TypedDict, total=False):
    """Options of `KlDriftDetector`."""
    window: int
    """Number of most recent scores compared with the baseline (default 1000, 1..=10^7)."""
    bins: int
    """Number of equal-width histogram bins (default 10, 2..=10000)."""
    range: tuple[float, float] | list[float]
    """Histogram range `(low, high)` (default `(0, 1)`; finite, low < high); finite scores outside it count in the first or last bin and are reported in `status().out_of_range`."""
    epsilon: float
    """Smoothing: each bin's probability is `(count / n + epsilon) / (1 + bins * epsilon)`, so an empty bin never gives an infinite divergence (default 1e-4, in (0, 1))."""
    threshold_mode: Literal["calibrated", "fixed"]
    """Calibrated (default) or fixed thresholds."""
    false_alarm_rate: float
    """Calibrated mode: the probability that a full drift-free window exceeds the drift threshold (default 1e-4, in (0, 0.5))."""
    watch_rate: float
    """Calibrated mode: the watch threshold's exceedance probability (default 0.01; at least `false_alarm_rate`, below 1)."""
    severe_factor: float
    """Calibrated mode: severe = drift threshold times this (default 2, the old 1.0 / 0.5 ratio; at least 1)."""
    calibration_resamples: int
    """Calibrated mode: number of resamples (default 1000, 100..=100000; resamples x bins at most 10^7)."""
    seed: int
    """Calibrated mode: seed of the resampling, so calibration is reproducible (default 0)."""
    fixed_thresholds: _Thresholds
    """Fixed mode: the thresholds (default 0.3 / 0.5 / 1.0)."""
    retrain_drifts: int
    """Retrain when at least this many drift events fall within `retrain_days` (default 5, 1..=`max_events`)."""
    retrain_days: float
    """Length of the retrain policy's period in days (default 7, above 0)."""
    max_events: int
    """Drift events kept (oldest dropped first; default 10000, 1..=10^7)."""
    history_days: float
    """Days of hourly KL history kept for `summary` (default 90, above 0)."""
    short_window: int | None
    """Calibrated mode: a second, shorter window checked after every score alongside the main one, so an abrupt change is flagged before it fills most of the main window. `None` (default) = `window / 4` when that holds at least 5 scores per bin, else off; `Some(0)` = off; `Some(n)` needs `n < window`. Each window gets half the false-alarm budget (`false_alarm_rate / 2`, `watch_rate / 2`). Ignored in fixed mode (the old service had one window)."""

class _AdwinOptions(TypedDict, total=False):
    """Options of `Adwin`, named and defaulted as river's `drift.ADWIN`."""
    delta: float
    """Confidence of the cut test (default 0.002, in (0, 1))."""
    clock: int
    """Check for a change every `clock` values (default 32, at least 1)."""
    max_buckets: int
    """Buckets of each size kept before two are merged (default 5; 2 to 4096: with 1 a merge empties its row, which river 0.26 does not handle, it panics)."""
    min_window_length: int
    """Smallest sub-window considered at a cut (default 5, at least 1)."""
    grace_period: int
    """No checks until the window holds more than this many values (default 10)."""

class _PageHinkleyOptions(TypedDict, total=False):
    """Options of `PageHinkley`, named and defaulted as river's `drift.PageHinkley`."""
    min_instances: int
    """Values seen before any change can be reported (default 30)."""
    delta: float
    """Magnitude of change tolerated (default 0.005, in [0, 1e100])."""
    threshold: float
    """Detection threshold, lambda (default 50, above 0)."""
    alpha: float
    """Forgetting factor of the cumulative sums (default 1 − 0.0001, in (0, 1])."""
    mode: Literal["up", "down", "both"]
    """Which direction of change to report (default both)."""

class _IndexOptionsNested(TypedDict, total=False):
    """Settings of a `SimilarityIndex`."""
    dim: int
    """Number of components of every vector (required, 1..=65536)."""
    metric: Literal["cosine", "dot", "l2"]
    """Similarity measure (default cosine)."""
    m: int
    """HNSW links per node and layer (layer 0 keeps twice as many); default 16, 2..=128."""
    ef_construction: int
    """Candidate list size while building the graph; default 200, 1..=100000."""
    ef_search: int
    """Candidate list size while searching when `target_recall` is `None` (and unless a search passes its own `ef`); default 64, 1..=100000."""
    target_recall: float | None
    """Recall@10 the index aims for when it picks its own search breadth (default 0.95, in (0, 1]). When the graph is built (and again each time the index has doubled), the index searches a fixed sample of its own vectors at growing `ef` against exact answers and keeps the smallest `ef` whose measured recall reaches the target, and measures a scan of int8 codes with an exact rerank the same way; of the graph, that scan (when they reach the target) and an exact scan, searches use the fastest (timed on a few sample queries). The estimate is reported by `SimilarityIndex::estimated_recall`. `None` searches with `ef_search` as given."""
    exact_below: int
    """Below this many distinct vectors no graph is built and every search is an exact scan (default 8192: on 384-dim vectors an exact scan of 8192 takes 2-8 ms by machine load, far under a 50 ms budget, where an ef=64 graph search is faster but misses up to half of the true top 10 on high-dimensional data; see `docs/index.md` and `docs/benchmarks.md`)."""
    max_items: int | None
    """Most ids the index may hold (at least 1); an `add` that would go past it fails with `InvalidInput` naming `max_items` and adds nothing (default `None`: no cap beyond memory and the 2^32 - 1 distinct vectors a graph can address)."""

# --- end of generated option types ---

class _Event(TypedDict, total=False):
    timestamp_ms: int
    service: str
    route: str
    error_code: str
    message: str
    trace_id: str

# A dict, or (timestamp_ms, service, route, error_code[, message[, trace_id]]).
_EventLike = Union[_Event, tuple[Any, ...], list[Any]]

class _Incident(TypedDict):
    id: str
    key: _WindowKey
    start_ms: int
    end_ms: int
    count: int
    threshold: int
    severity: Literal["low", "medium", "high", "critical"]
    samples: list[str]
    trace_ids: list[str]
    trigger: Literal["threshold", "rate"]
    baseline: float | None

class _Outcome(TypedDict):
    incidents: list[_Incident]
    late: list[int]
    rejected: list[int]

class _WindowStats(TypedDict):
    events: int
    late_events: int
    rejected_events: int
    live_keys: int
    evicted_keys: int
    evicted_events: int
    expired_keys: int
    pending_events: int
    incidents: int
    watermark_ms: int | None
    max_event_time_ms: int | None

class _ArtifactInfo(TypedDict):
    kind: str
    format_version: int
    library_version: str
    payload_bytes: int

def version() -> str:
    """The faultlens version (also written into every model file)."""

def set_parallelism(enabled: bool) -> None:
    """Turn multi-core batch work on (default) or off for the whole process."""

def parallelism() -> bool:
    """Whether batch work may use all cores (off in forked children)."""

def inspect(path: _Path) -> _ArtifactInfo:
    """Kind, format version, writer version and payload size of a model file, without decoding it."""

def evaluate(model: TextClassifier, texts: _Strs, labels: _Strs) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1/support, macro/weighted F1, confusion, ``text``."""

def compare(a: TextClassifier, b: TextClassifier, texts: _Strs, labels: _Strs) -> dict[str, Any]:
    """Both reports, differences, McNemar ``p_value``, ``significant``, ``better``, ``text``."""

class Template:
    """A masked line and its stable 16-hex-digit id; also readable as t["masked"], t["id"]."""

    @property
    def masked(self) -> str: ...
    @property
    def id(self) -> str: ...
    def __init__(self, masked: str, id: str) -> None: ...
    def __getitem__(self, key: Literal["masked", "id"]) -> str: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class Preprocessor:
    """Raw log line -> tokens: lowercase, mask, segment, stem, minimum length, stopwords."""

    def __init__(self, **config: Unpack[_PreprocessorOptions]) -> None: ...
    def tokens(self, text: str) -> list[str]: ...
    def tokens_batch(self, texts: Sequence[str]) -> list[list[str]]: ...
    def process(self, text: str) -> str: ...
    def process_batch(self, texts: _Strs) -> list[str]: ...
    def template(self, text: str) -> Template: ...
    def template_batch(self, texts: _Strs) -> list[Template]: ...
    def config(self) -> _PreprocessorOptions: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> Preprocessor: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> Preprocessor: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

class TfidfVectorizer:
    """TF-IDF over word n-grams (scikit-learn's values given the same tokens), CSR output."""

    def __init__(self, **config: Unpack[_TfidfOptions]) -> None: ...
    def fit(self, raw_documents: _Docs, y: object = None) -> TfidfVectorizer: ...
    def fit_tokens(self, docs: Sequence[Sequence[str]]) -> TfidfVectorizer: ...
    def transform(self, raw_documents: _Docs) -> scipy.sparse.csr_matrix: ...
    def transform_tokens(self, docs: Sequence[Sequence[str]]) -> scipy.sparse.csr_matrix: ...
    def fit_transform(self, raw_documents: _Docs, y: object = None) -> scipy.sparse.csr_matrix: ...
    def fit_transform_tokens(self, docs: Sequence[Sequence[str]]) -> scipy.sparse.csr_matrix: ...
    def similarity(self, a: str, b: str) -> float: ...
    def is_fitted(self) -> bool: ...
    def n_features(self) -> int: ...
    def feature_names(self) -> list[str]: ...
    def vocabulary(self) -> dict[str, int]: ...
    def idf(self) -> npt.NDArray[np.float64]: ...
    @property
    def vocabulary_(self) -> dict[str, int]: ...
    @property
    def idf_(self) -> npt.NDArray[np.float64]: ...
    def get_feature_names_out(self, input_features: object = None) -> npt.NDArray[np.object_]: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> TfidfVectorizer: ...
    def config(self) -> _TfidfOptions: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> TfidfVectorizer: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> TfidfVectorizer: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

_Method = Literal["auto", "rules", "similarity", "classifier"]

class _Rule(TypedDict, total=False):
    name: str
    pattern: str
    solution: str

class SimilarError:
    """A past error the similarity stage found, with its cosine similarity in [0, 1]."""

    @property
    def id(self) -> int: ...
    @property
    def error(self) -> str: ...
    @property
    def solution(self) -> str: ...
    @property
    def similarity(self) -> float: ...

class LabelScore:
    """A classifier label and its probability."""

    @property
    def label(self) -> str: ...
    @property
    def probability(self) -> float: ...

class _ResolverOutcome(TypedDict):
    text: str
    solution: str
    success: bool
    method: Literal["exact_match", "similarity_match", "ml_prediction", "no_match"]
    matched_id: int | None
    similarity: float | None
    rule: str | None
    timestamp: float

class _Histogram(TypedDict):
    buckets: list[list[float]]  # [upper bound, cumulative count]
    count: int
    sum: float

class _OutcomeCounts(TypedDict):
    success: int
    failure: int

class _Metrics(TypedDict):
    total: int
    resolutions: dict[str, int]
    unreliable: int
    novel: int
    errors: int
    outcomes: dict[str, _OutcomeCounts]
    latency_seconds: _Histogram
    confidence: _Histogram

class _ClassifierMetrics(TypedDict):
    predictions: int
    novel: int
    unreliable: int
    confidence: _Histogram

class _IndexMetrics(TypedDict):
    searches: int
    added: int
    removed: int

class _OutcomeSummary(TypedDict, total=False):
    resolutions: int  # stages only
    success: int
    failure: int
    success_rate: float | None

class _ResolverSummary(TypedDict):
    total: int
    reliable: int
    unreliable: int
    novel: int
    errors: int
    mean_latency_ms: float | None
    max_latency_ms: float | None
    mean_confidence: float | None
    outcomes: int
    success_rate: float | None
    by_stage: dict[str, _OutcomeSummary]
    by_solution: dict[str, _OutcomeSummary]

class Resolution:
    """The answer to one resolve call: which stage answered, how sure (confidence: the probability
    that the answer is right), whether the input is novel, the candidates, the time."""

    @property
    def solution(self) -> str | None: ...
    @property
    def confidence(self) -> float: ...
    @property
    def method(self) -> Literal["exact_match", "similarity_match", "ml_prediction", "no_match"]: ...
    @property
    def reliable(self) -> bool: ...
    @property
    def novelty(self) -> float: ...
    @property
    def novel(self) -> bool: ...
    @property
    def rule(self) -> str | None: ...
    @property
    def similar(self) -> list[SimilarError]: ...
    @property
    def predictions(self) -> list[LabelScore]: ...
    @property
    def elapsed_us(self) -> int: ...
    def to_dict(self) -> dict[str, Any]:
        """The resolution as a JSON-ready dict."""

class Resolver:
    """The rules -> similar past errors -> classifier cascade, with feedback and metrics."""

    def __init__(self, **config: Unpack[_ResolverOptions]) -> None: ...
    def set_rules(self, rules: Sequence[_Rule]) -> int:
        """Replace the rules (first match wins, case-insensitive regexes); returns their number."""
    def load_rules(self, path: _Path) -> int:
        """Replace the rules with a JSON or TOML file's; returns their number."""
    def set_classifier(self, classifier: TextClassifier) -> None:
        """Use a copy of a fitted TextClassifier as the classifier stage."""
    def load_classifier(self, path: _Path) -> None:
        """Use a classifier model file (saved in any language) as the classifier stage."""
    def rules(self) -> list[_Rule]:
        """The rules in order."""
    def add_knowledge(self, errors: Sequence[str], solutions: Sequence[str]) -> int:
        """Add past error -> solution pairs; returns the knowledge base's size."""
    def load_knowledge(self, path: _Path, skip_invalid: bool = False) -> int:
        """Add a JSONL file's {"error", "solution"} lines; returns how many were added."""
    def knowledge_size(self) -> int:
        """Pairs in the knowledge base."""
    def set_knowledge_index(self, index: TextIndex) -> None:
        """Search a copy of a TextIndex (payloads = solutions) instead of the built-in knowledge base."""
    def knowledge_is_embedded(self) -> bool:
        """Whether the knowledge is a TextIndex of your own embeddings."""
    def add_knowledge_embedded(
        self, errors: Sequence[str], solutions: Sequence[str], embeddings: npt.ArrayLike
    ) -> int:
        """Add pairs with your embeddings of the errors (n x dim) to a knowledge index of external embeddings."""
    def resolve(self, text: str, method: _Method = "auto") -> Resolution:
        """Resolve one error text through the cascade (or one stage)."""
    def resolve_embedded(self, text: str, embedding: npt.ArrayLike, method: _Method = "auto") -> Resolution:
        """Resolve with your embedding of the text (knowledge index of external embeddings)."""
    def resolve_batch(
        self,
        texts: _Strs,
        method: _Method = "auto",
        *,
        output: Literal["objects", "record_batch", "table"] | None = None,
    ) -> Any:
        """Resolve many texts on all cores: a list of Resolution, or (output=) a pyarrow RecordBatch/Table."""
    def resolve_batch_embedded(
        self, texts: Sequence[str], embeddings: npt.ArrayLike, method: _Method = "auto"
    ) -> list[Resolution]:
        """Resolve many texts with your embeddings of them (n x dim), on all cores."""
    def record_outcome(self, text: str, solution: str, success: bool) -> None:
        """Record whether a solution worked; successes join the knowledge base."""
    def outcomes(self) -> list[_ResolverOutcome]:
        """Recorded outcomes, oldest first."""
    def metrics(self) -> _Metrics:
        """Counters and histograms."""
    def metrics_prometheus(self) -> str:
        """The metrics in the Prometheus text exposition format."""
    def summary(self) -> _ResolverSummary:
        """Mean/max latency, mean confidence, outcomes and success rates per stage and per solution."""
    def reset_metrics(self) -> None:
        """Zero every counter and histogram."""
    def config(self) -> _ResolverOptions:
        """The configuration."""
    def to_bytes(self) -> bytes:
        """The whole resolver as model-file bytes."""
    @classmethod
    def from_bytes(cls, data: _Bytes) -> Resolver:
        """Rebuild from to_bytes() output."""
    def save(self, path: _Path) -> None:
        """Write the model file atomically."""
    @classmethod
    def load(cls, path: _Path) -> Resolver:
        """Read a file written by save (any language)."""

class _Prediction(TypedDict):
    label: str
    confidence: float
    reliable: bool
    novelty: float
    novel: bool
    alternatives: list[tuple[str, float]]
    explanation: list[tuple[str, float]]

class _TextClassifierParams(_ClassifierOptions, total=False):
    """The options plus ``verbose`` (a progress bar on stderr during ``fit``)."""
    verbose: bool

class TextClassifier:
    """Error text -> label with calibrated confidence (scikit-learn style estimator)."""

    def __init__(self, *, verbose: bool = False, **config: Unpack[_ClassifierOptions]) -> None: ...
    def fit(self, X: _Strs, y: _Strs, progress: Any = None) -> TextClassifier: ...
    def partial_fit(self, X: _Strs, y: _Strs) -> TextClassifier: ...
    def predict(self, X: _Strs) -> npt.NDArray[np.object_]: ...
    def predict_proba(self, X: _Strs) -> npt.NDArray[np.float64]: ...
    def predict_one(self, text: str) -> _Prediction: ...
    def score(self, X: _Strs, y: _Strs, sample_weight: None = None) -> float: ...
    def classes(self) -> list[str]: ...
    @property
    def classes_(self) -> npt.NDArray[np.object_]: ...
    def is_fitted(self) -> bool: ...
    def model(self) -> str: ...
    def training_info(self) -> dict[str, Any]: ...
    def baseline_confidences(self) -> npt.NDArray[np.float64]: ...
    def metrics(self) -> _ClassifierMetrics: ...
    def metrics_prometheus(self) -> str: ...
    def reset_metrics(self) -> None: ...
    def config(self) -> _ClassifierOptions: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> TextClassifier: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> TextClassifier: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> TextClassifier: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

class WindowAggregator:
    """Keyed sliding-window counts over event time that raise incidents (docs/window.md)."""

    def __init__(self, **config: Unpack[_WindowOptions]) -> None: ...
    def push(self, event: _EventLike) -> _Outcome: ...
    def push_batch(self, events: Iterable[_EventLike]) -> _Outcome: ...
    def push_arrow(self, batch: _Arrow, *, columns: dict[str, str] | None = None) -> dict[str, Any]:
        """Events from Arrow columns; returns pyarrow tables {"incidents", "late", "rejected"}."""
    def advance(self, watermark_ms: int) -> _Outcome: ...
    def flush(self) -> _Outcome: ...
    def merge(self, other: WindowAggregator) -> _Outcome: ...
    def stats(self) -> _WindowStats: ...
    def metrics_prometheus(self) -> str: ...
    def watermark(self) -> int | None: ...
    def config(self) -> _WindowOptions: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> WindowAggregator: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> WindowAggregator: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

class _GroupInput(TypedDict, total=False):
    id: str
    time_ms: int
    text: str | None
    embedding: Sequence[float] | npt.NDArray[np.float32] | None

class _Assignment(TypedDict):
    id: str
    group: str
    new_group: bool

class _GroupUpdate(TypedDict):
    assignments: list[_Assignment]
    renamed: list[dict[str, str]]  # {"from": old group id, "to": new group id}

class _Group(TypedDict):
    id: str
    members: list[str]

class IncidentGrouper:
    def __init__(self, **config: Unpack[_GrouperOptions]) -> None: ...
    def add(self, incidents: Iterable[_GroupInput]) -> _GroupUpdate: ...
    def group_of(self, id: str) -> str | None: ...
    def groups(self) -> list[_Group]: ...
    def similarity(self, a: str, b: str) -> float | None: ...
    def len(self) -> int: ...
    def metrics_prometheus(self) -> str: ...
    def __len__(self) -> int: ...
    def config(self) -> _GrouperOptions: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> IncidentGrouper: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> IncidentGrouper: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

_Vectors = Union[npt.NDArray[np.float32], npt.ArrayLike]
# ints, or strings (string keys); never a mix
_Ids = Union[Sequence[int], Sequence[str], npt.NDArray[np.uint64], npt.NDArray[np.int64]]
# (id, score, payload): score is cosine similarity / inner product / Euclidean distance; id is
# the string key for items added under one.
_Hit = tuple[Union[int, str], float, Union[str, None]]
# (id, score, text, payload)
_TextHit = tuple[int, float, str, Union[str, None]]
# {"type": "rrf", "k": 60} (default) or {"type": "weighted", "text_weight": 0.5}
_Fusion = dict[str, Any]

class SimilarityIndex:
    """Nearest-neighbour index over float32 vectors: HNSW graph, exact below `exact_below`."""

    def __init__(self, **config: Unpack[_IndexOptions]) -> None: ...
    def add(self, ids: _Ids, vectors: _Vectors, payloads: Sequence[str | None] | None = None) -> None: ...
    def search(
        self,
        vectors: _Vectors,
        k: int = 10,
        threshold: float | None = None,
        ef: int | None = None,
        filter: _Filter | None = None,
        exact: bool = False,
    ) -> Any: ...
    def range_search(
        self, vector: _Vectors, threshold: float, filter: _Filter | None = None, exact: bool = False
    ) -> list[_Hit]: ...
    def remove(self, ids: _Ids) -> None: ...
    def compact(self) -> None: ...
    def get(self, id: int | str) -> tuple[npt.NDArray[np.float32], str | None] | None: ...
    def len(self) -> int: ...
    def __len__(self) -> int: ...
    def contains(self, id: int | str) -> bool: ...
    def __contains__(self, id: int | str) -> bool: ...
    def ids(self) -> list[int]: ...
    def keys(self) -> list[str]: ...
    def estimated_recall(self) -> float | None: ...
    def effective_ef(self) -> int: ...
    def metrics(self) -> _IndexMetrics: ...
    def metrics_prometheus(self) -> str: ...
    def reset_metrics(self) -> None: ...
    def n_vectors(self) -> int: ...
    def config(self) -> _IndexOptions: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> SimilarityIndex: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> SimilarityIndex: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

class TextIndex:
    """(error text, solution) pairs searched by text: TF-IDF + projection, or your embeddings."""

    def __init__(self, **config: Unpack[_TextIndexOptions]) -> None: ...
    def add(self, texts: Sequence[str], payloads: Sequence[str | None] | None = None) -> list[int]: ...
    def add_embedded(
        self, texts: Sequence[str], vectors: _Vectors, payloads: Sequence[str | None] | None = None
    ) -> list[int]: ...
    def add_hybrid(
        self, texts: Sequence[str], vectors: _Vectors, payloads: Sequence[str | None] | None = None
    ) -> list[int]: ...
    def search_hybrid(
        self,
        texts: Sequence[str],
        vectors: _Vectors,
        k: int = 10,
        threshold: float | None = None,
        ef: int | None = None,
        filter: _Filter | None = None,
        exact: bool = False,
        fusion: _Fusion | None = None,
    ) -> list[list[_TextHit]]: ...
    def search(
        self,
        text: str,
        k: int = 10,
        threshold: float | None = None,
        ef: int | None = None,
        filter: _Filter | None = None,
        exact: bool = False,
    ) -> list[_TextHit]: ...
    def search_batch(
        self,
        texts: _Strs,
        k: int = 10,
        threshold: float | None = None,
        ef: int | None = None,
        filter: _Filter | None = None,
        exact: bool = False,
    ) -> list[list[_TextHit]]: ...
    def search_embedded(
        self,
        vectors: _Vectors,
        k: int = 10,
        threshold: float | None = None,
        ef: int | None = None,
        filter: _Filter | None = None,
        exact: bool = False,
    ) -> Any: ...
    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...
    def remove(self, ids: _Ids) -> None: ...
    def compact(self) -> None: ...
    def refit(self) -> None: ...
    def get(self, id: int) -> tuple[str, str | None] | None: ...
    def len(self) -> int: ...
    def metrics(self) -> _IndexMetrics: ...
    def metrics_prometheus(self) -> str: ...
    def reset_metrics(self) -> None: ...
    def __len__(self) -> int: ...
    def config(self) -> _TextIndexOptions: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> TextIndex: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> TextIndex: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

# ---- drift (faultlens::drift) ----
_Floats = Union[Sequence[float], npt.NDArray[np.float64], _Arrow]
_Matrix = Union[Sequence[Sequence[float]], npt.NDArray[np.float64]]

class _DriftStatus(TypedDict):
    drift: bool
    level: Literal["filling", "normal", "watch", "drift", "severe"]
    kl: float
    psi: float
    js: float
    thresholds: _Thresholds
    window_size: int
    n_window: int
    n_seen: int
    window_mean: float
    window_std: float
    out_of_range: int
    should_retrain: bool
    short_window: int
    short_kl: float
    short_thresholds: _Thresholds | None

class _DriftEvent(TypedDict):
    timestamp: float
    kl: float
    max_kl: float
    severe: bool
    end: float | None
    short_kl: float

class _DriftBatch(TypedDict):
    n: int
    drift_starts: npt.NDArray[np.int64]
    n_drift: int
    drift: bool
    kl: float
    max_kl: float

class _Calibration(TypedDict):
    mean: float
    variance: float
    max: float
    resamples: int
    short_window: int
    short_mean: float
    short_variance: float
    short_max: float

class _DriftSummary(TypedDict):
    days: float
    drift_count: int
    max_kl: float
    mean_kl: float
    n_checks: int
    should_retrain: bool
    events: list[_DriftEvent]

class _KsResult(TypedDict):
    statistic: float
    pvalue: float
    method: Literal["exact", "asymptotic"]

class _KsColumns(TypedDict):
    statistic: npt.NDArray[np.float64]
    pvalue: npt.NDArray[np.float64]
    drift: npt.NDArray[np.bool_]

def ks_2samp(reference: _Floats, current: _Floats) -> _KsResult: ...
def merge_prometheus(names: Sequence[str], texts: Sequence[str]) -> str: ...
def group_incidents(
    samples: Sequence[Sequence[str]],
    *,
    min_similarity: float = 0.5,
    min_group_size: int = 2,
    max_features: int = 4096,
) -> list[int]: ...
def ks_columns(reference: _Matrix, current: _Matrix, alpha: float = 0.05) -> _KsColumns: ...

class KlDriftDetector:
    """KL drift detector over a sliding window of scores (see docs/drift.md)."""

    def __init__(self, **config: Unpack[_KlDriftOptions]) -> None: ...
    @classmethod
    def from_baseline(cls, scores: _Floats, **config: Unpack[_KlDriftOptions]) -> KlDriftDetector: ...
    @classmethod
    def from_histogram(cls, counts: Sequence[int], **config: Unpack[_KlDriftOptions]) -> KlDriftDetector: ...
    def set_baseline(self, scores: _Floats) -> None: ...
    def set_baseline_histogram(self, counts: Sequence[int]) -> None: ...
    def add(self, score: float, timestamp: float | None = None) -> tuple[bool, float]: ...
    def add_many(
        self, scores: _Floats, timestamp: float | None = None
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]: ...
    def add_batch(self, scores: _Floats, timestamp: float | None = None) -> _DriftBatch: ...
    def calibration(self) -> _Calibration: ...
    def status(self) -> _DriftStatus: ...
    def metrics_prometheus(self) -> str: ...
    def summary(self, days: float = 7.0) -> _DriftSummary: ...
    def reset(self) -> None: ...
    def is_fitted(self) -> bool: ...
    def thresholds(self) -> _Thresholds: ...
    def baseline_histogram(self) -> list[int]: ...
    def config(self) -> _KlDriftOptions: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> KlDriftDetector: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> KlDriftDetector: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

class Adwin:
    """ADWIN change detector (river's parameters and change points)."""

    def __init__(self, **config: Unpack[_AdwinOptions]) -> None: ...
    def update(self, x: float) -> bool: ...
    def update_many(self, xs: _Floats) -> npt.NDArray[np.int64]: ...
    def drift_detected(self) -> bool: ...
    def n_detections(self) -> int: ...
    def metrics_prometheus(self) -> str: ...
    def width(self) -> float: ...
    def estimation(self) -> float: ...
    def variance(self) -> float: ...
    def reset(self) -> None: ...
    def config(self) -> _AdwinOptions: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> Adwin: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> Adwin: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

class PageHinkley:
    """Page-Hinkley change detector (river's parameters and change points)."""

    def __init__(self, **config: Unpack[_PageHinkleyOptions]) -> None: ...
    def update(self, x: float) -> bool: ...
    def update_many(self, xs: _Floats) -> npt.NDArray[np.int64]: ...
    def drift_detected(self) -> bool: ...
    def n_detections(self) -> int: ...
    def metrics_prometheus(self) -> str: ...
    def reset(self) -> None: ...
    def config(self) -> _PageHinkleyOptions: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> PageHinkley: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> PageHinkley: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...
