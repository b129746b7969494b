//! Consume-transform-produce with exactly-once output: read records from an
//! input topic, upper-case their values, and write them to an output topic in
//! transactions that also commit the input offsets for a consumer group. A
//! transaction's output records and its offset commit become visible together
//! (to `read_committed` consumers) or not at all.
//!
//! Each round is the Java client's loop:
//!
//! ```text
//! records = poll up to --transaction-size input records
//! begin_transaction
//!   send one output record per input record
//!   send_offsets_to_transaction({input partition: last offset + 1}, group)
//! commit_transaction
//! ```
//!
//! actix-kafka is a producer only, so the "consume" side here is Kafka's own
//! console consumer, run as a child process (`scripts/kafka.sh consume INPUT
//! --from-beginning --max-messages N ...` printing each record's partition and
//! offset). That keeps the example self-contained, and the point is the
//! producer side. It also limits it: values must be single-line text, and
//! the input is always read from the beginning. A real
//! service uses a Kafka consumer crate in the same group, starts from the
//! group's committed offsets, and after a failed transaction rewinds to them
//! (a restart with the same transactional id fences the old instance and
//! aborts its open transaction).
//!
//! With a local broker (`scripts/kafka.sh up`) and an input topic:
//!
//! ```text
//! cargo run -p actix-kafka-examples --bin consume_transform_produce -- \
//!     --input-topic words --output-topic shouts --group shouter --max-messages 100
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;

use actix_kafka::{Producer, ProducerConfig, ProducerRecord};
use clap::Parser;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// Reads --max-messages records of --input-topic, writes them upper-cased to
/// --output-topic in transactions, committing the input offsets for --group.
#[derive(Parser)]
struct Args {
    /// Brokers to bootstrap from, comma-separated.
    #[arg(long, default_value = "127.0.0.1:9092")]
    bootstrap_servers: String,
    /// Topic to read.
    #[arg(long)]
    input_topic: String,
    /// Topic to write the transformed records to.
    #[arg(long)]
    output_topic: String,
    /// Consumer group whose offsets for the input are committed with each transaction.
    #[arg(long)]
    group: String,
    /// How many input records to process (the console consumer stops after them,
    /// or after 20 s without a record).
    #[arg(long)]
    max_messages: u64,
    /// Input records per transaction.
    #[arg(long, default_value_t = 10)]
    transaction_size: usize,
    /// The producer's transactional id [default: consume-transform-produce-GROUP].
    #[arg(long)]
    transactional_id: Option<String>,
    /// The script that runs Kafka's console consumer.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/kafka.sh"))]
    kafka_sh: PathBuf,
}

/// One input record, as the console consumer printed it.
struct InputRecord {
    partition: i32,
    offset: i64,
    value: String,
}

/// The transformation: the value, upper-cased.
fn transform(value: &str) -> String {
    value.to_uppercase()
}

#[actix_rt::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let transactional_id = args
        .transactional_id
        .clone()
        .unwrap_or_else(|| format!("consume-transform-produce-{}", args.group));
    let config = ProducerConfig {
        transactional_id: Some(transactional_id),
        ..ProducerConfig::new(args.bootstrap_servers.clone())
    };
    // Finds the transaction coordinator and fences older instances of this id.
    let producer = Producer::start(config).await?;
    let mut input = ConsoleConsumer::spawn(&args)?;
    let result = process(&args, &producer, &mut input).await;
    producer.stop().await;
    let status = input.child.wait().await?;
    let records = result?;
    if !status.success() {
        return Err(format!("the console consumer failed: {status}").into());
    }
    println!("done: {records} records");
    Ok(())
}

/// Runs transactions until the input ends; returns the number of records.
async fn process(
    args: &Args,
    producer: &Producer,
    input: &mut ConsoleConsumer,
) -> Result<u64, Box<dyn std::error::Error>> {
    let mut total = 0;
    loop {
        let batch = input.poll(args.transaction_size).await?;
        if batch.is_empty() {
            return Ok(total);
        }
        let offsets = next_offsets(&args.input_topic, &batch);
        let summary = format!(
            "committed {} records; group offsets {}",
            batch.len(),
            describe(&offsets)
        );
        total += batch.len() as u64;
        // Commits if the body returns Ok, aborts if it returns Err.
        producer
            .transaction(|p| async move {
                for record in &batch {
                    let output = ProducerRecord::new(args.output_topic.as_str(), transform(&record.value));
                    // Enqueued; commit_transaction waits for every delivery.
                    p.send(output).await?;
                }
                // The group's offsets commit with this transaction, or not at all.
                p.send_offsets_to_transaction(offsets, &args.group).await
            })
            .await?;
        println!("{summary}");
    }
}

/// `p0=7 p1=5`.
fn describe(offsets: &[(String, i32, i64)]) -> String {
    let parts: Vec<String> = offsets.iter().map(|(_, p, o)| format!("p{p}={o}")).collect();
    parts.join(" ")
}

/// The offset to resume from (last offset + 1) for each input partition in `batch`.
fn next_offsets(topic: &str, batch: &[InputRecord]) -> Vec<(String, i32, i64)> {
    let mut next = BTreeMap::new();
    for record in batch {
        let offset = next.entry(record.partition).or_insert(0);
        *offset = (*offset).max(record.offset + 1);
    }
    next.into_iter()
        .map(|(partition, offset)| (topic.to_string(), partition, offset))
        .collect()
}

/// Kafka's console consumer as a record source.
struct ConsoleConsumer {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl ConsoleConsumer {
    /// Starts `kafka.sh consume` for the input topic, printing
    /// `Partition:P<TAB>Offset:O<TAB>value` lines.
    fn spawn(args: &Args) -> std::io::Result<ConsoleConsumer> {
        let mut child = Command::new("bash")
            .arg(&args.kafka_sh)
            .args(["consume", &args.input_topic, "--from-beginning"])
            .args([
                "--max-messages",
                &args.max_messages.to_string(),
                "--timeout-ms",
                "20000",
            ])
            .args([
                "--property",
                "print.offset=true",
                "--property",
                "print.partition=true",
            ])
            .env("BOOTSTRAP", &args.bootstrap_servers)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().expect("piped stdout");
        Ok(ConsoleConsumer {
            child,
            lines: BufReader::new(stdout).lines(),
        })
    }

    /// The next records: up to `max`, fewer only at the end of the input.
    async fn poll(&mut self, max: usize) -> Result<Vec<InputRecord>, Box<dyn std::error::Error>> {
        let mut batch = Vec::with_capacity(max);
        while batch.len() < max {
            let Some(line) = self.lines.next_line().await? else {
                break;
            };
            batch
                .push(parse_line(&line).ok_or_else(|| format!("unexpected console consumer line {line:?}"))?);
        }
        Ok(batch)
    }
}

/// Parses `Partition:P<TAB>Offset:O<TAB>value`.
fn parse_line(line: &str) -> Option<InputRecord> {
    let mut fields = line.splitn(3, '\t');
    let partition = fields.next()?.strip_prefix("Partition:")?.parse().ok()?;
    let offset = fields.next()?.strip_prefix("Offset:")?.parse().ok()?;
    let value = fields.next()?.to_string();
    Some(InputRecord {
        partition,
        offset,
        value,
    })
}
