//! Training data after vectorising: labels checked and mapped to class ids, identical (row, label)
//! pairs merged into weighted samples, seeded stratified folds.

use std::collections::HashMap;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use crate::vectorize::CsrMatrix;

/// Training data after vectorising: rows, class ids, and a group id per sample (equal groups =
/// identical row and label).
pub(super) struct Design {
    pub(super) x: CsrMatrix,
    pub(super) y: Vec<usize>,
    pub(super) group: Vec<usize>,
    pub(super) n_groups: usize,
    pub(super) n_classes: usize,
}

/// A weighted, de-duplicated training set.
pub(super) struct Train {
    pub(super) x: CsrMatrix,
    pub(super) y: Vec<usize>,
    pub(super) w: Vec<f64>,
    pub(super) n_classes: usize,
}

impl Design {
    pub(super) fn new(x: CsrMatrix, y: Vec<usize>, n_classes: usize) -> Self {
        let mut map: FxHashMap<(usize, &[u32], Vec<u64>), usize> = FxHashMap::default();
        let mut group = Vec::with_capacity(y.len());
        for (i, &label) in y.iter().enumerate() {
            let (idx, val) = x.row(i);
            let bits: Vec<u64> = val.iter().map(|v| v.to_bits()).collect();
            let next = map.len();
            group.push(*map.entry((label, idx, bits)).or_insert(next));
        }
        let n_groups = map.len();
        drop(map);
        Design {
            x,
            y,
            group,
            n_groups,
            n_classes,
        }
    }

    /// The samples `idx` as a weighted set of distinct rows; also maps every sample to its row.
    pub(super) fn subset(&self, idx: &[usize]) -> (Train, Vec<usize>) {
        let mut slot = vec![usize::MAX; self.n_groups];
        let mut reps = Vec::new();
        let mut w = Vec::new();
        let mut of_sample = Vec::with_capacity(idx.len());
        for &i in idx {
            let g = self.group[i];
            if slot[g] == usize::MAX {
                slot[g] = reps.len();
                reps.push(i);
                w.push(0.0);
            }
            w[slot[g]] += 1.0;
            of_sample.push(slot[g]);
        }
        let mut m = CsrMatrix {
            indptr: vec![0],
            indices: Vec::new(),
            data: Vec::new(),
            n_rows: reps.len(),
            n_cols: self.x.n_cols,
        };
        for &i in &reps {
            let (ix, v) = self.x.row(i);
            m.indices.extend_from_slice(ix);
            m.data.extend_from_slice(v);
            m.indptr.push(m.indices.len());
        }
        let y = reps.iter().map(|&i| self.y[i]).collect();
        (
            Train {
                x: m,
                y,
                w,
                n_classes: self.n_classes,
            },
            of_sample,
        )
    }

    pub(super) fn all(&self) -> Vec<usize> {
        (0..self.y.len()).collect()
    }

    /// Seeded stratified folds: each class's samples are shuffled and dealt round-robin, starting
    /// where the previous class stopped, so folds differ in size by at most one.
    pub(super) fn folds(&self, k: usize, seed: u64) -> Vec<Vec<usize>> {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut by_class = vec![Vec::new(); self.n_classes];
        for (i, &c) in self.y.iter().enumerate() {
            by_class[c].push(i);
        }
        let mut folds = vec![Vec::new(); k];
        let mut next = 0;
        for members in &mut by_class {
            members.shuffle(&mut rng);
            for &i in members.iter() {
                folds[next % k].push(i);
                next += 1;
            }
        }
        for f in &mut folds {
            f.sort_unstable();
        }
        folds
    }
}

pub(super) fn complement(n: usize, fold: &[usize]) -> Vec<usize> {
    let mut out_of = vec![false; n];
    for &i in fold {
        out_of[i] = true;
    }
    (0..n).filter(|&i| !out_of[i]).collect()
}

pub(super) fn check_lengths(texts: usize, labels: usize) -> Result<()> {
    if texts != labels {
        return Err(Error::InvalidInput(format!(
            "texts and labels differ in length: {texts} texts, {labels} labels"
        )));
    }
    Ok(())
}

/// Checks a training batch and maps labels to class ids. With `known`, ids follow `known`'s
/// order and new labels are appended; without, classes are sorted.
pub(super) fn check_training<S: AsRef<str>, L: AsRef<str>>(
    texts: &[S],
    labels: &[L],
    known: Option<&[String]>,
) -> Result<(Vec<String>, Vec<usize>)> {
    check_lengths(texts.len(), labels.len())?;
    if texts.is_empty() {
        return Err(Error::InvalidInput("no training texts".into()));
    }
    if let Some(i) = labels.iter().position(|l| l.as_ref().trim().is_empty()) {
        return Err(Error::InvalidInput(format!(
            "label {i} is empty: every text needs a non-empty label"
        )));
    }
    let mut classes: Vec<String> = match known {
        Some(k) => k.to_vec(),
        None => {
            let mut c: Vec<String> = labels.iter().map(|l| l.as_ref().to_owned()).collect();
            c.sort_unstable();
            c.dedup();
            c
        }
    };
    let mut id: HashMap<String, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), i))
        .collect();
    let mut y = Vec::with_capacity(labels.len());
    for l in labels {
        let l = l.as_ref();
        let c = match id.get(l) {
            Some(&c) => c,
            None => {
                classes.push(l.to_owned());
                id.insert(l.to_owned(), classes.len() - 1);
                classes.len() - 1
            }
        };
        y.push(c);
    }
    Ok((classes, y))
}
