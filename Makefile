# faultlens: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
ROOT := $(CURDIR)
# One Cargo target dir shared by every layer (cargo, maturin via pip, napi, the C build).
export CARGO_TARGET_DIR ?= $(ROOT)/target
export CARGO_TERM_COLOR ?= never
BUILD := $(ROOT)/build

.PHONY: demo test check test-rust test-c test-python test-node test-spark test-data fuzz bench bench-python clean

demo:
	cargo run --release --example demo

test: check test-rust test-c test-python test-node test-spark
	@echo "make test: all layers passed"

# Guardrails, first in `make test` (so in CI): formatting, clippy and rustdoc with warnings
# denied on every workspace crate, and no unused dependency. They share the target dir with the
# tests. cargo-machete is installed at a pinned version when absent (crates.io).
CARGO_MACHETE_VERSION := 0.9.2
check:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
	@cargo machete --version 2>/dev/null | grep -qF "$(CARGO_MACHETE_VERSION)" || \
	  cargo install --locked cargo-machete --version $(CARGO_MACHETE_VERSION)
	cargo machete
	@echo "make check: format, clippy, docs and dependencies are clean"

test-rust:
	cargo test -p faultlens -p faultlens-suite -p faultlens-c

test-c:
	$(MAKE) -C bindings-c test
	$(MAKE) -C examples/c test

test-python:
	bash bindings-python/scripts/test.sh

test-node:
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
	rm -rf $(BUILD) target
