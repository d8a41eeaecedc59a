//! Bench data: the 16,000 real Loghub lines of ../shared/data/loghub when present, else a small
//! synthetic corpus so `cargo bench` still runs on a machine without the shared data.

pub fn corpus() -> Vec<String> {
    if let Some(lines) = faultlens_suite::loghub_texts() {
        return lines;
    }
    (0..16_000)
        .map(|i| {
            format!(
                "worker {} failed to connect to 10.0.{}.{}:5432 after {} ms: connection refused",
                i % 17,
                i % 250,
                i % 97,
                i
            )
        })
        .collect()
}
