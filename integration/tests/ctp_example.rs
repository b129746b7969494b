//! The consume-transform-produce example (`examples/src/bin/
//! consume_transform_produce.rs`), run as users run it, against the real
//! broker: its input is filled with Kafka's console producer, its output read
//! back with a `read_committed` console consumer, and the group's committed
//! offsets read with Kafka's consumer-groups tool.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use actix_kafka_integration::{bootstrap, create_topic, repo_root, unique_topic};

const INPUT_RECORDS: usize = 23;
const TRANSACTION_SIZE: usize = 5;

/// `cargo run -q -p actix-kafka-examples --bin consume_transform_produce -- args`;
/// returns its stdout, panicking (with both outputs) unless it succeeds.
fn run_example(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO"))
        .args([
            "run",
            "-q",
            "-p",
            "actix-kafka-examples",
            "--bin",
            "consume_transform_produce",
            "--",
        ])
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .output()
        .expect("cannot run cargo");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "the example failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn consume_transform_produce_writes_each_record_once_and_commits_the_offsets() {
    let bootstrap = bootstrap();
    let input = unique_topic("ctp-in");
    let output = unique_topic("ctp-out");
    let group = unique_topic("ctp-group");
    // Two input partitions: the offsets are committed per partition.
    create_topic(&bootstrap, &input, 2, &[]);
    create_topic(&bootstrap, &output, 1, &[]);
    let lines: Vec<String> = (0..INPUT_RECORDS)
        .map(|i| format!("key-{i}\tinput record {i}"))
        .collect();
    common::console_produce(
        &bootstrap,
        &input,
        &lines,
        &["--property", "parse.key=true", "--property", "key.separator=\t"],
    );
    let input_ends = common::end_offsets(&bootstrap, &input);
    assert_eq!(input_ends.len(), 2);
    assert_eq!(input_ends.values().sum::<i64>(), INPUT_RECORDS as i64);

    let size = TRANSACTION_SIZE.to_string();
    let stdout = run_example(&[
        "--bootstrap-servers",
        &bootstrap,
        "--input-topic",
        &input,
        "--output-topic",
        &output,
        "--group",
        &group,
        "--max-messages",
        &INPUT_RECORDS.to_string(),
        "--transaction-size",
        &size,
    ]);
    let transactions = INPUT_RECORDS.div_ceil(TRANSACTION_SIZE);
    let committed = stdout.lines().filter(|l| l.starts_with("committed ")).count();
    assert_eq!(committed, transactions, "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some(format!("done: {INPUT_RECORDS} records").as_str()),
        "{stdout}"
    );

    // Exactly once: every input value, upper-cased, and nothing else.
    let mut seen = common::values_seen(&bootstrap, &output, INPUT_RECORDS, "read_committed");
    let mut expected: Vec<String> = (0..INPUT_RECORDS).map(|i| format!("INPUT RECORD {i}")).collect();
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
    // Nothing was written and then aborted: the output holds the records and
    // one commit marker per transaction.
    assert_eq!(
        common::end_offsets(&bootstrap, &output),
        BTreeMap::from([(0, (INPUT_RECORDS + transactions) as i64)])
    );

    // The group resumes after the last input record of each partition.
    let offsets = common::committed_offsets(&bootstrap, &group, &input);
    assert_eq!(
        offsets, input_ends,
        "committed offsets vs the input's end offsets"
    );
    assert_eq!(offsets.values().sum::<i64>(), INPUT_RECORDS as i64);
}
