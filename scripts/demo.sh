#!/usr/bin/env bash
# The project's main job (see README): starts the local broker if none answers
# on 127.0.0.1:9092, then runs the actix-kafka demo against it: negotiated API
# versions, cluster metadata, and records produced through the actors with
# their acks. The broker is
# left running for further experiments; `scripts/kafka.sh down` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/kafka.sh fetch
scripts/kafka.sh answers 127.0.0.1:9092 || scripts/kafka.sh up
# The demo topic (3 partitions); it may exist from an earlier run.
if ! scripts/kafka.sh topic-describe actix-kafka-demo >/dev/null 2>&1; then
    scripts/kafka.sh topic-create actix-kafka-demo 3
fi
cargo run --quiet --release -p actix-kafka-cli -- demo --bootstrap-servers 127.0.0.1:9092 "$@"
