//! The `actix-kafka` command line.
//!
//! * `demo` connects to a broker with the blocking probe, negotiates API versions
//!   and prints them with the cluster's metadata;
//! * `produce` sends stdin lines as records and prints one JSON line per
//!   acknowledged record, optionally idempotent (`--idempotent`) or in
//!   transactions (`--transactional-id`, `--transaction-size`, `--abort-every`);
//! * `perf` is a load generator that mirrors Kafka's `kafka-producer-perf-test`
//!   (its options, transactions included, and its output format).
//!
//! `produce` and `perf` run the actor producer inside an actix system.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use actix_kafka::{ProducerConfig, ProducerError};
use clap::{Parser, Subcommand};

mod demo;
mod perf;
mod produce;

#[derive(Parser)]
#[command(name = "actix-kafka", version, about = "A Kafka producer runtime on actix")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Connect to the cluster, print the negotiated API versions and its metadata.
    Demo {
        /// Comma-separated `host:port` list; the first that answers is used.
        #[arg(long, default_value = "127.0.0.1:9092")]
        bootstrap_servers: String,
        /// Per-operation socket timeout in milliseconds.
        #[arg(long, default_value_t = 10_000)]
        timeout_ms: u64,
        /// Topic the demo produces to (it must exist; scripts/demo.sh creates it).
        #[arg(long, default_value = "actix-kafka-demo")]
        topic: String,
        /// Number of records to produce.
        #[arg(long, default_value_t = 5)]
        count: usize,
    },
    /// Send stdin lines as records (optionally in transactions); print one JSON line per
    /// acknowledged record.
    Produce(produce::ProduceArgs),
    /// Measure producer throughput and latency, like Kafka's kafka-producer-perf-test.
    Perf(perf::PerfArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Demo {
            bootstrap_servers,
            timeout_ms,
            topic,
            count,
        } => match demo::run(
            &bootstrap_servers,
            &topic,
            count,
            Duration::from_millis(timeout_ms),
        ) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("actix-kafka demo: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Produce(args) => run_in_system("produce", produce::run(args)),
        Command::Perf(args) => run_in_system("perf", perf::run(args)),
    }
}

/// Why a subcommand gave up before it finished its work.
type CliError = String;

/// Runs `task` to completion in a new actix system; an error is printed as
/// `actix-kafka NAME: error` and exits with status 1.
fn run_in_system(name: &str, task: impl Future<Output = Result<ExitCode, CliError>>) -> ExitCode {
    actix_rt::System::new().block_on(task).unwrap_or_else(|e| {
        eprintln!("actix-kafka {name}: {e}");
        ExitCode::FAILURE
    })
}

/// Splits `KEY=VALUE` at the first `=`. Used as a clap value parser.
fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.trim().to_string(), value.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}

/// Sets `key` to `value` in `config` (Kafka or snake_case names), with an error
/// that says where the pair came from.
fn set_property(config: &mut ProducerConfig, key: &str, value: &str, from: &str) -> Result<(), CliError> {
    config
        .set(key, value)
        .map_err(|e: ProducerError| format!("{from} {key}={value}: {e}"))
}

/// Reads a Java `.properties` file: `key=value` or `key: value` lines; blank
/// lines and lines starting with `#` or `!` are skipped; a line ending in a
/// backslash continues on the next. Escapes other than that are not decoded.
fn read_properties_file(path: &std::path::Path) -> Result<Vec<(String, String)>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut pairs = Vec::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.trim_start();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!')) {
            continue;
        }
        if let Some(continued) = line.strip_suffix('\\') {
            pending.push_str(continued);
            continue;
        }
        pending.push_str(line);
        let entry = std::mem::take(&mut pending);
        let split = entry.find(['=', ':']);
        let (key, value) = match split {
            Some(at) => (&entry[..at], &entry[at + 1..]),
            None => (entry.as_str(), ""),
        };
        pairs.push((key.trim().to_string(), value.trim().to_string()));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_splits_at_the_first_equals_sign() {
        assert_eq!(
            parse_key_value("sasl.jaas.config=a=b").unwrap(),
            ("sasl.jaas.config".to_string(), "a=b".to_string())
        );
        assert_eq!(parse_key_value("k=").unwrap(), ("k".to_string(), String::new()));
        assert!(parse_key_value("novalue").is_err());
        assert!(parse_key_value("=v").is_err());
    }

    #[test]
    fn properties_files_follow_java_syntax() {
        let dir = std::env::temp_dir().join(format!("actix-kafka-cli-props-{}", std::process::id()));
        std::fs::write(
            &dir,
            "# comment\n! also a comment\n\nlinger.ms = 5\nacks: all\nclient.id=a\\\n  b\n",
        )
        .unwrap();
        let pairs = read_properties_file(&dir).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(
            pairs,
            vec![
                ("linger.ms".to_string(), "5".to_string()),
                ("acks".to_string(), "all".to_string()),
                ("client.id".to_string(), "ab".to_string()),
            ]
        );
    }
}
