# faultlens: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
ROOT := $(CURDIR)
# One Cargo target dir shared by every layer (cargo, maturin via pip, napi, the C build).
export CARGO_TARGET_DIR ?= $(ROOT)/target
export CARGO_TERM_COLOR ?= never
BUILD := $(ROOT)/build
# Release artifacts (docs/release.md) go to dist/. Every release build (the demo, the C library,
# napi build, maturin, the packaged crate's check) uses the release profile and this explicit
# target triple (napi build always passes one, and cargo keeps --target builds apart), so they
# share one compiled core in CARGO_TARGET_DIR.
export DIST ?= $(ROOT)/dist
export TRIPLE ?= $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
VERSION := $(shell sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' $(ROOT)/Cargo.toml)

.PHONY: demo test check test-rust test-c test-python test-node test-spark test-crate test-data fuzz bench bench-python clean
.PHONY: dist dist-c dist-python dist-node dist-rust

demo:
	cargo run --release --target $(TRIPLE) --example demo

# Each binding's tests run against the artifact `make dist` ships (built once, installed as a
# user installs it): test-c needs dist-c, test-python dist-python, test-node dist-node.
test: check test-rust test-c test-python test-node test-spark test-crate
	@echo "make test: all layers passed"

dist: dist-c dist-python dist-node dist-rust
	@ls -l $(DIST)

# The C SDK tarball (bindings-c/Makefile `sdk`: the `install` layout, relocatable .pc file).
dist-c:
	$(MAKE) -C bindings-c sdk

# The abi3 wheel and the sdist (maturin, manylinux tag checked by maturin and auditwheel).
dist-python:
	bash bindings-python/scripts/dist.sh

# npm pack of the main package and of the platform package holding the prebuilt addon.
dist-node:
	bash bindings-node/scripts/dist.sh

# The crate as crates.io would get it. The packaged crate's own build is checked by test-crate
# (a throwaway crate depending on the unpacked package), in the shared release build.
dist-rust:
	@mkdir -p $(DIST)
	cargo package -p faultlens --no-verify --allow-dirty
	cp $(CARGO_TARGET_DIR)/package/faultlens-$(VERSION).crate $(DIST)/

# The packaged crate builds on its own, and its docs (docs.rs) have no warnings: rustdoc lints and
# the core's #![warn(missing_docs)] become errors.
test-crate: dist-rust
	bash scripts/test-crate.sh
	RUSTDOCFLAGS="-D warnings" cargo doc -p faultlens --no-deps

# Guardrails, first in `make test` (so in CI): formatting, clippy and rustdoc with warnings
# denied on every workspace crate, no unused dependency, and no modules importing each other in a
# circle (scripts/check_module_cycles.py). They share the target dir with the tests.
# cargo-machete is installed at a pinned version when absent (crates.io).
CARGO_MACHETE_VERSION := 0.9.2
check:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
	@cargo machete --version 2>/dev/null | grep -qF "$(CARGO_MACHETE_VERSION)" || \
	  cargo install --locked cargo-machete --version $(CARGO_MACHETE_VERSION)
	cargo machete
	python3 scripts/check_module_cycles.py core/src bindings-python/src bindings-node/src bindings-c/src tests/support
	@# The binding option types are generated from the core's config structs: their JSON Schemas
	@# in docs/api.json "configs", then the .pyi TypedDicts and bindings-node/options-header.d.ts
	@# (which napi build copies into index.d.ts). Stale ones fail here; `make options` rewrites them.
	cargo clippy -p faultlens-suite --features schema --example gen_schema --locked -- -D warnings
	cargo run -q -p faultlens-suite --features schema --example gen_schema --locked -- --check
	cargo clippy -p faultlens-suite --features parquet-bench --example arrow_baseline --locked -- -D warnings
	python3 scripts/gen_option_types.py --check
	@echo "make check: format, clippy, docs and dependencies are clean"

# Regenerates the option types after a core config struct changed (see `check`); the Node
# index.d.ts then comes from `npm run build` in bindings-node (make dist-node checks it).
.PHONY: options
options:
	cargo run -q -p faultlens-suite --features schema --example gen_schema --locked
	python3 scripts/gen_option_types.py

test-rust:
	cargo test -p faultlens -p faultlens-suite -p faultlens-c

test-c: dist-c
	$(MAKE) -C bindings-c test
	$(MAKE) -C examples/c test
	bash bindings-c/scripts/test-sdk.sh

test-python: dist-python
	bash bindings-python/scripts/test.sh

test-node: dist-node
	bash bindings-node/scripts/test.sh

# faultlens inside Spark (local[2], pyspark from PyPI; installs Java 17 from Debian if absent):
# examples/spark, checked line for line against single-process runs. After test-python (reuses
# its venv).
test-spark:
	bash examples/spark/run.sh

# Tests on real Loghub lines, which are not in the repository: ignored by `make test` (reported
# as ignored, with the reason) and run here. The data: $$FAULTLENS_LOGHUB, else
# ../shared/data/loghub beside the repository (development machines).
test-data:
	cargo test -p faultlens-suite --test text --test index -- --ignored

# Randomised exploration (not part of `make test`, whose property tests use a fixed seed): a fresh
# seed and many cases each run. A failure is saved in tests/*.proptest-regressions and printed with
# the seed that found it; keep the shrunk input as a plain regression test.
fuzz:
	PROPTEST_RNG_SEED=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ') PROPTEST_CASES=$${PROPTEST_CASES:-20000} \
	  cargo test --release -p faultlens-suite --test fuzz --test fuzz_payload --test window

bench:
	cargo bench -p faultlens-suite

bench-python:
	bash benches/python/run.sh

clean:
	rm -rf $(BUILD) $(DIST) target
