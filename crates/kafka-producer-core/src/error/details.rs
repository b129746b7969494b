//! The typed details some [`ProducerError`](super::ProducerError) variants
//! carry instead of a free-text reason: match on them, or print them.

use std::fmt;

use kafka_wire::api::ApiKey;
use kafka_wire::record::BatchError;
use kafka_wire::{DecodeError, EncodeError, ErrorCode};

/// A broker, as errors name it: its node id from the cluster metadata, or a
/// bootstrap server before any broker is known (numbered from 1 in the order
/// of `bootstrap_servers`; the producer uses node ids -1, -2, ... for them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BrokerId(pub i32);

impl BrokerId {
    /// Whether this is a bootstrap server rather than a node of the cluster.
    pub fn is_bootstrap(self) -> bool {
        self.0 < 0
    }
}

impl fmt::Display for BrokerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_bootstrap() {
            write!(f, "bootstrap server #{}", -i64::from(self.0))
        } else {
            write!(f, "node {}", self.0)
        }
    }
}

impl From<i32> for BrokerId {
    fn from(node_id: i32) -> Self {
        BrokerId(node_id)
    }
}

/// Why a topic name is not a valid Kafka topic name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicNameError {
    /// The name is empty.
    #[error("the name is empty")]
    Empty,
    /// `.` and `..` are reserved.
    #[error("\".\" and \"..\" are not topic names")]
    Dots,
    /// Longer than Kafka's 249 characters.
    #[error("the name has {length} characters, more than 249")]
    TooLong {
        /// Its length in bytes.
        length: usize,
    },
    /// A character other than ASCII letters, digits, `.`, `_` and `-`.
    #[error("{character:?} is not allowed (only ASCII letters, digits, '.', '_' and '-')")]
    IllegalCharacter {
        /// The first such character.
        character: char,
    },
}

/// Why a record batch could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeFailure {
    /// A batch built with `create_batch` holds no record.
    #[error("a batch needs at least one record")]
    EmptyBatch,
    /// A key, value or header is larger than a record can express.
    #[error("a record field of {length} bytes is larger than the protocol allows")]
    FieldTooLarge {
        /// Its length in bytes.
        length: usize,
    },
    /// The batch would hold more than `i32::MAX` records or bytes.
    #[error("the batch is larger than the protocol allows")]
    BatchTooLarge,
    /// The compression codec failed; the codec's own message.
    #[error("compression failed: {message}")]
    Compression {
        /// What the codec said.
        message: String,
    },
}

impl From<&BatchError> for EncodeFailure {
    fn from(error: &BatchError) -> Self {
        match error {
            BatchError::Empty => EncodeFailure::EmptyBatch,
            BatchError::FieldTooLarge { len } => EncodeFailure::FieldTooLarge { length: *len },
            BatchError::BatchTooLarge => EncodeFailure::BatchTooLarge,
            BatchError::Compression(codec) => EncodeFailure::Compression {
                message: codec.to_string(),
            },
            other => EncodeFailure::Compression {
                message: other.to_string(),
            },
        }
    }
}

/// An I/O error, kept as its kind and message so that errors stay `Clone`
/// and `Eq` (one batch's error is cloned to each of its records).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct IoFailure {
    /// The kind, to match on.
    pub kind: std::io::ErrorKind,
    /// What the operating system said.
    pub message: String,
}

impl From<&std::io::Error> for IoFailure {
    fn from(error: &std::io::Error) -> Self {
        IoFailure {
            kind: error.kind(),
            message: error.to_string(),
        }
    }
}

/// Why a connection to a broker could not be established. Nothing was sent on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectFailure {
    /// Resolving the address or the TCP connect failed.
    #[error("{0}")]
    Io(#[source] IoFailure),
    /// The TCP connect took longer than the connect timeout.
    #[error("connect timed out after {after_ms} ms")]
    TimedOut {
        /// The timeout (milliseconds).
        after_ms: u64,
    },
    /// The connection opened, but the `ApiVersions` exchange failed.
    #[error("ApiVersions: {0}")]
    Negotiation(#[source] NegotiationFailure),
    /// No broker of the bootstrap list or the cluster could be reached (the
    /// metadata refresh that would have named one failed too).
    #[error("no broker answered")]
    NoBrokerAnswered,
    /// The TLS handshake failed (`security_protocol` `SSL` or `SASL_SSL`).
    #[error("TLS: {0}")]
    Tls(#[source] TlsFailure),
    /// SASL authentication failed (`security_protocol` `SASL_PLAINTEXT` or
    /// `SASL_SSL`).
    #[error("SASL: {0}")]
    Sasl(#[source] super::AuthenticationFailure),
    /// No credentials could be obtained for SASL: the OAUTHBEARER token
    /// provider failed (or the OS random number generator did). Retried.
    #[error("no SASL credentials: {reason}")]
    CredentialsUnavailable {
        /// What the provider said.
        reason: String,
    },
}

impl ConnectFailure {
    /// Whether the broker refused who we are, or we refused who it is: a TLS
    /// certificate or handshake failure, or a SASL authentication failure.
    /// As in the Java client (`AuthenticationException`), these are not
    /// retried: no attempt can succeed until the configuration changes.
    pub fn is_authentication(&self) -> bool {
        match self {
            ConnectFailure::Tls(tls) => tls.is_authentication(),
            ConnectFailure::Sasl(sasl) => !sasl.is_retriable(),
            ConnectFailure::Negotiation(NegotiationFailure::TlsAnswer) => true,
            _ => false,
        }
    }
}

/// Why the TLS handshake with a broker failed. The certificate variants say
/// what the verifier found; the others what the connection did.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsFailure {
    /// The broker's certificate chain does not lead to a trusted CA (set
    /// `ssl_ca_location` / `ssl_ca_pem` to the CA that signed it).
    #[error("the broker's certificate is not signed by a trusted CA")]
    UnknownIssuer,
    /// The broker's certificate is not valid for the name the producer
    /// connected to (the host of the broker's advertised address).
    #[error("the broker's certificate is for {presented:?}, not {expected:?}")]
    NameMismatch {
        /// The host name or IP address the producer verified against.
        expected: String,
        /// The names the certificate holds (its subject alternative names).
        presented: Vec<String>,
    },
    /// The broker's certificate has expired.
    #[error("the broker's certificate expired{}", unix_time_suffix(*.not_after_unix_s, "at"))]
    Expired {
        /// Its `notAfter`, in seconds since the Unix epoch, when known.
        not_after_unix_s: Option<u64>,
    },
    /// The broker's certificate is not valid yet.
    #[error("the broker's certificate is not valid yet{}", unix_time_suffix(*.not_before_unix_s, "before"))]
    NotYetValid {
        /// Its `notBefore`, in seconds since the Unix epoch, when known.
        not_before_unix_s: Option<u64>,
    },
    /// Another problem with the broker's certificate (bad encoding or
    /// signature, wrong key usage, revoked, ...), as the verifier says.
    #[error("the broker's certificate was refused: {reason}")]
    BadCertificate {
        /// The verifier's reason.
        reason: String,
    },
    /// The broker ended the handshake with a TLS alert: most often it
    /// requires a client certificate (mTLS) and none or a wrong one was sent.
    #[error("the broker refused the handshake (TLS alert {alert})")]
    AlertReceived {
        /// The alert's name, e.g. `CertificateRequired`, `BadCertificate`.
        alert: String,
    },
    /// The broker did not answer in TLS: most likely a `PLAINTEXT` or
    /// `SASL_PLAINTEXT` listener (set `security_protocol` accordingly).
    #[error("the broker did not answer in TLS ({detail}); is this a plaintext listener?")]
    NotTls {
        /// What was wrong with the answer.
        detail: String,
    },
    /// The connection closed during the handshake. A plaintext listener does
    /// this: it reads the TLS hello as an oversized request and hangs up.
    /// Retried, as the Java client retries an end of stream.
    #[error("the connection closed during the TLS handshake; is this a plaintext listener?")]
    ClosedDuringHandshake,
    /// Another handshake failure (no common protocol version or cipher
    /// suite, a misbehaving peer), as rustls says.
    #[error("handshake failed: {reason}")]
    Handshake {
        /// rustls' reason.
        reason: String,
    },
    /// The handshake took longer than the connect timeout.
    #[error("handshake timed out after {after_ms} ms")]
    TimedOut {
        /// The timeout (milliseconds).
        after_ms: u64,
    },
    /// Reading or writing the socket failed during the handshake.
    #[error("{0}")]
    Io(#[source] IoFailure),
}

impl TlsFailure {
    /// Whether this is an authentication failure (certificate refused either
    /// way, or no TLS at all), which is not retried; the other failures
    /// (timeouts, I/O, an early close) are retried.
    pub fn is_authentication(&self) -> bool {
        !matches!(
            self,
            TlsFailure::ClosedDuringHandshake | TlsFailure::TimedOut { .. } | TlsFailure::Io(_)
        )
    }
}

fn unix_time_suffix(seconds: Option<u64>, word: &str) -> String {
    seconds.map_or_else(String::new, |s| format!(" ({word} {s} s after the Unix epoch)"))
}

/// Why the `ApiVersions` exchange that opens every connection failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationFailure {
    /// No answer within the request timeout.
    #[error("no answer within {after_ms} ms")]
    NoAnswer {
        /// The timeout (milliseconds).
        after_ms: u64,
    },
    /// Writing the request failed.
    #[error("writing the request: {0}")]
    Write(#[source] IoFailure),
    /// The connection ended before the answer.
    #[error("reading the answer: {0}")]
    Read(#[source] Disconnect),
    /// The answer's frame or body could not be decoded.
    #[error("undecodable answer: {0}")]
    Undecodable(#[source] DecodeError),
    /// The answer was for another request.
    #[error("the answer has correlation id {got}, expected {expected}")]
    WrongCorrelationId {
        /// The id in the answer.
        got: i32,
        /// The id of the request.
        expected: i32,
    },
    /// The broker answered with an error code.
    #[error("v{version} failed with {code}")]
    Refused {
        /// The version asked.
        version: i16,
        /// The broker's code.
        code: ErrorCode,
    },
    /// The request could not be encoded (a bug: it has no user input).
    #[error("the request could not be encoded: {0}")]
    Encode(#[source] EncodeError),
    /// The broker answered in TLS: this is an `SSL` or `SASL_SSL` listener,
    /// and `security_protocol` says plaintext. Not retried.
    #[error("the broker answered in TLS; set security_protocol to SSL or SASL_SSL for this listener")]
    TlsAnswer,
}

/// Why a connection ended while requests were in flight on it. Their
/// outcome is unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Disconnect {
    /// The broker closed the connection (end of stream).
    #[error("the broker closed the connection")]
    ClosedByBroker,
    /// Reading failed.
    #[error("read failed: {0}")]
    Read(#[source] IoFailure),
    /// Writing failed.
    #[error("write failed: {0}")]
    Write(#[source] IoFailure),
    /// Another request on the connection timed out, so the connection was
    /// closed: its stream can no longer be trusted.
    #[error("closed after a request on it timed out")]
    AfterTimeout,
    /// Another response on the connection was unusable, so it was closed.
    #[error("closed after a protocol error on another request: {0}")]
    AfterProtocolError(#[source] ProtocolViolation),
    /// The connection closed while an `acks = 0` request was being written.
    #[error("closed while the acks=0 request was being written")]
    DuringAcksZeroWrite,
    /// The connection's actor stopped (the producer is stopping).
    #[error("the connection stopped")]
    ConnectionStopped,
    /// The producer stopped before the answer arrived.
    #[error("the producer stopped before the response")]
    ProducerStopped,
}

/// What was wrong with a broker's answer, or why a request could not be
/// made to it at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolViolation {
    /// The response framing is broken (for example a frame above
    /// `max_frame_size`).
    #[error("bad response frame: {0}")]
    Frame(#[source] DecodeError),
    /// A response too short to hold its header.
    #[error("response without a header: {0}")]
    NoHeader(#[source] DecodeError),
    /// A response whose correlation id matches no request in flight.
    #[error("response with unknown correlation id {0}")]
    UnknownCorrelationId(i32),
    /// A response that is not for the oldest request in flight: Kafka
    /// answers a connection's requests in order, so the stream cannot be
    /// trusted.
    #[error("response with correlation id {got} while {expected} was due (Kafka answers in order)")]
    OutOfOrder {
        /// The id in the response.
        got: i32,
        /// The id of the oldest request in flight.
        expected: i32,
    },
    /// A response that does not decode as the answer to its request.
    #[error("undecodable {api:?} v{version} response: {error}")]
    Undecodable {
        /// The API.
        api: ApiKey,
        /// The version of the request.
        version: i16,
        /// What the decoder found.
        #[source]
        error: DecodeError,
    },
    /// A Produce response without a result for a partition that was sent.
    #[error("the response has no result for partition {partition} of {topic:?}")]
    MissingPartition {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
    },
    /// A Produce response with two results for one partition that was
    /// sent: which one is true cannot be known, so neither is used.
    #[error("the response has two results for partition {partition} of {topic:?}")]
    DuplicatePartition {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
    },
    /// InitProducerId answered without an error but with no usable
    /// producer id or epoch (negative): idempotence cannot work with it.
    #[error("InitProducerId gave producer id {producer_id} and epoch {epoch} without an error")]
    InvalidProducerId {
        /// The id answered.
        producer_id: i64,
        /// The epoch answered.
        epoch: i16,
    },
    /// A FindCoordinator response that names no coordinator.
    #[error("FindCoordinator named no coordinator for {key:?}")]
    NoCoordinator {
        /// The transactional id or group asked about.
        key: String,
    },
    /// The broker supports no version of the API that this client speaks
    /// (here). The request was not sent.
    #[error("no common version of {api:?}")]
    NoCommonVersion {
        /// The API.
        api: ApiKey,
    },
    /// The request could not be encoded. It was not sent.
    #[error("the request could not be encoded: {0}")]
    Unencodable(#[source] EncodeError),
    /// A request the broker never answers (`acks = 0` Produce) was sent as a
    /// call that waits for an answer. It was not sent.
    #[error("an acks=0 produce request gets no response; send it as a produce batch")]
    NoResponseExpected,
}

/// What is wrong with a configuration option (inside
/// [`ProducerError::Config`](super::ProducerError::Config), which names the
/// option). The texts never repeat a value that may be a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigProblem {
    /// No option or known Kafka property has this name.
    #[error(
        "unknown option (expected an aiokafka snake_case name or a Kafka producer property; \
         see docs/configuration.md)"
    )]
    UnknownOption,
    /// A known Kafka property, or a value of one, that this producer cannot
    /// honour; the text says why and what to do instead.
    #[error("{why}")]
    Unsupported {
        /// Why, and what to do instead.
        why: String,
    },
    /// The same option was given twice, under these two spellings.
    #[error("given more than once (as `{first}` and `{second}`{})", sets_suffix(.sets))]
    GivenTwice {
        /// The spelling given first.
        first: String,
        /// The spelling given second.
        second: String,
        /// The option both set, when they are different spellings of it.
        sets: Option<&'static str>,
    },
    /// A list was given for an option that takes one value.
    #[error("expected a single value, not a list")]
    NotAList,
    /// The value cannot be read as the option's type.
    #[error("{expected}")]
    InvalidValue {
        /// What was expected (and, unless it may be a secret, what was given).
        expected: String,
    },
    /// The value breaks the option's rule (a range, a format, or a
    /// combination with another option).
    #[error("{rule}")]
    BrokenRule {
        /// The rule, as docs/configuration.md states it, with the value.
        rule: String,
    },
    /// The problem was reached through an alias of the option.
    #[error("{problem} (`{alias}` sets `{option}`)")]
    ViaAlias {
        /// The spelling the user wrote.
        alias: String,
        /// The option it sets.
        option: &'static str,
        /// What is wrong.
        #[source]
        problem: Box<ConfigProblem>,
    },
}

impl ConfigProblem {
    /// An [`InvalidValue`](Self::InvalidValue).
    pub fn invalid(expected: impl Into<String>) -> Self {
        ConfigProblem::InvalidValue {
            expected: expected.into(),
        }
    }

    /// A [`BrokenRule`](Self::BrokenRule).
    pub fn rule(rule: impl Into<String>) -> Self {
        ConfigProblem::BrokenRule { rule: rule.into() }
    }

    /// An [`Unsupported`](Self::Unsupported).
    pub fn unsupported(why: impl Into<String>) -> Self {
        ConfigProblem::Unsupported { why: why.into() }
    }
}

/// `", which both set `option`"`, or nothing.
fn sets_suffix(sets: &Option<&'static str>) -> String {
    sets.map(|option| format!(", which both set `{option}`"))
        .unwrap_or_default()
}

/// Which transactional call was made in the wrong state (inside
/// [`ProducerError::TransactionalMisuse`](super::ProducerError::TransactionalMisuse)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Misuse {
    /// A transaction call on a producer without `transactional_id`.
    #[error("transaction calls need a transactional_id")]
    NotTransactional,
    /// A send (or offsets) on a transactional producer with no transaction open.
    #[error("a transactional producer sends only inside a transaction (begin_transaction first)")]
    SendOutsideTransaction,
    /// `begin_transaction` with a transaction open.
    #[error("begin_transaction called while a transaction is open")]
    BeginInTransaction,
    /// `begin_transaction` while another `begin_transaction` is under way.
    #[error("begin_transaction called while another begin is under way")]
    BeginTwice,
    /// `begin_transaction` while the previous transaction is still ending.
    #[error("begin_transaction called while the previous transaction is ending")]
    BeginWhileEnding,
    /// `commit_transaction` with no transaction open.
    #[error("commit_transaction called without begin_transaction")]
    CommitWithoutBegin,
    /// `abort_transaction` with no transaction open.
    #[error("abort_transaction called without begin_transaction")]
    AbortWithoutBegin,
    /// A commit while an abort is under way, or the reverse.
    #[error("the transaction is already ending the other way")]
    EndingTheOtherWay,
    /// `send_offsets_to_transaction` with an empty group id.
    #[error("send_offsets_to_transaction needs a non-empty group id")]
    EmptyGroupId,
}
