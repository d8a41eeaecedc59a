"""faultlens: turn raw error and log text into decisions, in-process.

- :class:`Preprocessor`: lowercase, mask variable parts, segment, stem, drop stopwords.
- :class:`TfidfVectorizer`: TF-IDF over word n-grams (scikit-learn's values), scipy CSR output.
- :class:`Resolver`: the rules -> similar past errors -> classifier cascade, feedback, metrics.
- :class:`TextClassifier`: error text to remedy label with calibrated confidence
  (scikit-learn style estimator); :func:`evaluate` and :func:`compare` report and A/B-test it.
- :class:`WindowAggregator`: keyed sliding-window counts over event time that raise incidents.
- :class:`IncidentGrouper`: stable, order-independent incident groups (text, embeddings or both).
- :class:`SimilarityIndex`, :class:`TextIndex`: nearest-neighbour search over vectors and texts.
- :class:`KlDriftDetector`, :class:`Adwin`, :class:`PageHinkley`, :func:`ks_2samp`,
  :func:`ks_columns`: drift detection on scores, streams and feature columns.
- :func:`inspect`: what a model file holds, without loading it.

Every class saves to the same versioned model file as the Rust, Node and C APIs
(``save``/``load``/``to_bytes``/``from_bytes``) and pickles through it.
"""

import os as _os

from . import _errors
from ._errors import (
    CorruptError,
    DimensionError,
    FaultlensError,
    FormatError,
    InvalidConfigError,
    InvalidInputError,
    IoError,
    NotFittedError,
    WrongKindError,
    InheritedError,
)
from ._faultlens import (
    Adwin,
    IncidentGrouper,
    KlDriftDetector,
    LabelScore,
    PageHinkley,
    Preprocessor,
    Resolution,
    Resolver,
    SimilarError,
    SimilarityIndex,
    Template,
    TextIndex,
    WindowAggregator,
    compare,
    evaluate,
    inspect,
    ks_2samp,
    group_incidents,
    ks_columns,
    merge_prometheus,
    parallelism,
    set_parallelism,
    version,
)
from ._estimator import TextClassifier, TfidfVectorizer

__version__: str = version()

__all__ = [
    "Adwin",
    "IncidentGrouper",
    "KlDriftDetector",
    "LabelScore",
    "PageHinkley",
    "Preprocessor",
    "Resolution",
    "Resolver",
    "SimilarError",
    "SimilarityIndex",
    "Template",
    "TextClassifier",
    "TextIndex",
    "TfidfVectorizer",
    "WindowAggregator",
    "compare",
    "evaluate",
    "inspect",
    "ks_2samp",
    "group_incidents",
    "ks_columns",
    "merge_prometheus",
    "parallelism",
    "set_parallelism",
    "version",
    *_errors.__all__,
]

# rayon's worker threads do not survive fork(): a forked child (multiprocessing, gunicorn) that
# used the inherited pool would hang, so children run batches on the calling thread. `_forked`
# lets each object tell a lock held by a parent's thread at fork time (an error in the child)
# from one held by the child's own threads.
if hasattr(_os, "register_at_fork"):
    from ._faultlens import _forked

    def _after_fork_in_child() -> None:
        _forked()
        set_parallelism(False)

    _os.register_at_fork(after_in_child=_after_fork_in_child)
