//! The one error type of faultlens. Every binding maps these variants, by [`Error::code`], to its
//! own error kinds (see `docs/errors.md`), so callers can tell bad input from a corrupt file.

/// Everything that can go wrong in faultlens. Bad input is always an `Err`, never a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration field is out of range or inconsistent with another field.
    #[error("invalid config `{field}`: {reason}")]
    InvalidConfig {
        /// The offending field, as named in the config struct.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// An argument (texts, documents, ids, vectors) cannot be used as given.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A model was used before it was trained.
    #[error("{what} is not fitted: call fit() first")]
    NotFitted {
        /// The type that needs fitting.
        what: &'static str,
    },
    /// A vector or matrix has the wrong width.
    #[error("dimension mismatch: expected {expected}, got {got}")]
    Dimension {
        /// The width the model expects.
        expected: usize,
        /// The width that was passed.
        got: usize,
    },
    /// A model file of a format version this build cannot read.
    #[error("model format v{found} unsupported (this build reads v{min}..=v{max})")]
    Format {
        /// The version stored in the file.
        found: u32,
        /// Oldest version this build reads.
        min: u32,
        /// Newest version this build reads.
        max: u32,
    },
    /// A model file that is truncated, damaged or not a faultlens file at all.
    #[error("corrupt model file: {0}")]
    Corrupt(String),
    /// A valid model file that holds another kind of artifact than the one requested.
    #[error("wrong model kind: expected `{expected}`, file holds `{found}`")]
    WrongKind {
        /// The kind the caller asked for.
        expected: String,
        /// The kind stored in the file.
        found: String,
    },
    /// An operating-system I/O failure (reading or writing a file), naming the file when there is
    /// one, so a caller with many files can tell which failed.
    #[error("I/O error{}: {source}", path.as_ref().map(|p| format!(" on `{}`", p.display())).unwrap_or_default())]
    Io {
        /// The file or folder the operation was on (`None` for I/O without a path).
        path: Option<std::path::PathBuf>,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// A lock that a thread of the parent process held when this process was forked: that
    /// thread does not exist in the child, so the lock would never be released (see
    /// [`after_fork`](crate::after_fork)). Rebuild or re-load the object in the child.
    #[error(
        "the {what} was inherited across fork() while another thread of the parent process was \
         using it, and cannot be used in the child: rebuild or re-load it in the child \
         (docs/reliability.md, \"Fork\")"
    )]
    Inherited {
        /// The guarded thing, e.g. "resolver's knowledge base".
        what: &'static str,
    },
}

impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Error::Io { path: None, source }
    }
}

impl Error {
    /// The variant, without its data: a stable, language-neutral name (`code().as_str()`):
    /// Python's exception class is named `<code>Error`, Node's `err.code` is this string, C's
    /// status is `FL_STATUS_<CODE>`. Bindings map it with an exhaustive `match`, so a new
    /// variant fails to compile until every binding maps it.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidConfig { .. } => ErrorCode::InvalidConfig,
            Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::NotFitted { .. } => ErrorCode::NotFitted,
            Error::Dimension { .. } => ErrorCode::Dimension,
            Error::Format { .. } => ErrorCode::Format,
            Error::Corrupt(_) => ErrorCode::Corrupt,
            Error::WrongKind { .. } => ErrorCode::WrongKind,
            Error::Io { .. } => ErrorCode::Io,
            Error::Inherited { .. } => ErrorCode::Inherited,
        }
    }

    /// An I/O error on `path`: every load, save and file read in faultlens reports through this.
    pub fn io_at(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: Some(path.as_ref().to_path_buf()),
            source,
        }
    }

    /// The file an [`Error::Io`] was about, if any (Python's `OSError.filename`).
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::Io { path, .. } => path.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidConfig {
            field,
            reason: reason.into(),
        }
    }
}

/// Which [`Error`] variant an error is ([`Error::code`]). Not `non_exhaustive`, unlike
/// [`Error`]: a binding's `match` on it must name every code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// [`Error::InvalidConfig`].
    InvalidConfig,
    /// [`Error::InvalidInput`].
    InvalidInput,
    /// [`Error::NotFitted`].
    NotFitted,
    /// [`Error::Dimension`].
    Dimension,
    /// [`Error::Format`].
    Format,
    /// [`Error::Corrupt`].
    Corrupt,
    /// [`Error::WrongKind`].
    WrongKind,
    /// [`Error::Io`].
    Io,
    /// [`Error::Inherited`].
    Inherited,
}

impl ErrorCode {
    /// Every code, in the order of `docs/errors.md`.
    pub const ALL: [ErrorCode; 9] = [
        ErrorCode::InvalidConfig,
        ErrorCode::InvalidInput,
        ErrorCode::NotFitted,
        ErrorCode::Dimension,
        ErrorCode::Format,
        ErrorCode::Corrupt,
        ErrorCode::WrongKind,
        ErrorCode::Io,
        ErrorCode::Inherited,
    ];

    /// The variant's name, e.g. `"NotFitted"` (listed in `docs/api.json` under `errors`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidConfig => "InvalidConfig",
            ErrorCode::InvalidInput => "InvalidInput",
            ErrorCode::NotFitted => "NotFitted",
            ErrorCode::Dimension => "Dimension",
            ErrorCode::Format => "Format",
            ErrorCode::Corrupt => "Corrupt",
            ErrorCode::WrongKind => "WrongKind",
            ErrorCode::Io => "Io",
            ErrorCode::Inherited => "Inherited",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// `err.code() == "NotFitted"`: a code equals its name.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
