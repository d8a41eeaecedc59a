//! [`SparseIndex`]: exact cosine search over sparse, L2-normalised vectors (TF-IDF rows, token
//! counts), through an inverted index. The one sparse search of the crate: the resolver's
//! knowledge base, [`group_incidents`](crate::group_incidents) and the
//! [`IncidentGrouper`](crate::IncidentGrouper) all find their neighbours here.
//!
//! Items are numbered in insertion order from 0. Identical vectors (log lines that differ only in
//! masked numbers, ids and paths) share one stored row that lists its items, so a search costs the
//! number of distinct vectors sharing a feature with the query, not the number of items. Scores
//! are inner products of the stored weights, accumulated over the query's features in order, so
//! the same query against the same index always gives the same bits.

use std::cell::RefCell;

use rustc_hash::FxHashMap;

use crate::error::{Error, Result};

/// A row's (features, value bits): equal keys are identical vectors.
type RowKey = (Box<[u32]>, Box<[u64]>);

/// An inverted index over sparse vectors; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct SparseIndex {
    /// Feature → (distinct row, weight) for every distinct row holding the feature.
    postings: Vec<Vec<(u32, f64)>>,
    /// Distinct row → its items, ascending.
    members: Vec<Vec<u32>>,
    /// Distinct row → its first item (`members[r][0]`), kept flat for the ranking tie-break.
    first: Vec<u32>,
    /// A row's (features, value bits) → its distinct row.
    row_ids: FxHashMap<RowKey, u32>,
    /// Items added.
    len: usize,
}

thread_local! {
    /// Per-thread score accumulator of a search: (scores by distinct row, rows touched).
    static SCRATCH: RefCell<(Vec<f64>, Vec<u32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

impl SparseIndex {
    /// An empty index expecting features below `n_features` (more grow it).
    pub fn with_features(n_features: usize) -> Self {
        Self {
            postings: vec![Vec::new(); n_features],
            ..Self::default()
        }
    }

    /// Number of distinct vectors.
    pub fn distinct(&self) -> usize {
        self.members.len()
    }

    /// Items of each distinct vector, ascending, in the order the vectors were first added.
    pub fn groups(&self) -> &[Vec<u32>] {
        &self.members
    }

    /// Adds one vector (features ascending, weights positive, unit length for cosine) and
    /// returns its item number; fails only when 2^32 items are held.
    pub fn add(&mut self, features: &[u32], weights: &[f64]) -> Result<u32> {
        let item = u32::try_from(self.len)
            .ok()
            .filter(|&i| i < u32::MAX)
            .ok_or_else(|| Error::InvalidInput("sparse index is full (2^32 items)".into()))?;
        let key: RowKey = (
            features.into(),
            weights.iter().map(|v| v.to_bits()).collect(),
        );
        self.len += 1;
        if let Some(&r) = self.row_ids.get(&key) {
            self.members[r as usize].push(item);
            return Ok(item);
        }
        let r = self.members.len() as u32;
        if let Some(&top) = features.iter().max()
            && top as usize >= self.postings.len()
        {
            self.postings.resize(top as usize + 1, Vec::new());
        }
        for (&f, &w) in features.iter().zip(weights) {
            self.postings[f as usize].push((r, w));
        }
        self.members.push(vec![item]);
        self.first.push(item);
        self.row_ids.insert(key, r);
        Ok(item)
    }

    /// Calls `f(row, score)` once for every distinct row sharing a feature with the query whose
    /// score is positive, in first-touch order, and leaves the per-thread buffer clean.
    fn each_scored(&self, features: &[u32], weights: &[f64], mut f: impl FnMut(u32, f64)) {
        SCRATCH.with(|cell| {
            let (scores, touched) = &mut *cell.borrow_mut();
            if scores.len() < self.members.len() {
                scores.resize(self.members.len(), 0.0);
            }
            // Weights are positive, so a row's first touch is when its score is still 0.
            for (&q, &w) in features.iter().zip(weights) {
                let Some(list) = self.postings.get(q as usize) else {
                    continue;
                };
                for &(r, v) in list {
                    let s = &mut scores[r as usize];
                    if *s == 0.0 {
                        touched.push(r);
                    }
                    *s += w * v;
                }
            }
            for &r in touched.iter() {
                let s = std::mem::take(&mut scores[r as usize]);
                if s > 0.0 {
                    f(r, s);
                }
            }
            touched.clear();
        });
    }

    /// The `k` items with the highest positive score, best first; equal scores in insertion
    /// order. Scores are not clamped (identical unit vectors may score a hair above 1).
    pub fn search(&self, features: &[u32], weights: &[f64], k: usize) -> Vec<(u32, f64)> {
        if k == 0 {
            return Vec::new();
        }
        // The k best rows by (score desc, first item asc) are kept in a small sorted list while
        // the touched rows are drained: k is small, and a full selection over every touched row
        // (most rows when the query holds a common feature such as `<num>`) is the slow part.
        let mut best: Vec<(f64, u32, u32)> = Vec::with_capacity(k + 1);
        self.each_scored(features, weights, |r, s| {
            if best.len() == k {
                let last = best[k - 1];
                if s < last.0 || (s == last.0 && self.first[r as usize] > last.1) {
                    return;
                }
            }
            let cand = (s, self.first[r as usize], r);
            let at = best.partition_point(|b| b.0 > cand.0 || (b.0 == cand.0 && b.1 < cand.1));
            best.insert(at, cand);
            best.truncate(k);
        });
        // The k best rows by (score, first item) hold the k best items by (score, item): a row
        // ranked above one holding a top-k item has an item ranked above that item.
        let mut hits: Vec<(u32, f64)> = best
            .iter()
            .flat_map(|&(s, _, r)| {
                self.members[r as usize]
                    .iter()
                    .take(k)
                    .map(move |&p| (p, s))
            })
            .collect();
        hits.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        hits.truncate(k);
        hits
    }

    /// At most `k` items with a positive score that `skip` does not reject, grouped by vector:
    /// vectors by (score desc, first item asc), each vector's items in insertion order. Sorts
    /// every touched vector: for offline work (fitting a model on the index), not for serving.
    pub fn ranked(
        &self,
        features: &[u32],
        weights: &[f64],
        k: usize,
        skip: impl Fn(u32) -> bool,
    ) -> Vec<(u32, f64)> {
        let mut rows: Vec<(f64, u32)> = Vec::new();
        self.each_scored(features, weights, |r, s| rows.push((s, r)));
        rows.sort_unstable_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(self.first[a.1 as usize].cmp(&self.first[b.1 as usize]))
        });
        let mut out = Vec::with_capacity(k);
        for (s, r) in rows {
            for &p in &self.members[r as usize] {
                if out.len() == k {
                    return out;
                }
                if !skip(p) {
                    out.push((p, s));
                }
            }
        }
        out
    }

    /// Every item sharing a feature with the query (positive score), ascending, with its score.
    pub fn touching(&self, features: &[u32], weights: &[f64]) -> Vec<(u32, f64)> {
        let mut out = Vec::new();
        self.each_scored(features, weights, |r, s| {
            out.extend(self.members[r as usize].iter().map(|&p| (p, s)));
        });
        out.sort_unstable_by_key(|h| h.0);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit vector from (feature, weight) pairs.
    fn unit(v: &[(u32, f64)]) -> (Vec<u32>, Vec<f64>) {
        let n = v.iter().map(|x| x.1 * x.1).sum::<f64>().sqrt();
        (
            v.iter().map(|x| x.0).collect(),
            v.iter().map(|x| x.1 / n).collect(),
        )
    }

    fn brute(rows: &[(Vec<u32>, Vec<f64>)], q: &(Vec<u32>, Vec<f64>)) -> Vec<(u32, f64)> {
        let mut out: Vec<(u32, f64)> = rows
            .iter()
            .enumerate()
            .map(|(i, (f, w))| {
                let mut s = 0.0;
                for (a, x) in q.0.iter().zip(&q.1) {
                    if let Some(j) = f.iter().position(|b| b == a) {
                        s += x * w[j];
                    }
                }
                (i as u32, s)
            })
            .filter(|h| h.1 > 0.0)
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    #[test]
    fn search_equals_brute_force_with_duplicates_and_ties() {
        // A fixed-seed generator: small vocabulary, so duplicates and exact ties occur.
        let mut s = 0x5eed_u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let rows: Vec<(Vec<u32>, Vec<f64>)> = (0..300)
            .map(|_| {
                let mut v: Vec<(u32, f64)> = (0..1 + next() % 3)
                    .map(|_| ((next() % 12) as u32, (1 + next() % 2) as f64))
                    .collect();
                v.sort_by_key(|x| x.0);
                v.dedup_by_key(|x| x.0);
                unit(&v)
            })
            .collect();
        let mut ix = SparseIndex::with_features(4);
        for (f, w) in &rows {
            ix.add(f, w).unwrap();
        }
        assert_eq!(ix.groups().iter().map(Vec::len).sum::<usize>(), 300);
        assert!(ix.distinct() < 300);
        for q in rows.iter().take(40) {
            let all = brute(&rows, q);
            for k in [1, 3, 10, 500] {
                let got = ix.search(&q.0, &q.1, k);
                let want: Vec<(u32, f64)> = all.iter().take(k).copied().collect();
                assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(&want) {
                    assert!((g.1 - w.1).abs() < 1e-12, "{g:?} {w:?}");
                }
                // The same set of scores and, within equal scores, insertion order.
                let ids: Vec<u32> = got.iter().map(|h| h.0).collect();
                let mut sorted = got.clone();
                sorted.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                assert_eq!(ids, sorted.iter().map(|h| h.0).collect::<Vec<_>>());
            }
            let touching: Vec<u32> = ix.touching(&q.0, &q.1).iter().map(|h| h.0).collect();
            let mut want: Vec<u32> = all.iter().map(|h| h.0).collect();
            want.sort_unstable();
            assert_eq!(touching, want);
            let ranked = ix.ranked(&q.0, &q.1, 5, |p| p % 2 == 0);
            assert!(ranked.iter().all(|h| h.0 % 2 == 1));
            assert!(ranked.windows(2).all(|w| w[0].1 >= w[1].1));
        }
        // Unknown features and k = 0 find nothing.
        assert!(ix.search(&[999], &[1.0], 5).is_empty());
        assert!(ix.search(&rows[0].0, &rows[0].1, 0).is_empty());
    }
}
