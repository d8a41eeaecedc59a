//! Rule compile time as the rule count grows, up to the sizes docs/resolve.md promises (100,000
//! literal rules, 10,000 regex rules), in wall and process CPU seconds (development aid; release
//! build: `cargo run --release --example profile_rules [literal|regex]`). The rules are those of
//! benches/resolve.rs.
use std::time::Instant;

use faultlens::resolve::{Rule, Rules};

/// Process CPU seconds (user + system) from /proc/self/stat; 0 where that file does not exist.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

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

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    for (n, literal) in [
        (10_000, true),
        (100_000, true),
        (1_000, false),
        (10_000, false),
        (20_000, false),
    ] {
        let kind = if literal { "literal" } else { "regex" };
        if !which.is_empty() && which != kind {
            continue;
        }
        let rules = synthetic_rules(n, literal);
        let (t, c) = (Instant::now(), cpu_seconds());
        let compiled = Rules::new(rules).unwrap();
        println!(
            "{n} {kind} rules: compile {:.2} s wall, {:.2} s CPU",
            t.elapsed().as_secs_f64(),
            cpu_seconds() - c
        );
        std::hint::black_box(compiled);
    }
}
