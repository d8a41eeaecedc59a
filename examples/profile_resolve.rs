//! Times every benchmark query of benches/resolve.rs many times and prints the per-query minimum
//! (noise removed) percentiles and the slowest queries with their stage, for finding what makes
//! the p99 (development aid).
use faultlens::resolve::Mode;

#[path = "../benches/resolve.rs"]
#[allow(dead_code)]
mod resolve_bench;

fn main() {
    let (r, queries) = resolve_bench::setup();
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let mut best = vec![f64::INFINITY; queries.len()];
    let mut pass_p99 = Vec::with_capacity(reps);
    for _ in 0..reps {
        let mut pass = Vec::with_capacity(queries.len());
        for (i, q) in queries.iter().enumerate() {
            let t = std::time::Instant::now();
            std::hint::black_box(r.resolve(q, Mode::Auto).unwrap());
            let us = t.elapsed().as_secs_f64() * 1e6;
            best[i] = best[i].min(us);
            pass.push(us);
        }
        pass.sort_by(f64::total_cmp);
        pass_p99.push(format!("{:.1}", pass[(pass.len() - 1) * 99 / 100]));
    }
    // The first pass also fills the lazy DFA caches of the masks and rules and the stem cache.
    println!("raw p99 per pass (us): {}", pass_p99.join(" "));
    let mut order: Vec<usize> = (0..queries.len()).collect();
    order.sort_by(|&a, &b| best[b].total_cmp(&best[a]));
    let mut sorted = best.clone();
    sorted.sort_by(f64::total_cmp);
    let p = |q: f64| sorted[((sorted.len() - 1) as f64 * q) as usize];
    println!(
        "per-query minimum over {reps} runs: p50 {:.1} us, p90 {:.1} us, p99 {:.1} us, max {:.1} us",
        p(0.5),
        p(0.9),
        p(0.99),
        p(1.0)
    );
    for &i in order.iter().take(15) {
        let res = r.resolve(&queries[i], Mode::Auto).unwrap();
        println!(
            "{:8.1} us {:>16} {:5} chars  {}",
            best[i],
            res.method.as_str(),
            queries[i].len(),
            queries[i].chars().take(100).collect::<String>()
        );
    }
    let slow: Vec<&String> = order.iter().take(5).map(|&i| &queries[i]).collect();
    transform_times(&r, &queries, &slow);
    for q in &slow {
        let mut best = f64::INFINITY;
        for _ in 0..50 {
            let t = std::time::Instant::now();
            std::hint::black_box(r.rules().first_match(q));
            best = best.min(t.elapsed().as_secs_f64() * 1e6);
        }
        println!("rules {best:.1} us");
    }
    if std::env::var_os("PROFILE_SLOW").is_some() {
        for _ in 0..20_000 {
            for q in &slow {
                std::hint::black_box(r.resolve(q, Mode::Auto).unwrap());
            }
        }
    }
    if std::env::var_os("PROFILE_TRANSFORM").is_some() {
        let p = faultlens::Preprocessor::new(Default::default()).unwrap();
        for _ in 0..20_000 {
            for q in &slow {
                std::hint::black_box(p.tokens(q));
            }
        }
    }
}

/// Time of the TF-IDF transform alone for the slowest queries (same config as the knowledge base).
fn transform_times(r: &faultlens::resolve::Resolver, kb: &[String], qs: &[&String]) {
    let mut v = faultlens::TfidfVectorizer::new(r.config().knowledge_vectorizer.clone()).unwrap();
    v.fit(kb).unwrap();
    for q in qs {
        let mut best = f64::INFINITY;
        let mut nnz = 0;
        for _ in 0..50 {
            let t = std::time::Instant::now();
            let m = v.transform(&[q.as_str()]).unwrap();
            best = best.min(t.elapsed().as_secs_f64() * 1e6);
            nnz = m.row(0).0.len();
        }
        println!("transform {best:.1} us, {nnz} features");
    }
}
