//! Writes include/faultlens.h with cbindgen and sets the linker flags of the C library.
use std::path::PathBuf;

fn main() {
    let dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");

    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        // Keep the symbols of static dependencies (e.g. C-callable functions some crates export)
        // out of the .so's dynamic symbol table: only fl_* is exported.
        println!("cargo:rustc-cdylib-link-arg=-Wl,--exclude-libs=ALL");
        // The Makefile installs the library as libfaultlens.so.<version> with symlinks; programs
        // record the soname, which changes when the ABI may: each minor release while 0.x, each
        // major release after.
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
        let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
        let soname = if major == "0" {
            format!("libfaultlens.so.0.{minor}")
        } else {
            format!("libfaultlens.so.{major}")
        };
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }

    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("bindings-c/cbindgen.toml: {e}"));
    let header = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen could not generate include/faultlens.h: {e}"));
    let include = dir.join("include");
    std::fs::create_dir_all(&include).unwrap_or_else(|e| panic!("{}: {e}", include.display()));
    // Only rewrites the file when its content changes.
    header.write_to_file(include.join("faultlens.h"));
}
