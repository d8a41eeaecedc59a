"""Type stubs of the native module faultlens._faultlens (re-exported by ``faultlens``).

Keep in sync with bindings-python/src/*.rs; tests/test_api_parity.py checks the names.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypedDict, Union

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

class _MaskRule(TypedDict):
    pattern: str
    placeholder: str

class _PreprocessorConfig(TypedDict, total=False):
    lowercase: bool
    mask: bool
    masks: list[str]
    custom_masks: list[_MaskRule]
    split_identifiers: bool
    stop_words: str
    extra_stop_words: list[str]
    stemmer: str
    min_token_length: int
    korean: str

class _TfidfConfig(TypedDict, total=False):
    ngram_range: list[int]
    min_df: int | float
    max_df: int | float
    max_features: int | None
    sublinear_tf: bool
    norm: Literal["l2", "l1", "none"]
    use_idf: bool
    smooth_idf: bool
    preprocessor: _PreprocessorConfig | None
    max_distinct_terms: int | None

class _WindowKey(TypedDict, total=False):
    service: str | None
    route: str | None
    error_code: str | None

class _KeyThreshold(TypedDict):
    key: _WindowKey
    threshold: int

class _RateTrigger(TypedDict, total=False):
    factor: float
    z: float
    alpha: float
    min_history: int
    forget_after: int
    min_count: int

class _WindowConfig(TypedDict, total=False):
    window_ms: int
    key_fields: list[Literal["service", "route", "error_code"]]
    threshold: int
    key_thresholds: list[_KeyThreshold]
    allowed_lateness_ms: int | None
    cooldown_ms: int
    max_keys: int
    max_samples: int
    max_trace_ids: int
    max_future_ms: int | None
    rate: _RateTrigger | None

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

    def __init__(
        self,
        *,
        lowercase: bool = True,
        mask: bool = True,
        masks: Sequence[str] = ("url", "email", "uuid", "ts", "ip", "host", "path", "hex", "num"),
        custom_masks: Sequence[_MaskRule | tuple[str, str]] = (),
        split_identifiers: bool = False,
        stop_words: str = "english",
        extra_stop_words: Sequence[str] = (),
        stemmer: str = "english",
        min_token_length: int = 2,
        korean: str = "rules",
    ) -> None: ...
    def tokens(self, text: str) -> list[str]: ...
    def tokens_batch(self, texts: Sequence[str]) -> list[list[str]]: ...
    def process(self, text: str) -> str: ...
    def process_batch(self, texts: _Strs) -> list[str]: ...
    def template(self, text: str) -> Template: ...
    def template_batch(self, texts: _Strs) -> list[Template]: ...
    def config(self) -> _PreprocessorConfig: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> Preprocessor: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> Preprocessor: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

class TfidfVectorizer:
    """TF-IDF over word n-grams (scikit-learn's values given the same tokens), CSR output."""

    def __init__(
        self,
        *,
        ngram_range: tuple[int, int] | Sequence[int] = (1, 1),
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        max_features: int | None = None,
        sublinear_tf: bool = False,
        norm: Literal["l2", "l1", "none"] | None = "l2",
        use_idf: bool = True,
        smooth_idf: bool = True,
        preprocessor: Preprocessor | _PreprocessorConfig | Literal["default"] | None = "default",
        max_distinct_terms: int | None = 10_000_000,
    ) -> None: ...
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
    def config(self) -> _TfidfConfig: ...
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

class _SolutionThreshold(TypedDict):
    solution: str
    threshold: float

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

    def __init__(
        self,
        *,
        exact_threshold: float = ...,
        similarity_threshold: float = ...,
        classifier_threshold: float = ...,
        top_k: int = ...,
        learn_from_feedback: bool = ...,
        max_text_bytes: int = ...,
        max_outcomes: int = ...,
        knowledge_vectorizer: _TfidfConfig = ...,
        novelty_threshold: float = 0.5,
        solution_thresholds: Sequence[_SolutionThreshold] = (),
    ) -> None: ...
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
    def config(self) -> dict[str, Any]:
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

class TextClassifier:
    """Error text -> label with calibrated confidence (scikit-learn style estimator)."""

    def __init__(
        self,
        *,
        model: Literal["logistic", "naive_bayes", "linear_svm", "auto"] = "logistic",
        tfidf: _TfidfConfig = ...,
        c: float = 50.0,
        alpha: float = 0.01,
        max_iter: int = 300,
        tol: float = 1e-4,
        cv_folds: int = 5,
        calibration_folds: int = 3,
        holdout: float = 0.2,
        seed: int = 0,
        threshold: float = 0.7,
        top_k: int = 3,
        explain_top: int = 5,
        novelty_prior: float = 0.2,
        novelty_threshold: float = 0.5,
        verbose: bool = False,
    ) -> None: ...
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
    def config(self) -> dict[str, Any]: ...
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

    def __init__(
        self,
        *,
        allowed_lateness_ms: int,
        window_ms: int = 300000,
        key_fields: Sequence[Literal["service", "route", "error_code"]] = ("service", "route", "error_code"),
        threshold: int = 10,
        key_thresholds: Sequence[_KeyThreshold] = (),
        cooldown_ms: int = 0,
        max_keys: int = 100000,
        max_samples: int = 5,
        max_trace_ids: int = 10,
        max_future_ms: int | None = None,
        rate: _RateTrigger | None = None,
    ) -> None: ...
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
    def config(self) -> _WindowConfig: ...
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

class _GrouperConfig(TypedDict, total=False):
    min_similarity: float
    text_weight: float
    max_incidents: int
    preprocessor: _PreprocessorConfig

class IncidentGrouper:
    def __init__(
        self,
        *,
        min_similarity: float = 0.5,
        text_weight: float = 0.5,
        max_incidents: int = 100000,
        preprocessor: _PreprocessorConfig | None = None,
    ) -> None: ...
    def add(self, incidents: Iterable[_GroupInput]) -> _GroupUpdate: ...
    def group_of(self, id: str) -> str | None: ...
    def groups(self) -> list[_Group]: ...
    def similarity(self, a: str, b: str) -> float | None: ...
    def len(self) -> int: ...
    def metrics_prometheus(self) -> str: ...
    def __len__(self) -> int: ...
    def config(self) -> _GrouperConfig: ...
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
# {"type": "ids"|"keys"|"payload"|"payload_in"|"range"|"and", ...}: see docs/index.md
_Filter = dict[str, Any]
# {"type": "rrf", "k": 60} (default) or {"type": "weighted", "text_weight": 0.5}
_Fusion = dict[str, Any]

class _IndexConfig(TypedDict, total=False):
    dim: int
    metric: Literal["cosine", "dot", "l2"]
    m: int
    ef_construction: int
    ef_search: int
    target_recall: float | None
    exact_below: int
    max_items: int | None

class SimilarityIndex:
    """Nearest-neighbour index over float32 vectors: HNSW graph, exact below `exact_below`."""

    def __init__(
        self,
        *,
        dim: int,
        metric: Literal["cosine", "dot", "l2"] = "cosine",
        m: int = 16,
        ef_construction: int = 200,
        ef_search: int = 64,
        target_recall: float | None = 0.95,
        exact_below: int = 8192,
        max_items: int | None = None,
    ) -> None: ...
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
    def config(self) -> _IndexConfig: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> SimilarityIndex: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> SimilarityIndex: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

class TextIndex:
    """(error text, solution) pairs searched by text: TF-IDF + projection, or your embeddings."""

    def __init__(self, *, embedding: dict[str, Any] = ..., index: _IndexConfig = ...) -> None: ...
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
    def config(self) -> dict[str, Any]: ...
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

class _Thresholds(TypedDict):
    watch: float
    drift: float
    severe: float

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

    def __init__(self, **config: Any) -> None: ...
    @classmethod
    def from_baseline(cls, scores: _Floats, **config: Any) -> KlDriftDetector: ...
    @classmethod
    def from_histogram(cls, counts: Sequence[int], **config: Any) -> KlDriftDetector: ...
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
    def config(self) -> dict[str, Any]: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> KlDriftDetector: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> KlDriftDetector: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

class Adwin:
    """ADWIN change detector (river's parameters and change points)."""

    def __init__(self, **config: Any) -> None: ...
    def update(self, x: float) -> bool: ...
    def update_many(self, xs: _Floats) -> npt.NDArray[np.int64]: ...
    def drift_detected(self) -> bool: ...
    def n_detections(self) -> int: ...
    def metrics_prometheus(self) -> str: ...
    def width(self) -> float: ...
    def estimation(self) -> float: ...
    def variance(self) -> float: ...
    def reset(self) -> None: ...
    def config(self) -> dict[str, Any]: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> Adwin: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> Adwin: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

class PageHinkley:
    """Page-Hinkley change detector (river's parameters and change points)."""

    def __init__(self, **config: Any) -> None: ...
    def update(self, x: float) -> bool: ...
    def update_many(self, xs: _Floats) -> npt.NDArray[np.int64]: ...
    def drift_detected(self) -> bool: ...
    def n_detections(self) -> int: ...
    def metrics_prometheus(self) -> str: ...
    def reset(self) -> None: ...
    def config(self) -> dict[str, Any]: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> PageHinkley: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> PageHinkley: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...
