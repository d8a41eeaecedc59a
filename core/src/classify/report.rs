//! [`ClassificationReport`]: accuracy, per-class precision/recall/F1 and the confusion matrix.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Precision, recall, F1 and support of one class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// The label.
    pub label: String,
    /// Of the texts predicted as this label, the share that truly are.
    pub precision: f64,
    /// Of the texts truly of this label, the share predicted so.
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Texts truly of this label.
    pub support: usize,
}

/// Accuracy, per-class metrics, macro and weighted F1 and the confusion matrix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Every label seen in the truth or the predictions, sorted; the order of `per_class` and
    /// of the confusion matrix.
    pub labels: Vec<String>,
    /// Share of correct predictions.
    pub accuracy: f64,
    /// One entry per label.
    pub per_class: Vec<ClassMetrics>,
    /// Unweighted mean of per-class precision.
    pub macro_precision: f64,
    /// Unweighted mean of per-class recall.
    pub macro_recall: f64,
    /// Unweighted mean of per-class F1.
    pub macro_f1: f64,
    /// Per-class F1 weighted by support.
    pub weighted_f1: f64,
    /// `confusion[t][p]`: texts of label `t` predicted as `p` (indices into `labels`).
    pub confusion: Vec<Vec<usize>>,
    /// Texts evaluated.
    pub n_samples: usize,
}

impl ClassificationReport {
    /// The report for true and predicted labels of equal length (at least one).
    pub fn from_labels<T: AsRef<str>, P: AsRef<str>>(y_true: &[T], y_pred: &[P]) -> Result<Self> {
        if y_true.len() != y_pred.len() {
            return Err(Error::InvalidInput(format!(
                "true and predicted labels differ in length: {} and {}",
                y_true.len(),
                y_pred.len()
            )));
        }
        if y_true.is_empty() {
            return Err(Error::InvalidInput("no labels to evaluate".into()));
        }
        let mut labels: Vec<String> = y_true
            .iter()
            .map(|l| l.as_ref().to_owned())
            .chain(y_pred.iter().map(|l| l.as_ref().to_owned()))
            .collect();
        labels.sort_unstable();
        labels.dedup();
        let id: HashMap<&str, usize> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();
        let t: Vec<usize> = y_true.iter().map(|l| id[l.as_ref()]).collect();
        let p: Vec<usize> = y_pred.iter().map(|l| id[l.as_ref()]).collect();
        Ok(Self::from_ids(&t, &p, &labels))
    }

    pub(super) fn from_ids(t: &[usize], p: &[usize], labels: &[String]) -> Self {
        let k = labels.len();
        let mut confusion = vec![vec![0usize; k]; k];
        for (&a, &b) in t.iter().zip(p) {
            confusion[a][b] += 1;
        }
        let n = t.len();
        let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
        let mut per_class = Vec::with_capacity(k);
        for c in 0..k {
            let tp = confusion[c][c] as f64;
            let support: usize = confusion[c].iter().sum();
            let predicted: usize = confusion.iter().map(|r| r[c]).sum();
            let ratio = |a: f64, b: usize| if b == 0 { 0.0 } else { a / b as f64 };
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            per_class.push(ClassMetrics {
                label: labels[c].clone(),
                precision,
                recall,
                f1,
                support,
            });
        }
        let mean = |f: &dyn Fn(&ClassMetrics) -> f64| {
            per_class.iter().map(f).sum::<f64>() / k.max(1) as f64
        };
        let macro_precision = mean(&|m| m.precision);
        let macro_recall = mean(&|m| m.recall);
        let macro_f1 = mean(&|m| m.f1);
        let weighted_f1 = per_class
            .iter()
            .map(|m| m.f1 * m.support as f64)
            .sum::<f64>()
            / n.max(1) as f64;
        ClassificationReport {
            labels: labels.to_vec(),
            accuracy: correct as f64 / n.max(1) as f64,
            per_class,
            macro_precision,
            macro_recall,
            macro_f1,
            weighted_f1,
            confusion,
            n_samples: n,
        }
    }
}

impl fmt::Display for ClassificationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self
            .labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
            .max(12);
        writeln!(
            f,
            "{:>w$}  {:>9}  {:>9}  {:>9}  {:>7}",
            "", "precision", "recall", "f1-score", "support"
        )?;
        writeln!(f)?;
        for m in &self.per_class {
            writeln!(
                f,
                "{:>w$}  {:>9.4}  {:>9.4}  {:>9.4}  {:>7}",
                m.label, m.precision, m.recall, m.f1, m.support
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:>w$}  {:>9}  {:>9}  {:>9.4}  {:>7}",
            "accuracy", "", "", self.accuracy, self.n_samples
        )?;
        writeln!(
            f,
            "{:>w$}  {:>9.4}  {:>9.4}  {:>9.4}  {:>7}",
            "macro avg", self.macro_precision, self.macro_recall, self.macro_f1, self.n_samples
        )?;
        writeln!(
            f,
            "{:>w$}  {:>9}  {:>9}  {:>9.4}  {:>7}",
            "weighted avg", "", "", self.weighted_f1, self.n_samples
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "confusion matrix (rows: true, columns: predicted, in label order):"
        )?;
        for row in &self.confusion {
            let cells: Vec<String> = row.iter().map(|c| c.to_string()).collect();
            writeln!(f, "  [{}]", cells.join(" "))?;
        }
        Ok(())
    }
}
