# faultlens: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
ROOT := $(CURDIR)
# One Cargo target dir shared by every layer (cargo, maturin via pip, napi, the C build).
export CARGO_TARGET_DIR ?= $(ROOT)/target
export CARGO_TERM_COLOR ?= never
BUILD := $(ROOT)/build

.PHONY: demo test test-rust test-c test-python test-node bench bench-python clean

demo:
	cargo run --release --example demo

test: test-rust test-c test-python test-node
	@echo "make test: all layers passed"

test-rust:
	cargo test -p faultlens -p faultlens-suite -p faultlens-c

test-c:
	$(MAKE) -C bindings-c test
	$(MAKE) -C examples/c test

test-python:
	bash bindings-python/scripts/test.sh

test-node:
	bash bindings-node/scripts/test.sh

bench:
	cargo bench -p faultlens-suite

bench-python:
	bash benches/python/run.sh

clean:
	rm -rf $(BUILD) target
