#!/usr/bin/env bash
# The project's main job (see README): starts the local broker if none answers
# on 127.0.0.1:9092, then runs the actix-kafka demo against it. The broker is
# left running for further experiments; `scripts/kafka.sh down` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/kafka.sh fetch
scripts/kafka.sh answers 127.0.0.1:9092 || scripts/kafka.sh up
cargo run --quiet --release -p actix-kafka-cli -- demo --bootstrap-servers 127.0.0.1:9092 "$@"
