//! The producer's error type, [`ProducerError`], and its classification.
//!
//! Every error says two things:
//!
//! * **its class** ([`ProducerError::class`]): how the caller should react. The
//!   classes mirror the Java client's: retriable (the producer already retried),
//!   abortable (this record or transaction failed, the producer goes on), fatal
//!   (the producer must be closed) and configuration (rejected before starting).
//! * **what it means for the data** ([`ProducerError::outcome`]): whether the
//!   record is certainly not in the log, may or may not be, or was appended
//!   without the requested durability. Each variant's documentation says the
//!   same in words; `docs/guarantees.md` is built from it.
//!
//! Broker error codes are classified in one place, [`class_of`], following the
//! Java producer (`Sender` and `TransactionManager`).
//!
//! `ProducerError` is `Clone` because one batch error is delivered to every record
//! of the batch; sources that are not `Clone` (such as `std::io::Error`) are kept
//! as their message.

use std::fmt;

use kafka_wire::api::ApiKey;
use kafka_wire::{DecodeError, ErrorCode};

mod auth;
mod details;
pub use auth::*;
pub use details::{
    BrokerId, ConfigProblem, ConnectFailure, Disconnect, EncodeFailure, IoFailure, Misuse,
    NegotiationFailure, ProtocolViolation, TlsFailure, TopicNameError,
};

/// How the caller should react to an error (mirrors the Java client's classification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// A transient condition (leader change, timeout, lost connection). The producer
    /// retries these itself until `request_timeout_ms`; a retriable error reaching
    /// the caller is the last error seen when that time ran out. Resending the
    /// record from the application may duplicate it, unless the producer is
    /// idempotent.
    Retriable,
    /// This record (or, for a transactional producer, the current transaction)
    /// failed, but the producer remains usable: abort the transaction if there is
    /// one, and carry on.
    Abortable,
    /// The producer cannot continue (it was fenced, is not authorized for the
    /// cluster or its transactional id, the broker is too old, or it is closed).
    /// Close it; a new producer is needed.
    Fatal,
    /// The configuration is invalid. Detected before anything is sent, when the
    /// producer is constructed.
    Configuration,
}

impl ErrorClass {
    /// The class's name in lower case: `"retriable"`, `"abortable"`, `"fatal"` or
    /// `"configuration"`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Retriable => "retriable",
            ErrorClass::Abortable => "abortable",
            ErrorClass::Fatal => "fatal",
            ErrorClass::Configuration => "configuration",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an error means for the record it is delivered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DataOutcome {
    /// The record is certainly not in the log: it never left the producer, or the
    /// broker rejected it without appending it.
    NotWritten,
    /// The outcome is unknown: the record may or may not have been written (a
    /// timeout, a lost connection, a garbled response, a leader change during the
    /// append). Resending it may duplicate it, unless the producer is idempotent.
    Unknown,
    /// The record was appended to the partition leader's log, but fewer replicas
    /// than `min.insync.replicas` acknowledged it (`NOT_ENOUGH_REPLICAS_AFTER_APPEND`).
    /// It is readable, and may be lost if the leader fails; resending it will
    /// duplicate it unless the producer is idempotent.
    AppendedToLeader,
    /// The record belonged to a transaction that was aborted. It may be in the log,
    /// but `read_committed` consumers never see it (`read_uncommitted` ones may).
    Aborted,
}

/// An error from the producer.
///
/// Each variant's documentation says what the error means for the data, and its
/// [`ErrorClass`]. The enum is `#[non_exhaustive]`: match on [`ProducerError::class`]
/// and [`ProducerError::outcome`] rather than listing every variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProducerError {
    /// A configuration option has an invalid value, is unknown, or conflicts with
    /// another option. Nothing was sent. Class: [`ErrorClass::Configuration`].
    #[error("invalid configuration option `{option}`: {problem}")]
    Config {
        /// The option, as it was spelled (snake_case or Kafka's dotted name).
        option: String,
        /// What is wrong with it.
        #[source]
        problem: ConfigProblem,
    },

    /// The serialized record is larger than `max_request_size` (or than
    /// `buffer_memory`). Detected before the record is enqueued: the record was not
    /// sent. Class: [`ErrorClass::Abortable`].
    #[error("record of {size} bytes is larger than the maximum of {max} bytes; it was not sent")]
    RecordTooLarge {
        /// The record's serialized size in bytes.
        size: usize,
        /// The limit it exceeds.
        max: usize,
    },

    /// The topic name is not a valid Kafka topic name: empty, longer than 249
    /// characters, `.` or `..`, or containing a character other than ASCII letters,
    /// digits, `.`, `_` and `-`. The record was not sent.
    /// Class: [`ErrorClass::Abortable`].
    #[error("invalid topic name {topic:?}: {reason}")]
    InvalidTopic {
        /// The rejected name.
        topic: String,
        /// Why it is invalid.
        #[source]
        reason: TopicNameError,
    },

    /// The record's explicit timestamp is negative. Kafka refuses such a
    /// batch as a whole (`INVALID_TIMESTAMP`), which would fail the other
    /// records that share it; Java's `ProducerRecord` refuses it too. The
    /// record was not sent. Class: [`ErrorClass::Abortable`].
    #[error("invalid timestamp {timestamp_ms}: a record's timestamp must be non-negative (or unset); the record was not sent")]
    InvalidTimestamp {
        /// The rejected timestamp (milliseconds).
        timestamp_ms: i64,
    },

    /// The brokers answered metadata requests, but the topic was not among the
    /// topics they know for the whole of `max_block_ms` (it does not exist and is not
    /// auto-created, or its metadata kept reporting an error). The record was not
    /// sent. Class: [`ErrorClass::Abortable`].
    #[error("topic {topic:?} not present in metadata after {waited_ms} ms; the record was not sent")]
    UnknownTopic {
        /// The topic.
        topic: String,
        /// How long the producer waited for it (milliseconds).
        waited_ms: u64,
    },

    /// No broker answered a metadata request within `max_block_ms` (the cluster is
    /// unreachable), so the producer could not learn the topic's partitions. This
    /// differs from [`ProducerError::UnknownTopic`], where brokers answered but did
    /// not know the topic. The record was not sent. Class: [`ErrorClass::Abortable`].
    #[error("no metadata from any broker within {waited_ms} ms; the record was not sent")]
    MetadataTimeout {
        /// How long the producer waited (milliseconds).
        waited_ms: u64,
    },

    /// The record asked for a partition the topic does not have. The record was not
    /// sent. Class: [`ErrorClass::Abortable`].
    #[error("partition {partition} of topic {topic:?} does not exist (the topic has {partitions} partitions); the record was not sent")]
    PartitionOutOfRange {
        /// The topic.
        topic: String,
        /// The requested partition.
        partition: i32,
        /// How many partitions the topic has (valid partitions are `0..partitions`).
        partitions: i32,
    },

    /// `buffer_memory` stayed full for `max_block_ms`: there was no room to enqueue
    /// the record. The record was not sent. Class: [`ErrorClass::Abortable`].
    #[error("no buffer space for {requested} bytes within {waited_ms} ms (buffer_memory is full); the record was not sent")]
    BufferFull {
        /// The bytes the record needed.
        requested: usize,
        /// How long the producer waited (milliseconds).
        waited_ms: u64,
    },

    /// The enqueue stage took longer than `max_block_ms` for a reason other than
    /// buffer space or metadata (for example the producer's mailbox stayed full). The
    /// record was not sent. Class: [`ErrorClass::Abortable`].
    #[error("the record could not be enqueued within {waited_ms} ms (max_block_ms); it was not sent")]
    EnqueueTimeout {
        /// How long the enqueue stage waited (milliseconds).
        waited_ms: u64,
    },

    /// The batch waited in the producer for longer than `request_timeout_ms` (since
    /// it was created) without being sent, for example because the partition had no
    /// leader or its broker was unreachable the whole time. The record was **not
    /// sent**: a batch that was sent and failed reports its last error instead. Never
    /// reported by the idempotent producer, whose batches do not expire.
    /// Class: [`ErrorClass::Retriable`] (Java reports batch expiry as a
    /// `TimeoutException`); resending the record cannot duplicate it.
    #[error("the batch was not sent within {waited_ms} ms (request_timeout_ms); the record was not sent")]
    BatchExpired {
        /// How long the batch had waited (milliseconds).
        waited_ms: u64,
    },

    /// The record batch could not be encoded for the wire (for example compression
    /// failed, or a value exceeds what the protocol can carry). The batch was failed
    /// instead of blocking the partition. The record was not sent.
    /// Class: [`ErrorClass::Abortable`].
    #[error("the record batch could not be encoded: {reason}; the record was not sent")]
    Encode {
        /// What failed.
        #[source]
        reason: EncodeFailure,
    },

    /// The producer is stopped or stopping, so it accepts nothing new. The record was
    /// not sent. Class: [`ErrorClass::Fatal`]: this producer instance will never
    /// accept the record (as the Java client's `IllegalStateException` after
    /// `close()`); a new producer is needed.
    #[error("the producer is closed")]
    Closed,

    /// A bug in this crate: one of the producer's parts found another in a
    /// state it can never be in (for example a transactional partition
    /// without a transaction coordinator). The records concerned fail with
    /// this error instead of waiting forever, and the producer logs it at
    /// `error` level. Please report it. Class: [`ErrorClass::Fatal`]: close
    /// the producer. Distinct from [`ProducerError::Closed`], which only
    /// means that the producer was stopped.
    #[error("internal error in actix-kafka ({what}); please report it")]
    Internal {
        /// What was found.
        what: &'static str,
    },

    /// The broker answered the request carrying this record with an error code, and
    /// the producer did not (or could no longer) retry it. The class comes from the
    /// code, see [`class_of`].
    ///
    /// What it means for the data depends on the code (see [`ProducerError::outcome`]):
    ///
    /// * `REQUEST_TIMED_OUT`: the broker timed out waiting for replicas: the outcome
    ///   is **unknown**, the record may or may not have been written.
    /// * `NOT_LEADER_OR_FOLLOWER`: leadership moved, possibly during the append
    ///   (KAFKA-13574): outcome **unknown**.
    /// * `NOT_ENOUGH_REPLICAS`: fewer in-sync replicas than `min.insync.replicas`; the
    ///   broker rejected the write before appending: **not written** (retriable).
    /// * `NOT_ENOUGH_REPLICAS_AFTER_APPEND`: the record **was written to the leader's
    ///   log** but not to enough replicas. The producer reports it as an error; a
    ///   retry (by the producer or the application) may write it twice, unless the
    ///   producer is idempotent.
    /// * `MESSAGE_TOO_LARGE`: the batch is larger than the broker or topic accepts
    ///   (`message.max.bytes`); a batch of several records is split and retried
    ///   first, so this reaches the caller for a single record that is too large:
    ///   **not written**.
    /// * `DUPLICATE_SEQUENCE_NUMBER` never appears here: the idempotent producer
    ///   treats it as success (the batch was already written).
    /// * Other codes: the broker rejected the batch: **not written**.
    #[error("broker returned {code}{}", message_suffix(.message))]
    Broker {
        /// The error code.
        code: ErrorCode,
        /// The broker's error message, when the response carries one.
        message: Option<String>,
    },

    /// The broker did not answer within `request_timeout_ms`. The outcome is
    /// **unknown**: the broker may have written the record and the answer was lost or
    /// late. Class: [`ErrorClass::Retriable`] (retried by the producer while time
    /// remains; never reported by the idempotent producer, which keeps retrying).
    #[error("no response from {broker} within {timeout_ms} ms; the record may or may not have been written")]
    RequestTimedOut {
        /// The broker.
        broker: BrokerId,
        /// The timeout that passed (milliseconds).
        timeout_ms: u64,
    },

    /// The connection to the broker dropped while the request carrying this record
    /// was in flight. The outcome is **unknown**: the broker may have written it.
    /// Class: [`ErrorClass::Retriable`].
    #[error("connection to {broker} lost with the request in flight ({cause}); the record may or may not have been written")]
    Disconnected {
        /// The broker.
        broker: BrokerId,
        /// Why the connection ended.
        #[source]
        cause: Disconnect,
    },

    /// The producer could not connect to a broker (resolve, TCP connect, the
    /// TLS handshake, ApiVersions or SASL failed). The record was not sent.
    /// Class: [`ErrorClass::Retriable`], except authentication failures
    /// ([`ProducerError::is_authentication`]: a certificate or handshake
    /// refused, credentials rejected), which are [`ErrorClass::Fatal`] and
    /// not retried, as in the Java client.
    #[error("could not connect to {broker} at {addr}: {cause}")]
    Connection {
        /// The broker.
        broker: BrokerId,
        /// Its address, `host:port` (several, comma-separated, when no
        /// bootstrap server answered).
        addr: String,
        /// What failed.
        #[source]
        cause: ConnectFailure,
    },

    /// The broker's response could not be decoded, or did not match the request
    /// (wrong correlation id, missing partitions): the broker or the network is
    /// misbehaving. The connection is closed. The outcome is **unknown**: the
    /// request may have been processed. Also reported, with the request **not
    /// sent**, when no request could be made to the broker at all (no common
    /// version of the API, see [`ProtocolViolation`]). Class:
    /// [`ErrorClass::Retriable`], as the Java client treats a corrupt response
    /// like a network error.
    #[error("protocol error with {broker}: {cause}; the record may or may not have been written")]
    Protocol {
        /// The broker.
        broker: BrokerId,
        /// What was wrong.
        #[source]
        cause: ProtocolViolation,
    },

    /// The transaction coordinator of a transactional id (or of a consumer
    /// group) could not be found and reached within the call's deadline
    /// (`max_block_ms`): FindCoordinator kept failing or no broker answered.
    /// The transactional request was not sent. Class: [`ErrorClass::Retriable`].
    #[error("no coordinator for {key:?} could be reached within {waited_ms} ms")]
    CoordinatorUnavailable {
        /// The transactional id or group.
        key: String,
        /// How long the producer looked (milliseconds).
        waited_ms: u64,
    },

    /// The record was dropped before it was ever sent: for example the producer was
    /// stopped with a deadline that passed before the record could be flushed. The
    /// record was not sent. Class: [`ErrorClass::Abortable`].
    #[error("the record was cancelled before it was sent")]
    Cancelled,

    /// Another producer instance with the same `transactional_id` started and fenced
    /// this one (`PRODUCER_FENCED`, or `INVALID_PRODUCER_EPOCH` from the transaction
    /// coordinator). Records of the open transaction will not be committed.
    /// Class: [`ErrorClass::Fatal`]: close this producer.
    #[error("the producer was fenced by another instance with the same transactional_id")]
    ProducerFenced,

    /// A transactional call was made in the wrong state: `commit` or `abort` without
    /// `begin`, `begin` twice, a send outside a transaction on a transactional
    /// producer, or a transaction call on a producer without `transactional_id`.
    /// The call was refused and had no effect: the record was not sent, and an open
    /// transaction is not affected. Class: [`ErrorClass::Abortable`] (a caller
    /// error, the producer stays usable; it is not a configuration error because the
    /// configuration is valid).
    #[error("transaction misuse: {misuse}")]
    TransactionalMisuse {
        /// What was wrong.
        #[source]
        misuse: Misuse,
    },

    /// The record was part of a transaction that was aborted (by the caller or after
    /// an abortable error), or that can only be aborted: its partition could not join
    /// the transaction (AddPartitionsToTxn failed), so it was never sent, and the
    /// commit reports why. It may be in the log, but `read_committed` consumers never
    /// see it. Class: [`ErrorClass::Abortable`].
    #[error("the record's transaction was aborted; read_committed consumers will not see it")]
    TransactionAborted,
}

/// `": message"` for a present, non-empty broker message, else nothing.
fn message_suffix(message: &Option<String>) -> String {
    match message.as_deref() {
        Some(m) if !m.is_empty() => format!(": {m}"),
        _ => String::new(),
    }
}

impl ProducerError {
    /// A [`ProducerError::Config`] error for `option`.
    pub fn config(option: impl Into<String>, problem: ConfigProblem) -> Self {
        ProducerError::Config {
            option: option.into(),
            problem,
        }
    }

    /// The error for a broker's error code: [`ProducerError::ProducerFenced`] for
    /// `PRODUCER_FENCED`, otherwise [`ProducerError::Broker`]. The message is dropped
    /// when it is empty.
    pub fn from_broker(code: ErrorCode, message: Option<String>) -> Self {
        if code == ErrorCode::PRODUCER_FENCED {
            return ProducerError::ProducerFenced;
        }
        let message = message.filter(|m| !m.is_empty());
        ProducerError::Broker { code, message }
    }

    /// A [`ProducerError::Protocol`] error for a response of `api` at
    /// `version` from `broker` that could not be decoded.
    pub fn decode(broker: impl Into<BrokerId>, api: ApiKey, version: i16, error: &DecodeError) -> Self {
        ProducerError::Protocol {
            broker: broker.into(),
            cause: ProtocolViolation::Undecodable {
                api,
                version,
                error: error.clone(),
            },
        }
    }

    /// How the caller should react to this error. See each variant's documentation.
    pub fn class(&self) -> ErrorClass {
        match self {
            ProducerError::Config { .. } => ErrorClass::Configuration,
            ProducerError::RecordTooLarge { .. }
            | ProducerError::InvalidTopic { .. }
            | ProducerError::InvalidTimestamp { .. }
            | ProducerError::UnknownTopic { .. }
            | ProducerError::MetadataTimeout { .. }
            | ProducerError::PartitionOutOfRange { .. }
            | ProducerError::BufferFull { .. }
            | ProducerError::EnqueueTimeout { .. }
            | ProducerError::Encode { .. }
            | ProducerError::Cancelled
            | ProducerError::TransactionalMisuse { .. }
            | ProducerError::TransactionAborted => ErrorClass::Abortable,
            ProducerError::Closed | ProducerError::ProducerFenced | ProducerError::Internal { .. } => {
                ErrorClass::Fatal
            }
            ProducerError::Broker { code, .. } => class_of(*code),
            // Authentication (TLS or SASL) is fatal, as in the Java client.
            ProducerError::Connection { cause, .. } if cause.is_authentication() => ErrorClass::Fatal,
            ProducerError::Connection { .. } => ErrorClass::Retriable,
            ProducerError::RequestTimedOut { .. }
            | ProducerError::Disconnected { .. }
            | ProducerError::Protocol { .. }
            | ProducerError::CoordinatorUnavailable { .. }
            | ProducerError::BatchExpired { .. } => ErrorClass::Retriable,
        }
    }

    /// Whether the class is [`ErrorClass::Retriable`]. The producer has already
    /// retried such an error until `request_timeout_ms`; resending from the
    /// application may duplicate the record unless the producer is idempotent.
    pub fn is_retriable(&self) -> bool {
        self.class() == ErrorClass::Retriable
    }

    /// Whether the class is [`ErrorClass::Fatal`]: the producer must be closed.
    pub fn is_fatal(&self) -> bool {
        self.class() == ErrorClass::Fatal
    }

    /// Whether a TLS handshake or SASL authentication with a broker failed
    /// (see [`ConnectFailure::is_authentication`]). Fatal: fix the
    /// configuration (credentials, CA, host name) and start a new producer.
    pub fn is_authentication(&self) -> bool {
        matches!(self, ProducerError::Connection { cause, .. } if cause.is_authentication())
    }

    /// The Kafka error code behind this error, for errors a broker reported:
    /// the code of [`ProducerError::Broker`], and `PRODUCER_FENCED` for
    /// [`ProducerError::ProducerFenced`]. `None` for errors the producer detected
    /// itself (client-side timeouts included).
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            ProducerError::Broker { code, .. } => Some(*code),
            ProducerError::ProducerFenced => Some(ErrorCode::PRODUCER_FENCED),
            _ => None,
        }
    }

    /// What this error means for the record it is delivered to.
    pub fn outcome(&self) -> DataOutcome {
        match self {
            ProducerError::RequestTimedOut { .. }
            | ProducerError::Disconnected { .. }
            | ProducerError::Protocol { .. } => DataOutcome::Unknown,
            ProducerError::Broker { code, .. } => match *code {
                // The broker gave up waiting for replicas after appending, or
                // leadership moved mid-append (KAFKA-13574), or it failed in an
                // unknown way, or it relays a lost connection.
                ErrorCode::REQUEST_TIMED_OUT
                | ErrorCode::NOT_LEADER_OR_FOLLOWER
                | ErrorCode::NETWORK_EXCEPTION
                | ErrorCode::UNKNOWN_SERVER_ERROR => DataOutcome::Unknown,
                ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND => DataOutcome::AppendedToLeader,
                _ => DataOutcome::NotWritten,
            },
            ProducerError::TransactionAborted | ProducerError::ProducerFenced => DataOutcome::Aborted,
            _ => DataOutcome::NotWritten,
        }
    }
}

/// The class of a broker error code, as the Java producer treats it.
///
/// In order:
///
/// 1. a short list of **fatal** codes: the producer instance cannot go on;
/// 2. a short list of **abortable** codes the producer handles or that end a
///    transaction, checked before the retriable flag;
/// 3. codes whose Java exception is a `RetriableException`
///    ([`ErrorCode::is_retriable`]) are **retriable**;
/// 4. every other code (unknown codes included) is **abortable**: the batch failed,
///    the producer remains usable (Java: any other `ApiException` in
///    `TransactionManager.maybeTransitionToErrorState` makes a transactional
///    producer's transaction abortable, and fails only the batch otherwise).
///
/// `NONE` is not an error; it falls into the last group.
///
/// Where this deliberately follows Java rather than a blanket rule: topic and group
/// authorization failures are abortable (they concern one resource; the producer can
/// still write elsewhere), while cluster and transactional-id authorization failures
/// are fatal.
pub fn class_of(code: ErrorCode) -> ErrorClass {
    match code {
        // ---- Fatal ----
        // Another instance with the same transactional id took over (KIP-588).
        ErrorCode::PRODUCER_FENCED
        // Not allowed to use the transactional id at all: nothing transactional can work.
        | ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        // Not allowed cluster-wide (e.g. IdempotentWrite ACL on old brokers, InitProducerId).
        | ErrorCode::CLUSTER_AUTHORIZATION_FAILED
        // The broker does not speak a version this client needs.
        | ErrorCode::UNSUPPORTED_VERSION
        // The coordinator says the transaction is in a state the client did not
        // expect: client and coordinator disagree, Java's handlers fail fatally.
        | ErrorCode::INVALID_TXN_STATE
        // transaction_timeout_ms exceeds the broker's transaction.max.timeout.ms:
        // InitProducerId can never succeed with this configuration.
        | ErrorCode::INVALID_TRANSACTION_TIMEOUT
        // Authentication failures (Java's AuthenticationException subclasses): no
        // request can succeed until the credentials or mechanism are changed.
        | ErrorCode::SASL_AUTHENTICATION_FAILED
        | ErrorCode::UNSUPPORTED_SASL_MECHANISM
        | ErrorCode::ILLEGAL_SASL_STATE => ErrorClass::Fatal,

        // ---- Abortable (explicit) ----
        // The broker asks the transactional producer to abort (KIP-890).
        ErrorCode::TRANSACTION_ABORTABLE
        // Not allowed to write this topic: Java fails the batch / makes the
        // transaction abortable, the producer stays usable for other topics.
        | ErrorCode::TOPIC_AUTHORIZATION_FAILED
        // Not allowed to commit offsets for the group (send_offsets_to_transaction).
        | ErrorCode::GROUP_AUTHORIZATION_FAILED
        // From Produce (KIP-588): the epoch was bumped, abort and continue. On
        // InitProducerId/EndTxn the transaction coordinator actor reports it as
        // ProducerError::ProducerFenced instead, which is fatal.
        | ErrorCode::INVALID_PRODUCER_EPOCH
        // Sequence problems (KIP-360): the producer bumps its epoch and resets
        // sequences; the affected batch fails, a transaction must abort.
        | ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER
        | ErrorCode::UNKNOWN_PRODUCER_ID
        | ErrorCode::INVALID_PRODUCER_ID_MAPPING
        // The topic's message format cannot hold this batch (per topic, not fatal).
        | ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT
        // Never surfaced: the idempotent producer treats it as success. Listed so
        // that it is not mistaken for anything else if it ever escapes.
        | ErrorCode::DUPLICATE_SEQUENCE_NUMBER => ErrorClass::Abortable,

        // ---- Retriable: the Java exception is a RetriableException ----
        // e.g. NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS,
        // NOT_ENOUGH_REPLICAS_AFTER_APPEND, CORRUPT_MESSAGE, CONCURRENT_TRANSACTIONS.
        code if code.is_retriable() => ErrorClass::Retriable,

        // ---- Everything else: the batch failed, the producer goes on ----
        // e.g. MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_RECORD,
        // INVALID_TIMESTAMP, POLICY_VIOLATION, UNKNOWN_SERVER_ERROR, unknown codes.
        _ => ErrorClass::Abortable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_variants() -> Vec<(ProducerError, ErrorClass)> {
        use ErrorClass::*;
        vec![
            (
                ProducerError::config("linger_ms", ConfigProblem::invalid("bad")),
                Configuration,
            ),
            (
                ProducerError::RecordTooLarge {
                    size: 2_000_000,
                    max: 1_048_576,
                },
                Abortable,
            ),
            (
                ProducerError::InvalidTopic {
                    topic: "a b".into(),
                    reason: TopicNameError::IllegalCharacter { character: ' ' },
                },
                Abortable,
            ),
            (
                ProducerError::UnknownTopic {
                    topic: "nope".into(),
                    waited_ms: 60_000,
                },
                Abortable,
            ),
            (ProducerError::MetadataTimeout { waited_ms: 60_000 }, Abortable),
            (
                ProducerError::PartitionOutOfRange {
                    topic: "t".into(),
                    partition: 7,
                    partitions: 3,
                },
                Abortable,
            ),
            (
                ProducerError::BufferFull {
                    requested: 1234,
                    waited_ms: 500,
                },
                Abortable,
            ),
            (ProducerError::EnqueueTimeout { waited_ms: 500 }, Abortable),
            (ProducerError::BatchExpired { waited_ms: 40_000 }, Retriable),
            (
                ProducerError::Encode {
                    reason: EncodeFailure::Compression {
                        message: "zstd failed".into(),
                    },
                },
                Abortable,
            ),
            (ProducerError::Closed, Fatal),
            (
                ProducerError::Broker {
                    code: ErrorCode::NOT_LEADER_OR_FOLLOWER,
                    message: None,
                },
                Retriable,
            ),
            (
                ProducerError::Broker {
                    code: ErrorCode::MESSAGE_TOO_LARGE,
                    message: None,
                },
                Abortable,
            ),
            (
                ProducerError::Broker {
                    code: ErrorCode::CLUSTER_AUTHORIZATION_FAILED,
                    message: None,
                },
                Fatal,
            ),
            (
                ProducerError::RequestTimedOut {
                    broker: BrokerId(1),
                    timeout_ms: 40_000,
                },
                Retriable,
            ),
            (
                ProducerError::Disconnected {
                    broker: BrokerId(2),
                    cause: Disconnect::ClosedByBroker,
                },
                Retriable,
            ),
            (
                ProducerError::Connection {
                    broker: BrokerId(-1),
                    addr: "h:9092".into(),
                    cause: ConnectFailure::TimedOut { after_ms: 10 },
                },
                Retriable,
            ),
            (
                ProducerError::Protocol {
                    broker: BrokerId(1),
                    cause: ProtocolViolation::UnknownCorrelationId(7),
                },
                Retriable,
            ),
            (ProducerError::Cancelled, Abortable),
            (ProducerError::ProducerFenced, Fatal),
            (ProducerError::Internal { what: "a test" }, Fatal),
            (
                ProducerError::CoordinatorUnavailable {
                    key: "txn-1".into(),
                    waited_ms: 60_000,
                },
                Retriable,
            ),
            (
                ProducerError::TransactionalMisuse {
                    misuse: Misuse::CommitWithoutBegin,
                },
                Abortable,
            ),
            (ProducerError::TransactionAborted, Abortable),
        ]
    }

    #[test]
    fn class_of_each_variant() {
        for (error, class) in all_variants() {
            assert_eq!(error.class(), class, "{error:?}");
            assert_eq!(error.is_retriable(), class == ErrorClass::Retriable, "{error:?}");
            assert_eq!(error.is_fatal(), class == ErrorClass::Fatal, "{error:?}");
        }
    }

    #[test]
    fn class_of_fatal_codes() {
        for code in [
            ErrorCode::PRODUCER_FENCED,
            ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
            ErrorCode::CLUSTER_AUTHORIZATION_FAILED,
            ErrorCode::UNSUPPORTED_VERSION,
            ErrorCode::INVALID_TXN_STATE,
            ErrorCode::INVALID_TRANSACTION_TIMEOUT,
            ErrorCode::SASL_AUTHENTICATION_FAILED,
            ErrorCode::UNSUPPORTED_SASL_MECHANISM,
            ErrorCode::ILLEGAL_SASL_STATE,
        ] {
            assert_eq!(class_of(code), ErrorClass::Fatal, "{code}");
        }
    }

    #[test]
    fn class_of_abortable_codes() {
        for code in [
            ErrorCode::TRANSACTION_ABORTABLE,
            ErrorCode::TOPIC_AUTHORIZATION_FAILED,
            ErrorCode::GROUP_AUTHORIZATION_FAILED,
            ErrorCode::INVALID_PRODUCER_EPOCH,
            ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
            ErrorCode::UNKNOWN_PRODUCER_ID,
            ErrorCode::INVALID_PRODUCER_ID_MAPPING,
            ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT,
            ErrorCode::MESSAGE_TOO_LARGE,
            ErrorCode::RECORD_LIST_TOO_LARGE,
            ErrorCode::INVALID_RECORD,
            ErrorCode::INVALID_TIMESTAMP,
            ErrorCode::POLICY_VIOLATION,
            ErrorCode::INVALID_TOPIC_EXCEPTION,
            ErrorCode::UNKNOWN_SERVER_ERROR,
            ErrorCode(9999),
            ErrorCode(-42),
        ] {
            assert_eq!(class_of(code), ErrorClass::Abortable, "{code}");
        }
    }

    #[test]
    fn class_of_retriable_codes() {
        for code in [
            ErrorCode::NOT_LEADER_OR_FOLLOWER,
            ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
            ErrorCode::LEADER_NOT_AVAILABLE,
            ErrorCode::REQUEST_TIMED_OUT,
            ErrorCode::NOT_ENOUGH_REPLICAS,
            ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
            ErrorCode::CORRUPT_MESSAGE,
            ErrorCode::NETWORK_EXCEPTION,
            ErrorCode::CONCURRENT_TRANSACTIONS,
            ErrorCode::COORDINATOR_NOT_AVAILABLE,
            ErrorCode::NOT_COORDINATOR,
            ErrorCode::KAFKA_STORAGE_ERROR,
        ] {
            assert_eq!(class_of(code), ErrorClass::Retriable, "{code}");
        }
    }

    #[test]
    fn class_of_agrees_with_the_retriable_flag_outside_the_explicit_lists() {
        // No fatal or explicitly abortable code is retriable in the table, so the
        // explicit lists never override a retriable flag by accident.
        for raw in -1..=133 {
            let code = ErrorCode(raw);
            if code.is_retriable() {
                assert_eq!(class_of(code), ErrorClass::Retriable, "{code}");
            } else {
                assert_ne!(class_of(code), ErrorClass::Retriable, "{code}");
            }
        }
    }

    #[test]
    fn display_mentions_the_key_fields() {
        let cases: Vec<(ProducerError, &[&str])> = vec![
            (
                ProducerError::config("linger.ms", ConfigProblem::invalid("expected an integer")),
                &["linger.ms", "expected an integer"],
            ),
            (
                ProducerError::RecordTooLarge {
                    size: 2_000_001,
                    max: 1_048_576,
                },
                &["2000001", "1048576"],
            ),
            (
                ProducerError::InvalidTopic {
                    topic: "bad topic".into(),
                    reason: TopicNameError::IllegalCharacter { character: ' ' },
                },
                &["bad topic", "' ' is not allowed"],
            ),
            (
                ProducerError::UnknownTopic {
                    topic: "nope".into(),
                    waited_ms: 1500,
                },
                &["nope", "1500"],
            ),
            (ProducerError::MetadataTimeout { waited_ms: 1700 }, &["1700"]),
            (
                ProducerError::PartitionOutOfRange {
                    topic: "tp".into(),
                    partition: 9,
                    partitions: 3,
                },
                &["tp", "9", "3"],
            ),
            (
                ProducerError::BufferFull {
                    requested: 4321,
                    waited_ms: 250,
                },
                &["4321", "250"],
            ),
            (ProducerError::EnqueueTimeout { waited_ms: 333 }, &["333"]),
            (
                ProducerError::BatchExpired { waited_ms: 444 },
                &["444", "not sent"],
            ),
            (
                ProducerError::Encode {
                    reason: EncodeFailure::Compression {
                        message: "zstd failed".into(),
                    },
                },
                &["zstd failed"],
            ),
            (ProducerError::Closed, &["closed"]),
            (
                ProducerError::Broker {
                    code: ErrorCode::NOT_ENOUGH_REPLICAS,
                    message: Some("isr 1 < 2".into()),
                },
                &["NOT_ENOUGH_REPLICAS (19)", "isr 1 < 2"],
            ),
            (
                ProducerError::RequestTimedOut {
                    broker: BrokerId(3),
                    timeout_ms: 40_000,
                },
                &["node 3", "40000", "may or may not"],
            ),
            (
                ProducerError::Disconnected {
                    broker: BrokerId(4),
                    cause: Disconnect::Read(IoFailure {
                        kind: std::io::ErrorKind::ConnectionReset,
                        message: "reset by peer".into(),
                    }),
                },
                &["node 4", "reset by peer"],
            ),
            (
                ProducerError::Connection {
                    broker: BrokerId(-1),
                    addr: "k1:9092".into(),
                    cause: ConnectFailure::Io(IoFailure {
                        kind: std::io::ErrorKind::ConnectionRefused,
                        message: "refused".into(),
                    }),
                },
                &["bootstrap server #1", "k1:9092", "refused"],
            ),
            (
                ProducerError::Protocol {
                    broker: BrokerId(2),
                    cause: ProtocolViolation::UnknownCorrelationId(9),
                },
                &["node 2", "unknown correlation id 9"],
            ),
            (ProducerError::Cancelled, &["cancelled"]),
            (ProducerError::ProducerFenced, &["fenced", "transactional_id"]),
            (ProducerError::Internal { what: "a test" }, &["a test", "report"]),
            (
                ProducerError::CoordinatorUnavailable {
                    key: "txn-1".into(),
                    waited_ms: 60_000,
                },
                &["txn-1", "60000"],
            ),
            (
                ProducerError::TransactionalMisuse {
                    misuse: Misuse::CommitWithoutBegin,
                },
                &["commit_transaction called without begin_transaction"],
            ),
            (ProducerError::TransactionAborted, &["aborted"]),
        ];
        assert_eq!(
            cases.len(),
            all_variants().len() - 2,
            "every variant has a Display case"
        );
        for (error, needles) in cases {
            let text = error.to_string();
            for needle in needles {
                assert!(text.contains(needle), "{text:?} lacks {needle:?}");
            }
        }
    }

    #[test]
    fn broker_display_without_message_has_no_trailing_colon() {
        let text = ProducerError::Broker {
            code: ErrorCode::MESSAGE_TOO_LARGE,
            message: None,
        }
        .to_string();
        assert_eq!(text, "broker returned MESSAGE_TOO_LARGE (10)");
        let empty = ProducerError::Broker {
            code: ErrorCode::MESSAGE_TOO_LARGE,
            message: Some(String::new()),
        };
        assert_eq!(empty.to_string(), text);
    }

    #[test]
    fn error_codes_are_reported_for_broker_errors_only() {
        let broker = ProducerError::Broker {
            code: ErrorCode::NOT_ENOUGH_REPLICAS,
            message: None,
        };
        assert_eq!(broker.error_code(), Some(ErrorCode::NOT_ENOUGH_REPLICAS));
        assert_eq!(
            ProducerError::ProducerFenced.error_code(),
            Some(ErrorCode::PRODUCER_FENCED)
        );
        assert_eq!(
            ProducerError::RequestTimedOut {
                broker: BrokerId(1),
                timeout_ms: 1
            }
            .error_code(),
            None
        );
        assert_eq!(ProducerError::Closed.error_code(), None);
    }

    #[test]
    fn from_broker_maps_producer_fenced_and_drops_empty_messages() {
        assert_eq!(
            ProducerError::from_broker(ErrorCode::PRODUCER_FENCED, Some("x".into())),
            ProducerError::ProducerFenced
        );
        assert_eq!(
            ProducerError::from_broker(ErrorCode::NOT_LEADER_OR_FOLLOWER, Some(String::new())),
            ProducerError::Broker {
                code: ErrorCode::NOT_LEADER_OR_FOLLOWER,
                message: None
            }
        );
    }

    #[test]
    fn decode_errors_become_retriable_protocol_errors() {
        let error = ProducerError::decode(
            1,
            ApiKey::Metadata,
            12,
            &DecodeError::InvalidLength {
                what: "topics",
                length: -5,
            },
        );
        assert!(matches!(error, ProducerError::Protocol { .. }));
        assert!(error.is_retriable());
        assert_eq!(error.outcome(), DataOutcome::Unknown);
        assert!(error.to_string().contains("topics"), "{error}");
    }

    #[test]
    fn outcomes() {
        let broker = |code| ProducerError::Broker { code, message: None };
        assert_eq!(
            broker(ErrorCode::REQUEST_TIMED_OUT).outcome(),
            DataOutcome::Unknown
        );
        assert_eq!(
            broker(ErrorCode::NOT_LEADER_OR_FOLLOWER).outcome(),
            DataOutcome::Unknown
        );
        assert_eq!(
            broker(ErrorCode::NOT_ENOUGH_REPLICAS).outcome(),
            DataOutcome::NotWritten
        );
        assert_eq!(
            broker(ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND).outcome(),
            DataOutcome::AppendedToLeader
        );
        assert_eq!(
            broker(ErrorCode::MESSAGE_TOO_LARGE).outcome(),
            DataOutcome::NotWritten
        );
        assert_eq!(
            ProducerError::RequestTimedOut {
                broker: BrokerId(1),
                timeout_ms: 1
            }
            .outcome(),
            DataOutcome::Unknown
        );
        assert_eq!(
            ProducerError::Disconnected {
                broker: BrokerId(1),
                cause: Disconnect::ProducerStopped
            }
            .outcome(),
            DataOutcome::Unknown
        );
        assert_eq!(ProducerError::TransactionAborted.outcome(), DataOutcome::Aborted);
        assert_eq!(
            ProducerError::BufferFull {
                requested: 1,
                waited_ms: 1
            }
            .outcome(),
            DataOutcome::NotWritten
        );
        assert_eq!(ProducerError::Closed.outcome(), DataOutcome::NotWritten);
        assert_eq!(ProducerError::Cancelled.outcome(), DataOutcome::NotWritten);
        assert_eq!(
            ProducerError::BatchExpired { waited_ms: 1 }.outcome(),
            DataOutcome::NotWritten
        );
        assert_eq!(
            ProducerError::Encode {
                reason: EncodeFailure::EmptyBatch
            }
            .outcome(),
            DataOutcome::NotWritten
        );
    }

    #[test]
    fn producer_error_is_send_sync_clone_static() {
        fn assert_bounds<T: Send + Sync + Clone + std::error::Error + 'static>() {}
        assert_bounds::<ProducerError>();
        // One batch error is cloned to every record of the batch.
        let error = ProducerError::Disconnected {
            broker: BrokerId(1),
            cause: Disconnect::ClosedByBroker,
        };
        let copies = vec![error.clone(); 3];
        assert!(copies.iter().all(|e| *e == error));
    }

    #[test]
    fn class_names() {
        assert_eq!(ErrorClass::Retriable.to_string(), "retriable");
        assert_eq!(ErrorClass::Abortable.to_string(), "abortable");
        assert_eq!(ErrorClass::Fatal.to_string(), "fatal");
        assert_eq!(ErrorClass::Configuration.to_string(), "configuration");
    }
}
