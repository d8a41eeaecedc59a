//! Single-threaded TF-IDF (1..3) transform of the Loghub lines in a loop, for `perf record` (development aid).
use faultlens::{TfidfConfig, TfidfVectorizer};
fn main() {
    let lines = faultlens_suite::loghub_texts().expect("needs ../shared/data/loghub");
    faultlens::set_parallelism(false);
    let mut v = TfidfVectorizer::new(TfidfConfig {
        ngram_range: (1, 3),
        ..Default::default()
    })
    .unwrap();
    v.fit(&lines).unwrap();
    let t = std::time::Instant::now();
    let mut nnz = 0;
    for _ in 0..10 {
        nnz += v.transform(&lines).unwrap().nnz();
    }
    println!(
        "{:.0} lines/s (nnz {nnz})",
        10.0 * lines.len() as f64 / t.elapsed().as_secs_f64()
    );
}
