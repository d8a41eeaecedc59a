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

use std::borrow::Cow;
use std::collections::HashMap;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::Artifact;
use crate::parallel;
use crate::text::{Preprocessor, PreprocessorConfig};

/// A document-frequency bound as scikit-learn takes it: an absolute document count or a fraction
/// of the corpus. In JSON an integer (`2`) is a count and a float (`0.5`, `1.0`) a fraction;
/// `{"count": 2}` / `{"fraction": 1}` say it explicitly (useful from JavaScript, where `1.0 === 1`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DfBound {
    /// At least / at most this many documents.
    Count(usize),
    /// At least / at most this fraction of the documents, in `[0, 1]`.
    Fraction(f64),
}

impl DfBound {
    fn resolve(self, n_docs: usize) -> f64 {
        match self {
            DfBound::Count(c) => c as f64,
            DfBound::Fraction(f) => f * n_docs as f64,
        }
    }

    fn validate(self, field: &'static str) -> Result<()> {
        match self {
            DfBound::Fraction(f) if !(0.0..=1.0).contains(&f) => Err(Error::config(
                field,
                format!("fraction {f} is outside [0, 1]; use an integer for a document count"),
            )),
            _ => Ok(()),
        }
    }
}

impl Serialize for DfBound {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match *self {
            DfBound::Count(c) => s.serialize_u64(c as u64),
            // A whole-number fraction (the default 1.0) is written as {"fraction": 1.0}: many JSON
            // readers (JavaScript among them) turn 1.0 into 1, which would read back as a count.
            DfBound::Fraction(f) if f.fract() == 0.0 => {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("fraction", &f)?;
                m.end()
            }
            DfBound::Fraction(f) => s.serialize_f64(f),
        }
    }
}

impl<'de> Deserialize<'de> for DfBound {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let v = serde_json::Value::deserialize(d)?;
        let bad = || {
            D::Error::custom(format!(
                "expected an integer count, a float fraction, {{\"count\": n}} or {{\"fraction\": x}}, got {v}"
            ))
        };
        match &v {
            serde_json::Value::Number(n) => match (n.as_u64(), n.as_f64()) {
                (Some(c), _) => Ok(DfBound::Count(c as usize)),
                (None, Some(f)) => Ok(DfBound::Fraction(f)),
                _ => Err(bad()),
            },
            serde_json::Value::Object(m) if m.len() == 1 => {
                if let Some(c) = m.get("count").and_then(|c| c.as_u64()) {
                    Ok(DfBound::Count(c as usize))
                } else if let Some(f) = m.get("fraction").and_then(|f| f.as_f64()) {
                    Ok(DfBound::Fraction(f))
                } else {
                    Err(bad())
                }
            }
            _ => Err(bad()),
        }
    }
}

/// Row normalisation. In config files `"l2"`, `"l1"`, `"none"`; JSON `null` also means none
/// (scikit-learn's `norm=None`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// Each row has unit Euclidean length (default).
    #[default]
    L2,
    /// Each row's absolute values sum to one.
    L1,
    /// No normalisation.
    None,
}

impl<'de> Deserialize<'de> for Norm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        match Option::<String>::deserialize(d)?.as_deref() {
            None | Some("none") => Ok(Norm::None),
            Some("l2") => Ok(Norm::L2),
            Some("l1") => Ok(Norm::L1),
            Some(other) => Err(D::Error::custom(format!(
                "unknown norm {other:?}; expected \"l2\", \"l1\", \"none\" or null"
            ))),
        }
    }
}

/// TF-IDF options, named as in scikit-learn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TfidfConfig {
    /// Smallest and largest n of the word n-grams (default `(1, 1)`).
    pub ngram_range: (usize, usize),
    /// Ignore n-grams in fewer documents than this (default count 1).
    pub min_df: DfBound,
    /// Ignore n-grams in more documents than this (default fraction 1.0).
    pub max_df: DfBound,
    /// Keep only the most frequent n-grams across the corpus (ties: alphabetical order).
    pub max_features: Option<usize>,
    /// Replace tf with `1 + ln(tf)`.
    pub sublinear_tf: bool,
    /// Row normalisation (default l2).
    pub norm: Norm,
    /// Weight by inverse document frequency (default on).
    pub use_idf: bool,
    /// Add one to document frequencies, as if a document held every term once (default on).
    pub smooth_idf: bool,
    /// How raw texts become tokens; `None` splits on whitespace and nothing else.
    pub preprocessor: Option<PreprocessorConfig>,
    /// Most distinct n-grams `fit` may count before pruning (default 10,000,000, about 0.5 GB of
    /// counts; `None` = no limit). A corpus with more fails with an error naming this field
    /// instead of exhausting memory (typically ids or hashes the masks left in place).
    pub max_distinct_terms: Option<usize>,
}

impl Default for TfidfConfig {
    fn default() -> Self {
        Self {
            ngram_range: (1, 1),
            min_df: DfBound::Count(1),
            max_df: DfBound::Fraction(1.0),
            max_features: None,
            sublinear_tf: false,
            norm: Norm::L2,
            use_idf: true,
            smooth_idf: true,
            preprocessor: Some(PreprocessorConfig::default()),
            max_distinct_terms: Some(DEFAULT_MAX_DISTINCT_TERMS),
        }
    }
}

/// Default [`TfidfConfig::max_distinct_terms`].
pub const DEFAULT_MAX_DISTINCT_TERMS: usize = 10_000_000;

/// Longest n-gram supported; longer ones are never useful on log lines and cost memory.
pub const MAX_NGRAM: usize = 8;

impl TfidfConfig {
    /// Checks every field; [`TfidfVectorizer::new`] calls it.
    pub fn validate(&self) -> Result<()> {
        self.validate_own()?;
        if let Some(p) = &self.preprocessor {
            p.validate()?;
        }
        Ok(())
    }

    /// [`validate`](Self::validate) without the preprocessor (whose check compiles its masks;
    /// `TfidfVectorizer::new` compiles them once, by building it).
    fn validate_own(&self) -> Result<()> {
        let (lo, hi) = self.ngram_range;
        if lo == 0 || lo > hi || hi > MAX_NGRAM {
            return Err(Error::config(
                "ngram_range",
                format!("({lo}, {hi}) is invalid: need 1 <= min_n <= max_n <= {MAX_NGRAM}"),
            ));
        }
        self.min_df.validate("min_df")?;
        self.max_df.validate("max_df")?;
        let above = match (self.min_df, self.max_df) {
            (DfBound::Count(a), DfBound::Count(b)) => {
                (a > b).then(|| (a.to_string(), b.to_string()))
            }
            (DfBound::Fraction(a), DfBound::Fraction(b)) => {
                (a > b).then(|| (a.to_string(), b.to_string()))
            }
            _ => None, // a count against a fraction is only comparable at fit time
        };
        if let Some((a, b)) = above {
            return Err(Error::config(
                "min_df",
                format!("min_df ({a}) is above max_df ({b})"),
            ));
        }
        if self.max_features == Some(0) {
            return Err(Error::config(
                "max_features",
                "must be at least 1 (or unset for no limit)",
            ));
        }
        if self.max_distinct_terms == Some(0) {
            return Err(Error::config(
                "max_distinct_terms",
                "must be at least 1 (or null for no limit)",
            ));
        }
        Ok(())
    }
}

/// A sparse matrix in compressed sparse row form, laid out as scipy's `csr_matrix`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CsrMatrix {
    /// Row `i` holds entries `indptr[i]..indptr[i + 1]`; length `n_rows + 1`.
    pub indptr: Vec<usize>,
    /// Column of each stored entry, ascending within a row.
    pub indices: Vec<u32>,
    /// Value of each stored entry.
    pub data: Vec<f64>,
    /// Number of rows (documents).
    pub n_rows: usize,
    /// Number of columns (features).
    pub n_cols: usize,
}

impl CsrMatrix {
    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.data.len()
    }

    /// Column indices and values of row `i`.
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.data[a..b])
    }

    /// The matrix as dense rows (for small matrices, tests and display).
    pub fn to_dense(&self) -> Vec<Vec<f64>> {
        (0..self.n_rows)
            .map(|i| {
                let mut r = vec![0.0; self.n_cols];
                let (idx, val) = self.row(i);
                for (&j, &v) in idx.iter().zip(val) {
                    r[j as usize] = v;
                }
                r
            })
            .collect()
    }

    /// Cosine similarity of row `i` of `self` and row `j` of `other` (0 when either row is empty).
    pub fn cosine(&self, i: usize, other: &CsrMatrix, j: usize) -> f64 {
        let (ai, av) = self.row(i);
        let (bi, bv) = other.row(j);
        let (mut p, mut q, mut dot) = (0, 0, 0.0);
        while p < ai.len() && q < bi.len() {
            match ai[p].cmp(&bi[q]) {
                std::cmp::Ordering::Less => p += 1,
                std::cmp::Ordering::Greater => q += 1,
                std::cmp::Ordering::Equal => {
                    dot += av[p] * bv[q];
                    p += 1;
                    q += 1;
                }
            }
        }
        let na = av.iter().map(|x| x * x).sum::<f64>().sqrt();
        let nb = bv.iter().map(|x| x * x).sum::<f64>().sqrt();
        if na == 0.0 || nb == 0.0 {
            0.0
        } else {
            dot / (na * nb)
        }
    }

    /// Row `i` is `rows[slot[i]]`.
    fn from_shared_rows(rows: &[(Vec<u32>, Vec<f64>)], slot: &[usize], n_cols: usize) -> Self {
        let nnz = slot.iter().map(|&r| rows[r].0.len()).sum();
        let mut m = CsrMatrix {
            indptr: Vec::with_capacity(slot.len() + 1),
            indices: Vec::with_capacity(nnz),
            data: Vec::with_capacity(nnz),
            n_rows: slot.len(),
            n_cols,
        };
        m.indptr.push(0);
        for &r in slot {
            m.indices.extend_from_slice(&rows[r].0);
            m.data.extend_from_slice(&rows[r].1);
            m.indptr.push(m.indices.len());
        }
        m
    }

    fn from_rows(rows: Vec<(Vec<u32>, Vec<f64>)>, n_cols: usize) -> Self {
        let nnz = rows.iter().map(|r| r.0.len()).sum();
        let mut m = CsrMatrix {
            indptr: Vec::with_capacity(rows.len() + 1),
            indices: Vec::with_capacity(nnz),
            data: Vec::with_capacity(nnz),
            n_rows: rows.len(),
            n_cols,
        };
        m.indptr.push(0);
        for (idx, val) in rows {
            m.indices.extend_from_slice(&idx);
            m.data.extend_from_slice(&val);
            m.indptr.push(m.indices.len());
        }
        m
    }
}

/// A batch of lines grouped by masked form. Masked log lines repeat heavily (the 16,000 Loghub
/// lines have 1,000 distinct masked forms), so batch calls mask every line but tokenise, count
/// and weight each distinct masked line once; results are identical to line-by-line work.
struct Grouped<'a> {
    masked: Vec<Cow<'a, str>>,
    /// Line → index of its distinct masked form.
    slot: Vec<usize>,
    /// Distinct form → its first line.
    first: Vec<usize>,
}

impl<'a> Grouped<'a> {
    fn new<S: AsRef<str> + Sync>(p: &Preprocessor, texts: &'a [S]) -> Self {
        let lines: Vec<&'a str> = texts.iter().map(AsRef::as_ref).collect();
        let masked = parallel::map(&lines, |t| p.mask(t));
        let mut index: FxHashMap<&str, usize> = FxHashMap::default();
        let mut first = Vec::new();
        let slot = masked
            .iter()
            .enumerate()
            .map(|(line, m)| {
                *index.entry(m.as_ref()).or_insert_with(|| {
                    first.push(line);
                    first.len() - 1
                })
            })
            .collect();
        drop(index);
        Grouped {
            masked,
            slot,
            first,
        }
    }

    /// How many lines share each distinct form.
    fn counts(&self) -> Vec<u32> {
        let mut c = vec![0u32; self.first.len()];
        for &s in &self.slot {
            c[s] += 1;
        }
        c
    }

    fn distinct_tokens(&self, p: &Preprocessor) -> Vec<Vec<String>> {
        parallel::map(&self.first, |&i| {
            let mut out = Vec::new();
            p.for_each_masked_token(&self.masked[i], |t| out.push(t.to_owned()));
            out
        })
    }
}

/// Token id of tokens outside the vocabulary: never part of a feature.
const UNKNOWN: u32 = u32::MAX;

/// The fitted vocabulary and weights.
#[derive(Clone, Debug)]
struct Vocab {
    /// Token id → token.
    tokens: Vec<String>,
    token_ids: FxHashMap<String, u32>,
    /// Feature index → its n-gram as token ids (features sorted by name, as scikit-learn).
    features: Vec<Box<[u32]>>,
    feature_index: NgramIndex,
    idf: Vec<f64>,
}

/// N-gram → feature lookup. N-grams of up to four tokens are packed into one `u128` key (each
/// id + 1 in 32 bits), which hashes several times faster than a slice; longer ones use slices.
#[derive(Clone, Debug)]
enum NgramIndex {
    Packed(FxHashMap<u128, u32>),
    Slices(FxHashMap<Box<[u32]>, u32>),
}

const PACKED_MAX_N: usize = 4;

fn pack(g: &[u32]) -> u128 {
    g.iter()
        .fold(0u128, |acc, &t| (acc << 32) | (u128::from(t) + 1))
}

impl NgramIndex {
    fn build(features: &[Box<[u32]>]) -> Self {
        if features.iter().all(|f| f.len() <= PACKED_MAX_N) {
            NgramIndex::Packed(
                features
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (pack(f), i as u32))
                    .collect(),
            )
        } else {
            NgramIndex::Slices(
                features
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (f.clone(), i as u32))
                    .collect(),
            )
        }
    }

    fn get(&self, g: &[u32]) -> Option<u32> {
        match self {
            NgramIndex::Packed(m) => m.get(&pack(g)).copied(),
            NgramIndex::Slices(m) => m.get(g).copied(),
        }
    }
}

/// What is persisted of a fitted vocabulary; the lookup maps are rebuilt on load.
#[derive(Serialize, Deserialize)]
struct VocabState {
    tokens: Vec<String>,
    features: Vec<Vec<u32>>,
    idf: Vec<f64>,
}

impl Vocab {
    fn new(tokens: Vec<String>, features: Vec<Box<[u32]>>, idf: Vec<f64>) -> Self {
        let token_ids = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let feature_index = NgramIndex::build(&features);
        Vocab {
            tokens,
            token_ids,
            features,
            feature_index,
            idf,
        }
    }

    /// The id of a token, or [`UNKNOWN`] when no feature uses it.
    fn token_id(&self, token: &str) -> u32 {
        self.token_ids.get(token).copied().unwrap_or(UNKNOWN)
    }

    fn feature_name(&self, f: &[u32]) -> String {
        f.iter()
            .map(|&t| self.tokens[t as usize].as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn state(&self) -> VocabState {
        VocabState {
            tokens: self.tokens.clone(),
            features: self.features.iter().map(|f| f.to_vec()).collect(),
            idf: self.idf.clone(),
        }
    }

    fn from_state(s: VocabState, config: &TfidfConfig) -> Result<Self> {
        let features: Vec<Box<[u32]>> = s.features.into_iter().map(Vec::into_boxed_slice).collect();
        Vocab::validate(&s.tokens, &features, &s.idf, config)?;
        Ok(Vocab::new(s.tokens, features, s.idf))
    }

    /// What a vocabulary made by `fit` always satisfies; `fit` and loading both check it, so a
    /// file from elsewhere cannot hold what `fit` could never produce (a duplicated feature or
    /// token, which the lookup maps would silently collapse; an idf that is negative or not
    /// finite, which would make NaN rows).
    fn validate(
        tokens: &[String],
        features: &[Box<[u32]>],
        idf: &[f64],
        config: &TfidfConfig,
    ) -> Result<()> {
        let bad = |m: String| Error::Corrupt(format!("tfidf vocabulary: {m}"));
        if features.len() != idf.len() {
            return Err(bad(format!(
                "{} features but {} idf values",
                features.len(),
                idf.len()
            )));
        }
        if features.is_empty() {
            return Err(bad("no features".into()));
        }
        if let Some(max) = config.max_features
            && features.len() > max
        {
            return Err(bad(format!(
                "{} features, over max_features = {max}",
                features.len()
            )));
        }
        if tokens.len() >= UNKNOWN as usize {
            return Err(bad(format!("{} tokens do not fit u32 ids", tokens.len())));
        }
        let (lo, hi) = config.ngram_range;
        for f in features {
            if f.len() < lo || f.len() > hi || f.iter().any(|&t| t as usize >= tokens.len()) {
                return Err(bad(format!(
                    "feature {f:?} is not a {lo}..={hi}-gram of tokens in the table"
                )));
            }
        }
        if let Some((i, x)) = idf
            .iter()
            .enumerate()
            .find(|(_, x)| !(x.is_finite() && **x > 0.0))
        {
            return Err(bad(format!(
                "idf of feature {i} is {x} (must be finite and positive)"
            )));
        }
        let mut seen = FxHashSet::default();
        if let Some(t) = tokens.iter().find(|t| !seen.insert(t.as_str())) {
            return Err(bad(format!("token {t:?} is stored twice")));
        }
        let mut seen = FxHashSet::default();
        if let Some(f) = features.iter().find(|f| !seen.insert(&f[..])) {
            return Err(bad(format!("feature {f:?} is stored twice")));
        }
        Ok(())
    }
}

/// TF-IDF vectoriser: `fit` learns the vocabulary and idf, `transform` makes CSR rows.
#[derive(Clone, Debug)]
pub struct TfidfVectorizer {
    config: TfidfConfig,
    preprocessor: Option<Preprocessor>,
    vocab: Option<Vocab>,
}

impl PartialEq for TfidfVectorizer {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
            && match (&self.vocab, &other.vocab) {
                (None, None) => true,
                (Some(a), Some(b)) => {
                    a.tokens == b.tokens && a.features == b.features && a.idf == b.idf
                }
                _ => false,
            }
    }
}

const WHAT: &str = "TfidfVectorizer";

impl TfidfVectorizer {
    /// Validates `config` and builds an unfitted vectoriser.
    pub fn new(config: TfidfConfig) -> Result<Self> {
        config.validate_own()?;
        let preprocessor = config
            .preprocessor
            .clone()
            .map(Preprocessor::new)
            .transpose()?;
        Ok(Self {
            config,
            preprocessor,
            vocab: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TfidfConfig {
        &self.config
    }

    /// The preprocessor raw texts go through, if any.
    pub fn preprocessor(&self) -> Option<&Preprocessor> {
        self.preprocessor.as_ref()
    }

    /// Whether `fit` has run.
    pub fn is_fitted(&self) -> bool {
        self.vocab.is_some()
    }

    fn vocab(&self) -> Result<&Vocab> {
        self.vocab.as_ref().ok_or(Error::NotFitted { what: WHAT })
    }

    /// Number of features (columns of the output).
    pub fn n_features(&self) -> Result<usize> {
        Ok(self.vocab()?.features.len())
    }

    /// Feature names in column order (an n-gram's tokens joined by one space).
    pub fn feature_names(&self) -> Result<Vec<String>> {
        let v = self.vocab()?;
        Ok(v.features.iter().map(|f| v.feature_name(f)).collect())
    }

    /// Feature name → column.
    pub fn vocabulary(&self) -> Result<HashMap<String, usize>> {
        Ok(self
            .feature_names()?
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, i))
            .collect())
    }

    /// Inverse document frequency per column (all ones when `use_idf` is off).
    pub fn idf(&self) -> Result<&[f64]> {
        Ok(&self.vocab()?.idf)
    }

    fn tokenize<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Vec<String>> {
        match &self.preprocessor {
            Some(p) => p.tokens_batch(texts),
            None => parallel::map(texts, |t| {
                t.as_ref().split_whitespace().map(str::to_owned).collect()
            }),
        }
    }

    /// Learns vocabulary and idf from raw texts (through the preprocessor).
    pub fn fit<S: AsRef<str> + Sync>(&mut self, texts: &[S]) -> Result<&mut Self> {
        // Taken out for the call (fit_counted needs `&mut self`); cloning would recompile its regexes.
        let Some(p) = self.preprocessor.take() else {
            let docs = self.tokenize(texts);
            return self.fit_tokens(&docs);
        };
        let g = Grouped::new(&p, texts);
        let docs = g.distinct_tokens(&p);
        let fitted = self.fit_counted(&docs, Some(&g.counts())).map(|_| ());
        self.preprocessor = Some(p);
        fitted.map(|()| self)
    }

    /// Learns vocabulary and idf from documents that are already lists of tokens (used as they are).
    pub fn fit_tokens<D, S>(&mut self, docs: &[D]) -> Result<&mut Self>
    where
        D: AsRef<[S]> + Sync,
        S: AsRef<str> + Sync,
    {
        self.fit_counted(docs, None)
    }

    /// `fit_tokens` where document `i` stands for `counts[i]` identical documents.
    fn fit_counted<D, S>(&mut self, docs: &[D], counts: Option<&[u32]>) -> Result<&mut Self>
    where
        D: AsRef<[S]> + Sync,
        S: AsRef<str> + Sync,
    {
        if docs.is_empty() {
            return Err(Error::InvalidInput("cannot fit on an empty corpus".into()));
        }
        let (lo, hi) = self.config.ngram_range;
        // Token ids for the whole corpus.
        let mut tokens: Vec<String> = Vec::new();
        let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
        let id_docs: Vec<Vec<u32>> = docs
            .iter()
            .map(|d| {
                d.as_ref()
                    .iter()
                    .map(|t| {
                        let t = t.as_ref();
                        *ids.entry(t).or_insert_with(|| {
                            tokens.push(t.to_owned());
                            (tokens.len() - 1) as u32
                        })
                    })
                    .collect()
            })
            .collect();
        drop(ids);

        // Document and corpus frequency of every n-gram.
        let mut stats: FxHashMap<&[u32], (u32, u64)> = FxHashMap::default();
        let mut seen: FxHashMap<&[u32], u32> = FxHashMap::default();
        for (i, d) in id_docs.iter().enumerate() {
            let w = counts.map_or(1, |c| c[i]);
            seen.clear();
            for n in lo..=hi.min(d.len()) {
                for g in d.windows(n) {
                    *seen.entry(g).or_insert(0) += 1;
                }
            }
            for (g, c) in seen.drain() {
                let e = stats.entry(g).or_insert((0, 0));
                e.0 += w;
                e.1 += u64::from(c) * u64::from(w);
            }
            if let Some(cap) = self.config.max_distinct_terms
                && stats.len() > cap
            {
                return Err(Error::InvalidInput(format!(
                    "the corpus holds more than max_distinct_terms = {cap} distinct n-grams \
                     (reached at document {i}); raise max_distinct_terms (null = no limit) or \
                     mask the variable parts that make every line unique"
                )));
            }
        }
        if stats.is_empty() {
            return Err(Error::InvalidInput(
                "empty vocabulary: every document is empty or holds only stop words".into(),
            ));
        }

        let n_docs = counts.map_or(docs.len(), |c| c.iter().map(|&w| w as usize).sum());
        let max_count = self.config.max_df.resolve(n_docs);
        let min_count = self.config.min_df.resolve(n_docs);
        if max_count < min_count {
            return Err(Error::config(
                "max_df",
                "max_df corresponds to fewer documents than min_df",
            ));
        }
        let name = |g: &[u32]| {
            g.iter()
                .map(|&t| tokens[t as usize].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut kept: Vec<(String, &[u32], u32, u64)> = stats
            .into_iter()
            .filter(|(_, (df, _))| f64::from(*df) <= max_count && f64::from(*df) >= min_count)
            .map(|(g, (df, tf))| (name(g), g, df, tf))
            .collect();
        kept.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if let Some(limit) = self.config.max_features
            && kept.len() > limit
        {
            {
                // Most frequent first; the stable sort keeps ties in alphabetical order.
                let mut order: Vec<usize> = (0..kept.len()).collect();
                order.sort_by(|&a, &b| kept[b].3.cmp(&kept[a].3));
                let mut keep = vec![false; kept.len()];
                for &i in &order[..limit] {
                    keep[i] = true;
                }
                let mut i = 0;
                kept.retain(|_| {
                    i += 1;
                    keep[i - 1]
                });
            }
        }
        if kept.is_empty() {
            return Err(Error::InvalidInput(
                "after pruning no terms remain: try a lower min_df or a higher max_df".into(),
            ));
        }

        // Renumber tokens so the stored table holds only tokens used by kept features.
        let mut remap: FxHashMap<u32, u32> = FxHashMap::default();
        let mut new_tokens = Vec::new();
        let mut features = Vec::with_capacity(kept.len());
        let mut idf = Vec::with_capacity(kept.len());
        let n = n_docs as f64;
        for (_, g, df, _) in &kept {
            let f: Box<[u32]> = g
                .iter()
                .map(|t| {
                    *remap.entry(*t).or_insert_with(|| {
                        new_tokens.push(tokens[*t as usize].clone());
                        (new_tokens.len() - 1) as u32
                    })
                })
                .collect();
            features.push(f);
            let df = f64::from(*df);
            idf.push(match (self.config.use_idf, self.config.smooth_idf) {
                (false, _) => 1.0,
                (true, true) => ((1.0 + n) / (1.0 + df)).ln() + 1.0,
                (true, false) => (n / df).ln() + 1.0,
            });
        }
        log::debug!("tfidf fit: {n_docs} documents, {} features", features.len());
        Vocab::validate(&new_tokens, &features, &idf, &self.config)?;
        self.vocab = Some(Vocab::new(new_tokens, features, idf));
        Ok(self)
    }

    /// TF-IDF rows for raw texts.
    pub fn transform<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<CsrMatrix> {
        let vocab = self.vocab()?;
        let rows = match &self.preprocessor {
            Some(p) => {
                let g = Grouped::new(p, texts);
                let unique = parallel::map(&g.first, |&i| {
                    let mut ids = Vec::new();
                    p.for_each_masked_token(&g.masked[i], |tok| ids.push(vocab.token_id(tok)));
                    self.row_from_ids(vocab, &ids)
                });
                return Ok(CsrMatrix::from_shared_rows(
                    &unique,
                    &g.slot,
                    vocab.features.len(),
                ));
            }
            None => parallel::map(texts, |t| {
                let ids: Vec<u32> = t
                    .as_ref()
                    .split_whitespace()
                    .map(|tok| vocab.token_id(tok))
                    .collect();
                self.row_from_ids(vocab, &ids)
            }),
        };
        Ok(CsrMatrix::from_rows(rows, vocab.features.len()))
    }

    /// [`transform`](Self::transform), plus for each row the share of its n-grams (distinct known
    /// ones, plus every occurrence of an unknown one) that the vocabulary does not hold: 0 when
    /// every n-gram is known, 1 when none is. The classifier and the knowledge base read
    /// `sqrt(1 - share)` as the part of the whole text a similarity on the returned row covers,
    /// each unknown n-gram counting as much as a typical known n-gram of the same line (its real
    /// weight is unknowable: a new host name and a new error word look the same to a vocabulary).
    pub fn transform_with_unseen<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
    ) -> Result<(CsrMatrix, Vec<f64>)> {
        let vocab = self.vocab()?;
        let row = |ids: &[u32]| {
            let r = self.row_from_ids(vocab, ids);
            let share = self.unseen_share(vocab, ids, r.0.len());
            (r, share)
        };
        let (rows, shares): (Vec<_>, Vec<_>) = match &self.preprocessor {
            Some(p) => parallel::map(texts, |t| {
                let mut ids = Vec::new();
                p.for_each_masked_token(&p.mask(t.as_ref()), |tok| ids.push(vocab.token_id(tok)));
                row(&ids)
            }),
            None => parallel::map(texts, |t| {
                let ids: Vec<u32> = t
                    .as_ref()
                    .split_whitespace()
                    .map(|tok| vocab.token_id(tok))
                    .collect();
                row(&ids)
            }),
        }
        .into_iter()
        .unzip();
        Ok((CsrMatrix::from_rows(rows, vocab.features.len()), shares))
    }

    /// See [`transform_with_unseen`](Self::transform_with_unseen); `known` is the row's count of
    /// distinct known n-grams.
    fn unseen_share(&self, vocab: &Vocab, ids: &[u32], known: usize) -> f64 {
        let (lo, hi) = self.config.ngram_range;
        let mut unseen = 0usize;
        for n in lo..=hi.min(ids.len()) {
            for g in ids.windows(n) {
                if g.contains(&UNKNOWN) || vocab.feature_index.get(g).is_none() {
                    unseen += 1;
                }
            }
        }
        if unseen == 0 {
            return 0.0;
        }
        unseen as f64 / (known + unseen) as f64
    }

    /// TF-IDF rows for documents that are already lists of tokens.
    pub fn transform_tokens<D, S>(&self, docs: &[D]) -> Result<CsrMatrix>
    where
        D: AsRef<[S]> + Sync,
        S: AsRef<str> + Sync,
    {
        let vocab = self.vocab()?;
        let rows = parallel::map(docs, |d| self.row(vocab, d.as_ref()));
        Ok(CsrMatrix::from_rows(rows, vocab.features.len()))
    }

    /// `fit` then `transform` on the same texts.
    pub fn fit_transform<S: AsRef<str> + Sync>(&mut self, texts: &[S]) -> Result<CsrMatrix> {
        if let Some(p) = self.preprocessor.take() {
            let g = Grouped::new(&p, texts);
            let docs = g.distinct_tokens(&p);
            let fitted = self.fit_counted(&docs, Some(&g.counts())).map(|_| ());
            self.preprocessor = Some(p);
            fitted?;
            let vocab = self.vocab()?;
            let unique = parallel::map(&docs, |d| self.row(vocab, d));
            return Ok(CsrMatrix::from_shared_rows(
                &unique,
                &g.slot,
                vocab.features.len(),
            ));
        }
        let docs = self.tokenize(texts);
        self.fit_tokens(&docs)?;
        self.transform_tokens(&docs)
    }

    /// `fit_tokens` then `transform_tokens`.
    pub fn fit_transform_tokens<D, S>(&mut self, docs: &[D]) -> Result<CsrMatrix>
    where
        D: AsRef<[S]> + Sync,
        S: AsRef<str> + Sync,
    {
        self.fit_tokens(docs)?;
        self.transform_tokens(docs)
    }

    /// Cosine similarity of two texts in this vectoriser's TF-IDF space.
    pub fn similarity(&self, a: &str, b: &str) -> Result<f64> {
        let m = self.transform(&[a, b])?;
        Ok(m.cosine(0, &m, 1))
    }

    fn row<S: AsRef<str>>(&self, vocab: &Vocab, tokens: &[S]) -> (Vec<u32>, Vec<f64>) {
        let ids: Vec<u32> = tokens.iter().map(|t| vocab.token_id(t.as_ref())).collect();
        self.row_from_ids(vocab, &ids)
    }

    fn row_from_ids(&self, vocab: &Vocab, ids: &[u32]) -> (Vec<u32>, Vec<f64>) {
        let (lo, hi) = self.config.ngram_range;
        let mut cols: Vec<u32> = Vec::with_capacity(ids.len() * (hi - lo + 1));
        for n in lo..=hi.min(ids.len()) {
            for g in ids.windows(n) {
                if g.contains(&UNKNOWN) {
                    continue;
                }
                if let Some(c) = vocab.feature_index.get(g) {
                    cols.push(c);
                }
            }
        }
        cols.sort_unstable();
        let mut idx = Vec::new();
        let mut val = Vec::new();
        for chunk in cols.chunk_by(|a, b| a == b) {
            let tf = chunk.len() as f64;
            let tf = if self.config.sublinear_tf {
                1.0 + tf.ln()
            } else {
                tf
            };
            idx.push(chunk[0]);
            val.push(tf * vocab.idf[chunk[0] as usize]);
        }
        let norm = match self.config.norm {
            Norm::L2 => val.iter().map(|x| x * x).sum::<f64>().sqrt(),
            Norm::L1 => val.iter().map(|x: &f64| x.abs()).sum::<f64>(),
            Norm::None => 1.0,
        };
        if norm > 0.0 && norm != 1.0 {
            val.iter_mut().for_each(|x| *x /= norm);
        }
        (idx, val)
    }
}

#[derive(Serialize, Deserialize)]
struct Persisted {
    config: TfidfConfig,
    vocab: Option<VocabState>,
}

impl Serialize for TfidfVectorizer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Persisted {
            config: self.config.clone(),
            vocab: self.vocab.as_ref().map(Vocab::state),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for TfidfVectorizer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let p = Persisted::deserialize(d)?;
        let mut v = TfidfVectorizer::new(p.config).map_err(D::Error::custom)?;
        v.vocab = p
            .vocab
            .map(|state| Vocab::from_state(state, &v.config))
            .transpose()
            .map_err(D::Error::custom)?;
        Ok(v)
    }
}

impl Artifact for TfidfVectorizer {
    const KIND: &'static str = "tfidf_vectorizer";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_pre(lo: usize, hi: usize) -> TfidfConfig {
        TfidfConfig {
            ngram_range: (lo, hi),
            ..Default::default()
        }
    }

    fn cfg(lo: usize, hi: usize) -> TfidfConfig {
        TfidfConfig {
            ngram_range: (lo, hi),
            preprocessor: None,
            ..Default::default()
        }
    }

    #[test]
    fn hand_computed_values() {
        let mut v = TfidfVectorizer::new(cfg(1, 1)).unwrap();
        let x = v.fit_transform(&["a b", "a c"]).unwrap();
        assert_eq!(v.feature_names().unwrap(), ["a", "b", "c"]);
        let idf_b = (3.0f64 / 2.0).ln() + 1.0;
        let n = (1.0 + idf_b * idf_b).sqrt();
        let d = x.to_dense();
        assert!((d[0][0] - 1.0 / n).abs() < 1e-12);
        assert!((d[0][1] - idf_b / n).abs() < 1e-12);
        assert_eq!(d[0][2], 0.0);
    }

    #[test]
    fn ngrams_and_limits() {
        let mut v = TfidfVectorizer::new(TfidfConfig {
            max_features: Some(2),
            ..cfg(1, 2)
        })
        .unwrap();
        v.fit(&["x y x", "x z"]).unwrap();
        // x appears 3 times; "x y", "y x", "x z", y, z once each: ties go alphabetically.
        assert_eq!(v.feature_names().unwrap(), ["x", "x y"]);
    }

    #[test]
    fn df_bounds() {
        let docs = ["a b", "a c", "a d"];
        let mut v = TfidfVectorizer::new(TfidfConfig {
            max_df: DfBound::Fraction(0.5),
            ..cfg(1, 1)
        })
        .unwrap();
        v.fit(&docs).unwrap();
        assert_eq!(v.feature_names().unwrap(), ["b", "c", "d"]);
        let mut v = TfidfVectorizer::new(TfidfConfig {
            min_df: DfBound::Count(2),
            ..cfg(1, 1)
        })
        .unwrap();
        v.fit(&docs).unwrap();
        assert_eq!(v.feature_names().unwrap(), ["a"]);
        let mut v = TfidfVectorizer::new(TfidfConfig {
            min_df: DfBound::Count(3),
            max_df: DfBound::Fraction(0.1),
            ..cfg(1, 1)
        })
        .unwrap();
        assert!(matches!(
            v.fit(&docs),
            Err(Error::InvalidConfig {
                field: "max_df",
                ..
            })
        ));
    }

    #[test]
    fn distinct_terms_are_capped_with_an_error_naming_the_field() {
        let docs: Vec<String> = (0..50).map(|i| format!("w{i}a w{i}b w{i}c")).collect();
        let capped = |cap| TfidfConfig {
            preprocessor: None,
            max_distinct_terms: cap,
            ..cfg(1, 2)
        };
        // 50 lines x (3 words + 2 bigrams) = 250 distinct n-grams.
        let e = TfidfVectorizer::new(capped(Some(100)))
            .unwrap()
            .fit(&docs)
            .map(|_| ())
            .unwrap_err();
        assert!(
            matches!(&e, Error::InvalidInput(m) if m.contains("max_distinct_terms = 100")),
            "{e}"
        );
        for cap in [Some(250), None] {
            let mut v = TfidfVectorizer::new(capped(cap)).unwrap();
            v.fit(&docs).unwrap();
            assert_eq!(v.n_features().unwrap(), 250);
        }
        // Old files (no such field) load with the default cap.
        let c: TfidfConfig = serde_json::from_str(r#"{"ngram_range": [1, 2]}"#).unwrap();
        assert_eq!(c.max_distinct_terms, Some(DEFAULT_MAX_DISTINCT_TERMS));
    }

    #[test]
    fn bad_configs() {
        for (c, field) in [
            (
                TfidfConfig {
                    max_distinct_terms: Some(0),
                    ..cfg(1, 1)
                },
                "max_distinct_terms",
            ),
            (cfg(3, 1), "ngram_range"),
            (cfg(0, 1), "ngram_range"),
            (
                TfidfConfig {
                    max_features: Some(0),
                    ..cfg(1, 1)
                },
                "max_features",
            ),
            (
                TfidfConfig {
                    min_df: DfBound::Count(5),
                    max_df: DfBound::Count(2),
                    ..cfg(1, 1)
                },
                "min_df",
            ),
            (
                TfidfConfig {
                    min_df: DfBound::Fraction(0.9),
                    max_df: DfBound::Fraction(0.2),
                    ..cfg(1, 1)
                },
                "min_df",
            ),
            (
                TfidfConfig {
                    max_df: DfBound::Fraction(1.5),
                    ..cfg(1, 1)
                },
                "max_df",
            ),
        ] {
            match TfidfVectorizer::new(c) {
                Err(Error::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn not_fitted_and_empty() {
        let v = TfidfVectorizer::new(cfg(1, 1)).unwrap();
        assert!(matches!(v.transform(&["a"]), Err(Error::NotFitted { .. })));
        let mut v = TfidfVectorizer::new(TfidfConfig::default()).unwrap();
        assert!(matches!(v.fit(&[] as &[&str]), Err(Error::InvalidInput(_))));
        assert!(matches!(
            v.fit(&["", "  ", "the of"]),
            Err(Error::InvalidInput(_))
        ));
    }

    #[test]
    fn df_bound_json() {
        let c: TfidfConfig = serde_json::from_str(r#"{"min_df": 2, "max_df": 1.0}"#).unwrap();
        assert_eq!(
            (c.min_df, c.max_df),
            (DfBound::Count(2), DfBound::Fraction(1.0))
        );
        let c: TfidfConfig = serde_json::from_str(r#"{"max_df": {"fraction": 1}}"#).unwrap();
        assert_eq!(c.max_df, DfBound::Fraction(1.0));
        assert!(serde_json::from_str::<TfidfConfig>(r#"{"min_dff": 2}"#).is_err());
        let c: TfidfConfig = serde_json::from_str(r#"{"norm": null}"#).unwrap();
        assert_eq!(c.norm, Norm::None);
        assert!(serde_json::from_str::<TfidfConfig>(r#"{"norm": "l3"}"#).is_err());
        let back: TfidfConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        let json = serde_json::to_value(TfidfConfig::default()).unwrap();
        assert_eq!(json["max_df"], serde_json::json!({"fraction": 1.0}));
        assert_eq!(json["min_df"], serde_json::json!(1));
    }

    #[test]
    fn batch_rows_of_repeated_masked_lines_equal_single_rows() {
        // Lines differ only in masked parts, so the batch path shares rows between them.
        let texts: Vec<String> = (0..600)
            .map(|i| match i % 3 {
                0 => format!("Connection refused to 10.0.0.{} after {i} retries", i % 250),
                1 => format!("Disk full on /var/data{i} ERROR code {}", i * 7),
                _ => format!("user{} logged in from host-{i}", i % 5),
            })
            .collect();
        let mut v = TfidfVectorizer::new(with_pre(1, 3)).unwrap();
        v.fit(&texts).unwrap();
        let batch = v.transform(&texts).unwrap();
        assert_eq!(batch.n_rows, texts.len());
        for (i, t) in texts.iter().enumerate() {
            let one = v.transform(&[t]).unwrap();
            assert_eq!(batch.row(i), one.row(0), "row {i}");
        }
    }

    #[test]
    fn fitting_grouped_lines_equals_fitting_every_line() {
        let texts: Vec<String> = (0..900)
            .map(|i| match i % 4 {
                0 => format!("Connection refused to 10.0.0.{} after {i} retries", i % 250),
                1 => format!("Disk full on node{} ERROR code {}", i % 3, i * 7),
                2 => format!("user{} logged in from host-{i}", i % 11),
                _ => "heartbeat ok".to_owned(),
            })
            .collect();
        let configs = [
            with_pre(1, 3),
            TfidfConfig {
                min_df: DfBound::Count(3),
                max_df: DfBound::Fraction(0.5),
                ..with_pre(1, 2)
            },
            TfidfConfig {
                max_features: Some(7),
                sublinear_tf: true,
                ..with_pre(1, 3)
            },
        ];
        for c in configs {
            let mut grouped = TfidfVectorizer::new(c.clone()).unwrap();
            grouped.fit(&texts).unwrap();
            let p = Preprocessor::new(c.preprocessor.clone().unwrap()).unwrap();
            let mut each = TfidfVectorizer::new(TfidfConfig {
                preprocessor: None,
                ..c.clone()
            })
            .unwrap();
            each.fit_tokens(&p.tokens_batch(&texts)).unwrap();
            assert_eq!(
                grouped.feature_names().unwrap(),
                each.feature_names().unwrap()
            );
            assert_eq!(grouped.idf().unwrap(), each.idf().unwrap());
            let mut ft = TfidfVectorizer::new(c).unwrap();
            assert_eq!(
                ft.fit_transform(&texts).unwrap(),
                grouped.transform(&texts).unwrap()
            );
        }
    }

    #[test]
    fn transform_parallel_equals_sequential() {
        let texts: Vec<String> = (0..1000)
            .map(|i| format!("err{} code{} disk full", i % 7, i % 13))
            .collect();
        let mut v = TfidfVectorizer::new(cfg(1, 3)).unwrap();
        let a = v.fit_transform(&texts).unwrap();
        let seq: Vec<CsrMatrix> = texts.iter().map(|t| v.transform(&[t]).unwrap()).collect();
        for (i, s) in seq.iter().enumerate() {
            assert_eq!(a.row(i), s.row(0));
        }
    }
}
