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
//!
//! All three take the producer's configuration the way Kafka's tools do: a Java
//! `.properties` file (`--producer.config FILE`, alias `--command-config`), then
//! single properties on the command line, which override the file
//! (`--producer-property k=v` for `produce` and `demo`, `--producer-props` for
//! `perf`), then the dedicated flags. TLS and SASL (`security.protocol`,
//! `sasl.jaas.config`, `ssl.ca.location`, ...) are set this way.

use std::future::Future;
use std::path::{Path, PathBuf};
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
        /// A Java `.properties` file of producer properties (TLS, SASL, ...), applied
        /// first.
        #[arg(
            long = "producer.config",
            visible_alias = "command-config",
            value_name = "FILE"
        )]
        producer_config: Option<PathBuf>,
        /// Any producer option, by its Kafka name or snake_case name (repeatable);
        /// overrides the file. `--bootstrap-servers` overrides both.
        #[arg(long = "producer-property", value_name = "KEY=VALUE", value_parser = parse_key_value)]
        producer_properties: Vec<(String, String)>,
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
            producer_config,
            producer_properties,
        } => match demo_config(
            &bootstrap_servers,
            producer_config.as_deref(),
            &producer_properties,
        )
        .and_then(|config| demo::run(config, &topic, count, Duration::from_millis(timeout_ms)))
        {
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
/// that says where the pair came from. The error names the key but does not
/// repeat the value, which may be a password or a JAAS line holding one (the
/// producer's own message shows the value where it is safe to).
fn set_property(config: &mut ProducerConfig, key: &str, value: &str, from: &str) -> Result<(), CliError> {
    config
        .set(key, value)
        .map_err(|e: ProducerError| format!("{from}: {key}: {e}"))
}

/// Reads a Java `.properties` file into `(key, value)` pairs in file order, with
/// Java's rules (the `java-properties` crate): `key=value`, `key: value` or
/// `key value`; `#` and `!` comments; a line ending in an odd number of
/// backslashes continues on the next (whose leading whitespace is dropped);
/// `\\`, `\=`, `\:`, `\t`, `\n`, `\uXXXX` escapes. File order matters when two
/// keys set the same option (`sasl.jaas.config` and `sasl.username`): the later wins.
fn read_properties_file(path: &Path) -> Result<Vec<(String, String)>, CliError> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut pairs = Vec::new();
    java_properties::PropertiesIter::new(std::io::BufReader::new(file))
        .read_into(|key, value| pairs.push((key, value)))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(pairs)
}

/// Applies a `--producer.config` file, if one was given, to `config`.
fn apply_properties_file(config: &mut ProducerConfig, path: Option<&Path>) -> Result<(), CliError> {
    if let Some(path) = path {
        let from = path.display().to_string();
        for (key, value) in read_properties_file(path)? {
            set_property(config, &key, &value, &from)?;
        }
    }
    Ok(())
}

/// The demo's producer configuration: the file, then `--producer-property`, then
/// `--bootstrap-servers`.
fn demo_config(
    bootstrap_servers: &str,
    file: Option<&Path>,
    properties: &[(String, String)],
) -> Result<ProducerConfig, CliError> {
    let mut config = ProducerConfig::new(bootstrap_servers);
    apply_properties_file(&mut config, file)?;
    for (key, value) in properties {
        set_property(&mut config, key, value, "--producer-property")?;
    }
    set_property(
        &mut config,
        "bootstrap.servers",
        bootstrap_servers,
        "--bootstrap-servers",
    )?;
    Ok(config)
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

    /// A file in the temp directory, removed when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, text: &str) -> TempFile {
            let path = std::env::temp_dir().join(format!("actix-kafka-cli-{name}-{}", std::process::id()));
            std::fs::write(&path, text).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn properties_files_follow_java_syntax() {
        let file = TempFile::new(
            "props",
            "# comment\n! also a comment\n\nlinger.ms = 5\nacks: all\nclient.id=a\\\n  b\n\
             key\\:with\\=separators = v\\\\w\nspaced value here\nempty=\n\
             sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n    \
             username=\"alice\" \\\n    password=\"p\\\\\"w\";\n",
        );
        let pairs = read_properties_file(&file.0).unwrap();
        assert_eq!(
            pairs,
            vec![
                ("linger.ms".to_string(), "5".to_string()),
                ("acks".to_string(), "all".to_string()),
                ("client.id".to_string(), "ab".to_string()),
                ("key:with=separators".to_string(), "v\\w".to_string()),
                ("spaced".to_string(), "value here".to_string()),
                ("empty".to_string(), String::new()),
                (
                    "sasl.jaas.config".to_string(),
                    // The properties layer turns `\\` into `\`, leaving `\"` for JAAS.
                    r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="p\"w";"#
                        .to_string()
                ),
            ]
        );
    }

    #[test]
    fn a_properties_file_configures_security_and_the_command_line_overrides_it() {
        let file = TempFile::new(
            "security",
            "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n\
             sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
             username=\"alice\" password=\"s3cr3t\";\nssl.ca.location=/etc/ca.pem\nlinger.ms=50\n",
        );
        let config = demo_config(
            "h:9093",
            Some(&file.0),
            &[("linger.ms".to_string(), "5".to_string())],
        )
        .unwrap();
        config.validate().unwrap();
        assert_eq!(config.security_protocol.to_string(), "SASL_SSL");
        assert_eq!(config.sasl_plain_username.as_deref(), Some("alice"));
        assert_eq!(
            config
                .sasl_plain_password
                .as_ref()
                .map(actix_kafka::config::Secret::expose),
            Some("s3cr3t")
        );
        assert_eq!(config.ssl_cafile.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(config.linger_ms, 5, "--producer-property overrides the file");
        assert_eq!(config.bootstrap_servers, "h:9093");
    }

    #[test]
    fn errors_in_a_properties_file_name_it_and_never_show_the_value() {
        let file = TempFile::new(
            "bad",
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required password=\"s3cr3t\";\n",
        );
        let error = demo_config("h:9092", Some(&file.0), &[]).unwrap_err();
        assert!(error.contains(&file.0.display().to_string()), "{error}");
        assert!(
            error.contains("sasl.jaas.config") && error.contains("username"),
            "{error}"
        );
        assert!(!error.contains("s3cr3t"), "{error}");
        let missing =
            demo_config("h:9092", Some(Path::new("/nonexistent/producer.properties")), &[]).unwrap_err();
        assert!(
            missing.contains("cannot read /nonexistent/producer.properties"),
            "{missing}"
        );
    }

    #[test]
    fn demo_takes_the_file_flags() {
        let cli = Cli::try_parse_from([
            "actix-kafka",
            "demo",
            "--command-config",
            "client.properties",
            "--producer-property",
            "acks=all",
        ])
        .unwrap();
        let Command::Demo {
            producer_config,
            producer_properties,
            ..
        } = cli.command
        else {
            panic!("demo");
        };
        assert_eq!(producer_config.as_deref(), Some(Path::new("client.properties")));
        assert_eq!(producer_properties, [("acks".to_string(), "all".to_string())]);
    }
}
