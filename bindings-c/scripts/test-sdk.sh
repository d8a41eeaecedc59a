#!/usr/bin/env bash
# The C SDK as a user gets it; `make test-c` runs it after `make dist-c`. Steps:
#   1. unpack dist/faultlens-<version>-<platform>.tar.gz into a temp folder and check its layout
#      (header, libfaultlens.so.<version> with the soname link and the dev link, libfaultlens.a,
#      lib/pkgconfig/faultlens.pc, licences; only fl_* symbols exported);
#   2. with cargo, rustc and rustup off PATH: examples/c compiled with
#      `cc $(pkg-config --cflags --libs faultlens)` against the unpacked SDK (its .pc file is
#      relocatable), run on the example's three lines, resolve_stdin under valgrind; and once
#      linked statically against libfaultlens.a with `pkg-config --static`;
#   3. `make -C bindings-c install PREFIX=<temp>`: the same layout, a .pc file naming that prefix,
#      and the example built against it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIST="${DIST:-$ROOT/dist}"
NO_RUST="$ROOT/scripts/without-rust.sh"
CC="${CC:-cc}"
VERSION="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml")"
major="${VERSION%%.*}"; rest="${VERSION#*.}"; minor="${rest%%.*}"
if [[ "$major" == 0 ]]; then soname="libfaultlens.so.0.$minor"; else soname="libfaultlens.so.$major"; fi
sdks=("$DIST"/faultlens-"$VERSION"-*-linux-*.tar.gz)
[[ -f "${sdks[0]}" ]] || { echo "no C SDK for $VERSION in $DIST: run make dist-c first" >&2; exit 1; }
sdk_tgz="${sdks[0]}"
name="$(basename "$sdk_tgz" .tar.gz)"
VALGRIND=(valgrind --leak-check=full --errors-for-leak-kinds=definite,possible --error-exitcode=1
          --quiet --suppressions="$ROOT/bindings-c/tests/valgrind.supp")
command -v pkg-config >/dev/null || { echo "pkg-config is needed (apt-get install pkg-config)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/faultlens-sdk.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
fail() { echo "!! c sdk: $*" >&2; exit 1; }

check_layout() {  # $1: an installed prefix
    local p="$1"
    for f in include/faultlens.h "lib/libfaultlens.so.$VERSION" lib/libfaultlens.a lib/pkgconfig/faultlens.pc \
             share/doc/faultlens/LICENSE-MIT share/doc/faultlens/LICENSE-APACHE; do
        [[ -f "$p/$f" ]] || fail "$p lacks $f"
    done
    [[ "$(readlink "$p/lib/$soname")" == "libfaultlens.so.$VERSION" ]] || fail "lib/$soname must link to libfaultlens.so.$VERSION"
    [[ "$(readlink "$p/lib/libfaultlens.so")" == "$soname" ]] || fail "lib/libfaultlens.so must link to $soname"
    readelf -d "$p/lib/libfaultlens.so.$VERSION" | grep "SONAME.*\[$soname\]" >/dev/null || fail "soname is not $soname"
    if nm -D --defined-only "$p/lib/libfaultlens.so.$VERSION" | awk '{print $3}' | grep -v '^fl_' | grep . >/dev/null; then
        fail "libfaultlens.so exports symbols other than fl_*"
    fi
}

run_example() {  # $1: folder with build_resolver and resolve_stdin; $2: valgrind or empty
    local bin="$1"
    "$bin/build_resolver" "$ROOT/examples/data/rules.toml" "$ROOT/examples/data/errors.jsonl" "$bin/resolver.flm" >/dev/null
    local -a pre=()
    [[ "${2:-}" == valgrind ]] && pre=("${VALGRIND[@]}")
    printf '%s\n' \
        'Container web-1 was OOMKilled (exit code 137), memory limit 256Mi' \
        '[billing] db pool exhausted: 99/50 connections in use, waited 3s' \
        'the flux capacitor hummed an unfamiliar tune' \
        | "${pre[@]}" "$bin/resolve_stdin" "$bin/resolver.flm" > "$bin/answers.tsv"
    awk -F'\t' 'NR==1 && !($1=="exact_match" && $3=="increase_memory_limit") {print "line 1: want exact_match increase_memory_limit"; exit 1}
        NR==2 && !($1=="similarity_match" && $3=="restart_database_pool") {print "line 2: want similarity_match restart_database_pool"; exit 1}
        NR==3 && $1=="exact_match" {print "line 3: no rule should match"; exit 1}
        END {if (NR != 3) {print "want 3 answers, got " NR; exit 1}}' "$bin/answers.tsv" || fail "wrong answers from $bin"
}

echo "== c sdk: unpack $(basename "$sdk_tgz")"
tar -C "$WORK" -xzf "$sdk_tgz"
SDK="$WORK/$name"
check_layout "$SDK"
for f in LICENSE-MIT LICENSE-APACHE; do [[ -f "$SDK/$f" ]] || fail "the SDK lacks $f at its top"; done
echo "c sdk: layout, soname $soname, only fl_* exported"

echo "== c sdk: examples/c with pkg-config against the unpacked SDK, no Rust on PATH"
mkdir -p "$WORK/shared" "$WORK/static"
# shellcheck disable=SC2016
"$NO_RUST" env PKG_CONFIG_PATH="$SDK/lib/pkgconfig" CC="$CC" SRC="$ROOT/examples/c" OUT="$WORK" bash -euc '
    [[ "$(pkg-config --modversion faultlens)" == "'"$VERSION"'" ]] || { echo "pkg-config reports version $(pkg-config --modversion faultlens)"; exit 1; }
    libdir="$(pkg-config --variable=libdir faultlens)"
    for p in build_resolver resolve_stdin; do
        $CC -std=c11 -Wall -Wextra -Werror -O1 "$SRC/$p.c" -o "$OUT/shared/$p" \
            $(pkg-config --cflags --libs faultlens) -Wl,-rpath,"$libdir"
        # Static: the archive, then what the Rust standard library needs (Libs.private).
        $CC -std=c11 -Wall -Wextra -Werror -O1 "$SRC/$p.c" -o "$OUT/static/$p" \
            $(pkg-config --cflags faultlens) -Wl,-Bstatic -lfaultlens -Wl,-Bdynamic \
            $(pkg-config --static --libs-only-L faultlens) $(pkg-config --static --libs-only-l faultlens | sed "s/-lfaultlens//")
    done'
readelf -d "$WORK/shared/resolve_stdin" | grep "NEEDED.*\[$soname\]" >/dev/null || fail "the example does not record $soname"
if readelf -d "$WORK/static/resolve_stdin" | grep "NEEDED.*libfaultlens" >/dev/null; then fail "the static build still needs libfaultlens.so"; fi
run_example "$WORK/shared" valgrind
run_example "$WORK/static"
echo "c sdk: the example resolves the three lines (shared under valgrind, and static)"

echo "== c sdk: make -C bindings-c install PREFIX=<temp>"
make --no-print-directory -C "$ROOT/bindings-c" install PREFIX="$WORK/prefix" >/dev/null
check_layout "$WORK/prefix"
grep -qx "prefix=$WORK/prefix" "$WORK/prefix/lib/pkgconfig/faultlens.pc" || fail "the installed .pc does not name PREFIX"
mkdir -p "$WORK/installed"
"$NO_RUST" env PKG_CONFIG_PATH="$WORK/prefix/lib/pkgconfig" bash -euc '
    '"$CC"' -std=c11 -Wall -Werror '"$ROOT"'/examples/c/resolve_stdin.c -o '"$WORK"'/installed/resolve_stdin \
        $(pkg-config --cflags --libs faultlens) -Wl,-rpath,"$(pkg-config --variable=libdir faultlens)"'
echo "c sdk: install PREFIX=... gives the same layout; the example builds against it"
echo "c sdk: sizes: $(du -k "$sdk_tgz" | cut -f1) KiB tarball; libfaultlens.so $(du -k "$SDK/lib/libfaultlens.so.$VERSION" | cut -f1) KiB" \
    "($(strip --strip-unneeded -o "$WORK/stripped.so" "$SDK/lib/libfaultlens.so.$VERSION" && du -k "$WORK/stripped.so" | cut -f1) KiB stripped);" \
    "libfaultlens.a $(du -k "$SDK/lib/libfaultlens.a" | cut -f1) KiB"
