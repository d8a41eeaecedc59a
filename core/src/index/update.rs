//! Adding, removing and compacting: the writer side of a [`SimilarityIndex`].

#[allow(clippy::wildcard_imports)]
use super::*;

/// The ids of an add: numbers as given, or string keys to number.
#[derive(Clone, Copy)]
pub(super) enum Ids<'a> {
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

impl SimilarityIndex {
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
            .inspect(|()| self.counters.added(ids.len()))
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
            .inspect(|()| self.counters.added(keys.len()))
    }

    pub(super) fn add_items(
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

        let _w = self.writer.lock_or(poisoned)?;
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
                        if let Some(c) = s.codes.as_mut() {
                            c.push(row);
                        }
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
    pub(super) fn grow_graph(&self, first_new: usize) -> Result<()> {
        let s = self.read()?;
        let has_graph = self.graph.read_or(poisoned)?.is_some();
        if has_graph {
            if let Some(g) = self.graph.write_or(poisoned)?.as_mut() {
                g.reserve(s.n_nodes());
            }
            let g = self.graph.read_or(poisoned)?;
            let mut retuned = None;
            if let Some(g) = g.as_ref() {
                // Tombstones stay in the graph: an add of the same vector may revive them.
                g.insert_range(&s.vectors, first_new..s.n_nodes(), parallel::parallelism());
                if s.live_nodes >= self.tuned().at_nodes.saturating_mul(2) {
                    retuned = Some(self.tune(&s, g));
                }
            }
            drop(g);
            drop(s);
            if let Some(t) = retuned {
                self.apply_tuning(t)?;
            }
        } else if s.live_nodes >= self.config.exact_below.max(1) {
            // Build off-lock: searches keep scanning exactly until the whole graph is ready.
            let g = self.build_graph(&s, parallel::parallelism());
            let t = self.tune(&s, &g);
            drop(s);
            self.apply_tuning(t)?;
            *self.graph.write_or(poisoned)? = Some(g);
        }
        Ok(())
    }

    /// A graph over every node of `s`. Built in parallel, the graph depends on how the threads
    /// interleave; on one thread it is a function of the vectors (levels come from row numbers).
    pub(super) fn build_graph(&self, s: &Store, parallel: bool) -> Graph {
        let c = &self.config;
        let mut g = Graph::new(c.dim, c.metric, c.m, c.ef_construction);
        g.reserve(s.n_nodes());
        g.insert_range(&s.vectors, 0..s.n_nodes(), parallel);
        g
    }

    /// The graph of a loaded index, built on one thread so that the same file gives the same
    /// graph, hence the same answers, on every load; the file's own tuning when it has one (no
    /// timing on load), else tuned as after a first build.
    pub(super) fn load_graph(&self, saved: Option<Tuning>) -> Result<()> {
        let s = self.read()?;
        if s.live_nodes < self.config.exact_below.max(1) {
            return Ok(());
        }
        let g = self.build_graph(&s, false);
        let t = saved.unwrap_or_else(|| self.tune(&s, &g));
        drop(s);
        self.apply_tuning(t)?;
        *self.graph.write_or(poisoned)? = Some(g);
        Ok(())
    }

    /// The graph's entry point and every node's links per level (tests of determinism).
    #[cfg(test)]
    pub(super) fn graph_dump(&self) -> Option<(u64, Vec<Vec<Vec<u32>>>)> {
        self.graph.read_or(poisoned).ok()?.as_ref().map(Graph::dump)
    }

    /// Removes ids; their nodes are never returned again. Fails without removing anything when
    /// an id is unknown or repeated. Space is reclaimed by [`compact`](Self::compact).
    pub fn remove(&self, ids: &[u64]) -> Result<()> {
        let _w = self.writer.lock_or(poisoned)?;
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
        self.counters.removed(ids.len());
        Ok(())
    }

    /// Number of stored nodes whose ids were all removed (still in memory until `compact`).
    pub fn n_tombstones(&self) -> usize {
        self.read().map(|s| s.n_nodes() - s.live_nodes).unwrap_or(0)
    }

    /// Drops removed vectors and rebuilds the graph from the live ones.
    pub fn compact(&self) -> Result<()> {
        let _w = self.writer.lock_or(poisoned)?;
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
                .then(|| self.build_graph(&fresh, parallel::parallelism()));
            let tuning = graph
                .as_ref()
                .map_or(Tuning::default(), |g| self.tune(&fresh, g));
            (fresh, graph, tuning)
        };
        // Searches see the new tuning with the old store for a moment: codes, when chosen,
        // come with the fresh store; until then a search that finds none scans exactly.
        let mut fresh = fresh;
        if tuning.rerank > 0 {
            fresh.codes = Some(Codes::build(
                &fresh.vectors,
                self.config.dim,
                self.config.metric == Metric::L2,
            ));
        }
        self.set_tuning(tuning)?;
        let mut s = self.write()?;
        *s = fresh;
        *self.graph.write_or(poisoned)? = graph;
        Ok(())
    }
}
