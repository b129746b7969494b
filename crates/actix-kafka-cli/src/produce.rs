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
//!
//! `--idempotent` sets `enable.idempotence`: the broker drops duplicates from
//! retries and keeps each partition's order.
//!
//! # Transactions
//!
//! With `--transactional-id ID --transaction-size N` the lines are sent in
//! transactions of N records: the first line of each one begins it, and it
//! ends after its N-th record or at the end of input. Transactions are
//! numbered from 1; with `--abort-every K` every K-th one (K, 2K, ...) is
//! aborted instead of committed, so that `read_committed` consumers never see
//! its records (handy for testing consumers).
//!
//! A record's JSON line is printed once its transaction has ended, with one
//! more field, `"committed"`: `true` if the transaction committed, `false` if
//! it was aborted (on purpose, or because it failed and was aborted), and
//! `null` if neither its commit nor the abort that followed succeeded, so the
//! outcome is not known. A transaction one of whose records the producer
//! refused (`line N: error`) is aborted rather than committed, so that it never
//! becomes visible in part. A transaction that does not end as intended (a
//! refused record, or a failed begin, commit or abort) stops the run: the
//! remaining lines are not sent, the error is printed on stderr and the exit
//! status is 1.

use std::io::Write;
use std::process::ExitCode;

use actix_kafka::{DeliveryFuture, Producer, ProducerConfig, ProducerError, ProducerRecord, RecordMetadata};
use bytes::Bytes;
use clap::Args;
use serde::{Serialize, Serializer};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use crate::{apply_properties_file, parse_key_value, set_property, CliError};

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
    /// A Java `.properties` file of producer properties (TLS, SASL, ...), as
    /// Kafka's console producer takes; `--producer-property` and the dedicated
    /// flags override it.
    #[arg(
        long = "producer.config",
        visible_alias = "command-config",
        value_name = "FILE"
    )]
    pub producer_config: Option<std::path::PathBuf>,
    /// Any producer option, by its Kafka name (`max.block.ms=1000`) or snake_case
    /// name (repeatable). Overrides `--producer.config`; the dedicated flags above
    /// take precedence.
    #[arg(long = "producer-property", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub producer_properties: Vec<(String, String)>,
    /// Make the producer idempotent (`enable.idempotence=true`).
    #[arg(long)]
    pub idempotent: bool,
    /// Send in transactions with this `transactional.id` (needs --transaction-size).
    #[arg(long, value_name = "ID")]
    pub transactional_id: Option<String>,
    /// Records per transaction: commit after every N records, and at the end of input.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub transaction_size: Option<u64>,
    /// Abort every K-th transaction (the K-th, 2K-th, ...) instead of committing it.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    pub abort_every: Option<u64>,
}

impl ProduceArgs {
    /// The producer configuration: the `--producer.config` file, then
    /// `--producer-property` pairs, then the dedicated flags on top.
    pub fn config(&self) -> Result<ProducerConfig, CliError> {
        let mut config = ProducerConfig::new(self.bootstrap_servers.clone());
        apply_properties_file(&mut config, self.producer_config.as_deref())?;
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
        if self.idempotent {
            set_property(&mut config, "enable.idempotence", "true", "--idempotent")?;
        }
        if let Some(id) = &self.transactional_id {
            set_property(&mut config, "transactional.id", id, "--transactional-id")?;
        }
        Ok(config)
    }

    /// The transactions to send in, for a transactional `config` (whether its
    /// `transactional.id` came from --transactional-id or --producer-property).
    pub fn transactions(&self, config: &ProducerConfig) -> Result<Option<Transactions>, CliError> {
        match (config.is_transactional(), self.transaction_size) {
            (true, Some(size)) => Ok(Some(Transactions::new(size, self.abort_every))),
            (true, None) => Err("a transactional producer needs --transaction-size".to_string()),
            (false, None) if self.abort_every.is_none() => Ok(None),
            (false, _) => Err("--transaction-size and --abort-every need --transactional-id".to_string()),
        }
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
    /// How the record's transaction ended; only for a transactional producer.
    #[serde(skip_serializing_if = "Option::is_none")]
    committed: Option<Outcome>,
}

/// How a transaction ended, as the `"committed"` field shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Committed: `true`.
    Committed,
    /// Aborted: `false`.
    Aborted,
    /// Neither the commit nor the abort that followed it succeeded: `null`.
    Unknown,
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Outcome::Committed => serializer.serialize_bool(true),
            Outcome::Aborted => serializer.serialize_bool(false),
            Outcome::Unknown => serializer.serialize_none(),
        }
    }
}

/// What the reader hands the writer, in input order.
enum Output {
    /// One enqueued (or refused) line.
    Record {
        line: u64,
        delivery: Result<DeliveryFuture, ProducerError>,
    },
    /// The records since the previous `TransactionEnd` were in a transaction
    /// that ended so.
    TransactionEnd(Outcome),
}

/// The transactions of `--transaction-size` and `--abort-every`.
pub struct Transactions {
    size: u64,
    abort_every: Option<u64>,
    /// The number of the open transaction, or of the last one (0: none yet).
    number: u64,
    open: Option<OpenTransaction>,
}

/// The lines of the open transaction.
#[derive(Clone, Copy)]
struct OpenTransaction {
    first_line: u64,
    records: u64,
    /// Whether the producer refused one of its records (it is aborted then).
    refused: bool,
}

impl Transactions {
    fn new(size: u64, abort_every: Option<u64>) -> Transactions {
        Transactions {
            size,
            abort_every,
            number: 0,
            open: None,
        }
    }

    /// Counts the record of `line`, beginning a transaction first if none is open.
    async fn add(&mut self, producer: &Producer, line: u64) -> Result<(), CliError> {
        if self.open.is_none() {
            self.number += 1;
            producer
                .begin_transaction()
                .await
                .map_err(|e| format!("cannot begin transaction {}: {e}", self.number))?;
            self.open = Some(OpenTransaction {
                first_line: line,
                records: 0,
                refused: false,
            });
        }
        if let Some(open) = &mut self.open {
            open.records += 1;
        }
        Ok(())
    }

    /// Notes that the producer refused a record of the open transaction.
    fn refused(&mut self) {
        if let Some(open) = &mut self.open {
            open.refused = true;
        }
    }

    /// Whether the open transaction has its `--transaction-size` records.
    fn is_full(&self) -> bool {
        self.open.is_some_and(|open| open.records >= self.size)
    }

    /// Whether a transaction is open.
    fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Whether transaction `number` is one `--abort-every` aborts.
    pub fn aborts(&self, number: u64) -> bool {
        // (Not `is_multiple_of`: the workspace supports Rust 1.80.)
        self.abort_every.is_some_and(|k| number.checked_rem(k) == Some(0))
    }

    /// Ends the open transaction (there must be one): commits it, or aborts it
    /// if `--abort-every` says so or one of its records was refused. A failed
    /// commit is followed by an abort. Returns the outcome, and an error unless
    /// the transaction ended as intended.
    async fn end(&mut self, producer: &Producer) -> (Outcome, Result<(), CliError>) {
        let open = self.open.take().expect("an open transaction");
        let name = format!(
            "transaction {} (lines {}-{})",
            self.number,
            open.first_line,
            open.first_line + open.records - 1
        );
        if open.refused || self.aborts(self.number) {
            return match producer.abort_transaction().await {
                Ok(()) if open.refused => (
                    Outcome::Aborted,
                    Err(format!("{name} was aborted: a record was refused")),
                ),
                Ok(()) => (Outcome::Aborted, Ok(())),
                Err(e) => (Outcome::Unknown, Err(format!("cannot abort {name}: {e}"))),
            };
        }
        let Err(commit_error) = producer.commit_transaction().await else {
            return (Outcome::Committed, Ok(()));
        };
        match producer.abort_transaction().await {
            Ok(()) => (
                Outcome::Aborted,
                Err(format!("cannot commit {name}: {commit_error}; it was aborted")),
            ),
            Err(e) => (
                Outcome::Unknown,
                Err(format!("cannot commit {name}: {commit_error}; nor abort it: {e}")),
            ),
        }
    }
}

/// Runs `produce`: exits 0 when every line was acknowledged (and, with
/// transactions, every transaction ended as intended).
pub async fn run(args: ProduceArgs) -> Result<ExitCode, CliError> {
    let config = args.config()?;
    let transactions = args.transactions(&config)?;
    let transactional = transactions.is_some();
    let producer = Producer::start(config)
        .await
        .map_err(|e| format!("cannot start the producer: {e}"))?;

    let (tx, rx) = mpsc::channel::<Output>(MAX_OUTSTANDING);
    let writer = actix_rt::spawn(write_acks(rx, transactional));

    let read = read_and_send(&args, &producer, transactions, &tx).await;
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
/// delivery to the writer in input order. With `transactions`, a chunk never
/// spans two transactions, and each transaction's end follows its records.
async fn read_and_send(
    args: &ProduceArgs,
    producer: &Producer,
    mut transactions: Option<Transactions>,
    tx: &mpsc::Sender<Output>,
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
            if let Some(transactions) = &mut transactions {
                transactions.add(producer, next_line).await?;
            }
            let line = strip_terminator(&buf);
            chunk.push(args.record(line));
            next_line += 1;
        }
        let at_end = n == 0;
        let end_transaction = transactions
            .as_ref()
            .is_some_and(|t| t.is_open() && (at_end || t.is_full()));
        // Send when the chunk is full, or when the next read could wait, or
        // before the transaction ends.
        if !chunk.is_empty()
            && (chunk.len() >= CHUNK || at_end || stdin.buffer().is_empty() || end_transaction)
        {
            let records = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
            let deliveries = producer.send_all(records).await;
            for (i, delivery) in deliveries.into_iter().enumerate() {
                if let (Err(_), Some(transactions)) = (&delivery, &mut transactions) {
                    transactions.refused();
                }
                let line = first_line + i as u64;
                send_output(tx, Output::Record { line, delivery }).await?;
            }
            first_line = next_line;
        }
        if let Some(transactions) = transactions.as_mut().filter(|_| end_transaction) {
            let (outcome, ended) = transactions.end(producer).await;
            send_output(tx, Output::TransactionEnd(outcome)).await?;
            ended?;
        }
        if at_end {
            return Ok(());
        }
    }
}

async fn send_output(tx: &mpsc::Sender<Output>, output: Output) -> Result<(), CliError> {
    tx.send(output)
        .await
        .map_err(|_| "the output task stopped".to_string())
}

/// A line without its `\n` or `\r\n`.
fn strip_terminator(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Awaits the deliveries in order; prints a JSON line per acknowledged record
/// and `line N: error` per failed one. Returns the number of failures. With
/// `transactional`, the acknowledged records of a transaction are printed
/// when it ends, with its outcome.
async fn write_acks(mut rx: mpsc::Receiver<Output>, transactional: bool) -> std::io::Result<u64> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failures = 0u64;
    let mut in_transaction: Vec<RecordMetadata> = Vec::new();
    while let Some(output) = rx.recv().await {
        match output {
            Output::Record { line, delivery } => {
                let result = match delivery {
                    Ok(delivery) => delivery.await,
                    Err(e) => Err(e),
                };
                match result {
                    Ok(metadata) if transactional => in_transaction.push(metadata),
                    Ok(metadata) => write_ack(&mut out, &metadata, None)?,
                    Err(e) => {
                        failures += 1;
                        out.flush()?;
                        eprintln!("line {line}: {e}");
                    }
                }
            }
            Output::TransactionEnd(outcome) => {
                for metadata in in_transaction.drain(..) {
                    write_ack(&mut out, &metadata, Some(outcome))?;
                }
            }
        }
        if rx.is_empty() {
            out.flush()?;
        }
    }
    out.flush()?;
    Ok(failures)
}

/// Writes one acknowledged record's JSON line.
fn write_ack(
    out: &mut impl Write,
    metadata: &RecordMetadata,
    committed: Option<Outcome>,
) -> std::io::Result<()> {
    let ack = Ack {
        topic: &metadata.topic,
        partition: metadata.partition,
        offset: metadata.offset,
        timestamp: metadata.timestamp,
        committed,
    };
    serde_json::to_writer(&mut *out, &ack)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_kafka::TimestampType;
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
    fn the_properties_file_comes_first_then_producer_property_then_flags() {
        let path = std::env::temp_dir().join(format!("actix-kafka-produce-props-{}", std::process::id()));
        std::fs::write(
            &path,
            "linger.ms=100\nmax.block.ms=2000\nacks=1\nclient.id=from-file\n",
        )
        .unwrap();
        let file = path.display().to_string();
        let a = args(&[
            "--producer.config",
            &file,
            "--producer-property",
            "max.block.ms=1000",
            "--acks",
            "all",
        ]);
        let c = a.config();
        let b = args(&["--command-config", &file]).config();
        std::fs::remove_file(&path).unwrap();
        let c = c.unwrap();
        assert_eq!(c.linger_ms, 100);
        assert_eq!(c.max_block_ms, 1000);
        assert_eq!(c.acks.map(|a| a.to_string()).as_deref(), Some("all"));
        assert_eq!(c.client_id, "from-file");
        assert_eq!(b.unwrap().max_block_ms, 2000);
    }

    #[test]
    fn bad_properties_name_the_flag() {
        let e = args(&["--producer-property", "linger.ms=soon"])
            .config()
            .unwrap_err();
        assert!(e.contains("--producer-property: linger.ms: "), "{e}");
        let e = args(&[
            "--producer-property",
            "sasl.jaas.config=NoSuchModule required password=s3cr3t;",
        ])
        .config()
        .unwrap_err();
        assert!(e.contains("sasl.jaas.config") && !e.contains("s3cr3t"), "{e}");
        let e = args(&["--acks", "2"]).config().unwrap_err();
        assert!(e.contains("--acks"), "{e}");
    }

    #[test]
    fn transaction_flags_go_together() {
        let plain = args(&[]);
        assert!(plain.transactions(&plain.config().unwrap()).unwrap().is_none());
        let idempotent = args(&["--idempotent"]);
        assert!(idempotent.config().unwrap().enable_idempotence);

        let a = args(&[
            "--transactional-id",
            "x",
            "--transaction-size",
            "2",
            "--abort-every",
            "3",
        ]);
        let config = a.config().unwrap();
        assert_eq!(config.transactional_id.as_deref(), Some("x"));
        let t = a.transactions(&config).unwrap().expect("transactional");
        assert_eq!(
            (1..=7).map(|n| t.aborts(n)).collect::<Vec<_>>(),
            [false, false, true, false, false, true, false]
        );

        let by_property = args(&[
            "--producer-property",
            "transactional.id=y",
            "--transaction-size",
            "5",
        ]);
        assert!(by_property
            .transactions(&by_property.config().unwrap())
            .unwrap()
            .is_some());

        let no_size = args(&["--transactional-id", "x"]);
        let e = no_size.transactions(&no_size.config().unwrap()).err().unwrap();
        assert!(e.contains("--transaction-size"), "{e}");
        let no_id = args(&["--transaction-size", "2"]);
        let e = no_id.transactions(&no_id.config().unwrap()).err().unwrap();
        assert!(e.contains("--transactional-id"), "{e}");
        let no_id = args(&["--abort-every", "2"]);
        assert!(no_id.transactions(&no_id.config().unwrap()).is_err());
        let zero = Wrapper::try_parse_from([
            "x",
            "--bootstrap-servers",
            "h",
            "--topic",
            "t",
            "--transaction-size",
            "0",
        ]);
        assert!(zero.is_err(), "a transaction has at least one record");
    }

    #[test]
    fn the_committed_field_is_true_false_or_null() {
        let metadata = RecordMetadata {
            topic: "t".into(),
            partition: 1,
            offset: 2,
            timestamp: 3,
            timestamp_type: TimestampType::CreateTime,
            log_start_offset: 0,
        };
        let line = |committed| {
            let mut out = Vec::new();
            write_ack(&mut out, &metadata, committed).unwrap();
            String::from_utf8(out).unwrap()
        };
        let base = r#"{"topic":"t","partition":1,"offset":2,"timestamp":3"#;
        assert_eq!(line(None), format!("{base}}}\n"));
        assert_eq!(
            line(Some(Outcome::Committed)),
            format!("{base},\"committed\":true}}\n")
        );
        assert_eq!(
            line(Some(Outcome::Aborted)),
            format!("{base},\"committed\":false}}\n")
        );
        assert_eq!(
            line(Some(Outcome::Unknown)),
            format!("{base},\"committed\":null}}\n")
        );
    }
}
