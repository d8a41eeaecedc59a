//! [`TextIndex`]: (error text, solution) pairs searched by text, on a [`SimilarityIndex`].
//!
//! Texts become vectors through the project's own pipeline (Preprocessor → TF-IDF), then a sparse
//! random projection to `dim` dense components: each TF-IDF feature adds its weight, with a
//! pseudo-random sign, to [`PROJECTION_NNZ`] hashed components. Inner products, hence cosines, are
//! preserved in expectation; the choice and its measured recall against exact cosine on the sparse
//! TF-IDF are in `docs/index.md`. Callers may instead bring their own embeddings
//! ([`Embedding::External`]).

use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

mod config;

pub use config::{Embedding, Fusion, TextIndexConfig};

use super::{SearchOptions, SimilarityIndex};
use crate::error::{Error, Result};
use crate::models::Artifact;
use crate::sync::{Mutex, RwLock};
use crate::vectorize::{CsrMatrix, TfidfVectorizer};

/// Hashed components each TF-IDF feature lands in (measured: 4 beats 1 and 2 at equal `dim`,
/// 8 adds nothing; see `docs/index.md`).
pub const PROJECTION_NNZ: usize = 4;
const SEED: u64 = 0x5eed_fa17_1e25;

/// One text search result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextHit {
    /// The id `add` returned for the text.
    pub id: u64,
    /// Cosine similarity (or the configured metric's score for external embeddings).
    pub score: f32,
    /// The stored text.
    pub text: String,
    /// The payload stored with it (e.g. the solution).
    pub payload: Option<String>,
}

struct State {
    vectorizer: Option<TfidfVectorizer>,
    index: SimilarityIndex,
}

struct Writer {
    next_id: u64,
    fitted_on: usize,
}

/// A similarity index over texts: add (error text, solution) pairs, search by text.
///
/// In TF-IDF mode the vectoriser is fitted on the first batch and refitted on every stored text
/// whenever the collection has doubled since the last fit, or when a new text has no known term,
/// so the vocabulary follows the data at amortised linear cost. Searches keep running during a
/// refit (they see the previous state until the new one is complete).
pub struct TextIndex {
    config: TextIndexConfig,
    state: RwLock<Arc<State>>,
    /// Caller embeddings under the same ids (hybrid mode only); a refit leaves it as it is.
    embedded: Option<SimilarityIndex>,
    texts: RwLock<FxHashMap<u64, String>>,
    writer: Mutex<Writer>,
    pub(super) counters: super::metrics::Counters,
}

impl std::fmt::Debug for TextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextIndex")
            .field("config", &self.config)
            .field("len", &self.len())
            .finish()
    }
}

fn poisoned() -> Error {
    Error::InvalidInput("the text index lock is poisoned: a thread panicked while writing".into())
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Sparse random projection of CSR rows to `dim` dense components (row-major), `nnz` hashed
/// ±1/sqrt(nnz) entries per feature. Rows without features stay zero.
pub fn project(x: &CsrMatrix, dim: usize, nnz: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; x.n_rows * dim];
    let scale = 1.0 / (nnz as f64).sqrt();
    for r in 0..x.n_rows {
        let row = &mut out[r * dim..(r + 1) * dim];
        let (idx, val) = x.row(r);
        for (&j, &v) in idx.iter().zip(val) {
            for t in 0..nnz {
                let h = splitmix(SEED ^ ((j as u64) << 8 | t as u64));
                let sign = if h >> 63 == 0 { scale } else { -scale };
                row[(h % dim as u64) as usize] += (v * sign) as f32;
            }
        }
    }
    out
}

impl TextIndex {
    /// An empty index; fails with `InvalidConfig` naming the bad field.
    pub fn new(config: TextIndexConfig) -> Result<Self> {
        config.validate()?;
        let index = SimilarityIndex::new(config.index_config())?;
        let vectorizer = match config.embedding.tfidf() {
            Some(tfidf) => Some(TfidfVectorizer::new(tfidf.clone())?),
            None => None,
        };
        let embedded = config
            .embedded_config()
            .map(SimilarityIndex::new)
            .transpose()?;
        Ok(Self {
            embedded,
            config,
            state: RwLock::new(Arc::new(State { vectorizer, index }), "text index state"),
            texts: RwLock::new(FxHashMap::default(), "text index texts"),
            writer: Mutex::new(
                Writer {
                    next_id: 0,
                    fitted_on: 0,
                },
                "text index writer",
            ),
            counters: Default::default(),
        })
    }

    /// The settings this index was created with.
    pub fn config(&self) -> &TextIndexConfig {
        &self.config
    }

    fn current(&self) -> Result<Arc<State>> {
        self.state.read_or(poisoned).map(|s| Arc::clone(&s))
    }

    /// Number of stored texts.
    pub fn len(&self) -> usize {
        self.texts.read_or(poisoned).map(|t| t.len()).unwrap_or(0)
    }

    /// Whether no text is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Vector dimension (of the TF-IDF projection in TF-IDF and hybrid modes).
    pub fn dim(&self) -> usize {
        self.config.embedding.dim()
    }

    /// Components of the caller's embeddings (`add_embedded`, `add_hybrid`,
    /// `search_embedded`, `search_hybrid`), or `None` in TF-IDF mode.
    pub fn embedding_dim(&self) -> Option<usize> {
        self.external_dim().ok()
    }

    /// The fitted vectoriser (TF-IDF mode, after the first add).
    pub fn vectorizer(&self) -> Option<TfidfVectorizer> {
        self.current()
            .ok()?
            .vectorizer
            .clone()
            .filter(TfidfVectorizer::is_fitted)
    }

    /// The stored text and payload of `id`.
    pub fn get(&self, id: u64) -> Option<(String, Option<String>)> {
        let text = self.texts.read_or(poisoned).ok()?.get(&id)?.clone();
        let payload = self.current().ok()?.index.get(id)?.payload;
        Some((text, payload))
    }

    fn tfidf_dim(&self) -> Result<usize> {
        match &self.config.embedding {
            Embedding::Tfidf { dim, .. } | Embedding::Hybrid { dim, .. } => Ok(*dim),
            Embedding::External { .. } => Err(Error::InvalidInput(
                "this TextIndex takes your embeddings: use add_embedded / search_embedded".into(),
            )),
        }
    }

    fn external_dim(&self) -> Result<usize> {
        match &self.config.embedding {
            Embedding::External { dim }
            | Embedding::Hybrid {
                embedding_dim: dim, ..
            } => Ok(*dim),
            Embedding::Tfidf { .. } => Err(Error::InvalidInput(
                "this TextIndex embeds texts itself (TF-IDF): use add / search".into(),
            )),
        }
    }

    /// The index `search_embedded` reads: the main one, or the hybrid's embedding side.
    fn external_index<'a>(&'a self, st: &'a State) -> &'a SimilarityIndex {
        self.embedded.as_ref().unwrap_or(&st.index)
    }

    /// Dense vectors of `texts` under the current vectoriser (TF-IDF mode), row after row.
    /// Texts with no known term are zero rows.
    pub fn embed<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<f32>> {
        let dim = self.tfidf_dim()?;
        let st = self.current()?;
        match &st.vectorizer {
            Some(v) if v.is_fitted() => Ok(project(&v.transform(texts)?, dim, PROJECTION_NNZ)),
            _ => Err(Error::NotFitted { what: "TextIndex" }),
        }
    }

    /// Adds texts with optional payloads (e.g. solutions); returns their new ids. Every text must
    /// have at least one token.
    pub fn add<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        payloads: Option<Vec<Option<String>>>,
    ) -> Result<Vec<u64>> {
        if self.embedded.is_some() {
            return Err(Error::InvalidInput(
                "this hybrid TextIndex stores an embedding with every text: use add_hybrid".into(),
            ));
        }
        self.add_texts(texts, None, payloads)
    }

    /// Adds texts with the caller's embeddings (`vectors` row after row, `embedding_dim` each)
    /// to a hybrid index; returns their new ids. All or nothing.
    pub fn add_hybrid<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        vectors: &[f32],
        payloads: Option<Vec<Option<String>>>,
    ) -> Result<Vec<u64>> {
        let Some(embedded) = &self.embedded else {
            return Err(Error::InvalidInput(
                "add_hybrid needs a TextIndex with embedding type \"hybrid\"".into(),
            ));
        };
        let dim = embedded.dim();
        if vectors.len() != texts.len() * dim {
            return Err(Error::Dimension {
                expected: dim,
                got: vectors.len() / texts.len().max(1),
            });
        }
        self.add_texts(texts, Some(vectors), payloads)
    }

    fn add_texts<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        embeddings: Option<&[f32]>,
        payloads: Option<Vec<Option<String>>>,
    ) -> Result<Vec<u64>> {
        let dim = self.tfidf_dim()?;
        check_payloads(texts.len(), payloads.as_ref())?;
        let mut w = self.writer.lock_or(poisoned)?;
        let st = self.current()?;
        let tokenless = |t: &str| match st.vectorizer.as_ref().and_then(|v| v.preprocessor()) {
            Some(p) => p.tokens(t).is_empty(),
            None => t.split_whitespace().next().is_none(),
        };
        if let Some(i) = texts.iter().position(|t| tokenless(t.as_ref())) {
            return Err(Error::InvalidInput(format!(
                "text {i} has no tokens after preprocessing: nothing to index"
            )));
        }
        let ids: Vec<u64> = (w.next_id..next_ids_end(w.next_id, texts.len())?).collect();
        // The embeddings first: their checks (dimension, finite, non-zero) leave nothing to undo.
        if let (Some(e), Some(v)) = (&self.embedded, embeddings) {
            e.add(&ids, v, None)?;
        }
        let added = self.add_tfidf(&st, &mut w, &ids, texts, payloads, dim);
        if added.is_err()
            && let Some(e) = &self.embedded
        {
            e.remove(&ids)?;
        }
        added?;
        let mut t = self.texts.write_or(poisoned)?;
        for (id, text) in ids.iter().zip(texts) {
            t.insert(*id, text.as_ref().to_owned());
        }
        w.next_id = ids.last().map_or(w.next_id, |&last| last + 1);
        self.counters.added(ids.len());
        Ok(ids)
    }

    fn add_tfidf<S: AsRef<str> + Sync>(
        &self,
        st: &State,
        w: &mut Writer,
        ids: &[u64],
        texts: &[S],
        payloads: Option<Vec<Option<String>>>,
        dim: usize,
    ) -> Result<()> {
        let fitted = st
            .vectorizer
            .as_ref()
            .is_some_and(TfidfVectorizer::is_fitted);
        let total = self.len() + texts.len();
        let mut vectors = None;
        if fitted && total < w.fitted_on.max(1).saturating_mul(2) {
            let x = st
                .vectorizer
                .as_ref()
                .map(|v| v.transform(texts))
                .transpose()?;
            if let Some(x) = x
                && (0..x.n_rows).all(|r| !x.row(r).0.is_empty())
            {
                vectors = Some(project(&x, dim, PROJECTION_NNZ));
            }
        }
        match vectors {
            Some(v) => st.index.add(ids, &v, payloads),
            None => self.refit_with(st, w, ids, texts, payloads),
        }
    }

    /// Refits the vectoriser on every stored text plus `new` ones and swaps in a rebuilt index.
    fn refit_with<S: AsRef<str> + Sync>(
        &self,
        st: &State,
        w: &mut Writer,
        new_ids: &[u64],
        new_texts: &[S],
        new_payloads: Option<Vec<Option<String>>>,
    ) -> Result<()> {
        let dim = self.tfidf_dim()?;
        let mut ids: Vec<u64> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut payloads: Vec<Option<String>> = Vec::new();
        {
            let t = self.texts.read_or(poisoned)?;
            let mut old: Vec<(&u64, &String)> = t.iter().collect();
            old.sort_unstable_by_key(|(id, _)| **id);
            for (id, text) in old {
                ids.push(*id);
                texts.push(text.clone());
                payloads.push(st.index.get(*id).and_then(|e| e.payload));
            }
        }
        ids.extend_from_slice(new_ids);
        texts.extend(new_texts.iter().map(|t| t.as_ref().to_owned()));
        payloads.extend(new_payloads.unwrap_or_else(|| vec![None; new_ids.len()]));
        let mut v = TfidfVectorizer::new(match self.config.embedding.tfidf() {
            Some(tfidf) => tfidf.clone(),
            None => return self.tfidf_dim().map(|_| ()),
        })?;
        let x = v.fit_transform(&texts)?;
        let mut vectors = project(&x, dim, PROJECTION_NNZ);
        for r in 0..x.n_rows {
            if x.row(r).0.is_empty() {
                // min_df / max_df / max_features dropped every term of this text: park it on a
                // fixed direction so it is stored (and found by `get`) but rarely matches.
                let row = &mut vectors[r * dim..(r + 1) * dim];
                row[(splitmix(SEED) % dim as u64) as usize] = 1.0;
            }
        }
        let index = SimilarityIndex::new(self.config.index_config())?;
        index.add(&ids, &vectors, Some(payloads))?;
        *self.state.write_or(poisoned)? = Arc::new(State {
            vectorizer: Some(v),
            index,
        });
        w.fitted_on = texts.len();
        Ok(())
    }

    /// Refits the vectoriser on all stored texts now (otherwise automatic, see the type docs).
    pub fn refit(&self) -> Result<()> {
        self.tfidf_dim()?;
        let mut w = self.writer.lock_or(poisoned)?;
        if self.is_empty() {
            return Ok(());
        }
        let st = self.current()?;
        self.refit_with::<&str>(&st, &mut w, &[], &[], None)
    }

    /// Adds texts with caller-computed embeddings (`vectors` row after row, `dim` each).
    pub fn add_embedded<S: AsRef<str>>(
        &self,
        texts: &[S],
        vectors: &[f32],
        payloads: Option<Vec<Option<String>>>,
    ) -> Result<Vec<u64>> {
        let dim = self.external_dim()?;
        if self.embedded.is_some() {
            return Err(Error::InvalidInput(
                "this hybrid TextIndex stores a TF-IDF vector with every text: use add_hybrid"
                    .into(),
            ));
        }
        check_payloads(texts.len(), payloads.as_ref())?;
        if vectors.len() != texts.len() * dim {
            return Err(Error::Dimension {
                expected: dim,
                got: vectors.len() / texts.len().max(1),
            });
        }
        let mut w = self.writer.lock_or(poisoned)?;
        let ids: Vec<u64> = (w.next_id..next_ids_end(w.next_id, texts.len())?).collect();
        self.current()?.index.add(&ids, vectors, payloads)?;
        let mut t = self.texts.write_or(poisoned)?;
        for (id, text) in ids.iter().zip(texts) {
            t.insert(*id, text.as_ref().to_owned());
        }
        w.next_id = ids.last().map_or(w.next_id, |&last| last + 1);
        self.counters.added(ids.len());
        Ok(ids)
    }

    fn to_text_hits(&self, hits: Vec<Vec<super::Hit>>) -> Result<Vec<Vec<TextHit>>> {
        let t = self.texts.read_or(poisoned)?;
        Ok(hits
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|h| TextHit {
                        id: h.id,
                        score: h.score,
                        text: t.get(&h.id).cloned().unwrap_or_default(),
                        payload: h.payload,
                    })
                    .collect()
            })
            .collect())
    }

    /// The `k` stored texts most similar to each query text, best first (fewer when fewer pass
    /// `opts.threshold`). A query with no known term has no results.
    pub fn search_batch<S: AsRef<str> + Sync>(
        &self,
        queries: &[S],
        k: usize,
        opts: &SearchOptions,
    ) -> Result<Vec<Vec<TextHit>>> {
        let dim = self.tfidf_dim()?;
        let st = self.current()?;
        let v = match &st.vectorizer {
            Some(v) if v.is_fitted() => v,
            // Nothing was added yet: nothing can match.
            _ => {
                SimilarityIndex::check_k(k)?;
                self.counters.searched(queries.len());
                return Ok(vec![Vec::new(); queries.len()]);
            }
        };
        let x = v.transform(queries)?;
        let known: Vec<usize> = (0..x.n_rows).filter(|&r| !x.row(r).0.is_empty()).collect();
        let dense = project(&x, dim, PROJECTION_NNZ);
        let mut flat = Vec::with_capacity(known.len() * dim);
        for &r in &known {
            flat.extend_from_slice(&dense[r * dim..(r + 1) * dim]);
        }
        SimilarityIndex::check_k(k)?;
        let found = if known.is_empty() {
            Vec::new()
        } else {
            st.index.search(&flat, k, opts)?
        };
        let mut out = vec![Vec::new(); queries.len()];
        for (r, hits) in known.into_iter().zip(found) {
            out[r] = hits;
        }
        self.counters.searched(queries.len());
        self.to_text_hits(out)
    }

    /// [`search_batch`](Self::search_batch) for one text.
    pub fn search(&self, query: &str, k: usize, opts: &SearchOptions) -> Result<Vec<TextHit>> {
        Ok(self
            .search_batch(&[query], k, opts)?
            .pop()
            .unwrap_or_default())
    }

    /// Search by caller-computed embeddings (`queries` row after row).
    pub fn search_embedded(
        &self,
        queries: &[f32],
        k: usize,
        opts: &SearchOptions,
    ) -> Result<Vec<Vec<TextHit>>> {
        self.external_dim()?;
        let st = self.current()?;
        let hits = self.external_index(&st).search(queries, k, opts)?;
        self.counters.searched(hits.len());
        self.to_text_hits(hits)
    }

    /// Hybrid search: for each query text and its embedding (`vectors` row after row), the `k`
    /// stored texts ranked by `fusion` of the TF-IDF and embedding rankings (see [`Fusion`]).
    /// Each side contributes its best `max(4k, 50)` candidates; `opts` (filter, ef, exact,
    /// threshold) applies to both sides, and a hit's `score` is the fused score.
    pub fn search_hybrid<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        vectors: &[f32],
        k: usize,
        opts: &SearchOptions,
        fusion: &Fusion,
    ) -> Result<Vec<Vec<TextHit>>> {
        fusion.validate()?;
        SimilarityIndex::check_k(k)?;
        let Some(embedded) = &self.embedded else {
            return Err(Error::InvalidInput(
                "search_hybrid needs a TextIndex with embedding type \"hybrid\"".into(),
            ));
        };
        let d = embedded.dim();
        if vectors.len() != texts.len() * d {
            return Err(Error::Dimension {
                expected: d,
                got: vectors.len() / texts.len().max(1),
            });
        }
        let depth = (4 * k).max(50);
        let by_text = self.search_batch(texts, depth, opts)?;
        let by_embedding = if texts.is_empty() {
            Vec::new()
        } else {
            embedded.search(vectors, depth, opts)?
        };
        let st = self.current()?;
        let tdim = self.tfidf_dim()?;
        let text_queries = match (&st.vectorizer, fusion) {
            (Some(v), Fusion::Weighted { .. }) if v.is_fitted() => {
                project(&v.transform(texts)?, tdim, PROJECTION_NNZ)
            }
            _ => vec![0.0; texts.len() * tdim],
        };
        let mut out: Vec<Vec<super::Hit>> = Vec::with_capacity(texts.len());
        for (i, (t_hits, e_hits)) in by_text.into_iter().zip(by_embedding).enumerate() {
            let mut fused: FxHashMap<u64, f32> = FxHashMap::default();
            match *fusion {
                Fusion::Rrf { k: rk } => {
                    for (rank, id) in t_hits.iter().map(|h| h.id).enumerate() {
                        *fused.entry(id).or_default() += 1.0 / (rk + rank as f32 + 1.0);
                    }
                    for (rank, id) in e_hits.iter().map(|h| h.id).enumerate() {
                        *fused.entry(id).or_default() += 1.0 / (rk + rank as f32 + 1.0);
                    }
                }
                Fusion::Weighted { text_weight: w } => {
                    // Scores a side did not return are computed from the stored vectors.
                    let tq = unit(&text_queries[i * tdim..(i + 1) * tdim]);
                    let eq = unit(&vectors[i * d..(i + 1) * d]);
                    let mut ids: Vec<u64> = t_hits
                        .iter()
                        .map(|h| h.id)
                        .chain(e_hits.iter().map(|h| h.id))
                        .collect();
                    ids.sort_unstable();
                    ids.dedup();
                    for id in ids {
                        let ts = st.index.get(id).map_or(0.0, |e| dot(&tq, &e.vector));
                        let es = embedded.get(id).map_or(0.0, |e| dot(&eq, &e.vector));
                        fused.insert(id, w * ts + (1.0 - w) * es);
                    }
                }
            }
            let payload_of: FxHashMap<u64, Option<String>> = t_hits
                .into_iter()
                .map(|h| (h.id, h.payload))
                .chain(e_hits.into_iter().map(|h| (h.id, h.payload)))
                .collect();
            let mut ranked: Vec<(u64, f32)> = fused.into_iter().collect();
            ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            ranked.truncate(k);
            out.push(
                ranked
                    .into_iter()
                    .map(|(id, score)| super::Hit {
                        id,
                        key: None,
                        score,
                        payload: payload_of.get(&id).cloned().flatten(),
                    })
                    .collect(),
            );
        }
        // Payloads live in the TF-IDF side only: fill those the embedding side found alone.
        for row in &mut out {
            for h in row.iter_mut().filter(|h| h.payload.is_none()) {
                h.payload = st.index.get(h.id).and_then(|e| e.payload);
            }
        }
        self.to_text_hits(out)
    }

    /// Removes texts by id (all or nothing; unknown ids are an error).
    pub fn remove(&self, ids: &[u64]) -> Result<()> {
        let _w = self.writer.lock_or(poisoned)?;
        self.current()?.index.remove(ids)?;
        if let Some(e) = &self.embedded {
            e.remove(ids)?;
        }
        let mut t = self.texts.write_or(poisoned)?;
        for id in ids {
            t.remove(id);
        }
        self.counters.removed(ids.len());
        Ok(())
    }

    /// Reclaims the space of removed texts' vectors.
    pub fn compact(&self) -> Result<()> {
        let _w = self.writer.lock_or(poisoned)?;
        if let Some(e) = &self.embedded {
            e.compact()?;
        }
        self.current()?.index.compact()
    }
}

fn unit(v: &[f32]) -> Vec<f32> {
    let n = dot(v, v).sqrt();
    if n > 0.0 && n.is_finite() {
        v.iter().map(|x| x / n).collect()
    } else {
        vec![0.0; v.len()]
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    super::kernels::dot(a, b)
}

fn check_payloads(n: usize, payloads: Option<&Vec<Option<String>>>) -> Result<()> {
    match payloads {
        Some(p) if p.len() != n => Err(Error::InvalidInput(format!(
            "{n} texts but {} payloads",
            p.len()
        ))),
        _ => Ok(()),
    }
}

/// The end of the id range for `n` new texts from `next`: ids are never reused, so a file whose
/// `next_id` is near `u64::MAX` runs out rather than wrapping around onto stored ids.
fn next_ids_end(next: u64, n: usize) -> Result<u64> {
    next.checked_add(n as u64)
        .filter(|&end| end < u64::MAX)
        .ok_or_else(|| Error::InvalidInput(format!("no ids left: the next id is {next}")))
}

#[derive(Serialize)]
struct SnapshotOut<'a> {
    config: &'a TextIndexConfig,
    vectorizer: Option<&'a TfidfVectorizer>,
    index: &'a SimilarityIndex,
    #[serde(skip_serializing_if = "Option::is_none")]
    embedded: Option<&'a SimilarityIndex>,
    texts: Vec<(u64, &'a String)>,
    next_id: u64,
    fitted_on: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotIn {
    config: TextIndexConfig,
    vectorizer: Option<TfidfVectorizer>,
    index: SimilarityIndex,
    /// The caller embeddings of a hybrid index (absent otherwise, and in older files).
    #[serde(default)]
    embedded: Option<SimilarityIndex>,
    texts: Vec<(u64, String)>,
    next_id: u64,
    fitted_on: usize,
}

impl Serialize for TextIndex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let w = self
            .writer
            .lock_or(|| Error::InvalidInput("poisoned lock".into()))
            .map_err(S::Error::custom)?;
        let st = self.current().map_err(S::Error::custom)?;
        let t = self
            .texts
            .read_or(|| Error::InvalidInput("poisoned lock".into()))
            .map_err(S::Error::custom)?;
        let mut texts: Vec<(u64, &String)> = t.iter().map(|(k, v)| (*k, v)).collect();
        texts.sort_unstable_by_key(|(k, _)| *k);
        SnapshotOut {
            config: &self.config,
            vectorizer: st.vectorizer.as_ref(),
            index: &st.index,
            embedded: self.embedded.as_ref(),
            texts,
            next_id: w.next_id,
            fitted_on: w.fitted_on,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for TextIndex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let s = SnapshotIn::deserialize(d)?;
        s.config.validate().map_err(D::Error::custom)?;
        if s.index.config() != &s.config.index_config() {
            return Err(D::Error::custom(
                "the vector index config differs from the text index config",
            ));
        }
        if s.index.len() != s.texts.len() || s.texts.iter().any(|(id, _)| !s.index.contains(*id)) {
            return Err(D::Error::custom("stored texts and vector ids differ"));
        }
        // Equal counts only match the ids one to one when no id is stored twice.
        let mut seen = std::collections::HashSet::with_capacity(s.texts.len());
        if let Some((id, _)) = s.texts.iter().find(|(id, _)| !seen.insert(*id)) {
            return Err(D::Error::custom(format!("text id {id} is stored twice")));
        }
        if s.texts.iter().any(|(id, _)| *id >= s.next_id) {
            return Err(D::Error::custom("a stored id is not below next_id"));
        }
        match (&s.embedded, s.config.embedded_config()) {
            (None, None) => {}
            (Some(e), Some(c)) => {
                if e.config() != &c {
                    return Err(D::Error::custom(
                        "the embedding index config differs from the text index config",
                    ));
                }
                if e.len() != s.texts.len() || s.texts.iter().any(|(id, _)| !e.contains(*id)) {
                    return Err(D::Error::custom("stored texts and embedding ids differ"));
                }
            }
            _ => {
                return Err(D::Error::custom(
                    "a hybrid text index needs its embedding index, and only it has one",
                ));
            }
        }
        Ok(TextIndex {
            embedded: s.embedded,
            config: s.config,
            state: RwLock::new(
                Arc::new(State {
                    vectorizer: s.vectorizer,
                    index: s.index,
                }),
                "text index state",
            ),
            texts: RwLock::new(s.texts.into_iter().collect(), "text index texts"),
            writer: Mutex::new(
                Writer {
                    next_id: s.next_id,
                    fitted_on: s.fitted_on,
                },
                "text index writer",
            ),
            counters: Default::default(),
        })
    }
}

/// Saved as `text_index`: config, fitted vectoriser, texts, and the vector index.
impl Artifact for TextIndex {
    const KIND: &'static str = "text_index";
}
