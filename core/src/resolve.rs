//! The resolver cascade users run today — exact regex rules, then similar past errors, then a
//! classifier — and the metrics a host service exposes at `/metrics` (issue 5).
//!
//! This file holds the pieces that do not depend on the knowledge base or the classifier:
//! [`Rules`] (hand-written rule files, JSON or TOML) and [`Metrics`] (counters and histograms,
//! snapshot and Prometheus text exposition).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Compiled size limit per rule: the `regex` crate never backtracks, so matching is linear in the
/// text; this bounds the memory a hand-written rule can take.
const RULE_SIZE_LIMIT: usize = 1 << 20;

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
#[derive(Clone, Debug)]
pub struct Rules {
    rules: Vec<Rule>,
    compiled: Vec<Regex>,
    set: RegexSet,
}

impl PartialEq for Rules {
    fn eq(&self, other: &Self) -> bool {
        self.rules == other.rules
    }
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            rules: Vec::new(),
            compiled: Vec::new(),
            set: RegexSet::empty(),
        }
    }
}

impl Rules {
    /// Compiles `rules`; an invalid pattern is an error naming the rule.
    pub fn new(mut rules: Vec<Rule>) -> Result<Self> {
        let mut compiled = Vec::with_capacity(rules.len());
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
            let re = RegexBuilder::new(&r.pattern)
                .case_insensitive(true)
                .size_limit(RULE_SIZE_LIMIT)
                .build()
                .map_err(|e| {
                    Error::InvalidInput(format!(
                        "rule {} `{}`: invalid regex {:?}: {e}",
                        i + 1,
                        r.name,
                        r.pattern
                    ))
                })?;
            compiled.push(re);
        }
        let set = RegexSetBuilder::new(rules.iter().map(|r| &r.pattern))
            .case_insensitive(true)
            .size_limit(RULE_SIZE_LIMIT.saturating_mul(rules.len().max(1)))
            .build()
            .map_err(|e| Error::InvalidInput(format!("rules do not compile together: {e}")))?;
        Ok(Rules {
            rules,
            compiled,
            set,
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
        let text = std::fs::read_to_string(path)?;
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
        if self.rules.is_empty() {
            return None;
        }
        // One pass over the text for all rules; the lowest index is the first rule in file order.
        let i = self.set.matches(text).iter().next()?;
        debug_assert!(self.compiled[i].is_match(text));
        Some((i, &self.rules[i]))
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
    errors: AtomicU64,
    success: [AtomicU64; 4],
    failure: [AtomicU64; 4],
    latency: Histogram,
    confidence: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            resolutions: Default::default(),
            unreliable: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            success: Default::default(),
            failure: Default::default(),
            latency: Histogram::new(&LATENCY_BUCKETS),
            confidence: Histogram::new(&CONFIDENCE_BUCKETS),
        }
    }
}

impl Metrics {
    /// Records one resolution.
    pub fn record_resolution(&self, method: Method, confidence: f64, reliable: bool, seconds: f64) {
        self.resolutions[method.index()].fetch_add(1, Ordering::Relaxed);
        if !reliable {
            self.unreliable.fetch_add(1, Ordering::Relaxed);
        }
        self.latency.observe(seconds);
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
            .chain([&self.unreliable, &self.errors])
        {
            a.store(0, Ordering::Relaxed);
        }
        self.latency.reset();
        self.confidence.reset();
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
    /// Resolutions whose answer was below its stage's threshold.
    pub unreliable: u64,
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
            "Resolutions answered below their stage's threshold.",
            self.unreliable,
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

#[cfg(test)]
mod tests {
    use super::*;

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
        m.record_resolution(Method::ExactMatch, 1.0, true, 3e-6);
        m.record_resolution(Method::SimilarityMatch, 0.82, true, 40e-6);
        m.record_resolution(Method::MlPrediction, 0.55, false, 2.0);
        m.record_resolution(Method::NoMatch, 0.0, false, 1e-6);
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
}
