//! The preprocessor: a config compiled once (shared process-wide), applied to lines.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::parallel;

use super::compiled::{Compiled, compiled_for, with_stem};
use super::config::PreprocessorConfig;
use super::fnv1a64;
use super::korean;
use super::masks::{IDENT_SEPARATORS, LineFlags, MaskKind, mask_numbers, replace_mask};
use super::segment::{Segment, segment, segment_ascii};

/// A masked line and its stable id, usable as a grouping key (e.g. by the window module).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// The line after lowercasing and masking, with runs of whitespace collapsed to one space.
    pub masked: String,
    /// 16 hex digits of the 64-bit FNV-1a hash of `masked`: the same on every platform and version.
    pub id: String,
}

/// A configured preprocessor. Cheap to share across threads (`Send + Sync`); build it once.
pub struct Preprocessor {
    config: PreprocessorConfig,
    /// Shared by clones: compiling the masks costs milliseconds, and a compiled preprocessor is
    /// immutable and `Sync`, so a clone (e.g. of a classifier being refitted) reuses it.
    pub(super) compiled: std::sync::Arc<Compiled>,
}

impl std::fmt::Debug for Preprocessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preprocessor")
            .field("config", &self.config)
            .finish()
    }
}

impl Clone for Preprocessor {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            compiled: std::sync::Arc::clone(&self.compiled),
        }
    }
}

impl PartialEq for Preprocessor {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}

impl Default for Preprocessor {
    fn default() -> Self {
        Self::new(PreprocessorConfig::default())
            .unwrap_or_else(|e| unreachable!("default config: {e}"))
    }
}

impl Serialize for Preprocessor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.config.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Preprocessor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let config = PreprocessorConfig::deserialize(d)?;
        Preprocessor::new(config).map_err(serde::de::Error::custom)
    }
}

impl crate::models::Artifact for Preprocessor {
    const KIND: &'static str = "preprocessor";
}

impl Preprocessor {
    /// Validates `config` and compiles its rules.
    pub fn new(config: PreprocessorConfig) -> Result<Self> {
        let compiled = compiled_for(&config)?;
        Ok(Self { config, compiled })
    }

    /// The configuration this preprocessor was built from.
    pub fn config(&self) -> &PreprocessorConfig {
        &self.config
    }

    /// Lowercases (if configured) and masks `text`, leaving everything else as it was.
    fn masked<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.masked_with(text, true)
    }

    /// `masked`, optionally without the [`Shapes`] test (the tests check both give equal lines).
    pub(super) fn masked_with<'a>(&self, text: &'a str, use_shapes: bool) -> Cow<'a, str> {
        let mut s: Cow<'a, str> = if !self.config.lowercase {
            Cow::Borrowed(text)
        } else if text.is_ascii() {
            if text.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(text.to_ascii_lowercase())
            } else {
                Cow::Borrowed(text)
            }
        } else if text.chars().any(char::is_uppercase) {
            Cow::Owned(text.to_lowercase())
        } else {
            Cow::Borrowed(text)
        };
        let flags = LineFlags::scan(s.as_bytes());
        let mut shapes = flags.shapes;
        for m in &self.compiled.masks {
            if !(m.prefilter)(&flags) || (use_shapes && !(m.shape)(&shapes)) {
                continue;
            }
            let replaced = if m.kind == MaskKind::Number {
                mask_numbers(&s, &m.placeholder)
            } else {
                replace_mask(m, &s)
            };
            if let Some(o) = replaced {
                s = Cow::Owned(o);
                // Custom masks run first and may insert anything: the shapes are re-read.
                if m.kind == MaskKind::Custom {
                    shapes = LineFlags::scan(s.as_bytes()).shapes;
                }
            }
        }
        s
    }

    /// The tokens of `text`, in order.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_token(text, |t| out.push(t.to_owned()));
        out
    }

    /// Calls `f` with each token of `text` in order, without allocating a `String` per token
    /// (the vectoriser looks tokens up straight from here).
    pub(crate) fn for_each_token(&self, text: &str, f: impl FnMut(&str)) {
        self.for_each_masked_token(&self.masked(text), f)
    }

    /// [`masked`](Self::masked) alone: log lines repeat heavily once their variable parts are
    /// masked, so batch callers mask every line but tokenise each distinct masked line once.
    pub(crate) fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.masked(text)
    }

    /// The tokens of a line that [`mask`](Self::mask) already masked.
    pub(crate) fn for_each_masked_token(&self, masked: &str, mut f: impl FnMut(&str)) {
        let segments = if masked.is_ascii() {
            segment_ascii(masked)
        } else {
            segment(masked)
        };
        for raw in segments {
            match raw {
                Segment::Placeholder(p) => f(p),
                Segment::Word(w) => {
                    let w = w.trim_matches(|c| c == '_' || c == '.' || c == '\'' || c == ':');
                    let normalised;
                    let w = if self.compiled.korean && !w.is_ascii() && korean::applies(w) {
                        normalised = korean::normalise(w);
                        if korean::is_stopword(&normalised) {
                            continue;
                        }
                        &*normalised
                    } else {
                        w
                    };
                    if w.is_empty() {
                        continue;
                    }
                    self.emit(w, &mut f);
                    if self.config.split_identifiers && w.contains(IDENT_SEPARATORS) {
                        // `a__b` has an empty part between its separators: never a token.
                        for part in w.split(IDENT_SEPARATORS).filter(|p| !p.is_empty()) {
                            self.emit(part, &mut f);
                        }
                    }
                }
            }
        }
    }

    fn emit(&self, word: &str, f: &mut impl FnMut(&str)) {
        let stemmer = self.compiled.stemmer.as_ref();
        let stopwords = &self.compiled.stopwords;
        // Matching is case-insensitive either way, so a stop list never silently misses.
        let cased_stop = !self.config.lowercase
            && with_stem(stemmer, &word.to_lowercase(), |s| stopwords.contains(s));
        let min_len = self.config.min_token_length;
        with_stem(stemmer, word, |stemmed| {
            // Byte length bounds char count from above, so most tokens skip the char count.
            let too_short = stemmed.len() < min_len
                || (stemmed.len() < 4 * min_len && stemmed.chars().count() < min_len);
            let stop = if self.config.lowercase {
                stopwords.contains(stemmed)
            } else {
                cased_stop
            };
            if !too_short && !stop {
                f(stemmed)
            }
        });
    }

    /// The tokens of `text` joined by one space.
    pub fn process(&self, text: &str) -> String {
        self.tokens(text).join(" ")
    }

    /// The masked line and its stable template id.
    pub fn template(&self, text: &str) -> Template {
        let masked = self.masked(text);
        let masked = masked.split_whitespace().collect::<Vec<_>>().join(" ");
        let id = format!("{:016x}", fnv1a64(masked.as_bytes()));
        Template { masked, id }
    }

    /// [`tokens`](Self::tokens) for many texts, using all cores for large batches.
    pub fn tokens_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Vec<String>> {
        parallel::map(texts, |t| self.tokens(t.as_ref()))
    }

    /// [`process`](Self::process) for many texts, using all cores for large batches.
    pub fn process_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<String> {
        parallel::map(texts, |t| self.process(t.as_ref()))
    }

    /// [`template`](Self::template) for many texts, using all cores for large batches.
    pub fn template_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Template> {
        parallel::map(texts, |t| self.template(t.as_ref()))
    }
}
