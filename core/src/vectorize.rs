//! TF-IDF with word n-grams, matching scikit-learn's `TfidfVectorizer` given the same tokens and
//! options (same vocabulary order, same values), with sparse CSR output.
//!
//! ```
//! use faultlens::{TfidfConfig, TfidfVectorizer};
//! let mut v = TfidfVectorizer::new(TfidfConfig { ngram_range: (1, 2), ..Default::default() }).unwrap();
//! let x = v.fit_transform(&["disk full on /dev/sda1", "disk quota exceeded"]).unwrap();
//! assert_eq!(x.n_rows, 2);
//! assert!(v.feature_names().unwrap().contains(&"disk full".to_string()));
//! ```
//!
//! Internally every token gets a `u32` id and an n-gram is the slice of its ids, so transform
//! looks n-grams up without building strings; feature names (tokens joined by one space) are only
//! built once, at fit time, to sort the vocabulary exactly as scikit-learn does.

mod config;
mod csr;
mod grouped;
mod persist;
#[cfg(test)]
mod tests;
mod tokenised;
mod tokens;
mod vectorizer;
mod vocab;

pub use config::{DEFAULT_MAX_DISTINCT_TERMS, DfBound, MAX_NGRAM, Norm, TfidfConfig};
pub use csr::CsrMatrix;
#[cfg(test)]
pub(crate) use tokenised::tokenised;
pub(crate) use tokens::LineTokens;
pub use vectorizer::TfidfVectorizer;
