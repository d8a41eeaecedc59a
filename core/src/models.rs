//! The single model-file container every trained artifact uses, in every language.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 0..8 | magic `FAULTLNS` |
//! | 8..12 | format version (`u32`) |
//! | 12..20 | payload length (`u64`) |
//! | 20..24 | CRC-32 of the payload (`u32`) |
//! | 24.. | payload: UTF-8 JSON `{"format":"faultlens-model","format_version":2,"kind":..,"library_version":..,"payload":{..}}` |
//!
//! Readers accept versions `OLDEST_SUPPORTED..=FORMAT_VERSION` and name both ends when they refuse
//! a file. Saves go to a temporary file in the same folder, are flushed to disk, then renamed over
//! the target, so a failed or interrupted save never destroys the previous file.
//!
//! ```
//! use faultlens::{Artifact, Preprocessor};
//! let bytes = Preprocessor::default().to_bytes().unwrap();
//! assert_eq!(Preprocessor::from_bytes(&bytes).unwrap(), Preprocessor::default());
//! ```

use std::cell::Cell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::LocalKey;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The format version this build writes. 2: classifiers keep their training rows and confidence
/// model, knowledge bases their confidence model, resolvers their feedback counts (version 1
/// files load: those answer as before, see `docs/models.md`); an older reader refuses a version 2
/// file by name instead of dropping what it cannot use.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format version this build reads.
pub const OLDEST_SUPPORTED: u32 = 1;
/// The first eight bytes of every faultlens model file.
pub const MAGIC: &[u8; 8] = b"FAULTLNS";
const HEADER_LEN: usize = 24;
const FORMAT_NAME: &str = "faultlens-model";

/// What the header and envelope of a model file say, without decoding its payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactInfo {
    /// The artifact kind, e.g. `tfidf_vectorizer`.
    pub kind: String,
    /// The container format version.
    pub format_version: u32,
    /// The faultlens version that wrote the file.
    pub library_version: String,
    /// Payload size in bytes.
    pub payload_bytes: u64,
}

#[derive(Serialize)]
struct EnvelopeOut<'a, T: Serialize> {
    format: &'a str,
    format_version: u32,
    kind: &'a str,
    library_version: &'a str,
    payload: &'a T,
}

#[derive(Deserialize)]
struct EnvelopeIn<'a> {
    format: String,
    format_version: u32,
    kind: String,
    library_version: String,
    #[serde(borrow)]
    payload: &'a serde_json::value::RawValue,
}

/// A trained (or configured) object that saves to and loads from the model file.
pub trait Artifact: Serialize + DeserializeOwned {
    /// The kind name stored in the file; loading checks it.
    const KIND: &'static str;

    /// The complete model file as bytes (what `save` writes; Python pickles and Node buffers use it).
    ///
    /// The bytes are decoded again before they are returned: a state that would write a file
    /// that cannot be loaded (a non-finite number the format cannot hold, a broken invariant) is
    /// refused here, with `InvalidInput` naming the kind and the decoding error, instead of
    /// surfacing only when the file is read back.
    fn to_bytes(&self) -> Result<Vec<u8>> {
        let bytes = encode(self)?;
        verify_decodes::<Self>(&bytes)?;
        Ok(bytes)
    }

    /// Decodes a model file held in memory, checking magic, version, length, checksum and kind.
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let env = open_envelope(bytes)?;
        if env.kind != Self::KIND {
            return Err(Error::WrongKind {
                expected: Self::KIND.into(),
                found: env.kind,
            });
        }
        let _decoding = FlagGuard::raise(&DECODING_FILE);
        serde_json::from_str(env.payload.get())
            .map_err(|e| Error::Corrupt(format!("{} payload does not decode: {e}", Self::KIND)))
    }

    /// Writes the model file atomically (temporary file, fsync, rename). The encoded bytes are
    /// decoded before anything is written, and the temporary file is read back and compared
    /// before it replaces the old one: a save that fails for any reason leaves the previous file
    /// as it was. A `path` that is a symbolic link keeps the link: the file it points at is
    /// replaced, as a plain write through the link would.
    fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = self.to_bytes().map_err(|e| match e {
            Error::InvalidInput(m) => {
                Error::InvalidInput(format!("{m}; nothing was written to {}", path.display()))
            }
            other => other,
        })?;
        write_atomic(path, &bytes)
    }

    /// Reads a model file written by `save` in any language.
    fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        Self::from_bytes(&std::fs::read(path).map_err(|e| Error::io_at(path, e))?)
    }
}

/// The model file of `a`, not yet checked to decode.
fn encode<A: Artifact>(a: &A) -> Result<Vec<u8>> {
    let envelope = EnvelopeOut {
        format: FORMAT_NAME,
        format_version: FORMAT_VERSION,
        kind: A::KIND,
        library_version: crate::VERSION,
        payload: a,
    };
    let payload = serde_json::to_vec(&envelope)
        .map_err(|e| Error::InvalidInput(format!("cannot serialise {}: {e}", A::KIND)))?;
    let mut out = Vec::new();
    out.try_reserve_exact(HEADER_LEN + payload.len())
        .map_err(|e| Error::InvalidInput(format!("cannot serialise {}: {e}", A::KIND)))?;
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

// Two facts about the decode running on this thread, read by `Deserialize` code elsewhere in the
// crate. They are thread-locals because serde gives that code no way to be told: a
// `#[serde(default = "f")]` function takes no argument and a `Deserialize` impl only sees the
// data. `serde_json` decodes synchronously on the calling thread, so a flag raised around the
// call is seen by exactly that decode; `Deserialize` code must therefore not hand part of its
// decoding to another thread (rayon), where the flag is down. The alternative, a
// `DeserializeSeed` carrying the context through every artifact's nested types, would touch
// every saved type for two booleans.
thread_local! {
    static VERIFYING: Cell<bool> = const { Cell::new(false) };
    static DECODING_FILE: Cell<bool> = const { Cell::new(false) };
}

/// Raises a flag for its lifetime and puts back the value it found on drop (also on an error or a
/// panic), so a decode nested in another (an artifact holding one) leaves the outer one's flag as
/// it was, and nothing leaks into the thread's later work.
struct FlagGuard {
    flag: &'static LocalKey<Cell<bool>>,
    before: bool,
}

impl FlagGuard {
    fn raise(flag: &'static LocalKey<Cell<bool>>) -> Self {
        let before = flag.with(|v| v.replace(true));
        FlagGuard { flag, before }
    }
}

impl Drop for FlagGuard {
    fn drop(&mut self) {
        self.flag.with(|v| v.set(self.before));
    }
}

/// True while a model file's payload is decoded on this thread ([`Artifact::from_bytes`]): a field
/// a file lacks then takes the value that reproduces how the file was written, which may differ
/// from a new object's default (a preprocessor's `korean` mode: absent in a file means the file
/// predates Korean handling, so `"none"`; absent in a config a user writes means `"rules"`).
pub(crate) fn decoding_file() -> bool {
    DECODING_FILE.with(Cell::get)
}

/// True while [`verify_decodes`] decodes on this thread: the decoded object is dropped at once,
/// so work that only derives data (e.g. rebuilding a vector index's search graph) may be skipped;
/// every check must still run.
pub(crate) fn verifying() -> bool {
    VERIFYING.with(Cell::get)
}

/// Decodes `bytes` as an `A` and drops it: `Ok` exactly when loading those bytes would succeed.
fn verify_decodes<A: Artifact>(bytes: &[u8]) -> Result<()> {
    let _verifying = FlagGuard::raise(&VERIFYING);
    A::from_bytes(bytes).map(drop).map_err(|e| {
        Error::InvalidInput(format!(
            "cannot save this {}: its state would write a file that does not load back ({e})",
            A::KIND
        ))
    })
}

fn open_envelope(bytes: &[u8]) -> Result<EnvelopeIn<'_>> {
    if bytes.len() < HEADER_LEN {
        if !bytes.is_empty() && !MAGIC.starts_with(&bytes[..bytes.len().min(8)]) {
            return Err(Error::Corrupt(
                "not a faultlens model file (bad magic bytes)".into(),
            ));
        }
        return Err(Error::Corrupt(format!(
            "truncated: {} bytes, shorter than the {HEADER_LEN}-byte header",
            bytes.len()
        )));
    }
    if &bytes[..8] != MAGIC {
        return Err(Error::Corrupt(
            "not a faultlens model file (bad magic bytes)".into(),
        ));
    }
    let le_u32 =
        |r: std::ops::Range<usize>| u32::from_le_bytes(bytes[r].try_into().unwrap_or([0; 4]));
    let version = le_u32(8..12);
    if !(OLDEST_SUPPORTED..=FORMAT_VERSION).contains(&version) {
        return Err(Error::Format {
            found: version,
            min: OLDEST_SUPPORTED,
            max: FORMAT_VERSION,
        });
    }
    let declared = u64::from_le_bytes(bytes[12..20].try_into().unwrap_or([0; 8]));
    let payload = &bytes[HEADER_LEN..];
    if declared != payload.len() as u64 {
        return Err(Error::Corrupt(format!(
            "truncated or padded: header declares {declared} payload bytes, file holds {}",
            payload.len()
        )));
    }
    if crc32fast::hash(payload) != le_u32(20..24) {
        return Err(Error::Corrupt(
            "checksum mismatch: the payload was modified or damaged".into(),
        ));
    }
    let env: EnvelopeIn<'_> = serde_json::from_slice(payload)
        .map_err(|e| Error::Corrupt(format!("envelope does not decode: {e}")))?;
    if env.format != FORMAT_NAME || env.format_version != version {
        return Err(Error::Corrupt(format!(
            "envelope says {:?} v{}, header says v{version}",
            env.format, env.format_version
        )));
    }
    Ok(env)
}

/// Reads the header and envelope of a model file in memory: kind, versions, size.
pub fn inspect_bytes(bytes: &[u8]) -> Result<ArtifactInfo> {
    let env = open_envelope(bytes)?;
    Ok(ArtifactInfo {
        kind: env.kind,
        format_version: env.format_version,
        library_version: env.library_version,
        payload_bytes: env.payload.get().len() as u64,
    })
}

/// [`inspect_bytes`] for a file on disk, reading only the header and the start of the envelope
/// (the fields before `payload`), never the whole file: the checksum, which covers the whole
/// payload, is checked by `load`, not here. The file's size must match the header's length.
pub fn inspect(path: impl AsRef<Path>) -> Result<ArtifactInfo> {
    use std::io::Read;
    let path = path.as_ref();
    let io = |e| Error::io_at(path, e);
    let mut f = std::fs::File::open(path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    let mut head = Vec::new();
    (&mut f)
        .take(HEADER_LEN as u64 + INSPECT_PREFIX)
        .read_to_end(&mut head)
        .map_err(io)?;
    if head.len() < HEADER_LEN || &head[..8] != MAGIC {
        // Too short or foreign: the in-memory checks name the problem.
        return inspect_bytes(&head);
    }
    let version = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
    if !(OLDEST_SUPPORTED..=FORMAT_VERSION).contains(&version) {
        return Err(Error::Format {
            found: version,
            min: OLDEST_SUPPORTED,
            max: FORMAT_VERSION,
        });
    }
    let mut declared = [0u8; 8];
    declared.copy_from_slice(&head[12..20]);
    let declared = u64::from_le_bytes(declared);
    let held = size.saturating_sub(HEADER_LEN as u64);
    if declared != held {
        return Err(Error::Corrupt(format!(
            "truncated or padded: header declares {declared} payload bytes, file holds {held}"
        )));
    }
    let prefix = &head[HEADER_LEN..];
    // This library writes the envelope's fields in a fixed order with `payload` last, and
    // `,"payload":` cannot occur inside a JSON string (its quotes would be escaped).
    let Some(at) = find(prefix, b",\"payload\":") else {
        if declared <= INSPECT_PREFIX {
            return inspect_bytes(&head);
        }
        return Err(Error::Corrupt(
            "envelope does not start with format, version, kind and library version".into(),
        ));
    };
    #[derive(Deserialize)]
    struct Head {
        format: String,
        format_version: u32,
        kind: String,
        library_version: String,
    }
    let mut text = prefix[..at].to_vec();
    text.push(b'}');
    let env: Head = serde_json::from_slice(&text)
        .map_err(|e| Error::Corrupt(format!("envelope does not decode: {e}")))?;
    if env.format != FORMAT_NAME || env.format_version != version {
        return Err(Error::Corrupt(format!(
            "envelope says {:?} v{}, header says v{version}",
            env.format, env.format_version
        )));
    }
    Ok(ArtifactInfo {
        kind: env.kind,
        format_version: env.format_version,
        library_version: env.library_version,
        // The envelope's tail is `,"payload":<payload>}`.
        payload_bytes: declared.saturating_sub(at as u64 + 12),
    })
}

/// How much of the payload `inspect` reads: the envelope fields before `payload` are short.
const INSPECT_PREFIX: u64 = 4096;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` so that readers only ever see the old file or the complete new one.
///
/// The bytes go to a temporary file in the target's folder, which is flushed, read back and
/// compared before it is renamed over the target. When `path` is a symbolic link (or a chain of
/// them) the file it finally points at is replaced and the link is kept, as a plain write through
/// the link would do. Every I/O error names the path it happened on.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let target = resolve_links(path)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| Error::InvalidInput(format!("{} is not a file path", path.display())))?;
    let prefix = format!(".{}.tmp-", name.to_string_lossy());
    remove_stale_temps(&dir, &prefix);
    let tmp = dir.join(format!(
        "{prefix}{}-{}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| -> Result<()> {
        let at_tmp = |e| Error::io_at(&tmp, e);
        let mut f = std::fs::File::create(&tmp).map_err(at_tmp)?;
        f.write_all(bytes).map_err(at_tmp)?;
        f.sync_all().map_err(at_tmp)?;
        drop(f);
        // What is on disk is what will replace the old file: check it, not only the buffer.
        let written = std::fs::read(&tmp).map_err(at_tmp)?;
        if written != bytes {
            return Err(Error::io_at(
                &tmp,
                std::io::Error::other(format!(
                    "read back {} bytes that differ from the {} written",
                    written.len(),
                    bytes.len()
                )),
            ));
        }
        std::fs::rename(&tmp, &target).map_err(|e| Error::io_at(&target, e))?;
        // Persist the rename itself; not every platform can open a directory, hence best effort.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The path a write through `path` lands on: `path` itself unless it is a symbolic link, whose
/// chain is followed (relative targets against the link's folder; at most 40 links, the usual
/// system limit). A dangling link resolves to the missing file it names.
fn resolve_links(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let next = std::fs::read_link(&current).map_err(|e| Error::io_at(&current, e))?;
                current = match current.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            // Not a link, or missing (then `create` reports the real problem).
            _ => return Ok(current),
        }
    }
    Err(Error::io_at(
        path,
        std::io::Error::other("too many levels of symbolic links"),
    ))
}

/// Removes temporary files that a killed process left behind for the same target (`<prefix><pid>-<n>`
/// whose process no longer runs), so interrupted saves never pile up. Only where process liveness
/// can be checked cheaply (`/proc`); best effort, errors are ignored.
fn remove_stale_temps(dir: &Path, prefix: &str) {
    let proc_fs = Path::new("/proc/self");
    if !proc_fs.exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(rest) = file.to_str().and_then(|f| f.strip_prefix(prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{Preprocessor, PreprocessorConfig};

    #[test]
    fn decode_flags_are_up_only_while_a_decode_runs() {
        assert!(!decoding_file() && !verifying());
        // to_bytes decodes its own bytes (verify_decodes → from_bytes): both flags go back down.
        let bytes = Preprocessor::default().to_bytes().unwrap();
        assert!(!decoding_file() && !verifying());
        // An error ends the decode too.
        assert!(Preprocessor::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(!decoding_file());
        {
            // A decode nested in another leaves the outer one's flag up.
            let _outer = FlagGuard::raise(&DECODING_FILE);
            Preprocessor::from_bytes(&bytes).unwrap();
            assert!(decoding_file());
        }
        assert!(!decoding_file());
    }

    fn sample() -> Vec<u8> {
        let p = Preprocessor::new(PreprocessorConfig {
            min_token_length: 3,
            ..Default::default()
        })
        .unwrap();
        p.to_bytes().unwrap()
    }

    #[test]
    fn round_trip_and_inspect() {
        let b = sample();
        assert_eq!(&b[..8], MAGIC);
        let p = Preprocessor::from_bytes(&b).unwrap();
        assert_eq!(p.config().min_token_length, 3);
        let info = inspect_bytes(&b).unwrap();
        assert_eq!(info.kind, "preprocessor");
        assert_eq!(info.format_version, FORMAT_VERSION);
    }

    #[test]
    fn fitted_vectorizer_bytes_round_trip_exactly() {
        // idf values must survive JSON bit for bit (serde_json's `float_roundtrip`).
        let docs: Vec<String> = (0..200)
            .map(|i| format!("w{} x{} y{} disk error", i % 7, i % 11, i % 13))
            .collect();
        let mut v = crate::vectorize::TfidfVectorizer::new(crate::TfidfConfig {
            ngram_range: (1, 2),
            ..Default::default()
        })
        .unwrap();
        v.fit(&docs).unwrap();
        let b = v.to_bytes().unwrap();
        let back = crate::vectorize::TfidfVectorizer::from_bytes(&b).unwrap();
        assert_eq!(back, v);
        assert_eq!(back.to_bytes().unwrap(), b);
    }

    #[test]
    fn every_damage_is_named() {
        let b = sample();
        let check = |bytes: &[u8], want: &str| {
            let e = Preprocessor::from_bytes(bytes).unwrap_err();
            assert_eq!(e.code(), want, "{e}");
        };
        check(&[], "Corrupt");
        check(&b[..10], "Corrupt");
        check(&b[..b.len() - 1], "Corrupt");
        check(b"PK\x03\x04 this is a zip file, not a model", "Corrupt");
        let mut flipped = b.clone();
        let last = flipped.len() - 2;
        flipped[last] ^= 1;
        check(&flipped, "Corrupt");
        let mut newer = b.clone();
        newer[8..12].copy_from_slice(&99u32.to_le_bytes());
        match Preprocessor::from_bytes(&newer).unwrap_err() {
            Error::Format {
                found: 99,
                min: OLDEST_SUPPORTED,
                max: FORMAT_VERSION,
            } => {}
            e => panic!("{e}"),
        }
        let v = crate::vectorize::TfidfVectorizer::new(Default::default()).unwrap();
        let e = Preprocessor::from_bytes(&v.to_bytes().unwrap()).unwrap_err();
        assert!(matches!(e, Error::WrongKind { .. }), "{e}");
    }

    #[test]
    fn failed_save_keeps_previous_file() {
        let dir = std::env::temp_dir().join(format!("fl-models-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.flm");
        Preprocessor::default().save(&path).unwrap();
        let before = std::fs::read(&path).unwrap();
        // A save into a folder that does not exist fails without touching anything else.
        assert!(
            Preprocessor::default()
                .save(dir.join("missing").join("p.flm"))
                .is_err()
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        // No temporary files are left behind.
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// An artifact whose encoded form never decodes: what a state holding a value JSON cannot
    /// carry (an infinity written as `null`) looks like to `save`.
    #[derive(Debug, Serialize)]
    struct Unloadable {
        x: f64,
    }

    impl<'de> Deserialize<'de> for Unloadable {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            #[derive(Deserialize)]
            struct Raw {
                x: f64,
            }
            let r = Raw::deserialize(d)?;
            Ok(Unloadable { x: r.x })
        }
    }

    impl Artifact for Unloadable {
        const KIND: &'static str = "unloadable";
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fl-models-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_save_that_would_not_load_keeps_the_previous_file() {
        let dir = temp_dir("verify");
        let path = dir.join("u.flm");
        Unloadable { x: 1.5 }.save(&path).unwrap();
        let before = std::fs::read(&path).unwrap();
        let e = Unloadable { x: f64::INFINITY }.save(&path).unwrap_err();
        assert_eq!(e.code(), "InvalidInput", "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("does not load back") && msg.contains("u.flm"),
            "{msg}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        // The same check guards the bytes that pickles and buffers carry.
        assert!(Unloadable { x: f64::NAN }.to_bytes().is_err());
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn io_errors_name_the_path() {
        let dir = temp_dir("io");
        let missing = dir.join("missing.flm");
        for e in [
            Preprocessor::load(&missing).unwrap_err(),
            inspect(&missing).unwrap_err(),
        ] {
            assert_eq!(e.code(), "Io");
            assert_eq!(e.path(), Some(missing.as_path()));
            assert!(e.to_string().contains("missing.flm"), "{e}");
        }
        let e = Preprocessor::default()
            .save(dir.join("no").join("p.flm"))
            .unwrap_err();
        assert!(
            e.path().is_some_and(|p| p.starts_with(dir.join("no"))),
            "{e}"
        );
        assert!(Error::from(std::io::Error::other("x")).path().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn save_through_a_symlink_replaces_the_target_and_keeps_the_link() {
        let dir = temp_dir("link");
        let target = dir.join("real.flm");
        let link = dir.join("link.flm");
        sample_with(3).save(&target).unwrap();
        std::os::unix::fs::symlink("real.flm", &link).unwrap();
        // A chain of links resolves too.
        let link2 = dir.join("link2.flm");
        std::os::unix::fs::symlink(&link, &link2).unwrap();
        sample_with(7).save(&link2).unwrap();
        for l in [&link, &link2] {
            assert!(
                std::fs::symlink_metadata(l)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
        }
        let back = Preprocessor::load(&target).unwrap();
        assert_eq!(back.config().min_token_length, 7);
        // A dangling link gets its target created.
        std::fs::remove_file(&target).unwrap();
        sample_with(5).save(&link).unwrap();
        assert_eq!(
            Preprocessor::load(&target)
                .unwrap()
                .config()
                .min_token_length,
            5
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn sample_with(min_token_length: usize) -> Preprocessor {
        Preprocessor::new(PreprocessorConfig {
            min_token_length,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn inspect_reads_only_the_head_of_a_file() {
        let dir = temp_dir("inspect");
        let path = dir.join("p.flm");
        let mut b = sample();
        // Damage the end of the payload: inspect does not read that far, load does.
        let last = b.len() - 2;
        b[last] ^= 1;
        std::fs::write(&path, &b).unwrap();
        let info = inspect(&path).unwrap();
        assert_eq!(info, inspect_bytes(&sample()).unwrap());
        assert_eq!(Preprocessor::load(&path).unwrap_err().code(), "Corrupt");
        // A file whose size disagrees with its header is still refused.
        std::fs::write(&path, &b[..b.len() - 1]).unwrap();
        assert_eq!(inspect(&path).unwrap_err().code(), "Corrupt");
        std::fs::write(&path, &b[..10]).unwrap();
        assert_eq!(inspect(&path).unwrap_err().code(), "Corrupt");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
