"""scikit-learn's estimator protocol for :class:`TextClassifier` and :class:`TfidfVectorizer`.

The public classes are thin Python subclasses of the native ones. They add what the protocol
needs and a native (frozen, slot-less) object cannot give:

- an instance ``__dict__``: ``__init__`` stores every constructor argument as given, so
  ``get_params()`` returns the very objects passed (``sklearn.base.clone`` checks identity), and
  meta-estimators can set their private attributes (``Pipeline`` sets ``_parent_callback_ctx``);
- an explicit keyword-only signature, built from the core config's fields and defaults (so a
  field added to the core config is a parameter at once);
- ``__sklearn_tags__`` (scikit-learn is imported only when scikit-learn itself asks for tags:
  ``import faultlens`` never imports it);
- labels of any type for the classifier: the core learns string labels; ``fit`` keeps the
  original values and ``classes_``/``predict`` give them back (``classes_`` sorted, as
  scikit-learn's classifiers have them, with ``predict_proba`` columns in that order).

Configuration is validated when it is given (constructor, ``set_params``), as in the Rust, Node
and C APIs, so a bad option fails where it is written.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _faultlens as _native

if TYPE_CHECKING:  # the option types exist for type checkers only (the stub, generated)
    from typing_extensions import Unpack

    from ._faultlens import _TextClassifierParams, _TfidfOptions

__all__ = ["TextClassifier", "TfidfVectorizer"]


def _immutable(value: Any) -> Any:
    """A config value as a parameter value: lists as tuples, a document-frequency fraction
    (``{"fraction": f}`` in the core's config) as the float Python spells it."""
    if isinstance(value, list):
        return tuple(_immutable(v) for v in value)
    if isinstance(value, dict) and set(value) == {"fraction"}:
        return float(value["fraction"])
    return value


def _signature(defaults: dict[str, Any]) -> inspect.Signature:
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)]
    params += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=value)
        for name, value in defaults.items()
    ]
    return inspect.Signature(params)


def _check_names(cls: type, given: dict[str, Any]) -> None:
    unknown = sorted(set(given) - set(cls._DEFAULTS))
    if unknown:
        from ._errors import InvalidConfigError

        raise InvalidConfigError(
            f"invalid config `{unknown[0]}`: not a parameter of {cls.__name__} "
            f"(parameters: {', '.join(cls._DEFAULTS)})"
        )


class _Params:
    """get_params/set_params over the attributes ``__init__`` stored, as BaseEstimator does."""

    _NATIVE: type = object
    _DEFAULTS: dict[str, Any] = {}
    # Parameters whose default is a nested config dict: ``None`` stands for "the core default".
    _NONE_IS_DEFAULT: frozenset[str] = frozenset()

    def _store(self, given: dict[str, Any]) -> None:
        for name, default in self._DEFAULTS.items():
            self._set(name, given.get(name, default))

    def _set(self, name: str, value: Any) -> None:
        # A parameter named like a native method (TextClassifier's `model` and `model()`) is
        # kept out of the instance dict, where it would hide the method.
        if hasattr(self._NATIVE, name):
            self.__dict__.setdefault("_shadowed", {})[name] = value
        else:
            setattr(self, name, value)

    def _get(self, name: str) -> Any:
        shadowed = self.__dict__.get("_shadowed", {})
        return shadowed[name] if name in shadowed else getattr(self, name)

    @classmethod
    def _core_kwargs(cls, params: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v for k, v in params.items() if not (v is None and k in cls._NONE_IS_DEFAULT)
        }

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments, as given (``deep`` changes nothing: no parameter is an
        estimator)."""
        return {name: self._get(name) for name in self._DEFAULTS}

    def _params_after(self, params: dict[str, Any]) -> dict[str, Any]:
        _check_names(type(self), params)
        merged = self.get_params()
        merged.update(params)
        return merged

    @classmethod
    def _new_empty(cls):
        return cls.__new__(cls)

    def _after_load(self) -> None:
        """Parameters of a loaded model: its stored configuration."""
        config = self.config()
        self._store({k: _immutable(v) for k, v in config.items() if k in self._DEFAULTS})

    def __sklearn_is_fitted__(self) -> bool:
        # scikit-learn's check_is_fitted looks for `_`-suffixed attributes in `vars()`; these
        # are properties of the native object, so say it directly.
        return self.is_fitted()

    def __getstate__(self) -> dict[str, Any]:
        # Meta-estimators' transient attributes (`_parent_callback_ctx`) are not state.
        return {k: v for k, v in self.__dict__.items() if k != "_parent_callback_ctx"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __reduce__(self):
        # The model file's bytes (as the native classes pickle) plus the Python attributes.
        return (type(self)._from_pickle, (self.to_bytes(),), self.__getstate__())

    @classmethod
    def _from_pickle(cls, data: bytes):
        return cls.from_bytes(data)


def _tags(kind: str):
    """scikit-learn's Tags for a text estimator (imports scikit-learn: only it calls this)."""
    from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags, TransformerTags

    text_input = InputTags(one_d_array=True, two_d_array=False, string=True)
    if kind == "classifier":
        return Tags(
            estimator_type="classifier",
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(),
            input_tags=text_input,
        )
    return Tags(
        estimator_type=None,
        target_tags=TargetTags(required=False),
        transformer_tags=TransformerTags(preserves_dtype=[]),
        input_tags=text_input,
    )


_TFIDF_DEFAULT_WORD = {"preprocessor": "default"}


class TfidfVectorizer(_Params, _native.TfidfVectorizer):
    __doc__ = _native.TfidfVectorizer.__doc__
    __module__ = "faultlens"

    # Parameters whose core default is a nested config dict (mutable, which scikit-learn's
    # defaults must not be) take a word for it: ``preprocessor="default"`` is the core's default
    # preprocessor (``None`` keeps its meaning: split on whitespace only).
    _NATIVE = _native.TfidfVectorizer
    _DEFAULT_WORD = _TFIDF_DEFAULT_WORD
    _DEFAULTS = {
        k: _TFIDF_DEFAULT_WORD.get(k, _immutable(v))
        for k, v in _native.TfidfVectorizer().config().items()
    }

    @classmethod
    def _core_kwargs(cls, params: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in params.items() if not (k in cls._DEFAULT_WORD and
                                                        isinstance(v, str) and v == cls._DEFAULT_WORD[k])}

    def __new__(cls, **params: Unpack[_TfidfOptions]):
        return super().__new__(cls, **cls._core_kwargs(params))

    def __init__(self, **params: Unpack[_TfidfOptions]) -> None:
        _check_names(type(self), params)
        self._store(params)

    def set_params(self, **params: Any) -> TfidfVectorizer:
        """Changes parameters (validated at once). An unfitted vectorizer takes them at once; a
        fitted one keeps transforming as fitted until the next ``fit``."""
        merged = self._params_after(params)
        fresh = _native.TfidfVectorizer(**self._core_kwargs(merged))  # validates
        if self.is_fitted():
            self._stale = True  # the next fit starts from the new configuration
        else:
            _native._adopt_vectorizer(self, fresh)
        for k, v in params.items():
            self._set(k, v)
        return self

    def _reconfigure(self) -> None:
        if self.__dict__.pop("_stale", False):
            fresh = _native.TfidfVectorizer(**self._core_kwargs(self.get_params()))
            _native._adopt_vectorizer(self, fresh)

    def fit(self, raw_documents, y=None) -> TfidfVectorizer:
        """Learns vocabulary and idf with the current parameters; returns ``self``. ``y`` is
        ignored (pipelines pass it)."""
        self._reconfigure()
        _native.TfidfVectorizer.fit(self, raw_documents)
        return self

    def fit_transform(self, raw_documents, y=None):
        """``fit`` then ``transform`` on the same documents (tokenizes once)."""
        self._reconfigure()
        return _native.TfidfVectorizer.fit_transform(self, raw_documents)

    def fit_tokens(self, docs) -> TfidfVectorizer:
        """Learns vocabulary and idf from documents already split into tokens. Returns ``self``."""
        self._reconfigure()
        _native.TfidfVectorizer.fit_tokens(self, docs)
        return self

    def fit_transform_tokens(self, docs):
        """``fit_tokens`` then ``transform_tokens``."""
        self._reconfigure()
        return _native.TfidfVectorizer.fit_transform_tokens(self, docs)

    @classmethod
    def from_bytes(cls, data) -> TfidfVectorizer:
        """Rebuilds a vectorizer from ``to_bytes()`` output (or a file's content)."""
        obj = cls._new_empty()
        _native._adopt_vectorizer(obj, _native.TfidfVectorizer.from_bytes(data))
        obj._after_load()
        return obj

    @classmethod
    def load(cls, path) -> TfidfVectorizer:
        """Reads a model file written by ``save`` (in any language)."""
        obj = cls._new_empty()
        _native._adopt_vectorizer(obj, _native.TfidfVectorizer.load(path))
        obj._after_load()
        return obj

    def _after_load(self) -> None:
        super()._after_load()
        if self.preprocessor == _native.TfidfVectorizer().config()["preprocessor"]:
            self.preprocessor = "default"

    def __sklearn_tags__(self):
        return _tags("transformer")


TfidfVectorizer.__init__.__signature__ = _signature(TfidfVectorizer._DEFAULTS)
TfidfVectorizer.__signature__ = _signature(TfidfVectorizer._DEFAULTS).replace(
    parameters=list(_signature(TfidfVectorizer._DEFAULTS).parameters.values())[1:])


class TextClassifier(_Params, _native.TextClassifier):
    __doc__ = _native.TextClassifier.__doc__
    __module__ = "faultlens"

    _NATIVE = _native.TextClassifier
    _DEFAULTS = {
        k: (None if k == "tfidf" else _immutable(v))
        for k, v in _native.TextClassifier().get_params().items()
    }
    _NONE_IS_DEFAULT = frozenset({"tfidf"})

    def __new__(cls, **params: Unpack[_TextClassifierParams]):
        return super().__new__(cls, **cls._core_kwargs(params))

    def __init__(self, **params: Unpack[_TextClassifierParams]) -> None:
        _check_names(type(self), params)
        self._store(params)

    def set_params(self, **params: Any) -> TextClassifier:
        """Changes parameters (validated at once). A fitted model keeps predicting as trained;
        ``threshold``/``top_k``/``explain_top``/``novelty_threshold`` apply at once, the rest at
        the next ``fit``."""
        merged = self._params_after(params)
        core = self._core_kwargs(merged)
        if "tfidf" not in core:
            core["tfidf"] = _native.TextClassifier().config()["tfidf"]
        _native.TextClassifier.set_params(self, **core)
        for k, v in params.items():
            self._set(k, v)
        return self

    # -- labels of any type ---------------------------------------------------------------
    def _encode(self, y, extend: bool = False):
        """``y`` as str labels for the core. Labels of another type are written with ``str()``
        and their original values kept (``_label_values``); str labels pass unchanged."""
        if hasattr(y, "to_pylist"):  # pyarrow Array/ChunkedArray
            seq = y.to_pylist()
        elif hasattr(y, "to_list") and not hasattr(y, "to_numpy"):
            seq = y.to_list()
        elif hasattr(y, "to_numpy"):  # pandas, polars
            seq = y.to_numpy()
        else:
            seq = y
        if isinstance(seq, np.ndarray) and seq.ndim == 1:
            items = seq.tolist()
        elif isinstance(seq, (list, tuple)):
            items = list(seq)
        else:
            return y  # the core's "must be a list or 1-D array" error
        if all(isinstance(v, str) for v in items):
            if not extend:
                self._label_values = None
            return y
        from ._errors import InvalidInputError

        if any(isinstance(v, str) for v in items):
            kinds = sorted({type(v).__name__ for v in items})
            raise InvalidInputError(
                f"invalid input: labels `y` mix str with other types ({', '.join(kinds)})"
            )
        values = np.asarray(items)
        if values.ndim != 1:
            values = np.empty(len(items), dtype=object)
            values[:] = items
        try:
            classes = np.unique(values)
        except TypeError as e:
            raise InvalidInputError(
                f"invalid input: labels `y` mix types that do not sort together ({e})"
            ) from e
        items = values.tolist()
        old = getattr(self, "_label_values", None) if extend else None
        if old is not None:
            classes = np.unique(np.concatenate([old, classes]))
        names = [str(c) for c in classes.tolist()]
        if len(set(names)) != len(names):
            raise InvalidInputError(
                "invalid input: labels `y` are not distinct once written as text "
                f"({classes.tolist()!r}); use str labels"
            )
        self._label_values = classes
        lookup = dict(zip(classes.tolist(), names))
        return [lookup[v] for v in items]

    def _core_order(self) -> np.ndarray | None:
        """Permutation from the core's class order (str sort) to ``classes_`` order."""
        values = getattr(self, "_label_values", None)
        if values is None:
            return None
        names = _native.TextClassifier.classes(self)
        position = {str(v): i for i, v in enumerate(values.tolist())}
        return np.argsort([position[n] for n in names], kind="stable")

    def fit(self, X, y, progress=None) -> TextClassifier:
        """Trains on texts ``X`` with labels ``y`` (str, int or any values with distinct
        ``str()``); returns ``self``. ``progress(stage, done, total)`` is called during
        training; ``verbose=True`` also draws a bar on stderr. GIL released."""
        labels = self._encode(y)
        _native.TextClassifier.fit(self, X, labels, progress)
        return self

    def partial_fit(self, X, y) -> TextClassifier:
        """Learns more labelled texts without retraining (naive Bayes; unfitted, it is ``fit``)."""
        labels = self._encode(y, extend=True)
        _native.TextClassifier.partial_fit(self, X, labels)
        return self

    @property
    def classes_(self) -> np.ndarray:
        """The labels in ``predict_proba`` column order (the type given to ``fit``);
        ``NotFittedError`` (an ``AttributeError``) before fit."""
        names = _native.TextClassifier.classes_.__get__(self)
        values = getattr(self, "_label_values", None)
        return names if values is None else values

    def predict(self, X) -> np.ndarray:
        """The most probable label per text (the type given to ``fit``)."""
        out = _native.TextClassifier.predict(self, X)
        values = getattr(self, "_label_values", None)
        if values is None:
            return out
        index = {str(v): i for i, v in enumerate(values.tolist())}
        return values[np.fromiter((index[s] for s in out), dtype=np.intp, count=len(out))]

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities, shape ``(n_texts, n_classes)``, columns in ``classes_`` order."""
        proba = _native.TextClassifier.predict_proba(self, X)
        order = self._core_order()
        return proba if order is None else proba[:, order]

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy on labelled texts (weighted by ``sample_weight`` if given)."""
        if getattr(self, "_label_values", None) is None and sample_weight is None:
            return _native.TextClassifier.score(self, X, y)
        pred = self.predict(X)
        if hasattr(y, "to_pylist"):
            y = y.to_pylist()
        truth = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y, dtype=pred.dtype)
        return float(np.average(pred == truth, weights=sample_weight))

    @classmethod
    def from_bytes(cls, data) -> TextClassifier:
        """Rebuilds a classifier from ``to_bytes()`` output (or a file's content)."""
        obj = cls._new_empty()
        _native._adopt_classifier(obj, _native.TextClassifier.from_bytes(data))
        obj._after_load()
        return obj

    @classmethod
    def load(cls, path) -> TextClassifier:
        """Reads a model file written by ``save`` (in any language). Labels come back as str:
        the model file stores them as text (a pickle keeps their type)."""
        obj = cls._new_empty()
        _native._adopt_classifier(obj, _native.TextClassifier.load(path))
        obj._after_load()
        return obj

    def _after_load(self) -> None:
        super()._after_load()
        if self.tfidf == _native.TextClassifier().config()["tfidf"]:
            self.tfidf = None
        self.verbose = False
        self._label_values = None

    def __sklearn_tags__(self):
        return _tags("classifier")


TextClassifier.__init__.__signature__ = _signature(TextClassifier._DEFAULTS)
TextClassifier.__signature__ = _signature(TextClassifier._DEFAULTS).replace(
    parameters=list(_signature(TextClassifier._DEFAULTS).parameters.values())[1:])
