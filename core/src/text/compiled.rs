//! A preprocessing config compiled once: its masks' regexes, stemmer and stopwords, shared
//! process-wide. Checking a config is compiling it, so `PreprocessorConfig::validate` lives here.

use regex::RegexBuilder;
use rust_stemmers::{Algorithm, Stemmer};

use crate::error::{Error, Result};

use super::config::{BUILTIN_MASKS, PreprocessorConfig};
use super::masks::{Mask, MaskKind, any_line, any_shape, builtin_mask, is_placeholder};

/// Built-in English stopwords: NLTK's list without the negations and state words (`not`, `no`,
/// `down`, `off`, `after`, `couldn't`, ...) that decide what an error message means.
const ENGLISH_STOPWORDS: &str = include_str!("../stopwords_en.txt");

pub(super) struct Compiled {
    pub(super) masks: Vec<Mask>,
    /// (language id, stemmer): the id keys the per-thread stem cache.
    pub(super) stemmer: Option<(usize, Stemmer)>,
    pub(super) stopwords: rustc_hash::FxHashSet<String>,
    /// Whether Hangul words lose their particles and endings (`korean = "rules"`).
    pub(super) korean: bool,
}

/// The compiled form of `config`, shared process-wide with every live preprocessor built from an
/// equal config. Compiling the masks' regexes costs 10-20 ms, far more than fitting a small model,
/// and hosts build many short-lived preprocessors with the same few configs (a classifier per
/// fit, a vectoriser per model); compiled rules are immutable and `Sync`, so sharing changes no
/// result. The cache holds weak references: a compiled form lives as long as some preprocessor
/// uses it, so nothing is kept after the last one is dropped (leak checkers stay quiet).
pub(super) fn compiled_for(config: &PreprocessorConfig) -> Result<std::sync::Arc<Compiled>> {
    use std::sync::{Arc, Weak};
    const KEEP: usize = 8;
    static CACHE: crate::sync::Mutex<Vec<(PreprocessorConfig, Weak<Compiled>)>> =
        crate::sync::Mutex::new(Vec::new(), "compiled-preprocessor cache");
    let lock = || CACHE.lock();
    let lookup = |cache: &mut Vec<(PreprocessorConfig, Weak<Compiled>)>| {
        cache.retain(|(_, w)| w.strong_count() > 0);
        cache
            .iter()
            .find(|(c, _)| c == config)
            .and_then(|(_, w)| w.upgrade())
    };
    if let Some(hit) = lookup(&mut *lock()?) {
        return Ok(hit);
    }
    // Compiled outside the lock, so one slow config never blocks others; if two threads compile
    // the same config at once, the first to finish is cached and the other's copy is dropped.
    let compiled = Arc::new(config.compile()?);
    let mut cache = lock()?;
    if let Some(hit) = lookup(&mut cache) {
        return Ok(hit);
    }
    if cache.len() >= KEEP {
        cache.remove(0);
    }
    cache.push((config.clone(), Arc::downgrade(&compiled)));
    Ok(compiled)
}

impl PreprocessorConfig {
    /// Checks every field by compiling the config (compiled once per distinct config and shared);
    /// [`Preprocessor::new`](super::Preprocessor::new) calls it.
    pub fn validate(&self) -> Result<()> {
        compiled_for(self).map(|_| ())
    }

    pub(super) fn compile(&self) -> Result<Compiled> {
        let stemmer = stemmer_for(&self.stemmer)?;
        let mut masks = Vec::new();
        for rule in &self.custom_masks {
            if !is_placeholder(&rule.placeholder) {
                return Err(Error::config(
                    "custom_masks",
                    format!(
                        "placeholder {:?} must look like <name> (ASCII letters, digits, _)",
                        rule.placeholder
                    ),
                ));
            }
            let re = RegexBuilder::new(&rule.pattern)
                .size_limit(1 << 22)
                .build()
                .map_err(|e| {
                    Error::config("custom_masks", format!("pattern {:?}: {e}", rule.pattern))
                })?;
            if re.is_match("") {
                return Err(Error::config(
                    "custom_masks",
                    format!("pattern {:?} matches the empty string", rule.pattern),
                ));
            }
            masks.push(Mask {
                re,
                placeholder: rule.placeholder.clone(),
                kind: MaskKind::Custom,
                prefilter: any_line,
                shape: any_shape,
            });
        }
        if self.mask {
            for name in &self.masks {
                if !BUILTIN_MASKS.contains(&name.as_str()) {
                    return Err(Error::config(
                        "masks",
                        format!("unknown mask {name:?}; expected some of {BUILTIN_MASKS:?}"),
                    ));
                }
            }
            // Built-ins run in their fixed priority order whatever order the list gives.
            for name in BUILTIN_MASKS
                .iter()
                .filter(|n| self.masks.iter().any(|m| m == *n))
            {
                masks.push(builtin_mask(name));
            }
        }
        let stop_base: Vec<&str> = match self.stop_words.as_str() {
            "english" => ENGLISH_STOPWORDS
                .lines()
                .filter(|l| !l.is_empty())
                .collect(),
            "none" => Vec::new(),
            other => {
                return Err(Error::config(
                    "stop_words",
                    format!("unknown list {other:?}; expected \"english\" or \"none\""),
                ));
            }
        };
        // Stopwords are normalised exactly like text tokens, so `having` still removes `have`.
        let stopwords = stop_base
            .iter()
            .copied()
            .chain(self.extra_stop_words.iter().map(String::as_str))
            .map(|w| with_stem(stemmer.as_ref(), &w.to_lowercase(), str::to_owned))
            .collect();
        let korean = match self.korean.as_str() {
            "rules" => true,
            "none" => false,
            other => {
                return Err(Error::config(
                    "korean",
                    format!("unknown mode {other:?}; expected \"rules\" or \"none\""),
                ));
            }
        };
        Ok(Compiled {
            masks,
            stemmer,
            stopwords,
            korean,
        })
    }
}

fn stemmer_for(name: &str) -> Result<Option<(usize, Stemmer)>> {
    let alg = match name.to_ascii_lowercase().as_str() {
        "none" | "" => return Ok(None),
        "arabic" => Algorithm::Arabic,
        "danish" => Algorithm::Danish,
        "dutch" => Algorithm::Dutch,
        "english" => Algorithm::English,
        "finnish" => Algorithm::Finnish,
        "french" => Algorithm::French,
        "german" => Algorithm::German,
        "greek" => Algorithm::Greek,
        "hungarian" => Algorithm::Hungarian,
        "italian" => Algorithm::Italian,
        "norwegian" => Algorithm::Norwegian,
        "portuguese" => Algorithm::Portuguese,
        "romanian" => Algorithm::Romanian,
        "russian" => Algorithm::Russian,
        "spanish" => Algorithm::Spanish,
        "swedish" => Algorithm::Swedish,
        "tamil" => Algorithm::Tamil,
        "turkish" => Algorithm::Turkish,
        other => {
            return Err(Error::config(
                "stemmer",
                format!(
                    "unknown language {other:?}; expected \"none\" or a Snowball language such as \"english\""
                ),
            ));
        }
    };
    Ok(Some((alg as usize, Stemmer::create(alg))))
}

/// Calls `f` with the stem of `word`. Only plain alphabetic words are stemmed: identifiers and
/// alphanumerics keep their exact form. Stems are memoised per thread (Snowball costs ~100 ns a
/// word and log vocabularies are small), bounded to `STEM_CACHE_MAX` entries.
pub(super) fn with_stem<R>(
    stemmer: Option<&(usize, Stemmer)>,
    word: &str,
    f: impl FnOnce(&str) -> R,
) -> R {
    let Some(st) = stemmer else { return f(word) };
    if !word.chars().all(char::is_alphabetic) {
        return f(word);
    }
    let (lang, st) = (st.0, &st.1);
    STEM_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != lang {
            cache.0 = lang;
            cache.1.clear();
        }
        if let Some(hit) = cache.1.get(word) {
            return f(hit);
        }
        let stemmed = st.stem(word).into_owned();
        if cache.1.len() >= STEM_CACHE_MAX {
            cache.1.clear();
        }
        let r = f(&stemmed);
        cache.1.insert(word.into(), stemmed.into_boxed_str());
        r
    })
}

const STEM_CACHE_MAX: usize = 1 << 16;

/// (language id, word → stem) for the calling thread.
type StemCache = (usize, rustc_hash::FxHashMap<Box<str>, Box<str>>);

thread_local! {
    static STEM_CACHE: std::cell::RefCell<StemCache> =
        std::cell::RefCell::new((usize::MAX, rustc_hash::FxHashMap::default()));
}
