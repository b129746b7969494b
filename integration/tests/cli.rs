//! The `actix-kafka` binary against the real broker: `produce` and `perf`.
//!
//! The binary is built on first use (`common::cli`).

mod common;

use actix_kafka_integration::{bootstrap, console_consume, create_topic, unique_topic};
use common::cli::run_cli;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether `line` matches `pattern`, where `{d}` stands for one or more digits,
/// `{fN}` for digits, a dot and exactly N digits, and everything else is literal.
fn matches_pattern(line: &str, pattern: &str) -> bool {
    fn digits(s: &str) -> usize {
        s.bytes().take_while(u8::is_ascii_digit).count()
    }
    let (mut line, mut pattern) = (line, pattern);
    while !pattern.is_empty() {
        if let Some(rest) = pattern.strip_prefix("{d}") {
            let n = digits(line);
            if n == 0 {
                return false;
            }
            (line, pattern) = (&line[n..], rest);
        } else if let Some(rest) = pattern.strip_prefix("{f") {
            let close = rest.find('}').expect("closed placeholder");
            let decimals: usize = rest[..close].parse().expect("decimals");
            let whole = digits(line);
            if whole == 0 || !line[whole..].starts_with('.') {
                return false;
            }
            let fraction = digits(&line[whole + 1..]);
            if fraction != decimals {
                return false;
            }
            (line, pattern) = (&line[whole + 1 + fraction..], &rest[close + 1..]);
        } else {
            let literal = pattern.find('{').unwrap_or(pattern.len());
            match line.strip_prefix(&pattern[..literal]) {
                Some(rest) => (line, pattern) = (rest, &pattern[literal..]),
                None => return false,
            }
        }
    }
    line.is_empty()
}

/// Kafka's `ProducerPerformance` summary line (`printTotal`).
const KAFKA_TOTAL: &str = "{d} records sent, {f6} records/sec ({f2} MB/sec), {f2} ms avg latency, \
                           {f2} ms max latency, {d} ms 50th, {d} ms 95th, {d} ms 99th, {d} ms 99.9th.";

/// Kafka's `ProducerPerformance` progress line (`printWindow`).
const KAFKA_WINDOW: &str =
    "{d} records sent, {f1} records/sec ({f2} MB/sec), {f1} ms avg latency, {f1} ms max latency.";

#[test]
fn the_pattern_matcher_works() {
    let kafka = "5000000 records sent, 751992.780869 records/sec (71.72 MB/sec), 7.00 ms avg latency, \
                 230.00 ms max latency, 4 ms 50th, 29 ms 95th, 53 ms 99th, 68 ms 99.9th.";
    assert!(matches_pattern(kafka, KAFKA_TOTAL));
    assert!(!matches_pattern(
        &kafka.replace("751992.780869", "751992.78"),
        KAFKA_TOTAL
    ));
    assert!(!matches_pattern(&format!("{kafka} "), KAFKA_TOTAL));
    assert!(matches_pattern(
        "3274096 records sent, 654688.3 records/sec (62.44 MB/sec), 5.6 ms avg latency, 230.0 ms max latency.",
        KAFKA_WINDOW
    ));
}

#[test]
fn produce_prints_one_json_line_per_record_and_kafka_reads_them() {
    let bootstrap = bootstrap();
    let topic = unique_topic("cli-produce");
    create_topic(&bootstrap, &topic, 1, &[]);

    let output = run_cli(
        &[
            "produce",
            "--bootstrap-servers",
            &bootstrap,
            "--topic",
            &topic,
            "--key-separator",
            ":",
            "--header",
            "origin=cli",
        ],
        b"k1:v1\nk2:v2:with:colons\nk3:v3\n",
    );
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "produce failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        text(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    for (offset, line) in lines.iter().enumerate() {
        let prefix = format!(r#"{{"topic":"{topic}","partition":0,"offset":{offset},"timestamp":"#);
        let timestamp = line
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix('}'))
            .unwrap_or_else(|| panic!("unexpected line {line:?}"));
        let timestamp: i64 = timestamp
            .parse()
            .unwrap_or_else(|_| panic!("timestamp in {line:?}"));
        assert!(timestamp > 1_600_000_000_000, "{line}");
    }

    let consumed = console_consume(&bootstrap, &topic, 3, &["--property", "print.headers=true"]);
    assert_eq!(
        consumed,
        vec![
            "Partition:0|Offset:0|origin:cli|k1|v1",
            "Partition:0|Offset:1|origin:cli|k2|v2:with:colons",
            "Partition:0|Offset:2|origin:cli|k3|v3",
        ]
    );
}

#[test]
fn produce_to_a_missing_topic_fails() {
    let bootstrap = bootstrap();
    let topic = unique_topic("cli-missing");
    let output = run_cli(
        &[
            "produce",
            "--bootstrap-servers",
            &bootstrap,
            "--topic",
            &topic,
            "--producer-property",
            "max.block.ms=1000",
        ],
        b"lost\n",
    );
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "produce succeeded:\n{stderr}");
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    assert!(stderr.contains("line 1:"), "{stderr}");
}

#[test]
fn perf_prints_kafkas_summary_line() {
    let bootstrap = bootstrap();
    let topic = unique_topic("cli-perf");
    create_topic(&bootstrap, &topic, 3, &[]);
    let servers = format!("bootstrap.servers={bootstrap}");
    let output = run_cli(
        &[
            "perf",
            "--topic",
            &topic,
            "--num-records",
            "20000",
            "--record-size",
            "100",
            "--throughput",
            "-1",
            "--producer-props",
            &servers,
            "acks=1",
            "linger.ms=5",
        ],
        b"",
    );
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "perf failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        text(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let (last, progress) = lines.split_last().expect("perf printed nothing");
    assert!(matches_pattern(last, KAFKA_TOTAL), "{last:?}");
    assert!(last.starts_with("20000 records sent, "), "{last:?}");
    for line in progress {
        assert!(matches_pattern(line, KAFKA_WINDOW), "{line:?}");
    }
}
