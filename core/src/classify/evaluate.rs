//! Evaluation of a fitted classifier, and A/B comparison of two with McNemar's test.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::classifier::TextClassifier;
use super::design::check_lengths;
use super::report::ClassificationReport;
use crate::error::{Error, Result};

/// Evaluates a fitted classifier on labelled texts.
pub fn evaluate<S: AsRef<str> + Sync, L: AsRef<str>>(
    model: &TextClassifier,
    texts: &[S],
    labels: &[L],
) -> Result<ClassificationReport> {
    check_lengths(texts.len(), labels.len())?;
    if let Some(i) = labels.iter().position(|l| l.as_ref().is_empty()) {
        return Err(Error::InvalidInput(format!("label {i} is empty")));
    }
    let pred = model.predict(texts)?;
    ClassificationReport::from_labels(labels, &pred)
}

/// The outcome of [`compare`]: both reports and McNemar's test on the paired predictions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Model A's report.
    pub a: ClassificationReport,
    /// Model B's report.
    pub b: ClassificationReport,
    /// `b.accuracy - a.accuracy`.
    pub accuracy_difference: f64,
    /// `b.macro_f1 - a.macro_f1`.
    pub macro_f1_difference: f64,
    /// Texts A got right and B wrong.
    pub a_only_correct: usize,
    /// Texts B got right and A wrong.
    pub b_only_correct: usize,
    /// Two-sided McNemar p-value (exact binomial when fewer than 25 texts disagree, else
    /// chi-squared with continuity correction).
    pub p_value: f64,
    /// `p_value < alpha`.
    pub significant: bool,
    /// The significance level used (0.05).
    pub alpha: f64,
    /// `"a"`, `"b"` or `"tie"` by accuracy.
    pub better: String,
}

impl Comparison {
    /// Whether B beats A by accuracy with a significant McNemar test.
    pub fn b_beats_a(&self) -> bool {
        self.better == "b" && self.significant
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "A: accuracy {:.4}, macro F1 {:.4}",
            self.a.accuracy, self.a.macro_f1
        )?;
        writeln!(
            f,
            "B: accuracy {:.4}, macro F1 {:.4}",
            self.b.accuracy, self.b.macro_f1
        )?;
        writeln!(
            f,
            "B - A: accuracy {:+.4}, macro F1 {:+.4}",
            self.accuracy_difference, self.macro_f1_difference
        )?;
        writeln!(
            f,
            "disagreements: A only right {}, B only right {}; McNemar p = {:.4} ({} at alpha {})",
            self.a_only_correct,
            self.b_only_correct,
            self.p_value,
            if self.significant {
                "significant"
            } else {
                "not significant"
            },
            self.alpha
        )?;
        write!(
            f,
            "better: {}",
            match self.better.as_str() {
                "tie" => "neither (tie)",
                "a" => "A",
                _ => "B",
            }
        )
    }
}

/// Two-sided McNemar p-value for `b` and `c` discordant pairs.
pub fn mcnemar_p_value(b: usize, c: usize) -> f64 {
    use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, DiscreteCDF};
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    if n < 25 {
        // Exact: under H0 each discordant pair goes either way with probability 1/2.
        let Ok(bin) = Binomial::new(0.5, n as u64) else {
            return 1.0;
        };
        return (2.0 * bin.cdf(b.min(c) as u64)).min(1.0);
    }
    let diff = (b as f64 - c as f64).abs() - 1.0;
    let stat = diff.max(0.0).powi(2) / n as f64;
    match ChiSquared::new(1.0) {
        Ok(chi) => (1.0 - chi.cdf(stat)).clamp(0.0, 1.0),
        Err(_) => 1.0,
    }
}

/// Evaluates A and B on the same labelled texts and tests whether they differ (McNemar).
/// Every label must be one at least one of the models knows.
pub fn compare<S: AsRef<str> + Sync, L: AsRef<str>>(
    a: &TextClassifier,
    b: &TextClassifier,
    texts: &[S],
    labels: &[L],
) -> Result<Comparison> {
    check_lengths(texts.len(), labels.len())?;
    if texts.is_empty() {
        return Err(Error::InvalidInput("no texts to compare on".into()));
    }
    let (ca, cb) = (a.classes()?, b.classes()?);
    for (i, l) in labels.iter().enumerate() {
        let l = l.as_ref();
        if l.is_empty() {
            return Err(Error::InvalidInput(format!("label {i} is empty")));
        }
        if !ca.iter().any(|c| c == l) && !cb.iter().any(|c| c == l) {
            return Err(Error::InvalidInput(format!(
                "label {l:?} (text {i}) was never seen by either model: compare on labels they were trained on"
            )));
        }
    }
    let pa = a.predict(texts)?;
    let pb = b.predict(texts)?;
    let mut a_only = 0;
    let mut b_only = 0;
    for ((x, y), l) in pa.iter().zip(&pb).zip(labels) {
        let l = l.as_ref();
        match (x == l, y == l) {
            (true, false) => a_only += 1,
            (false, true) => b_only += 1,
            _ => {}
        }
    }
    let ra = ClassificationReport::from_labels(labels, &pa)?;
    let rb = ClassificationReport::from_labels(labels, &pb)?;
    let p_value = mcnemar_p_value(a_only, b_only);
    let alpha = 0.05;
    let better = match b_only.cmp(&a_only) {
        std::cmp::Ordering::Greater => "b",
        std::cmp::Ordering::Less => "a",
        std::cmp::Ordering::Equal => "tie",
    };
    Ok(Comparison {
        accuracy_difference: rb.accuracy - ra.accuracy,
        macro_f1_difference: rb.macro_f1 - ra.macro_f1,
        a: ra,
        b: rb,
        a_only_correct: a_only,
        b_only_correct: b_only,
        p_value,
        significant: p_value < alpha,
        alpha,
        better: better.into(),
    })
}
