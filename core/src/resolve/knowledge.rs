//! The knowledge base: past error → solution pairs searched by TF-IDF cosine similarity.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::classify::novelty::{Calibrator, Observation};
use crate::error::{Error, Result};
use crate::index::SparseIndex;
use crate::vectorize::{CsrMatrix, LineTokens, TfidfConfig, TfidfVectorizer};

use super::answer::SimilarError;

/// One line of a knowledge-base JSONL file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KnowledgeLine {
    error: String,
    solution: String,
}

/// Past error → solution pairs, searched by TF-IDF cosine similarity.
///
/// The vectoriser is fitted on the errors given when the base is first built; pairs added later
/// (for example from feedback) are weighted with that vocabulary. Search is exact (an inverted
/// index over the sparse rows, the crate's `SparseIndex`, visits only pairs that share an n-gram
/// with the query).
#[derive(Clone, Debug)]
pub struct KnowledgeBase {
    errors: Vec<String>,
    solutions: Vec<String>,
    vectorizer: TfidfVectorizer,
    /// The errors' TF-IDF rows, item `i` = pair `i`. Errors that differ only in masked parts
    /// (numbers, ids, paths) have the same vector and share one row; scoring each distinct vector
    /// once keeps a search's cost at the number of distinct errors, not of pairs (10,000 Loghub
    /// pairs hold ~900 vectors).
    rows: SparseIndex,
    /// Pairs the vectoriser was fitted on.
    fitted_on: usize,
    /// `P(the top solution is right | similarity features)`, fitted on the base itself when the
    /// vectoriser is (see [`KnowledgeBase::confidence`]); `None` when the base cannot tell (one
    /// solution only, or every held-out pair right).
    calibrator: Option<Calibrator>,
}

/// Neighbours the similarity confidence looks at (the answer's margin and agreement).
pub(super) const CONFIDENCE_NEIGHBOURS: usize = 10;
/// Distinct rows the knowledge base's confidence model is fitted on at most (evenly spaced):
/// each costs two searches at build time.
const CALIBRATION_ROWS: usize = 1000;
/// Distinct errors a knowledge base needs before it fits a confidence model: with fewer, a
/// handful of held-out answers would set it, and the confidence is the whole text's similarity.
const MIN_CALIBRATION_ROWS: usize = 20;
/// Share of inputs assumed to match no solution in the base when fitting its confidence model
/// (the classifier's `novelty_prior` default).
const KNOWLEDGE_NOVELTY_PRIOR: f64 = 0.2;

/// Features of a similarity answer: `[s, -ln(1.01 - s), margin, agreement]` for the top
/// similarity `s`, its margin over the best neighbour with another solution, and the share of
/// the neighbours' similarity that backs the top solution.
fn similarity_features(hits: &[(f64, &str)]) -> Vec<f64> {
    let Some(&(s, top)) = hits.first() else {
        return vec![0.0, -(1.01f64).ln(), 0.0, 0.0];
    };
    let s = s.clamp(0.0, 1.0);
    let other = hits.iter().find(|h| h.1 != top).map_or(0.0, |h| h.0);
    let total: f64 = hits.iter().map(|h| h.0).sum();
    let backing: f64 = hits.iter().filter(|h| h.1 == top).map(|h| h.0).sum();
    let agreement = if total > 0.0 { backing / total } else { 0.0 };
    vec![s, -(1.01 - s).ln(), (s - other).max(0.0), agreement]
}

/// The stored strings followed by the new ones, borrowed (a refit's corpus).
fn stored_then_new<'a, S: AsRef<str>>(stored: &'a [String], new: &'a [S]) -> Vec<&'a str> {
    stored
        .iter()
        .map(String::as_str)
        .chain(new.iter().map(AsRef::as_ref))
        .collect()
}

/// What adding pairs to a [`KnowledgeBase`] does (see `KnowledgeBase::plan_add`).
pub(super) enum AddPlan {
    /// New rows weighted with the fitted vocabulary.
    Append(CsrMatrix),
    /// The base refitted on every pair, old and new.
    Rebuild(Box<KnowledgeBase>),
}

impl KnowledgeBase {
    /// Fits the vectoriser on `errors` and indexes the pairs.
    pub fn new<S: AsRef<str> + Sync>(
        config: TfidfConfig,
        errors: &[S],
        solutions: &[S],
    ) -> Result<Self> {
        Self::build(config, errors, solutions, None)
    }

    /// [`new`](Self::new), keeping `calibrator` instead of fitting one when given.
    fn build<S: AsRef<str> + Sync>(
        config: TfidfConfig,
        errors: &[S],
        solutions: &[S],
        calibrator: Option<Option<Calibrator>>,
    ) -> Result<Self> {
        check_pairs(errors, solutions)?;
        let mut vectorizer = TfidfVectorizer::new(config)?;
        vectorizer.fit(errors)?;
        let n = vectorizer.n_features()?;
        let rows = vectorizer.transform(errors)?;
        let mut kb = KnowledgeBase {
            errors: Vec::new(),
            solutions: Vec::new(),
            vectorizer,
            rows: SparseIndex::with_features(n),
            fitted_on: errors.len(),
            calibrator: None,
        };
        kb.index(errors, solutions, &rows)?;
        kb.calibrator = calibrator.unwrap_or_else(|| kb.fit_calibrator());
        Ok(kb)
    }

    /// Reads a JSONL file of `{"error": ..., "solution": ...}` lines (blank lines are skipped).
    /// A line that does not parse is an error naming its line number, unless `skip_invalid`, in
    /// which case it is skipped and logged; the count of skipped lines is returned alongside.
    pub fn read_jsonl(
        path: impl AsRef<Path>,
        skip_invalid: bool,
    ) -> Result<(Vec<String>, Vec<String>, usize)> {
        let path = path.as_ref();
        let body = std::fs::read_to_string(path).map_err(|e| Error::io_at(path, e))?;
        let (mut errors, mut solutions, mut skipped) = (Vec::new(), Vec::new(), 0);
        for (i, line) in body.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let parsed = serde_json::from_str::<KnowledgeLine>(line)
                .map_err(|e| e.to_string())
                .and_then(|k| {
                    if k.error.trim().is_empty() || k.solution.trim().is_empty() {
                        Err("empty error or solution".to_owned())
                    } else {
                        Ok(k)
                    }
                });
            match parsed {
                Ok(k) => {
                    errors.push(k.error);
                    solutions.push(k.solution);
                }
                Err(e) if skip_invalid => {
                    skipped += 1;
                    log::warn!("{} line {}: skipped: {e}", path.display(), i + 1);
                }
                Err(e) => {
                    return Err(Error::InvalidInput(format!(
                        "{} line {}: expected {{\"error\": string, \"solution\": string}}: {e}",
                        path.display(),
                        i + 1
                    )));
                }
            }
        }
        Ok((errors, solutions, skipped))
    }

    /// Adds pairs; returns how many were added. New pairs are weighted with the fitted
    /// vocabulary, and the vectoriser is refitted on every error (postings rebuilt) when a new
    /// error shares no n-gram with it or the base has grown by a tenth since the last fit, so
    /// pairs learned from feedback can always be found.
    pub fn add<S: AsRef<str> + Sync>(&mut self, errors: &[S], solutions: &[S]) -> Result<usize> {
        let plan = self.plan_add(errors, solutions)?;
        self.apply_add(plan, errors, solutions)
    }

    /// Works out what [`add`](Self::add) will do without changing the base: the new rows, or
    /// the whole refitted base. This is the part that runs on the thread pool, so the resolver
    /// does it under a read lock (searches go on) and only swaps the result in under the write
    /// lock: pool threads blocked on that lock could otherwise never run the refit's work.
    pub(super) fn plan_add<S: AsRef<str> + Sync>(
        &self,
        errors: &[S],
        solutions: &[S],
    ) -> Result<AddPlan> {
        check_pairs(errors, solutions)?;
        let rows = self.vectorizer.transform(errors)?;
        let unseen = (0..rows.n_rows).any(|i| rows.row(i).0.is_empty());
        let grown = (self.len() + errors.len()) * 10 >= self.fitted_on * 11;
        if !self.errors.is_empty() && (unseen || grown) {
            let all_errors = stored_then_new(&self.errors, errors);
            let all_solutions = stored_then_new(&self.solutions, solutions);
            // The confidence model is refitted with the vocabulary when the base has grown by a
            // tenth; a refit for a new word alone keeps it (feedback can add many new words).
            let keep = (!grown).then(|| self.calibrator.clone());
            return Ok(AddPlan::Rebuild(Box::new(KnowledgeBase::build(
                self.vectorizer.config().clone(),
                &all_errors,
                &all_solutions,
                keep,
            )?)));
        }
        Ok(AddPlan::Append(rows))
    }

    pub(super) fn apply_add<S: AsRef<str>>(
        &mut self,
        plan: AddPlan,
        errors: &[S],
        solutions: &[S],
    ) -> Result<usize> {
        match plan {
            AddPlan::Rebuild(kb) => {
                *self = *kb;
                Ok(errors.len())
            }
            AddPlan::Append(rows) => self.index(errors, solutions, &rows),
        }
    }

    fn index<S: AsRef<str>>(
        &mut self,
        errors: &[S],
        solutions: &[S],
        rows: &CsrMatrix,
    ) -> Result<usize> {
        let first = self.errors.len();
        if first + errors.len() > u32::MAX as usize {
            return Err(Error::InvalidInput(
                "knowledge base is full (2^32 pairs)".into(),
            ));
        }
        for i in 0..rows.n_rows {
            let (idx, val) = rows.row(i);
            self.rows.add(idx, val)?;
        }
        self.errors
            .extend(errors.iter().map(|e| e.as_ref().to_owned()));
        self.solutions
            .extend(solutions.iter().map(|e| e.as_ref().to_owned()));
        Ok(errors.len())
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The `k` most similar past errors (similarity > 0), best first; ties keep insertion order.
    pub fn search(&self, text: &str, k: usize) -> Result<Vec<SimilarError>> {
        let q: CsrMatrix = self.vectorizer.transform(&[text])?;
        self.search_row(q.row(0), k)
    }

    /// [`search`](Self::search), and the share of the whole text the similarities cover:
    /// `sqrt(1 - unseen)` for the text's mass on n-grams the base never saw (see
    /// `TfidfVectorizer::transform_with_unseen`). A similarity times it is the whole text's.
    pub fn search_whole(&self, text: &str, k: usize) -> Result<(Vec<SimilarError>, f64)> {
        self.search_whole_tokens(&self.vectorizer.line_tokens(text), k)
    }

    /// [`search_whole`](Self::search_whole) of a line already tokenised like the base's
    /// vectoriser tokenises (see [`vectorizer`](Self::vectorizer)).
    pub(super) fn search_whole_tokens(
        &self,
        tokens: &LineTokens,
        k: usize,
    ) -> Result<(Vec<SimilarError>, f64)> {
        let ((idx, val), unseen) = self.vectorizer.row_with_unseen(tokens)?;
        let whole = (1.0 - unseen).max(0.0).sqrt();
        Ok((self.search_row((&idx, &val), k)?, whole))
    }

    /// The vectoriser the errors are weighted with (it also tokenises queries).
    pub(super) fn vectorizer(&self) -> &TfidfVectorizer {
        &self.vectorizer
    }

    fn search_row(&self, (idx, val): (&[u32], &[f64]), k: usize) -> Result<Vec<SimilarError>> {
        let hits = self.rows.search(idx, val, k);
        Ok(hits
            .into_iter()
            .map(|(i, s)| SimilarError {
                id: u64::from(i),
                error: self.errors[i as usize].clone(),
                solution: self.solutions[i as usize].clone(),
                // Rounding can put identical rows a hair above 1.
                similarity: s.min(1.0),
            })
            .collect())
    }

    /// Number of distinct error vectors (pairs whose errors differ only in masked parts share one).
    pub fn distinct_vectors(&self) -> usize {
        self.rows.distinct()
    }

    /// The confidence model, fitted on the base itself. For (up to [`CALIBRATION_ROWS`])
    /// distinct stored errors: the answer the base gives with that one pair left out (right when
    /// its solution is the pair's, as for a repeat of a known error), and the answer with every
    /// pair of that solution left out (always wrong: an error whose fix the base does not hold).
    /// The second kind weighs [`KNOWLEDGE_NOVELTY_PRIOR`] of the whole.
    fn fit_calibrator(&self) -> Option<Calibrator> {
        let members = self.rows.groups();
        let n = members.len();
        if n < MIN_CALIBRATION_ROWS {
            return None;
        }
        let sample: Vec<usize> = (0..n).step_by(n.div_ceil(CALIBRATION_ROWS)).collect();
        let texts: Vec<&str> = sample
            .iter()
            .map(|&r| self.errors[members[r][0] as usize].as_str())
            .collect();
        let rows = self.vectorizer.transform(&texts).ok()?;
        let mut known = Vec::new();
        let mut unseen = Vec::new();
        for (i, &r) in sample.iter().enumerate() {
            let pair = members[r][0];
            let own = self.solutions[pair as usize].as_str();
            let (idx, val) = rows.row(i);
            // Rounding can put identical rows a hair above 1.
            let hits_of = |hits: Vec<(u32, f64)>| -> Vec<(f64, &str)> {
                hits.into_iter()
                    .map(|(p, s)| (s.min(1.0), self.solutions[p as usize].as_str()))
                    .collect()
            };
            let loo = hits_of(
                self.rows
                    .ranked(idx, val, CONFIDENCE_NEIGHBOURS, |p| p == pair),
            );
            if let Some(&(_, top)) = loo.first() {
                known.push(Observation {
                    x: similarity_features(&loo),
                    hit: top == own,
                    weight: members[r].len() as f64,
                });
            }
            let away = hits_of(self.rows.ranked(idx, val, CONFIDENCE_NEIGHBOURS, |p| {
                self.solutions[p as usize] == own
            }));
            if !away.is_empty() {
                unseen.push(Observation {
                    x: similarity_features(&away),
                    hit: false,
                    weight: 1.0,
                });
            }
        }
        let known_weight: f64 = known.iter().map(|o| o.weight).sum();
        if !unseen.is_empty() {
            let each = known_weight * KNOWLEDGE_NOVELTY_PRIOR
                / (1.0 - KNOWLEDGE_NOVELTY_PRIOR)
                / unseen.len() as f64;
            unseen.iter_mut().for_each(|o| o.weight = each);
        }
        known.extend(unseen);
        // Every feature grows with the evidence for the answer: none may lower the confidence.
        Calibrator::fit_increasing(&known, &[0, 1, 2, 3])
    }

    /// The probability that the top solution of `hits` (a search's answer for one text, best
    /// first; `whole` from [`search_whole`](Self::search_whole)) is right, from the base's own
    /// confidence model; the whole text's top similarity when the base has none (fewer than
    /// `MIN_CALIBRATION_ROWS` distinct errors, or one solution).
    pub fn confidence(&self, hits: &[SimilarError], whole: f64) -> f64 {
        let pairs: Vec<(f64, &str)> = hits
            .iter()
            .map(|h| (h.similarity * whole, h.solution.as_str()))
            .collect();
        let p = match (&self.calibrator, pairs.first()) {
            (_, None) => return 0.0,
            (Some(c), Some(_)) => c.probability(&similarity_features(&pairs)),
            // Too small a base to calibrate on: the whole text's similarity, as cautious as the
            // raw cosine or more.
            (None, Some(top)) => top.0,
        };
        // Past errors exactly as similar as the best one but with other solutions (texts that
        // differ only in masked parts, labelled differently) make the answer a draw among them.
        let best = pairs[0];
        let tied = pairs.iter().filter(|h| h.0 >= best.0).count();
        let backing = pairs
            .iter()
            .filter(|h| h.0 >= best.0 && h.1 == best.1)
            .count();
        p.min(backing as f64 / tied as f64)
    }
}

pub(super) fn check_pairs<S: AsRef<str>>(errors: &[S], solutions: &[S]) -> Result<()> {
    if errors.len() != solutions.len() {
        return Err(Error::InvalidInput(format!(
            "{} errors but {} solutions: they pair up one to one",
            errors.len(),
            solutions.len()
        )));
    }
    if let Some(i) = solutions.iter().position(|s| s.as_ref().trim().is_empty()) {
        return Err(Error::InvalidInput(format!("solution {i} is empty")));
    }
    Ok(())
}

#[derive(Serialize, Deserialize)]
struct KnowledgeState {
    errors: Vec<String>,
    solutions: Vec<String>,
    vectorizer: TfidfVectorizer,
    fitted_on: usize,
    /// Absent in files from before similarity confidence was calibrated: fitted at load.
    #[serde(default)]
    calibrator: Option<Calibrator>,
}

impl Serialize for KnowledgeBase {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        KnowledgeState {
            errors: self.errors.clone(),
            solutions: self.solutions.clone(),
            vectorizer: self.vectorizer.clone(),
            fitted_on: self.fitted_on,
            calibrator: self.calibrator.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for KnowledgeBase {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let st = KnowledgeState::deserialize(d)?;
        let n = st
            .vectorizer
            .n_features()
            .map_err(serde::de::Error::custom)?;
        check_pairs(&st.errors, &st.solutions).map_err(serde::de::Error::custom)?;
        let rows = st
            .vectorizer
            .transform(&st.errors)
            .map_err(serde::de::Error::custom)?;
        let mut kb = KnowledgeBase {
            errors: Vec::new(),
            solutions: Vec::new(),
            vectorizer: st.vectorizer,
            rows: SparseIndex::with_features(n),
            fitted_on: st.fitted_on,
            calibrator: None,
        };
        kb.index(&st.errors, &st.solutions, &rows)
            .map_err(serde::de::Error::custom)?;
        kb.calibrator = match st.calibrator {
            Some(c) if c.is_valid(4) => Some(c),
            Some(_) => {
                return Err(serde::de::Error::custom(
                    "the knowledge base's confidence model has the wrong number of weights",
                ));
            }
            None => kb.fit_calibrator(),
        };
        Ok(kb)
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::ResolverConfig;
    use super::*;

    /// Distinct-row search returns exactly what scoring every pair would: same pairs, same
    /// order (score, then insertion), same similarities, for every k.
    #[test]
    fn knowledge_search_equals_brute_force_over_pairs() {
        let errors: Vec<String> = (0..300)
            .map(|i| match i % 5 {
                0 => format!(
                    "connection refused to 10.0.0.{}:5432 after {} retries",
                    i % 7,
                    i
                ),
                1 => format!("disk quota exceeded on /var/lib/db{}", i % 3),
                2 => format!("worker {} timed out waiting for lock on table orders", i),
                3 => format!("user {} not found in directory shard {}", i % 11, i % 4),
                _ => format!(
                    "connection reset by peer while reading table orders shard {}",
                    i % 2
                ),
            })
            .collect();
        let solutions: Vec<String> = (0..300).map(|i| format!("fix_{}", i % 9)).collect();
        let config = ResolverConfig::default().knowledge_vectorizer;
        let kb = KnowledgeBase::new(config, &errors, &solutions).unwrap();
        assert!(
            kb.distinct_vectors() < errors.len() / 5,
            "{}",
            kb.distinct_vectors()
        );
        let all = kb.vectorizer.transform(&errors).unwrap();
        for query in [
            "connection refused to 10.9.9.9:6432 after 1 retries",
            "table orders lock timeout on shard 1",
            "disk quota",
            "connection",
            "nothing like it zzz",
        ] {
            let q = kb.vectorizer.transform(&[query]).unwrap();
            let mut brute: Vec<(u64, f64)> = (0..errors.len())
                .map(|j| (j as u64, q.cosine(0, &all, j)))
                .filter(|&(_, s)| s > 0.0)
                .collect();
            brute.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            for k in [1, 2, 3, 7, 50, 400] {
                let got: Vec<(u64, f64)> = kb
                    .search(query, k)
                    .unwrap()
                    .iter()
                    .map(|s| (s.id, s.similarity))
                    .collect();
                let want: Vec<(u64, f64)> = brute.iter().take(k).copied().collect();
                assert_eq!(got.len(), want.len(), "{query} k={k}");
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(g.0, w.0, "{query} k={k}");
                    assert!((g.1 - w.1.min(1.0)).abs() < 1e-9, "{query} k={k}");
                }
            }
        }
    }
}
