//! k-nearest and range searches: exact scans, graph walks, and expanding nodes into ids.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Scored node: `key` is lower-is-closer for every metric (negated similarity for cosine/dot).
#[derive(Clone, Copy, PartialEq)]
pub(super) struct Scored {
    pub(super) key: f32,
    pub(super) node: u32,
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

impl SimilarityIndex {
    pub(super) fn score_of_key(&self, key: f32) -> f32 {
        match self.config.metric {
            Metric::Cosine | Metric::Dot => -key,
            Metric::L2 => key.max(0.0).sqrt(),
        }
    }

    pub(super) fn passes(&self, score: f32, threshold: Option<f32>) -> bool {
        match threshold {
            None => true,
            Some(t) if self.config.metric.higher_is_better() => score >= t,
            Some(t) => score <= t,
        }
    }

    /// The `k` closest nodes among `candidates` (all live nodes when `None`), best first.
    pub(super) fn exact_nodes(
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
    pub(super) fn exact_scan(
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

    pub(super) fn graph_nodes(
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
    pub(super) fn search_prepared(
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
                    && (opts.ef.is_some() || self.walks_by_default())
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
            (Some(_), None)
                if !opts.exact && opts.ef.is_none() && self.default_rerank(k_nodes) > 0 =>
            {
                match &s.codes {
                    Some(c) => self.quant_nodes(s, c, q, k_nodes, self.default_rerank(k_nodes)),
                    None => self.exact_nodes(s, q, k_nodes, None),
                }
            }
            (Some(gs), None) if !opts.exact && (opts.ef.is_some() || self.walks_by_default()) => {
                self.graph_nodes(gs, s, q, k_nodes, ef, live)
            }
            (_, None) => self.exact_nodes(s, q, k_nodes, None),
        };
        self.expand(s, nodes, k, opts.threshold, allowed)
    }

    /// Best-first nodes → best-first ids (each node's ids in insertion order), cut at `k` and at
    /// the threshold, keeping only ids the filter allows.
    pub(super) fn expand(
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
    pub(super) fn check_k(k: usize) -> Result<()> {
        if k == 0 {
            return Err(Error::InvalidInput("k must be at least 1".into()));
        }
        Ok(())
    }

    pub(super) fn check_opts(&self, opts: &SearchOptions) -> Result<()> {
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
        self.counters.searched(prepared.len());
        let s = self.read()?;
        let g = self.graph.read_or(poisoned)?;
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
        self.counters.searched(1);
        let s = self.read()?;
        let g = self.graph.read_or(poisoned)?;
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
}

/// Maps few, heavy items (blocks of queries) on all cores whenever there is more than one
/// (`parallel::map` waits for 256 items, right for single texts but not for blocks).
pub(super) fn map_blocks<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync + Send,
) -> Vec<R> {
    use rayon::prelude::*;
    if items.len() > 1 && parallel::parallelism() {
        items.par_iter().map(f).collect()
    } else {
        items.iter().map(f).collect()
    }
}
