//! Save a fitted vectoriser to the model file, inspect it, load it back, and show what a damaged
//! file reports. Run: `cargo run --example models`.

use faultlens::{Artifact, TfidfConfig, TfidfVectorizer};

fn main() -> faultlens::Result<()> {
    let mut v = TfidfVectorizer::new(TfidfConfig {
        ngram_range: (1, 2),
        ..Default::default()
    })?;
    v.fit(&[
        "Connection refused to 10.0.0.7:5432",
        "Disk quota exceeded on /dev/sda1",
        "Connection reset by peer",
    ])?;
    let path = std::env::temp_dir().join(format!("faultlens-example-{}.flm", std::process::id()));
    v.save(&path)?;
    println!(
        "saved {}: {:?}",
        path.display(),
        faultlens::models::inspect(&path)?
    );
    let back = TfidfVectorizer::load(&path)?;
    println!("reloaded equal: {}", back == v);
    let mut bytes = std::fs::read(&path)?;
    let n = bytes.len();
    bytes[n - 3] ^= 0xff;
    println!(
        "flipped byte  -> {}",
        TfidfVectorizer::from_bytes(&bytes).unwrap_err()
    );
    println!(
        "truncated     -> {}",
        TfidfVectorizer::from_bytes(&bytes[..n / 2]).unwrap_err()
    );
    println!(
        "wrong kind    -> {}",
        faultlens::Preprocessor::load(&path).unwrap_err()
    );
    std::fs::remove_file(&path)?;
    Ok(())
}
