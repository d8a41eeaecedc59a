//! # faultlens
//!
//! Turn raw error and log text into decisions, in-process. One module per capability:
//!
//! - [`text`]: preprocessing (lowercase, masking of variable parts, Unicode word segmentation,
//!   stopwords, Snowball stemming) — [`Preprocessor`].
//! - [`vectorize`]: TF-IDF with word n-grams, equal to scikit-learn's given the same tokens —
//!   [`TfidfVectorizer`], sparse [`CsrMatrix`] output.
//! - [`classify`]: error text → label with calibrated confidence and explanations —
//!   [`TextClassifier`]; [`evaluate`] / [`compare`] (McNemar) for reports and A/B tests.
//! - [`window`]: keyed sliding-window counts over event time raising incidents, on fixed
//!   thresholds and per-key rate baselines — [`WindowAggregator`]; stable, order-independent
//!   incident groups — [`IncidentGrouper`].
//! - [`index`]: nearest-neighbour search (HNSW and exact) over vectors and texts —
//!   [`SimilarityIndex`], [`TextIndex`].
//! - [`drift`]: KL/PSI/JS drift on score windows with calibrated thresholds, scipy-equal KS
//!   tests, river-equal ADWIN and Page-Hinkley — [`KlDriftDetector`], [`ks_2samp`], [`Adwin`].
//! - [`models`]: the versioned, checksummed model file every artifact saves to — [`Artifact`].
//!
//! The Python, Node and C bindings expose the same names; see `docs/api.json`.
//!
//! ```
//! use faultlens::{Artifact, TfidfConfig, TfidfVectorizer};
//!
//! let logs = [
//!     "Connection refused to 10.0.0.7:5432 after 3 retries",
//!     "Connection refused to 10.0.0.9:5432 after 5 retries",
//!     "Disk quota exceeded for /var/lib/postgres",
//! ];
//! let mut v = TfidfVectorizer::new(TfidfConfig { ngram_range: (1, 2), ..Default::default() })?;
//! let x = v.fit_transform(&logs)?;
//! assert_eq!((x.n_rows, x.n_cols), (3, v.n_features()?));
//! // Masking makes the first two lines identical: their similarity is 1.
//! assert!((v.similarity(logs[0], logs[1])? - 1.0).abs() < 1e-9);
//! let reloaded = TfidfVectorizer::from_bytes(&v.to_bytes()?)?;
//! assert_eq!(reloaded, v);
//! # Ok::<(), faultlens::Error>(())
//! ```
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod classify;
pub mod drift;
pub mod error;
pub mod index;
pub mod metrics;
pub mod models;
pub mod parallel;
pub mod resolve;
pub mod sync;
pub mod text;
pub mod vectorize;
pub mod window;

pub use classify::{
    ClassificationReport, ClassifierConfig, ClassifierMetrics, Comparison, ModelKind, Prediction,
    TextClassifier, compare, evaluate,
};
pub use drift::{
    Adwin, AdwinConfig, KlDriftConfig, KlDriftDetector, KsColumn, KsResult, PageHinkley,
    PageHinkleyConfig, ks_2samp, ks_columns,
};
pub use error::{Error, ErrorCode, Result};
pub use index::{
    Embedding, Entry, Filter, Fusion, Hit, IndexConfig, IndexMetrics, KEY_ID_BASE, Metric,
    SearchOptions, SimilarityIndex, TextHit, TextIndex, TextIndexConfig,
};
pub use models::{Artifact, ArtifactInfo};
pub use parallel::{parallelism, set_parallelism};
pub use sync::after_fork;
pub use text::{MaskRule, Preprocessor, PreprocessorConfig, Template};
pub use vectorize::{CsrMatrix, DfBound, Norm, TfidfConfig, TfidfVectorizer};
pub use window::{
    Event, GroupInput, GrouperConfig, Incident, IncidentGrouper, RateTrigger, WindowAggregator,
    WindowConfig,
};

/// The library version, written into every model file.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Panics with `message`. Each binding's tests call it to show that a panic inside faultlens
/// reaches the host language as an error, never an abort. Not for other use.
#[doc(hidden)]
pub fn panic_for_tests(message: &str) -> ! {
    panic!("{message}")
}
