//! Bench data: the 16,000 real Loghub lines of ../shared/data/loghub when present, else a small
//! synthetic corpus so `cargo bench` still runs on a machine without the shared data.

pub fn corpus() -> Vec<String> {
    if let Some(dir) = faultlens_suite::loghub_dir() {
        let mut out = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        {
            out.extend(faultlens_suite::read_jsonl_texts(f).unwrap());
        }
        if !out.is_empty() {
            return out;
        }
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
