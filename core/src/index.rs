//! Similarity search over vectors ([`SimilarityIndex`]) and over error texts ([`TextIndex`]).
//!
//! [`SimilarityIndex`] stores vectors of a fixed dimension under `u64` ids, each with an optional
//! string payload (a solution, or JSON metadata), and answers k-nearest-neighbour and range
//! queries under cosine (default), dot-product or Euclidean metrics. Large indexes search an HNSW
//! graph (our own, `index/graph.rs`); below [`IndexConfig::exact_below`] distinct vectors, and
//! whenever asked, the search is an exact scan, so small knowledge bases get exact answers.
//!
//! Identical vectors (log lines that differ only in masked numbers) share one graph node that
//! holds all their ids: clusters of identical points otherwise stall HNSW recall, and the graph
//! stays as small as the number of distinct vectors.
//!
//! ```
//! use faultlens::{IndexConfig, SearchOptions, SimilarityIndex};
//! let index = SimilarityIndex::new(IndexConfig::new(3))?;
//! index.add(&[1, 2, 3], &[1.0, 0.0, 0.0, 0.9, 0.1, 0.0, 0.0, 0.0, 1.0], None)?;
//! let hits = index.search_one(&[1.0, 0.05, 0.0], 2, &SearchOptions::default())?;
//! assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), [1, 2]);
//! # Ok::<(), faultlens::Error>(())
//! ```

use std::collections::BinaryHeap;
use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::Artifact;
use crate::parallel;
use crate::sync::{Mutex, ReadGuard, RwLock, WriteGuard};

mod filter;
mod graph;
mod huge;
mod kernels;
mod metrics;
mod persist;
mod quant;
mod search;
mod sparse;
mod text_index;
mod tune;
mod update;

#[allow(clippy::wildcard_imports)]
use self::{filter::*, quant::Codes, search::*, tune::*};
pub use filter::Filter;
use graph::Graph;
pub use metrics::IndexMetrics;
pub(crate) use sparse::SparseIndex;

pub use text_index::{
    Embedding, Fusion, PROJECTION_NNZ, TextHit, TextIndex, TextIndexConfig, project,
};

/// Neighbours a search returns when a caller names no `k` (hnswlib's and faiss's examples use
/// 10, and recall@10 is what `target_recall` is tuned for).
pub const DEFAULT_K: usize = 10;

/// How two vectors are compared. Scores are reported so that the meaning of a threshold is the
/// natural one for each metric (see [`SearchOptions::threshold`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Cosine similarity in `[-1, 1]`, higher is closer (default). Vectors are stored normalised.
    #[default]
    Cosine,
    /// Inner product, higher is closer (maximum inner product search). Vectors are stored as given.
    Dot,
    /// Euclidean distance, lower is closer.
    L2,
}

impl Metric {
    fn higher_is_better(self) -> bool {
        !matches!(self, Metric::L2)
    }
}

/// Largest HNSW `m` (more links per node only slow the build down).
pub const MAX_M: usize = 128;
/// Queries scanned together by an exact batch search (one parallel task): each tile of stored
/// vectors is read from memory once per block, and 64 queries of 384 dims (96 KiB) plus a tile
/// stay in L2.
const EXACT_BLOCK: usize = 64;
/// Stored vectors scored per pass of an exact scan.
const EXACT_TILE: usize = 64;

/// Largest accepted vector dimension.
pub const MAX_DIM: usize = 1 << 16;

/// Settings of a [`SimilarityIndex`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct IndexConfig {
    /// Number of components of every vector (required, 1..=65536).
    pub dim: usize,
    /// Similarity measure (default cosine).
    pub metric: Metric,
    /// HNSW links per node and layer (layer 0 keeps twice as many); default 16, 2..=128.
    pub m: usize,
    /// Candidate list size while building the graph; default 200, 1..=100000.
    pub ef_construction: usize,
    /// Candidate list size while searching when `target_recall` is `None` (and unless a search
    /// passes its own `ef`); default 64, 1..=100000.
    pub ef_search: usize,
    /// Recall@10 the index aims for when it picks its own search breadth (default 0.95, in (0, 1]).
    /// When the graph is built (and again each time the index has doubled), the index searches a
    /// fixed sample of its own vectors at growing `ef` against exact answers and keeps the smallest
    /// `ef` whose measured recall reaches the target, and measures a scan of int8 codes with an
    /// exact rerank the same way; of the graph, that scan (when they reach the target) and an
    /// exact scan, searches use the fastest (timed on a few sample queries). The estimate is
    /// reported by [`SimilarityIndex::estimated_recall`]. `None` searches with `ef_search` as
    /// given.
    pub target_recall: Option<f32>,
    /// Below this many distinct vectors no graph is built and every search is an exact scan
    /// (default 8192: on 384-dim vectors an exact scan of 8192 takes 2-8 ms by machine load, far
    /// under a 50 ms budget, where an ef=64 graph search is faster but misses up to half of the
    /// true top 10 on high-dimensional data; see `docs/index.md` and `docs/benchmarks.md`).
    pub exact_below: usize,
    /// Most ids the index may hold (at least 1); an `add` that would go past it fails with
    /// `InvalidInput` naming `max_items` and adds nothing (default `None`: no cap beyond memory and
    /// the 2^32 - 1 distinct vectors a graph can address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_items: Option<usize>,
}

impl Default for IndexConfig {
    fn default() -> Self {
        Self {
            dim: 0,
            metric: Metric::Cosine,
            m: 16,
            ef_construction: 200,
            ef_search: 64,
            target_recall: Some(0.95),
            exact_below: 8192,
            max_items: None,
        }
    }
}

impl IndexConfig {
    /// Defaults for vectors of `dim` components.
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            ..Self::default()
        }
    }

    /// Checks every field; [`SimilarityIndex::new`] calls it.
    pub fn validate(&self) -> Result<()> {
        if self.dim == 0 || self.dim > MAX_DIM {
            return Err(Error::config(
                "dim",
                format!("{} is invalid: need 1 <= dim <= {MAX_DIM}", self.dim),
            ));
        }
        if !(2..=MAX_M).contains(&self.m) {
            return Err(Error::config(
                "m",
                format!("{} is invalid: need 2 <= m <= {MAX_M}", self.m),
            ));
        }
        if !(1..=100_000).contains(&self.ef_construction) {
            return Err(Error::config(
                "ef_construction",
                format!("{} is invalid: need 1..=100000", self.ef_construction),
            ));
        }
        if self.max_items == Some(0) {
            return Err(Error::config(
                "max_items",
                "0 is invalid: need at least 1, or no value for no cap",
            ));
        }
        if let Some(t) = self.target_recall
            && !(t > 0.0 && t <= 1.0)
        {
            return Err(Error::config(
                "target_recall",
                format!("{t} is invalid: need 0 < target_recall <= 1, or no value for a fixed ef"),
            ));
        }
        if !(1..=100_000).contains(&self.ef_search) {
            return Err(Error::config(
                "ef_search",
                format!("{} is invalid: need 1..=100000", self.ef_search),
            ));
        }
        Ok(())
    }
}

/// Per-search options.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct SearchOptions {
    /// Keep only results at least this close: `score >= threshold` for cosine and dot,
    /// `distance <= threshold` for l2.
    pub threshold: Option<f32>,
    /// HNSW candidate list size for this search (default [`IndexConfig::ef_search`]).
    pub ef: Option<usize>,
    /// Restrict results to some ids or payloads.
    pub filter: Option<Filter>,
    /// Scan every vector instead of walking the graph (exact answers, linear time).
    pub exact: bool,
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The id given to [`SimilarityIndex::add`], or the number a string key is stored under.
    pub id: u64,
    /// The string key given to [`SimilarityIndex::add_keyed`] (`None` for items added by number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Cosine similarity, inner product, or Euclidean distance (by metric).
    pub score: f32,
    /// The payload stored with the id.
    pub payload: Option<String>,
}

/// A stored item, as [`SimilarityIndex::get`] returns it.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The stored vector (unit length under cosine).
    pub vector: Vec<f32>,
    /// The payload stored with the id.
    pub payload: Option<String>,
}

#[derive(Clone, Debug)]
struct Item {
    node: u32,
    payload: Option<String>,
    /// The caller's string key, for items added by [`SimilarityIndex::add_keyed`].
    key: Option<Box<str>>,
}

/// String keys are stored under numbers from here up, far above the integer ids callers use
/// (an integer id at or above it still works: a key never takes a number already stored).
pub const KEY_ID_BASE: u64 = 1 << 63;

/// Everything but the graph. Node `n` is `vectors[n * dim..(n + 1) * dim]`; a node whose id list
/// is empty is a tombstone (all its ids were removed) until `compact` drops it.
#[derive(Default)]
struct Store {
    vectors: Vec<f32>,
    node_ids: Vec<Vec<u64>>,
    by_hash: FxHashMap<u64, Vec<u32>>,
    items: FxHashMap<u64, Item>,
    live_nodes: usize,
    /// Items whose payload is `Some`: while none are, a search skips the per-hit payload
    /// lookup (a random access into `items` per hit, ~6% of a small index's query time).
    n_payloads: usize,
    /// String key → the number it is stored under.
    keys: FxHashMap<Box<str>, u64>,
    /// The next number to try for a new key.
    next_key_id: u64,
    /// Int8 codes of every node, kept while the tuning chooses the quantised scan.
    codes: Option<Codes>,
}

impl Store {
    fn n_nodes(&self) -> usize {
        self.node_ids.len()
    }
}

/// An approximate (HNSW) and exact nearest-neighbour index over fixed-dimension vectors.
///
/// All methods take `&self`: many threads may search while one adds or removes. Adds, removes
/// and `compact` are serialised among themselves; a search never waits for a graph insertion.
pub struct SimilarityIndex {
    config: IndexConfig,
    store: RwLock<Store>,
    graph: RwLock<Option<Graph>>,
    writer: Mutex<()>,
    /// The search breadth chosen for `target_recall` (see [`IndexConfig::target_recall`]).
    tuning: RwLock<Tuning>,
    counters: metrics::Counters,
}

impl std::fmt::Debug for SimilarityIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimilarityIndex")
            .field("config", &self.config)
            .field("len", &self.len())
            .finish()
    }
}

fn poisoned() -> Error {
    Error::InvalidInput("the index lock is poisoned: a thread panicked while writing".into())
}

fn hash_vector(v: &[f32]) -> u64 {
    let mut h = FxHasher::default();
    for x in v {
        // +0.0 and -0.0 are the same point.
        (if *x == 0.0 { 0u32 } else { x.to_bits() }).hash(&mut h);
    }
    h.finish()
}

impl SimilarityIndex {
    /// An empty index; fails with `InvalidConfig` naming the bad field.
    pub fn new(config: IndexConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            store: RwLock::new(Store::default(), "index's vectors"),
            graph: RwLock::new(None, "index's graph"),
            writer: Mutex::new((), "index's writer"),
            tuning: RwLock::new(Tuning::default(), "index's search tuning"),
            counters: metrics::Counters::default(),
        })
    }

    /// The settings this index was created with.
    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.config.dim
    }

    fn read(&self) -> Result<ReadGuard<'_, Store>> {
        self.store.read_or(poisoned)
    }

    fn write(&self) -> Result<WriteGuard<'_, Store>> {
        self.store.write_or(poisoned)
    }

    /// Number of ids stored.
    pub fn len(&self) -> usize {
        self.read().map(|s| s.items.len()).unwrap_or(0)
    }

    /// Whether no id is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of distinct vectors stored (graph nodes holding at least one id).
    pub fn n_vectors(&self) -> usize {
        self.read().map(|s| s.live_nodes).unwrap_or(0)
    }

    /// Whether searches currently walk an HNSW graph (false: exact scans only).
    pub fn has_graph(&self) -> bool {
        self.graph
            .read_or(poisoned)
            .map(|g| g.is_some())
            .unwrap_or(false)
    }

    /// Whether `id` is stored.
    pub fn contains(&self, id: u64) -> bool {
        self.read()
            .map(|s| s.items.contains_key(&id))
            .unwrap_or(false)
    }

    /// All stored ids, in no particular order.
    pub fn ids(&self) -> Vec<u64> {
        self.read()
            .map(|s| s.items.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Whether the string key `key` is stored.
    pub fn contains_key(&self, key: &str) -> bool {
        self.read()
            .map(|s| s.keys.contains_key(key))
            .unwrap_or(false)
    }

    /// All stored string keys, in no particular order.
    pub fn keys(&self) -> Vec<String> {
        self.read()
            .map(|s| s.keys.keys().map(|k| k.to_string()).collect())
            .unwrap_or_default()
    }

    /// The number the string key `key` is stored under.
    pub fn id_of_key(&self, key: &str) -> Option<u64> {
        self.read().ok()?.keys.get(key).copied()
    }

    /// The string key stored under `id`, if it was added by key.
    pub fn key_of(&self, id: u64) -> Option<String> {
        Some(self.read().ok()?.items.get(&id)?.key.as_deref()?.to_owned())
    }

    /// The stored vector and payload of the string key `key`.
    pub fn get_keyed(&self, key: &str) -> Option<Entry> {
        self.get(self.id_of_key(key)?)
    }

    /// Removes string keys (all or nothing: an unknown or repeated key removes none).
    pub fn remove_keyed<S: AsRef<str>>(&self, keys: &[S]) -> Result<()> {
        let ids = {
            let s = self.read()?;
            keys.iter()
                .map(|k| {
                    s.keys.get(k.as_ref()).copied().ok_or_else(|| {
                        Error::InvalidInput(format!("key {:?} is not in the index", k.as_ref()))
                    })
                })
                .collect::<Result<Vec<u64>>>()?
        };
        self.remove(&ids).map_err(|e| match e {
            Error::InvalidInput(m) if m.contains("appears twice") => {
                Error::InvalidInput("a key appears twice in this batch".into())
            }
            other => other,
        })
    }

    /// The stored vector and payload of `id`, or `None` when it is not stored.
    pub fn get(&self, id: u64) -> Option<Entry> {
        let s = self.read().ok()?;
        let item = s.items.get(&id)?;
        let d = self.config.dim;
        let n = item.node as usize;
        Some(Entry {
            vector: s.vectors[n * d..(n + 1) * d].to_vec(),
            payload: item.payload.clone(),
        })
    }

    /// Checks one vector and returns it as stored (normalised under cosine).
    fn prepare(&self, v: &[f32], what: impl Fn() -> String) -> Result<Vec<f32>> {
        if v.len() != self.config.dim {
            return Err(Error::Dimension {
                expected: self.config.dim,
                got: v.len(),
            });
        }
        if let Some(j) = v.iter().position(|x| !x.is_finite()) {
            return Err(Error::InvalidInput(format!(
                "{} has a non-finite component ({}) at position {j}",
                what(),
                v[j]
            )));
        }
        let mut out = v.to_vec();
        if self.config.metric == Metric::Cosine {
            let norm = kernels::dot(v, v).sqrt();
            if norm == 0.0 || !norm.is_finite() {
                return Err(Error::InvalidInput(format!(
                    "{} has length {norm}: cosine similarity needs a non-zero, finite vector",
                    what()
                )));
            }
            out.iter_mut().for_each(|x| *x /= norm);
        }
        Ok(out)
    }

    fn rows<'a>(&self, flat: &'a [f32], what: &str) -> Result<Vec<&'a [f32]>> {
        let d = self.config.dim;
        if !flat.len().is_multiple_of(d) {
            return Err(Error::InvalidInput(format!(
                "{what}: {} values is not a whole number of rows of dim {d}",
                flat.len()
            )));
        }
        Ok(flat.chunks_exact(d).collect())
    }
}

#[cfg(test)]
mod tests;
