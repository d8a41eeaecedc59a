//! Helpers shared by the workspace-level tests, benches and examples: where the fixtures and the
//! optional real data live.

use std::path::PathBuf;

/// The repository root (the folder holding the workspace `Cargo.toml`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests").join("fixtures").join(name)
}

/// The folder of Loghub JSONL files (one `{"text": ...}` per line) that the optional data
/// tests (`make test-data`), benches and profiling examples read: `$FAULTLENS_LOGHUB` when set,
/// else `../shared/data/loghub` beside the repository (development machines); `None` when
/// it is not there. Nothing in `make test` needs it.
pub fn loghub_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("FAULTLENS_LOGHUB") {
        Some(d) => PathBuf::from(d),
        None => repo_root()
            .join("..")
            .join("shared")
            .join("data")
            .join("loghub"),
    };
    dir.is_dir().then_some(dir)
}

/// Why a data test fails when run without its data.
pub const NO_LOGHUB: &str = "no Loghub data: set FAULTLENS_LOGHUB to a folder of Loghub JSONL \
                             files (default ../shared/data/loghub)";

/// Reads the `text` field of every line of a Loghub-style JSONL file.
pub fn read_jsonl_texts(path: &std::path::Path) -> std::io::Result<Vec<String>> {
    let body = std::fs::read_to_string(path)?;
    Ok(body
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_owned))
        .collect())
}

/// Every `text` of every `*.jsonl` under [`loghub_dir`], files in name order; `None`
/// when the shared data is not there or holds no lines.
pub fn loghub_texts() -> Option<Vec<String>> {
    let dir = loghub_dir()?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in &files {
        out.extend(read_jsonl_texts(f).ok()?);
    }
    (!out.is_empty()).then_some(out)
}
