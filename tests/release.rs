//! Release metadata: one version for every artifact, and the licences and build settings that
//! `make dist` relies on. The artifacts themselves are built and installed by `make test`
//! (see docs/release.md).
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(rel: &str) -> serde_json::Value {
    serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `version = "..."` in the `[workspace.package]` table of the root Cargo.toml.
fn workspace_version() -> String {
    let manifest = read("Cargo.toml");
    let table = manifest
        .split("\n[workspace.package]\n")
        .nth(1)
        .expect("root Cargo.toml has a [workspace.package] table");
    let table = table.split("\n[").next().unwrap_or_default();
    table
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("[workspace.package] sets version")
        .to_string()
}

#[test]
fn one_version_for_every_artifact() {
    let v = workspace_version();
    assert_eq!(env!("CARGO_PKG_VERSION"), v);
    assert_eq!(
        faultlens::VERSION,
        v,
        "the core (Rust crate, C fl_version, Python, Node version())"
    );
    for crate_manifest in [
        "core/Cargo.toml",
        "bindings-c/Cargo.toml",
        "bindings-node/Cargo.toml",
        "bindings-python/Cargo.toml",
    ] {
        let m = read(crate_manifest);
        assert!(
            m.contains("\nversion.workspace = true\n"),
            "{crate_manifest} must inherit the workspace version"
        );
    }
    // The wheel's version comes from Cargo (maturin): pyproject.toml must not set its own.
    let pyproject = read("bindings-python/pyproject.toml");
    assert!(
        pyproject.contains("dynamic = [\"version\"]"),
        "pyproject.toml: version must be dynamic"
    );
    assert!(
        !pyproject.lines().any(|l| l.starts_with("version")),
        "pyproject.toml sets a version of its own"
    );
    // npm needs the version written out: the main package, its lockfile, every platform package
    // and the optional dependencies a release wires in.
    let pkg = json("bindings-node/package.json");
    assert_eq!(pkg["version"], v.as_str(), "bindings-node/package.json");
    let lock = json("bindings-node/package-lock.json");
    assert_eq!(
        lock["version"],
        v.as_str(),
        "bindings-node/package-lock.json"
    );
    assert_eq!(
        lock["packages"][""]["version"],
        v.as_str(),
        "bindings-node/package-lock.json"
    );
    let scope = pkg["napi"]["packageName"]
        .as_str()
        .expect("napi.packageName");
    let npm_dir = root().join("bindings-node/npm");
    let mut platforms = 0;
    for entry in fs::read_dir(&npm_dir).expect("bindings-node/npm") {
        let dir = entry.expect("dir entry").path();
        let rel = format!("bindings-node/npm/{}/package.json", name(&dir));
        let plat = json(&rel);
        assert_eq!(plat["version"], v.as_str(), "{rel}");
        assert_eq!(
            plat["name"],
            format!("{scope}-{}", name(&dir)).as_str(),
            "{rel}"
        );
        platforms += 1;
    }
    let targets = pkg["napi"]["targets"].as_array().expect("napi.targets");
    assert_eq!(
        platforms,
        targets.len(),
        "one bindings-node/npm/<platform> per napi target"
    );
    // The changelog's newest entry is this version.
    let changelog = read("CHANGELOG.md");
    let newest = changelog
        .lines()
        .find_map(|l| l.strip_prefix("## ["))
        .and_then(|l| l.split(']').next())
        .expect("CHANGELOG.md has a '## [version]' entry");
    assert_eq!(newest, v, "CHANGELOG.md's newest entry");
}

fn name(p: &Path) -> String {
    p.file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn every_package_carries_both_licences() {
    for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
        let text = read(licence);
        for dir in [
            "core",
            "bindings-python",
            "bindings-node",
            "bindings-node/npm/linux-x64-gnu",
            "bindings-c",
        ] {
            assert_eq!(
                read(&format!("{dir}/{licence}")),
                text,
                "{dir}/{licence} differs from the root's"
            );
        }
    }
    let pkg = json("bindings-node/package.json");
    assert_eq!(pkg["license"], "MIT OR Apache-2.0");
    assert!(read("Cargo.toml").contains("license = \"MIT OR Apache-2.0\""));
    assert!(read("bindings-python/pyproject.toml").contains("license = \"MIT OR Apache-2.0\""));
}

/// The three binding crates are built by three tools, one package per cargo run; the same
/// feature-unification lines in each make those runs resolve the same features and share one
/// compiled core.
#[test]
fn binding_crates_unify_features_the_same_way() {
    let block = |rel: &str| -> Vec<String> {
        read(rel)
            .lines()
            .filter(|l| {
                [
                    "memchr ",
                    "num-complex ",
                    "num-integer ",
                    "num-traits ",
                    "zerocopy ",
                    "syn ",
                    "syn3 ",
                ]
                .iter()
                .any(|p| l.starts_with(p))
            })
            .map(str::to_string)
            .collect()
    };
    let c = block("bindings-c/Cargo.toml");
    assert_eq!(
        c.len(),
        7,
        "bindings-c/Cargo.toml: memchr, num-*, zerocopy, syn, syn3"
    );
    assert_eq!(block("bindings-node/Cargo.toml"), c);
    assert_eq!(block("bindings-python/Cargo.toml"), c);
}

#[test]
fn no_install_time_build_in_the_npm_package() {
    let pkg = json("bindings-node/package.json");
    for hook in ["preinstall", "install", "postinstall"] {
        assert!(
            pkg["scripts"][hook].is_null(),
            "package.json has an `{hook}` script"
        );
    }
    let files: Vec<&str> = pkg["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert!(
        !files.iter().any(|f| f.ends_with(".node")),
        "the main package must not ship an addon"
    );
    assert_eq!(pkg["main"], "faultlens.js");
}
