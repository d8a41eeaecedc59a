//! The resolver cascade users run today — exact regex rules, then similar past errors, then a
//! classifier — and the metrics a host service exposes at `/metrics` (issue 5).
//!
//! - [`Rules`]: hand-written rule files (JSON or TOML), first match wins, linear-time regexes.
//! - [`KnowledgeBase`]: past error → solution pairs searched by similarity (JSONL files); or,
//!   through [`Resolver::set_knowledge_index`], any [`TextIndex`] (e.g. of the caller's own
//!   sentence embeddings) whose payloads are the solutions.
//! - [`Resolver`]: the cascade, per-stage thresholds, method preference, feedback, save/load.
//! - [`Metrics`]: counters and histograms, as a snapshot and in the Prometheus text format.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::Instant;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::{RegexBuilder, RegexSet, RegexSetBuilder};
use regex_syntax::ast::Ast;
use serde::{Deserialize, Serialize};

use crate::classify::TextClassifier;
use crate::classify::novelty::{Calibrator, Observation};
use crate::error::{Error, Result};
use crate::index::{Embedding, SearchOptions, TextHit, TextIndex};
use crate::models::Artifact;
use crate::parallel;
use crate::vectorize::{CsrMatrix, TfidfConfig, TfidfVectorizer};

mod summary;
pub use summary::{ResolverSummary, SolutionSummary, StageSummary};

/// Compiled size limit per rule: the `regex` crate never backtracks, so matching is linear in the
/// text; this bounds the memory a hand-written rule can take.
const RULE_SIZE_LIMIT: usize = 1 << 20;

/// Regex rules per `RegexSet`. One set over all rules compiles in superlinear time (4,000 rules
/// took 9 s, 10,000 took 221 s), while sets of bounded size compile in linear time overall.
/// Matching runs the sets in rule order and stops at the first that matches, so a text is
/// scanned at most once per chunk (benches/resolve.rs measures both; docs/resolve.md).
const SET_CHUNK: usize = 128;

/// One rule: when `pattern` (a case-insensitive regex) matches the error text, answer `solution`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A name for reports and error messages; defaults to `rule <n>` (1-based).
    #[serde(default)]
    pub name: String,
    /// Regular expression (Rust `regex` syntax), matched case-insensitively anywhere in the text.
    pub pattern: String,
    /// The remedy to return.
    pub solution: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RulesFile {
    List(Vec<Rule>),
    Table { rules: Vec<Rule> },
}

/// Ordered rules; the first rule (in file order) whose pattern matches wins.
///
/// Rules whose pattern is a plain ASCII string (after escapes: `refused \(111\)` is one) go into
/// one Aho-Corasick automaton, built in time linear in their total length; the others into
/// `RegexSet`s of at most `SET_CHUNK` rules each. Both never backtrack: matching is linear in
/// the text for a given rule set.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    rules: Vec<Rule>,
    literals: Option<Literals>,
    chunks: Vec<Chunk>,
}

/// The literal rules: automaton pattern `p` is rule `rule[p]`, in rule order.
#[derive(Clone, Debug)]
struct Literals {
    automaton: AhoCorasick,
    rule: Vec<usize>,
}

/// Consecutive regex rules (in rule order) compiled together: set pattern `p` is rule `rule[p]`.
#[derive(Clone, Debug)]
struct Chunk {
    set: RegexSet,
    rule: Vec<usize>,
}

impl PartialEq for Rules {
    fn eq(&self, other: &Self) -> bool {
        self.rules == other.rules
    }
}

/// The text of a pattern that matches exactly one ASCII string, case-insensitively, as a regex
/// would; `None` for any other pattern (inline flags such as `(?-i)` included).
fn ascii_literal(pattern: &str) -> Option<String> {
    // Most literal rules are plain text: no need to parse them.
    let meta = |b: u8| b"\\.+*?()|[]{}^$".contains(&b);
    if pattern.is_ascii() && !pattern.bytes().any(meta) {
        return Some(pattern.to_owned());
    }
    // The syntax tree alone tells (escapes such as `\.` are literals); it is much cheaper to
    // build than the compiled form.
    let ast = regex_syntax::ast::parse::Parser::new()
        .parse(pattern)
        .ok()?;
    let one = |a: &Ast| match a {
        Ast::Literal(l) if l.c.is_ascii() => Some(l.c),
        _ => None,
    };
    match &ast {
        Ast::Literal(_) => one(&ast).map(String::from),
        Ast::Concat(c) => c.asts.iter().map(one).collect(),
        _ => None,
    }
}

/// The only non-ASCII characters that case-insensitive matching (Unicode simple case folding, as
/// the `regex` crate does it) equates with ASCII letters: KELVIN SIGN with `k`, LONG S with `s`.
/// With them replaced and ASCII lowercased, a text contains a lowercased literal exactly when
/// the literal's case-insensitive regex matches it (a unit test checks every character).
const ASCII_FOLDS: [(char, &str); 2] = [('\u{212A}', "k"), ('\u{17F}', "s")];

/// `text` as the literal automaton reads it: ASCII lowercased, `ASCII_FOLDS` applied.
fn fold_ascii(text: &str) -> String {
    // Both folded characters start with one of these bytes; most texts have neither.
    if !text.bytes().any(|b| b == 0xE2 || b == 0xC5) {
        return text.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match ASCII_FOLDS.iter().find(|&&(f, _)| f == c) {
            Some(&(_, a)) => out.push_str(a),
            None => out.push(c.to_ascii_lowercase()),
        }
    }
    out
}

impl Literals {
    /// The lowest rule index among the literal rules found in `text`.
    fn first(&self, text: &str) -> Option<usize> {
        // The automaton holds lowercased literals and is case-sensitive: building it with ASCII
        // case folding instead takes three times longer for large rule sets.
        let hay = fold_ascii(text);
        // Overlapping search reports every pattern occurring in the text, shorter ones ending
        // at the same place included; pattern ids are in rule order.
        let mut best: Option<usize> = None;
        for m in self.automaton.find_overlapping_iter(&hay) {
            let p = m.pattern().as_usize();
            if best.is_none_or(|b| p < b) {
                best = Some(p);
                if p == 0 {
                    break;
                }
            }
        }
        best.map(|p| self.rule[p])
    }
}

impl Rules {
    /// Compiles `rules`; an invalid pattern is an error naming the rule.
    pub fn new(mut rules: Vec<Rule>) -> Result<Self> {
        let mut literal_text = Vec::new();
        let mut literal_rule = Vec::new();
        let mut regex_rule = Vec::new();
        for (i, r) in rules.iter_mut().enumerate() {
            if r.name.trim().is_empty() {
                r.name = format!("rule {}", i + 1);
            }
            if r.pattern.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "rule {} `{}`: empty pattern",
                    i + 1,
                    r.name
                )));
            }
            if r.solution.trim().is_empty() {
                return Err(Error::InvalidInput(format!(
                    "rule {} `{}`: empty solution",
                    i + 1,
                    r.name
                )));
            }
            match ascii_literal(&r.pattern) {
                Some(mut text) => {
                    text.make_ascii_lowercase();
                    literal_text.push(text);
                    literal_rule.push(i);
                }
                None => regex_rule.push(i),
            }
        }
        let literals = if literal_rule.is_empty() {
            None
        } else {
            let automaton = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&literal_text)
                .map_err(|e| Error::InvalidInput(format!("literal rules do not compile: {e}")))?;
            Some(Literals {
                automaton,
                rule: literal_rule,
            })
        };
        let chunks = regex_rule
            .chunks(SET_CHUNK)
            .map(|ids| Self::chunk(&rules, ids))
            .collect::<Result<Vec<_>>>()?;
        Ok(Rules {
            rules,
            literals,
            chunks,
        })
    }

    /// Compiles the regex rules `ids` as one set, each rule held to its own size limit.
    fn chunk(rules: &[Rule], ids: &[usize]) -> Result<Chunk> {
        let alone = |i: usize| {
            let r = &rules[i];
            RegexBuilder::new(&r.pattern)
                .case_insensitive(true)
                .size_limit(RULE_SIZE_LIMIT)
                .build()
                .map(drop)
                .map_err(|e| {
                    Error::InvalidInput(format!(
                        "rule {} `{}`: invalid regex {:?}: {e}",
                        i + 1,
                        r.name,
                        r.pattern
                    ))
                })
        };
        // Only counted repetition or a long pattern can reach the per-rule size limit; those
        // are compiled alone too, so one rule cannot take its whole chunk's budget.
        for &i in ids {
            let p = &rules[i].pattern;
            if p.len() > 256 || p.contains('{') {
                alone(i)?;
            }
        }
        let set = RegexSetBuilder::new(ids.iter().map(|&i| &rules[i].pattern))
            .case_insensitive(true)
            .size_limit(RULE_SIZE_LIMIT.saturating_mul(ids.len()))
            .build()
            .map_err(|e| {
                // Name the rule: the first that fails alone (a syntax error, usually).
                match ids.iter().find_map(|&i| alone(i).err()) {
                    Some(named) => named,
                    None => Error::InvalidInput(format!(
                        "rules {}..={} do not compile together: {e}",
                        ids[0] + 1,
                        ids[ids.len() - 1] + 1
                    )),
                }
            })?;
        Ok(Chunk {
            set,
            rule: ids.to_vec(),
        })
    }

    /// Parses a JSON rules file: a list of rules or `{"rules": [...]}`.
    pub fn from_json(text: &str) -> Result<Self> {
        let file: RulesFile = serde_json::from_str(text)
            .map_err(|e| Error::InvalidInput(format!("rules JSON: {e}")))?;
        Self::new(file.into_rules())
    }

    /// Parses a TOML rules file: `[[rules]]` tables with `name`, `pattern`, `solution`.
    pub fn from_toml(text: &str) -> Result<Self> {
        let file: RulesFile =
            toml::from_str(text).map_err(|e| Error::InvalidInput(format!("rules TOML: {e}")))?;
        Self::new(file.into_rules())
    }

    /// Reads a rules file: TOML when the name ends in `.toml`, JSON otherwise.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io_at(path, e))?;
        let parsed = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        {
            Self::from_toml(&text)
        } else {
            Self::from_json(&text)
        };
        parsed.map_err(|e| match e {
            Error::InvalidInput(m) => Error::InvalidInput(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The first rule matching `text`, with its index.
    pub fn first_match(&self, text: &str) -> Option<(usize, &Rule)> {
        let literal = self.literals.as_ref().and_then(|l| l.first(text));
        let mut best = literal;
        for c in &self.chunks {
            // Chunks are in rule order: none after a literal match can hold an earlier rule.
            if literal.is_some_and(|l| c.rule[0] > l) {
                break;
            }
            // One pass over the text for the chunk; the lowest index is the first in order.
            if let Some(p) = c.set.matches(text).iter().next() {
                best = Some(best.map_or(c.rule[p], |l| l.min(c.rule[p])));
                break;
            }
        }
        best.map(|i| (i, &self.rules[i]))
    }
}

/// Rule matching against what one regex per rule would answer (tests/resolve.rs holds the large
/// oracle comparisons).
#[cfg(test)]
mod rules_tests {
    use super::*;

    /// The automaton folds ASCII case only, plus `ASCII_FOLDS`: for every ASCII character, that
    /// must be exactly the set of characters a case-insensitive regex equates with it (the
    /// parser the `regex` crate uses computes that set).
    #[test]
    fn ascii_folds_are_all_the_regex_folds_of_ascii() {
        use regex_syntax::hir::{Class, HirKind};
        for a in (0u8..128).map(char::from) {
            let pattern = format!("(?i){}", regex::escape(&a.to_string()));
            let hir = regex_syntax::Parser::new().parse(&pattern).unwrap();
            let mut regex_set: Vec<char> = match hir.kind() {
                HirKind::Literal(l) => std::str::from_utf8(&l.0).unwrap().chars().collect(),
                HirKind::Class(Class::Unicode(c)) => c
                    .iter()
                    .flat_map(|r| (r.start()..=r.end()).collect::<Vec<_>>())
                    .collect(),
                other => panic!("{a:?}: {other:?}"),
            };
            let mut ours = vec![a.to_ascii_lowercase(), a.to_ascii_uppercase()];
            ours.extend(
                ASCII_FOLDS
                    .iter()
                    .filter(|&&(_, s)| s.starts_with(a.to_ascii_lowercase()))
                    .map(|&(c, _)| c),
            );
            for v in [&mut regex_set, &mut ours] {
                v.sort_unstable();
                v.dedup();
            }
            assert_eq!(ours, regex_set, "{a:?}");
        }
    }

    #[test]
    fn literal_patterns_are_told_from_regex_ones() {
        assert_eq!(ascii_literal("disk full").as_deref(), Some("disk full"));
        assert_eq!(
            ascii_literal(r"refused \(111\)").as_deref(),
            Some("refused (111)")
        );
        assert_eq!(ascii_literal(r"a\.b").as_deref(), Some("a.b"));
        for p in [
            "a.b", "a|b", "ab+", "^ab", r"\bab", "(?-i)AB", "(ab)", "échec", "[ab]",
        ] {
            assert_eq!(ascii_literal(p), None, "{p}");
        }
    }

    #[test]
    fn literal_and_regex_rules_keep_file_order() {
        let rule = |p: &str| Rule {
            name: String::new(),
            pattern: p.into(),
            solution: format!("fix {p}"),
        };
        let r = Rules::new(vec![
            rule("zzz"),
            rule("time.?out"),
            rule("TIMEOUT"),
            rule("(?-i)Kelvin"),
            rule("kelvin"),
            rule("miſs"),
        ])
        .unwrap();
        assert_eq!(r.first_match("a timeout").map(|m| m.0), Some(1));
        assert_eq!(r.first_match("a TIMEOUT zzz").map(|m| m.0), Some(0));
        assert_eq!(r.first_match("kelvin").map(|m| m.0), Some(4));
        assert_eq!(r.first_match("Kelvin").map(|m| m.0), Some(3));
        // KELVIN SIGN folds to k, as in the regex.
        assert_eq!(r.first_match("\u{212A}ELVIN").map(|m| m.0), Some(4));
        // A non-ASCII pattern is a regex: LONG S matches s and S there too.
        assert_eq!(r.first_match("MISS").map(|m| m.0), Some(5));
        assert!(r.first_match("nothing").is_none());
        // Non-ASCII literals take the regex path, case-insensitively as before.
        let r = Rules::new(vec![rule("ÉCHEC")]).unwrap();
        assert_eq!(r.first_match("échec total").map(|m| m.0), Some(0));
    }
}

impl RulesFile {
    fn into_rules(self) -> Vec<Rule> {
        match self {
            RulesFile::List(r) | RulesFile::Table { rules: r } => r,
        }
    }
}

impl Serialize for Rules {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.rules.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Rules {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Rules::new(Vec::<Rule>::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Which stage answered a resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// A rule's regex matched.
    ExactMatch,
    /// A similar past error's solution.
    SimilarityMatch,
    /// The classifier's prediction.
    MlPrediction,
    /// No stage produced an answer.
    NoMatch,
}

impl Method {
    /// All methods, in cascade order.
    pub const ALL: [Method; 4] = [
        Method::ExactMatch,
        Method::SimilarityMatch,
        Method::MlPrediction,
        Method::NoMatch,
    ];

    /// The name used in results, metrics labels and every binding.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::ExactMatch => "exact_match",
            Method::SimilarityMatch => "similarity_match",
            Method::MlPrediction => "ml_prediction",
            Method::NoMatch => "no_match",
        }
    }

    /// Parses [`as_str`](Self::as_str) names.
    pub fn parse(name: &str) -> Result<Self> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str() == name)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "unknown method {name:?}: expected exact_match, similarity_match, ml_prediction or no_match"
                ))
            })
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Latency buckets in seconds (Prometheus convention), from 5 µs to 1 s.
pub const LATENCY_BUCKETS: [f64; 12] = [
    5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 5e-3, 25e-3, 100e-3, 1.0,
];
/// Confidence buckets.
pub const CONFIDENCE_BUCKETS: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// A lock-free cumulative histogram.
#[derive(Debug)]
struct Histogram {
    bounds: &'static [f64],
    /// Non-cumulative counts per bucket; the last slot is `+Inf`.
    counts: Vec<AtomicU64>,
    /// Sum of observations, as `f64` bits.
    sum: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }

    fn observe(&self, v: f64) {
        if !v.is_finite() {
            return;
        }
        let i = self.bounds.partition_point(|&b| b < v);
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        let mut cur = self.sum.load(Ordering::Relaxed);
        loop {
            let next = (f64::from_bits(cur) + v).to_bits();
            match self
                .sum
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
    }

    fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(self.bounds.len());
        for (i, &b) in self.bounds.iter().enumerate() {
            cumulative += self.counts[i].load(Ordering::Relaxed);
            buckets.push((b, cumulative));
        }
        cumulative += self.counts[self.bounds.len()].load(Ordering::Relaxed);
        HistogramSnapshot {
            buckets,
            count: cumulative,
            sum: f64::from_bits(self.sum.load(Ordering::Relaxed)),
        }
    }

    fn reset(&self) {
        self.counts
            .iter()
            .for_each(|c| c.store(0, Ordering::Relaxed));
        self.sum.store(0f64.to_bits(), Ordering::Relaxed);
    }
}

/// A histogram at one moment: cumulative counts per upper bound, as Prometheus reports them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistogramSnapshot {
    /// `(upper bound, observations <= bound)`, bounds ascending; `+Inf` is `count`.
    pub buckets: Vec<(f64, u64)>,
    /// Number of observations.
    pub count: u64,
    /// Sum of observations.
    pub sum: f64,
}

/// Feedback counts for one method.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OutcomeCounts {
    /// Outcomes reported as successful.
    pub success: u64,
    /// Outcomes reported as failed.
    pub failure: u64,
}

impl OutcomeCounts {
    /// `success / (success + failure)`, or `None` before any outcome.
    pub fn success_rate(&self) -> Option<f64> {
        let n = self.success + self.failure;
        (n > 0).then(|| self.success as f64 / n as f64)
    }
}

/// Counters and histograms of a resolver; all updates are lock-free.
#[derive(Debug)]
pub struct Metrics {
    resolutions: [AtomicU64; 4],
    unreliable: AtomicU64,
    novel: AtomicU64,
    errors: AtomicU64,
    success: [AtomicU64; 4],
    failure: [AtomicU64; 4],
    latency: Histogram,
    confidence: Histogram,
    /// Longest resolution so far, in nanoseconds.
    max_latency_ns: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            resolutions: Default::default(),
            unreliable: AtomicU64::new(0),
            novel: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            success: Default::default(),
            failure: Default::default(),
            latency: Histogram::new(&LATENCY_BUCKETS),
            confidence: Histogram::new(&CONFIDENCE_BUCKETS),
            max_latency_ns: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Records one resolution (`novel`: the input was unlike the knowledge and training data).
    pub fn record_resolution(
        &self,
        method: Method,
        confidence: f64,
        reliable: bool,
        novel: bool,
        seconds: f64,
    ) {
        self.resolutions[method.index()].fetch_add(1, Ordering::Relaxed);
        if !reliable {
            self.unreliable.fetch_add(1, Ordering::Relaxed);
        }
        if novel {
            self.novel.fetch_add(1, Ordering::Relaxed);
        }
        self.latency.observe(seconds);
        self.max_latency_ns
            .fetch_max((seconds * 1e9) as u64, Ordering::Relaxed);
        if method != Method::NoMatch {
            self.confidence.observe(confidence);
        }
    }

    /// Records a resolve call that failed with an error.
    pub fn record_error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Records feedback on an answer given by `method`.
    pub fn record_outcome(&self, method: Method, success: bool) {
        let c = if success {
            &self.success
        } else {
            &self.failure
        };
        c[method.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Clears every counter and histogram.
    pub fn reset(&self) {
        for a in self
            .resolutions
            .iter()
            .chain(&self.success)
            .chain(&self.failure)
            .chain([&self.unreliable, &self.novel, &self.errors])
        {
            a.store(0, Ordering::Relaxed);
        }
        self.latency.reset();
        self.confidence.reset();
        self.max_latency_ns.store(0, Ordering::Relaxed);
    }

    /// The longest resolution since the last reset, in seconds.
    pub fn max_latency_seconds(&self) -> f64 {
        self.max_latency_ns.load(Ordering::Relaxed) as f64 / 1e9
    }

    /// The current values.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let by_method = |a: &[AtomicU64; 4]| -> BTreeMap<String, u64> {
            Method::ALL
                .iter()
                .map(|m| (m.as_str().to_owned(), a[m.index()].load(Ordering::Relaxed)))
                .collect()
        };
        let outcomes = Method::ALL
            .iter()
            .map(|m| {
                let c = OutcomeCounts {
                    success: self.success[m.index()].load(Ordering::Relaxed),
                    failure: self.failure[m.index()].load(Ordering::Relaxed),
                };
                (m.as_str().to_owned(), c)
            })
            .collect();
        let resolutions = by_method(&self.resolutions);
        MetricsSnapshot {
            total: resolutions.values().sum(),
            resolutions,
            unreliable: self.unreliable.load(Ordering::Relaxed),
            novel: self.novel.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            outcomes,
            latency_seconds: self.latency.snapshot(),
            confidence: self.confidence.snapshot(),
        }
    }
}

/// Resolver metrics at one moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    /// Resolutions in total.
    pub total: u64,
    /// Resolutions by answering method (`exact_match`, ..., `no_match`).
    pub resolutions: BTreeMap<String, u64>,
    /// Resolutions not marked reliable: abstentions (no stage reached its threshold; the best
    /// candidate, if any, is returned for a person to check).
    pub unreliable: u64,
    /// Resolutions whose input was novel (unlike the knowledge base and the training data).
    #[serde(default)]
    pub novel: u64,
    /// Resolve calls that returned an error.
    pub errors: u64,
    /// Feedback by the method that gave the answer.
    pub outcomes: BTreeMap<String, OutcomeCounts>,
    /// Time per resolution, in seconds.
    pub latency_seconds: HistogramSnapshot,
    /// Confidence of answered resolutions (`no_match` excluded).
    pub confidence: HistogramSnapshot,
}

impl MetricsSnapshot {
    /// The metrics in the Prometheus text exposition format (version 0.0.4), every name prefixed
    /// `faultlens_`, ready to serve at `/metrics`.
    pub fn to_prometheus(&self) -> String {
        use std::fmt::Write;
        let mut out = String::with_capacity(4096);
        let mut family = |name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP faultlens_{name} {help}");
            let _ = writeln!(out, "# TYPE faultlens_{name} {kind}");
        };
        family(
            "resolutions_total",
            "counter",
            "Resolutions by the method that answered.",
        );
        let mut body = String::new();
        for (m, v) in &self.resolutions {
            let _ = writeln!(body, "faultlens_resolutions_total{{method=\"{m}\"}} {v}");
        }
        out.push_str(&body);
        let mut simple = |name: &str, kind: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP faultlens_{name} {help}");
            let _ = writeln!(out, "# TYPE faultlens_{name} {kind}");
            let _ = writeln!(out, "faultlens_{name} {v}");
        };
        simple(
            "unreliable_resolutions_total",
            "counter",
            "Abstentions: resolutions no stage answered reliably.",
            self.unreliable,
        );
        simple(
            "novel_inputs_total",
            "counter",
            "Resolutions whose input was unlike the knowledge base and the training data.",
            self.novel,
        );
        simple(
            "resolve_errors_total",
            "counter",
            "Resolve calls that failed with an error.",
            self.errors,
        );
        let _ = writeln!(
            out,
            "# HELP faultlens_outcomes_total Feedback on answers, by method and result."
        );
        let _ = writeln!(out, "# TYPE faultlens_outcomes_total counter");
        for (m, c) in &self.outcomes {
            let _ = writeln!(
                out,
                "faultlens_outcomes_total{{method=\"{m}\",result=\"success\"}} {}",
                c.success
            );
            let _ = writeln!(
                out,
                "faultlens_outcomes_total{{method=\"{m}\",result=\"failure\"}} {}",
                c.failure
            );
        }
        write_histogram(
            &mut out,
            "resolve_latency_seconds",
            "Time per resolution.",
            &self.latency_seconds,
        );
        write_histogram(
            &mut out,
            "resolve_confidence",
            "Confidence of answered resolutions.",
            &self.confidence,
        );
        out
    }
}

fn write_histogram(out: &mut String, name: &str, help: &str, h: &HistogramSnapshot) {
    use std::fmt::Write;
    let _ = writeln!(out, "# HELP faultlens_{name} {help}");
    let _ = writeln!(out, "# TYPE faultlens_{name} histogram");
    for (b, c) in &h.buckets {
        let _ = writeln!(
            out,
            "faultlens_{name}_bucket{{le=\"{}\"}} {c}",
            prom_float(*b)
        );
    }
    let _ = writeln!(out, "faultlens_{name}_bucket{{le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(out, "faultlens_{name}_sum {}", prom_float(h.sum));
    let _ = writeln!(out, "faultlens_{name}_count {}", h.count);
}

fn prom_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v:?}")
    }
}

/// One past error similar to the one being resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimilarError {
    /// Position of the pair in the knowledge base (insertion order).
    pub id: u64,
    /// The past error text.
    pub error: String,
    /// The solution recorded for it.
    pub solution: String,
    /// Cosine similarity to the text being resolved, in `[0, 1]`.
    pub similarity: f64,
}

/// One classifier label and its probability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelScore {
    /// The remedy label.
    pub label: String,
    /// Its probability.
    pub probability: f64,
}

/// One line of a knowledge-base JSONL file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KnowledgeLine {
    error: String,
    solution: String,
}

/// A sparse row's (columns, value bits): equal keys are identical vectors.
type RowKey = (Box<[u32]>, Box<[u64]>);

/// Past error → solution pairs, searched by TF-IDF cosine similarity.
///
/// The vectoriser is fitted on the errors given when the base is first built; pairs added later
/// (for example from feedback) are weighted with that vocabulary. Search is exact (an inverted
/// index over the sparse rows visits only pairs that share an n-gram with the query).
#[derive(Clone, Debug)]
pub struct KnowledgeBase {
    errors: Vec<String>,
    solutions: Vec<String>,
    vectorizer: TfidfVectorizer,
    /// Feature → (distinct row, weight) for every distinct row holding the feature.
    postings: Vec<Vec<(u32, f64)>>,
    /// Distinct row → its pairs, ascending. Errors that differ only in masked parts (numbers,
    /// ids, paths) have the same vector; scoring each distinct vector once keeps a search's cost
    /// at the number of distinct errors, not of pairs (10,000 Loghub pairs hold ~900 vectors).
    members: Vec<Vec<u32>>,
    /// Distinct row → its first pair (`members[r][0]`), kept flat for the ranking tie-break.
    first_pair: Vec<u32>,
    /// A row's (columns, value bits) → its distinct row.
    row_ids: rustc_hash::FxHashMap<RowKey, u32>,
    /// Pairs the vectoriser was fitted on.
    fitted_on: usize,
    /// `P(the top solution is right | similarity features)`, fitted on the base itself when the
    /// vectoriser is (see [`KnowledgeBase::confidence`]); `None` when the base cannot tell (one
    /// solution only, or every held-out pair right).
    calibrator: Option<Calibrator>,
}

/// Neighbours the similarity confidence looks at (the answer's margin and agreement).
const CONFIDENCE_NEIGHBOURS: usize = 10;
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
enum AddPlan {
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
            postings: vec![Vec::new(); n],
            members: Vec::new(),
            first_pair: Vec::new(),
            row_ids: Default::default(),
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
    fn plan_add<S: AsRef<str> + Sync>(&self, errors: &[S], solutions: &[S]) -> Result<AddPlan> {
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

    fn apply_add<S: AsRef<str>>(
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
            let pair = (first + i) as u32;
            let (idx, val) = rows.row(i);
            let key: RowKey = (idx.into(), val.iter().map(|v| v.to_bits()).collect());
            if let Some(&r) = self.row_ids.get(&key) {
                self.members[r as usize].push(pair);
                continue;
            }
            let r = self.members.len() as u32;
            for (&f, &w) in idx.iter().zip(val) {
                self.postings[f as usize].push((r, w));
            }
            self.members.push(vec![pair]);
            self.first_pair.push(pair);
            self.row_ids.insert(key, r);
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
        let (q, unseen) = self.vectorizer.transform_with_unseen(&[text])?;
        let whole = (1.0 - unseen[0]).max(0.0).sqrt();
        Ok((self.search_row(q.row(0), k)?, whole))
    }

    fn search_row(&self, (idx, val): (&[u32], &[f64]), k: usize) -> Result<Vec<SimilarError>> {
        if k == 0 {
            return Ok(Vec::new());
        }
        // Scores per distinct row, accumulated in a per-thread buffer (TF-IDF weights are
        // positive, so a row's first touch is when its score is still 0). The k best rows by
        // (score desc, first pair asc) are kept in a small sorted list while the touched rows
        // are drained: k is small, and a full selection over every touched row (most rows when
        // the query holds a common n-gram such as `<num>`) made the slowest calls.
        let best: Vec<(f64, u32, u32)> = SCRATCH.with(|cell| {
            let (scores, touched) = &mut *cell.borrow_mut();
            if scores.len() < self.members.len() {
                scores.resize(self.members.len(), 0.0);
            }
            for (&f, &w) in idx.iter().zip(val) {
                for &(r, v) in &self.postings[f as usize] {
                    let s = &mut scores[r as usize];
                    if *s == 0.0 {
                        touched.push(r);
                    }
                    *s += w * v;
                }
            }
            let mut best: Vec<(f64, u32, u32)> = Vec::with_capacity(k + 1);
            for &r in touched.iter() {
                let s = std::mem::take(&mut scores[r as usize]);
                if s <= 0.0 {
                    continue;
                }
                if best.len() == k {
                    let last = best[k - 1];
                    if s < last.0 || (s == last.0 && self.first_pair[r as usize] > last.1) {
                        continue;
                    }
                }
                let cand = (s, self.first_pair[r as usize], r);
                let at = best.partition_point(|b| b.0 > cand.0 || (b.0 == cand.0 && b.1 < cand.1));
                best.insert(at, cand);
                best.truncate(k);
            }
            touched.clear();
            best
        });
        // The k best distinct rows by (score, first pair) hold the k best pairs by (score, pair):
        // a row ranked above one holding a top-k pair has a pair ranked above that pair.
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
        self.members.len()
    }

    /// The pairs most similar to a row, best first (ties: insertion order), skipping pairs
    /// `skip` rejects; at most `k`. Sorts every touched row: for building the confidence model,
    /// not for serving.
    fn ranked(
        &self,
        idx: &[u32],
        val: &[f64],
        k: usize,
        skip: impl Fn(u32) -> bool,
    ) -> Vec<(f64, u32)> {
        let mut scores: rustc_hash::FxHashMap<u32, f64> = Default::default();
        for (&f, &w) in idx.iter().zip(val) {
            for &(r, v) in &self.postings[f as usize] {
                *scores.entry(r).or_insert(0.0) += w * v;
            }
        }
        let mut rows: Vec<(f64, u32)> = scores.into_iter().map(|(r, s)| (s, r)).collect();
        rows.sort_unstable_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(self.first_pair[a.1 as usize].cmp(&self.first_pair[b.1 as usize]))
        });
        let mut out = Vec::with_capacity(k);
        for (s, r) in rows {
            for &p in &self.members[r as usize] {
                if out.len() == k {
                    return out;
                }
                if !skip(p) {
                    out.push((s.min(1.0), p));
                }
            }
        }
        out
    }

    /// The confidence model, fitted on the base itself. For (up to [`CALIBRATION_ROWS`])
    /// distinct stored errors: the answer the base gives with that one pair left out (right when
    /// its solution is the pair's, as for a repeat of a known error), and the answer with every
    /// pair of that solution left out (always wrong: an error whose fix the base does not hold).
    /// The second kind weighs [`KNOWLEDGE_NOVELTY_PRIOR`] of the whole.
    fn fit_calibrator(&self) -> Option<Calibrator> {
        let n = self.members.len();
        if n < MIN_CALIBRATION_ROWS {
            return None;
        }
        let sample: Vec<usize> = (0..n).step_by(n.div_ceil(CALIBRATION_ROWS)).collect();
        let texts: Vec<&str> = sample
            .iter()
            .map(|&r| self.errors[self.members[r][0] as usize].as_str())
            .collect();
        let rows = self.vectorizer.transform(&texts).ok()?;
        let mut known = Vec::new();
        let mut unseen = Vec::new();
        for (i, &r) in sample.iter().enumerate() {
            let pair = self.members[r][0];
            let own = self.solutions[pair as usize].as_str();
            let (idx, val) = rows.row(i);
            let hits_of = |hits: Vec<(f64, u32)>| -> Vec<(f64, &str)> {
                hits.into_iter()
                    .map(|(s, p)| (s, self.solutions[p as usize].as_str()))
                    .collect()
            };
            let loo = hits_of(self.ranked(idx, val, CONFIDENCE_NEIGHBOURS, |p| p == pair));
            if let Some(&(_, top)) = loo.first() {
                known.push(Observation {
                    x: similarity_features(&loo),
                    hit: top == own,
                    weight: self.members[r].len() as f64,
                });
            }
            let away = hits_of(self.ranked(idx, val, CONFIDENCE_NEIGHBOURS, |p| {
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

thread_local! {
    /// Per-thread score accumulator of `KnowledgeBase::search`: (scores by row, rows touched).
    static SCRATCH: std::cell::RefCell<(Vec<f64>, Vec<u32>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

fn check_pairs<S: AsRef<str>>(errors: &[S], solutions: &[S]) -> Result<()> {
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
            postings: vec![Vec::new(); n],
            members: Vec::new(),
            first_pair: Vec::new(),
            row_ids: Default::default(),
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
#[serde(default, deny_unknown_fields)]
pub struct ResolverConfig {
    /// A rule answers when its confidence (always 1.0) reaches this. Default 1.0.
    pub exact_threshold: f64,
    /// A similar past error answers when the probability that its solution is right (calibrated
    /// on the knowledge base, see `docs/resolve.md`) reaches this. Default 0.7.
    pub similarity_threshold: f64,
    /// The classifier answers when the probability that its label is right (novelty included)
    /// reaches this. Default 0.8.
    pub classifier_threshold: f64,
    /// Candidates kept per stage (similar errors, classifier labels). Default 3.
    pub top_k: usize,
    /// Successful outcomes join the knowledge base. Default true.
    pub learn_from_feedback: bool,
    /// Longest text accepted, in bytes; longer input is an error rather than a slow call. Default 1 MiB.
    pub max_text_bytes: usize,
    /// Outcomes kept in memory for `outcomes()` (oldest dropped first). Default 10,000.
    pub max_outcomes: usize,
    /// How the knowledge base turns error texts into vectors.
    pub knowledge_vectorizer: TfidfConfig,
    /// An unanswered input is `novel` when its novelty (1 - its similarity to the nearest past
    /// error or training line) exceeds this. Default 0.5.
    pub novelty_threshold: f64,
    /// Per-solution thresholds: an answer with one of these solutions is reliable only when its
    /// confidence reaches the solution's threshold, whatever stage gave it (a risky remedy can
    /// demand more certainty than its stage). Default none.
    pub solution_thresholds: Vec<SolutionThreshold>,
}

/// A threshold for one solution, overriding its stage's (see
/// [`ResolverConfig::solution_thresholds`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

/// The answer to one `resolve` call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    /// The remedy, or `None` when no stage produced one.
    pub solution: Option<String>,
    /// The probability that the answer is right, in `[0, 1]` (rules: 1; 0 for `no_match`).
    pub confidence: f64,
    /// The stage that answered.
    pub method: Method,
    /// Whether the answer reached its stage's threshold. When false the resolver abstains:
    /// `solution` is only the best candidate.
    pub reliable: bool,
    /// 1 - the input's similarity to the nearest past error or training line (the smaller of
    /// the stages that ran; 0 when none could tell).
    pub novelty: f64,
    /// Not reliable and `novelty > novelty_threshold`: an error unlike anything known; route
    /// it to a person.
    pub novel: bool,
    /// The matching rule's name, for `exact_match`.
    pub rule: Option<String>,
    /// Similar past errors the similarity stage found (empty when it did not run).
    pub similar: Vec<SimilarError>,
    /// The classifier's top labels (empty when it did not run).
    pub predictions: Vec<LabelScore>,
    /// Time taken, in microseconds.
    pub elapsed_us: u64,
}

/// Feedback on one answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The error text.
    pub text: String,
    /// The solution that was applied.
    pub solution: String,
    /// Whether it worked.
    pub success: bool,
    /// The method that had answered this text most recently (`no_match` when unknown).
    pub method: Method,
    /// The past error whose solution was the answer (similarity stage), by knowledge id.
    #[serde(default)]
    pub matched_id: Option<u64>,
    /// Its similarity to the text.
    #[serde(default)]
    pub similarity: Option<f64>,
    /// The rule that answered (`exact_match`); for `ml_prediction` the classifier's label is
    /// `solution`.
    #[serde(default)]
    pub rule: Option<String>,
    /// Seconds since the Unix epoch.
    pub timestamp: f64,
}

/// Texts whose answering method `record_outcome` can still attribute.
const RECENT_ANSWERS: usize = 4096;

/// Where the similarity stage looks for past errors.
#[derive(Debug)]
enum Knowledge {
    /// The resolver's own exact TF-IDF knowledge base (`add_knowledge`, `load_knowledge`).
    Base(Box<KnowledgeBase>),
    /// A [`TextIndex`] set by the caller; its payloads are the solutions.
    Index(Box<TextIndex>),
}

impl Knowledge {
    fn len(&self) -> usize {
        match self {
            Knowledge::Base(kb) => kb.len(),
            Knowledge::Index(ix) => ix.len(),
        }
    }

    /// The `k` most similar past errors to `text` (or to `embedding`, for an index of
    /// caller-computed embeddings), best first, and the share of the text the similarities
    /// cover (1 for an index). Index items without a payload are skipped.
    fn search_whole(
        &self,
        text: &str,
        embedding: Option<&[f32]>,
        k: usize,
    ) -> Result<(Vec<SimilarError>, f64)> {
        let hits: Vec<TextHit> = match (self, embedding) {
            (Knowledge::Base(kb), None) => return kb.search_whole(text, k),
            (Knowledge::Base(_), Some(_)) => {
                return Err(Error::InvalidInput(
                    "an embedding was given but the knowledge base is TF-IDF over texts: \
                     call resolve (set_knowledge_index with external embeddings to use them)"
                        .into(),
                ));
            }
            (Knowledge::Index(ix), None) if is_external(ix) => {
                return Err(Error::InvalidInput(
                    "the knowledge index holds external embeddings: call resolve_embedded with \
                     the text's embedding"
                        .into(),
                ));
            }
            (Knowledge::Index(ix), Some(_)) if !is_external(ix) => {
                return Err(Error::InvalidInput(
                    "an embedding was given but the knowledge index embeds texts itself \
                     (TF-IDF): call resolve"
                        .into(),
                ));
            }
            (Knowledge::Index(ix), None) => ix.search(text, k, &SearchOptions::default())?,
            (Knowledge::Index(ix), Some(e)) if e.len() != ix.dim() => {
                return Err(Error::Dimension {
                    expected: ix.dim(),
                    got: e.len(),
                });
            }
            (Knowledge::Index(ix), Some(e)) => ix
                .search_embedded(e, k, &SearchOptions::default())?
                .pop()
                .unwrap_or_default(),
        };
        let hits = hits
            .into_iter()
            .filter_map(|h| {
                Some(SimilarError {
                    id: h.id,
                    error: h.text,
                    solution: h.payload?,
                    similarity: f64::from(h.score).min(1.0),
                })
            })
            .collect();
        Ok((hits, 1.0))
    }
}

impl Knowledge {
    /// The probability that the top solution of `hits` is right: the knowledge base's own
    /// confidence model; for a caller's index, the top score.
    fn confidence(&self, hits: &[SimilarError], whole: f64) -> f64 {
        match self {
            Knowledge::Base(kb) => kb.confidence(hits, whole),
            Knowledge::Index(_) => hits.first().map_or(0.0, |h| h.similarity),
        }
    }
}

/// What the resolver remembers of a recent answer, for `record_outcome`.
#[derive(Clone, Copy, Debug)]
struct Answered {
    text: u64,
    method: Method,
    matched: Option<(u64, f64)>,
    /// Index of the rule that answered.
    rule: Option<u32>,
}

/// Feedback key: the matched past error for similarity answers, the label otherwise.
fn feedback_key(method: Method, matched: Option<u64>, solution: &str) -> String {
    match (method, matched) {
        (Method::SimilarityMatch, Some(id)) => format!("pair:{id}"),
        _ => format!("label:{solution}"),
    }
}

fn is_external(ix: &TextIndex) -> bool {
    matches!(ix.config().embedding, Embedding::External { .. })
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
    metrics: Metrics,
    /// Recent answers, oldest first.
    recent: Mutex<VecDeque<Answered>>,
    outcomes: Mutex<VecDeque<Outcome>>,
    /// Outcomes per matched past error (`pair:<id>`) or label (`label:<solution>`): an answer's
    /// confidence is multiplied by `(1 + successes) / (1 + successes + failures)`.
    feedback: RwLock<BTreeMap<String, OutcomeCounts>>,
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
            knowledge: RwLock::new(None),
            learn: Mutex::new(()),
            classifier: None,
            metrics: Metrics::default(),
            recent: Mutex::new(VecDeque::new()),
            outcomes: Mutex::new(VecDeque::new()),
            feedback: RwLock::new(BTreeMap::new()),
            by_solution: RwLock::new(BTreeMap::new()),
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
        let _turn = self.learn.lock().unwrap_or_else(PoisonError::into_inner);
        let plan = {
            let kb = self
                .knowledge
                .read()
                .unwrap_or_else(PoisonError::into_inner);
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
        let mut kb = self
            .knowledge
            .write()
            .unwrap_or_else(PoisonError::into_inner);
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
        let kb = self
            .knowledge
            .read()
            .unwrap_or_else(PoisonError::into_inner);
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
        *self
            .knowledge
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Knowledge::Index(Box::new(copy)));
        Ok(())
    }

    /// Whether the knowledge is a [`TextIndex`] of caller-computed embeddings (resolve with
    /// [`resolve_embedded`](Self::resolve_embedded) then).
    pub fn knowledge_is_embedded(&self) -> bool {
        matches!(
            self.knowledge.read().unwrap_or_else(PoisonError::into_inner).as_ref(),
            Some(Knowledge::Index(ix)) if is_external(ix)
        )
    }

    /// Sets the classifier stage (replacing any earlier one); it must be fitted.
    pub fn set_classifier(&mut self, classifier: TextClassifier) -> Result<()> {
        if !classifier.is_fitted() {
            return Err(Error::NotFitted {
                what: "TextClassifier",
            });
        }
        self.classifier = Some(classifier);
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
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(0, Knowledge::len)
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
                self.remember(text, r.method, matched, rule);
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
        let feedback = self.feedback.read().unwrap_or_else(PoisonError::into_inner);
        let factor = |key: String| {
            feedback.get(&key).map_or(1.0, |c| {
                (1.0 + c.success as f64) / (1.0 + (c.success + c.failure) as f64)
            })
        };
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
            let kb = self
                .knowledge
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(kb) = kb.as_ref() {
                let (mut hits, whole) = kb.search_whole(
                    text,
                    embedding,
                    self.config.top_k.max(CONFIDENCE_NEIGHBOURS),
                )?;
                let confidence = kb.confidence(&hits, whole);
                hits.truncate(self.config.top_k);
                r.similar = hits;
                novelty = Some(1.0 - r.similar.first().map_or(0.0, |h| h.similarity) * whole);
                if let Some(top) = r.similar.first().cloned() {
                    let confidence = confidence
                        * factor(feedback_key(
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
            let p = c.predict_one(text)?;
            r.predictions = std::iter::once((p.label.clone(), p.confidence))
                .chain(p.alternatives.iter().cloned())
                .take(self.config.top_k)
                .map(|(label, probability)| LabelScore { label, probability })
                .collect();
            novelty = Some(novelty.map_or(p.novelty, |n| n.min(p.novelty)));
            let confidence =
                p.confidence * factor(feedback_key(Method::MlPrediction, None, &p.label));
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

    fn remember(&self, text: &str, method: Method, matched: Option<(u64, f64)>, rule: Option<u32>) {
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if recent.len() == RECENT_ANSWERS {
            recent.pop_front();
        }
        recent.push_back(Answered {
            text: crate::text::fnv1a64(text.as_bytes()),
            method,
            matched,
            rule,
        });
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
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
            let mut by = self
                .by_solution
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let c = by.entry(solution.to_owned()).or_default();
            if success {
                c.success += 1;
            } else {
                c.failure += 1;
            }
        }
        {
            let key = feedback_key(method, matched.map(|m| m.0), solution);
            let mut fb = self
                .feedback
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let c = fb.entry(key).or_default();
            if success {
                c.success += 1;
            } else {
                c.failure += 1;
            }
        }
        // A resolver with no knowledge yet starts one from its first success.
        if success && self.config.learn_from_feedback && !self.knowledge_is_embedded() {
            self.add_knowledge(&[text], &[solution])?;
        }
        let mut outcomes = self.outcomes.lock().unwrap_or_else(PoisonError::into_inner);
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
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
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
        let by_solution = self
            .by_solution
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        ResolverSummary::new(
            &self.metrics.snapshot(),
            self.metrics.max_latency_seconds(),
            &by_solution,
        )
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
    /// Outcomes by feedback key (see `Resolver::feedback`).
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
    feedback: &'a BTreeMap<String, OutcomeCounts>,
    solutions: &'a BTreeMap<String, OutcomeCounts>,
}

impl Serialize for Resolver {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let kb = self
            .knowledge
            .read()
            .unwrap_or_else(PoisonError::into_inner);
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
            feedback: &self.feedback.read().unwrap_or_else(PoisonError::into_inner),
            solutions: &self
                .by_solution
                .read()
                .unwrap_or_else(PoisonError::into_inner),
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
        r.knowledge = RwLock::new(
            st.knowledge
                .map(|b| Knowledge::Base(Box::new(b)))
                .or(st.knowledge_index.map(|ix| Knowledge::Index(Box::new(ix)))),
        );
        r.classifier = st.classifier;
        r.feedback = RwLock::new(st.feedback);
        r.by_solution = RwLock::new(st.solutions);
        Ok(r)
    }
}

impl Artifact for Resolver {
    const KIND: &'static str = "resolver";
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn classifier_stage_answers_and_travels_with_the_resolver() {
        let errors = [
            "connection refused to db 10.0.0.1:5432",
            "connection refused to db 10.0.0.2:5432 after retry",
            "db connection refused by host",
            "disk quota exceeded on /var/lib",
            "no space left on device /dev/sda1",
            "disk full while writing /tmp/x",
            "certificate has expired for api.example.com",
            "x509 certificate expired",
            "tls handshake failed: certificate expired",
        ];
        let labels = [
            "restart_db",
            "restart_db",
            "restart_db",
            "free_disk",
            "free_disk",
            "free_disk",
            "renew_cert",
            "renew_cert",
            "renew_cert",
        ];
        let mut c = TextClassifier::new(crate::classify::ClassifierConfig::default()).unwrap();
        let mut r = Resolver::new(ResolverConfig {
            classifier_threshold: 0.0,
            ..Default::default()
        })
        .unwrap();
        let unfitted = r.set_classifier(c.clone()).unwrap_err();
        assert_eq!(unfitted.code(), "NotFitted");
        c.fit(&errors, &labels).unwrap();
        r.set_classifier(c).unwrap();
        let res = r
            .resolve("disk quota exceeded on /home", Mode::Auto)
            .unwrap();
        assert_eq!(res.method, Method::MlPrediction);
        assert_eq!(res.solution.as_deref(), Some("free_disk"));
        assert!(res.reliable);
        assert_eq!(res.predictions[0].label, "free_disk");
        assert!((res.predictions[0].probability - res.confidence).abs() < 1e-12);
        assert!(res.predictions.len() <= 3 && res.predictions.len() >= 2);
        let strict = Resolver::from_bytes(&r.to_bytes().unwrap()).unwrap();
        let again = strict
            .resolve("disk quota exceeded on /home", Mode::Classifier)
            .unwrap();
        assert_eq!(again.solution, res.solution);
        assert!((again.confidence - res.confidence).abs() < 1e-12);
        // Above a threshold it cannot reach, the prediction is still the (unreliable) answer.
        let mut high = Resolver::new(ResolverConfig {
            classifier_threshold: 1.0,
            ..Default::default()
        })
        .unwrap();
        high.set_classifier(strict.classifier().unwrap().clone())
            .unwrap();
        let low = high.resolve("certificate expired", Mode::Auto).unwrap();
        assert_eq!(low.method, Method::MlPrediction);
        assert!(!low.reliable);
    }

    fn rules() -> Rules {
        Rules::from_json(
            r#"{"rules": [
                {"name": "disk", "pattern": "no space left|disk (quota|full)", "solution": "free disk space"},
                {"pattern": "connection refused", "solution": "start the service"},
                {"name": "any-conn", "pattern": "connection", "solution": "check the network"}
            ]}"#,
        )
        .unwrap()
    }

    #[test]
    fn first_rule_in_file_order_wins_case_insensitively() {
        let r = rules();
        assert_eq!(r.len(), 3);
        assert_eq!(r.rules()[1].name, "rule 2");
        let (i, rule) = r
            .first_match("ERROR: Connection REFUSED by 10.0.0.1")
            .unwrap();
        assert_eq!((i, rule.solution.as_str()), (1, "start the service"));
        assert_eq!(r.first_match("connection reset").unwrap().0, 2);
        assert_eq!(r.first_match("Disk FULL on /var").unwrap().1.name, "disk");
        assert!(r.first_match("all good").is_none());
        assert!(Rules::default().first_match("anything").is_none());
    }

    #[test]
    fn json_list_toml_and_round_trip_agree() {
        let list = Rules::from_json(
            r#"[{"name": "disk", "pattern": "disk full", "solution": "free disk space"}]"#,
        )
        .unwrap();
        let toml = Rules::from_toml(
            "[[rules]]\nname = \"disk\"\npattern = \"disk full\"\nsolution = \"free disk space\"\n",
        )
        .unwrap();
        assert_eq!(list, toml);
        let json = serde_json::to_string(&rules()).unwrap();
        let back: Rules = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rules());
    }

    #[test]
    fn bad_rules_name_the_rule() {
        let e = Rules::from_json(
            r#"[{"name": "ok", "pattern": "a", "solution": "x"}, {"name": "broken", "pattern": "(unclosed", "solution": "y"}]"#,
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("rule 2") && msg.contains("broken"), "{msg}");
        assert_eq!(e.code(), "InvalidInput");
        let e = Rules::from_json(r#"[{"pattern": "a", "solution": ""}]"#).unwrap_err();
        assert!(e.to_string().contains("empty solution"), "{e}");
        let e = Rules::from_json(r#"[{"pattern": "a", "solution": "x", "extra": 1}]"#).unwrap_err();
        assert!(e.to_string().contains("rules JSON"), "{e}");
        assert!(Rules::from_toml("[[rules]]\npattern = 3").is_err());
        // A pattern whose compiled form is huge is refused instead of eating memory.
        assert!(Rules::from_json(r#"[{"pattern": "\\w{1000}{1000}", "solution": "x"}]"#).is_err());
    }

    #[test]
    fn metrics_count_and_expose() {
        let m = Metrics::default();
        m.record_resolution(Method::ExactMatch, 1.0, true, false, 3e-6);
        m.record_resolution(Method::SimilarityMatch, 0.82, true, false, 40e-6);
        m.record_resolution(Method::MlPrediction, 0.55, false, true, 2.0);
        m.record_resolution(Method::NoMatch, 0.0, false, false, 1e-6);
        m.record_error();
        m.record_outcome(Method::SimilarityMatch, true);
        m.record_outcome(Method::SimilarityMatch, false);
        m.record_outcome(Method::SimilarityMatch, true);
        let s = m.snapshot();
        assert_eq!(s.total, 4);
        assert_eq!(s.resolutions["ml_prediction"], 1);
        assert_eq!((s.unreliable, s.errors), (2, 1));
        let sim = s.outcomes["similarity_match"];
        assert_eq!((sim.success, sim.failure), (2, 1));
        assert!((sim.success_rate().unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.outcomes["exact_match"].success_rate(), None);
        assert_eq!(s.latency_seconds.count, 4);
        assert_eq!(s.latency_seconds.buckets[0], (5e-6, 2));
        assert_eq!(
            s.latency_seconds.buckets.last().unwrap().1,
            3,
            "2 s is above the 1 s bucket"
        );
        assert_eq!(s.confidence.count, 3, "no_match carries no confidence");
        assert!((s.confidence.sum - 2.37).abs() < 1e-12);
        let text = s.to_prometheus();
        assert!(
            text.contains("faultlens_resolutions_total{method=\"exact_match\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("faultlens_resolve_latency_seconds_bucket{le=\"+Inf\"} 4\n"));
        assert!(text.contains(
            "faultlens_outcomes_total{method=\"similarity_match\",result=\"failure\"} 1\n"
        ));
        assert!(text.contains("# TYPE faultlens_resolve_confidence histogram\n"));
        m.reset();
        assert_eq!(m.snapshot().total, 0);
        assert_eq!(m.snapshot().latency_seconds.sum, 0.0);
    }

    #[test]
    fn method_names_round_trip() {
        for m in Method::ALL {
            assert_eq!(Method::parse(m.as_str()).unwrap(), m);
        }
        assert!(Method::parse("magic").is_err());
    }

    fn resolver() -> Resolver {
        let mut r = Resolver::new(ResolverConfig::default()).unwrap();
        r.set_rules(rules());
        r.add_knowledge(
            &[
                "psycopg2.OperationalError: could not connect to server on host 10.0.0.1 port 5432",
                "HikariPool-1 - Connection is not available, request timed out after 30000ms",
                "x509: certificate has expired or is not yet valid",
                "kube-proxy failed to sync iptables rules",
            ],
            &[
                "restart_database_pool",
                "restart_database_pool",
                "renew_tls_certificate",
                "restart_kube_proxy",
            ],
        )
        .unwrap();
        r
    }

    #[test]
    fn cascade_stages_thresholds_and_modes() {
        let r = resolver();
        let a = r
            .resolve("Disk quota exceeded on /var", Mode::Auto)
            .unwrap();
        assert_eq!(
            (a.method, a.solution.as_deref(), a.confidence),
            (Method::ExactMatch, Some("free disk space"), 1.0)
        );
        assert_eq!(a.rule.as_deref(), Some("disk"));
        assert!(
            a.reliable && a.similar.is_empty(),
            "later stages do not run"
        );

        let b = r
            .resolve(
                "psycopg2.OperationalError: could not connect to server on host 10.9.9.9 port 6432",
                Mode::Auto,
            )
            .unwrap();
        assert_eq!(b.method, Method::SimilarityMatch);
        assert_eq!(b.solution.as_deref(), Some("restart_database_pool"));
        assert!((b.confidence - 1.0).abs() < 1e-9 && b.reliable);
        assert_eq!(b.similar[0].id, 0);

        // Nothing above a threshold: the most confident answer, marked unreliable.
        let c = r.resolve("iptables sync slow", Mode::Auto).unwrap();
        assert_eq!(c.method, Method::SimilarityMatch);
        assert!(
            !c.reliable && c.confidence < 0.7 && c.confidence > 0.0,
            "{c:?}"
        );
        assert_eq!(c.solution.as_deref(), Some("restart_kube_proxy"));

        let d = r.resolve("the flux capacitor hummed", Mode::Auto).unwrap();
        assert_eq!(
            (d.method, d.solution, d.confidence, d.reliable),
            (Method::NoMatch, None, 0.0, false)
        );

        // Method preference: similarity only, even though a rule would match.
        let e = r
            .resolve(
                "kube-proxy failed to sync iptables rules: connection refused",
                Mode::Similarity,
            )
            .unwrap();
        assert_eq!(e.method, Method::SimilarityMatch);
        let f = r
            .resolve("kube-proxy: connection refused", Mode::Rules)
            .unwrap();
        assert_eq!(
            (f.method, f.solution.as_deref()),
            (Method::ExactMatch, Some("start the service"))
        );
        assert!(f.similar.is_empty());

        let m = r.metrics();
        assert_eq!(m.total, 6);
        assert_eq!(m.resolutions["exact_match"], 2);
        assert_eq!(m.resolutions["no_match"], 1);
        assert_eq!(m.unreliable, 2);
    }

    #[test]
    fn rule_below_a_raised_exact_threshold_is_a_fallback() {
        // exact_threshold 1.0 always lets rules answer; the cascade still treats it as a threshold.
        let mut r = Resolver::new(ResolverConfig {
            similarity_threshold: 0.99,
            ..Default::default()
        })
        .unwrap();
        r.set_rules(rules());
        let a = r.resolve("connection refused", Mode::Auto).unwrap();
        assert!(a.reliable);
        assert_eq!(a.method, Method::ExactMatch);
    }

    #[test]
    fn bad_input_is_an_error_and_the_resolver_stays_usable() {
        let r = resolver();
        for bad in ["", "   \n"] {
            assert_eq!(
                r.resolve(bad, Mode::Auto).unwrap_err().code(),
                "InvalidInput"
            );
        }
        let huge = "x".repeat(10 << 20);
        let e = r.resolve(&huge, Mode::Auto).unwrap_err();
        assert!(e.to_string().contains("max_text_bytes"), "{e}");
        let e = r.resolve("disk full", Mode::Classifier).unwrap_err();
        assert!(e.to_string().contains("no classifier"), "{e}");
        assert!(Mode::parse("magic").is_err());
        let empty = Resolver::default();
        let e = empty.resolve("disk full", Mode::Auto).unwrap_err();
        assert!(e.to_string().contains("no stage configured"), "{e}");
        let e = r.resolve_batch(&["disk full", ""], Mode::Auto).unwrap_err();
        assert!(e.to_string().contains("text 1"), "{e}");
        assert_eq!(r.metrics().errors, 5);
        assert_eq!(
            r.resolve("disk full", Mode::Auto).unwrap().method,
            Method::ExactMatch
        );
        assert!(r.add_knowledge(&["a"], &["x", "y"]).is_err());
        for (field, cfg) in [
            (
                "similarity_threshold",
                ResolverConfig {
                    similarity_threshold: 1.5,
                    ..Default::default()
                },
            ),
            (
                "top_k",
                ResolverConfig {
                    top_k: 0,
                    ..Default::default()
                },
            ),
        ] {
            match Resolver::new(cfg).unwrap_err() {
                Error::InvalidConfig { field: f, .. } => assert_eq!(f, field),
                other => panic!("{other}"),
            }
        }
    }

    #[test]
    fn batch_equals_single_calls() {
        let r = resolver();
        let texts: Vec<String> = (0..600)
            .map(|i| match i % 3 {
                0 => format!(
                    "HikariPool-{i} - Connection is not available, request timed out after {i}ms"
                ),
                1 => format!("disk full on node{i}"),
                _ => format!("unrelated message {i}"),
            })
            .collect();
        let batch = r.resolve_batch(&texts, Mode::Auto).unwrap();
        for (t, b) in texts.iter().zip(&batch) {
            let one = r.resolve(t, Mode::Auto).unwrap();
            assert_eq!(
                (one.method, &one.solution, one.confidence),
                (b.method, &b.solution, b.confidence)
            );
        }
    }

    #[test]
    fn feedback_learns_and_counts_by_method() {
        let r = resolver();
        let text = "OrderService: ledger lock wait exceeded on shard";
        assert_eq!(r.resolve(text, Mode::Auto).unwrap().method, Method::NoMatch);
        r.record_outcome(text, "raise_lock_timeout", true).unwrap();
        assert_eq!(r.knowledge_size(), 5);
        // The vocabulary is the one fitted first, so only known words count; the pair is found.
        let again = r
            .resolve(
                "OrderService: ledger lock wait exceeded on shard",
                Mode::Similarity,
            )
            .unwrap();
        assert_eq!(again.similar[0].solution, "raise_lock_timeout");
        r.record_outcome("disk full", "free disk space", false)
            .unwrap();
        r.resolve("disk full", Mode::Auto).unwrap();
        r.record_outcome("disk full", "free disk space", true)
            .unwrap();
        let m = r.metrics();
        assert_eq!(m.outcomes["no_match"].success, 1);
        assert_eq!(m.outcomes["exact_match"].success, 1);
        assert_eq!(r.outcomes().len(), 3);
        assert!(r.record_outcome("x", " ", true).is_err());
    }

    #[test]
    fn saves_and_loads_as_one_artifact() {
        let r = resolver();
        let bytes = r.to_bytes().unwrap();
        let back = Resolver::from_bytes(&bytes).unwrap();
        assert_eq!(back.rules(), r.rules());
        assert_eq!(back.knowledge_size(), 4);
        let t = "HikariPool-2 - Connection is not available, request timed out after 5ms";
        assert_eq!(
            back.resolve(t, Mode::Auto).unwrap().solution,
            r.resolve(t, Mode::Auto).unwrap().solution
        );
    }

    #[test]
    fn knowledge_jsonl_errors_name_the_line() {
        let dir = std::env::temp_dir().join(format!("faultlens-kb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("kb.jsonl");
        std::fs::write(&p, "{\"error\": \"disk full\", \"solution\": \"expand\"}\n\n{not json}\n{\"error\": \"x\"}\n").unwrap();
        let e = KnowledgeBase::read_jsonl(&p, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3"), "{e}");
        let (errors, _, skipped) = KnowledgeBase::read_jsonl(&p, true).unwrap();
        assert_eq!((errors.len(), skipped), (1, 2));
        let r = Resolver::default();
        assert_eq!(r.load_knowledge(&p, true).unwrap(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn text_index_pairs() -> (Vec<&'static str>, Vec<Option<String>>) {
        let errors = vec![
            "connection refused to postgres on port 5432",
            "disk quota exceeded on /var/lib/data",
            "certificate has expired for api.example.com",
            "worker timed out waiting for lock on table orders",
        ];
        let sols = ["restart_db", "free_disk", "renew_cert", "kill_lock"]
            .iter()
            .map(|s| Some((*s).to_owned()))
            .collect();
        (errors, sols)
    }

    #[test]
    fn outcomes_are_bounded_by_max_outcomes() {
        let r = Resolver::new(ResolverConfig {
            max_outcomes: 3,
            ..Default::default()
        })
        .unwrap();
        for i in 0..5 {
            r.record_outcome(&format!("error {i}"), "fix", i % 2 == 0)
                .unwrap();
        }
        let kept: Vec<String> = r.outcomes().into_iter().map(|o| o.text).collect();
        assert_eq!(kept, ["error 2", "error 3", "error 4"]);
        assert_eq!(
            r.metrics()
                .outcomes
                .values()
                .map(|c| c.success + c.failure)
                .sum::<u64>(),
            5
        );
    }

    #[test]
    fn a_tfidf_text_index_is_the_knowledge_and_learns() {
        let ix = TextIndex::new(Default::default()).unwrap();
        let (errors, sols) = text_index_pairs();
        ix.add(&errors, Some(sols)).unwrap();
        let mut r = Resolver::default();
        r.add_knowledge(&["unrelated old pair"], &["old"]).unwrap();
        r.set_knowledge_index(&ix).unwrap();
        assert_eq!(
            r.knowledge_size(),
            4,
            "the index replaces the knowledge base"
        );
        assert!(!r.knowledge_is_embedded());
        let res = r
            .resolve("connection refused to postgres on port 6543", Mode::Auto)
            .unwrap();
        assert_eq!(res.method, Method::SimilarityMatch);
        assert_eq!(res.solution.as_deref(), Some("restart_db"));
        assert_eq!(res.similar[0].error, errors[0]);
        assert!(res.reliable && res.confidence > 0.7);
        // The resolver holds a copy: the caller's index is untouched by what the resolver learns.
        r.add_knowledge(&["queue consumer lag above limit"], &["scale_consumers"])
            .unwrap();
        r.resolve("queue consumer lag above limit", Mode::Auto)
            .unwrap();
        r.record_outcome("kafka broker not available", "restart_broker", true)
            .unwrap();
        assert_eq!((r.knowledge_size(), ix.len()), (6, 4));
        let back = Resolver::from_bytes(&r.to_bytes().unwrap()).unwrap();
        assert_eq!(back.knowledge_size(), 6);
        let again = back
            .resolve("queue consumer lag above limit", Mode::Similarity)
            .unwrap();
        assert_eq!(again.solution.as_deref(), Some("scale_consumers"));
        // Embeddings are for indexes of external embeddings only.
        let e = back
            .resolve_embedded("x", &[0.1; 512], Mode::Similarity)
            .unwrap_err();
        assert!(e.to_string().contains("call resolve"), "{e}");
        let e = back
            .add_knowledge_embedded(&["x"], &["y"], &[0.1; 512])
            .unwrap_err();
        assert!(e.to_string().contains("add_knowledge"), "{e}");
    }

    #[test]
    fn an_index_of_external_embeddings_resolves_by_embedding() {
        use crate::index::{Embedding, TextIndexConfig};
        let ix = TextIndex::new(TextIndexConfig {
            embedding: Embedding::External { dim: 3 },
            ..Default::default()
        })
        .unwrap();
        let (errors, sols) = text_index_pairs();
        let vecs = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0];
        ix.add_embedded(&errors, &vecs, Some(sols)).unwrap();
        let mut r = Resolver::default();
        r.set_knowledge_index(&ix).unwrap();
        assert!(r.knowledge_is_embedded());
        let res = r
            .resolve_embedded("anything", &[0.0, 0.1, 0.99], Mode::Auto)
            .unwrap();
        assert_eq!(res.method, Method::SimilarityMatch);
        assert_eq!(res.solution.as_deref(), Some("renew_cert"));
        let e = r.resolve("anything", Mode::Auto).unwrap_err();
        assert!(e.to_string().contains("resolve_embedded"), "{e}");
        let e = r.add_knowledge(&["a"], &["b"]).unwrap_err();
        assert!(e.to_string().contains("add_knowledge_embedded"), "{e}");
        let e = r
            .resolve_embedded("x", &[1.0, 0.0], Mode::Auto)
            .unwrap_err();
        assert!(matches!(e, Error::Dimension { .. }), "{e}");
        assert_eq!(
            r.add_knowledge_embedded(&["new"], &["fix_new"], &[0.0, -1.0, 0.0])
                .unwrap(),
            5
        );
        let batch = r
            .resolve_batch_embedded(
                &["a", "b"],
                &[0.0, -1.0, 0.0, 1.0, 0.0, 0.0],
                Mode::Similarity,
            )
            .unwrap();
        let sols: Vec<_> = batch.iter().map(|b| b.solution.as_deref()).collect();
        assert_eq!(sols, [Some("fix_new"), Some("restart_db")]);
        assert!(
            r.resolve_batch_embedded(&["a", "b"], &[0.0; 5], Mode::Auto)
                .is_err()
        );
        // Feedback is counted but cannot be learned without a vector.
        r.record_outcome("anything", "renew_cert", true).unwrap();
        assert_eq!(r.knowledge_size(), 5);
        let back = Resolver::from_bytes(&r.to_bytes().unwrap()).unwrap();
        assert!(back.knowledge_is_embedded());
        assert_eq!(back.knowledge_size(), 5);
    }
}
