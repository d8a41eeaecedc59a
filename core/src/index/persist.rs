//! The saved form of a [`SimilarityIndex`] (`kind = "similarity_index"`).

#[allow(clippy::wildcard_imports)]
use super::*;

impl SimilarityIndex {
    pub(super) fn snapshot(&self) -> Result<Snapshot> {
        let has_graph = self.graph.read_or(poisoned)?.is_some();
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
            tuning: has_graph.then(|| {
                let t = self.tuned();
                SavedTuning {
                    ef: t.ef,
                    recall: t.recall,
                    exact: t.exact,
                    rerank: t.rerank,
                    at_nodes: t.at_nodes,
                }
            }),
        })
    }

    pub(super) fn from_snapshot(snap: Snapshot) -> Result<Self> {
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
        let saved = match snap.tuning {
            Some(t) if !(t.recall.is_finite() && (0.0..=1.0).contains(&t.recall)) => {
                return Err(Error::Corrupt(format!(
                    "the saved search tuning has recall {}",
                    t.recall
                )));
            }
            // Tuning picks from `TUNE_EFS` or the node count it was tuned at, for u32 nodes.
            Some(t)
                if t.at_nodes > u32::MAX as usize
                    || t.ef
                        > t.at_nodes
                            .max(super::tune::TUNE_EFS[super::tune::TUNE_EFS.len() - 1]) =>
            {
                return Err(Error::Corrupt(format!(
                    "the saved search tuning has ef {} at {} nodes",
                    t.ef, t.at_nodes
                )));
            }
            // The tuner picks the quantised scan's width from `TUNE_RERANKS`, never with exact
            // scans.
            Some(t)
                if t.rerank > super::tune::TUNE_RERANKS[super::tune::TUNE_RERANKS.len() - 1]
                    || (t.rerank > 0 && t.exact) =>
            {
                return Err(Error::Corrupt(format!(
                    "the saved search tuning reranks {} candidates at {} nodes{}",
                    t.rerank,
                    t.at_nodes,
                    if t.exact {
                        " while scanning exactly"
                    } else {
                        ""
                    }
                )));
            }
            t => t.map(|t| Tuning {
                ef: t.ef,
                recall: t.recall,
                exact: t.exact,
                rerank: t.rerank,
                at_nodes: t.at_nodes,
            }),
        };
        if !crate::models::verifying() {
            index.load_graph(saved)?;
        }
        Ok(index)
    }
}

/// The saved form: live vectors once each (base64 of little-endian f32), and every id with its
/// vector's row and payload. The graph is rebuilt on load.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Snapshot {
    pub(super) config: IndexConfig,
    pub(super) ids: Vec<u64>,
    pub(super) nodes: Vec<u32>,
    pub(super) payloads: Vec<Option<String>>,
    /// The string key of each id (`None` for ids added by number); absent when no id has one
    /// (files written before keys existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) keys: Vec<Option<String>>,
    pub(super) vectors: String,
    /// The search breadth chosen for the graph when saved (absent without a graph, and in files
    /// written before it was saved: tuned on load then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) tuning: Option<SavedTuning>,
}

/// [`Tuning`] as saved: a load reuses it, so the choice between graph and exact scan (timed
/// when tuning) is the same on every load.
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SavedTuning {
    ef: usize,
    recall: f32,
    exact: bool,
    /// Candidates of the quantised scan (absent when not chosen, and in files written before
    /// it existed). Its codes are not saved: a load rebuilds them in one pass over the vectors.
    #[serde(default, skip_serializing_if = "is_zero")]
    rerank: usize,
    at_nodes: usize,
}

fn is_zero(x: &usize) -> bool {
    *x == 0
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
