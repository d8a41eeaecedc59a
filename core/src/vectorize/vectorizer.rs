//! [`TfidfVectorizer`]: fit (vocabulary and idf from distinct masked lines) and transform.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use super::config::{Norm, TfidfConfig};
use super::csr::CsrMatrix;
use super::grouped::Grouped;
use super::tokenised::count_tokenised;
use super::vocab::{UNKNOWN, Vocab};
use crate::error::{Error, Result};
use crate::parallel;
use crate::text::Preprocessor;

/// TF-IDF vectoriser: `fit` learns the vocabulary and idf, `transform` makes CSR rows.
#[derive(Clone, Debug)]
pub struct TfidfVectorizer {
    pub(super) config: TfidfConfig,
    pub(super) preprocessor: Option<Preprocessor>,
    pub(super) vocab: Option<Vocab>,
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

pub(super) const WHAT: &str = "TfidfVectorizer";

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

    pub(super) fn vocab(&self) -> Result<&Vocab> {
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

    pub(super) fn tokenize<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Vec<String>> {
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
    pub(super) fn fit_counted<D, S>(
        &mut self,
        docs: &[D],
        counts: Option<&[u32]>,
    ) -> Result<&mut Self>
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
        let (rows, slot) = self.map_rows(vocab, texts, |ids| self.row_from_ids(vocab, ids));
        let n_cols = vocab.features.len();
        Ok(match slot {
            Some(slot) => CsrMatrix::from_shared_rows(&rows, &slot, n_cols),
            None => CsrMatrix::from_rows(rows, n_cols),
        })
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
        let (rows, slot) = self.map_rows(vocab, texts, |ids| self.row_and_unseen(vocab, ids));
        let (rows, shares): (Vec<_>, Vec<f64>) = rows.into_iter().unzip();
        let n_cols = vocab.features.len();
        Ok(match slot {
            Some(slot) => (
                CsrMatrix::from_shared_rows(&rows, &slot, n_cols),
                slot.iter().map(|&r| shares[r]).collect(),
            ),
            None => (CsrMatrix::from_rows(rows, n_cols), shares),
        })
    }

    /// The body `transform` and `transform_with_unseen` share: each text's token ids (through the
    /// preprocessor, else split on whitespace) handed to `row`. With a preprocessor, texts are
    /// grouped by masked form and `row` runs once per distinct form; the slots then give each
    /// text's row (`None`: one row per text, in order). `row` is generic so that `transform` pays
    /// nothing for the unseen share it does not want.
    fn map_rows<S, R>(
        &self,
        vocab: &Vocab,
        texts: &[S],
        row: impl Fn(&[u32]) -> R + Sync + Send,
    ) -> (Vec<R>, Option<Vec<usize>>)
    where
        S: AsRef<str> + Sync,
        R: Send,
    {
        match &self.preprocessor {
            Some(p) => {
                let g = Grouped::new(p, texts);
                count_tokenised(g.first.len());
                let unique = parallel::map(&g.first, |&i| {
                    let mut ids = Vec::new();
                    p.for_each_masked_token(&g.masked[i], |tok| ids.push(vocab.token_id(tok)));
                    row(&ids)
                });
                (unique, Some(g.slot))
            }
            None => {
                count_tokenised(texts.len());
                let rows = parallel::map(texts, |t| {
                    let ids: Vec<u32> = t
                        .as_ref()
                        .split_whitespace()
                        .map(|tok| vocab.token_id(tok))
                        .collect();
                    row(&ids)
                });
                (rows, None)
            }
        }
    }

    /// The row of a line's token ids and its unseen share (see
    /// [`transform_with_unseen`](Self::transform_with_unseen)).
    pub(super) fn row_and_unseen(&self, vocab: &Vocab, ids: &[u32]) -> ((Vec<u32>, Vec<f64>), f64) {
        let r = self.row_from_ids(vocab, ids);
        let share = self.unseen_share(vocab, ids, r.0.len());
        (r, share)
    }

    /// See [`transform_with_unseen`](Self::transform_with_unseen); `known` is the row's count of
    /// distinct known n-grams.
    pub(super) fn unseen_share(&self, vocab: &Vocab, ids: &[u32], known: usize) -> f64 {
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

    pub(super) fn row<S: AsRef<str>>(&self, vocab: &Vocab, tokens: &[S]) -> (Vec<u32>, Vec<f64>) {
        let ids: Vec<u32> = tokens.iter().map(|t| vocab.token_id(t.as_ref())).collect();
        self.row_from_ids(vocab, &ids)
    }

    pub(super) fn row_from_ids(&self, vocab: &Vocab, ids: &[u32]) -> (Vec<u32>, Vec<f64>) {
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
