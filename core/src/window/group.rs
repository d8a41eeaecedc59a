//! Incident grouping: incidents of different keys (codes, routes) whose sample messages say the
//! same thing are reported together. Each incident's samples become one TF-IDF vector (the
//! project's text pipeline masks numbers, ids and paths, so only the wording counts), and DBSCAN
//! (linfa-clustering) joins incidents whose cosine similarity reaches `min_similarity`.

use linfa::traits::Transformer;
use linfa_clustering::Dbscan;
use linfa_nn::CommonNearestNeighbour;
use linfa_nn::distance::L2Dist;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
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
    /// Largest vocabulary kept for the vectors (default 4,096): bounds the dense matrix DBSCAN
    /// works on to incidents x this.
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
    let mut dense = Array2::<f64>::zeros((live.len(), rows.n_cols.max(1)));
    for (i, &r) in live.iter().enumerate() {
        let (idx, val) = rows.row(r);
        for (&c, &v) in idx.iter().zip(val) {
            dense[[i, c as usize]] = v;
        }
    }
    let mut cluster = vec![None; samples.len()];
    if !live.is_empty() {
        // Rows have unit length, so |a - b|^2 = 2 (1 - cos): a similarity floor is a distance cap
        // (DBSCAN counts neighbours strictly inside it; the slack keeps "at least" inclusive).
        let eps = (2.0 * (1.0 - config.min_similarity)).max(0.0).sqrt() + 1e-9;
        let params = Dbscan::params_with(
            config.min_group_size,
            L2Dist,
            CommonNearestNeighbour::LinearSearch,
        )
        .tolerance(eps);
        let valid =
            linfa::ParamGuard::check(params).map_err(|e| Error::InvalidInput(e.to_string()))?;
        for (i, c) in valid.transform(&dense).into_iter().enumerate() {
            cluster[live[i]] = c;
        }
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
