//! Text preprocessing: from a raw log line to the tokens every other capability consumes.
//!
//! Steps, in order: lowercase → mask variable parts (user rules first, then the built-ins
//! `url email uuid ts ip path hex num`) → Unicode word segmentation (UAX #29, so Hangul and other
//! scripts stay whole; identifiers such as `java.lang.NullPointerException`, `ERR_CONNECTION_REFUSED`,
//! `kube-proxy` stay single tokens) → Korean particles and endings removed (`text/korean.rs`) →
//! stemming → minimum length → stopwords.
//!
//! ```
//! use faultlens::{Preprocessor, PreprocessorConfig};
//! let p = Preprocessor::new(PreprocessorConfig::default()).unwrap();
//! assert_eq!(
//!     p.tokens("Connection refused to 10.0.0.7:8080 after 3 retries"),
//!     ["connect", "refus", "<ip>", "after", "<num>", "retri"]
//! );
//! ```

mod compiled;
mod config;
mod korean;
mod masks;
mod preprocessor;
mod segment;
#[cfg(test)]
mod tests;

pub use config::{BUILTIN_MASKS, MaskRule, PreprocessorConfig};
pub use preprocessor::{Preprocessor, Template};

/// 64-bit FNV-1a: tiny, fast and fixed forever, so template ids are stable across releases.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
