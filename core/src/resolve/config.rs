//! Resolver settings: stage modes, thresholds, limits.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::vectorize::TfidfConfig;

/// Which stages `resolve` may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Rules, then similarity, then the classifier; the first above its threshold wins.
    Auto,
    /// Rules only.
    Rules,
    /// Similar past errors only.
    Similarity,
    /// The classifier only.
    Classifier,
}

impl Mode {
    /// Parses `auto`, `rules`, `similarity` or `classifier`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "auto" | "" => Ok(Mode::Auto),
            "rules" => Ok(Mode::Rules),
            "similarity" => Ok(Mode::Similarity),
            "classifier" => Ok(Mode::Classifier),
            _ => Err(Error::InvalidInput(format!(
                "unknown method {name:?}: expected auto, rules, similarity or classifier"
            ))),
        }
    }
}

/// Resolver settings (thresholds per stage, candidates kept, feedback, limits).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ResolverConfig {
    /// A rule answers when its confidence (always 1.0) reaches this. Default 1.0, in [0, 1].
    pub exact_threshold: f64,
    /// A similar past error answers when the probability that its solution is right (calibrated
    /// on the knowledge base, see `docs/resolve.md`) reaches this. Default 0.7, in [0, 1].
    pub similarity_threshold: f64,
    /// The classifier answers when the probability that its label is right (novelty included)
    /// reaches this. Default 0.8, in [0, 1].
    pub classifier_threshold: f64,
    /// Candidates kept per stage (similar errors, classifier labels). Default 3, 1..=10000.
    pub top_k: usize,
    /// Successful outcomes join the knowledge base. Default true.
    pub learn_from_feedback: bool,
    /// Longest text accepted, in bytes; longer input is an error rather than a slow call. Default 1
    /// MiB, at least 1.
    pub max_text_bytes: usize,
    /// Outcomes kept in memory for `outcomes()` (oldest dropped first). Default 10,000.
    pub max_outcomes: usize,
    /// How the knowledge base turns error texts into vectors.
    pub knowledge_vectorizer: TfidfConfig,
    /// An unanswered input is `novel` when its novelty (1 - its similarity to the nearest past
    /// error or training line) exceeds this. Default 0.5, in [0, 1].
    pub novelty_threshold: f64,
    /// Per-solution thresholds: an answer with one of these solutions is reliable only when its
    /// confidence reaches the solution's threshold, whatever stage gave it (a risky remedy can
    /// demand more certainty than its stage). Default none.
    pub solution_thresholds: Vec<SolutionThreshold>,
}

/// A threshold for one solution, overriding its stage's (see
/// [`ResolverConfig::solution_thresholds`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SolutionThreshold {
    /// The solution text, exactly as the rule, knowledge base or classifier gives it.
    pub solution: String,
    /// Confidence an answer with this solution needs, in [0, 1].
    pub threshold: f64,
}

impl Default for ResolverConfig {
    fn default() -> Self {
        ResolverConfig {
            exact_threshold: 1.0,
            similarity_threshold: 0.7,
            classifier_threshold: 0.8,
            top_k: 3,
            learn_from_feedback: true,
            max_text_bytes: 1 << 20,
            max_outcomes: 10_000,
            knowledge_vectorizer: TfidfConfig {
                ngram_range: (1, 2),
                sublinear_tf: true,
                ..Default::default()
            },
            novelty_threshold: 0.5,
            solution_thresholds: Vec::new(),
        }
    }
}

impl ResolverConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        for (field, v) in [
            ("exact_threshold", self.exact_threshold),
            ("similarity_threshold", self.similarity_threshold),
            ("classifier_threshold", self.classifier_threshold),
            ("novelty_threshold", self.novelty_threshold),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::config(
                    field,
                    format!("must be within [0, 1], got {v}"),
                ));
            }
        }
        for (i, st) in self.solution_thresholds.iter().enumerate() {
            if !(0.0..=1.0).contains(&st.threshold) {
                return Err(Error::config(
                    "solution_thresholds",
                    format!(
                        "entry {i} (`{}`): must be within [0, 1], got {}",
                        st.solution, st.threshold
                    ),
                ));
            }
            if self.solution_thresholds[..i]
                .iter()
                .any(|o| o.solution == st.solution)
            {
                return Err(Error::config(
                    "solution_thresholds",
                    format!("entry {i}: `{}` is given twice", st.solution),
                ));
            }
        }
        // Bounded: `resolve` allocates top_k + 1 candidates per stage.
        if !(1..=10_000).contains(&self.top_k) {
            return Err(Error::config(
                "top_k",
                format!("{} is out of range: need 1..=10000", self.top_k),
            ));
        }
        if self.max_text_bytes == 0 {
            return Err(Error::config("max_text_bytes", "must be at least 1"));
        }
        self.knowledge_vectorizer.validate()
    }
}
