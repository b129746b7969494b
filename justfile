# Task shortcuts. Every recipe only wraps a script, so `just` is optional:
# the command after each recipe name does the same without it.
set shell := ["bash", "-cu"]

# Resolve the Kafka jars from Maven Central (scripts/kafka.sh fetch).
kafka-fetch:
    scripts/kafka.sh fetch

# Start the single KRaft node on 127.0.0.1:9092 (scripts/kafka.sh up).
kafka-up:
    scripts/kafka.sh up

# Stop the single node (scripts/kafka.sh down).
kafka-down:
    scripts/kafka.sh down

# Start the 3-node cluster on 127.0.0.1:19092,19094,19096 (scripts/kafka.sh cluster-up).
kafka-cluster-up:
    scripts/kafka.sh cluster-up

# Stop the 3-node cluster (scripts/kafka.sh cluster-down).
kafka-cluster-down:
    scripts/kafka.sh cluster-down

# Start the single node formatted with transaction.version=1 on 127.0.0.1:9192.
kafka-tv1-up:
    KAFKA_PORT=9192 KAFKA_TXN_VERSION=1 scripts/kafka.sh up

# Stop the transaction.version=1 node.
kafka-tv1-down:
    KAFKA_PORT=9192 KAFKA_TXN_VERSION=1 scripts/kafka.sh down

# Start the single Kafka 3.9.1 node on 127.0.0.1:9392 with the request log (integration/tests/kafka39.rs).
kafka39-up:
    KAFKA_PORT=9392 KAFKA_VERSION=3.9.1 KAFKA_REQUEST_LOG=1 scripts/kafka.sh up

# Stop the Kafka 3.9.1 node.
kafka39-down:
    KAFKA_PORT=9392 KAFKA_VERSION=3.9.1 scripts/kafka.sh down

# The Kafka 3.9.1 core suite (needs kafka39-up): codecs, acks, idempotence, transactions, versions.
test-kafka39:
    cargo test -p actix-kafka-integration --test kafka39

# Start the secured node (TLS, mTLS, SASL, ACLs) on 127.0.0.1:9300-9309 (docs/security.md).
kafka-secure-up:
    scripts/kafka.sh secure-up

# Stop the secured node.
kafka-secure-down:
    scripts/kafka.sh secure-down

# Every test, provisioning and starting Kafka as needed (scripts/test.sh).
test *ARGS:
    scripts/test.sh {{ARGS}}

# The main job: local broker if needed, then the demo (scripts/demo.sh).
demo *ARGS:
    scripts/demo.sh {{ARGS}}

# What CI runs: fmt, clippy, docs, then the tests (.ci/run).
ci:
    bash .ci/run

# Every fuzz target for SECONDS each (needs `cargo install cargo-fuzz --locked`).
fuzz SECONDS="30":
    fuzz/run-all.sh {{SECONDS}}

# The idempotent producer's full fault run on the 3-node cluster (needs kafka-cluster-up):
# 200000 records while 5 partition leaders are SIGKILLed and restarted.
fault-run:
    FAULT_RECORDS=200000 FAULT_KILLS=5 cargo test --release -p actix-kafka-integration --test cluster_faults -- --nocapture

# The transactional copier's full fault run on the 3-node cluster (needs kafka-cluster-up):
# 50000 records copied in transactions while 5 nodes (coordinator, leaders) are SIGKILLed.
copier-run:
    COPIER_RECORDS=50000 COPIER_KILLS=5 cargo test --release -p actix-kafka-integration --test cluster_txn_copier -- --nocapture

# The side-by-side producer benchmark (scripts/bench.sh): installs the clients, runs ours, Java's
# ProducerPerformance, librdkafka and aiokafka in turn on the local broker, writes docs/benchmarks.md.
# `just bench --quick` for 200,000 records and 1 round; `just bench --help` for choosing cases.
bench *ARGS:
    scripts/bench.sh {{ARGS}}
