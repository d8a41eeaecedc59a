//! Prediction: probabilities (each distinct row scored once), labels, and `predict_one`'s
//! confidence, novelty, alternatives and explanation.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::classifier::{Fitted, TextClassifier};
use super::design::check_lengths;
use super::linear::{Link, apply_link, argmax};
use super::novelty::support_features;
use super::prediction::Prediction;
use crate::error::{Error, Result};
use crate::parallel;
use crate::vectorize::{CsrMatrix, LineTokens, TfidfVectorizer};

impl TextClassifier {
    /// Probabilities of one row. Support-layout models with a softmax link skip `exp` for every
    /// class none of the row's features was seen with: its score is `intercept + base`, so its
    /// probability is a precomputed `exp(intercept / t)` times one per-row factor. (`base`, the
    /// shared weights' sum, is the same for all classes and cancels in the softmax.)
    pub(super) fn proba_into(&self, f: &Fitted, idx: &[u32], val: &[f64], out: &mut [f64]) {
        let (Some(sp), Some(ei)) = (&f.linear.support, &self.derived.exp_intercept) else {
            f.linear.scores_into(idx, val, out);
            apply_link(&f.link, out);
            return;
        };
        let (eb, top) = (&ei.0, ei.1);
        let t = match f.link {
            Link::Temperature { t } => t,
            _ => 1.0,
        };
        out.fill(0.0);
        for (&ft, &x) in idx.iter().zip(val) {
            let ft = ft as usize;
            if ft >= f.linear.n_features {
                continue;
            }
            let r = sp.rest[ft];
            let range = sp.range(ft);
            for (&c, &w) in sp.classes[range.clone()].iter().zip(&sp.weight[range]) {
                out[c as usize] += x * (w - r);
            }
        }
        // out[k] now holds the class's own offset; zero means "as if untouched" either way.
        let b = &f.linear.intercept;
        let m = out
            .iter()
            .zip(b)
            .filter(|(d, _)| **d != 0.0)
            .fold(top, |m, (d, bk)| m.max((bk + d) / t));
        let scale = (top - m).exp();
        let mut z = 0.0;
        for ((o, &bk), &e) in out.iter_mut().zip(b).zip(eb.iter()) {
            *o = if *o == 0.0 {
                e * scale
            } else {
                ((bk + *o) / t - m).exp()
            };
            z += *o;
        }
        let inv = 1.0 / z;
        out.iter_mut().for_each(|o| *o *= inv);
    }

    /// Row-major `n_rows x n_classes` probabilities. Each distinct TF-IDF row is scored once:
    /// log lines repeat after masking (Loghub's test lines have 2-30 times fewer distinct rows
    /// than lines), and equal rows get bit-identical probabilities either way.
    ///
    /// `outer[i]`, when given, is the row of `x` that output row `i` takes (texts repeated
    /// verbatim are vectorised once).
    pub(super) fn proba_flat(
        &self,
        f: &Fitted,
        x: &CsrMatrix,
        outer: Option<&[usize]>,
    ) -> Vec<f64> {
        let k = f.linear.n_classes;
        let n = x.n_rows;
        // slot[i]: the distinct row that row i equals; hash buckets chained through `next`.
        let mut slot = Vec::with_capacity(n);
        let mut distinct: Vec<usize> = Vec::new();
        let mut next: Vec<usize> = Vec::new();
        let mut head: FxHashMap<u64, usize> = FxHashMap::default();
        for i in 0..n {
            let (idx, val) = x.row(i);
            let mut h = rustc_hash::FxHasher::default();
            std::hash::Hash::hash(idx, &mut h);
            val.iter()
                .for_each(|v| std::hash::Hasher::write_u64(&mut h, v.to_bits()));
            let h = std::hash::Hasher::finish(&h);
            let mut at = head.get(&h).copied().unwrap_or(usize::MAX);
            while at != usize::MAX && x.row(distinct[at]) != (idx, val) {
                at = next[at];
            }
            if at == usize::MAX {
                at = distinct.len();
                next.push(head.insert(h, at).unwrap_or(usize::MAX));
                distinct.push(i);
            }
            slot.push(at);
        }
        let mut probs = vec![0.0; distinct.len() * k];
        let fill = |(d, out): (usize, &mut [f64])| {
            let (idx, val) = x.row(distinct[d]);
            self.proba_into(f, idx, val, out);
        };
        if k == 0 {
            return Vec::new();
        }
        if distinct.len() >= parallel::MIN_PARALLEL_BATCH && parallel::parallelism() {
            probs
                .par_chunks_mut(k)
                .enumerate()
                .with_min_len(64)
                .for_each(fill);
        } else {
            probs.chunks_mut(k).enumerate().for_each(fill);
        }
        if distinct.len() == n && outer.is_none() {
            return probs;
        }
        let rows = outer.map_or(n, <[usize]>::len);
        let mut out = Vec::with_capacity(rows * k);
        for r in 0..rows {
            let d = slot[outer.map_or(r, |o| o[r])];
            out.extend_from_slice(&probs[d * k..(d + 1) * k]);
        }
        out
    }

    /// TF-IDF rows of the distinct texts, and for each text the row it takes. Batches of log
    /// lines repeat whole lines (Loghub's test lines: 1.0-3.2 per distinct text), and masking
    /// each line is the largest cost of a batch prediction.
    pub(super) fn transform_distinct<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
    ) -> Result<(CsrMatrix, Option<Vec<usize>>)> {
        let mut index: FxHashMap<&str, usize> = FxHashMap::default();
        let mut first: Vec<&str> = Vec::new();
        let slot: Vec<usize> = texts
            .iter()
            .map(|t| {
                *index.entry(t.as_ref()).or_insert_with(|| {
                    first.push(t.as_ref());
                    first.len() - 1
                })
            })
            .collect();
        if first.len() == texts.len() {
            return Ok((self.vectorizer.transform(texts)?, None));
        }
        Ok((self.vectorizer.transform(&first)?, Some(slot)))
    }

    /// Probabilities per text, each row in [`classes`](Self::classes) order and summing to one.
    pub fn predict_proba<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<Vec<f64>>> {
        let f = self.fitted()?;
        let k = f.linear.n_classes;
        Ok(self
            .predict_proba_flat(texts)?
            .chunks(k.max(1))
            .map(<[f64]>::to_vec)
            .collect())
    }

    /// [`predict_proba`](Self::predict_proba) as one row-major `texts.len() x classes().len()`
    /// buffer (what the bindings hand out as a matrix): no allocation per row.
    pub fn predict_proba_flat<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<f64>> {
        let f = self.fitted()?;
        let (x, outer) = self.transform_distinct(texts)?;
        let out = self.proba_flat(f, &x, outer.as_deref());
        self.counters.record_rows(texts.len());
        Ok(out)
    }

    /// The most probable label per text.
    pub fn predict<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<String>> {
        let f = self.fitted()?;
        Ok(self
            .predict_proba_flat(texts)?
            .chunks(f.linear.n_classes.max(1))
            .map(|p| f.classes[argmax(p)].clone())
            .collect())
    }

    /// Accuracy on labelled texts (scikit-learn's `score`).
    pub fn score<S: AsRef<str> + Sync, L: AsRef<str>>(
        &self,
        texts: &[S],
        labels: &[L],
    ) -> Result<f64> {
        check_lengths(texts.len(), labels.len())?;
        if texts.is_empty() {
            return Err(Error::InvalidInput("no texts to score".into()));
        }
        let pred = self.predict(texts)?;
        let ok = pred
            .iter()
            .zip(labels)
            .filter(|(p, l)| p.as_str() == l.as_ref())
            .count();
        Ok(ok as f64 / texts.len() as f64)
    }

    /// The label of one text with its confidence, alternatives and the n-grams behind it.
    pub fn predict_one(&self, text: &str) -> Result<Prediction> {
        self.predict_one_tokens(&self.vectorizer.line_tokens(text))
    }

    /// [`predict_one`](Self::predict_one) of a line already tokenised by a vectoriser that
    /// [`tokenises_like`](Self::tokenises_like) this classifier's: the same row, unseen share
    /// and so the same prediction, without tokenising the line again.
    pub(crate) fn predict_one_tokens(&self, tokens: &LineTokens) -> Result<Prediction> {
        let f = self.fitted()?;
        let ((idx, val), unseen) = self.vectorizer.row_with_unseen(tokens)?;
        let p = self.explain_row(f, &idx, &val, unseen);
        self.counters.record(std::slice::from_ref(&p));
        Ok(p)
    }

    /// Whether `vectorizer` turns texts into the tokens this classifier's vectoriser does, so
    /// its [`LineTokens`] can go to [`predict_one_tokens`](Self::predict_one_tokens).
    pub(crate) fn tokenises_like(&self, vectorizer: &TfidfVectorizer) -> bool {
        self.vectorizer.tokenises_like(vectorizer)
    }

    /// [`predict_one`](Self::predict_one) for many texts (in parallel for large batches).
    pub fn predict_many<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<Prediction>> {
        let f = self.fitted()?;
        let (x, unseen) = self.vectorizer.transform_with_unseen(texts)?;
        let rows: Vec<usize> = (0..x.n_rows).collect();
        let preds = parallel::map(&rows, |&i| {
            let (idx, val) = x.row(i);
            self.explain_row(f, idx, val, unseen[i])
        });
        self.counters.record(&preds);
        Ok(preds)
    }

    /// The confidence that `best` (with class probability `p`) is right for the row, and the
    /// row's novelty; `unseen` is its mass outside the vocabulary (`transform_with_unseen`).
    pub(super) fn trust(
        &self,
        f: &Fitted,
        idx: &[u32],
        val: &[f64],
        unseen: f64,
        best: usize,
        p: f64,
    ) -> (f64, f64) {
        let Some(n) = &f.novelty else {
            return (p, 0.0);
        };
        let (any, own) = n.reference.nearest(idx, val, unseen, best, |_| true);
        let below = if own < n.support_floor {
            own / n.support_floor
        } else {
            1.0
        };
        let confidence = n
            .calibrator
            .as_ref()
            .map_or(p, |c| p * c.probability(&support_features(own)) * below);
        (confidence, 1.0 - any)
    }

    pub(super) fn explain_row(
        &self,
        f: &Fitted,
        idx: &[u32],
        val: &[f64],
        unseen: f64,
    ) -> Prediction {
        let k = f.linear.n_classes;
        let mut p = vec![0.0; k];
        self.proba_into(f, idx, val, &mut p);
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
        let best = order[0];
        let (confidence, novelty) = self.trust(f, idx, val, unseen, best, p[best]);
        // Alternatives keep their share of the class probabilities, on the same scale.
        let scale = if p[best] > 0.0 {
            confidence / p[best]
        } else {
            0.0
        };
        let alternatives = order
            .iter()
            .skip(1)
            .take(self.config.top_k)
            .map(|&c| (f.classes[c].clone(), (p[c] * scale).min(confidence)))
            .collect();
        let mut contrib: Vec<(usize, f64)> = idx
            .iter()
            .zip(val)
            .map(|(&ft, &v)| {
                let ft = ft as usize;
                let w = f.linear.weight(ft, best) - self.derived.coef_mean[ft];
                (ft, v * w)
            })
            .filter(|(_, c)| *c > 0.0)
            .collect();
        contrib.sort_by(|a, b| b.1.total_cmp(&a.1));
        let explanation = contrib
            .into_iter()
            .take(self.config.explain_top)
            .map(|(ft, c)| (self.derived.names[ft].clone(), c))
            .collect();
        Prediction {
            label: f.classes[best].clone(),
            confidence,
            reliable: confidence >= self.config.threshold,
            novelty,
            novel: novelty > self.config.novelty_threshold,
            alternatives,
            explanation,
        }
    }
}
