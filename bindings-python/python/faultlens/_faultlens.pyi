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

class _WindowKey(TypedDict, total=False):
    service: str | None
    route: str | None
    error_code: str | None

class _KeyThreshold(TypedDict):
    key: _WindowKey
    threshold: int

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
        masks: Sequence[str] = ("url", "email", "uuid", "ts", "ip", "path", "hex", "num"),
        custom_masks: Sequence[_MaskRule | tuple[str, str]] = (),
        split_identifiers: bool = False,
        stop_words: str = "english",
        extra_stop_words: Sequence[str] = (),
        stemmer: str = "english",
        min_token_length: int = 2,
    ) -> None: ...
    def tokens(self, text: str) -> list[str]: ...
    def tokens_batch(self, texts: Sequence[str]) -> list[list[str]]: ...
    def process(self, text: str) -> str: ...
    def process_batch(self, texts: Sequence[str]) -> list[str]: ...
    def template(self, text: str) -> Template: ...
    def template_batch(self, texts: Sequence[str]) -> list[Template]: ...
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
        preprocessor: Preprocessor | _PreprocessorConfig | None = ...,
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
    def config(self) -> _TfidfConfig: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> TfidfVectorizer: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> TfidfVectorizer: ...
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
    ) -> None: ...
    def push(self, event: _EventLike) -> _Outcome: ...
    def push_batch(self, events: Iterable[_EventLike]) -> _Outcome: ...
    def advance(self, watermark_ms: int) -> _Outcome: ...
    def flush(self) -> _Outcome: ...
    def merge(self, other: WindowAggregator) -> _Outcome: ...
    def stats(self) -> _WindowStats: ...
    def watermark(self) -> int | None: ...
    def config(self) -> _WindowConfig: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: _Bytes) -> WindowAggregator: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> WindowAggregator: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...
