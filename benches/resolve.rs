//! The resolver cascade on real log lines: 50 rules and a 10,000-pair knowledge base built from
//! Loghub (error text → its template id as the "solution"), queried with the other lines.
//! Prints single-call latency percentiles (p50/p99, one thread) before criterion's runs, then
//! benches single calls and batches on one core and all cores.
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use faultlens::resolve::{Mode, Resolver, ResolverConfig, Rule, Rules};

/// (text, solution, template) of every Loghub line, or a synthetic stand-in without the data.
fn labelled() -> Vec<(String, String, String)> {
    let Some(dir) = faultlens_suite::loghub_dir() else {
        return (0..16_000)
            .map(|i| {
                let k = i % 40;
                (
                    format!(
                        "service {k} failed at step {i}: code E{k} on 10.0.{}.{}",
                        i % 250,
                        i % 7
                    ),
                    format!("fix_{k}"),
                    format!("service <*> failed at step <*>: code E{k} on <*>"),
                )
            })
            .collect();
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            out.push((
                s("text"),
                format!("{}:{}", s("system"), s("label")),
                s("template"),
            ));
        }
    }
    out
}

/// The same split and rules as benches/python/bench_resolve.py: every 8th line is a query
/// (2,000), the first 10,000 others are the knowledge base; 50 rules match the longest literal
/// piece of 50 templates (the most frequent ones, so rules do fire).
pub fn setup() -> (Resolver, Vec<String>) {
    let rows = labelled();
    let (mut kb_err, mut kb_sol, mut queries) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (text, sol, _)) in rows.iter().enumerate() {
        if i % 8 == 0 {
            queries.push(text.clone());
        } else if kb_err.len() < 10_000 {
            kb_err.push(text.clone());
            kb_sol.push(sol.clone());
        }
    }
    let mut counts: std::collections::BTreeMap<(&str, &str), usize> = Default::default();
    for (_, sol, tpl) in &rows {
        *counts.entry((sol.as_str(), tpl.as_str())).or_default() += 1;
    }
    let mut by_freq: Vec<_> = counts.into_iter().collect();
    by_freq.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let rules: Vec<Rule> = by_freq
        .iter()
        .filter_map(|((sol, tpl), _)| {
            let piece = tpl.split("<*>").map(str::trim).max_by_key(|p| p.len())?;
            (piece.len() >= 8).then(|| Rule {
                name: (*sol).to_owned(),
                pattern: regex_escape(piece),
                solution: (*sol).to_owned(),
            })
        })
        .take(50)
        .collect();
    let mut r = Resolver::new(ResolverConfig::default()).unwrap();
    r.set_rules(Rules::new(rules).unwrap());
    r.add_knowledge(&kb_err, &kb_sol).unwrap();
    (r, queries)
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Latency percentiles of single calls. The first pass over the queries is reported on its own
/// ("cold"): it also fills the regexes' lazy DFA caches (masks and rules, built state by state as
/// new kinds of line arrive) and the per-thread stem cache, a one-off cost a running service has
/// paid long before; the steady-state figures are the three passes after it, as criterion warms
/// up before it measures.
fn percentiles(r: &Resolver, queries: &[String]) {
    let time = |q: &String| {
        let t = Instant::now();
        std::hint::black_box(r.resolve(q, Mode::Auto).unwrap());
        t.elapsed().as_secs_f64() * 1e6
    };
    let report = |what: &str, mut us: Vec<f64>| {
        us.sort_by(f64::total_cmp);
        let p = |q: f64| us[((us.len() - 1) as f64 * q) as usize];
        println!(
            "resolve single call, {what}, {} calls: p50 {:.1} us, p99 {:.1} us, max {:.1} us",
            us.len(),
            p(0.5),
            p(0.99),
            p(1.0)
        );
    };
    report("cold first pass", queries.iter().map(time).collect());
    report(
        "steady state",
        (0..3).flat_map(|_| queries.iter().map(time)).collect(),
    );
}

fn bench(c: &mut Criterion) {
    let (r, queries) = setup();
    percentiles(&r, &queries);
    let mut g = c.benchmark_group("resolve");
    g.sample_size(10);
    g.throughput(Throughput::Elements(queries.len() as u64));
    g.bench_function(BenchmarkId::new("single_calls", queries.len()), |b| {
        b.iter(|| {
            for q in &queries {
                std::hint::black_box(r.resolve(q, Mode::Auto).unwrap());
            }
        })
    });
    for parallel in [false, true] {
        let cores = if parallel { "all_cores" } else { "one_core" };
        g.bench_function(BenchmarkId::new("batch", cores), |b| {
            faultlens::set_parallelism(parallel);
            b.iter(|| r.resolve_batch(&queries, Mode::Auto).unwrap());
            faultlens::set_parallelism(true);
        });
    }
    g.finish();
}

/// `n` distinct rules: plain strings (`literal`), or regexes with classes, repetition and
/// alternation.
fn synthetic_rules(n: usize, literal: bool) -> Vec<Rule> {
    (0..n)
        .map(|i| Rule {
            name: format!("r{i}"),
            pattern: if literal {
                format!("service-{i} failed with code E{}", i % 977)
            } else {
                format!(r"(conn|socket) refused .* port {i}\b|timeout after \d+ ms in svc{i}")
            },
            solution: format!("fix {i}"),
        })
        .collect()
}

/// Rule compile time as the rule count grows (it used to grow superlinearly: one `RegexSet` over
/// all rules), timed once per size since the large sizes take seconds, then the cost of
/// `first_match` on large rule sets (criterion).
fn compile(c: &mut Criterion) {
    let texts: Vec<String> = (0..200)
        .map(|i| {
            format!(
                "worker 3: service-{} failed with code E{} after timeout after 30 ms in svc{}",
                i * 37,
                (i * 37) % 977,
                i * 41
            )
        })
        .collect();
    let mut sets = Vec::new();
    for (n, literal) in [
        (1_000, true),
        (10_000, true),
        (100_000, true),
        (1_000, false),
        (10_000, false),
    ] {
        let rules = synthetic_rules(n, literal);
        let t = Instant::now();
        let compiled = Rules::new(rules).unwrap();
        let kind = if literal { "literal" } else { "regex" };
        println!(
            "rules compile, {n} {kind} rules: {:.2} s",
            t.elapsed().as_secs_f64()
        );
        if n >= 10_000 {
            sets.push((format!("{n}_{kind}"), compiled));
        }
    }
    let mut g = c.benchmark_group("rules_first_match");
    g.sample_size(10);
    g.throughput(Throughput::Elements(texts.len() as u64));
    for (name, rules) in &sets {
        g.bench_function(BenchmarkId::new("texts", name), |b| {
            b.iter(|| {
                for t in &texts {
                    std::hint::black_box(rules.first_match(t));
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench, compile);
criterion_main!(benches);
