//! Empty on purpose: with a build script, the `[build-dependencies]` in Cargo.toml take part in
//! feature resolution, which keeps this crate's dependencies identical to the other bindings'
//! (see "Feature unification" there).
fn main() {
    // Without this, cargo reruns the script (and rebuilds the crate) when any file in the
    // package folder changes, tests and scripts included.
    println!("cargo:rerun-if-changed=build.rs");
}
