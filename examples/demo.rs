//! `make demo`: the main job end to end on the bundled data (examples/data): train the classifier
//! on past errors and their remedies, resolve a stream of new errors through the cascade
//! (rules → similar past errors → classifier), watch the classifier's confidence for drift, fire
//! incidents from the same stream, and print the metrics a host would serve at `/metrics`.

use std::time::Instant;

use faultlens::resolve::{Mode, Resolver, ResolverConfig};
use faultlens::window::{GroupInput, GrouperConfig, IncidentGrouper, RateTrigger};
use faultlens::{
    Artifact, ClassifierConfig, Event, KlDriftConfig, KlDriftDetector, ModelKind, TextClassifier,
    WindowAggregator, WindowConfig,
};

/// A small deterministic generator (xorshift64*), so every run prints the same story.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A new occurrence of a known error: same text, other numbers (what production logs look like).
fn reoccur(rng: &mut Rng, text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                char::from(b'0' + rng.below(10) as u8)
            } else {
                c
            }
        })
        .collect()
}

/// Errors nobody has seen before: a new dependency started failing after a deploy.
const NOVEL: [&str; 4] = [
    "kafka consumer group orders-7 rebalance failed: member 12 left during sync",
    "grpc: received message larger than max (5242880 vs. 4194304) from ledger-9",
    "redis cluster slot 1234 moved to 10.1.2.3:6379 during failover",
    "feature flag service returned malformed payload for flag checkout-v2",
];

const SERVICES: [&str; 4] = ["checkout", "payments", "search", "billing"];

/// `text` cut to at most `max` characters at a word boundary, with "…" when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max.saturating_sub(1)).collect();
    let at = head
        .rfind(' ')
        .filter(|&i| i > max / 2)
        .unwrap_or(head.len());
    format!("{}…", head[..at].trim_end())
}

/// A duration a person reads: "850 µs", "1.2 ms", "<1 µs" (never "0 µs").
fn took(us: u64) -> String {
    match us {
        0 => "<1 µs".into(),
        1..=999 => format!("{us} µs"),
        _ => format!("{:.1} ms", us as f64 / 1e3),
    }
}

/// Milliseconds since the Unix epoch as UTC, "2026-01-01 04:00:00 UTC" (days to civil date:
/// H. Hinnant's algorithm; no time-zone database needed for UTC).
fn utc(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000) / 1000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, mi, se) = (rem / 3600, rem / 60 % 60, rem % 60);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{se:02} UTC")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let body = std::fs::read_to_string(root.join("errors.jsonl"))?;
    let rows: Vec<serde_json::Value> = body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let errors: Vec<&str> = rows.iter().filter_map(|r| r["error"].as_str()).collect();
    let remedies: Vec<&str> = rows.iter().filter_map(|r| r["solution"].as_str()).collect();
    println!(
        "faultlens {} demo: {} past errors and the remedies operators applied\n",
        faultlens::VERSION,
        errors.len()
    );

    println!("== 1. train the classifier (model chosen by 5-fold cross-validation)");
    let mut classifier = TextClassifier::new(ClassifierConfig {
        model: ModelKind::Auto,
        ..Default::default()
    })?;
    classifier.fit(&errors, &remedies)?;
    let info = classifier.training_info()?;
    for c in &info.cv_scores {
        println!(
            "  {:12} accuracy {:.3}  macro-F1 {:.3}",
            c.model.name(),
            c.accuracy,
            c.macro_f1
        );
    }
    println!(
        "  picked {} over {} remedies, {} features, trained in {:.0} ms\n",
        info.model.name(),
        classifier.classes()?.len(),
        info.n_features,
        info.fit_seconds * 1e3
    );

    println!("== 2. resolve new errors: rules → similar past errors → classifier");
    let mut resolver = Resolver::new(ResolverConfig::default())?;
    resolver.load_rules(root.join("rules.toml"))?;
    resolver.load_knowledge(root.join("errors.jsonl"), false)?;
    resolver.set_classifier(classifier.clone())?;
    let mut rng = Rng(0x5eed_f00d);
    // An hour of traffic: 3,000 errors; in the last third a new failure mode appears.
    let stream: Vec<String> = (0..3000)
        .map(|i| {
            if i >= 2000 && rng.below(2) == 0 {
                let novel = NOVEL[rng.below(NOVEL.len())];
                reoccur(&mut rng, novel)
            } else {
                let j = rng.below(errors.len());
                reoccur(&mut rng, errors[j])
            }
        })
        .collect();
    let started = Instant::now();
    let answers = resolver.resolve_batch(&stream, Mode::Auto)?;
    let batch_s = started.elapsed().as_secs_f64();
    let shown = [0usize, 1, 2, 3, 2001, 2003];
    for &i in &shown {
        let a = &answers[i];
        let text = cut(&stream[i], 72);
        println!(
            "  {text}\n    -> {} via {} (confidence {:.2}{}), {}",
            a.solution.as_deref().unwrap_or("-"),
            a.method.as_str(),
            a.confidence,
            if a.reliable { "" } else { ", unreliable" },
            took(a.elapsed_us)
        );
    }
    let mut by_method = std::collections::BTreeMap::new();
    for a in &answers {
        *by_method.entry(a.method.as_str()).or_insert(0usize) += 1;
    }
    println!(
        "  {} errors resolved in {:.1} ms ({:.0}/s): {:?}\n",
        stream.len(),
        batch_s * 1e3,
        stream.len() as f64 / batch_s,
        by_method
    );
    // Operators confirm two answers; one works, one does not.
    for (i, worked) in [(0usize, true), (1, false)] {
        let sol = answers[i].solution.as_deref().unwrap_or("-");
        resolver.record_outcome(&stream[i], sol, worked)?;
        println!(
            "  feedback: {} for \"{}\" {}",
            sol,
            cut(&stream[i], 48),
            if worked { "worked" } else { "did not work" }
        );
    }
    let summary = resolver.summary();
    println!(
        "  summary: {} resolutions, mean {:.3} ms, max {:.3} ms, mean confidence {:.2}; outcomes {} ({} worked)\n",
        summary.total,
        summary.mean_latency_ms.unwrap_or(0.0),
        summary.max_latency_ms.unwrap_or(0.0),
        summary.mean_confidence.unwrap_or(0.0),
        summary.outcomes,
        summary.by_solution.values().map(|s| s.success).sum::<u64>()
    );

    println!("== 3. watch the classifier's confidence for drift");
    let confidence: Vec<f64> = stream
        .iter()
        .map(|t| classifier.predict_one(t).map(|p| p.confidence))
        .collect::<Result<_, _>>()?;
    // Baseline: the first 1,000 errors (a normal period). The threshold is calibrated from the
    // baseline itself (false-alarm rate 1e-4 per check), not a fixed KL of 0.5.
    let config = KlDriftConfig {
        window: 300,
        ..Default::default()
    };
    let mut detector = KlDriftDetector::from_baseline(&confidence[..1000], config)?;
    let t0 = 1_767_225_600.0; // 2026-01-01, one error every 1.2 s
    let mut first_drift = None;
    for (i, &c) in confidence.iter().enumerate().skip(1000) {
        let check = detector.add(c, Some(t0 + i as f64 * 1.2))?;
        if check.drift && first_drift.is_none() {
            // Either window can flag: the main one or the short one (its last scores only).
            first_drift = Some((i, detector.status()?));
        }
    }
    let status = detector.status()?;
    match first_drift {
        Some((i, s)) => {
            let short = s.short_thresholds.map_or(f64::INFINITY, |t| t.drift);
            let which = if s.kl > s.thresholds.drift {
                format!(
                    "the {}-score window's KL {:.3} crossed its calibrated drift threshold {:.3}",
                    s.window_size, s.kl, s.thresholds.drift
                )
            } else {
                format!(
                    "the last-{} window's KL {:.3} crossed its drift threshold {:.3} (the {}-score window's KL {:.3} was not over its {:.3})",
                    s.short_window, s.short_kl, short, s.window_size, s.kl, s.thresholds.drift
                )
            };
            println!("  drift at error #{i}: {which}; the new failure mode began at #2000")
        }
        None => println!("  no drift detected"),
    }
    let summary = detector.summary(1.0)?;
    println!(
        "  status: level {}, KL {:.3}, PSI {:.3}, window mean confidence {:.2}; {} drift event(s), should retrain: {}\n",
        status.level,
        status.kl,
        status.psi,
        status.window_mean,
        summary.drift_count,
        status.should_retrain
    );

    println!("== 4. incidents: (service, route, remedy) counted over a 5-minute event-time window");
    // Fires above 10 errors, or (rate trigger) at 8+ errors when that is 3x a key's own normal.
    let mut aggregator = WindowAggregator::new(WindowConfig {
        threshold: 10,
        allowed_lateness_ms: Some(10_000),
        rate: Some(RateTrigger {
            factor: 3.0,
            min_count: 8,
            ..Default::default()
        }),
        ..Default::default()
    })?;
    const T0_MS: i64 = 1_767_225_600_000; // 2026-01-01 00:00:00 UTC
    // Every error becomes an event (six hours, one every 7.2 s); at hour 4 billing's database pool
    // melts down (40 errors in 90 s), and checkout, on the same database, follows a minute later
    // (25 errors); at hour 5 search's disk fills up (15 errors). Events arrive up to 4 s out of
    // order; three of billing's burst arrive two minutes late, past the 10 s allowed lateness.
    let mut owned: Vec<(i64, String, String, String, String)> = Vec::new();
    for (i, (text, a)) in stream.iter().zip(&answers).enumerate() {
        let ts = i as i64 * 7200 + rng.below(4000) as i64;
        let service = SERVICES[rng.below(SERVICES.len())].to_owned();
        let remedy = a.solution.clone().unwrap_or_else(|| "unknown".into());
        owned.push((ts, service, "/api/v1/orders".into(), remedy, text.clone()));
    }
    for k in 0..40 {
        let ts = 4 * 3_600_000 + k * 2250;
        let text = format!(
            "[billing] db pool exhausted: {}/50 connections in use",
            50 + k
        );
        owned.push((
            ts,
            "billing".into(),
            "/api/v1/pay".into(),
            "restart_database_pool".into(),
            text,
        ));
    }
    for k in 0..25 {
        let ts = 4 * 3_600_000 + 60_000 + k * 3000;
        let text = format!(
            "[checkout] db pool exhausted: {}/50 connections in use",
            45 + k
        );
        let (service, route) = ("checkout".into(), "/api/v1/cart".into());
        owned.push((ts, service, route, "restart_database_pool".into(), text));
    }
    for k in 0..15 {
        let ts = 5 * 3_600_000 + k * 5000;
        let text = format!(
            "[search] write failed: no space left on device /dev/sdb{}",
            k % 3
        );
        let (service, route) = ("search".into(), "/api/v1/search".into());
        owned.push((ts, service, route, "clean_disk".into(), text));
    }
    // Arrival order ≠ event time: a few seconds of jitter, and three events two minutes late.
    owned.sort_by_key(|e| {
        let late = e.2 == "/api/v1/pay" && (e.0 / 2250) % 13 == 0;
        e.0 + (e.4.len() as i64 % 7) * 500 + if late { 120_000 } else { 0 }
    });
    let events: Vec<Event<'_>> = owned
        .iter()
        .map(|(ts, s, r, c, m)| Event::new(T0_MS + *ts, s, r, c).message(m))
        .collect();
    let mut outcome = aggregator.push_batch(&events);
    let flushed = aggregator.flush();
    outcome.incidents.extend(flushed.incidents);
    for inc in &outcome.incidents {
        println!(
            "  incident {}: {} {} {}: {} errors from {} to {} ({} trigger, severity {:?})\n    e.g. {}",
            &inc.id[..8.min(inc.id.len())],
            inc.key.service.as_deref().unwrap_or("*"),
            inc.key.route.as_deref().unwrap_or("*"),
            inc.key.error_code.as_deref().unwrap_or("*"),
            inc.count,
            utc(inc.start_ms),
            utc(inc.end_ms),
            inc.trigger.as_str(),
            inc.severity,
            cut(inc.samples.first().map(String::as_str).unwrap_or(""), 72)
        );
    }
    // Incidents of different keys whose messages say the same thing are one problem; the group
    // ids stay the same however the incidents arrive.
    let mut grouper = IncidentGrouper::new(GrouperConfig::default())?;
    let texts: Vec<String> = outcome
        .incidents
        .iter()
        .map(|i| i.samples.join("\n"))
        .collect();
    let inputs: Vec<GroupInput<'_>> = outcome
        .incidents
        .iter()
        .zip(&texts)
        .map(|(i, t)| GroupInput {
            id: &i.id,
            time_ms: i.start_ms,
            text: Some(t),
            embedding: None,
        })
        .collect();
    grouper.add(&inputs)?;
    println!(
        "  grouped by message similarity: {} incident(s) -> {} problem(s)",
        grouper.len(),
        grouper.groups().len()
    );
    for g in grouper.groups() {
        let short: Vec<&str> = g.members.iter().map(|m| &m[..8.min(m.len())]).collect();
        println!(
            "    problem {}: {}",
            &g.id[..8.min(g.id.len())],
            short.join(", ")
        );
    }
    let stats = aggregator.stats();
    println!(
        "  {} events, {} late (reported, not counted), {} live keys\n",
        stats.events, stats.late_events, stats.live_keys
    );

    println!("== 5. metrics excerpt (Prometheus text, as served at /metrics)");
    for line in resolver.metrics_prometheus().lines() {
        if line.starts_with("faultlens_resolutions_total")
            || line.starts_with("faultlens_outcomes_total")
            || line.starts_with("faultlens_resolve_latency_seconds_count")
        {
            println!("  {line}");
        }
    }

    println!("\n== 6. one model file for the whole resolver");
    let path = std::env::temp_dir().join(format!("faultlens-demo-{}.flm", std::process::id()));
    resolver.save(&path)?;
    let info = faultlens::models::inspect(&path)?;
    let reloaded = Resolver::load(&path)?;
    let again = reloaded.resolve(&stream[3], Mode::Auto)?;
    println!(
        "  saved {} ({} KiB, kind {}, format v{}); reloaded answer equal: {}",
        path.display(),
        std::fs::metadata(&path)?.len() / 1024,
        info.kind,
        info.format_version,
        again.solution == answers[3].solution
    );
    std::fs::remove_file(&path)?;
    Ok(())
}
