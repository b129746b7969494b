#!/usr/bin/env bash
# The project's test command (see README). Provisions Apache Kafka from Maven
# Central and starts what the integration tests need, unless it already answers:
#   - a single KRaft node on 127.0.0.1:9092 (transaction.version 2, the default),
#   - a single node on 127.0.0.1:9192 formatted with transaction.version=1,
#   - a single Kafka 3.9.1 node on 127.0.0.1:9392 with the request log (integration/tests/kafka39.rs),
#   - the 3-node cluster on 127.0.0.1:19092,19094,19096,
#   - the secured node (TLS, mTLS, SASL, ACLs) on 127.0.0.1:9300-9309.
# Then it runs every test of the workspace and stops the brokers it started.
set -euo pipefail
cd "$(dirname "$0")/.."

started=()
cleanup() {
    for env in "${started[@]}"; do
        # shellcheck disable=SC2086 # $env is a list of VAR=value words
        env $env scripts/kafka.sh "$(down_command "$env")" || true
    done
}
down_command() {
    case "$1" in
        CLUSTER=1) echo cluster-down ;;
        SECURE=1) echo secure-down ;;
        *) echo down ;;
    esac
}
trap cleanup EXIT

# ensure ADDR ENV UP_COMMAND: start a broker unless ADDR already answers.
ensure() {
    local addr=$1 env=$2 up=$3
    if scripts/kafka.sh answers "$addr"; then
        echo "test.sh: using the broker already answering on $addr"
    else
        # shellcheck disable=SC2086
        env $env scripts/kafka.sh "$up"
        started+=("$env")
    fi
}

scripts/kafka.sh fetch
KAFKA_VERSION=3.9.1 scripts/kafka.sh fetch
# Compile before the brokers start, so they do not compete with the compiler.
cargo test --workspace --no-run
ensure 127.0.0.1:9092 "KAFKA_PORT=9092" up
ensure 127.0.0.1:9192 "KAFKA_PORT=9192 KAFKA_TXN_VERSION=1" up
ensure 127.0.0.1:9392 "KAFKA_PORT=9392 KAFKA_VERSION=3.9.1 KAFKA_REQUEST_LOG=1" up
ensure 127.0.0.1:19092 "CLUSTER=1" cluster-up
# SASL_SSL; secure-up also waits until its topics and ACLs are in place.
ensure 127.0.0.1:9307 "SECURE=1" secure-up

cargo test --workspace "$@"
