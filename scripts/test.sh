#!/usr/bin/env bash
# The project's test command (see README): provisions Apache Kafka from Maven
# Central, starts a single KRaft broker on 127.0.0.1:9092 if none answers, runs
# every test of the workspace against it, and stops the broker it started.
set -euo pipefail
cd "$(dirname "$0")/.."

started=""
cleanup() {
    if [ -n "$started" ]; then
        scripts/kafka.sh down || true
    fi
}
trap cleanup EXIT

scripts/kafka.sh fetch
if scripts/kafka.sh answers 127.0.0.1:9092; then
    echo "test.sh: using the broker already answering on 127.0.0.1:9092"
else
    scripts/kafka.sh up
    started=yes
fi

# Build first so the broker is not competing with the compiler during tests.
cargo test --workspace --no-run
cargo test --workspace "$@"
