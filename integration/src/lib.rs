//! The real-broker test harness.
//!
//! The broker itself is started by `scripts/kafka.sh up` (the README's test
//! command does it); this crate only talks to it. Nothing here skips: if the
//! broker does not answer, [`bootstrap`] panics with instructions, so a
//! missing broker is a failed test, never a silent pass.
//!
//! Independent verification goes through Kafka's own tools (the console
//! consumer), run with the broker's jars via `scripts/kafka.sh`.

pub mod checker;
pub mod counting_proxy;
pub mod fake_broker;
pub mod fault_proxy;
pub mod secure;

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The bootstrap address of the single test broker (transaction.version 2):
/// `KAFKA_BOOTSTRAP`, or 127.0.0.1:9092. Panics if nothing answers.
pub fn bootstrap() -> String {
    answering_bootstrap("KAFKA_BOOTSTRAP", "127.0.0.1:9092", "scripts/kafka.sh up")
}

/// The single broker formatted with `transaction.version=1`:
/// `KAFKA_BOOTSTRAP_TV1`, or 127.0.0.1:9192. Panics if nothing answers.
pub fn tv1_bootstrap() -> String {
    answering_bootstrap(
        "KAFKA_BOOTSTRAP_TV1",
        "127.0.0.1:9192",
        "KAFKA_PORT=9192 KAFKA_TXN_VERSION=1 scripts/kafka.sh up",
    )
}

/// The single Kafka 3.9.1 node (KRaft, no transaction.version feature, Produce
/// up to v11): `KAFKA_BOOTSTRAP_39`, or 127.0.0.1:9392. Panics if nothing answers.
pub fn kafka39_bootstrap() -> String {
    answering_bootstrap(
        "KAFKA_BOOTSTRAP_39",
        "127.0.0.1:9392",
        "KAFKA_REQUEST_LOG=1 KAFKA_VERSION=3.9.1 KAFKA_PORT=9392 scripts/kafka.sh up",
    )
}

/// The 3-node cluster: `KAFKA_CLUSTER_BOOTSTRAP`, or its three loopback
/// brokers. Panics if the first does not answer.
pub fn cluster_bootstrap() -> String {
    answering_bootstrap(
        "KAFKA_CLUSTER_BOOTSTRAP",
        "127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096",
        "scripts/kafka.sh cluster-up",
    )
}

/// Reads `var` (or `default`), a comma-separated address list, and checks
/// that its first address accepts connections.
fn answering_bootstrap(var: &str, default: &str, start_with: &str) -> String {
    let list = std::env::var(var).unwrap_or_else(|_| default.to_string());
    let first = list.split(',').next().unwrap_or_default();
    let socket: SocketAddr = first
        .parse()
        .unwrap_or_else(|e| panic!("{var}={list}: {first} is not a socket address: {e}"));
    if let Err(e) = TcpStream::connect_timeout(&socket, Duration::from_secs(5)) {
        panic!(
            "no Kafka broker answers on {first} ({e}). Start it with `{start_with}` \
             (the README's test command does this); integration tests never skip."
        );
    }
    list
}

/// The repository root (this crate lives in `integration/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("integration/ has a parent")
        .to_path_buf()
}

/// A topic name no other test (or earlier run) uses.
pub fn unique_topic(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `scripts/kafka.sh` with `args` against `bootstrap`, returning stdout.
/// Panics with the tool's stderr if it fails.
pub fn kafka_sh(bootstrap: &str, args: &[&str]) -> String {
    kafka_sh_with(&[], bootstrap, args)
}

/// [`kafka_sh`] with extra environment variables (e.g. `KAFKA_VERSION` for
/// another release's jars).
pub fn kafka_sh_with(env: &[(&str, &str)], bootstrap: &str, args: &[&str]) -> String {
    let script = repo_root().join("scripts/kafka.sh");
    let output = Command::new("bash")
        .arg(&script)
        .args(args)
        .envs(env.iter().copied())
        .env("BOOTSTRAP", bootstrap)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{env:?} scripts/kafka.sh {args:?} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Creates `topic` with `partitions` partitions (replication factor 1) and
/// extra topic configs such as `message.timestamp.type=LogAppendTime`.
pub fn create_topic(bootstrap: &str, topic: &str, partitions: u32, configs: &[&str]) {
    let partitions = partitions.to_string();
    let mut args = vec!["topic-create", topic, &partitions, "1"];
    for config in configs {
        args.push("--config");
        args.push(config);
    }
    kafka_sh(bootstrap, &args);
}

/// Reads `count` records of `topic` from the beginning with Kafka's own
/// console consumer. Each line is `Partition:P|Offset:O|key|value`; `extra`
/// can add fields (`print.timestamp=true` prepends `CreateTime:T|`,
/// `print.headers=true` inserts `k:v,k:v|` before the key). Panics if fewer
/// records arrive within the timeout.
pub fn console_consume(bootstrap: &str, topic: &str, count: usize, extra: &[&str]) -> Vec<String> {
    let count_arg = count.to_string();
    let mut args = vec![
        "consume",
        topic,
        "--from-beginning",
        "--max-messages",
        &count_arg,
        "--timeout-ms",
        "30000",
        "--property",
        "print.partition=true",
        "--property",
        "print.offset=true",
        "--property",
        "print.key=true",
        "--property",
        "key.separator=|",
    ];
    args.extend_from_slice(extra);
    let out = kafka_sh(bootstrap, &args);
    let lines: Vec<String> = out.lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), count, "console consumer output:\n{out}");
    lines
}
