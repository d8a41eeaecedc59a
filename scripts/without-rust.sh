#!/usr/bin/env bash
# Runs a command the way a user without Rust would: every PATH entry holding cargo, rustc or
# rustup is dropped, CARGO_HOME and RUSTUP_HOME point at empty folders, and the script fails if
# cargo or rustc can still be found. The install tests of the release artifacts (`make test`) run
# their `pip install` / `npm install` / `cc` steps through it.
#   scripts/without-rust.sh CMD [ARGS...]
set -euo pipefail
[[ $# -gt 0 ]] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }

kept=()
IFS=: read -r -a entries <<< "${PATH:-}"
for dir in "${entries[@]}"; do
    [[ -n "$dir" ]] || continue
    if [[ -e "$dir/cargo" || -e "$dir/rustc" || -e "$dir/rustup" ]]; then continue; fi
    kept+=("$dir")
done
PATH="$(IFS=:; echo "${kept[*]}")"
export PATH

empty="$(mktemp -d "${TMPDIR:-/tmp}/faultlens-no-rust.XXXXXX")"
trap 'rm -rf "$empty"' EXIT
export CARGO_HOME="$empty/cargo" RUSTUP_HOME="$empty/rustup"
mkdir -p "$CARGO_HOME" "$RUSTUP_HOME"
unset RUSTC RUSTDOC RUSTFLAGS CARGO CARGO_TARGET_DIR CARGO_BUILD_TARGET

for tool in cargo rustc rustup; do
    if command -v "$tool" >/dev/null 2>&1; then
        echo "without-rust: $tool is still on PATH at $(command -v "$tool")" >&2
        exit 1
    fi
done
"$@"
