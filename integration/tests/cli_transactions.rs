//! The `actix-kafka` binary's idempotent and transactional modes against the
//! real broker: `produce --idempotent`, `produce --transactional-id
//! --transaction-size --abort-every`, and `perf --transaction-duration-ms`,
//! checked with Kafka's console consumer (`read_committed` and
//! `read_uncommitted`) and `DumpLogSegments`.
//!
//! The binary is built on first use (`common::cli`).

mod common;

use std::process::Output;

use actix_kafka_integration::{bootstrap, create_topic, unique_topic};
use common::cli::run_cli;

/// stdout, after checking that the run succeeded.
fn successful(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "actix-kafka failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The `(offset, committed)` fields of `produce`'s JSON lines.
fn offsets_and_outcomes(stdout: &str) -> Vec<(i64, String)> {
    stdout
        .lines()
        .map(|line| {
            let field = |name: &str| {
                let key = format!("\"{name}\":");
                let start = line.find(&key).unwrap_or_else(|| panic!("no {name} in {line}")) + key.len();
                let rest = &line[start..];
                rest[..rest.find([',', '}']).expect("a JSON object")].to_string()
            };
            (field("offset").parse().expect("an offset"), field("committed"))
        })
        .collect()
}

fn produce_args<'a>(bootstrap: &'a str, topic: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["produce", "--bootstrap-servers", bootstrap, "--topic", topic];
    args.extend_from_slice(extra);
    args
}

#[test]
fn produce_aborts_every_kth_transaction_and_read_committed_sees_only_the_others() {
    let bootstrap = bootstrap();
    let topic = unique_topic("cli-txn");
    create_topic(&bootstrap, &topic, 1, &[]);
    let id = unique_topic("cli-txn-id");
    let output = run_cli(
        &produce_args(
            &bootstrap,
            &topic,
            &[
                "--transactional-id",
                &id,
                "--transaction-size",
                "2",
                "--abort-every",
                "2",
            ],
        ),
        b"l1\nl2\nl3\nl4\nl5\nl6\n",
    );
    let stdout = successful(&output);
    // Transactions 1 and 3 commit, 2 is aborted; each ends with a marker,
    // which takes an offset.
    let expected: Vec<(i64, String)> = [
        (0, "true"),
        (1, "true"),
        (3, "false"),
        (4, "false"),
        (6, "true"),
        (7, "true"),
    ]
    .into_iter()
    .map(|(offset, committed)| (offset, committed.to_string()))
    .collect();
    assert_eq!(offsets_and_outcomes(&stdout), expected, "{stdout}");

    assert_eq!(
        common::values_seen(&bootstrap, &topic, 4, "read_committed"),
        ["l1", "l2", "l5", "l6"]
    );
    assert_eq!(
        common::values_seen(&bootstrap, &topic, 6, "read_uncommitted"),
        ["l1", "l2", "l3", "l4", "l5", "l6"]
    );
}

#[test]
fn produce_commits_a_partial_last_transaction_at_the_end_of_input() {
    let bootstrap = bootstrap();
    let topic = unique_topic("cli-txn-tail");
    create_topic(&bootstrap, &topic, 1, &[]);
    let id = unique_topic("cli-txn-id");
    let output = run_cli(
        &produce_args(
            &bootstrap,
            &topic,
            &["--transactional-id", &id, "--transaction-size", "2"],
        ),
        b"a\nb\nc\n",
    );
    let stdout = successful(&output);
    let outcomes: Vec<String> = offsets_and_outcomes(&stdout)
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(outcomes, ["true", "true", "true"], "{stdout}");
    assert_eq!(
        common::values_seen(&bootstrap, &topic, 3, "read_committed"),
        ["a", "b", "c"]
    );
}

#[test]
fn produce_transaction_flags_need_a_transactional_id() {
    let output = run_cli(
        &produce_args("127.0.0.1:1", "t", &["--transaction-size", "2"]),
        b"x\n",
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("--transactional-id"), "{stderr}");
}

#[test]
fn produce_aborts_a_transaction_with_a_refused_record_and_fails() {
    let bootstrap = bootstrap();
    let topic = unique_topic("cli-txn-missing");
    let id = unique_topic("cli-txn-id");
    let output = run_cli(
        &produce_args(
            &bootstrap,
            &topic,
            &[
                "--transactional-id",
                &id,
                "--transaction-size",
                "2",
                "--producer-property",
                "max.block.ms=1000",
            ],
        ),
        b"x1\nx2\nx3\n",
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(stderr.contains("line 1:"), "{stderr}");
    assert!(
        stderr.contains("transaction 1 (lines 1-2) was aborted"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("line 3:"),
        "the run stops after the failed transaction: {stderr}"
    );
}

#[test]
fn produce_idempotent_writes_batches_with_a_producer_id() {
    let bootstrap = bootstrap();
    let topic = unique_topic("cli-idempotent");
    create_topic(&bootstrap, &topic, 1, &[]);
    let output = run_cli(
        &produce_args(&bootstrap, &topic, &["--idempotent"]),
        b"i1\ni2\ni3\n",
    );
    let stdout = successful(&output);
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(!stdout.contains("committed"), "no transactions: {stdout}");
    assert_eq!(
        common::values_seen(&bootstrap, &topic, 3, "read_uncommitted"),
        ["i1", "i2", "i3"]
    );
    let batches = common::dump_batches(&bootstrap, &topic, 0);
    assert!(!batches.is_empty());
    for batch in &batches {
        assert!(
            batch.producer_id >= 0,
            "an idempotent batch has a producer id: {batch:?}"
        );
        assert_eq!(batch.base_sequence, batch.base_offset as i32, "{batch:?}");
    }
}

#[test]
fn perf_commits_a_transaction_every_duration() {
    let bootstrap = bootstrap();
    let topic = unique_topic("cli-perf-txn");
    create_topic(&bootstrap, &topic, 1, &[]);
    let servers = format!("bootstrap.servers={bootstrap}");
    let id = unique_topic("cli-perf-txn-id");
    // About 1.5 s of records at 2000/s: several 200 ms transactions.
    let output = run_cli(
        &[
            "perf",
            "--topic",
            &topic,
            "--num-records",
            "3000",
            "--record-size",
            "10",
            "--throughput",
            "2000",
            "--producer-props",
            &servers,
            "--transactional-id",
            &id,
            "--transaction-duration-ms",
            "200",
        ],
        b"",
    );
    let stdout = successful(&output);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("3000 records sent, "), "{stdout}");

    assert_eq!(
        common::values_seen(&bootstrap, &topic, 3000, "read_committed").len(),
        3000
    );
    // Each transaction ended with a commit marker, which takes an offset.
    let end = common::end_offsets(&bootstrap, &topic)[&0];
    let markers = end - 3000;
    assert!(
        (3..=30).contains(&markers),
        "{markers} transactions in ~1.5 s of 200 ms ones"
    );
}
