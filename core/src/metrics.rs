//! Metrics shared by every object that exports them: lock-free counters and histograms (the
//! resolver, the classifier), their snapshots, and the Prometheus text exposition format (0.0.4)
//! that each object's `metrics_prometheus()` writes through one small writer.
//!
//! Several objects' texts are served together with [`merge_prometheus`], which writes one block
//! per family and tells the objects apart by a `name` label, as the Python and Node collectors do.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Confidence buckets.
pub const CONFIDENCE_BUCKETS: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// A lock-free cumulative histogram.
#[derive(Debug)]
pub(crate) struct Histogram {
    bounds: &'static [f64],
    /// Non-cumulative counts per bucket; the last slot is `+Inf`.
    counts: Vec<AtomicU64>,
    /// Sum of observations, as `f64` bits.
    sum: AtomicU64,
}

impl Histogram {
    pub(crate) fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }

    pub(crate) fn observe(&self, v: f64) {
        if !v.is_finite() {
            return;
        }
        let i = self.bounds.partition_point(|&b| b < v);
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.add_sum(v);
    }

    /// An empty local tally with this histogram's buckets.
    pub(crate) fn tally(&self) -> Tally {
        Tally {
            bounds: self.bounds,
            counts: vec![0; self.counts.len()],
            sum: 0.0,
        }
    }

    /// Adds a batch's observations: one atomic add per bucket touched instead of per value.
    pub(crate) fn add(&self, t: &Tally) {
        let mut any = false;
        for (c, &n) in self.counts.iter().zip(&t.counts) {
            if n > 0 {
                c.fetch_add(n, Ordering::Relaxed);
                any = true;
            }
        }
        if any {
            self.add_sum(t.sum);
        }
    }

    fn add_sum(&self, v: f64) {
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

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
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

    pub(crate) fn reset(&self) {
        self.counts
            .iter()
            .for_each(|c| c.store(0, Ordering::Relaxed));
        self.sum.store(0f64.to_bits(), Ordering::Relaxed);
    }
}

/// Observations of one batch, counted without atomics (see [`Histogram::add`]).
pub(crate) struct Tally {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
}

impl Tally {
    pub(crate) fn observe(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        self.counts[self.bounds.partition_point(|&b| b < v)] += 1;
        self.sum += v;
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

/// The type of a metric family, as its `# TYPE` line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A sample value: counters are written as integers, everything else as Prometheus floats.
pub(crate) trait Number {
    fn write_to(self, out: &mut String);
}

impl Number for u64 {
    fn write_to(self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl Number for usize {
    fn write_to(self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl Number for i64 {
    fn write_to(self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl Number for f64 {
    fn write_to(self, out: &mut String) {
        out.push_str(&prom_float(self));
    }
}

impl Number for bool {
    fn write_to(self, out: &mut String) {
        out.push_str(if self { "1" } else { "0" });
    }
}

/// Writes the text exposition format (0.0.4): `# HELP` and `# TYPE` once per family, then its
/// samples, with help text and label values escaped.
#[derive(Debug, Default)]
pub(crate) struct TextWriter {
    out: String,
}

impl TextWriter {
    pub(crate) fn new() -> Self {
        TextWriter {
            out: String::with_capacity(2048),
        }
    }

    /// Starts a family: its `# HELP` and `# TYPE` lines.
    pub(crate) fn family(&mut self, name: &str, kind: Kind, help: &str) -> &mut Self {
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
        self
    }

    /// One sample line of the current family.
    pub(crate) fn sample(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        value: impl Number,
    ) -> &mut Self {
        self.out.push_str(name);
        write_labels(&mut self.out, labels.iter().copied());
        self.out.push(' ');
        value.write_to(&mut self.out);
        self.out.push('\n');
        self
    }

    /// A family of one unlabelled counter.
    pub(crate) fn counter(&mut self, name: &str, help: &str, v: u64) -> &mut Self {
        self.family(name, Kind::Counter, help).sample(name, &[], v)
    }

    /// A family of one unlabelled gauge.
    pub(crate) fn gauge(&mut self, name: &str, help: &str, v: impl Number) -> &mut Self {
        self.family(name, Kind::Gauge, help).sample(name, &[], v)
    }

    /// A histogram family: cumulative `_bucket{le}` lines ending in `+Inf`, `_sum`, `_count`.
    pub(crate) fn histogram(&mut self, name: &str, help: &str, h: &HistogramSnapshot) -> &mut Self {
        self.family(name, Kind::Histogram, help);
        let bucket = format!("{name}_bucket");
        for (b, c) in &h.buckets {
            self.sample(&bucket, &[("le", &prom_float(*b))], *c);
        }
        self.sample(&bucket, &[("le", "+Inf")], h.count);
        self.sample(&format!("{name}_sum"), &[], h.sum);
        self.sample(&format!("{name}_count"), &[], h.count)
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

fn write_labels<'a>(out: &mut String, labels: impl IntoIterator<Item = (&'a str, &'a str)>) {
    let mut first = true;
    for (k, v) in labels {
        out.push(if first { '{' } else { ',' });
        first = false;
        let _ = write!(out, "{k}=\"");
        escape_into(out, v, true);
        out.push('"');
    }
    if !first {
        out.push('}');
    }
}

/// Help text escapes `\` and line feeds; label values also `"`.
fn escape_into(out: &mut String, s: &str, quote: bool) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

fn escape_help(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains(['\\', '\n']) {
        let mut out = String::with_capacity(s.len() + 8);
        escape_into(&mut out, s, false);
        out.into()
    } else {
        s.into()
    }
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

/// One sample line split into its parts, label values unescaped.
#[derive(Debug, PartialEq)]
pub(crate) struct SampleLine<'a> {
    pub(crate) name: &'a str,
    pub(crate) labels: Vec<(&'a str, String)>,
    /// The value and an optional timestamp, as written.
    pub(crate) rest: &'a str,
}

/// Parses `name{label="value",...} value [timestamp]`.
pub(crate) fn parse_sample(line: &str) -> std::result::Result<SampleLine<'_>, String> {
    let end = line.find(['{', ' ', '\t']).unwrap_or(line.len());
    let name = &line[..end];
    let valid_name = |s: &str| {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    if !valid_name(name) {
        return Err(format!("`{name}` is not a metric name"));
    }
    let mut labels = Vec::new();
    let mut rest = &line[end..];
    if let Some(mut s) = rest.strip_prefix('{') {
        loop {
            s = s.trim_start();
            if let Some(after) = s.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = s.find('=').ok_or("a label without `=`")?;
            let key = s[..eq].trim();
            if !valid_name(key) || key.contains(':') {
                return Err(format!("`{key}` is not a label name"));
            }
            s = s[eq + 1..]
                .trim_start()
                .strip_prefix('"')
                .ok_or("a label value without quotes")?;
            let mut value = String::new();
            let mut chars = s.char_indices();
            let close = loop {
                match chars.next() {
                    None => return Err("an unterminated label value".into()),
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, 'n')) => value.push('\n'),
                        _ => return Err("an invalid escape in a label value".into()),
                    },
                    Some((_, c)) => value.push(c),
                }
            };
            if labels.iter().any(|(k, _)| *k == key) {
                return Err(format!("the label `{key}` twice"));
            }
            labels.push((key, value));
            s = s[close + 1..].trim_start();
            if let Some(after) = s.strip_prefix(',') {
                s = after;
            } else if !s.starts_with('}') {
                return Err("labels not separated by `,`".into());
            }
        }
    }
    if !rest.starts_with([' ', '\t']) || rest.trim().is_empty() {
        return Err("a sample without a value".into());
    }
    Ok(SampleLine {
        name,
        labels,
        rest: rest.trim(),
    })
}

/// Serves several objects' `metrics_prometheus()` texts as one scrape: `parts` are
/// `(name, text)` pairs. Each family is written once (its first `# HELP`/`# TYPE`), followed by
/// every part's samples of it, each with the label `name="<name>"` first; that is what the
/// Python and Node collectors expose for objects registered under those names.
///
/// Concatenating texts instead repeats `# HELP`/`# TYPE` lines and, for two objects of one
/// kind, identical series: Prometheus rejects both.
///
/// Errors with [`Error::InvalidInput`] when a name is empty or repeated, a text is not in the
/// text format, a sample already has a `name` label, or two parts give one family different
/// types.
///
/// ```
/// use faultlens::{WindowAggregator, WindowConfig, metrics::merge_prometheus};
///
/// let config = WindowConfig { allowed_lateness_ms: Some(0), ..Default::default() };
/// let a = WindowAggregator::new(config.clone())?;
/// let b = WindowAggregator::new(config)?;
/// let text = merge_prometheus(&[("api", &a.metrics_prometheus()), ("batch", &b.metrics_prometheus())])?;
/// assert_eq!(text.matches("# TYPE faultlens_window_events_total counter").count(), 1);
/// assert!(text.contains("faultlens_window_events_total{name=\"batch\"} 0\n"));
/// # Ok::<(), faultlens::Error>(())
/// ```
pub fn merge_prometheus(parts: &[(&str, &str)]) -> Result<String> {
    #[derive(Default)]
    struct Family {
        help: Option<String>,
        kind: Option<String>,
        samples: String,
    }
    let bad = |part: &str, line: usize, why: &str| {
        Error::InvalidInput(format!(
            "metrics text of `{part}`, line {}: {why}",
            line + 1
        ))
    };
    let mut order: Vec<String> = Vec::new();
    let mut families: HashMap<String, Family> = HashMap::new();
    let mut seen = HashSet::new();
    for &(part, text) in parts {
        if part.is_empty() {
            return Err(Error::InvalidInput("a metrics name is empty".into()));
        }
        if !seen.insert(part) {
            return Err(Error::InvalidInput(format!(
                "the metrics name `{part}` is given twice"
            )));
        }
        // The family the last `# TYPE` line declared: its samples may carry suffixes.
        let mut current: Option<(String, String)> = None;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end();
            if line.trim().is_empty() {
                continue;
            }
            fn slot<'m>(
                families: &'m mut HashMap<String, Family>,
                order: &mut Vec<String>,
                fam: &str,
            ) -> &'m mut Family {
                families.entry(fam.to_owned()).or_insert_with(|| {
                    order.push(fam.to_owned());
                    Family::default()
                })
            }
            if let Some(comment) = line.strip_prefix('#') {
                let mut words = comment.trim_start().splitn(3, ' ');
                match (words.next(), words.next(), words.next()) {
                    (Some("HELP"), Some(fam), help) => {
                        let f = slot(&mut families, &mut order, fam);
                        if f.help.is_none() {
                            f.help = Some(help.unwrap_or("").to_owned());
                        }
                    }
                    (Some("TYPE"), Some(fam), Some(kind)) => {
                        let kind = kind.trim();
                        let f = slot(&mut families, &mut order, fam);
                        match &f.kind {
                            Some(k) if k != kind => {
                                return Err(bad(
                                    part,
                                    i,
                                    &format!("`{fam}` is a {kind} here but a {k} before"),
                                ));
                            }
                            _ => f.kind = Some(kind.to_owned()),
                        }
                        current = Some((fam.to_owned(), kind.to_owned()));
                    }
                    _ => {} // another comment
                }
                continue;
            }
            let s = parse_sample(line).map_err(|e| bad(part, i, &e))?;
            if s.labels.iter().any(|(k, _)| *k == "name") {
                return Err(bad(part, i, "the sample already has a `name` label"));
            }
            let fam = match &current {
                Some((fam, kind)) if belongs(s.name, fam, kind) => fam.clone(),
                _ => s.name.to_owned(),
            };
            let f = slot(&mut families, &mut order, &fam);
            f.samples.push_str(s.name);
            let labels = [("name", part)]
                .into_iter()
                .chain(s.labels.iter().map(|(k, v)| (*k, v.as_str())));
            write_labels(&mut f.samples, labels);
            f.samples.push(' ');
            f.samples.push_str(s.rest);
            f.samples.push('\n');
        }
    }
    let mut out = String::new();
    for fam in &order {
        let f = &families[fam];
        if let Some(help) = &f.help {
            let _ = writeln!(out, "# HELP {fam} {help}");
        }
        if let Some(kind) = &f.kind {
            let _ = writeln!(out, "# TYPE {fam} {kind}");
        }
        out.push_str(&f.samples);
    }
    Ok(out)
}

/// Whether a sample named `sample` is part of the family `fam` of type `kind`.
fn belongs(sample: &str, fam: &str, kind: &str) -> bool {
    let Some(suffix) = sample.strip_prefix(fam) else {
        return false;
    };
    match kind {
        "histogram" => ["", "_bucket", "_sum", "_count"].contains(&suffix),
        "summary" => ["", "_sum", "_count"].contains(&suffix),
        _ => suffix.is_empty(),
    }
}

/// A checker of the text exposition format for tests: every object's text must pass it.
#[cfg(test)]
pub(crate) mod check {
    use std::collections::BTreeMap;

    use super::{belongs, parse_sample};

    /// Label pairs in the order written (`le` included).
    pub(crate) type Labels = Vec<(String, String)>;

    /// One family as parsed: help (unescaped), type, samples `(name, labels, value)`.
    #[derive(Debug, Default)]
    pub(crate) struct Family {
        pub(crate) help: String,
        pub(crate) kind: String,
        pub(crate) samples: Vec<(String, Labels, f64)>,
    }

    impl Family {
        /// The value of the sample with exactly these labels.
        pub(crate) fn value(&self, labels: &[(&str, &str)]) -> f64 {
            let want: Labels = labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let hits: Vec<f64> = self
                .samples
                .iter()
                .filter(|(_, l, _)| *l == want)
                .map(|s| s.2)
                .collect();
            assert_eq!(hits.len(), 1, "one sample with labels {labels:?}: {self:?}");
            hits[0]
        }
    }

    fn unescape_help(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('\\') => out.push('\\'),
                    Some('n') => out.push('\n'),
                    other => panic!("invalid escape in help text: \\{other:?}"),
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Parses `text`, panicking on anything the format does not allow: a family declared twice
    /// or not contiguous, samples before their `# TYPE` or outside a declared family, bad label
    /// syntax or escapes, histograms whose buckets are not cumulative, do not end in `+Inf`, or
    /// disagree with `_count`. Every line must end in a line feed.
    pub(crate) fn parse(text: &str) -> BTreeMap<String, Family> {
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "ends in a line feed"
        );
        let mut fams: BTreeMap<String, Family> = BTreeMap::new();
        let mut current: Option<String> = None;
        let mut closed: Vec<String> = Vec::new();
        for line in text.lines() {
            assert_eq!(line, line.trim(), "no stray whitespace: {line:?}");
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
                assert!(!fams.contains_key(name), "family {name} declared twice");
                if let Some(c) = current.take() {
                    closed.push(c);
                }
                fams.insert(
                    name.to_owned(),
                    Family {
                        help: unescape_help(help),
                        ..Default::default()
                    },
                );
                current = Some(name.to_owned());
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
                assert_eq!(current.as_deref(), Some(name), "TYPE right after its HELP");
                let f = fams.get_mut(name).unwrap();
                assert!(f.kind.is_empty(), "one TYPE line for {name}");
                assert!(
                    ["counter", "gauge", "histogram"].contains(&kind),
                    "type {kind}"
                );
                if kind == "counter" {
                    assert!(name.ends_with("_total"), "counter {name} ends in _total");
                }
                f.kind = kind.to_owned();
                continue;
            }
            assert!(!line.starts_with('#'), "unexpected comment {line}");
            let s = parse_sample(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            let fam = current
                .as_ref()
                .unwrap_or_else(|| panic!("sample before any family: {line}"));
            let f = fams.get_mut(fam).unwrap();
            assert!(!f.kind.is_empty(), "sample before TYPE: {line}");
            assert!(
                belongs(s.name, fam, &f.kind),
                "{line} is not part of the family {fam}"
            );
            assert!(!closed.contains(fam));
            let value = match s.rest {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("value in {line}")),
            };
            let labels = s
                .labels
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            f.samples.push((s.name.to_owned(), labels, value));
        }
        for (name, f) in &fams {
            assert!(!f.kind.is_empty(), "{name} has a TYPE");
            assert!(!f.samples.is_empty(), "{name} has samples");
            if f.kind == "histogram" {
                check_histogram(name, f);
            }
        }
        fams
    }

    fn check_histogram(name: &str, f: &Family) {
        // Series are told apart by their labels other than `le`.
        let mut series: BTreeMap<Labels, Vec<(String, f64)>> = BTreeMap::new();
        let mut counts = BTreeMap::new();
        let mut sums = BTreeMap::new();
        for (sample, labels, v) in &f.samples {
            let mut key = labels.clone();
            if sample.ends_with("_bucket") {
                let pos = key.iter().position(|(k, _)| k == "le").expect("le label");
                let (_, le) = key.remove(pos);
                series.entry(key).or_default().push((le, *v));
            } else if sample.ends_with("_count") {
                counts.insert(key, *v);
            } else {
                assert!(sample.ends_with("_sum"), "{sample}");
                sums.insert(key, *v);
            }
        }
        assert!(!series.is_empty(), "{name} has buckets");
        for (key, buckets) in &series {
            let mut last = (f64::NEG_INFINITY, 0.0);
            for (le, v) in buckets {
                let b: f64 = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                assert!(b > last.0, "{name}: bounds ascending");
                assert!(*v >= last.1, "{name}: buckets cumulative");
                last = (b, *v);
            }
            assert_eq!(last.0, f64::INFINITY, "{name}: ends in +Inf");
            assert_eq!(counts.get(key), Some(&last.1), "{name}: _count is +Inf");
            assert!(sums.contains_key(key), "{name}: has _sum");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_escapes_help_and_label_values() {
        let mut w = TextWriter::new();
        w.family("faultlens_x_total", Kind::Counter, "a \\ b\nc")
            .sample("faultlens_x_total", &[("k", "q\"uo\\te\nnl")], 3u64);
        w.gauge("faultlens_g", "G.", 0.25);
        let text = w.finish();
        assert_eq!(
            text,
            "# HELP faultlens_x_total a \\\\ b\\nc\n# TYPE faultlens_x_total counter\n\
             faultlens_x_total{k=\"q\\\"uo\\\\te\\nnl\"} 3\n\
             # HELP faultlens_g G.\n# TYPE faultlens_g gauge\nfaultlens_g 0.25\n"
        );
        let fams = check::parse(&text);
        assert_eq!(fams["faultlens_x_total"].help, "a \\ b\nc");
        assert_eq!(
            fams["faultlens_x_total"].value(&[("k", "q\"uo\\te\nnl")]),
            3.0
        );
    }

    #[test]
    fn histograms_are_cumulative_and_end_in_inf() {
        let h = Histogram::new(&CONFIDENCE_BUCKETS);
        for v in [0.05, 0.15, 0.15, 0.95, 7.0, f64::NAN] {
            h.observe(v);
        }
        let mut w = TextWriter::new();
        w.histogram("faultlens_h", "H.", &h.snapshot());
        let text = w.finish();
        let f = &check::parse(&text)["faultlens_h"];
        assert_eq!(f.value(&[("le", "0.1")]), 1.0);
        assert_eq!(f.value(&[("le", "0.2")]), 3.0);
        assert_eq!(f.value(&[("le", "1.0")]), 4.0);
        assert_eq!(f.value(&[("le", "+Inf")]), 5.0);
        assert!(text.contains("faultlens_h_count 5\n"), "{text}");
        assert!(text.contains("faultlens_h_sum 8.3\n"), "{text}");
    }

    #[test]
    fn merge_writes_each_family_once_with_a_name_label() {
        let part = |v: u64| {
            let mut w = TextWriter::new();
            w.counter("faultlens_c_total", "C.", v);
            w.family("faultlens_l", Kind::Gauge, "L.")
                .sample("faultlens_l", &[("level", "a")], 1u64)
                .sample("faultlens_l", &[("level", "b")], 0u64);
            w.histogram("faultlens_h", "H.", &Histogram::new(&[0.5]).snapshot());
            w.finish()
        };
        let (a, b) = (part(1), part(2));
        let text = merge_prometheus(&[("first", &a), ("we\"ird\\", &b)]).unwrap();
        let fams = check::parse(&text);
        assert_eq!(fams.len(), 3);
        let c = &fams["faultlens_c_total"];
        assert_eq!(c.value(&[("name", "first")]), 1.0);
        assert_eq!(c.value(&[("name", "we\"ird\\")]), 2.0);
        assert_eq!(
            fams["faultlens_l"].value(&[("name", "first"), ("level", "b")]),
            0.0
        );
        assert_eq!(fams["faultlens_h"].samples.len(), 8);
        assert!(
            text.contains("faultlens_c_total{name=\"we\\\"ird\\\\\"} 2\n"),
            "{text}"
        );
        // One part alone only gains the label.
        assert_eq!(
            merge_prometheus(&[("x", &a)])
                .unwrap()
                .replace("{name=\"x\"}", "")
                .replace("name=\"x\",", ""),
            a
        );
    }

    #[test]
    fn the_resolver_text_passes_the_checker() {
        let r = crate::resolve::Resolver::new(Default::default()).unwrap();
        let fams = check::parse(&r.metrics_prometheus());
        assert_eq!(fams.len(), 7);
        let merged = merge_prometheus(&[
            ("a", &r.metrics_prometheus()),
            ("b", &r.metrics_prometheus()),
        ]);
        let fams = check::parse(&merged.unwrap());
        assert_eq!(
            fams["faultlens_resolve_latency_seconds"].value(&[("name", "b"), ("le", "+Inf")]),
            0.0
        );
    }

    #[test]
    fn merge_rejects_what_prometheus_would() {
        let mut w = TextWriter::new();
        w.counter("faultlens_c_total", "C.", 1);
        let a = w.finish();
        let err = |parts: &[(&str, &str)]| merge_prometheus(parts).unwrap_err().to_string();
        assert!(err(&[("a", &a), ("a", &a)]).contains("`a` is given twice"));
        assert!(err(&[("", &a)]).contains("empty"));
        let named = "# TYPE x gauge\nx{name=\"y\"} 1\n";
        assert!(err(&[("a", named)]).contains("already has a `name` label"));
        let other = "# TYPE faultlens_c_total gauge\nfaultlens_c_total 1\n";
        assert!(err(&[("a", &a), ("b", other)]).contains("is a gauge here but a counter"));
        for broken in [
            "x{a=\"1} 2",
            "x{a=1} 2",
            "x{a=\"\\q\"} 2",
            "x",
            "9x 1",
            "x{a=\"1\"b=\"2\"} 3",
        ] {
            assert!(err(&[("a", broken)]).contains("line 1"), "{broken}");
        }
    }
}
