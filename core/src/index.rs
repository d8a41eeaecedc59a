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
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::Artifact;
use crate::parallel;

mod graph;
mod huge;
mod kernels;
mod sparse;
mod text_index;

use graph::Graph;
pub(crate) use sparse::SparseIndex;

pub use text_index::{
    Embedding, Fusion, PROJECTION_NNZ, TextHit, TextIndex, TextIndexConfig, project,
};

/// How two vectors are compared. Scores are reported so that the meaning of a threshold is the
/// natural one for each metric (see [`SearchOptions::threshold`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[serde(default, deny_unknown_fields)]
pub struct IndexConfig {
    /// Number of components of every vector (required, 1..=65536).
    pub dim: usize,
    /// Similarity measure (default cosine).
    pub metric: Metric,
    /// HNSW links per node and layer (layer 0 keeps twice as many); default 16.
    pub m: usize,
    /// Candidate list size while building the graph; default 200.
    pub ef_construction: usize,
    /// Candidate list size while searching when `target_recall` is `None` (and unless a search
    /// passes its own `ef`); default 64.
    pub ef_search: usize,
    /// Recall@10 the index aims for when it picks its own search breadth (default 0.95). When
    /// the graph is built (and again each time the index has doubled), the index searches a
    /// fixed sample of its own vectors at growing `ef` against exact answers and keeps the
    /// smallest `ef` whose measured recall reaches the target; when a search at that `ef` takes
    /// longer than an exact scan (timed on a few sample queries), searches scan exactly
    /// instead. The estimate is reported by
    /// [`SimilarityIndex::estimated_recall`]. `None` searches with `ef_search` as given.
    pub target_recall: Option<f32>,
    /// Below this many distinct vectors no graph is built and every search is an exact scan
    /// (default 8192: on 384-dim vectors an exact scan of 8192 takes 2-8 ms by machine load, far
    /// under a 50 ms budget, where an ef=64 graph search is faster but misses up to half of the
    /// true top 10 on high-dimensional data; see `docs/index.md` and `docs/benchmarks.md`).
    pub exact_below: usize,
    /// Most ids the index may hold; an `add` that would go past it fails with `InvalidInput`
    /// naming `max_items` and adds nothing (default `None`: no cap beyond memory and the 2^32 - 1
    /// distinct vectors a graph can address).
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

/// Restricts a search to some items. Results keep full recall however tight the filter: when few
/// items pass, the search scans exactly those items instead of walking the graph.
///
/// Payload conditions read the payload as a JSON object and look at one top-level field; an
/// item without a payload, or whose payload is not a JSON object, passes none of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Filter {
    /// Only these ids (unknown ids are ignored).
    Ids {
        /// The ids that may be returned.
        ids: Vec<u64>,
    },
    /// Only these string keys (see [`SimilarityIndex::add_keyed`]; unknown keys are ignored).
    Keys {
        /// The keys that may be returned.
        keys: Vec<String>,
    },
    /// Only items whose payload has `field` equal to `value`.
    Payload {
        /// Top-level field of the payload object.
        field: String,
        /// Required value (compared as JSON: `"db"` matches the string, `3` the number).
        value: serde_json::Value,
    },
    /// Only items whose payload has `field` equal to one of `values` (SQL `IN`).
    PayloadIn {
        /// Top-level field of the payload object.
        field: String,
        /// Accepted values, compared as JSON.
        values: Vec<serde_json::Value>,
    },
    /// Only items whose payload has a numeric `field` within the bounds (each optional, at
    /// least one given; a field that is not a JSON number never passes).
    Range {
        /// Top-level field of the payload object.
        field: String,
        /// Greater than or equal to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gte: Option<f64>,
        /// Strictly greater than.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gt: Option<f64>,
        /// Less than or equal to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lte: Option<f64>,
        /// Strictly less than.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lt: Option<f64>,
    },
    /// Items that pass every one of `filters` (at least one).
    And {
        /// The conditions, all required.
        filters: Vec<Filter>,
    },
}

impl Filter {
    /// Checks bounds and nesting; every search calls it.
    pub fn validate(&self) -> Result<()> {
        match self {
            Filter::Range {
                field,
                gte,
                gt,
                lte,
                lt,
            } => {
                let bounds = [gte, gt, lte, lt];
                if bounds.iter().all(|b| b.is_none()) {
                    return Err(Error::InvalidInput(format!(
                        "filter: range on {field:?} needs at least one of gte, gt, lte, lt"
                    )));
                }
                if let Some(b) = bounds.iter().flat_map(|b| **b).find(|b| !b.is_finite()) {
                    return Err(Error::InvalidInput(format!(
                        "filter: range on {field:?} has a non-finite bound {b}"
                    )));
                }
                Ok(())
            }
            Filter::And { filters } if filters.is_empty() => Err(Error::InvalidInput(
                "filter: `and` needs at least one filter".into(),
            )),
            Filter::And { filters } => filters.iter().try_for_each(Filter::validate),
            _ => Ok(()),
        }
    }

    /// Whether `payload` (already parsed when some condition needed it) passes every payload
    /// condition; id and key conditions are checked by the caller.
    fn payload_passes(&self, payload: &mut Parsed<'_>) -> bool {
        match self {
            Filter::Ids { .. } | Filter::Keys { .. } => true,
            Filter::Payload { field, value } => payload.field(field).is_some_and(|v| v == value),
            Filter::PayloadIn { field, values } => payload
                .field(field)
                .is_some_and(|v| values.iter().any(|w| w == v)),
            Filter::Range {
                field,
                gte,
                gt,
                lte,
                lt,
            } => payload
                .field(field)
                .and_then(|v| v.as_f64())
                .is_some_and(|x| {
                    gte.is_none_or(|b| x >= b)
                        && gt.is_none_or(|b| x > b)
                        && lte.is_none_or(|b| x <= b)
                        && lt.is_none_or(|b| x < b)
                }),
            Filter::And { filters } => filters.iter().all(|f| f.payload_passes(payload)),
        }
    }

    /// Payload fields this filter reads (a payload holding none of them is skipped unparsed).
    fn fields<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Filter::Payload { field, .. }
            | Filter::PayloadIn { field, .. }
            | Filter::Range { field, .. } => out.push(field),
            Filter::And { filters } => filters.iter().for_each(|f| f.fields(out)),
            Filter::Ids { .. } | Filter::Keys { .. } => {}
        }
    }

    /// The id sets the filter requires (`Ids` and `Keys` anywhere under `And`), resolved.
    fn id_sets(&self, s: &Store, out: &mut Vec<FxHashSet<u64>>) {
        match self {
            Filter::Ids { ids } => out.push(ids.iter().copied().collect()),
            Filter::Keys { keys } => out.push(
                keys.iter()
                    .filter_map(|k| s.keys.get(k.as_str()).copied())
                    .collect(),
            ),
            Filter::And { filters } => filters.iter().for_each(|f| f.id_sets(s, out)),
            _ => {}
        }
    }
}

/// A payload parsed at most once, on the first condition that reads it.
struct Parsed<'a> {
    text: Option<&'a str>,
    map: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

impl Parsed<'_> {
    fn field(&mut self, name: &str) -> Option<&serde_json::Value> {
        let text = self.text;
        self.map
            .get_or_insert_with(|| {
                text.filter(|t| t.trim_start().starts_with('{'))
                    .and_then(|t| serde_json::from_str(t).ok())
            })
            .as_ref()?
            .get(name)
    }
}

/// Per-search options.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
}

/// What the last tuning chose.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Tuning {
    /// `ef` for k = 10 (0: not tuned; the config's `ef_search` applies).
    ef: usize,
    /// Measured recall@10 on the sample at that `ef` (1.0 when searches scan exactly).
    recall: f32,
    /// Searches scan exactly: the graph would need about as much work for the target.
    exact: bool,
    /// Live vectors when tuned (tuned again once the index has doubled).
    at_nodes: usize,
}

/// Neighbours per query the tuning measures (recall@10, as the goal and benchmarks state it).
const TUNE_K: usize = 10;
/// Sample queries per tuning: the estimate's standard error at 0.95 is about 0.005.
const TUNE_QUERIES: usize = 200;
/// `ef` values tried, smallest first, until one meets the target (clipped to the index size).
const TUNE_EFS: [usize; 22] = [
    10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 768, 1024, 1536,
    2048,
];

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

/// Scored node: `key` is lower-is-closer for every metric (negated similarity for cosine/dot).
#[derive(Clone, Copy, PartialEq)]
struct Scored {
    key: f32,
    node: u32,
}

impl Eq for Scored {}
impl PartialOrd for Scored {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scored {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.key.total_cmp(&o.key).then(self.node.cmp(&o.node))
    }
}

/// A filter resolved against the store: which nodes may appear and which of their ids.
struct Allowed {
    nodes: Vec<u32>,
    node_mask: Vec<bool>,
    ids: Option<FxHashSet<u64>>,
}

/// The ids of an add: numbers as given, or string keys to number.
#[derive(Clone, Copy)]
enum Ids<'a> {
    Numbers(&'a [u64]),
    Keys(&'a [&'a str]),
}

impl Ids<'_> {
    fn len(&self) -> usize {
        match self {
            Ids::Numbers(i) => i.len(),
            Ids::Keys(k) => k.len(),
        }
    }

    fn name(&self, i: usize) -> String {
        match self {
            Ids::Numbers(ids) => format!("id {}", ids[i]),
            Ids::Keys(keys) => format!("key {:?}", keys[i]),
        }
    }
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
            store: RwLock::new(Store::default()),
            graph: RwLock::new(None),
            writer: Mutex::new(()),
            tuning: RwLock::new(Tuning::default()),
        })
    }

    /// Recall@10 the default search is estimated to reach: 1.0 while searches scan exactly
    /// (no graph yet, or exact scans chosen for `target_recall`), else the recall measured on a
    /// sample of the index's own vectors at [`effective_ef`](Self::effective_ef). `None` when
    /// `target_recall` is `None` and a graph is searched (nothing was measured).
    pub fn estimated_recall(&self) -> Option<f32> {
        let t = self.tuned();
        if !self.has_graph() || t.exact {
            return Some(1.0);
        }
        (t.ef > 0).then_some(t.recall)
    }

    /// The `ef` a search with k = 10 uses when it passes none: the tuned value under
    /// `target_recall`, else `ef_search`; 0 while searches scan exactly.
    pub fn effective_ef(&self) -> usize {
        let t = self.tuned();
        if !self.has_graph() || t.exact {
            0
        } else if t.ef > 0 {
            t.ef
        } else {
            self.config.ef_search
        }
    }

    fn tuned(&self) -> Tuning {
        self.tuning.read().map(|t| *t).unwrap_or_default()
    }

    /// The default `ef` for a search of `k`: the tuned breadth scales with `k` past 10.
    fn default_ef(&self, k: usize) -> usize {
        match self.tuned() {
            t if t.ef > 0 => t.ef.max(t.ef * k / TUNE_K),
            _ => self.config.ef_search,
        }
    }

    /// Picks the smallest `ef` that meets `target_recall` on two sets of sample queries: stored
    /// vectors (each one's own node left out of its answers: queries like the stored items) and
    /// the same vectors moved by Gaussian noise twice the data's spread (queries that fall
    /// between stored items, as fresh random queries do). The lower of the two recalls counts:
    /// measured on stored vectors alone, 20,000 random 128-d vectors read 0.956 where fresh
    /// queries found 0.897. Ties count as hits, as in ann-benchmarks: a found vector exactly as
    /// close as the true 10th is correct.
    fn tune(&self, s: &Store, g: &Graph) -> Tuning {
        let Some(target) = self.config.target_recall else {
            return Tuning::default();
        };
        let live: Vec<u32> = (0..s.n_nodes() as u32)
            .filter(|&n| !s.node_ids[n as usize].is_empty())
            .collect();
        let n = live.len();
        if n <= TUNE_K + 1 {
            return Tuning {
                exact: true,
                recall: 1.0,
                at_nodes: n,
                ..Tuning::default()
            };
        }
        // An even spread over the stored order (fixed: the same index tunes the same way).
        let step = (n / TUNE_QUERIES).max(1);
        let sample: Vec<u32> = live
            .iter()
            .copied()
            .step_by(step)
            .take(TUNE_QUERIES)
            .collect();
        let d = self.config.dim;
        let row = |n: u32| &s.vectors[n as usize * d..(n as usize + 1) * d];
        // (query, node to leave out of its answers)
        let mut queries: Vec<(Vec<f32>, Option<u32>)> =
            sample.iter().map(|&n| (row(n).to_vec(), Some(n))).collect();
        let spread = (sample
            .iter()
            .map(|&n| kernels::dot(row(n), row(n)) as f64)
            .sum::<f64>()
            / (sample.len() * d) as f64)
            .sqrt();
        let mut seed = 0x7e57_0fef_5eed_0000_u64;
        for &n in &sample {
            let mut q: Vec<f32> = row(n)
                .iter()
                .map(|&x| x + (2.0 * spread * gaussian(&mut seed)) as f32)
                .collect();
            if self.config.metric == Metric::Cosine {
                let norm = kernels::dot(&q, &q).sqrt();
                if norm > 0.0 && norm.is_finite() {
                    q.iter_mut().for_each(|x| *x /= norm);
                }
            }
            queries.push((q, None));
        }
        let refs: Vec<&[f32]> = queries.iter().map(|(q, _)| q.as_slice()).collect();
        let blocks: Vec<&[&[f32]]> = refs.chunks(16).collect();
        let truth: Vec<Vec<Scored>> =
            map_blocks(&blocks, |b| self.exact_scan(s, b, TUNE_K + 1, None))
                .into_iter()
                .flatten()
                .collect();
        // The true 10th-best key of each query, the left-out node skipped.
        let kth: Vec<f32> = truth
            .iter()
            .zip(&queries)
            .map(|(t, (_, skip))| {
                t.iter()
                    .filter(|sc| Some(sc.node) != *skip)
                    .take(TUNE_K)
                    .last()
                    .map_or(f32::INFINITY, |sc| sc.key)
            })
            .collect();
        let mask = Self::live_mask(s);
        let per_set = (sample.len() * TUNE_K) as f32;
        let mut chosen = Tuning::default();
        let two_m = 2 * self.config.m;
        for &ef in TUNE_EFS.iter().filter(|&&ef| ef < n).chain([&n]) {
            // A beam this wide visits about ef * 2m vectors at random; a contiguous exact scan
            // of all n is cheaper per vector, so from there on the scan is exact and no slower.
            if ef.saturating_mul(two_m) >= n {
                break;
            }
            let hits = parallel::map(&(0..queries.len()).collect::<Vec<_>>(), |&i| {
                let (q, skip) = &queries[i];
                let k = kth[i];
                self.graph_nodes(g, s, q, TUNE_K + 1, ef, mask.as_deref())
                    .into_iter()
                    .filter(|sc| Some(sc.node) != *skip)
                    .take(TUNE_K)
                    .filter(|sc| sc.key <= k + 1e-6 * k.abs().max(1.0))
                    .count()
            });
            let (stored, between) = hits.split_at(sample.len());
            let recall = |h: &[usize]| h.iter().sum::<usize>() as f32 / per_set;
            chosen = Tuning {
                ef,
                recall: recall(stored).min(recall(between)),
                exact: false,
                at_nodes: n,
            };
            if chosen.recall >= target {
                break;
            }
        }
        chosen.at_nodes = n;
        if chosen.ef > 0 && chosen.recall >= target {
            // The beam meets the target, but on large or high-dimensional data a wide beam's
            // random reads can cost more than one contiguous scan of every vector (measured:
            // 100,000 x 128 at ef = 1536 ran at a third of an exact scan's speed, while 20,000
            // x 128 at ef = 384 ran at twice its speed). No fixed ratio fits both, so time the
            // two on this machine, one query at a time, best of two rounds each.
            let probe: Vec<&[f32]> = queries.iter().take(32).map(|(q, _)| q.as_slice()).collect();
            let time = |f: &dyn Fn(&[f32])| {
                (0..2)
                    .map(|_| {
                        let t = std::time::Instant::now();
                        probe.iter().for_each(|q| f(q));
                        t.elapsed()
                    })
                    .min()
                    .unwrap_or_default()
            };
            let graph = time(&|q| {
                std::hint::black_box(self.graph_nodes(g, s, q, TUNE_K, chosen.ef, mask.as_deref()));
            });
            let scan = time(&|q| {
                std::hint::black_box(self.exact_nodes(s, q, TUNE_K, None));
            });
            if scan <= graph {
                chosen.exact = true;
            }
        }
        if chosen.ef == 0 || chosen.recall < target || chosen.exact {
            chosen.exact = true;
            chosen.recall = 1.0;
        }
        chosen
    }

    fn set_tuning(&self, t: Tuning) -> Result<()> {
        *self.tuning.write().map_err(|_| poisoned())? = t;
        Ok(())
    }

    /// The settings this index was created with.
    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.config.dim
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, Store>> {
        self.store.read().map_err(|_| poisoned())
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, Store>> {
        self.store.write().map_err(|_| poisoned())
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
        self.graph.read().map(|g| g.is_some()).unwrap_or(false)
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

    /// Adds `ids.len()` vectors (`vectors` holds them row after row) with optional payloads.
    ///
    /// Fails without changing anything on a wrong length, a non-finite component, a zero vector
    /// under cosine, or an id that is repeated or already stored.
    pub fn add(
        &self,
        ids: &[u64],
        vectors: &[f32],
        payloads: Option<Vec<Option<String>>>,
    ) -> Result<()> {
        self.add_items(Ids::Numbers(ids), vectors, payloads)
    }

    /// Adds vectors under string keys (any strings, e.g. `"inc-2041"`), with optional payloads.
    ///
    /// Each key is stored under a number of its own from [`KEY_ID_BASE`] up (a hit's `id`; its
    /// `key` is the string), kept in saved files. Keys and integer ids may share an index. Fails
    /// without changing anything on a key that is repeated or already stored, and for the same
    /// vector errors as [`add`](Self::add).
    pub fn add_keyed<S: AsRef<str>>(
        &self,
        keys: &[S],
        vectors: &[f32],
        payloads: Option<Vec<Option<String>>>,
    ) -> Result<()> {
        let keys: Vec<&str> = keys.iter().map(AsRef::as_ref).collect();
        self.add_items(Ids::Keys(&keys), vectors, payloads)
    }

    fn add_items(
        &self,
        ids: Ids<'_>,
        vectors: &[f32],
        payloads: Option<Vec<Option<String>>>,
    ) -> Result<()> {
        let n_ids = ids.len();
        let d = self.config.dim;
        if vectors.len() != n_ids * d {
            if n_ids == 1 || vectors.len() < d {
                return Err(Error::Dimension {
                    expected: d,
                    got: vectors.len() / n_ids.max(1),
                });
            }
            return Err(Error::InvalidInput(format!(
                "{n_ids} ids but {} values: expected {n_ids} rows of dim {d}",
                vectors.len(),
            )));
        }
        let mut payloads = match payloads {
            Some(p) if p.len() != n_ids => {
                return Err(Error::InvalidInput(format!(
                    "{n_ids} ids but {} payloads",
                    p.len()
                )));
            }
            Some(p) => p,
            None => vec![None; n_ids],
        };
        let rows = parallel::map(&(0..n_ids).collect::<Vec<_>>(), |&i| {
            self.prepare(&vectors[i * d..(i + 1) * d], || {
                format!("vector {i} ({})", ids.name(i))
            })
        })
        .into_iter()
        .collect::<Result<Vec<_>>>()?;

        let _w = self.writer.lock().map_err(|_| poisoned())?;
        let first_new = {
            let mut s = self.write()?;
            let (ids, mut keys): (Vec<u64>, Vec<Option<Box<str>>>) = match ids {
                Ids::Numbers(ids) => {
                    let mut seen = FxHashSet::default();
                    for &id in ids {
                        if s.items.contains_key(&id) {
                            return Err(Error::InvalidInput(format!(
                                "id {id} is already in the index"
                            )));
                        }
                        if !seen.insert(id) {
                            return Err(Error::InvalidInput(format!(
                                "id {id} appears twice in this batch"
                            )));
                        }
                    }
                    (ids.to_vec(), vec![None; ids.len()])
                }
                Ids::Keys(keys) => {
                    let mut seen = FxHashSet::default();
                    for &k in keys {
                        if s.keys.contains_key(k) {
                            return Err(Error::InvalidInput(format!(
                                "key {k:?} is already in the index"
                            )));
                        }
                        if !seen.insert(k) {
                            return Err(Error::InvalidInput(format!(
                                "key {k:?} appears twice in this batch"
                            )));
                        }
                    }
                    let mut next = s.next_key_id.max(KEY_ID_BASE);
                    let mut ids = Vec::with_capacity(keys.len());
                    for _ in keys {
                        while s.items.contains_key(&next) {
                            next = next.checked_add(1).ok_or_else(|| {
                                Error::InvalidInput("no numbers left for string keys".into())
                            })?;
                        }
                        ids.push(next);
                        next = next.wrapping_add(1);
                    }
                    s.next_key_id = next;
                    (ids, keys.iter().map(|k| Some(Box::from(*k))).collect())
                }
            };
            let total = s.items.len() + ids.len();
            if let Some(max) = self.config.max_items
                && total > max
            {
                return Err(Error::InvalidInput(format!(
                    "adding {} ids would make {total}, over max_items = {max} (raise max_items \
                     in the index config, or remove ids first)",
                    ids.len()
                )));
            }
            // Node numbers are u32 (the graph's links); u32::MAX is never a node.
            if s.n_nodes() + ids.len() >= u32::MAX as usize {
                return Err(Error::InvalidInput(format!(
                    "adding {} vectors would exceed the {} distinct vectors an index can hold",
                    ids.len(),
                    u32::MAX - 1
                )));
            }
            let first_new = s.n_nodes();
            // Room for every row up front, in huge-page-advised memory (see index/huge.rs).
            huge::reserve(&mut s.vectors, rows.len() * d);
            for (((&id, row), payload), key) in ids
                .iter()
                .zip(&rows)
                .zip(payloads.iter_mut())
                .zip(keys.iter_mut())
            {
                let h = hash_vector(row);
                let existing = s.by_hash.get(&h).and_then(|cands| {
                    cands.iter().copied().find(|&n| {
                        &s.vectors[n as usize * d..(n as usize + 1) * d] == row.as_slice()
                    })
                });
                let node = match existing {
                    Some(n) => {
                        if s.node_ids[n as usize].is_empty() {
                            s.live_nodes += 1; // a tombstone comes back to life
                        }
                        n
                    }
                    None => {
                        let n = s.n_nodes() as u32;
                        s.vectors.extend_from_slice(row);
                        s.node_ids.push(Vec::new());
                        s.by_hash.entry(h).or_default().push(n);
                        s.live_nodes += 1;
                        n
                    }
                };
                s.node_ids[node as usize].push(id);
                s.n_payloads += usize::from(payload.is_some());
                let key = key.take();
                if let Some(k) = &key {
                    s.keys.insert(k.clone(), id);
                }
                s.items.insert(
                    id,
                    Item {
                        node,
                        payload: payload.take(),
                        key,
                    },
                );
            }
            first_new
        };
        self.grow_graph(first_new)
    }

    /// Inserts nodes `first_new..` into the graph, or builds the graph once the index is large
    /// enough. Runs under the writer lock; searches continue meanwhile (the graph's write lock
    /// is taken only to make room for the new rows, a short copy).
    fn grow_graph(&self, first_new: usize) -> Result<()> {
        let s = self.read()?;
        let has_graph = self.graph.read().map_err(|_| poisoned())?.is_some();
        if has_graph {
            if let Some(g) = self.graph.write().map_err(|_| poisoned())?.as_mut() {
                g.reserve(s.n_nodes());
            }
            let g = self.graph.read().map_err(|_| poisoned())?;
            if let Some(g) = g.as_ref() {
                // Tombstones stay in the graph: an add of the same vector may revive them.
                g.insert_range(&s.vectors, first_new..s.n_nodes(), parallel::parallelism());
                if s.live_nodes >= 2 * self.tuned().at_nodes {
                    self.set_tuning(self.tune(&s, g))?;
                }
            }
        } else if s.live_nodes >= self.config.exact_below.max(1) {
            // Build off-lock: searches keep scanning exactly until the whole graph is ready.
            let g = self.build_graph(&s);
            let t = self.tune(&s, &g);
            drop(s);
            self.set_tuning(t)?;
            *self.graph.write().map_err(|_| poisoned())? = Some(g);
        }
        Ok(())
    }

    fn build_graph(&self, s: &Store) -> Graph {
        let c = &self.config;
        let mut g = Graph::new(c.dim, c.metric, c.m, c.ef_construction);
        g.reserve(s.n_nodes());
        g.insert_range(&s.vectors, 0..s.n_nodes(), parallel::parallelism());
        g
    }

    /// The graph's entry point and every node's links per level (tests of determinism).
    #[cfg(test)]
    fn graph_dump(&self) -> Option<(u64, Vec<Vec<Vec<u32>>>)> {
        self.graph.read().ok()?.as_ref().map(Graph::dump)
    }

    /// Removes ids; their nodes are never returned again. Fails without removing anything when
    /// an id is unknown or repeated. Space is reclaimed by [`compact`](Self::compact).
    pub fn remove(&self, ids: &[u64]) -> Result<()> {
        let _w = self.writer.lock().map_err(|_| poisoned())?;
        let mut s = self.write()?;
        let mut seen = FxHashSet::default();
        for &id in ids {
            if !s.items.contains_key(&id) {
                return Err(Error::InvalidInput(format!("id {id} is not in the index")));
            }
            if !seen.insert(id) {
                return Err(Error::InvalidInput(format!(
                    "id {id} appears twice in this batch"
                )));
            }
        }
        for id in ids {
            if let Some(item) = s.items.remove(id) {
                s.n_payloads -= usize::from(item.payload.is_some());
                if let Some(k) = &item.key {
                    s.keys.remove(k);
                }
                let list = &mut s.node_ids[item.node as usize];
                list.retain(|x| x != id);
                if list.is_empty() {
                    s.live_nodes -= 1;
                }
            }
        }
        Ok(())
    }

    /// Number of stored nodes whose ids were all removed (still in memory until `compact`).
    pub fn n_tombstones(&self) -> usize {
        self.read().map(|s| s.n_nodes() - s.live_nodes).unwrap_or(0)
    }

    /// Drops removed vectors and rebuilds the graph from the live ones.
    pub fn compact(&self) -> Result<()> {
        let _w = self.writer.lock().map_err(|_| poisoned())?;
        // Built under the read lock and swapped in after: the build runs on the thread pool,
        // whose threads may be searching this index and would wait forever on a held write
        // lock. Other writers wait on `writer`, so nothing changes meanwhile.
        let (fresh, graph, tuning) = {
            let old = self.read()?;
            let d = self.config.dim;
            let mut fresh = Store {
                vectors: huge::with_capacity(old.live_nodes * d),
                ..Store::default()
            };
            for (n, ids) in old.node_ids.iter().enumerate() {
                if ids.is_empty() {
                    continue;
                }
                let new_n = fresh.n_nodes() as u32;
                let v = &old.vectors[n * d..(n + 1) * d];
                fresh.vectors.extend_from_slice(v);
                fresh.by_hash.entry(hash_vector(v)).or_default().push(new_n);
                fresh.node_ids.push(ids.clone());
            }
            fresh.live_nodes = fresh.n_nodes();
            fresh.items = old.items.clone();
            fresh.n_payloads = old.n_payloads;
            fresh.keys = old.keys.clone();
            fresh.next_key_id = old.next_key_id;
            for (n, ids) in fresh.node_ids.iter().enumerate() {
                for id in ids {
                    if let Some(item) = fresh.items.get_mut(id) {
                        item.node = n as u32;
                    }
                }
            }
            let graph = (fresh.live_nodes >= self.config.exact_below.max(1))
                .then(|| self.build_graph(&fresh));
            let tuning = graph
                .as_ref()
                .map_or(Tuning::default(), |g| self.tune(&fresh, g));
            (fresh, graph, tuning)
        };
        self.set_tuning(tuning)?;
        let mut s = self.write()?;
        *s = fresh;
        *self.graph.write().map_err(|_| poisoned())? = graph;
        Ok(())
    }

    fn resolve_filter(&self, s: &Store, filter: &Filter) -> Allowed {
        let mut node_mask = vec![false; s.n_nodes()];
        let mut nodes = Vec::new();
        let mut ids = FxHashSet::default();
        let mut allow = |id: u64, node: u32| {
            ids.insert(id);
            if !node_mask[node as usize] {
                node_mask[node as usize] = true;
                nodes.push(node);
            }
        };
        let mut sets = Vec::new();
        filter.id_sets(s, &mut sets);
        let mut fields = Vec::new();
        filter.fields(&mut fields);
        // A payload that does not even contain a field's name cannot pass: skip parsing it.
        let may_pass = |p: Option<&str>| {
            fields.is_empty()
                || p.is_some_and(|p| {
                    p.trim_start().starts_with('{') && fields.iter().all(|f| p.contains(f))
                })
        };
        let mut check = |id: u64, item: &Item| {
            if sets.iter().all(|set| set.contains(&id)) && may_pass(item.payload.as_deref()) {
                let mut parsed = Parsed {
                    text: item.payload.as_deref(),
                    map: None,
                };
                if fields.is_empty() || filter.payload_passes(&mut parsed) {
                    allow(id, item.node);
                }
            }
        };
        match sets.iter().min_by_key(|set| set.len()) {
            // The smallest id set bounds the candidates: no walk over every item.
            Some(smallest) => {
                let mut cands: Vec<u64> = smallest.iter().copied().collect();
                cands.sort_unstable();
                for id in cands {
                    if let Some(item) = s.items.get(&id) {
                        check(id, item);
                    }
                }
            }
            None => {
                for (id, item) in &s.items {
                    check(*id, item);
                }
            }
        }
        nodes.sort_unstable();
        Allowed {
            nodes,
            node_mask,
            ids: Some(ids),
        }
    }

    fn score_of_key(&self, key: f32) -> f32 {
        match self.config.metric {
            Metric::Cosine | Metric::Dot => -key,
            Metric::L2 => key.max(0.0).sqrt(),
        }
    }

    fn passes(&self, score: f32, threshold: Option<f32>) -> bool {
        match threshold {
            None => true,
            Some(t) if self.config.metric.higher_is_better() => score >= t,
            Some(t) => score <= t,
        }
    }

    /// The `k` closest nodes among `candidates` (all live nodes when `None`), best first.
    fn exact_nodes(
        &self,
        s: &Store,
        q: &[f32],
        k: usize,
        candidates: Option<&[u32]>,
    ) -> Vec<Scored> {
        self.exact_scan(s, &[q], k, candidates)
            .pop()
            .unwrap_or_default()
    }

    /// Exact top `k` of every query in `qs`. The stored vectors pass in tiles of `EXACT_TILE`
    /// (they stay in cache while every query of the block is scored against them, 4 queries x
    /// 2 vectors per kernel pass), and each query keeps a bounded max-heap whose top is the
    /// threshold a new key must beat.
    fn exact_scan(
        &self,
        s: &Store,
        qs: &[&[f32]],
        k: usize,
        candidates: Option<&[u32]>,
    ) -> Vec<Vec<Scored>> {
        if k == 0 || qs.is_empty() {
            return vec![Vec::new(); qs.len()];
        }
        let d = self.config.dim;
        let l2 = self.config.metric == Metric::L2;
        let mut heaps: Vec<BinaryHeap<Scored>> = vec![BinaryHeap::with_capacity(k + 1); qs.len()];
        let mut nodes: Box<dyn Iterator<Item = u32>> = match candidates {
            Some(c) => Box::new(c.iter().copied()),
            None => {
                Box::new((0..s.n_nodes() as u32).filter(|&n| !s.node_ids[n as usize].is_empty()))
            }
        };
        let mut tile: Vec<u32> = Vec::with_capacity(EXACT_TILE);
        let mut rows: Vec<&[f32]> = Vec::with_capacity(EXACT_TILE);
        let mut keys = vec![0.0f32; qs.len() * EXACT_TILE];
        loop {
            tile.clear();
            tile.extend(nodes.by_ref().take(EXACT_TILE));
            if tile.is_empty() {
                break;
            }
            rows.clear();
            rows.extend(
                tile.iter()
                    .map(|&n| &s.vectors[n as usize * d..(n as usize + 1) * d]),
            );
            let out = &mut keys[..qs.len() * tile.len()];
            kernels::block(qs, &rows, l2, out);
            for (heap, row) in heaps.iter_mut().zip(out.chunks_exact(tile.len())) {
                for (&node, &x) in tile.iter().zip(row) {
                    let key = if l2 { x } else { -x };
                    if heap.len() < k {
                        heap.push(Scored { key, node });
                    } else if let Some(top) = heap.peek()
                        && key < top.key
                    {
                        heap.pop();
                        heap.push(Scored { key, node });
                    }
                }
            }
        }
        heaps.into_iter().map(BinaryHeap::into_sorted_vec).collect()
    }

    fn graph_nodes(
        &self,
        g: &Graph,
        s: &Store,
        q: &[f32],
        k: usize,
        ef: usize,
        mask: Option<&[bool]>,
    ) -> Vec<Scored> {
        // Keys are exact (the graph computes them with the same kernels); rows past the store's
        // end cannot occur (the graph only links stored rows), but skip them defensively.
        // Without tombstones every stored row is live: no per-hit look at its id list.
        let mut found = g.search(&s.vectors, q, k, ef, mask);
        if s.live_nodes == s.n_nodes() {
            found.retain(|sc| (sc.node as usize) < s.n_nodes());
        } else {
            found.retain(|sc| {
                s.node_ids
                    .get(sc.node as usize)
                    .is_some_and(|ids| !ids.is_empty())
            });
        }
        found
    }

    #[allow(clippy::too_many_arguments)] // one private call site per search kind
    fn search_prepared(
        &self,
        s: &Store,
        g: Option<&Graph>,
        q: &[f32],
        k: usize,
        opts: &SearchOptions,
        allowed: Option<&Allowed>,
        live: Option<&[bool]>,
    ) -> Vec<Hit> {
        let ef = opts.ef.unwrap_or_else(|| self.default_ef(k));
        let k_nodes = k.min(s.live_nodes);
        if k_nodes == 0 {
            return Vec::new();
        }
        let nodes = match (g, allowed) {
            (_, Some(a)) if a.nodes.is_empty() => Vec::new(),
            (Some(gs), Some(a))
                if !opts.exact
                    && (opts.ef.is_some() || !self.tuned().exact)
                    && !self.selective(a, s) =>
            {
                // A looser filter: walk the graph with a wider beam, scaled by how few pass.
                let ratio = (s.live_nodes as f32 / a.nodes.len() as f32).ceil() as usize;
                self.graph_nodes(
                    gs,
                    s,
                    q,
                    k_nodes,
                    ef.saturating_mul(ratio.min(8)),
                    Some(&a.node_mask),
                )
            }
            (_, Some(a)) => self.exact_nodes(s, q, k_nodes, Some(&a.nodes)),
            (Some(gs), None) if !opts.exact && (opts.ef.is_some() || !self.tuned().exact) => {
                self.graph_nodes(gs, s, q, k_nodes, ef, live)
            }
            (_, None) => self.exact_nodes(s, q, k_nodes, None),
        };
        self.expand(s, nodes, k, opts.threshold, allowed)
    }

    /// Best-first nodes → best-first ids (each node's ids in insertion order), cut at `k` and at
    /// the threshold, keeping only ids the filter allows.
    fn expand(
        &self,
        s: &Store,
        nodes: Vec<Scored>,
        k: usize,
        threshold: Option<f32>,
        allowed: Option<&Allowed>,
    ) -> Vec<Hit> {
        let mut hits = Vec::with_capacity(k.min(nodes.len() * 2));
        // Ask for every hit's id list before reading any: the lists are scattered heap blocks,
        // and reading them one after another cost a cache miss each (measured: the largest
        // cost of a small index's query after the graph walk). The header loads here are
        // independent, so they overlap.
        for sc in &nodes {
            if let Some(ids) = s.node_ids.get(sc.node as usize) {
                graph::prefetch(ids.as_ptr().cast(), 1);
            }
        }
        'outer: for sc in nodes {
            let score = self.score_of_key(sc.key);
            if !self.passes(score, threshold) {
                break;
            }
            for id in &s.node_ids[sc.node as usize] {
                if let Some(ids) = allowed.and_then(|a| a.ids.as_ref())
                    && !ids.contains(id)
                {
                    continue;
                }
                if hits.len() == k {
                    break 'outer;
                }
                let (payload, key) = if s.n_payloads == 0 && s.keys.is_empty() {
                    (None, None)
                } else {
                    s.items.get(id).map_or((None, None), |i| {
                        (i.payload.clone(), i.key.as_deref().map(str::to_owned))
                    })
                };
                hits.push(Hit {
                    id: *id,
                    key,
                    score,
                    payload,
                });
            }
        }
        hits
    }

    /// A filter that lets few nodes through is answered by scanning them: the graph would have
    /// to visit about `live / allowed` nodes per result.
    fn selective(&self, a: &Allowed, s: &Store) -> bool {
        a.nodes.len() <= self.config.exact_below.max(1) || a.nodes.len() * 10 <= s.live_nodes
    }

    /// Which nodes still hold ids, when some do not (the graph search must skip tombstones).
    fn live_mask(s: &Store) -> Option<Vec<bool>> {
        (s.live_nodes < s.n_nodes()).then(|| s.node_ids.iter().map(|ids| !ids.is_empty()).collect())
    }

    fn check_k(k: usize) -> Result<()> {
        if k == 0 {
            return Err(Error::InvalidInput("k must be at least 1".into()));
        }
        Ok(())
    }

    fn check_opts(&self, opts: &SearchOptions) -> Result<()> {
        if let Some(t) = opts.threshold
            && !t.is_finite()
        {
            return Err(Error::InvalidInput(format!("threshold {t} is not finite")));
        }
        if opts.ef == Some(0) {
            return Err(Error::InvalidInput("ef must be at least 1".into()));
        }
        if let Some(f) = &opts.filter {
            f.validate()?;
        }
        Ok(())
    }

    /// The `k` nearest ids of each query (`queries` holds rows of `dim` values), best first.
    /// Fewer than `k` come back when fewer items exist or pass the threshold and filter.
    /// Batches run on all cores.
    pub fn search(&self, queries: &[f32], k: usize, opts: &SearchOptions) -> Result<Vec<Vec<Hit>>> {
        Self::check_k(k)?;
        self.check_opts(opts)?;
        let rows = self.rows(queries, "queries")?;
        let prepared = rows
            .iter()
            .enumerate()
            .map(|(i, r)| self.prepare(r, || format!("query {i}")))
            .collect::<Result<Vec<_>>>()?;
        let s = self.read()?;
        let g = self.graph.read().map_err(|_| poisoned())?;
        let allowed = opts.filter.as_ref().map(|f| self.resolve_filter(&s, f));
        let live = Self::live_mask(&s);
        let scan = opts.exact || g.is_none() || (opts.ef.is_none() && self.tuned().exact);
        if allowed.is_none() && scan && prepared.len() > 1 {
            // Exact batch: blocks of queries share one pass over the stored vectors, so each
            // vector is read from memory once per block instead of once per query.
            let k_nodes = k.min(s.live_nodes);
            let refs: Vec<&[f32]> = prepared.iter().map(Vec::as_slice).collect();
            let block = EXACT_BLOCK.min(refs.len().div_ceil(rayon::current_num_threads()).max(4));
            let blocks: Vec<&[&[f32]]> = refs.chunks(block).collect();
            let found = map_blocks(&blocks, |b| self.exact_scan(&s, b, k_nodes, None));
            return Ok(found
                .into_iter()
                .flatten()
                .map(|nodes| self.expand(&s, nodes, k, opts.threshold, None))
                .collect());
        }
        Ok(parallel::map(&prepared, |q| {
            self.search_prepared(
                &s,
                g.as_ref(),
                q,
                k,
                opts,
                allowed.as_ref(),
                live.as_deref(),
            )
        }))
    }

    /// [`search`](Self::search) for one query vector.
    pub fn search_one(&self, query: &[f32], k: usize, opts: &SearchOptions) -> Result<Vec<Hit>> {
        Ok(self.search(query, k, opts)?.pop().unwrap_or_default())
    }

    /// Every id within `threshold` of `query` (score >= threshold for cosine/dot, distance <=
    /// threshold for l2), best first. With a graph this widens a k-nearest search until the
    /// boundary is reached; with `opts.exact` (or a small index) it is an exact scan.
    pub fn range_search(
        &self,
        query: &[f32],
        threshold: f32,
        opts: &SearchOptions,
    ) -> Result<Vec<Hit>> {
        let opts = SearchOptions {
            threshold: Some(threshold),
            ..opts.clone()
        };
        self.check_opts(&opts)?;
        let q = self.prepare(query, || "query".to_string())?;
        let s = self.read()?;
        let g = self.graph.read().map_err(|_| poisoned())?;
        let allowed = opts.filter.as_ref().map(|f| self.resolve_filter(&s, f));
        let live = Self::live_mask(&s);
        let total = s.items.len();
        let mut k = 64.min(total.max(1));
        loop {
            let hits = self.search_prepared(
                &s,
                g.as_ref(),
                &q,
                k,
                &opts,
                allowed.as_ref(),
                live.as_deref(),
            );
            if hits.len() < k || k >= total {
                return Ok(hits);
            }
            k = (k * 4).min(total);
        }
    }

    fn snapshot(&self) -> Result<Snapshot> {
        let s = self.read()?;
        let d = self.config.dim;
        let mut node_map = vec![u32::MAX; s.n_nodes()];
        let mut vectors = Vec::with_capacity(s.live_nodes * d);
        let mut next = 0u32;
        let (mut ids, mut nodes, mut payloads) = (Vec::new(), Vec::new(), Vec::new());
        let mut keys = Vec::new();
        // Ids in node order, then insertion order within a node: a stable, compact layout.
        for (n, list) in s.node_ids.iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            node_map[n] = next;
            vectors.extend_from_slice(&s.vectors[n * d..(n + 1) * d]);
            for id in list {
                ids.push(*id);
                nodes.push(next);
                let item = s.items.get(id);
                payloads.push(item.and_then(|i| i.payload.clone()));
                if !s.keys.is_empty() {
                    keys.push(item.and_then(|i| i.key.as_deref().map(str::to_owned)));
                }
            }
            next += 1;
        }
        Ok(Snapshot {
            config: self.config.clone(),
            ids,
            nodes,
            payloads,
            keys,
            vectors: kernels::f32s_to_base64(&vectors),
        })
    }

    fn from_snapshot(snap: Snapshot) -> Result<Self> {
        let index = Self::new(snap.config)?;
        let d = index.config.dim;
        let vectors = kernels::base64_to_f32s(&snap.vectors)
            .ok_or_else(|| Error::Corrupt("vectors are not valid base64 f32 data".into()))?;
        if !vectors.len().is_multiple_of(d) {
            return Err(Error::Corrupt(format!(
                "{} vector values are not whole rows of dim {d}",
                vectors.len()
            )));
        }
        let n_nodes = vectors.len() / d;
        if snap.nodes.len() != snap.ids.len()
            || snap.payloads.len() != snap.ids.len()
            || !(snap.keys.is_empty() || snap.keys.len() == snap.ids.len())
        {
            return Err(Error::Corrupt(
                "ids, nodes, payloads and keys differ in length".into(),
            ));
        }
        let mut keys = snap.keys.into_iter();
        if let Some(x) = vectors.iter().find(|x| !x.is_finite()) {
            return Err(Error::Corrupt(format!("a stored vector holds {x}")));
        }
        if let Some(max) = index.config.max_items
            && snap.ids.len() > max
        {
            return Err(Error::Corrupt(format!(
                "{} ids stored, over the file's own max_items = {max}",
                snap.ids.len()
            )));
        }
        {
            let mut s = index.write()?;
            // Copied into huge-page-advised memory: the walk's random reads hit fewer TLB misses.
            s.vectors = huge::with_capacity(vectors.len());
            s.vectors.extend_from_slice(&vectors);
            s.node_ids = vec![Vec::new(); n_nodes];
            for ((id, node), payload) in snap.ids.into_iter().zip(snap.nodes).zip(snap.payloads) {
                if node as usize >= n_nodes {
                    return Err(Error::Corrupt(format!(
                        "id {id} points at missing vector {node}"
                    )));
                }
                s.n_payloads += usize::from(payload.is_some());
                let key: Option<Box<str>> = keys.next().flatten().map(Box::from);
                if let Some(k) = &key {
                    if s.keys.insert(k.clone(), id).is_some() {
                        return Err(Error::Corrupt(format!("key {k:?} is stored twice")));
                    }
                    s.next_key_id = s.next_key_id.max(id.saturating_add(1));
                }
                if s.items.insert(id, Item { node, payload, key }).is_some() {
                    return Err(Error::Corrupt(format!("id {id} is stored twice")));
                }
                s.node_ids[node as usize].push(id);
            }
            for n in 0..n_nodes {
                if s.node_ids[n].is_empty() {
                    return Err(Error::Corrupt(format!("stored vector {n} has no id")));
                }
                let h = hash_vector(&s.vectors[n * d..(n + 1) * d]);
                s.by_hash.entry(h).or_default().push(n as u32);
            }
            s.live_nodes = n_nodes;
        }
        // The graph derives from the vectors alone; a save's check that its bytes load back
        // drops the index at once, so it skips the rebuild.
        if !crate::models::verifying() {
            index.grow_graph(0)?;
        }
        Ok(index)
    }
}

/// A standard normal draw (Box-Muller on a splitmix64 stream; deterministic for a seed).
fn gaussian(state: &mut u64) -> f64 {
    let mut next = || {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let (u, v) = (next().max(f64::MIN_POSITIVE), next());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Maps few, heavy items (blocks of queries) on all cores whenever there is more than one
/// (`parallel::map` waits for 256 items, right for single texts but not for blocks).
fn map_blocks<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    use rayon::prelude::*;
    if items.len() > 1 && parallel::parallelism() {
        items.par_iter().map(f).collect()
    } else {
        items.iter().map(f).collect()
    }
}

/// The saved form: live vectors once each (base64 of little-endian f32), and every id with its
/// vector's row and payload. The graph is rebuilt on load.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Snapshot {
    config: IndexConfig,
    ids: Vec<u64>,
    nodes: Vec<u32>,
    payloads: Vec<Option<String>>,
    /// The string key of each id (`None` for ids added by number); absent when no id has one
    /// (files written before keys existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    keys: Vec<Option<String>>,
    vectors: String,
}

impl Serialize for SimilarityIndex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        self.snapshot().map_err(S::Error::custom)?.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SimilarityIndex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        Self::from_snapshot(Snapshot::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// Saved as `similarity_index`: the vectors, ids, payloads and config. The graph is rebuilt on
/// load, with the same insertion order; with parallelism off the rebuilt graph is identical.
impl Artifact for SimilarityIndex {
    const KIND: &'static str = "similarity_index";
}

#[cfg(test)]
mod tests;
