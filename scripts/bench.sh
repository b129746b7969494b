#!/usr/bin/env bash
# scripts/bench.sh: the side-by-side producer benchmark (issue 5).
#
#   scripts/bench.sh [bench.py options]    install what the chosen clients need, then run
#                                          scripts/bench.py (see `scripts/bench.sh --help`)
#   scripts/bench.sh install CLIENT...     only install: ours, java, librdkafka, aiokafka, franz
#
# Everything is installed by this script, from the package registries, and cached:
#   ours        `cargo build --release -p actix-kafka-cli` ($CARGO_TARGET_DIR or target/)
#   java        Kafka's jars through scripts/kafka.sh fetch (~/.cache/actix-kafka)
#   librdkafka  the librdkafka sources bundled in the rdkafka-sys crate (crates.io), built
#               with their own ./configure && make, zstd from the zstd-sys crate's sources;
#               .bench/bin/rdkafka_performance
#   aiokafka    aiokafka from PyPI in the venv .bench/venv
#   franz       the franz-go driver scripts/bench_franz (Go module proxy, versions pinned
#               in its go.mod/go.sum), built into .bench/bin/bench_franz
#
# Environment:
#   BENCH_DIR             cache and results root (<repo>/.bench)
#   RDKAFKA_SYS_VERSION   the rdkafka-sys crate whose librdkafka is built (4.10.0+2.12.1)
#   ZSTD_SYS_VERSION      the zstd-sys crate whose zstd is linked into it (2.1.3+zstd.1.5.7)
#   AIOKAFKA_VERSION      aiokafka from PyPI (0.14.0)
#   PYTHON                the Python 3 that runs bench.py and makes the venv (python3)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$REPO/.bench}
RDKAFKA_SYS_VERSION=${RDKAFKA_SYS_VERSION:-4.10.0+2.12.1}
ZSTD_SYS_VERSION=${ZSTD_SYS_VERSION:-2.1.3+zstd.1.5.7}
AIOKAFKA_VERSION=${AIOKAFKA_VERSION:-0.14.0}
PYTHON=${PYTHON:-python3}
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}

log() { echo "bench.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------- ours

install_ours() {
    log "building actix-kafka perf (release)"
    (cd "$REPO" && cargo build --release --quiet -p actix-kafka-cli)
}

# ---------------------------------------------------------------- java

install_java() {
    "$REPO/scripts/kafka.sh" fetch
}

# ---------------------------------------------------------------- librdkafka

# The .crate file of NAME-VERSION, downloaded by cargo into its registry cache.
crate_file() { # NAME VERSION
    local f
    for f in "$CARGO_HOME"/registry/cache/*/"$1-$2.crate"; do
        [ -f "$f" ] && echo "$f" && return 0
    done
    return 1
}

# Has cargo download the two crates whose sources we build (an empty package
# that depends on them, outside the workspace; nothing is compiled).
fetch_crates() {
    crate_file rdkafka-sys "$RDKAFKA_SYS_VERSION" >/dev/null &&
        crate_file zstd-sys "$ZSTD_SYS_VERSION" >/dev/null && return 0
    local stub=$BENCH_DIR/crate-fetch
    mkdir -p "$stub/src"
    : >"$stub/src/lib.rs"
    cat >"$stub/Cargo.toml" <<EOF
# Written by scripts/bench.sh: only used to have cargo download these crates.
[package]
name = "bench-crate-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
rdkafka-sys = { version = "=${RDKAFKA_SYS_VERSION}", default-features = false }
zstd-sys = { version = "=${ZSTD_SYS_VERSION}", default-features = false }

[workspace]
EOF
    log "downloading rdkafka-sys $RDKAFKA_SYS_VERSION and zstd-sys $ZSTD_SYS_VERSION from crates.io"
    cargo fetch --quiet --manifest-path "$stub/Cargo.toml"
    crate_file rdkafka-sys "$RDKAFKA_SYS_VERSION" >/dev/null || die "cargo did not download rdkafka-sys"
    crate_file zstd-sys "$ZSTD_SYS_VERSION" >/dev/null || die "cargo did not download zstd-sys"
}

# A static libzstd from the zstd-sys crate's copy of zstd (the crate has no
# Makefile: it builds with the cc crate), into DIR/lib and DIR/include.
build_zstd() { # DIR
    local out=$1 src=$BENCH_DIR/build/zstd-sys-$ZSTD_SYS_VERSION
    rm -rf "$src" "$out"
    mkdir -p "$BENCH_DIR/build" "$out/lib" "$out/include" "$out/obj"
    tar -xzf "$(crate_file zstd-sys "$ZSTD_SYS_VERSION")" -C "$BENCH_DIR/build"
    local lib=$src/zstd/lib f
    # shellcheck disable=SC2016 # $1 and $2 are expanded by sh -c
    for f in "$lib"/common/*.c "$lib"/compress/*.c "$lib"/decompress/*.c "$lib"/decompress/*.S; do
        echo "$f"
    done | xargs -P "$(nproc)" -I{} sh -c \
        'gcc -O2 -fPIC -c "$1" -o "$2/$(basename "$(dirname "$1")")_$(basename "$1").o"' _ {} "$out/obj"
    ar rcs "$out/lib/libzstd.a" "$out"/obj/*.o
    cp "$lib"/zstd.h "$lib"/zstd_errors.h "$lib"/zdict.h "$out/include/"
}

install_librdkafka() {
    local bin=$BENCH_DIR/bin/rdkafka_performance stamp=$BENCH_DIR/bin/rdkafka_performance.version
    local want="rdkafka-sys $RDKAFKA_SYS_VERSION, zstd-sys $ZSTD_SYS_VERSION"
    [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
    fetch_crates
    log "building librdkafka from rdkafka-sys $RDKAFKA_SYS_VERSION (a minute or two)"
    local build=$BENCH_DIR/build src=$BENCH_DIR/build/rdkafka-sys-$RDKAFKA_SYS_VERSION
    local zstd=$build/zstd
    build_zstd "$zstd"
    rm -rf "$src"
    tar -xzf "$(crate_file rdkafka-sys "$RDKAFKA_SYS_VERSION")" -C "$build"
    (
        cd "$src/librdkafka"
        # Plaintext only: no TLS, SASL/GSSAPI or HTTP; zlib from the system, zstd static
        # from above, lz4 and snappy built in.
        CPPFLAGS="-I$zstd/include" LDFLAGS="-L$zstd/lib" ./configure --no-download \
            --disable-ssl --disable-gssapi --disable-curl --enable-zstd --enable-zlib \
            >"$build/librdkafka-configure.log" 2>&1 ||
            { tail -30 "$build/librdkafka-configure.log" >&2; exit 1; }
        grep -q 'BUILT_WITH.*ZSTD' "$build/librdkafka-configure.log" ||
            { log "librdkafka's configure did not find zstd"; exit 1; }
        make -j"$(nproc)" -C src librdkafka.a >"$build/librdkafka-make.log" 2>&1 &&
            make -C examples rdkafka_performance >>"$build/librdkafka-make.log" 2>&1 ||
            { tail -30 "$build/librdkafka-make.log" >&2; exit 1; }
    ) || die "building librdkafka failed (logs in $build)"
    mkdir -p "$BENCH_DIR/bin"
    cp "$src/librdkafka/examples/rdkafka_performance" "$bin"
    echo "$want" >"$stamp"
    log "built $bin"
}

# ---------------------------------------------------------------- aiokafka

install_aiokafka() {
    local venv=$BENCH_DIR/venv
    if [ -x "$venv/bin/python" ] &&
        [ "$("$venv/bin/python" -c 'import aiokafka; print(aiokafka.__version__)' 2>/dev/null)" = \
            "$AIOKAFKA_VERSION" ]; then
        return 0
    fi
    log "installing aiokafka $AIOKAFKA_VERSION into $venv"
    "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "aiokafka[lz4,zstd]==$AIOKAFKA_VERSION"
}

# ---------------------------------------------------------------- franz-go

install_franz() {
    local src=$REPO/scripts/bench_franz
    mkdir -p "$BENCH_DIR/bin"
    log "building the franz-go driver"
    (cd "$src" && go build -mod=readonly -o "$BENCH_DIR/bin/bench_franz" .)
}

# ---------------------------------------------------------------- main

install() {
    local client
    for client in "$@"; do
        case "$client" in
            ours | java | librdkafka | aiokafka | franz) "install_$client" ;;
            ours-before) [ -x "${OURS_BEFORE_BIN:-}" ] || die "ours-before needs OURS_BEFORE_BIN=<an actix-kafka binary>" ;;
            *) die "unknown client '$client' (ours, java, librdkafka, aiokafka, franz)" ;;
        esac
    done
}

main() {
    if [ "${1:-}" = install ]; then
        shift
        install "$@"
        return
    fi
    exec "$PYTHON" "$REPO/scripts/bench.py" "$@"
}

main "$@"
