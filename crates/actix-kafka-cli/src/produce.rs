//! `actix-kafka produce`: stdin lines become records.
//!
//! Each line (without its `\n` or `\r\n`) is one record. With
//! `--key-separator SEP` a line is `key<SEP>value`, split at the first SEP; a
//! line that does not contain SEP is sent whole as the value, with a null key.
//! Every record gets the `--header` headers and the `--partition`, if given.
//!
//! Many records are in flight at once: lines are enqueued in chunks (one mailbox
//! message per chunk, sent as soon as stdin has no more buffered input or the
//! chunk is full), and a writer task awaits the deliveries in input order, up to
//! [`MAX_OUTSTANDING`] records behind the reader. Each acknowledged record prints
//! one JSON line on stdout,
//! `{"topic":"t","partition":0,"offset":5,"timestamp":1700000000000}`; each
//! failed one prints `line N: error` on stderr. The exit status is 1 if any
//! record failed.

use std::io::Write;
use std::process::ExitCode;

use actix_kafka::{DeliveryFuture, Producer, ProducerConfig, ProducerError, ProducerRecord};
use bytes::Bytes;
use clap::Args;
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use crate::{parse_key_value, set_property, CliError};

/// At most this many records are enqueued and not yet reported.
pub const MAX_OUTSTANDING: usize = 10_000;

/// At most this many lines go into one `send_all` mailbox message.
const CHUNK: usize = 512;

/// Options of `actix-kafka produce`.
#[derive(Args, Debug)]
pub struct ProduceArgs {
    /// Comma-separated `host:port` list of brokers to bootstrap from.
    #[arg(long)]
    pub bootstrap_servers: String,
    /// The topic to produce to.
    #[arg(long)]
    pub topic: String,
    /// Split each line at the first occurrence of SEP into key and value. A line
    /// without SEP is sent whole as the value, with a null key.
    #[arg(long, value_name = "SEP")]
    pub key_separator: Option<String>,
    /// A header added to every record (repeatable; order is kept).
    #[arg(long = "header", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub headers: Vec<(String, String)>,
    /// Send every record to this partition instead of letting the partitioner choose.
    #[arg(long)]
    pub partition: Option<i32>,
    /// Acknowledgements: 0, 1, all or -1.
    #[arg(long, allow_hyphen_values = true)]
    pub acks: Option<String>,
    /// Compression codec: none, gzip, snappy, lz4 or zstd.
    #[arg(long)]
    pub compression: Option<String>,
    /// How long a batch may wait for more records (`linger.ms`).
    #[arg(long)]
    pub linger_ms: Option<u64>,
    /// Maximum batch size in bytes (`batch.size`).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Any producer option, by its Kafka name (`max.block.ms=1000`) or snake_case
    /// name (repeatable). The dedicated flags above take precedence.
    #[arg(long = "producer-property", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub producer_properties: Vec<(String, String)>,
}

impl ProduceArgs {
    /// The producer configuration: `--producer-property` pairs, then the
    /// dedicated flags on top.
    pub fn config(&self) -> Result<ProducerConfig, CliError> {
        let mut config = ProducerConfig::new(self.bootstrap_servers.clone());
        for (key, value) in &self.producer_properties {
            set_property(&mut config, key, value, "--producer-property")?;
        }
        set_property(
            &mut config,
            "bootstrap.servers",
            &self.bootstrap_servers,
            "--bootstrap-servers",
        )?;
        if let Some(acks) = &self.acks {
            set_property(&mut config, "acks", acks, "--acks")?;
        }
        if let Some(compression) = &self.compression {
            set_property(&mut config, "compression.type", compression, "--compression")?;
        }
        if let Some(linger_ms) = self.linger_ms {
            set_property(&mut config, "linger.ms", &linger_ms.to_string(), "--linger-ms")?;
        }
        if let Some(batch_size) = self.batch_size {
            set_property(&mut config, "batch.size", &batch_size.to_string(), "--batch-size")?;
        }
        Ok(config)
    }

    /// The record for one input line (without its line terminator).
    pub fn record(&self, line: &[u8]) -> ProducerRecord {
        let (key, value) = match &self.key_separator {
            Some(sep) => match find(line, sep.as_bytes()) {
                Some(at) => (Some(&line[..at]), &line[at + sep.len()..]),
                None => (None, line),
            },
            None => (None, line),
        };
        let mut record = ProducerRecord::new(self.topic.clone(), Bytes::copy_from_slice(value));
        if let Some(key) = key {
            record = record.key(Bytes::copy_from_slice(key));
        }
        if let Some(partition) = self.partition {
            record = record.partition(partition);
        }
        for (key, value) in &self.headers {
            record = record.header(key.clone(), Bytes::copy_from_slice(value.as_bytes()));
        }
        record
    }
}

/// The first position of `needle` in `haystack`; `None` for an empty needle.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What stdout gets for one acknowledged record.
#[derive(Serialize)]
struct Ack<'a> {
    topic: &'a str,
    partition: i32,
    offset: i64,
    timestamp: i64,
}

/// One enqueued (or refused) line, waiting for the writer.
struct Pending {
    line: u64,
    delivery: Result<DeliveryFuture, ProducerError>,
}

/// Runs `produce`: exits 0 when every line was acknowledged.
pub async fn run(args: ProduceArgs) -> Result<ExitCode, CliError> {
    let config = args.config()?;
    let producer = Producer::start(config)
        .await
        .map_err(|e| format!("cannot start the producer: {e}"))?;

    let (tx, rx) = mpsc::channel::<Pending>(MAX_OUTSTANDING);
    let writer = actix_rt::spawn(write_acks(rx));

    let read = read_and_send(&args, &producer, &tx).await;
    drop(tx);
    let failures = writer.await.map_err(|e| format!("the output task failed: {e}"))?;
    producer.stop().await;
    // A broken stdout stops the writer and then the reader: report the cause.
    let failures = failures.map_err(|e| format!("cannot write to stdout: {e}"))?;
    read?;
    if failures > 0 {
        eprintln!("actix-kafka produce: {failures} record(s) failed");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads stdin to its end, enqueueing the lines in chunks and handing each
/// delivery to the writer in input order.
async fn read_and_send(
    args: &ProduceArgs,
    producer: &Producer,
    tx: &mpsc::Sender<Pending>,
) -> Result<(), CliError> {
    let mut stdin = BufReader::with_capacity(64 * 1024, tokio::io::stdin());
    let mut buf = Vec::new();
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut first_line = 1u64;
    let mut next_line = 1u64;
    loop {
        buf.clear();
        let n = stdin
            .read_until(b'\n', &mut buf)
            .await
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        if n > 0 {
            let line = strip_terminator(&buf);
            chunk.push(args.record(line));
            next_line += 1;
        }
        // Send when the chunk is full, or when the next read could wait.
        let at_end = n == 0;
        if !chunk.is_empty() && (chunk.len() >= CHUNK || at_end || stdin.buffer().is_empty()) {
            let records = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
            let deliveries = producer.send_all(records).await;
            for (i, delivery) in deliveries.into_iter().enumerate() {
                let pending = Pending {
                    line: first_line + i as u64,
                    delivery,
                };
                if tx.send(pending).await.is_err() {
                    return Err("the output task stopped".to_string());
                }
            }
            first_line = next_line;
        }
        if at_end {
            return Ok(());
        }
    }
}

/// A line without its `\n` or `\r\n`.
fn strip_terminator(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Awaits the deliveries in order; prints a JSON line per acknowledged record
/// and `line N: error` per failed one. Returns the number of failures.
async fn write_acks(mut rx: mpsc::Receiver<Pending>) -> std::io::Result<u64> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failures = 0u64;
    while let Some(Pending { line, delivery }) = rx.recv().await {
        let result = match delivery {
            Ok(delivery) => delivery.await,
            Err(e) => Err(e),
        };
        match result {
            Ok(metadata) => {
                let ack = Ack {
                    topic: &metadata.topic,
                    partition: metadata.partition,
                    offset: metadata.offset,
                    timestamp: metadata.timestamp,
                };
                serde_json::to_writer(&mut out, &ack)?;
                out.write_all(b"\n")?;
            }
            Err(e) => {
                failures += 1;
                out.flush()?;
                eprintln!("line {line}: {e}");
            }
        }
        if rx.is_empty() {
            out.flush()?;
        }
    }
    out.flush()?;
    Ok(failures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: ProduceArgs,
    }

    fn args(extra: &[&str]) -> ProduceArgs {
        let mut argv = vec!["x", "--bootstrap-servers", "h:9092", "--topic", "t"];
        argv.extend_from_slice(extra);
        Wrapper::parse_from(argv).args
    }

    #[test]
    fn lines_split_at_the_first_separator() {
        let a = args(&["--key-separator", "::", "--header", "x=y", "--header", "x=z=w"]);
        let r = a.record(b"k::v::w");
        assert_eq!(r.key.as_deref(), Some(&b"k"[..]));
        assert_eq!(r.value.as_deref(), Some(&b"v::w"[..]));
        assert_eq!(r.headers.len(), 2);
        assert_eq!(r.headers[1].key, "x");
        assert_eq!(r.headers[1].value.as_deref(), Some(&b"z=w"[..]));
        assert_eq!(r.partition, None);
    }

    #[test]
    fn a_line_without_the_separator_has_a_null_key() {
        let a = args(&["--key-separator", ":", "--partition", "2"]);
        let r = a.record(b"plain");
        assert_eq!(r.key, None);
        assert_eq!(r.value.as_deref(), Some(&b"plain"[..]));
        assert_eq!(r.partition, Some(2));
        let empty_key = a.record(b":v");
        assert_eq!(empty_key.key.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn terminators_are_stripped() {
        assert_eq!(strip_terminator(b"a\r\n"), b"a");
        assert_eq!(strip_terminator(b"a\n"), b"a");
        assert_eq!(strip_terminator(b"a"), b"a");
        assert_eq!(strip_terminator(b"\n"), b"");
    }

    #[test]
    fn dedicated_flags_override_producer_properties() {
        let a = args(&[
            "--producer-property",
            "linger.ms=100",
            "--producer-property",
            "max.block.ms=1000",
            "--linger-ms",
            "7",
            "--acks",
            "-1",
            "--compression",
            "zstd",
            "--batch-size",
            "65536",
        ]);
        let c = a.config().unwrap();
        assert_eq!(c.linger_ms, 7);
        assert_eq!(c.max_block_ms, 1000);
        assert_eq!(c.acks.map(|a| a.to_string()).as_deref(), Some("all"));
        assert_eq!(c.max_batch_size, 65536);
        assert_eq!(c.bootstrap_servers, "h:9092");
    }

    #[test]
    fn bad_properties_name_the_flag() {
        let e = args(&["--producer-property", "linger.ms=soon"])
            .config()
            .unwrap_err();
        assert!(e.contains("--producer-property linger.ms=soon"), "{e}");
        let e = args(&["--acks", "2"]).config().unwrap_err();
        assert!(e.contains("--acks"), "{e}");
    }
}
