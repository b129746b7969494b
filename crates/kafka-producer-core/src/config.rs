//! Producer configuration: [`ProducerConfig`].
//!
//! Option names and defaults follow aiokafka's `AIOKafkaProducer`. Every option can
//! also be given under Kafka's dotted Java property name (`linger.ms`,
//! `bootstrap.servers`, `batch.size`, ...), so an existing Java producer
//! configuration can be loaded as it is. The full table is in
//! `docs/configuration.md`.
//!
//! There are three ways to build a configuration:
//!
//! * in code: `ProducerConfig { linger_ms: 5, ..ProducerConfig::new("k1:9092") }`;
//! * from string pairs ([`ProducerConfig::from_properties`], [`ProducerConfig::set`]):
//!   the values of a Java `.properties` file or of `--producer-property k=v`;
//! * with serde ([`ProducerConfig`] implements `Deserialize`): a map whose keys are
//!   either spelling, and whose values are strings, numbers, booleans or null (null
//!   means the default). `bootstrap_servers` may also be a list of strings.
//!
//! All three go through the same table of names, so they accept exactly the same
//! keys. Parsing checks that each value has the right type; [`ProducerConfig::validate`]
//! checks the values themselves and how they combine (the producer calls it when it
//! is built). Unknown keys are rejected, except for a short list of Java-only
//! properties that mean nothing here and are ignored ([`IGNORED_JAVA_PROPERTIES`]).
//! Serde's `deny_unknown_fields` cannot express "reject unknown keys but ignore
//! these", which is why `Deserialize` is implemented by hand on top of
//! [`ProducerConfig::set`].

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use kafka_wire::compression::Compression;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::ProducerError;

/// The largest value accepted for any `*_ms` option: one year (365 days).
///
/// Larger values would overflow `Instant` arithmetic and timer wheels; a year is
/// "forever" for every timeout here.
pub const MAX_DURATION_MS: u64 = 365 * 24 * 60 * 60 * 1000;

/// The largest `max_request_size` and `max_batch_size`: Kafka sizes are `i32` on the
/// wire.
pub const MAX_SIZE: usize = i32::MAX as usize;

/// The largest `max_in_flight_requests_per_connection` with idempotence, as the Java
/// client requires (the broker keeps sequence state for 5 batches per partition).
pub const MAX_IN_FLIGHT_IDEMPOTENT: usize = 5;

/// Java producer properties that are accepted and ignored: they configure the Java
/// client's serializers, and this producer takes bytes.
pub const IGNORED_JAVA_PROPERTIES: &[&str] = &["key.serializer", "value.serializer"];

/// Java producer properties that are known but rejected, with the reason: accepting
/// them silently would change what the user asked for.
const UNSUPPORTED_JAVA_PROPERTIES: &[(&str, &str)] = &[
    (
        "retries",
        "not supported: retriable errors are retried until request_timeout_ms (aiokafka semantics); remove it",
    ),
    (
        "delivery.timeout.ms",
        "not supported: use request_timeout_ms (request.timeout.ms), which bounds retries as in aiokafka",
    ),
    (
        "partitioner.ignore.keys",
        "not supported: keyed records always use murmur2(key) like the Java default",
    ),
    ("interceptor.classes", "Java classes cannot be used here"),
    ("metric.reporters", "Java classes cannot be used here"),
];

/// The producer's acknowledgement mode (`acks`): how many replicas must have the
/// records before the broker answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Acks {
    /// `acks=0`: the broker does not answer. Deliveries resolve as soon as the
    /// request is written, with no offset; errors are never seen, nothing is retried.
    None,
    /// `acks=1`: the partition leader answers once it has written the records.
    Leader,
    /// `acks=all` (`-1`): the leader answers once every in-sync replica has the
    /// records (at least `min.insync.replicas` of them).
    All,
}

impl Acks {
    /// The value of the `acks` field of a Produce request: 0, 1 or -1.
    pub fn code(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}

impl FromStr for Acks {
    type Err = ProducerError;

    /// Parses `0`, `1`, `-1` or `all` (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "0" => Ok(Acks::None),
            "1" => Ok(Acks::Leader),
            "-1" => Ok(Acks::All),
            other if other.eq_ignore_ascii_case("all") => Ok(Acks::All),
            other => Err(ProducerError::config(
                "acks",
                format!("expected 0, 1, -1 or all, got {other:?}"),
            )),
        }
    }
}

impl fmt::Display for Acks {
    /// `0`, `1` or `all`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Acks::None => "0",
            Acks::Leader => "1",
            Acks::All => "all",
        })
    }
}

/// Which partitioner picks the partition of records sent without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PartitionerKind {
    /// Keyed records go to `(murmur2(key) & 0x7fffffff) % partitions`, as in the Java
    /// client; keyless records stick to one partition until its batch is sent, then
    /// move on (KIP-480/794). Parsed from `default`, from an empty value, and from
    /// the Java class name `org.apache.kafka.clients.producer.internals.DefaultPartitioner`.
    #[default]
    Default,
}

/// The Java class name that means the built-in partitioner.
const JAVA_DEFAULT_PARTITIONER: &str = "org.apache.kafka.clients.producer.internals.DefaultPartitioner";

impl FromStr for PartitionerKind {
    type Err = ProducerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("default") || s == JAVA_DEFAULT_PARTITIONER {
            Ok(PartitionerKind::Default)
        } else {
            Err(ProducerError::config(
                "partitioner",
                format!(
                    "unknown partitioner {s:?}: only `default` (murmur2 for keyed records, sticky for \
                     keyless ones) is available; Java partitioner classes cannot be used"
                ),
            ))
        }
    }
}

impl fmt::Display for PartitionerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PartitionerKind::Default => "default",
        })
    }
}

/// How connections to brokers are secured (`security_protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SecurityProtocol {
    /// `PLAINTEXT`: plain TCP, no authentication.
    #[default]
    Plaintext,
    /// `SSL`: TLS. Not supported yet: rejected by [`ProducerConfig::validate`].
    Ssl,
    /// `SASL_PLAINTEXT`: SASL authentication over plain TCP. Not supported yet.
    SaslPlaintext,
    /// `SASL_SSL`: SASL authentication over TLS. Not supported yet.
    SaslSsl,
}

impl SecurityProtocol {
    /// Kafka's name: `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`.
    pub fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }
}

impl FromStr for SecurityProtocol {
    type Err = ProducerError;

    /// Parses Kafka's name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        [
            SecurityProtocol::Plaintext,
            SecurityProtocol::Ssl,
            SecurityProtocol::SaslPlaintext,
            SecurityProtocol::SaslSsl,
        ]
        .into_iter()
        .find(|p| p.name().eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            ProducerError::config(
                "security_protocol",
                format!("expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got {s:?}"),
            )
        })
    }
}

impl fmt::Display for SecurityProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The SASL mechanism (`sasl_mechanism`), used with the `SASL_*` security protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SaslMechanism {
    /// `PLAIN`: username and password in clear (use it over TLS).
    #[default]
    Plain,
    /// `SCRAM-SHA-256`.
    ScramSha256,
    /// `SCRAM-SHA-512`.
    ScramSha512,
}

impl SaslMechanism {
    /// Kafka's name: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

impl FromStr for SaslMechanism {
    type Err = ProducerError;

    /// Parses Kafka's name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        [
            SaslMechanism::Plain,
            SaslMechanism::ScramSha256,
            SaslMechanism::ScramSha512,
        ]
        .into_iter()
        .find(|m| m.name().eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            ProducerError::config(
                "sasl_mechanism",
                format!("expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got {s:?}"),
            )
        })
    }
}

impl fmt::Display for SaslMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The producer's configuration.
///
/// Field names are aiokafka's; each field's documentation gives Kafka's property
/// name and the default. Build one with [`ProducerConfig::new`] and struct update
/// syntax, [`ProducerConfig::from_properties`], or serde; check it with
/// [`ProducerConfig::validate`].
///
/// `Debug` never prints `sasl_plain_password`.
#[derive(Clone, PartialEq, Eq)]
pub struct ProducerConfig {
    /// `bootstrap.servers`: comma-separated `host:port` list of brokers to fetch the
    /// first metadata from (IPv6 as `[addr]:port`). Default `"localhost:9092"`.
    pub bootstrap_servers: String,
    /// `client.id`: the client id sent with every request (shows up in broker logs and
    /// quotas). Default `"actix-kafka"`.
    pub client_id: String,
    /// `acks`: the explicit acknowledgement mode, or `None` when not given. Use
    /// [`ProducerConfig::effective_acks`]: the default is `1`, or `all` when
    /// idempotence is enabled.
    pub acks: Option<Acks>,
    /// `compression.type`: codec for record batches. Default none.
    pub compression_type: Compression,
    /// `batch.size`: the maximum size of one partition's batch in bytes. A record
    /// larger than this goes into a batch of its own. Default 16384.
    pub max_batch_size: usize,
    /// `linger.ms`: how long a batch that is not full waits for more records before it
    /// is sent. Default 0 (send as soon as the partition has no batch in flight).
    pub linger_ms: u64,
    /// `max.request.size`: the maximum size of a request, and so of one serialized
    /// record; larger records fail with [`ProducerError::RecordTooLarge`].
    /// Default 1048576.
    pub max_request_size: usize,
    /// `request.timeout.ms`: how long to wait for a broker's answer, and how long
    /// retriable errors are retried. Default 40000 (aiokafka).
    pub request_timeout_ms: u64,
    /// `retry.backoff.ms`: the pause before retrying a failed request or refreshing
    /// metadata after an error. Default 100.
    pub retry_backoff_ms: u64,
    /// `metadata.max.age.ms`: metadata is refreshed at least this often. Default 300000.
    pub metadata_max_age_ms: u64,
    /// `connections.max.idle.ms`: idle connections are closed after this long.
    /// Default 540000.
    pub connections_max_idle_ms: u64,
    /// `partitioner` (`partitioner.class`): how partitions are picked for records
    /// sent without one. Default [`PartitionerKind::Default`].
    pub partitioner: PartitionerKind,
    /// `buffer.memory`: the total bytes of records buffered across all partitions;
    /// when full, sends wait up to `max_block_ms`. Default 33554432 (32 MiB).
    pub buffer_memory: usize,
    /// `max.block.ms`: how long the enqueue stage of a send may wait (for buffer
    /// space or for metadata) before failing. Default 60000.
    pub max_block_ms: u64,
    /// `enable.idempotence`: the idempotent producer (producer id, sequence numbers,
    /// acks=all). Default false (aiokafka). Implied by `transactional_id`.
    pub enable_idempotence: bool,
    /// `transactional.id`: enables the transactional producer (and idempotence).
    /// Default none.
    pub transactional_id: Option<String>,
    /// `transaction.timeout.ms`: how long the coordinator lets a transaction stay
    /// open before aborting it. Default 60000.
    pub transaction_timeout_ms: u64,
    /// `max.in.flight.requests.per.connection`: produce requests in flight per broker
    /// connection (at most 5 with idempotence). Per-partition order does not depend
    /// on it: each partition has at most one batch in flight. Default 5.
    pub max_in_flight_requests_per_connection: usize,
    /// `reconnect.backoff.ms`: the pause before reconnecting to a broker. Default 50.
    pub reconnect_backoff_ms: u64,
    /// `security.protocol`: default `PLAINTEXT`, the only one supported for now.
    pub security_protocol: SecurityProtocol,
    /// `sasl.mechanism`: default `PLAIN`.
    pub sasl_mechanism: SaslMechanism,
    /// `sasl.username` (librdkafka's name; also read from `sasl.jaas.config`): the
    /// SASL username. Default none.
    pub sasl_plain_username: Option<String>,
    /// `sasl.password` (librdkafka's name; also read from `sasl.jaas.config`): the
    /// SASL password. Default none. Never printed by `Debug`.
    pub sasl_plain_password: Option<String>,
}

impl Default for ProducerConfig {
    /// aiokafka's defaults (see each field).
    fn default() -> Self {
        ProducerConfig {
            bootstrap_servers: "localhost:9092".to_owned(),
            client_id: "actix-kafka".to_owned(),
            acks: None,
            compression_type: Compression::None,
            max_batch_size: 16384,
            linger_ms: 0,
            max_request_size: 1_048_576,
            request_timeout_ms: 40_000,
            retry_backoff_ms: 100,
            metadata_max_age_ms: 300_000,
            connections_max_idle_ms: 540_000,
            partitioner: PartitionerKind::Default,
            buffer_memory: 33_554_432,
            max_block_ms: 60_000,
            enable_idempotence: false,
            transactional_id: None,
            transaction_timeout_ms: 60_000,
            max_in_flight_requests_per_connection: 5,
            reconnect_backoff_ms: 50,
            security_protocol: SecurityProtocol::Plaintext,
            sasl_mechanism: SaslMechanism::Plain,
            sasl_plain_username: None,
            sasl_plain_password: None,
        }
    }
}

impl fmt::Debug for ProducerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProducerConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("client_id", &self.client_id)
            .field("acks", &self.acks)
            .field("compression_type", &self.compression_type)
            .field("max_batch_size", &self.max_batch_size)
            .field("linger_ms", &self.linger_ms)
            .field("max_request_size", &self.max_request_size)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("retry_backoff_ms", &self.retry_backoff_ms)
            .field("metadata_max_age_ms", &self.metadata_max_age_ms)
            .field("connections_max_idle_ms", &self.connections_max_idle_ms)
            .field("partitioner", &self.partitioner)
            .field("buffer_memory", &self.buffer_memory)
            .field("max_block_ms", &self.max_block_ms)
            .field("enable_idempotence", &self.enable_idempotence)
            .field("transactional_id", &self.transactional_id)
            .field("transaction_timeout_ms", &self.transaction_timeout_ms)
            .field(
                "max_in_flight_requests_per_connection",
                &self.max_in_flight_requests_per_connection,
            )
            .field("reconnect_backoff_ms", &self.reconnect_backoff_ms)
            .field("security_protocol", &self.security_protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("sasl_plain_username", &self.sasl_plain_username)
            .field(
                "sasl_plain_password",
                &self.sasl_plain_password.as_ref().map(|_| Redacted),
            )
            .finish()
    }
}

/// Prints `<redacted>` in place of a secret.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Every option `set` knows, one per field (plus `sasl.jaas.config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Opt {
    BootstrapServers,
    ClientId,
    Acks,
    CompressionType,
    MaxBatchSize,
    LingerMs,
    MaxRequestSize,
    RequestTimeoutMs,
    RetryBackoffMs,
    MetadataMaxAgeMs,
    ConnectionsMaxIdleMs,
    Partitioner,
    BufferMemory,
    MaxBlockMs,
    EnableIdempotence,
    TransactionalId,
    TransactionTimeoutMs,
    MaxInFlight,
    ReconnectBackoffMs,
    SecurityProtocol,
    SaslMechanism,
    SaslUsername,
    SaslPassword,
    SaslJaasConfig,
}

/// The name table: (snake_case name, other accepted spellings, option). The first
/// other spelling is Kafka's Java property name where there is one.
const OPTIONS: &[(&str, &[&str], Opt)] = &[
    ("bootstrap_servers", &["bootstrap.servers"], Opt::BootstrapServers),
    ("client_id", &["client.id"], Opt::ClientId),
    ("acks", &[], Opt::Acks),
    ("compression_type", &["compression.type"], Opt::CompressionType),
    ("max_batch_size", &["batch.size"], Opt::MaxBatchSize),
    ("linger_ms", &["linger.ms"], Opt::LingerMs),
    ("max_request_size", &["max.request.size"], Opt::MaxRequestSize),
    (
        "request_timeout_ms",
        &["request.timeout.ms"],
        Opt::RequestTimeoutMs,
    ),
    ("retry_backoff_ms", &["retry.backoff.ms"], Opt::RetryBackoffMs),
    (
        "metadata_max_age_ms",
        &["metadata.max.age.ms"],
        Opt::MetadataMaxAgeMs,
    ),
    (
        "connections_max_idle_ms",
        &["connections.max.idle.ms"],
        Opt::ConnectionsMaxIdleMs,
    ),
    ("partitioner", &["partitioner.class"], Opt::Partitioner),
    ("buffer_memory", &["buffer.memory"], Opt::BufferMemory),
    ("max_block_ms", &["max.block.ms"], Opt::MaxBlockMs),
    (
        "enable_idempotence",
        &["enable.idempotence"],
        Opt::EnableIdempotence,
    ),
    ("transactional_id", &["transactional.id"], Opt::TransactionalId),
    (
        "transaction_timeout_ms",
        &["transaction.timeout.ms"],
        Opt::TransactionTimeoutMs,
    ),
    (
        "max_in_flight_requests_per_connection",
        &["max.in.flight.requests.per.connection"],
        Opt::MaxInFlight,
    ),
    (
        "reconnect_backoff_ms",
        &["reconnect.backoff.ms"],
        Opt::ReconnectBackoffMs,
    ),
    ("security_protocol", &["security.protocol"], Opt::SecurityProtocol),
    ("sasl_mechanism", &["sasl.mechanism"], Opt::SaslMechanism),
    ("sasl_plain_username", &["sasl.username"], Opt::SaslUsername),
    ("sasl_plain_password", &["sasl.password"], Opt::SaslPassword),
    ("sasl.jaas.config", &[], Opt::SaslJaasConfig),
];

/// What a key names: an option, or a Java property to ignore.
enum Key {
    Option(Opt),
    Ignored,
}

/// Looks a key up in the name table. Unknown keys are errors; the error never
/// repeats the value, which may be a secret.
fn lookup(key: &str) -> Result<Key, ProducerError> {
    if let Some(&(_, _, opt)) = OPTIONS
        .iter()
        .find(|(name, aliases, _)| *name == key || aliases.contains(&key))
    {
        return Ok(Key::Option(opt));
    }
    if IGNORED_JAVA_PROPERTIES.contains(&key) {
        return Ok(Key::Ignored);
    }
    if let Some(&(_, reason)) = UNSUPPORTED_JAVA_PROPERTIES.iter().find(|(name, _)| *name == key) {
        return Err(ProducerError::config(key, reason));
    }
    if key.starts_with("ssl.") {
        return Err(ProducerError::config(key, "TLS options are not supported yet"));
    }
    Err(ProducerError::config(
        key,
        "unknown option (expected an aiokafka snake_case name or a Kafka producer property; \
         see docs/configuration.md)",
    ))
}

/// An option's value before parsing: what `set` and serde both hand to `apply`.
#[derive(Debug, Clone, PartialEq)]
enum RawValue {
    /// Null / absent: the option goes back to its default.
    Null,
    /// A single value as text (numbers and booleans are converted to text).
    Scalar(String),
    /// A list of values (only `bootstrap_servers` accepts one).
    List(Vec<String>),
}

fn parse_u64(key: &str, text: &str) -> Result<u64, ProducerError> {
    text.trim()
        .parse()
        .map_err(|_| ProducerError::config(key, format!("expected a non-negative integer, got {text:?}")))
}

fn parse_usize(key: &str, text: &str) -> Result<usize, ProducerError> {
    text.trim()
        .parse()
        .map_err(|_| ProducerError::config(key, format!("expected a non-negative integer, got {text:?}")))
}

fn parse_bool(key: &str, text: &str) -> Result<bool, ProducerError> {
    match text.trim() {
        t if t.eq_ignore_ascii_case("true") => Ok(true),
        t if t.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ProducerError::config(
            key,
            format!("expected true or false, got {text:?}"),
        )),
    }
}

/// Re-labels a parse error from a `FromStr` impl with the key the user wrote.
fn relabel(key: &str, error: ProducerError) -> ProducerError {
    match error {
        ProducerError::Config { reason, .. } => ProducerError::config(key, reason),
        other => other,
    }
}

/// Reads the username and password from a JAAS line such as
/// `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`.
///
/// Errors never contain the text, which holds a password.
fn parse_jaas(text: &str) -> Result<(String, String), String> {
    let text = text.trim();
    let (module, rest) = text
        .split_once(char::is_whitespace)
        .ok_or("expected `<LoginModule> required ...;`")?;
    if !(module.ends_with(".PlainLoginModule") || module.ends_with(".ScramLoginModule")) {
        return Err("only PlainLoginModule and ScramLoginModule are supported".to_owned());
    }
    let rest = rest.trim_start();
    let (flag, mut rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if !["required", "requisite", "sufficient", "optional"].contains(&flag.trim_end_matches(';')) {
        return Err("expected a control flag (`required`) after the login module".to_owned());
    }
    let mut options: HashMap<String, String> = HashMap::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() || rest.starts_with(';') {
            break;
        }
        let (name, after) = rest.split_once('=').ok_or("expected `name=value` options")?;
        let name = name.trim();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let end = end.ok_or("unterminated quoted value")?;
            (value, &quoted[end..])
        } else {
            let end = after
                .find(|c: char| c.is_whitespace() || c == ';')
                .unwrap_or(after.len());
            (after[..end].to_owned(), &after[end..])
        };
        options.insert(name.to_owned(), value);
        rest = remaining;
    }
    match (options.remove("username"), options.remove("password")) {
        (Some(username), Some(password)) => Ok((username, password)),
        _ => Err("expected both username=\"...\" and password=\"...\"".to_owned()),
    }
}

/// Checks one bootstrap entry: `host:port` or `[ipv6]:port`.
fn check_address(entry: &str) -> Result<(), String> {
    if entry.contains("://") {
        return Err(format!("{entry:?}: give host:port without a URL scheme"));
    }
    let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("{entry:?}: missing `]`"))?;
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| format!("{entry:?}: expected `:port` after `]`"))?;
        (host, port)
    } else {
        let (host, port) = entry
            .rsplit_once(':')
            .ok_or_else(|| format!("{entry:?}: expected host:port (the port is required)"))?;
        if host.contains(':') {
            return Err(format!(
                "{entry:?}: write IPv6 addresses in brackets, like [::1]:9092"
            ));
        }
        (host, port)
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("{entry:?}: invalid host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(format!("{entry:?}: the port must be a number from 1 to 65535")),
    }
}

impl ProducerConfig {
    /// The defaults, with `bootstrap_servers` set (a comma-separated `host:port`
    /// list).
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        ProducerConfig {
            bootstrap_servers: bootstrap_servers.into(),
            ..ProducerConfig::default()
        }
    }

    /// A configuration from `(key, value)` string pairs, on top of the defaults.
    ///
    /// Keys are snake_case names or Kafka's dotted property names (see
    /// `docs/configuration.md`); values are parsed as by [`ProducerConfig::set`]. The
    /// result is not validated: call [`ProducerConfig::validate`].
    ///
    /// # Errors
    ///
    /// [`ProducerError::Config`] naming the key for an unknown key, a value of the
    /// wrong type, or one option given twice (under either spelling).
    pub fn from_properties<'a>(
        props: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ProducerError> {
        let mut config = ProducerConfig::default();
        let mut seen = Seen::default();
        for (key, value) in props {
            config.apply_once(&mut seen, key, RawValue::Scalar(value.to_owned()))?;
        }
        Ok(config)
    }

    /// Sets one option from text: a snake_case name or a Kafka property name, and
    /// the value as it would appear in a Java `.properties` file (`"5"`, `"true"`,
    /// `"all"`, `"gzip"`). Java-only properties in [`IGNORED_JAVA_PROPERTIES`] are
    /// accepted and ignored. On error the configuration is unchanged.
    ///
    /// `sasl.jaas.config` sets `sasl_plain_username` and `sasl_plain_password` from a
    /// `PlainLoginModule` or `ScramLoginModule` line.
    ///
    /// # Errors
    ///
    /// [`ProducerError::Config`] naming `key` when the key is unknown or the value
    /// does not parse. Values are checked further by [`ProducerConfig::validate`].
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ProducerError> {
        self.apply(key, RawValue::Scalar(value.to_owned()))
    }

    /// [`apply`](Self::apply), refusing an option already given under any spelling.
    fn apply_once(&mut self, seen: &mut Seen, key: &str, value: RawValue) -> Result<(), ProducerError> {
        if let Ok(Key::Option(opt)) = lookup(key) {
            if let Some(previous) = seen.0.get(&opt) {
                return Err(ProducerError::config(
                    key,
                    format!("given more than once (as `{previous}` and `{key}`)"),
                ));
            }
            seen.0.insert(opt, key.to_owned());
        }
        self.apply(key, value)
    }

    /// Sets one option from a raw value. On error nothing changes.
    fn apply(&mut self, key: &str, value: RawValue) -> Result<(), ProducerError> {
        let opt = match lookup(key)? {
            Key::Option(opt) => opt,
            Key::Ignored => {
                tracing::debug!(option = key, "ignoring a Java-only producer property");
                return Ok(());
            }
        };
        let text = match value {
            RawValue::Null => {
                self.reset(opt);
                return Ok(());
            }
            RawValue::List(items) if opt == Opt::BootstrapServers => items.join(","),
            RawValue::List(_) => {
                return Err(ProducerError::config(key, "expected a single value, not a list"))
            }
            RawValue::Scalar(text) => text,
        };
        match opt {
            Opt::BootstrapServers => self.bootstrap_servers = text,
            Opt::ClientId => self.client_id = text,
            Opt::Acks => self.acks = Some(text.parse().map_err(|e| relabel(key, e))?),
            Opt::CompressionType => {
                self.compression_type = text
                    .trim()
                    .parse()
                    .map_err(|e| ProducerError::config(key, format!("{e}")))?
            }
            Opt::MaxBatchSize => self.max_batch_size = parse_usize(key, &text)?,
            Opt::LingerMs => self.linger_ms = parse_u64(key, &text)?,
            Opt::MaxRequestSize => self.max_request_size = parse_usize(key, &text)?,
            Opt::RequestTimeoutMs => self.request_timeout_ms = parse_u64(key, &text)?,
            Opt::RetryBackoffMs => self.retry_backoff_ms = parse_u64(key, &text)?,
            Opt::MetadataMaxAgeMs => self.metadata_max_age_ms = parse_u64(key, &text)?,
            Opt::ConnectionsMaxIdleMs => self.connections_max_idle_ms = parse_u64(key, &text)?,
            Opt::Partitioner => self.partitioner = text.parse().map_err(|e| relabel(key, e))?,
            Opt::BufferMemory => self.buffer_memory = parse_usize(key, &text)?,
            Opt::MaxBlockMs => self.max_block_ms = parse_u64(key, &text)?,
            Opt::EnableIdempotence => self.enable_idempotence = parse_bool(key, &text)?,
            Opt::TransactionalId => self.transactional_id = Some(text),
            Opt::TransactionTimeoutMs => self.transaction_timeout_ms = parse_u64(key, &text)?,
            Opt::MaxInFlight => self.max_in_flight_requests_per_connection = parse_usize(key, &text)?,
            Opt::ReconnectBackoffMs => self.reconnect_backoff_ms = parse_u64(key, &text)?,
            Opt::SecurityProtocol => self.security_protocol = text.parse().map_err(|e| relabel(key, e))?,
            Opt::SaslMechanism => self.sasl_mechanism = text.parse().map_err(|e| relabel(key, e))?,
            Opt::SaslUsername => self.sasl_plain_username = Some(text),
            Opt::SaslPassword => self.sasl_plain_password = Some(text),
            Opt::SaslJaasConfig => {
                let (username, password) =
                    parse_jaas(&text).map_err(|reason| ProducerError::config(key, reason))?;
                self.sasl_plain_username = Some(username);
                self.sasl_plain_password = Some(password);
            }
        }
        Ok(())
    }

    /// Puts one option back to its default.
    fn reset(&mut self, opt: Opt) {
        let d = ProducerConfig::default();
        match opt {
            Opt::BootstrapServers => self.bootstrap_servers = d.bootstrap_servers,
            Opt::ClientId => self.client_id = d.client_id,
            Opt::Acks => self.acks = d.acks,
            Opt::CompressionType => self.compression_type = d.compression_type,
            Opt::MaxBatchSize => self.max_batch_size = d.max_batch_size,
            Opt::LingerMs => self.linger_ms = d.linger_ms,
            Opt::MaxRequestSize => self.max_request_size = d.max_request_size,
            Opt::RequestTimeoutMs => self.request_timeout_ms = d.request_timeout_ms,
            Opt::RetryBackoffMs => self.retry_backoff_ms = d.retry_backoff_ms,
            Opt::MetadataMaxAgeMs => self.metadata_max_age_ms = d.metadata_max_age_ms,
            Opt::ConnectionsMaxIdleMs => self.connections_max_idle_ms = d.connections_max_idle_ms,
            Opt::Partitioner => self.partitioner = d.partitioner,
            Opt::BufferMemory => self.buffer_memory = d.buffer_memory,
            Opt::MaxBlockMs => self.max_block_ms = d.max_block_ms,
            Opt::EnableIdempotence => self.enable_idempotence = d.enable_idempotence,
            Opt::TransactionalId => self.transactional_id = d.transactional_id,
            Opt::TransactionTimeoutMs => self.transaction_timeout_ms = d.transaction_timeout_ms,
            Opt::MaxInFlight => {
                self.max_in_flight_requests_per_connection = d.max_in_flight_requests_per_connection
            }
            Opt::ReconnectBackoffMs => self.reconnect_backoff_ms = d.reconnect_backoff_ms,
            Opt::SecurityProtocol => self.security_protocol = d.security_protocol,
            Opt::SaslMechanism => self.sasl_mechanism = d.sasl_mechanism,
            Opt::SaslUsername => self.sasl_plain_username = d.sasl_plain_username,
            Opt::SaslPassword => self.sasl_plain_password = d.sasl_plain_password,
            Opt::SaslJaasConfig => {
                self.sasl_plain_username = None;
                self.sasl_plain_password = None;
            }
        }
    }

    /// The bootstrap addresses: `bootstrap_servers` split at commas, each trimmed,
    /// empty entries dropped. Entries are returned as written (`host:port` or
    /// `[ipv6]:port`), ready for `ToSocketAddrs`.
    pub fn bootstrap_addresses(&self) -> Vec<String> {
        self.bootstrap_servers
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Whether the producer is idempotent: `enable_idempotence`, or a
    /// `transactional_id` (which implies idempotence, as in aiokafka).
    pub fn is_idempotent(&self) -> bool {
        self.enable_idempotence || self.transactional_id.is_some()
    }

    /// Whether the producer is transactional (`transactional_id` is set).
    pub fn is_transactional(&self) -> bool {
        self.transactional_id.is_some()
    }

    /// The acknowledgement mode in effect: the explicit `acks`, else `all` when
    /// idempotent and `1` otherwise.
    pub fn effective_acks(&self) -> Acks {
        self.acks.unwrap_or(if self.is_idempotent() {
            Acks::All
        } else {
            Acks::Leader
        })
    }

    /// `linger_ms` as a `Duration`.
    pub fn linger(&self) -> Duration {
        Duration::from_millis(self.linger_ms)
    }

    /// `request_timeout_ms` as a `Duration`.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// `retry_backoff_ms` as a `Duration`.
    pub fn retry_backoff(&self) -> Duration {
        Duration::from_millis(self.retry_backoff_ms)
    }

    /// `metadata_max_age_ms` as a `Duration`.
    pub fn metadata_max_age(&self) -> Duration {
        Duration::from_millis(self.metadata_max_age_ms)
    }

    /// `connections_max_idle_ms` as a `Duration`.
    pub fn connections_max_idle(&self) -> Duration {
        Duration::from_millis(self.connections_max_idle_ms)
    }

    /// `max_block_ms` as a `Duration`.
    pub fn max_block(&self) -> Duration {
        Duration::from_millis(self.max_block_ms)
    }

    /// `transaction_timeout_ms` as a `Duration`.
    pub fn transaction_timeout(&self) -> Duration {
        Duration::from_millis(self.transaction_timeout_ms)
    }

    /// `reconnect_backoff_ms` as a `Duration`.
    pub fn reconnect_backoff(&self) -> Duration {
        Duration::from_millis(self.reconnect_backoff_ms)
    }

    /// Checks every value and how they combine. The producer calls this when it is
    /// built; nothing is sent with an invalid configuration.
    ///
    /// The rules (also in `docs/configuration.md`):
    ///
    /// * `bootstrap_servers` lists at least one `host:port` (port 1-65535, IPv6 in
    ///   brackets, no URL scheme);
    /// * `client_id` and `transactional_id` fit Kafka's 32767-byte strings, and
    ///   `transactional_id` is not empty;
    /// * with idempotence (`enable_idempotence` or `transactional_id`), an explicit
    ///   `acks` must be `all`, and `max_in_flight_requests_per_connection` at most 5;
    /// * `max_batch_size`, `max_request_size`, `buffer_memory` and
    ///   `max_in_flight_requests_per_connection` are at least 1, and the two sizes at
    ///   most `i32::MAX`;
    /// * `request_timeout_ms`, `metadata_max_age_ms`, `connections_max_idle_ms` and
    ///   `transaction_timeout_ms` are at least 1; every `*_ms` option is at most
    ///   [`MAX_DURATION_MS`] (one year);
    /// * `security_protocol` is `PLAINTEXT` (TLS and SASL are not supported yet).
    ///
    /// # Errors
    ///
    /// The first problem found, as [`ProducerError::Config`] naming the option by its
    /// snake_case name.
    pub fn validate(&self) -> Result<(), ProducerError> {
        let err = |option: &str, reason: String| Err(ProducerError::config(option, reason));

        let addresses = self.bootstrap_addresses();
        if addresses.is_empty() {
            return err(
                "bootstrap_servers",
                "no broker given: expected host:port[,host:port...]".into(),
            );
        }
        for address in &addresses {
            if let Err(reason) = check_address(address) {
                return err("bootstrap_servers", reason);
            }
        }
        if self.client_id.len() > i16::MAX as usize {
            return err("client_id", format!("longer than {} bytes", i16::MAX));
        }
        if let Some(id) = &self.transactional_id {
            if id.is_empty() {
                return err(
                    "transactional_id",
                    "must not be empty (leave it unset instead)".into(),
                );
            }
            if id.len() > i16::MAX as usize {
                return err("transactional_id", format!("longer than {} bytes", i16::MAX));
            }
        }
        if self.is_idempotent() {
            if let Some(acks) = self.acks.filter(|acks| *acks != Acks::All) {
                return err(
                    "acks",
                    format!(
                        "must be `all` (-1) when idempotence is enabled (enable_idempotence or \
                         transactional_id), got `{acks}`"
                    ),
                );
            }
            if self.max_in_flight_requests_per_connection > MAX_IN_FLIGHT_IDEMPOTENT {
                return err(
                    "max_in_flight_requests_per_connection",
                    format!(
                        "must be at most {MAX_IN_FLIGHT_IDEMPOTENT} when idempotence is enabled, got {}",
                        self.max_in_flight_requests_per_connection
                    ),
                );
            }
        }
        for (option, value) in [
            ("max_batch_size", self.max_batch_size),
            ("max_request_size", self.max_request_size),
        ] {
            if value == 0 || value > MAX_SIZE {
                return err(
                    option,
                    format!("must be between 1 and {MAX_SIZE} bytes, got {value}"),
                );
            }
        }
        if self.buffer_memory == 0 {
            return err("buffer_memory", "must be at least 1 byte".into());
        }
        if self.max_in_flight_requests_per_connection == 0 {
            return err(
                "max_in_flight_requests_per_connection",
                "must be at least 1".into(),
            );
        }
        for (option, value, min) in [
            ("linger_ms", self.linger_ms, 0),
            ("request_timeout_ms", self.request_timeout_ms, 1),
            ("retry_backoff_ms", self.retry_backoff_ms, 0),
            ("metadata_max_age_ms", self.metadata_max_age_ms, 1),
            ("connections_max_idle_ms", self.connections_max_idle_ms, 1),
            ("max_block_ms", self.max_block_ms, 0),
            ("transaction_timeout_ms", self.transaction_timeout_ms, 1),
            ("reconnect_backoff_ms", self.reconnect_backoff_ms, 0),
        ] {
            if value < min || value > MAX_DURATION_MS {
                return err(
                    option,
                    format!("must be between {min} and {MAX_DURATION_MS} ms, got {value}"),
                );
            }
        }
        if self.security_protocol != SecurityProtocol::Plaintext {
            return err(
                "security_protocol",
                format!(
                    "{} is not supported yet: only PLAINTEXT is (TLS and SASL come later)",
                    self.security_protocol
                ),
            );
        }
        Ok(())
    }
}

/// Options already given, with the key they were given as.
#[derive(Default)]
struct Seen(HashMap<Opt, String>);

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawValueVisitor)
    }
}

/// Accepts strings, numbers, booleans, null and lists of scalars.
struct RawValueVisitor;

impl<'de> Visitor<'de> for RawValueVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean, null or list of strings")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawValue, D::Error> {
        RawValue::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<RawValue>()? {
            match item {
                RawValue::Scalar(text) => items.push(text),
                _ => return Err(de::Error::custom("a list may only hold strings or numbers")),
            }
        }
        Ok(RawValue::List(items))
    }
}

/// Builds a [`ProducerConfig`] from a map, key by key, through [`ProducerConfig::set`]'s
/// name table.
struct ConfigVisitor;

impl<'de> Visitor<'de> for ConfigVisitor {
    type Value = ProducerConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of producer options")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ProducerConfig, A::Error> {
        let mut config = ProducerConfig::default();
        let mut seen = Seen::default();
        while let Some(key) = map.next_key::<String>()? {
            let value: RawValue = map.next_value()?;
            config
                .apply_once(&mut seen, &key, value)
                .map_err(de::Error::custom)?;
        }
        Ok(config)
    }
}

impl<'de> Deserialize<'de> for ProducerConfig {
    /// Reads a map of options: keys in either spelling, values as strings, numbers,
    /// booleans or null (the default); `bootstrap_servers` may be a list. Unknown keys
    /// and options given twice are errors; Java serializer properties are ignored.
    /// The result is not validated: call [`ProducerConfig::validate`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ConfigVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_error<T: fmt::Debug>(result: Result<T, ProducerError>) -> (String, String) {
        match result {
            Err(ProducerError::Config { option, reason }) => (option, reason),
            other => panic!("expected a Config error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_aiokafkas() {
        let c = ProducerConfig::default();
        assert_eq!(c.bootstrap_servers, "localhost:9092");
        assert_eq!(c.client_id, "actix-kafka");
        assert_eq!(c.acks, None);
        assert_eq!(c.effective_acks(), Acks::Leader);
        assert_eq!(c.compression_type, Compression::None);
        assert_eq!(c.max_batch_size, 16384);
        assert_eq!(c.linger_ms, 0);
        assert_eq!(c.max_request_size, 1_048_576);
        assert_eq!(c.request_timeout_ms, 40_000);
        assert_eq!(c.retry_backoff_ms, 100);
        assert_eq!(c.metadata_max_age_ms, 300_000);
        assert_eq!(c.connections_max_idle_ms, 540_000);
        assert_eq!(c.partitioner, PartitionerKind::Default);
        assert_eq!(c.buffer_memory, 33_554_432);
        assert_eq!(c.max_block_ms, 60_000);
        assert!(!c.enable_idempotence);
        assert_eq!(c.transactional_id, None);
        assert_eq!(c.transaction_timeout_ms, 60_000);
        assert_eq!(c.max_in_flight_requests_per_connection, 5);
        assert_eq!(c.reconnect_backoff_ms, 50);
        assert_eq!(c.security_protocol, SecurityProtocol::Plaintext);
        assert_eq!(c.sasl_mechanism, SaslMechanism::Plain);
        assert_eq!(c.sasl_plain_username, None);
        assert_eq!(c.sasl_plain_password, None);
        assert!(!c.is_idempotent());
        assert!(!c.is_transactional());
        c.validate().expect("the defaults are valid");
    }

    #[test]
    fn new_sets_only_bootstrap_servers() {
        let c = ProducerConfig::new("k1:9092,k2:9093");
        assert_eq!(
            c,
            ProducerConfig {
                bootstrap_servers: "k1:9092,k2:9093".into(),
                ..Default::default()
            }
        );
        assert_eq!(c.bootstrap_addresses(), ["k1:9092", "k2:9093"]);
    }

    #[test]
    fn duration_helpers() {
        let c = ProducerConfig {
            linger_ms: 7,
            max_block_ms: 9,
            ..Default::default()
        };
        assert_eq!(c.linger(), Duration::from_millis(7));
        assert_eq!(c.max_block(), Duration::from_millis(9));
        assert_eq!(c.request_timeout(), Duration::from_secs(40));
        assert_eq!(c.retry_backoff(), Duration::from_millis(100));
        assert_eq!(c.metadata_max_age(), Duration::from_secs(300));
        assert_eq!(c.connections_max_idle(), Duration::from_secs(540));
        assert_eq!(c.transaction_timeout(), Duration::from_secs(60));
        assert_eq!(c.reconnect_backoff(), Duration::from_millis(50));
    }

    #[test]
    fn serde_snake_case_names() {
        let c: ProducerConfig = serde_json::from_str(
            r#"{
                "bootstrap_servers": "k1:9092",
                "client_id": "svc",
                "acks": "all",
                "compression_type": "zstd",
                "max_batch_size": 65536,
                "linger_ms": 5,
                "max_request_size": 2097152,
                "request_timeout_ms": 30000,
                "retry_backoff_ms": 200,
                "metadata_max_age_ms": 60000,
                "connections_max_idle_ms": 100000,
                "partitioner": "default",
                "buffer_memory": 1048576,
                "max_block_ms": 1000,
                "enable_idempotence": true,
                "transactional_id": "tx-1",
                "transaction_timeout_ms": 30000,
                "max_in_flight_requests_per_connection": 3,
                "reconnect_backoff_ms": 10,
                "security_protocol": "PLAINTEXT",
                "sasl_mechanism": "SCRAM-SHA-512",
                "sasl_plain_username": "u",
                "sasl_plain_password": "p"
            }"#,
        )
        .unwrap();
        let expected = ProducerConfig {
            bootstrap_servers: "k1:9092".into(),
            client_id: "svc".into(),
            acks: Some(Acks::All),
            compression_type: Compression::Zstd,
            max_batch_size: 65536,
            linger_ms: 5,
            max_request_size: 2_097_152,
            request_timeout_ms: 30_000,
            retry_backoff_ms: 200,
            metadata_max_age_ms: 60_000,
            connections_max_idle_ms: 100_000,
            partitioner: PartitionerKind::Default,
            buffer_memory: 1_048_576,
            max_block_ms: 1000,
            enable_idempotence: true,
            transactional_id: Some("tx-1".into()),
            transaction_timeout_ms: 30_000,
            max_in_flight_requests_per_connection: 3,
            reconnect_backoff_ms: 10,
            security_protocol: SecurityProtocol::Plaintext,
            sasl_mechanism: SaslMechanism::ScramSha512,
            sasl_plain_username: Some("u".into()),
            sasl_plain_password: Some("p".into()),
        };
        assert_eq!(c, expected);
        c.validate().unwrap();
    }

    #[test]
    fn serde_dotted_java_names_with_string_values() {
        let c: ProducerConfig = serde_json::from_str(
            r#"{
                "bootstrap.servers": "k1:9092, k2:9092",
                "client.id": "svc",
                "acks": "-1",
                "compression.type": "lz4",
                "batch.size": "32768",
                "linger.ms": "20",
                "max.request.size": "2097152",
                "request.timeout.ms": "15000",
                "retry.backoff.ms": "250",
                "metadata.max.age.ms": "120000",
                "connections.max.idle.ms": "60000",
                "partitioner.class": "org.apache.kafka.clients.producer.internals.DefaultPartitioner",
                "buffer.memory": "67108864",
                "max.block.ms": "5000",
                "enable.idempotence": "true",
                "transactional.id": "tx",
                "transaction.timeout.ms": "90000",
                "max.in.flight.requests.per.connection": "1",
                "reconnect.backoff.ms": "75",
                "security.protocol": "plaintext",
                "sasl.mechanism": "SCRAM-SHA-256",
                "key.serializer": "org.apache.kafka.common.serialization.ByteArraySerializer",
                "value.serializer": "org.apache.kafka.common.serialization.ByteArraySerializer"
            }"#,
        )
        .unwrap();
        assert_eq!(c.bootstrap_addresses(), ["k1:9092", "k2:9092"]);
        assert_eq!(c.client_id, "svc");
        assert_eq!(c.acks, Some(Acks::All));
        assert_eq!(c.compression_type, Compression::Lz4);
        assert_eq!(c.max_batch_size, 32768);
        assert_eq!(c.linger_ms, 20);
        assert_eq!(c.max_request_size, 2_097_152);
        assert_eq!(c.request_timeout_ms, 15_000);
        assert_eq!(c.retry_backoff_ms, 250);
        assert_eq!(c.metadata_max_age_ms, 120_000);
        assert_eq!(c.connections_max_idle_ms, 60_000);
        assert_eq!(c.partitioner, PartitionerKind::Default);
        assert_eq!(c.buffer_memory, 67_108_864);
        assert_eq!(c.max_block_ms, 5000);
        assert!(c.enable_idempotence);
        assert_eq!(c.transactional_id.as_deref(), Some("tx"));
        assert_eq!(c.transaction_timeout_ms, 90_000);
        assert_eq!(c.max_in_flight_requests_per_connection, 1);
        assert_eq!(c.reconnect_backoff_ms, 75);
        assert_eq!(c.sasl_mechanism, SaslMechanism::ScramSha256);
        c.validate().unwrap();
    }

    #[test]
    fn serde_numbers_booleans_lists_and_null() {
        let c: ProducerConfig = serde_json::from_str(
            r#"{"bootstrap_servers": ["k1:9092", "[::1]:9093"], "acks": -1, "linger_ms": 5,
                "enable_idempotence": true, "transactional_id": null, "client_id": null}"#,
        )
        .unwrap();
        assert_eq!(c.bootstrap_servers, "k1:9092,[::1]:9093");
        assert_eq!(c.bootstrap_addresses(), ["k1:9092", "[::1]:9093"]);
        assert_eq!(c.acks, Some(Acks::All));
        assert_eq!(c.linger_ms, 5);
        assert!(c.enable_idempotence);
        assert_eq!(c.transactional_id, None);
        assert_eq!(c.client_id, "actix-kafka");
        c.validate().unwrap();

        let c: ProducerConfig = serde_json::from_str(r#"{"acks": 0}"#).unwrap();
        assert_eq!(c.acks, Some(Acks::None));
        let c: ProducerConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, ProducerConfig::default());
    }

    #[test]
    fn serde_errors_name_the_key() {
        let cases = [
            (r#"{"linger_ms": "soon"}"#, "linger_ms"),
            (r#"{"linger.ms": -1}"#, "linger.ms"),
            (r#"{"batch.size": 1.5}"#, "batch.size"),
            (r#"{"enable_idempotence": "yes"}"#, "enable_idempotence"),
            (r#"{"compression_type": "brotli"}"#, "compression_type"),
            (r#"{"acks": 2}"#, "acks"),
            (r#"{"linger_ms": [1, 2]}"#, "linger_ms"),
            (r#"{"lingerms": 1}"#, "lingerms"),
            (r#"{"retries": 3}"#, "retries"),
            (r#"{"linger_ms": 1, "linger.ms": 2}"#, "linger.ms"),
        ];
        for (json, key) in cases {
            let error = serde_json::from_str::<ProducerConfig>(json)
                .expect_err(json)
                .to_string();
            assert!(error.contains(&format!("`{key}`")), "{json}: {error}");
        }
        let error =
            serde_json::from_str::<ProducerConfig>(r#"{"linger_ms": 1, "linger.ms": 2}"#).unwrap_err();
        assert!(error.to_string().contains("more than once"), "{error}");
    }

    #[test]
    fn serde_works_inside_a_larger_config() {
        #[derive(serde::Deserialize)]
        struct App {
            name: String,
            producer: ProducerConfig,
        }
        let app: App = serde_json::from_str(
            r#"{"name": "svc", "producer": {"bootstrap.servers": "k:1", "acks": "all"}}"#,
        )
        .unwrap();
        assert_eq!(app.name, "svc");
        assert_eq!(app.producer.bootstrap_servers, "k:1");
        assert_eq!(app.producer.acks, Some(Acks::All));
    }

    #[test]
    fn from_properties_mixes_spellings_and_ignores_serializers() {
        let c = ProducerConfig::from_properties([
            ("bootstrap.servers", "k1:9092"),
            ("linger_ms", "10"),
            ("compression.type", "GZIP"),
            ("acks", "all"),
            (
                "key.serializer",
                "org.apache.kafka.common.serialization.StringSerializer",
            ),
            (
                "value.serializer",
                "org.apache.kafka.common.serialization.StringSerializer",
            ),
        ])
        .unwrap();
        assert_eq!(
            c,
            ProducerConfig {
                bootstrap_servers: "k1:9092".into(),
                linger_ms: 10,
                compression_type: Compression::Gzip,
                acks: Some(Acks::All),
                ..Default::default()
            }
        );
    }

    #[test]
    fn from_properties_rejects_unknown_and_duplicate_keys() {
        let (option, reason) = config_error(ProducerConfig::from_properties([("no.such.option", "1")]));
        assert_eq!(option, "no.such.option");
        assert!(reason.contains("unknown option"), "{reason}");

        let (option, reason) = config_error(ProducerConfig::from_properties([
            ("batch.size", "1"),
            ("max_batch_size", "2"),
        ]));
        assert_eq!(option, "max_batch_size");
        assert!(reason.contains("`batch.size`"), "{reason}");
    }

    #[test]
    fn known_java_properties_that_are_not_supported_say_why() {
        for (key, needle) in [
            ("retries", "request_timeout_ms"),
            ("delivery.timeout.ms", "request_timeout_ms"),
            ("ssl.truststore.location", "TLS"),
            ("interceptor.classes", "Java classes"),
        ] {
            let (option, reason) = config_error(ProducerConfig::default().set(key, "x"));
            assert_eq!(option, key);
            assert!(reason.contains(needle), "{key}: {reason}");
        }
    }

    #[test]
    fn unknown_key_errors_do_not_echo_the_value() {
        let error = ProducerConfig::default()
            .set("ssl.key.password", "hunter2")
            .unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
        let error = ProducerConfig::default().set("sasl.pass", "hunter2").unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
    }

    #[test]
    fn set_parse_errors_name_the_option_and_leave_the_config_unchanged() {
        for (key, value) in [
            ("linger.ms", "abc"),
            ("linger_ms", "-5"),
            ("batch.size", "1e3"),
            ("max.request.size", ""),
            ("buffer_memory", "lots"),
            ("request_timeout_ms", "1.5"),
            ("max_block_ms", "forever"),
            ("acks", "2"),
            ("acks", "leader"),
            ("compression.type", "brotli"),
            ("enable.idempotence", "yes"),
            (
                "partitioner.class",
                "org.apache.kafka.clients.producer.RoundRobinPartitioner",
            ),
            ("partitioner", "random"),
            ("security.protocol", "TLS"),
            ("sasl.mechanism", "GSSAPI"),
            ("max.in.flight.requests.per.connection", "many"),
            ("transaction.timeout.ms", "x"),
        ] {
            let mut config = ProducerConfig::default();
            let (option, reason) = config_error(config.set(key, value));
            assert_eq!(option, key, "{key}={value}: {reason}");
            assert_eq!(
                config,
                ProducerConfig::default(),
                "{key}={value} changed the config"
            );
        }
    }

    #[test]
    fn acks_parsing() {
        for (text, acks) in [
            ("0", Acks::None),
            ("1", Acks::Leader),
            ("-1", Acks::All),
            ("all", Acks::All),
        ] {
            assert_eq!(text.parse::<Acks>().unwrap(), acks);
        }
        assert_eq!("ALL".parse::<Acks>().unwrap(), Acks::All);
        assert_eq!(Acks::None.code(), 0);
        assert_eq!(Acks::Leader.code(), 1);
        assert_eq!(Acks::All.code(), -1);
        assert_eq!(Acks::All.to_string(), "all");
        assert_eq!(Acks::Leader.to_string(), "1");
    }

    #[test]
    fn idempotence_forces_acks_all() {
        let c = ProducerConfig {
            enable_idempotence: true,
            ..Default::default()
        };
        assert_eq!(c.acks, None);
        assert_eq!(c.effective_acks(), Acks::All);
        c.validate().unwrap();

        let explicit_all = ProducerConfig {
            acks: Some(Acks::All),
            ..c.clone()
        };
        explicit_all.validate().unwrap();

        // Without idempotence, an explicit acks is kept as is.
        let plain = ProducerConfig {
            acks: Some(Acks::None),
            ..Default::default()
        };
        assert_eq!(plain.effective_acks(), Acks::None);
        plain.validate().unwrap();
    }

    #[test]
    fn explicit_acks_other_than_all_with_idempotence_is_an_error() {
        for acks in [Acks::None, Acks::Leader] {
            let c = ProducerConfig {
                enable_idempotence: true,
                acks: Some(acks),
                ..Default::default()
            };
            let (option, reason) = config_error(c.validate());
            assert_eq!(option, "acks");
            assert!(reason.contains("idempotence"), "{reason}");
        }
        let c = ProducerConfig::from_properties([("enable.idempotence", "true"), ("acks", "1")]).unwrap();
        assert_eq!(config_error(c.validate()).0, "acks");
    }

    #[test]
    fn transactional_id_implies_idempotence() {
        let c = ProducerConfig {
            transactional_id: Some("tx".into()),
            ..Default::default()
        };
        assert!(!c.enable_idempotence);
        assert!(c.is_idempotent());
        assert!(c.is_transactional());
        assert_eq!(c.effective_acks(), Acks::All);
        c.validate().unwrap();

        let with_acks_1 = ProducerConfig {
            acks: Some(Acks::Leader),
            ..c.clone()
        };
        assert_eq!(config_error(with_acks_1.validate()).0, "acks");

        let too_many_in_flight = ProducerConfig {
            max_in_flight_requests_per_connection: 6,
            ..c.clone()
        };
        assert_eq!(
            config_error(too_many_in_flight.validate()).0,
            "max_in_flight_requests_per_connection"
        );

        // Six in flight is fine without idempotence.
        ProducerConfig {
            max_in_flight_requests_per_connection: 6,
            ..Default::default()
        }
        .validate()
        .unwrap();
    }

    #[test]
    fn each_invalid_value_is_reported_with_its_option() {
        let base = ProducerConfig::default;
        let cases: Vec<(&str, ProducerConfig)> = vec![
            ("bootstrap_servers", ProducerConfig::new("")),
            ("bootstrap_servers", ProducerConfig::new(" , ,")),
            ("bootstrap_servers", ProducerConfig::new("localhost")),
            ("bootstrap_servers", ProducerConfig::new("localhost:")),
            ("bootstrap_servers", ProducerConfig::new("localhost:abc")),
            ("bootstrap_servers", ProducerConfig::new("localhost:0")),
            ("bootstrap_servers", ProducerConfig::new("localhost:70000")),
            ("bootstrap_servers", ProducerConfig::new(":9092")),
            ("bootstrap_servers", ProducerConfig::new("k1:9092,bad")),
            ("bootstrap_servers", ProducerConfig::new("::1:9092")),
            ("bootstrap_servers", ProducerConfig::new("[::1]9092")),
            ("bootstrap_servers", ProducerConfig::new("PLAINTEXT://k1:9092")),
            (
                "client_id",
                ProducerConfig {
                    client_id: "x".repeat(40_000),
                    ..base()
                },
            ),
            (
                "transactional_id",
                ProducerConfig {
                    transactional_id: Some(String::new()),
                    ..base()
                },
            ),
            (
                "transactional_id",
                ProducerConfig {
                    transactional_id: Some("x".repeat(40_000)),
                    ..base()
                },
            ),
            (
                "max_batch_size",
                ProducerConfig {
                    max_batch_size: 0,
                    ..base()
                },
            ),
            (
                "max_request_size",
                ProducerConfig {
                    max_request_size: 0,
                    ..base()
                },
            ),
            (
                "max_request_size",
                ProducerConfig {
                    max_request_size: MAX_SIZE + 1,
                    ..base()
                },
            ),
            (
                "buffer_memory",
                ProducerConfig {
                    buffer_memory: 0,
                    ..base()
                },
            ),
            (
                "max_in_flight_requests_per_connection",
                ProducerConfig {
                    max_in_flight_requests_per_connection: 0,
                    ..base()
                },
            ),
            (
                "linger_ms",
                ProducerConfig {
                    linger_ms: MAX_DURATION_MS + 1,
                    ..base()
                },
            ),
            (
                "request_timeout_ms",
                ProducerConfig {
                    request_timeout_ms: 0,
                    ..base()
                },
            ),
            (
                "request_timeout_ms",
                ProducerConfig {
                    request_timeout_ms: u64::MAX,
                    ..base()
                },
            ),
            (
                "retry_backoff_ms",
                ProducerConfig {
                    retry_backoff_ms: u64::MAX,
                    ..base()
                },
            ),
            (
                "metadata_max_age_ms",
                ProducerConfig {
                    metadata_max_age_ms: 0,
                    ..base()
                },
            ),
            (
                "connections_max_idle_ms",
                ProducerConfig {
                    connections_max_idle_ms: 0,
                    ..base()
                },
            ),
            (
                "max_block_ms",
                ProducerConfig {
                    max_block_ms: u64::MAX,
                    ..base()
                },
            ),
            (
                "transaction_timeout_ms",
                ProducerConfig {
                    transaction_timeout_ms: 0,
                    ..base()
                },
            ),
            (
                "reconnect_backoff_ms",
                ProducerConfig {
                    reconnect_backoff_ms: MAX_DURATION_MS + 1,
                    ..base()
                },
            ),
            (
                "security_protocol",
                ProducerConfig {
                    security_protocol: SecurityProtocol::SaslSsl,
                    ..base()
                },
            ),
            (
                "security_protocol",
                ProducerConfig {
                    security_protocol: SecurityProtocol::Ssl,
                    ..base()
                },
            ),
        ];
        for (expected, config) in cases {
            let (option, reason) = config_error(config.validate());
            assert_eq!(option, expected, "{reason}");
            assert!(!reason.is_empty());
        }
    }

    #[test]
    fn valid_edge_values_pass() {
        for config in [
            ProducerConfig::new("[::1]:9092"),
            ProducerConfig::new(" k1:9092 , k2:9093 ,"),
            ProducerConfig::new("broker-1.example.com:65535"),
            ProducerConfig {
                max_batch_size: 1,
                max_request_size: 1,
                buffer_memory: 1,
                ..Default::default()
            },
            ProducerConfig {
                linger_ms: MAX_DURATION_MS,
                max_block_ms: 0,
                retry_backoff_ms: 0,
                ..Default::default()
            },
            ProducerConfig {
                max_batch_size: 10 * 1_048_576,
                ..Default::default()
            },
        ] {
            config.validate().unwrap_or_else(|e| panic!("{config:?}: {e}"));
        }
    }

    #[test]
    fn security_protocols_parse_but_only_plaintext_validates() {
        let mut c = ProducerConfig::default();
        c.set("security.protocol", "sasl_ssl").unwrap();
        assert_eq!(c.security_protocol, SecurityProtocol::SaslSsl);
        let (_, reason) = config_error(c.validate());
        assert!(
            reason.contains("SASL_SSL") && reason.contains("not supported yet"),
            "{reason}"
        );
    }

    #[test]
    fn debug_redacts_the_password() {
        let c = ProducerConfig {
            sasl_plain_username: Some("alice".into()),
            sasl_plain_password: Some("hunter2".into()),
            ..Default::default()
        };
        let text = format!("{c:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
        assert!(text.contains("alice"), "{text}");
        let pretty = format!("{c:#?}");
        assert!(!pretty.contains("hunter2"), "{pretty}");
        assert!(format!("{:?}", ProducerConfig::default()).contains("sasl_plain_password: None"));
    }

    #[test]
    fn sasl_jaas_config_sets_username_and_password() {
        let mut c = ProducerConfig::default();
        c.set(
            "sasl.jaas.config",
            r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="p\"w d";"#,
        )
        .unwrap();
        assert_eq!(c.sasl_plain_username.as_deref(), Some("alice"));
        assert_eq!(c.sasl_plain_password.as_deref(), Some("p\"w d"));

        c.set(
            "sasl.jaas.config",
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=bob password=secret;",
        )
        .unwrap();
        assert_eq!(c.sasl_plain_username.as_deref(), Some("bob"));
        assert_eq!(c.sasl_plain_password.as_deref(), Some("secret"));

        for bad in [
            r#"com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true password="hunter2";"#,
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="u";"#,
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="hunter2"#,
            r#"org.apache.kafka.common.security.plain.PlainLoginModule username="u" password="hunter2";"#,
        ] {
            let mut c = ProducerConfig::default();
            let error = c.set("sasl.jaas.config", bad).unwrap_err();
            assert!(!error.to_string().contains("hunter2"), "{error}");
            assert_eq!(config_error::<()>(Err(error)).0, "sasl.jaas.config");
            assert_eq!(c, ProducerConfig::default());
        }
    }

    #[test]
    fn docs_list_every_option_and_ignored_property() {
        let docs = include_str!("../../../docs/configuration.md");
        for (name, aliases, _) in OPTIONS {
            assert!(
                docs.contains(&format!("`{name}`")),
                "docs/configuration.md lacks `{name}`"
            );
            for alias in *aliases {
                assert!(
                    docs.contains(&format!("`{alias}`")),
                    "docs/configuration.md lacks `{alias}`"
                );
            }
        }
        for name in IGNORED_JAVA_PROPERTIES {
            assert!(
                docs.contains(&format!("`{name}`")),
                "docs/configuration.md lacks `{name}`"
            );
        }
        for (name, _) in UNSUPPORTED_JAVA_PROPERTIES {
            assert!(
                docs.contains(&format!("`{name}`")),
                "docs/configuration.md lacks `{name}`"
            );
        }
    }
}
