//! The rules → similarity → classifier cascade, its feedback and its saved form.

use crate::sync::{Mutex, RwLock};
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::classify::TextClassifier;
use crate::error::{Error, Result};
use crate::index::TextIndex;
use crate::models::Artifact;
use crate::parallel;

use super::answer::{LabelScore, Method, Outcome, Resolution};
use super::config::{Mode, ResolverConfig};
use super::feedback::{Feedback, FeedbackKey};
use super::knowledge::{CONFIDENCE_NEIGHBOURS, KnowledgeBase, check_pairs};
use super::metrics::{Metrics, MetricsSnapshot, OutcomeCounts};
use super::rules::Rules;
use super::source::{Knowledge, is_external};
use super::summary::ResolverSummary;

/// Texts whose answering method `record_outcome` can still attribute.
const RECENT_ANSWERS: usize = 4096;

/// What the resolver remembers of a recent answer, for `record_outcome`.
#[derive(Clone, Copy, Debug)]
struct Answered {
    text: u64,
    method: Method,
    matched: Option<(u64, f64)>,
    /// Index of the rule that answered.
    rule: Option<u32>,
}

/// Whether the knowledge base's tokens of a line serve the classifier too (equal preprocessing):
/// worked out once per change of either, not per line.
fn tokens_shared(knowledge: Option<&Knowledge>, classifier: Option<&TextClassifier>) -> bool {
    match (knowledge, classifier) {
        (Some(k), Some(c)) => k.tokenises_like(c),
        _ => false,
    }
}

/// The rules → similarity → classifier cascade.
///
/// `Send + Sync`: `resolve` takes `&self` and may run on many threads while another thread
/// records outcomes (which may add to the knowledge base under a write lock).
#[derive(Debug)]
pub struct Resolver {
    config: ResolverConfig,
    rules: Rules,
    knowledge: RwLock<Option<Knowledge>>,
    /// Held by `add_knowledge` for its whole call: one writer of the knowledge at a time.
    learn: Mutex<()>,
    classifier: Option<TextClassifier>,
    /// The knowledge base and the classifier preprocess alike, so `resolve` tokenises a line
    /// once for both. Worked out when either is set (the knowledge under its write lock) and
    /// read under the knowledge's read lock.
    shared_tokens: AtomicBool,
    metrics: Metrics,
    /// Recent answers, oldest first.
    recent: Mutex<VecDeque<Answered>>,
    outcomes: Mutex<VecDeque<Outcome>>,
    /// Outcomes per matched past error or label: an answer's confidence is multiplied by
    /// `(1 + successes) / (1 + successes + failures)`.
    feedback: RwLock<Feedback>,
    /// Whether `feedback` holds anything: until then every factor is 1 and `resolve` skips the
    /// lock and the lookups.
    has_feedback: AtomicBool,
    /// Outcomes per applied solution, whatever stage answered (for `summary`).
    by_solution: RwLock<BTreeMap<String, OutcomeCounts>>,
}

impl Default for Resolver {
    fn default() -> Self {
        Resolver::build(ResolverConfig::default())
    }
}

impl Resolver {
    /// A resolver with no stage configured yet.
    pub fn new(config: ResolverConfig) -> Result<Self> {
        config.validate()?;
        Ok(Resolver::build(config))
    }

    fn build(config: ResolverConfig) -> Self {
        Resolver {
            config,
            rules: Rules::default(),
            knowledge: RwLock::new(None, "resolver's knowledge base"),
            learn: Mutex::new((), "resolver's knowledge writer"),
            classifier: None,
            shared_tokens: AtomicBool::new(false),
            metrics: Metrics::default(),
            recent: Mutex::new(VecDeque::new(), "resolver's recent answers"),
            outcomes: Mutex::new(VecDeque::new(), "resolver's outcomes"),
            feedback: RwLock::new(Feedback::default(), "resolver's feedback"),
            has_feedback: AtomicBool::new(false),
            by_solution: RwLock::new(BTreeMap::new(), "resolver's per-solution outcomes"),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ResolverConfig {
        &self.config
    }

    /// Replaces the rules.
    pub fn set_rules(&mut self, rules: Rules) {
        self.rules = rules;
    }

    /// Replaces the rules with those of a JSON or TOML file (by extension).
    pub fn load_rules(&mut self, path: impl AsRef<Path>) -> Result<usize> {
        self.rules = Rules::from_file(path)?;
        Ok(self.rules.len())
    }

    /// The rules, in order.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Adds past error → solution pairs; the first call fits the knowledge base's vectoriser on
    /// its errors. Returns the knowledge base's new size.
    pub fn add_knowledge<S: AsRef<str> + Sync>(
        &self,
        errors: &[S],
        solutions: &[S],
    ) -> Result<usize> {
        // Writers take turns here, so what is worked out under the read lock below is still
        // true when it is swapped in. That work (vectorising, refitting) runs on the thread pool
        // and must not hold the write lock: `resolve_batch` tasks on the pool's threads would
        // block on it and the pool could never run the refit (a deadlock CI once hit).
        let _turn = self.learn.lock()?;
        let plan = {
            let kb = self.knowledge.read()?;
            match kb.as_ref() {
                Some(Knowledge::Base(k)) => Some(k.plan_add(errors, solutions)?),
                Some(Knowledge::Index(ix)) if is_external(ix) => {
                    return Err(Error::InvalidInput(
                        "the knowledge index holds external embeddings: add pairs with \
                         add_knowledge_embedded"
                            .into(),
                    ));
                }
                Some(Knowledge::Index(ix)) => {
                    // A TextIndex takes its own writer lock and swaps its state in briefly.
                    check_pairs(errors, solutions)?;
                    let payloads = solutions
                        .iter()
                        .map(|s| Some(s.as_ref().to_owned()))
                        .collect();
                    ix.add(errors, Some(payloads))?;
                    return Ok(ix.len());
                }
                None => None,
            }
        };
        let fresh = match plan {
            Some(_) => None,
            None => Some(KnowledgeBase::new(
                self.config.knowledge_vectorizer.clone(),
                errors,
                solutions,
            )?),
        };
        let mut kb = self.knowledge.write()?;
        match (kb.as_mut(), plan, fresh) {
            (Some(Knowledge::Base(k)), Some(plan), _) => {
                k.apply_add(plan, errors, solutions)?;
            }
            (None, _, Some(b)) => *kb = Some(Knowledge::Base(Box::new(b))),
            // Unreachable: only this function changes the knowledge through `&self`, one call
            // at a time (`set_knowledge_index` needs `&mut self`).
            _ => {
                return Err(Error::InvalidInput(
                    "the knowledge changed while pairs were being added".into(),
                ));
            }
        }
        let shared = tokens_shared(kb.as_ref(), self.classifier.as_ref());
        self.shared_tokens.store(shared, Ordering::Relaxed);
        Ok(kb.as_ref().map_or(0, Knowledge::len))
    }

    /// Adds pairs with the caller's embeddings of the errors (`embeddings` row after row) to a
    /// knowledge index of external embeddings (see [`set_knowledge_index`](Self::set_knowledge_index)).
    /// Returns the knowledge's new size.
    pub fn add_knowledge_embedded<S: AsRef<str> + Sync>(
        &self,
        errors: &[S],
        solutions: &[S],
        embeddings: &[f32],
    ) -> Result<usize> {
        check_pairs(errors, solutions)?;
        let kb = self.knowledge.read()?;
        match kb.as_ref() {
            Some(Knowledge::Index(ix)) if is_external(ix) => {
                let payloads = solutions
                    .iter()
                    .map(|s| Some(s.as_ref().to_owned()))
                    .collect();
                ix.add_embedded(errors, embeddings, Some(payloads))?;
                Ok(ix.len())
            }
            _ => Err(Error::InvalidInput(
                "no knowledge index of external embeddings: set one with set_knowledge_index \
                 (the built-in knowledge base computes its own vectors: use add_knowledge)"
                    .into(),
            )),
        }
    }

    /// Makes a copy of `index` the similarity stage's knowledge, replacing the built-in
    /// knowledge base (or an earlier index). Items' payloads are their solutions (items without
    /// one are never answered). With a TF-IDF index, `resolve` searches by text and
    /// `add_knowledge` / feedback add to it; with external embeddings, use `resolve_embedded`
    /// and `add_knowledge_embedded`, and feedback is recorded but not learned (there is no
    /// vector for it). Scores are the index's metric, compared with `similarity_threshold`.
    pub fn set_knowledge_index(&mut self, index: &TextIndex) -> Result<()> {
        let copy = TextIndex::from_bytes(&index.to_bytes()?)?;
        let mut kb = self.knowledge.write()?;
        *kb = Some(Knowledge::Index(Box::new(copy)));
        let shared = tokens_shared(kb.as_ref(), self.classifier.as_ref());
        self.shared_tokens.store(shared, Ordering::Relaxed);
        Ok(())
    }

    /// Whether the knowledge is a [`TextIndex`] of caller-computed embeddings (resolve with
    /// [`resolve_embedded`](Self::resolve_embedded) then).
    pub fn knowledge_is_embedded(&self) -> bool {
        // Accessors that cannot fail report nothing for a lock inherited across fork().
        self.knowledge
            .read()
            .is_ok_and(|kb| matches!(kb.as_ref(), Some(Knowledge::Index(ix)) if is_external(ix)))
    }

    /// Sets the classifier stage (replacing any earlier one); it must be fitted.
    pub fn set_classifier(&mut self, classifier: TextClassifier) -> Result<()> {
        if !classifier.is_fitted() {
            return Err(Error::NotFitted {
                what: "TextClassifier",
            });
        }
        self.classifier = Some(classifier);
        *self.shared_tokens.get_mut() =
            tokens_shared(self.knowledge.get_mut().as_ref(), self.classifier.as_ref());
        Ok(())
    }

    /// Sets the classifier stage from a classifier model file (written by `TextClassifier::save`
    /// in any language).
    pub fn load_classifier(&mut self, path: impl AsRef<Path>) -> Result<()> {
        self.set_classifier(TextClassifier::load(path)?)
    }

    /// The classifier stage, if set.
    pub fn classifier(&self) -> Option<&TextClassifier> {
        self.classifier.as_ref()
    }

    /// Adds the pairs of a JSONL file (see [`KnowledgeBase::read_jsonl`]); returns how many were added.
    pub fn load_knowledge(&self, path: impl AsRef<Path>, skip_invalid: bool) -> Result<usize> {
        let (errors, solutions, _) = KnowledgeBase::read_jsonl(path, skip_invalid)?;
        if errors.is_empty() {
            return Err(Error::InvalidInput(
                "the knowledge base file holds no pairs".into(),
            ));
        }
        self.add_knowledge(&errors, &solutions)?;
        Ok(errors.len())
    }

    /// Number of pairs in the knowledge base.
    pub fn knowledge_size(&self) -> usize {
        self.knowledge
            .read()
            .map_or(0, |kb| kb.as_ref().map_or(0, Knowledge::len))
    }

    fn check_text(&self, text: &str) -> Result<()> {
        if text.trim().is_empty() {
            return Err(Error::InvalidInput("empty error text".into()));
        }
        if text.len() > self.config.max_text_bytes {
            return Err(Error::InvalidInput(format!(
                "error text is {} bytes, over max_text_bytes = {}",
                text.len(),
                self.config.max_text_bytes
            )));
        }
        Ok(())
    }

    /// Resolves one error text with the stages `mode` allows.
    pub fn resolve(&self, text: &str, mode: Mode) -> Result<Resolution> {
        self.resolve_with(text, None, mode)
    }

    /// [`resolve`](Self::resolve) with the caller's embedding of `text`, for a knowledge index
    /// of external embeddings (rules and the classifier still read the text).
    pub fn resolve_embedded(
        &self,
        text: &str,
        embedding: &[f32],
        mode: Mode,
    ) -> Result<Resolution> {
        self.resolve_with(text, Some(embedding), mode)
    }

    fn resolve_with(
        &self,
        text: &str,
        embedding: Option<&[f32]>,
        mode: Mode,
    ) -> Result<Resolution> {
        let started = Instant::now();
        let result = self
            .check_text(text)
            .and_then(|()| self.cascade(text, embedding, mode));
        match result {
            Ok(mut r) => {
                let elapsed = started.elapsed();
                r.elapsed_us = elapsed.as_micros() as u64;
                self.metrics.record_resolution(
                    r.method,
                    r.confidence,
                    r.reliable,
                    r.novel,
                    elapsed.as_secs_f64(),
                );
                let matched = (r.method == Method::SimilarityMatch)
                    .then(|| r.similar.first().map(|h| (h.id, h.similarity)))
                    .flatten();
                let rule = r.rule.as_ref().and_then(|name| {
                    let i = self.rules.rules().iter().position(|x| &x.name == name)?;
                    Some(i as u32)
                });
                self.remember(text, r.method, matched, rule)?;
                Ok(r)
            }
            Err(e) => {
                self.metrics.record_error();
                Err(e)
            }
        }
    }

    /// Resolves many texts on all cores. Every text is checked first: one invalid text is an
    /// error naming its index, and nothing is resolved.
    pub fn resolve_batch<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        mode: Mode,
    ) -> Result<Vec<Resolution>> {
        self.check_batch(texts, mode)?;
        parallel::map(texts, |t| self.resolve(t.as_ref(), mode))
            .into_iter()
            .collect()
    }

    /// [`resolve_batch`](Self::resolve_batch) with the caller's embeddings of the texts
    /// (`embeddings` row after row, one row per text).
    pub fn resolve_batch_embedded<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        embeddings: &[f32],
        mode: Mode,
    ) -> Result<Vec<Resolution>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        if !embeddings.len().is_multiple_of(texts.len()) || embeddings.is_empty() {
            return Err(Error::InvalidInput(format!(
                "{} embedding values for {} texts: give one row of equal width per text",
                embeddings.len(),
                texts.len()
            )));
        }
        let dim = embeddings.len() / texts.len();
        self.check_batch(texts, mode)?;
        let rows: Vec<(&S, &[f32])> = texts.iter().zip(embeddings.chunks(dim)).collect();
        parallel::map(&rows, |(t, e)| self.resolve_embedded(t.as_ref(), e, mode))
            .into_iter()
            .collect()
    }

    /// Every text of a batch, then the stages: one invalid text fails the batch, naming its index.
    fn check_batch<S: AsRef<str>>(&self, texts: &[S], mode: Mode) -> Result<()> {
        for (i, t) in texts.iter().enumerate() {
            self.check_text(t.as_ref()).map_err(|e| {
                self.metrics.record_error();
                Error::InvalidInput(format!("text {i}: {e}"))
            })?;
        }
        self.check_stages(mode)
    }

    fn check_stages(&self, mode: Mode) -> Result<()> {
        let has_kb = self.knowledge_size() > 0;
        let has_classifier = self.classifier.is_some();
        let missing = match mode {
            Mode::Auto if self.rules.is_empty() && !has_kb && !has_classifier => {
                Some("no stage configured: add rules, a knowledge base or a classifier")
            }
            Mode::Rules if self.rules.is_empty() => Some("no rules configured"),
            Mode::Similarity if !has_kb => Some("no knowledge base configured"),
            Mode::Classifier if !has_classifier => Some("no classifier configured"),
            _ => None,
        };
        match missing {
            Some(m) => Err(Error::InvalidInput(m.into())),
            None => Ok(()),
        }
    }

    fn cascade(&self, text: &str, embedding: Option<&[f32]>, mode: Mode) -> Result<Resolution> {
        self.check_stages(mode)?;
        let mut r = Resolution {
            solution: None,
            confidence: 0.0,
            method: Method::NoMatch,
            reliable: false,
            novelty: 0.0,
            novel: false,
            rule: None,
            similar: Vec::new(),
            predictions: Vec::new(),
            elapsed_us: 0,
        };
        // The smallest novelty a stage measured (None until a stage that can tell runs).
        let mut novelty: Option<f64> = None;
        let feedback = if self.has_feedback.load(Ordering::Relaxed) {
            Some(self.feedback.read()?)
        } else {
            None
        };
        let factor = |key: FeedbackKey<'_>| {
            feedback.as_ref().and_then(|f| f.get(key)).map_or(1.0, |c| {
                (1.0 + c.success as f64) / (1.0 + (c.success + c.failure) as f64)
            })
        };
        // The line's tokens from the knowledge base, kept for the classifier when they are its too.
        let mut tokens = None;
        // The best answer below its threshold, returned (unreliable) when no stage is sure.
        let mut fallback: Option<(Method, String, f64, Option<String>)> = None;
        let mut consider = |r: &mut Resolution,
                            m: Method,
                            sol: &str,
                            conf: f64,
                            threshold: f64,
                            rule: Option<&str>| {
            let threshold = self
                .config
                .solution_thresholds
                .iter()
                .find(|st| st.solution == sol)
                .map_or(threshold, |st| st.threshold);
            if conf >= threshold {
                r.solution = Some(sol.to_owned());
                r.confidence = conf;
                r.method = m;
                r.reliable = true;
                r.rule = rule.map(str::to_owned);
                return true;
            }
            if fallback.as_ref().is_none_or(|f| conf > f.2) {
                fallback = Some((m, sol.to_owned(), conf, rule.map(str::to_owned)));
            }
            false
        };
        if matches!(mode, Mode::Auto | Mode::Rules)
            && let Some((_, rule)) = self.rules.first_match(text)
            && consider(
                &mut r,
                Method::ExactMatch,
                &rule.solution,
                1.0,
                self.config.exact_threshold,
                Some(&rule.name),
            )
        {
            return Ok(r);
        }
        if matches!(mode, Mode::Auto | Mode::Similarity) {
            let kb = self.knowledge.read()?;
            if let Some(kb) = kb.as_ref() {
                let (mut hits, whole, line) = kb.search_whole(
                    text,
                    embedding,
                    self.config.top_k.max(CONFIDENCE_NEIGHBOURS),
                )?;
                if self.shared_tokens.load(Ordering::Relaxed) {
                    tokens = line;
                }
                let confidence = kb.confidence(&hits, whole);
                hits.truncate(self.config.top_k);
                r.similar = hits;
                novelty = Some(1.0 - r.similar.first().map_or(0.0, |h| h.similarity) * whole);
                if let Some(top) = r.similar.first().cloned() {
                    let confidence = confidence
                        * factor(FeedbackKey::of(
                            Method::SimilarityMatch,
                            Some(top.id),
                            &top.solution,
                        ));
                    if consider(
                        &mut r,
                        Method::SimilarityMatch,
                        &top.solution,
                        confidence,
                        self.config.similarity_threshold,
                        None,
                    ) {
                        r.novelty = novelty.unwrap_or(0.0);
                        return Ok(r);
                    }
                }
            }
        }
        if matches!(mode, Mode::Auto | Mode::Classifier)
            && let Some(c) = &self.classifier
        {
            let p = match &tokens {
                Some(t) => c.predict_one_tokens(t)?,
                None => c.predict_one(text)?,
            };
            r.predictions = std::iter::once((p.label.clone(), p.confidence))
                .chain(p.alternatives.iter().cloned())
                .take(self.config.top_k)
                .map(|(label, probability)| LabelScore { label, probability })
                .collect();
            novelty = Some(novelty.map_or(p.novelty, |n| n.min(p.novelty)));
            // Failures recorded on a past error with this same solution count here too, in
            // proportion to its similarity: a remedy that failed for this error must not come
            // back at full confidence from the next stage.
            let near = r
                .similar
                .iter()
                .filter(|h| h.solution == p.label)
                .map(|h| {
                    let f = factor(FeedbackKey::of(
                        Method::SimilarityMatch,
                        Some(h.id),
                        &h.solution,
                    ));
                    1.0 - h.similarity.clamp(0.0, 1.0) * (1.0 - f)
                })
                .fold(1.0, f64::min);
            let confidence =
                p.confidence * factor(FeedbackKey::of(Method::MlPrediction, None, &p.label)) * near;
            if consider(
                &mut r,
                Method::MlPrediction,
                &p.label,
                confidence,
                self.config.classifier_threshold,
                None,
            ) {
                r.novelty = novelty.unwrap_or(0.0);
                return Ok(r);
            }
        }
        if let Some((m, sol, conf, rule)) = fallback {
            r.solution = Some(sol);
            r.confidence = conf;
            r.method = m;
            r.rule = rule;
        }
        r.novelty = novelty.unwrap_or(0.0);
        r.novel = r.novelty > self.config.novelty_threshold;
        Ok(r)
    }

    fn remember(
        &self,
        text: &str,
        method: Method,
        matched: Option<(u64, f64)>,
        rule: Option<u32>,
    ) -> Result<()> {
        let mut recent = self.recent.lock()?;
        if recent.len() == RECENT_ANSWERS {
            recent.pop_front();
        }
        recent.push_back(Answered {
            text: crate::text::fnv1a64(text.as_bytes()),
            method,
            matched,
            rule,
        });
        Ok(())
    }

    /// Records whether `solution` worked for `text`. The outcome counts for the method that last
    /// answered this text (`no_match` when it was not resolved recently); a success joins the
    /// knowledge base when `learn_from_feedback` is on and a knowledge base exists.
    pub fn record_outcome(&self, text: &str, solution: &str, success: bool) -> Result<()> {
        self.check_text(text)?;
        if solution.trim().is_empty() {
            return Err(Error::InvalidInput("empty solution".into()));
        }
        let h = crate::text::fnv1a64(text.as_bytes());
        let answered = self
            .recent
            .lock()?
            .iter()
            .rev()
            .find(|a| a.text == h)
            .copied();
        let method = answered.map_or(Method::NoMatch, |a| a.method);
        let matched = answered.and_then(|a| a.matched);
        let rule = answered
            .and_then(|a| a.rule)
            .and_then(|i| self.rules.rules().get(i as usize))
            .map(|r| r.name.clone());
        self.metrics.record_outcome(method, success);
        {
            let mut by = self.by_solution.write()?;
            let c = by.entry(solution.to_owned()).or_default();
            if success {
                c.success += 1;
            } else {
                c.failure += 1;
            }
        }
        {
            let key = FeedbackKey::of(method, matched.map(|m| m.0), solution);
            let mut fb = self.feedback.write()?;
            let c = fb.entry(key);
            if success {
                c.success += 1;
            } else {
                c.failure += 1;
            }
            self.has_feedback.store(true, Ordering::Relaxed);
        }
        // A resolver with no knowledge yet starts one from its first success.
        if success && self.config.learn_from_feedback && !self.knowledge_is_embedded() {
            self.add_knowledge(&[text], &[solution])?;
        }
        let mut outcomes = self.outcomes.lock()?;
        if outcomes.len() >= self.config.max_outcomes.max(1) {
            outcomes.pop_front();
        }
        outcomes.push_back(Outcome {
            text: text.to_owned(),
            solution: solution.to_owned(),
            success,
            method,
            matched_id: matched.map(|m| m.0),
            similarity: matched.map(|m| m.1),
            rule,
            timestamp: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        });
        Ok(())
    }

    /// The outcomes kept so far, oldest first.
    pub fn outcomes(&self) -> Vec<Outcome> {
        self.outcomes
            .lock()
            .map(|o| o.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Current metrics.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.metrics.snapshot()
    }

    /// Current metrics in the Prometheus text exposition format.
    pub fn metrics_prometheus(&self) -> String {
        self.metrics.snapshot().to_prometheus()
    }

    /// Clears the metrics.
    pub fn reset_metrics(&self) {
        self.metrics.reset();
    }

    /// The monitoring summary: mean and max latency, mean confidence, resolutions and outcomes
    /// per stage, outcomes and success rate per solution (see [`ResolverSummary`]).
    pub fn summary(&self) -> ResolverSummary {
        let summary = |by_solution: &BTreeMap<String, OutcomeCounts>| {
            ResolverSummary::new(
                &self.metrics.snapshot(),
                self.metrics.max_latency_seconds(),
                by_solution,
            )
        };
        match self.by_solution.read() {
            Ok(by_solution) => summary(&by_solution),
            Err(_) => summary(&BTreeMap::new()),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ResolverState {
    config: ResolverConfig,
    rules: Rules,
    knowledge: Option<KnowledgeBase>,
    #[serde(default)]
    classifier: Option<TextClassifier>,
    /// Set instead of `knowledge` when the knowledge is a caller's [`TextIndex`].
    #[serde(default)]
    knowledge_index: Option<TextIndex>,
    /// Outcomes by feedback key, `pair:<id>` or `label:<solution>` (see `Resolver::feedback`).
    #[serde(default)]
    feedback: BTreeMap<String, OutcomeCounts>,
    /// Outcomes by applied solution (see `Resolver::summary`).
    #[serde(default)]
    solutions: BTreeMap<String, OutcomeCounts>,
}

/// [`ResolverState`] borrowed, for saving without copies.
#[derive(Serialize)]
struct ResolverStateRef<'a> {
    config: &'a ResolverConfig,
    rules: &'a Rules,
    knowledge: Option<&'a KnowledgeBase>,
    classifier: Option<&'a TextClassifier>,
    knowledge_index: Option<&'a TextIndex>,
    feedback: BTreeMap<String, OutcomeCounts>,
    solutions: &'a BTreeMap<String, OutcomeCounts>,
}

impl Serialize for Resolver {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let lock = |e: Error| <S::Error as serde::ser::Error>::custom(e);
        let kb = self.knowledge.read().map_err(lock)?;
        let (knowledge, knowledge_index) = match kb.as_ref() {
            None => (None, None),
            Some(Knowledge::Base(b)) => (Some(&**b), None),
            Some(Knowledge::Index(ix)) => (None, Some(&**ix)),
        };
        ResolverStateRef {
            config: &self.config,
            rules: &self.rules,
            knowledge,
            classifier: self.classifier.as_ref(),
            knowledge_index,
            feedback: self.feedback.read().map_err(lock)?.to_map(),
            solutions: &*self.by_solution.read().map_err(lock)?,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Resolver {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let st = ResolverState::deserialize(d)?;
        st.config.validate().map_err(serde::de::Error::custom)?;
        let mut r = Resolver::build(st.config);
        r.rules = st.rules;
        if st.knowledge.is_some() && st.knowledge_index.is_some() {
            return Err(serde::de::Error::custom(
                "a resolver holds a knowledge base or a knowledge index, not both",
            ));
        }
        *r.knowledge.get_mut() = st
            .knowledge
            .map(|b| Knowledge::Base(Box::new(b)))
            .or(st.knowledge_index.map(|ix| Knowledge::Index(Box::new(ix))));
        r.classifier = st.classifier;
        *r.shared_tokens.get_mut() =
            tokens_shared(r.knowledge.get_mut().as_ref(), r.classifier.as_ref());
        let feedback = Feedback::from_map(st.feedback);
        *r.has_feedback.get_mut() = !feedback.is_empty();
        *r.feedback.get_mut() = feedback;
        *r.by_solution.get_mut() = st.solutions;
        Ok(r)
    }
}

impl Artifact for Resolver {
    const KIND: &'static str = "resolver";
}
