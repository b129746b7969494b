//! `actix-kafka perf`: a load generator that mirrors Kafka's
//! `kafka-producer-perf-test` (`org.apache.kafka.tools.ProducerPerformance`).
//!
//! It sends `--num-records` records without keys to `--topic`, optionally held to
//! `--throughput` records per second, and measures each record's latency from
//! the moment it is handed to the producer until its delivery completes. While
//! it runs it prints a line per reporting interval (5 s by default), in Kafka's
//! format (`%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency,
//! %.1f ms max latency.`), and at the end Kafka's summary line:
//!
//! ```text
//! %d records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.
//! ```
//!
//! As in Kafka, only acknowledged records are counted; MB are 2^20 bytes of
//! values; rates use the time since the measurement started. Latencies are
//! measured in microseconds (Kafka uses whole milliseconds), so the averages and
//! maxima have fractions; the percentiles come from an HDR histogram and are
//! whole milliseconds (truncated), like Kafka's. Failed records are reported on
//! stderr (the first few in full) and make the exit status 1.
//!
//! Values are random upper-case letters (`A`..`Z`, as Kafka's tool generates),
//! from a generator seeded with `--random-seed` (0 by default); unlike Kafka, the
//! `--record-size` payload is generated once and shared by every record.
//!
//! Records are enqueued `--chunk-size` at a time with one mailbox message
//! (`send_all_with`); a delivery callback records each completion as it
//! happens, as the Java tool's per-record callbacks do.
//!
//! Transactions work as in Kafka's tool: they are on when a transactional id
//! is set (`--transactional-id`, which wins, or `transactional.id` in the
//! properties) or `--transaction-duration-ms` is given; the id then defaults
//! to `performance-producer-` and a random suffix, the duration to 3000 ms. A
//! transaction begins before the first record and after each commit, and is
//! committed once it is that old (checked after each record) and after the
//! last record. Latencies still end at each record's acknowledgement, not at
//! its commit. A failed begin or commit stops the run early (the open
//! transaction is aborted); the summary covers the records acknowledged until
//! then, and the exit status is 1.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use std::sync::{Arc, Mutex};

use actix_kafka::{Producer, ProducerConfig, ProducerError, ProducerRecord, RecordMetadata};
use bytes::Bytes;
use clap::{ArgGroup, Args};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{apply_properties_file, parse_key_value, set_property, CliError};

/// Kafka's `client.id` for the perf tool, used unless the properties set one.
pub const DEFAULT_CLIENT_ID: &str = "perf-producer-client";

/// How many failed records are printed in full; the rest are only counted.
const PRINTED_FAILURES: u64 = 10;

/// Kafka's default `--transaction-duration-ms` when transactions are on.
pub const DEFAULT_TRANSACTION_DURATION_MS: u64 = 3_000;

/// Options of `actix-kafka perf`, named as in `kafka-producer-perf-test`.
#[derive(Args, Debug)]
#[command(group(
    ArgGroup::new("payload")
        .required(true)
        .args(["record_size", "payload_file", "payload_monotonic"])
))]
pub struct PerfArgs {
    /// Produce records to this topic.
    #[arg(long)]
    pub topic: String,
    /// Number of records to produce.
    #[arg(long)]
    pub num_records: u64,
    /// Record size in bytes (exactly one of --record-size, --payload-file and
    /// --payload-monotonic is required).
    #[arg(long)]
    pub record_size: Option<usize>,
    /// File to read the payloads from; each record's value is one of them, chosen
    /// at random.
    #[arg(long)]
    pub payload_file: Option<PathBuf>,
    /// Separator of the payloads in --payload-file (a literal string; `\n` means
    /// a newline).
    #[arg(long, default_value = "\\n")]
    pub payload_delimiter: String,
    /// Each record's value is its sequence number, in decimal.
    #[arg(long)]
    pub payload_monotonic: bool,
    /// Throttle to approximately THROUGHPUT records/sec; -1 disables throttling.
    #[arg(long, allow_negative_numbers = true)]
    pub throughput: f64,
    /// Producer properties, Kafka names (`bootstrap.servers=h:9092 acks=all`).
    /// They take precedence over --producer.config.
    #[arg(
        long = "producer-props",
        visible_alias = "command-property",
        value_name = "PROP-NAME=PROP-VALUE",
        num_args = 1..,
        value_parser = parse_key_value
    )]
    pub producer_props: Vec<(String, String)>,
    /// A Java `.properties` file of producer properties.
    #[arg(
        long = "producer.config",
        visible_alias = "command-config",
        value_name = "CONFIG-FILE"
    )]
    pub producer_config: Option<PathBuf>,
    /// Brokers to connect to; takes precedence over `bootstrap.servers` in the
    /// properties.
    #[arg(long)]
    pub bootstrap_server: Option<String>,
    /// Seed of the random payloads.
    #[arg(long, default_value_t = 0)]
    pub random_seed: u64,
    /// Interval in milliseconds between progress lines.
    #[arg(long, default_value_t = 5_000)]
    pub reporting_interval: u64,
    /// Records per enqueue message (`send_all`); 1 enqueues each record with its
    /// own `send`.
    #[arg(long, default_value_t = 512)]
    pub chunk_size: usize,
    /// The transactional id to use; takes precedence over `transactional.id` in
    /// the properties. With --transaction-duration-ms but no id anywhere, it is
    /// `performance-producer-` followed by a random suffix.
    #[arg(long, value_name = "TRANSACTIONAL-ID")]
    pub transactional_id: Option<String>,
    /// Commit the open transaction once it is this old, then begin the next one.
    /// Defaults to 3000 when a transactional id is set.
    #[arg(
        long,
        value_name = "TRANSACTION-DURATION",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub transaction_duration_ms: Option<u64>,
}

impl PerfArgs {
    /// The producer configuration: Kafka's perf-tool `client.id`, then
    /// `--producer.config`, then `--producer-props`, then `--bootstrap-server`.
    pub fn config(&self) -> Result<ProducerConfig, CliError> {
        let mut config = ProducerConfig::new("");
        config.client_id = DEFAULT_CLIENT_ID.to_string();
        apply_properties_file(&mut config, self.producer_config.as_deref())?;
        for (key, value) in &self.producer_props {
            set_property(&mut config, key, value, "--producer-props")?;
        }
        if let Some(servers) = &self.bootstrap_server {
            set_property(&mut config, "bootstrap.servers", servers, "--bootstrap-server")?;
        }
        if let Some(id) = &self.transactional_id {
            set_property(&mut config, "transactional.id", id, "--transactional-id")?;
        } else if self.transaction_duration_ms.is_some() && config.transactional_id.is_none() {
            config.transactional_id = Some(random_transactional_id());
        }
        if config.bootstrap_servers.trim().is_empty() {
            return Err(
                "no brokers given: use --bootstrap-server, or bootstrap.servers=HOST:PORT in \
                        --producer-props or --producer.config"
                    .to_string(),
            );
        }
        Ok(config)
    }

    /// How long each transaction lasts; `None` when `config` is not transactional.
    pub fn transaction_duration(&self, config: &ProducerConfig) -> Option<Duration> {
        config.is_transactional().then(|| {
            Duration::from_millis(
                self.transaction_duration_ms
                    .unwrap_or(DEFAULT_TRANSACTION_DURATION_MS),
            )
        })
    }

    fn validate(&self) -> Result<(), CliError> {
        if self.throughput == 0.0 || self.throughput.is_nan() {
            return Err("--throughput must be positive, or -1 for no throttling".to_string());
        }
        if self.record_size == Some(0) {
            return Err("--record-size must be positive".to_string());
        }
        Ok(())
    }
}

/// A small seeded generator (SplitMix64); payloads only need to be repeatable.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0), by widening multiplication.
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }
}

/// `performance-producer-` and a random UUID-like suffix (Kafka's default
/// transactional id).
fn random_transactional_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let mut rng = SplitMix64::new(nanos ^ u64::from(std::process::id()).rotate_left(32));
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "performance-producer-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// `size` random upper-case ASCII letters, like Kafka's perf tool.
pub fn random_payload(size: usize, rng: &mut SplitMix64) -> Bytes {
    (0..size)
        .map(|_| b'A' + rng.below(26) as u8)
        .collect::<Vec<u8>>()
        .into()
}

/// Where record values come from.
enum Payloads {
    /// The same value for every record.
    Fixed(Bytes),
    /// One of these, chosen at random per record.
    Pool(Vec<Bytes>, SplitMix64),
    /// The record's sequence number.
    Monotonic,
}

impl Payloads {
    fn new(args: &PerfArgs) -> Result<Payloads, CliError> {
        let mut rng = SplitMix64::new(args.random_seed);
        if let Some(size) = args.record_size {
            return Ok(Payloads::Fixed(random_payload(size, &mut rng)));
        }
        if let Some(path) = &args.payload_file {
            let text = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let delimiter = match args.payload_delimiter.as_str() {
                "\\n" => "\n",
                other => other,
            };
            let payloads = split_payloads(&text, delimiter.as_bytes());
            if payloads.is_empty() {
                return Err(format!("{}: the payload file is empty", path.display()));
            }
            return Ok(Payloads::Pool(payloads, rng));
        }
        Ok(Payloads::Monotonic)
    }

    fn next(&mut self, sequence: u64) -> Bytes {
        match self {
            Payloads::Fixed(value) => value.clone(),
            Payloads::Pool(values, rng) => values[rng.below(values.len() as u64) as usize].clone(),
            Payloads::Monotonic => Bytes::from(sequence.to_string()),
        }
    }
}

/// Splits `text` at each `delimiter`, dropping trailing empty pieces (as Java's
/// `String.split` does).
fn split_payloads(text: &[u8], delimiter: &[u8]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut rest = text;
    if !delimiter.is_empty() {
        while let Some(at) = rest.windows(delimiter.len()).position(|w| w == delimiter) {
            pieces.push(Bytes::copy_from_slice(&rest[..at]));
            rest = &rest[at + delimiter.len()..];
        }
    }
    pieces.push(Bytes::copy_from_slice(rest));
    while pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    pieces
}

/// Holds the send rate to a target, like Kafka's `ThroughputThrottler`: when the
/// records sent so far are ahead of `target × elapsed`, sleep until they are not.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    per_sec: f64,
    start: Instant,
}

impl Throttle {
    /// A throttle for `per_sec` records per second; negative means none.
    pub fn new(per_sec: f64, start: Instant) -> Self {
        Throttle { per_sec, start }
    }

    /// Whether a rate is set.
    pub fn is_on(&self) -> bool {
        self.per_sec > 0.0
    }

    /// How long to sleep before sending record number `sent` (0-based) at
    /// `now`; `None` when it is due (or less than a millisecond early).
    pub fn ahead(&self, sent: u64, now: Instant) -> Option<Duration> {
        if self.per_sec <= 0.0 {
            return None;
        }
        let due = self.start + Duration::from_secs_f64(sent as f64 / self.per_sec);
        let early = due.saturating_duration_since(now);
        (early >= Duration::from_millis(1)).then_some(early)
    }
}

/// The measurements, overall and for the current reporting window.
#[derive(Debug)]
pub struct Stats {
    start: Instant,
    interval: Duration,
    count: u64,
    bytes: u64,
    total_latency_us: u64,
    max_latency_us: u64,
    histogram: Histogram<u64>,
    window_start: Instant,
    window_count: u64,
    window_bytes: u64,
    window_total_latency_us: u64,
    window_max_latency_us: u64,
}

impl Stats {
    /// Empty measurements starting at `start`, with a window line every `interval`.
    pub fn new(start: Instant, interval: Duration) -> Self {
        Stats {
            start,
            interval,
            count: 0,
            bytes: 0,
            total_latency_us: 0,
            max_latency_us: 0,
            // Microseconds, up to an hour, 3 significant digits.
            histogram: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds"),
            window_start: start,
            window_count: 0,
            window_bytes: 0,
            window_total_latency_us: 0,
            window_max_latency_us: 0,
        }
    }

    /// Records one acknowledged record of `bytes` value bytes, delivered after
    /// `latency`, at `now`. Returns the window's line when the window is over.
    pub fn record(&mut self, latency: Duration, bytes: usize, now: Instant) -> Option<String> {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.count += 1;
        self.bytes += bytes as u64;
        self.total_latency_us += us;
        self.max_latency_us = self.max_latency_us.max(us);
        self.histogram.saturating_record(us);
        self.window_count += 1;
        self.window_bytes += bytes as u64;
        self.window_total_latency_us += us;
        self.window_max_latency_us = self.window_max_latency_us.max(us);
        if now.saturating_duration_since(self.window_start) < self.interval {
            return None;
        }
        let line = self.window_line(now);
        self.window_start = now;
        self.window_count = 0;
        self.window_bytes = 0;
        self.window_total_latency_us = 0;
        self.window_max_latency_us = 0;
        Some(line)
    }

    /// Kafka's window line:
    /// `%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.`
    pub fn window_line(&self, now: Instant) -> String {
        let secs = seconds(now.saturating_duration_since(self.window_start));
        format!(
            "{} records sent, {:.1} records/sec ({:.2} MB/sec), {:.1} ms avg latency, {:.1} ms max latency.",
            self.window_count,
            self.window_count as f64 / secs,
            self.window_bytes as f64 / MIB / secs,
            average_ms(self.window_total_latency_us, self.window_count),
            self.window_max_latency_us as f64 / 1000.0,
        )
    }

    /// Kafka's final line: `%d records sent, %f records/sec (%.2f MB/sec), %.2f ms
    /// avg latency, %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms
    /// 99.9th.`
    pub fn total_line(&self, now: Instant) -> String {
        let secs = seconds(now.saturating_duration_since(self.start));
        let [p50, p95, p99, p999] =
            [0.5, 0.95, 0.99, 0.999].map(|q| self.histogram.value_at_quantile(q) / 1000);
        format!(
            "{} records sent, {:.6} records/sec ({:.2} MB/sec), {:.2} ms avg latency, {:.2} ms max latency, \
             {p50} ms 50th, {p95} ms 95th, {p99} ms 99th, {p999} ms 99.9th.",
            self.count,
            self.count as f64 / secs,
            self.bytes as f64 / MIB / secs,
            average_ms(self.total_latency_us, self.count),
            self.max_latency_us as f64 / 1000.0,
        )
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// Seconds, never zero (a rate over no time is not infinite here).
fn seconds(d: Duration) -> f64 {
    d.as_secs_f64().max(1e-6)
}

fn average_ms(total_us: u64, count: u64) -> f64 {
    if count == 0 {
        0.0
    } else {
        total_us as f64 / count as f64 / 1000.0
    }
}

/// Prints `line` on stdout, above the progress bar if there is one.
fn print_line(progress: &Option<ProgressBar>, line: &str) {
    match progress {
        Some(bar) => bar.suspend(|| println!("{line}")),
        None => println!("{line}"),
    }
}

/// Counts failed records, printing the first [`PRINTED_FAILURES`] on stderr.
#[derive(Default)]
struct Failures(u64);

impl Failures {
    fn report(&mut self, progress: &Option<ProgressBar>, error: &ProducerError) {
        self.0 += 1;
        if self.0 <= PRINTED_FAILURES {
            let text = format!("actix-kafka perf: a record failed: {error}");
            match progress {
                Some(bar) => bar.suspend(|| eprintln!("{text}")),
                None => eprintln!("{text}"),
            }
        }
    }
}

/// What the delivery callbacks add up, shared by every chunk's callback.
struct Tally {
    stats: Stats,
    failures: Failures,
    done: u64,
    progress: Option<ProgressBar>,
}

impl Tally {
    /// Counts one record that completed (or was refused) now.
    fn complete(&mut self, started: Instant, bytes: usize, result: Result<(), &ProducerError>) {
        match result {
            Ok(()) => {
                let now = Instant::now();
                if let Some(line) = self
                    .stats
                    .record(now.saturating_duration_since(started), bytes, now)
                {
                    print_line(&self.progress, &line);
                }
            }
            Err(e) => self.failures.report(&self.progress, e),
        }
        self.done += 1;
        if self.done & 1023 == 0 {
            if let Some(bar) = &self.progress {
                bar.set_position(self.done);
            }
        }
    }
}

type SharedTally = Arc<Mutex<Tally>>;

fn lock(tally: &SharedTally) -> std::sync::MutexGuard<'_, Tally> {
    tally.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A progress bar on stderr, only when stderr is a terminal.
fn progress_bar(total: u64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "[{elapsed_precise}] {wide_bar} {human_pos}/{human_len} acked ({per_sec})",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// Enqueues the records in `chunk` with one mailbox message; each delivery
/// is counted by a callback as it completes (as Kafka's tool does with its
/// per-record callbacks), measured from the moment the chunk is handed over.
async fn submit(producer: &Producer, chunk: &mut Vec<ProducerRecord>, capacity: usize, tally: &SharedTally) {
    if chunk.is_empty() {
        return;
    }
    let records = std::mem::replace(chunk, Vec::with_capacity(capacity));
    let sizes: Vec<usize> = records
        .iter()
        .map(|r| r.value.as_ref().map_or(0, Bytes::len))
        .collect();
    let started = Instant::now();
    let on_delivery = {
        let tally = tally.clone();
        let sizes = sizes.clone();
        move |index: usize, result: Result<RecordMetadata, ProducerError>| {
            lock(&tally).complete(started, sizes[index], result.as_ref().map(|_| ()));
        }
    };
    let enqueued = producer.send_all_with(records, on_delivery).await;
    for (index, refused) in enqueued.iter().enumerate().filter(|(_, r)| r.is_err()) {
        if let Err(e) = refused {
            lock(tally).complete(started, sizes[index], Err(e));
        }
    }
}

/// The open transaction of a transactional run: begun before a record when
/// none is open, committed once it is `duration` old.
struct Transactions {
    duration: Duration,
    /// When the open transaction began.
    opened: Option<Instant>,
}

impl Transactions {
    /// Begins a transaction unless one is open.
    async fn ensure_open(&mut self, producer: &Producer) -> Result<(), CliError> {
        if self.opened.is_none() {
            producer
                .begin_transaction()
                .await
                .map_err(|e| format!("cannot begin a transaction: {e}"))?;
            self.opened = Some(Instant::now());
        }
        Ok(())
    }

    /// Whether the open transaction is `duration` old at `now`.
    fn is_due(&self, now: Instant) -> bool {
        self.opened
            .is_some_and(|opened| now.saturating_duration_since(opened) >= self.duration)
    }

    /// Commits the open transaction, if there is one. If the commit fails, the
    /// transaction is aborted (if that is still possible).
    async fn commit(&mut self, producer: &Producer) -> Result<(), CliError> {
        if self.opened.take().is_none() {
            return Ok(());
        }
        let Err(e) = producer.commit_transaction().await else {
            return Ok(());
        };
        let aborted = match producer.abort_transaction().await {
            Ok(()) => "it was aborted".to_string(),
            Err(abort_error) => format!("nor could it be aborted: {abort_error}"),
        };
        Err(format!("cannot commit a transaction: {e}; {aborted}"))
    }
}

/// Sends the `--num-records` records, throttled, in transactions if
/// `transactions` is given. Stops at the first transaction error.
async fn send_records(
    args: &PerfArgs,
    producer: &Producer,
    payloads: &mut Payloads,
    mut transactions: Option<Transactions>,
    start: Instant,
    tally: &SharedTally,
) -> Result<(), CliError> {
    let throttle = Throttle::new(args.throughput, start);
    let capacity = args.chunk_size.max(1);
    let mut chunk = Vec::with_capacity(capacity);
    // One shared name for every record.
    let topic: Arc<str> = args.topic.as_str().into();
    for sequence in 0..args.num_records {
        // The clock is read only when throttled: it costs as much as a record.
        if let Some(wait) = throttle
            .is_on()
            .then(|| throttle.ahead(sequence, Instant::now()))
            .flatten()
        {
            submit(producer, &mut chunk, capacity, tally).await;
            tokio::time::sleep(wait).await;
        }
        if let Some(transactions) = &mut transactions {
            transactions.ensure_open(producer).await?;
        }
        chunk.push(ProducerRecord::new(topic.clone(), payloads.next(sequence)));
        if chunk.len() >= capacity {
            submit(producer, &mut chunk, capacity, tally).await;
        }
        if let Some(transactions) = transactions.as_mut().filter(|t| t.is_due(Instant::now())) {
            submit(producer, &mut chunk, capacity, tally).await;
            transactions.commit(producer).await?;
        }
    }
    submit(producer, &mut chunk, capacity, tally).await;
    if let Some(transactions) = &mut transactions {
        transactions.commit(producer).await?;
    }
    Ok(())
}

/// Runs `perf`: exits 0 when every record was acknowledged (and every
/// transaction committed).
pub async fn run(args: PerfArgs) -> Result<ExitCode, CliError> {
    args.validate()?;
    let config = args.config()?;
    let transactions = args.transaction_duration(&config).map(|duration| Transactions {
        duration,
        opened: None,
    });
    let mut payloads = Payloads::new(&args)?;
    let producer = Producer::start(config)
        .await
        .map_err(|e| format!("cannot start the producer: {e}"))?;

    let progress = progress_bar(args.num_records);
    let start = Instant::now();
    let stats = Stats::new(start, Duration::from_millis(args.reporting_interval.max(1)));
    let tally = Arc::new(Mutex::new(Tally {
        stats,
        failures: Failures::default(),
        done: 0,
        progress: progress.clone(),
    }));

    let sent = send_records(&args, &producer, &mut payloads, transactions, start, &tally).await;
    // Every delivery callback has run once the flush returns.
    producer.flush().await;
    let end = Instant::now();
    let (stats, failures) = {
        let tally = lock(&tally);
        (tally.stats.total_line(end), tally.failures.0)
    };
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    producer.stop().await;
    println!("{stats}");
    sent?;
    if failures > 0 {
        eprintln!(
            "actix-kafka perf: {failures} of {} record(s) failed",
            args.num_records
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: PerfArgs,
    }

    fn parse(argv: &[&str]) -> Result<PerfArgs, clap::Error> {
        Wrapper::try_parse_from(std::iter::once("perf").chain(argv.iter().copied())).map(|w| w.args)
    }

    #[test]
    fn kafka_style_options_parse() {
        let a = parse(&[
            "--topic",
            "t",
            "--num-records",
            "10",
            "--record-size",
            "100",
            "--throughput",
            "-1",
            "--producer-props",
            "bootstrap.servers=h:9092",
            "acks=1",
            "linger.ms=5",
        ])
        .unwrap();
        assert_eq!(a.throughput, -1.0);
        assert_eq!(a.producer_props.len(), 3);
        let c = a.config().unwrap();
        assert_eq!(c.bootstrap_servers, "h:9092");
        assert_eq!(c.linger_ms, 5);
        assert_eq!(c.client_id, DEFAULT_CLIENT_ID);
    }

    #[test]
    fn exactly_one_payload_source_is_required() {
        let base = ["--topic", "t", "--num-records", "1", "--throughput", "-1"];
        assert!(parse(&base).is_err());
        let mut both = base.to_vec();
        both.extend(["--record-size", "1", "--payload-monotonic"]);
        assert!(parse(&both).is_err());
    }

    #[test]
    fn brokers_are_required_and_bootstrap_server_wins() {
        let a = parse(&[
            "--topic",
            "t",
            "--num-records",
            "1",
            "--record-size",
            "1",
            "--throughput",
            "-1",
        ])
        .unwrap();
        assert!(a.config().unwrap_err().contains("--bootstrap-server"));
        let a = parse(&[
            "--topic",
            "t",
            "--num-records",
            "1",
            "--record-size",
            "1",
            "--throughput",
            "-1",
            "--command-property",
            "bootstrap.servers=a:1",
            "--bootstrap-server",
            "b:2",
        ])
        .unwrap();
        assert_eq!(a.config().unwrap().bootstrap_servers, "b:2");
    }

    #[test]
    fn payloads_are_seeded_uppercase_letters() {
        let a = random_payload(1000, &mut SplitMix64::new(0));
        let b = random_payload(1000, &mut SplitMix64::new(0));
        assert_eq!(a, b);
        assert!(a.iter().all(u8::is_ascii_uppercase));
        assert_ne!(a, random_payload(1000, &mut SplitMix64::new(1)));
        // Every letter shows up in a thousand draws.
        assert!((b'A'..=b'Z').all(|c| a.contains(&c)));
    }

    #[test]
    fn payload_files_split_like_java() {
        let pieces = split_payloads(b"a\nbb\n\nc\n\n", b"\n");
        let pieces: Vec<&[u8]> = pieces.iter().map(|p| p.as_ref()).collect();
        assert_eq!(pieces, vec![&b"a"[..], b"bb", b"", b"c"]);
        assert!(split_payloads(b"", b"\n").is_empty());
    }

    #[test]
    fn throttle_sleeps_only_when_ahead() {
        let start = Instant::now();
        let t = Throttle::new(1000.0, start);
        assert_eq!(t.ahead(0, start), None);
        let early = t.ahead(100, start).unwrap();
        assert!(early > Duration::from_millis(99) && early <= Duration::from_millis(100));
        assert_eq!(t.ahead(100, start + Duration::from_millis(100)), None);
        assert_eq!(Throttle::new(-1.0, start).ahead(1_000_000, start), None);
    }

    #[test]
    fn lines_use_kafkas_format() {
        let start = Instant::now();
        let mut s = Stats::new(start, Duration::from_secs(5));
        for ms in 1..=100u64 {
            assert_eq!(
                s.record(Duration::from_millis(ms), 1024, start + Duration::from_millis(10)),
                None
            );
        }
        let window = s.window_line(start + Duration::from_secs(2));
        assert_eq!(
            window,
            "100 records sent, 50.0 records/sec (0.05 MB/sec), 50.5 ms avg latency, 100.0 ms max latency."
        );
        let total = s.total_line(start + Duration::from_secs(4));
        assert_eq!(
            total,
            "100 records sent, 25.000000 records/sec (0.02 MB/sec), 50.50 ms avg latency, \
             100.00 ms max latency, 50 ms 50th, 95 ms 95th, 99 ms 99th, 100 ms 99.9th."
        );
        // The window line comes once the interval has passed, and starts a new window.
        let line = s
            .record(Duration::from_millis(3), 10, start + Duration::from_secs(5))
            .unwrap();
        assert!(line.starts_with("101 records sent, 20.2 records/sec"), "{line}");
        assert!(s
            .window_line(start + Duration::from_secs(6))
            .starts_with("0 records sent"));
        assert_eq!(s.count, 101);
    }

    #[test]
    fn transactions_follow_kafkas_defaults() {
        let base = [
            "--topic",
            "t",
            "--num-records",
            "1",
            "--record-size",
            "1",
            "--throughput",
            "-1",
            "--bootstrap-server",
            "h:1",
        ];
        let with = |extra: &[&str]| {
            let mut argv = base.to_vec();
            argv.extend_from_slice(extra);
            let args = parse(&argv).unwrap();
            let config = args.config().unwrap();
            let duration = args.transaction_duration(&config);
            (config.transactional_id, duration)
        };
        assert_eq!(with(&[]), (None, None));
        assert_eq!(
            with(&["--transactional-id", "x"]),
            (Some("x".to_string()), Some(Duration::from_millis(3000)))
        );
        assert_eq!(
            with(&[
                "--command-property",
                "transactional.id=p",
                "--transactional-id",
                "x"
            ])
            .0,
            Some("x".to_string()),
            "--transactional-id wins"
        );
        assert_eq!(
            with(&["--command-property", "transactional.id=p"]),
            (Some("p".to_string()), Some(Duration::from_millis(3000)))
        );
        let (id, duration) = with(&["--transaction-duration-ms", "250"]);
        let id = id.expect("a generated id");
        assert!(
            id.starts_with("performance-producer-") && id.len() == 21 + 36,
            "{id}"
        );
        assert_eq!(duration, Some(Duration::from_millis(250)));
        let mut zero = base.to_vec();
        zero.extend(["--transaction-duration-ms", "0"]);
        assert!(parse(&zero).is_err(), "the duration must be positive");
    }
}
