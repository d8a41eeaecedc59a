"""Exception classes of faultlens: one per core error code (see docs/errors.md).

The native module raises ``<code>Error`` for the core's ``Error::code()``; every class derives
from :class:`FaultlensError`, so ``except faultlens.FaultlensError`` catches them all.
"""

from __future__ import annotations

__all__ = [
    "FaultlensError",
    "InvalidConfigError",
    "InvalidInputError",
    "NotFittedError",
    "DimensionError",
    "FormatError",
    "CorruptError",
    "WrongKindError",
    "IoError",
    "InheritedError",
]


class FaultlensError(Exception):
    """Base class of every faultlens error."""

    #: The core's language-neutral error code (``Error::code()``), or None for the base class.
    code: str | None = None


class InvalidConfigError(FaultlensError, ValueError):
    """A config field is out of range, inconsistent or unknown; the message names the field."""

    code = "InvalidConfig"


class InvalidInputError(FaultlensError, ValueError):
    """An argument cannot be used (empty corpus, empty vocabulary, bad path)."""

    code = "InvalidInput"


class NotFittedError(FaultlensError, ValueError, AttributeError):
    """A model was used before ``fit`` (a ValueError and AttributeError, as in scikit-learn)."""

    code = "NotFitted"


class DimensionError(FaultlensError, ValueError):
    """A vector or matrix has the wrong width."""

    code = "Dimension"


class FormatError(FaultlensError):
    """A model file of a format version this build does not read (the message names both)."""

    code = "Format"


class CorruptError(FaultlensError):
    """A model file that is truncated, damaged or not a faultlens file."""

    code = "Corrupt"


class WrongKindError(FaultlensError):
    """A valid model file that holds another kind of artifact than the one requested."""

    code = "WrongKind"


class IoError(FaultlensError, OSError):
    """An operating-system I/O failure; ``errno`` and ``filename`` (the file it was about) are
    set, and ``__cause__`` is the matching built-in OSError subclass (``FileNotFoundError``,
    ``PermissionError``, ...)."""

    code = "Io"

    def __str__(self) -> str:
        # The core's message, which names the file; OSError's own format would replace it with
        # "[Errno 2] None: 'path'" once `filename` is set.
        return str(self.args[0]) if self.args else ""


class InheritedError(FaultlensError):
    """An object another thread of the parent process was using when this process forked: it
    cannot be used in the child (its lock would never be released); rebuild or re-load it."""

    code = "Inherited"


# Show and pickle them under the public package path (faultlens.NotFittedError).
for _name in __all__:
    globals()[_name].__module__ = "faultlens"
del _name
