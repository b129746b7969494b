#!/usr/bin/env bash
# scripts/bench.sh: the side-by-side producer benchmark (issue 5).
#
#   scripts/bench.sh [bench.py options]    install what the chosen clients need, then run
#                                          scripts/bench.py (see `scripts/bench.sh --help`)
#   scripts/bench.sh install CLIENT...     only install: ours, java, librdkafka, librdkafka-ssl,
#                                          aiokafka, franz
#
# Everything is installed by this script, from the package registries, and cached:
#   ours        `cargo build --release -p actix-kafka-cli` ($CARGO_TARGET_DIR or target/)
#   java        Kafka's jars through scripts/kafka.sh fetch (~/.cache/actix-kafka)
#   librdkafka  the librdkafka sources bundled in the rdkafka-sys crate (crates.io), built
#               with their own ./configure && make, zstd from the zstd-sys crate's sources;
#               .bench/bin/rdkafka_performance (plaintext only: --disable-ssl)
#   librdkafka-ssl
#               the same sources and zstd, configured with --enable-ssl (TLS, and with it
#               SASL PLAIN/SCRAM, which librdkafka implements itself: no cyrus-sasl, no
#               GSSAPI); .bench/bin/rdkafka_performance_ssl, for the TLS cases
#               (`--security sasl_ssl_scram512`). OpenSSL 3 comes from the system's
#               development package when its headers are there (Debian: `apt-get install
#               libssl-dev`), otherwise from the openssl-src crate (crates.io): its bundled
#               OpenSSL sources, built static with their own ./Configure && make (a few
#               minutes; BENCH_OPENSSL=src forces this, BENCH_OPENSSL=system refuses it)
#   aiokafka    aiokafka from PyPI in the venv .bench/venv
#   franz       the franz-go driver scripts/bench_franz (Go module proxy, versions pinned
#               in its go.mod/go.sum), built into .bench/bin/bench_franz
#
# Environment:
#   BENCH_DIR             cache and results root (<repo>/.bench)
#   RDKAFKA_SYS_VERSION   the rdkafka-sys crate whose librdkafka is built (4.10.0+2.12.1)
#   ZSTD_SYS_VERSION      the zstd-sys crate whose zstd is linked into it (2.1.3+zstd.1.5.7)
#   OPENSSL_SRC_VERSION   the openssl-src crate built when the system has no OpenSSL headers
#                         (300.6.1+3.6.3)
#   BENCH_OPENSSL         auto (system headers if present, else openssl-src), system, or src
#   AIOKAFKA_VERSION      aiokafka from PyPI (0.14.0)
#   PYTHON                the Python 3 that runs bench.py and makes the venv (python3)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$REPO/.bench}
RDKAFKA_SYS_VERSION=${RDKAFKA_SYS_VERSION:-4.10.0+2.12.1}
ZSTD_SYS_VERSION=${ZSTD_SYS_VERSION:-2.1.3+zstd.1.5.7}
OPENSSL_SRC_VERSION=${OPENSSL_SRC_VERSION:-300.6.1+3.6.3}
BENCH_OPENSSL=${BENCH_OPENSSL:-auto}
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

# Has cargo download the crates whose sources we build (an empty package that
# depends on them, outside the workspace; nothing is compiled): rdkafka-sys and
# zstd-sys, and openssl-src when called with `openssl`.
fetch_crates() { # [openssl]
    local want_openssl=${1:-}
    crate_file rdkafka-sys "$RDKAFKA_SYS_VERSION" >/dev/null &&
        crate_file zstd-sys "$ZSTD_SYS_VERSION" >/dev/null &&
        { [ -z "$want_openssl" ] || crate_file openssl-src "$OPENSSL_SRC_VERSION" >/dev/null; } &&
        return 0
    local stub=$BENCH_DIR/crate-fetch extra=""
    [ -n "$want_openssl" ] && extra="openssl-src = \"=${OPENSSL_SRC_VERSION}\""
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
${extra}

[workspace]
EOF
    log "downloading rdkafka-sys $RDKAFKA_SYS_VERSION, zstd-sys $ZSTD_SYS_VERSION${want_openssl:+ and openssl-src $OPENSSL_SRC_VERSION} from crates.io"
    cargo fetch --quiet --manifest-path "$stub/Cargo.toml"
    crate_file rdkafka-sys "$RDKAFKA_SYS_VERSION" >/dev/null || die "cargo did not download rdkafka-sys"
    crate_file zstd-sys "$ZSTD_SYS_VERSION" >/dev/null || die "cargo did not download zstd-sys"
    [ -z "$want_openssl" ] || crate_file openssl-src "$OPENSSL_SRC_VERSION" >/dev/null ||
        die "cargo did not download openssl-src"
}

# A static libzstd from the zstd-sys crate's copy of zstd (the crate has no
# Makefile: it builds with the cc crate), into DIR/lib and DIR/include.
build_zstd() { # DIR
    local out=$1 parent
    parent=$(dirname "$out")
    local src=$parent/zstd-sys-$ZSTD_SYS_VERSION
    rm -rf "$src" "$out"
    mkdir -p "$parent" "$out/lib" "$out/include" "$out/obj"
    tar -xzf "$(crate_file zstd-sys "$ZSTD_SYS_VERSION")" -C "$parent"
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

# Where OpenSSL comes from for the SSL build: "system" when its development
# headers are installed, else "src" (BENCH_OPENSSL overrides).
openssl_source() {
    case "$BENCH_OPENSSL" in
        system | src) echo "$BENCH_OPENSSL" ;;
        auto) if [ -f /usr/include/openssl/ssl.h ]; then echo system; else echo src; fi ;;
        *) die "BENCH_OPENSSL is auto, system or src, not '$BENCH_OPENSSL'" ;;
    esac
}

# OPENSSL_VERSION_STR from the system's opensslv.h (e.g. 3.0.19), or "?".
system_openssl_version() {
    local f v
    for f in /usr/include/openssl/opensslv.h /usr/include/*-linux-gnu/openssl/opensslv.h; do
        [ -f "$f" ] || continue
        v=$(sed -n 's/^# *define OPENSSL_VERSION_STR "\(.*\)"/\1/p' "$f" | head -1)
        [ -n "$v" ] && echo "$v" && return 0
    done
    echo "?"
}

# A static OpenSSL from the openssl-src crate's copy of the OpenSSL sources,
# with OpenSSL's own ./Configure && make (libraries and headers only), into
# DIR/lib and DIR/include.
build_openssl() { # DIR
    local out=$1 parent
    parent=$(dirname "$out")
    local src=$parent/openssl-src-$OPENSSL_SRC_VERSION
    rm -rf "$src" "$out"
    mkdir -p "$parent"
    tar -xzf "$(crate_file openssl-src "$OPENSSL_SRC_VERSION")" -C "$parent"
    log "building OpenSSL from openssl-src $OPENSSL_SRC_VERSION (static, no tests; a few minutes)"
    (
        cd "$src/openssl"
        # Static, without loadable modules and the legacy provider (the crate ships
        # no sources for it), no tests, no zlib.
        ./Configure --prefix="$out" --libdir=lib --openssldir="$out/ssl" no-shared no-module \
            no-legacy no-tests no-comp no-zlib >"$parent/openssl-configure.log" 2>&1 ||
            { tail -30 "$parent/openssl-configure.log" >&2; exit 1; }
        make -j"$(nproc)" build_libs >"$parent/openssl-make.log" 2>&1 &&
            make install_dev >>"$parent/openssl-make.log" 2>&1 ||
            { tail -30 "$parent/openssl-make.log" >&2; exit 1; }
    ) || die "building OpenSSL failed (logs in $parent)"
}

# rdkafka_performance with TLS and SASL PLAIN/SCRAM (librdkafka implements
# those itself on top of OpenSSL; only GSSAPI would need cyrus-sasl), for the
# SASL_SSL cases. The same librdkafka and zstd as the plaintext build.
install_librdkafka_ssl() {
    local bin=$BENCH_DIR/bin/rdkafka_performance_ssl stamp=$BENCH_DIR/bin/rdkafka_performance_ssl.version
    local openssl want
    openssl=$(openssl_source)
    if [ "$openssl" = system ] && [ ! -f /usr/include/openssl/ssl.h ]; then
        die "BENCH_OPENSSL=system but /usr/include/openssl/ssl.h is missing: install OpenSSL's headers (Debian: apt-get install libssl-dev), or leave BENCH_OPENSSL unset to build OpenSSL from the openssl-src crate"
    fi
    if [ "$openssl" = system ]; then
        want="rdkafka-sys $RDKAFKA_SYS_VERSION, zstd-sys $ZSTD_SYS_VERSION, system OpenSSL $(system_openssl_version)"
    else
        want="rdkafka-sys $RDKAFKA_SYS_VERSION, zstd-sys $ZSTD_SYS_VERSION, openssl-src $OPENSSL_SRC_VERSION"
    fi
    [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
    if [ "$openssl" = system ]; then
        fetch_crates
    else
        [ "$BENCH_OPENSSL" = src ] ||
            log "no OpenSSL headers in /usr/include/openssl: building OpenSSL from the openssl-src crate (installing libssl-dev instead would skip this)"
        fetch_crates openssl
    fi
    local build=$BENCH_DIR/build/ssl src=$BENCH_DIR/build/ssl/rdkafka-sys-$RDKAFKA_SYS_VERSION
    local zstd=$BENCH_DIR/build/ssl/zstd ossl=$BENCH_DIR/build/ssl/openssl
    local cppflags="-I$zstd/include" ldflags="-L$zstd/lib" pkgpath=""
    mkdir -p "$build"
    build_zstd "$zstd"
    if [ "$openssl" = src ]; then
        build_openssl "$ossl"
        cppflags+=" -I$ossl/include"
        ldflags+=" -L$ossl/lib"
        pkgpath=$ossl/lib/pkgconfig
    fi
    log "building librdkafka with SSL and SASL ($want; a minute or two)"
    rm -rf "$src"
    tar -xzf "$(crate_file rdkafka-sys "$RDKAFKA_SYS_VERSION")" -C "$build"
    (
        cd "$src/librdkafka"
        # TLS with OpenSSL, which also turns on SASL PLAIN, SCRAM and OAUTHBEARER
        # (built into librdkafka); no GSSAPI (cyrus-sasl) and no HTTP (curl, only
        # for OIDC). zlib from the system, zstd static from above, lz4 and
        # snappy built in: otherwise the plaintext build's settings.
        PKG_CONFIG_PATH=$pkgpath${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH} CPPFLAGS="$cppflags" \
            LDFLAGS="$ldflags" ./configure --no-download \
            --enable-ssl --disable-gssapi --disable-curl --enable-zstd --enable-zlib \
            >"$build/librdkafka-configure.log" 2>&1 ||
            { tail -30 "$build/librdkafka-configure.log" >&2; exit 1; }
        for feature in SSL SASL_SCRAM ZSTD; do
            grep -q "BUILT_WITH.*\b$feature\b" "$build/librdkafka-configure.log" ||
                { log "librdkafka's configure did not turn on $feature (see $build/librdkafka-configure.log)"; exit 1; }
        done
        make -j"$(nproc)" -C src librdkafka.a >"$build/librdkafka-make.log" 2>&1 &&
            make -C examples rdkafka_performance >>"$build/librdkafka-make.log" 2>&1 ||
            { tail -30 "$build/librdkafka-make.log" >&2; exit 1; }
    ) || die "building librdkafka with SSL failed (logs in $build)"
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
            librdkafka-ssl) install_librdkafka_ssl ;;
            ours-before) [ -x "${OURS_BEFORE_BIN:-}" ] || die "ours-before needs OURS_BEFORE_BIN=<an actix-kafka binary>" ;;
            *) die "unknown client '$client' (ours, java, librdkafka, librdkafka-ssl, aiokafka, franz)" ;;
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
