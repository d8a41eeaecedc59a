//! Incident grouping: incidents of different keys (codes, routes) whose sample messages say the
//! same thing are reported together. Each incident's samples become one TF-IDF vector (the
//! project's text pipeline masks numbers, ids and paths, so only the wording counts), and DBSCAN
//! joins incidents whose cosine similarity reaches `min_similarity`. Neighbours come from the
//! crate's sparse search ([`SparseIndex`]): only incidents sharing a term are compared.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::index::SparseIndex;
use crate::vectorize::{TfidfConfig, TfidfVectorizer};

/// How [`group_incidents`] joins incidents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupConfig {
    /// Incidents whose samples have at least this cosine similarity are neighbours (default 0.5).
    pub min_similarity: f64,
    /// DBSCAN's `min_points`: an incident with this many neighbours, itself included, starts or
    /// extends a group (default 2, so any two similar incidents group). Incidents that join no
    /// group are groups of their own.
    pub min_group_size: usize,
    /// Largest vocabulary kept for the vectors (default 4,096): the most frequent terms of the
    /// incidents' samples.
    pub max_features: usize,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            min_similarity: 0.5,
            min_group_size: 2,
            max_features: 4096,
        }
    }
}

impl GroupConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if !(self.min_similarity > 0.0 && self.min_similarity <= 1.0) {
            return Err(Error::config(
                "min_similarity",
                format!(
                    "{} is invalid: need 0 < min_similarity <= 1",
                    self.min_similarity
                ),
            ));
        }
        if self.min_group_size < 2 {
            return Err(Error::config(
                "min_group_size",
                format!("{} is invalid: need at least 2", self.min_group_size),
            ));
        }
        if self.max_features == 0 {
            return Err(Error::config(
                "max_features",
                "0 is invalid: need at least 1",
            ));
        }
        Ok(())
    }
}

/// A group number per incident, given each incident's sample messages (`Incident::samples`):
/// incidents with the same number have similar messages. Numbers start at 0 and follow the
/// order of first appearance, so the result does not depend on DBSCAN's internal order.
/// Incidents without samples (or whose samples hold no token) are groups of their own.
pub fn group_incidents<S: AsRef<str>>(
    samples: &[Vec<S>],
    config: &GroupConfig,
) -> Result<Vec<usize>> {
    config.validate()?;
    let texts: Vec<String> = samples
        .iter()
        .map(|s| s.iter().map(AsRef::as_ref).collect::<Vec<_>>().join("\n"))
        .collect();
    let mut vectorizer = TfidfVectorizer::new(TfidfConfig {
        max_features: Some(config.max_features),
        ..TfidfConfig::default()
    })?;
    // A corpus without any token has no vocabulary (fitting would fail): every incident stands
    // alone. Any other fitting error is the caller's to see.
    let tokenless = |t: &String| match vectorizer.preprocessor() {
        Some(p) => p.tokens(t).is_empty(),
        None => t.split_whitespace().next().is_none(),
    };
    if texts.iter().all(tokenless) {
        return Ok((0..samples.len()).collect());
    }
    let rows = vectorizer.fit_transform(&texts)?;
    // Only incidents with a token take part: a zero vector is at distance 1 from every other,
    // so at a floor of 0.5 or less it would join everything into one group.
    let live: Vec<usize> = (0..rows.n_rows)
        .filter(|&r| !rows.row(r).0.is_empty())
        .collect();
    let mut index = SparseIndex::with_features(rows.n_cols);
    for &r in &live {
        let (idx, val) = rows.row(r);
        index.add(idx, val)?;
    }
    // Rows have unit length, so |a - b|^2 = 2 (1 - cos): a similarity floor is a distance cap
    // (neighbours are strictly inside it; the slack keeps "at least" inclusive). Rows sharing no
    // term are at squared distance ~2, beyond any cap unless the floor is within 1e-9 of 0:
    // then every row is a candidate.
    let eps = (2.0 * (1.0 - config.min_similarity)).max(0.0).sqrt() + 1e-9;
    let cap = eps.powi(2);
    let neighbours = |i: usize| -> Vec<usize> {
        let a = rows.row(live[i]);
        let candidates: Vec<usize> = if cap < 1.9 {
            index
                .touching(a.0, a.1)
                .into_iter()
                .map(|h| h.0 as usize)
                .collect()
        } else {
            (0..live.len()).collect()
        };
        candidates
            .into_iter()
            .filter(|&j| sq_distance(a, rows.row(live[j])) < cap)
            .collect()
    };
    let mut cluster = vec![None; samples.len()];
    for (i, c) in dbscan(live.len(), config.min_group_size, neighbours)
        .into_iter()
        .enumerate()
    {
        cluster[live[i]] = c;
    }
    let mut renumber = rustc_hash::FxHashMap::default();
    let mut next = 0;
    Ok((0..samples.len())
        .map(|i| {
            // DBSCAN's noise points and incidents without tokens are their own groups.
            let key = match cluster[i] {
                Some(c) => (0u8, c),
                None => (1u8, i),
            };
            *renumber.entry(key).or_insert_with(|| {
                next += 1;
                next - 1
            })
        })
        .collect())
}

/// Squared Euclidean distance of two sparse rows, summed column by column in ascending order
/// (a column absent from both adds nothing), as a dense scan sums it.
fn sq_distance((ia, va): (&[u32], &[f64]), (ib, vb): (&[u32], &[f64])) -> f64 {
    let (mut i, mut j, mut s) = (0, 0, 0.0f64);
    while i < ia.len() || j < ib.len() {
        let d = match (ia.get(i), ib.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
                va[i - 1] - vb[j - 1]
            }
            (Some(a), Some(b)) if a < b => {
                i += 1;
                va[i - 1]
            }
            (Some(_), None) => {
                i += 1;
                va[i - 1]
            }
            _ => {
                j += 1;
                -vb[j - 1]
            }
        };
        s += d * d;
    }
    s
}

/// DBSCAN over `n` points given each point's neighbours (itself included, ascending): a point
/// with at least `min_points` neighbours is a core point; clusters are numbered in the order of
/// their first core point, grow breadth first through core points, and a border point joins the
/// first cluster that reaches it. Points in no cluster are `None`.
fn dbscan(
    n: usize,
    min_points: usize,
    neighbours: impl Fn(usize) -> Vec<usize>,
) -> Vec<Option<usize>> {
    let mut cluster: Vec<Option<usize>> = vec![None; n];
    let mut queued = vec![false; n];
    let mut queue = VecDeque::new();
    let mut next = 0;
    for i in 0..n {
        if cluster[i].is_some() {
            continue;
        }
        let near = neighbours(i);
        if near.len() < min_points {
            continue;
        }
        for j in near {
            if cluster[j].is_none() && j != i {
                queued[j] = true;
                queue.push_back(j);
            }
        }
        cluster[i] = Some(next);
        while let Some(c) = queue.pop_front() {
            queued[c] = false;
            let near = neighbours(c);
            let core = near.len() >= min_points;
            let open: Vec<usize> = near
                .into_iter()
                .filter(|&j| cluster[j].is_none() && j != c)
                .collect();
            cluster[c] = Some(next);
            if core {
                for j in open {
                    if !queued[j] {
                        queue.push_back(j);
                        queued[j] = true;
                    }
                }
            }
        }
        next += 1;
    }
    cluster
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn incidents_with_the_same_wording_group_across_codes() {
        let samples = vec![
            s(&[
                "connection refused to db-1:5432 after 3 retries",
                "connection refused to db-2:5432 after 5 retries",
            ]),
            s(&["disk quota exceeded on /var/lib/data"]),
            s(&["connection refused to db-7:5432 after 9 retries"]),
            s(&["user 42 not found in directory"]),
            s(&["disk quota exceeded on /mnt/store"]),
            Vec::new(),
        ];
        let g = group_incidents(&samples, &GroupConfig::default()).unwrap();
        assert_eq!(g, vec![0, 1, 0, 2, 1, 3]);
        // A floor no pair reaches leaves every incident alone.
        let strict = GroupConfig {
            min_similarity: 1.0,
            ..GroupConfig::default()
        };
        let g = group_incidents(&samples[1..4], &strict).unwrap();
        assert_eq!(g, vec![0, 1, 2]);
    }

    #[test]
    fn similarity_floor_decides_membership() {
        // cos(a, b) for these two is between 0.2 and 0.9 (shared words, different rest).
        let samples = vec![
            s(&["payment gateway timeout upstream"]),
            s(&["payment gateway rejected card"]),
        ];
        let loose = GroupConfig {
            min_similarity: 0.2,
            ..GroupConfig::default()
        };
        let tight = GroupConfig {
            min_similarity: 0.9,
            ..GroupConfig::default()
        };
        assert_eq!(group_incidents(&samples, &loose).unwrap(), vec![0, 0]);
        assert_eq!(group_incidents(&samples, &tight).unwrap(), vec![0, 1]);
    }

    #[test]
    fn bad_config_and_empty_input() {
        let none: Vec<Vec<String>> = Vec::new();
        assert_eq!(
            group_incidents(&none, &GroupConfig::default()).unwrap(),
            Vec::<usize>::new()
        );
        let empty = vec![Vec::<String>::new(), vec![String::new()]];
        assert_eq!(
            group_incidents(&empty, &GroupConfig::default()).unwrap(),
            vec![0, 1]
        );
        for bad in [
            GroupConfig {
                min_similarity: 0.0,
                ..GroupConfig::default()
            },
            GroupConfig {
                min_similarity: f64::NAN,
                ..GroupConfig::default()
            },
            GroupConfig {
                min_group_size: 1,
                ..GroupConfig::default()
            },
            GroupConfig {
                max_features: 0,
                ..GroupConfig::default()
            },
        ] {
            assert!(
                matches!(
                    group_incidents(&empty, &bad),
                    Err(Error::InvalidConfig { .. })
                ),
                "{bad:?}"
            );
        }
    }
}
