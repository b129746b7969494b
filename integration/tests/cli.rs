//! The `actix-kafka` binary against the real broker: `produce` and `perf`.
//!
//! The binary belongs to another package, so `CARGO_BIN_EXE_*` is not set here.
//! The first test that needs it builds it with the same cargo and profile
//! (`cargo build -p actix-kafka-cli --message-format=json`) and takes its path
//! from cargo's artifact message, which works whatever the target directory is.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

use actix_kafka_integration::{bootstrap, console_consume, create_topic, repo_root, unique_topic};

/// How long one CLI run may take before the test fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// The path of the `actix-kafka` binary, built once per test process.
fn cli_binary() -> &'static PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let mut build = Command::new(env!("CARGO"));
        build
            .current_dir(repo_root())
            .args(["build", "-q", "-p", "actix-kafka-cli", "--bin", "actix-kafka"])
            .arg("--message-format=json-render-diagnostics")
            .stderr(Stdio::inherit());
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let output = build.output().expect("cannot run cargo");
        assert!(output.status.success(), "building actix-kafka-cli failed");
        let messages = String::from_utf8_lossy(&output.stdout);
        messages
            .lines()
            .filter(|l| l.contains(r#""reason":"compiler-artifact""#))
            .find_map(executable_of)
            .unwrap_or_else(|| panic!("no executable in cargo's messages:\n{messages}"))
    })
}

/// The `"executable"` of one cargo JSON message, if it has one.
fn executable_of(message: &str) -> Option<PathBuf> {
    const FIELD: &str = r#""executable":""#;
    let start = message.find(FIELD)? + FIELD.len();
    let end = start + message[start..].find('"')?;
    let path = message[start..end].replace(r"\\", r"\");
    Some(PathBuf::from(path))
}

/// Runs the CLI with `args`, feeding it `stdin`; fails the test after
/// [`RUN_TIMEOUT`] (killing the process).
fn run_cli(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(cli_binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start actix-kafka");
    let pid = child.id();
    let mut input = child.stdin.take().expect("piped stdin");
    input.write_all(stdin).expect("cannot write stdin");
    drop(input);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(RUN_TIMEOUT) {
        Ok(output) => output.expect("cannot wait for actix-kafka"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("actix-kafka {args:?} did not finish within {RUN_TIMEOUT:?}");
        }
    }
}

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
