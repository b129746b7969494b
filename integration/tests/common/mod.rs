//! Helpers shared by the producer integration tests: independent readers
//! (Kafka's console consumer, console producer, `GetOffsetShell` and
//! `DumpLogSegments`, all run from the broker's own jars) and a collector of
//! delivery events.

#![allow(dead_code)] // each test file uses a different subset

pub mod cli;
pub mod cluster;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use actix::prelude::*;
use actix_kafka::DeliveryEvent;
use actix_kafka_integration::{kafka_sh, repo_root};

/// One record as printed by Kafka's console consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumed {
    /// `CreateTime:T` / `LogAppendTime:T` when `print.timestamp=true`.
    pub timestamp: Option<String>,
    pub partition: i32,
    pub offset: i64,
    /// The `k:v,k:v` field when `print.headers=true`.
    pub headers: Option<String>,
    pub key: String,
    pub value: String,
}

/// Reads `count` records of `topic` from the beginning with Kafka's console
/// consumer (partition, offset and key printed; `extra` adds properties),
/// waiting up to `timeout_ms` for the next record. Panics unless exactly
/// `count` records arrive.
pub fn consume(bootstrap: &str, topic: &str, count: usize, timeout_ms: u64, extra: &[&str]) -> Vec<Consumed> {
    let count_arg = count.to_string();
    let timeout_arg = timeout_ms.to_string();
    let mut args = vec![
        "consume",
        topic,
        "--from-beginning",
        "--max-messages",
        &count_arg,
        "--timeout-ms",
        &timeout_arg,
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
    let with_timestamp = extra.contains(&"print.timestamp=true");
    let with_headers = extra.contains(&"print.headers=true");
    let out = kafka_sh(bootstrap, &args);
    let records: Vec<Consumed> = out
        .lines()
        .map(|line| parse_line(line, with_timestamp, with_headers))
        .collect();
    assert_eq!(
        records.len(),
        count,
        "console consumer read {} records of {topic}, expected {count}",
        records.len()
    );
    records
}

fn parse_line(line: &str, with_timestamp: bool, with_headers: bool) -> Consumed {
    let mut fields = line.split('|');
    let mut next = |what: &str| {
        fields
            .next()
            .unwrap_or_else(|| panic!("no {what} in console consumer line {line:?}"))
            .to_string()
    };
    let timestamp = with_timestamp.then(|| next("timestamp"));
    let partition = next("partition");
    let offset = next("offset");
    let headers = with_headers.then(|| next("headers"));
    let key = next("key");
    let value = next("value");
    let number = |field: &str, prefix: &str| {
        field
            .strip_prefix(prefix)
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or_else(|| panic!("bad {prefix} field in {line:?}"))
    };
    Consumed {
        timestamp,
        partition: number(&partition, "Partition:") as i32,
        offset: number(&offset, "Offset:"),
        headers,
        key,
        value,
    }
}

/// The end offset of every partition of `topic`, read with Kafka's
/// `GetOffsetShell` (an independent reader).
pub fn end_offsets(bootstrap: &str, topic: &str) -> BTreeMap<i32, i64> {
    let out = kafka_sh(
        bootstrap,
        &[
            "run-class",
            "org.apache.kafka.tools.GetOffsetShell",
            "--bootstrap-server",
            bootstrap,
            "--topic",
            topic,
        ],
    );
    parse_end_offsets(&out, topic)
}

/// `GetOffsetShell`'s `topic:partition:offset` lines for `topic`.
pub fn parse_end_offsets(out: &str, topic: &str) -> BTreeMap<i32, i64> {
    out.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(topic)?.strip_prefix(':')?;
            let (partition, offset) = rest.split_once(':')?;
            Some((partition.parse().ok()?, offset.parse().ok()?))
        })
        .collect()
}

/// The total number of records in `topic` (sum of end offsets; the topics
/// here are never truncated).
pub fn record_count(bootstrap: &str, topic: &str) -> i64 {
    end_offsets(bootstrap, topic).values().sum()
}

/// Feeds `lines` to Kafka's console producer for `topic`.
pub fn console_produce(bootstrap: &str, topic: &str, lines: &[String], extra: &[&str]) {
    let script = repo_root().join("scripts/kafka.sh");
    let mut child = Command::new("bash")
        .arg(&script)
        .arg("produce")
        .arg(topic)
        .args(extra)
        .env("BOOTSTRAP", bootstrap)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    {
        let mut stdin = child.stdin.take().expect("piped stdin");
        for line in lines {
            writeln!(stdin, "{line}").expect("write to the console producer");
        }
    }
    let output = child.wait_with_output().expect("console producer exits");
    assert!(
        output.status.success(),
        "console producer failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// One record batch as `DumpLogSegments` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpedBatch {
    pub base_offset: i64,
    pub count: i64,
    pub codec: String,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    /// A transaction marker (commit/abort), not data.
    pub is_control: bool,
}

/// The log directory of the single test broker (`scripts/kafka.sh`'s state).
pub fn single_broker_log_dir() -> PathBuf {
    broker_log_dir("single")
}

/// The log directory of the broker whose `scripts/kafka.sh` state is `name`
/// (`single`, `single-tv1-9192`).
pub fn broker_log_dir(name: &str) -> PathBuf {
    let state = std::env::var_os("ACTIX_KAFKA_STATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".kafka"));
    let dir = state.join(name).join("data");
    assert!(
        dir.is_dir(),
        "{} is not the single broker's log dir; the batch-level checks read the broker's segment files",
        dir.display()
    );
    dir
}

/// The record batches stored for `topic`/`partition`, read from the broker's
/// segment files with Kafka's `DumpLogSegments`.
pub fn dump_batches(bootstrap: &str, topic: &str, partition: i32) -> Vec<DumpedBatch> {
    dump_batches_in(&single_broker_log_dir(), bootstrap, topic, partition)
}

/// Like [`dump_batches`], for the broker whose log directory is `log_dir`.
pub fn dump_batches_in(log_dir: &Path, bootstrap: &str, topic: &str, partition: i32) -> Vec<DumpedBatch> {
    let dir = log_dir.join(format!("{topic}-{partition}"));
    let mut segments: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .map(|path| path.display().to_string())
        .collect();
    segments.sort();
    assert!(!segments.is_empty(), "no segment in {}", dir.display());
    let files = segments.join(",");
    let out = kafka_sh(
        bootstrap,
        &[
            "run-class",
            "org.apache.kafka.tools.DumpLogSegments",
            "--files",
            &files,
        ],
    );
    out.lines()
        .filter(|line| line.starts_with("baseOffset:"))
        .map(|line| {
            let field = |name: &str| -> String {
                let mut words = line.split_whitespace();
                while let Some(word) = words.next() {
                    if word == name {
                        return words.next().unwrap_or_default().to_string();
                    }
                }
                panic!("no {name} in {line:?}")
            };
            DumpedBatch {
                base_offset: field("baseOffset:").parse().expect("baseOffset"),
                count: field("count:").parse().expect("count"),
                codec: field("compresscodec:"),
                producer_id: field("producerId:").parse().expect("producerId"),
                producer_epoch: field("producerEpoch:").parse().expect("producerEpoch"),
                base_sequence: field("baseSequence:").parse().expect("baseSequence"),
                is_control: field("isControl:") == "true",
            }
        })
        .collect()
}

/// An actor that records every [`DeliveryEvent`] it receives.
pub struct EventCollector {
    pub events: Arc<Mutex<Vec<DeliveryEvent>>>,
}

impl Actor for EventCollector {
    type Context = Context<Self>;
}

impl Handler<DeliveryEvent> for EventCollector {
    type Result = ();

    fn handle(&mut self, event: DeliveryEvent, _: &mut Context<Self>) {
        self.events.lock().expect("events lock").push(event);
    }
}

/// Starts an [`EventCollector`]; returns its recipient and the shared list.
pub fn collect_events() -> (Recipient<DeliveryEvent>, Arc<Mutex<Vec<DeliveryEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let addr = EventCollector {
        events: events.clone(),
    }
    .start();
    (addr.recipient(), events)
}

/// The committed offset of `group` for each partition of `topic`, from Kafka's
/// consumer-groups tool (`GROUP TOPIC PARTITION CURRENT-OFFSET ...` rows;
/// partitions without a committed offset are left out).
pub fn committed_offsets(bootstrap: &str, group: &str, topic: &str) -> BTreeMap<i32, i64> {
    committed_offsets_by(bootstrap, group, topic, std::time::Instant::now())
}

/// The `(partition, committed offset)` rows of `topic` in the
/// consumer-groups tool's `--describe` output.
pub fn parse_committed_offsets(out: &str, topic: &str) -> BTreeMap<i32, i64> {
    out.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.len() > 3 && w[1] == topic)
        .filter_map(|w| Some((w[2].parse().ok()?, w[3].parse().ok()?)))
        .collect()
}

/// Every value a console consumer with `isolation` (`read_committed`,
/// `read_uncommitted`) reads from `topic` from the beginning: up to
/// `expected + 1` records, ending after 10 s without one, so that one record
/// too many shows. Unlike [`consume`] it does not assert the count.
pub fn values_seen(bootstrap: &str, topic: &str, expected: usize, isolation: &str) -> Vec<String> {
    let max = (expected + 1).to_string();
    let args = [
        "consume",
        topic,
        "--from-beginning",
        "--max-messages",
        &max,
        "--timeout-ms",
        "10000",
        "--isolation-level",
        isolation,
    ];
    kafka_sh(bootstrap, &args).lines().map(str::to_owned).collect()
}

/// The committed offsets of `group` for `topic`, retrying the consumer-groups
/// tool (its group coordinator may be moving) until `deadline`.
pub fn committed_offsets_by(
    bootstrap: &str,
    group: &str,
    topic: &str,
    deadline: std::time::Instant,
) -> BTreeMap<i32, i64> {
    let args = [
        "run-class",
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        "--bootstrap-server",
        bootstrap,
        "--describe",
        "--group",
        group,
    ];
    loop {
        match cluster::try_kafka_sh(bootstrap, &args) {
            Ok(out) => return parse_committed_offsets(&out, topic),
            Err(e) if std::time::Instant::now() >= deadline => panic!("cannot read the group's offsets: {e}"),
            Err(e) => {
                eprintln!("{e}; retrying");
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
    }
}
