//! A scripted in-process fake Kafka cluster, for fault-injection tests.
//!
//! It never replaces the real-broker tests: it exists to produce the faults a
//! real broker will not produce on demand (N timeouts then success,
//! `NOT_LEADER_OR_FOLLOWER`, `DUPLICATE_SEQUENCE_NUMBER`,
//! `OUT_OF_ORDER_SEQUENCE_NUMBER`, a disconnect mid-request, garbage bytes).
//!
//! Scripting a fault takes five lines:
//!
//! ```no_run
//! use actix_kafka_integration::fake_broker::{codes, FakeCluster, FakeConfig, Fault};
//! let cluster = FakeCluster::start(FakeConfig::with_brokers(1).topic("t", 1, 0));
//! let fault = Fault::ProduceError { code: codes::NOT_LEADER_OR_FOLLOWER };
//! // The next two produces for t-0 on node 0 fail; then the leader appends again.
//! cluster.script(0, kafka_wire::api::ApiKey::Produce, Some(("t", 0)), fault, 2);
//! let bootstrap = cluster.bootstrap(); // hand this to the client under test
//! ```
//!
//! # What it is
//!
//! [`FakeCluster::start`] binds one TCP listener per broker on `127.0.0.1:0`
//! and serves them from a single-threaded tokio runtime on a background
//! thread, so it works the same from a plain `#[test]` and from an
//! `#[actix_rt::test]` (the test's own runtime is never used). Dropping the
//! cluster (or [`FakeCluster::shutdown`]) stops the runtime, closes every
//! socket and joins the thread.
//!
//! Requests are decoded and responses encoded with the `kafka-protocol`
//! crate, an implementation independent of `kafka-wire`; produced record
//! batches are decoded with [`kafka_wire::record::read_batches`].
//!
//! # Default behaviour
//!
//! * **ApiVersions**: the configured ranges ([`FakeConfig::api_range`]). A
//!   version above the configured maximum gets `UNSUPPORTED_VERSION` with a
//!   v0 body listing the ranges, as Kafka does.
//! * **Metadata**: all brokers, and the topics of the shared cluster model
//!   ([`FakeCluster::create_topic`], [`FakeCluster::set_leader`]); unknown
//!   topics get `UNKNOWN_TOPIC_OR_PARTITION`.
//! * **Produce**: the partition's leader decodes the batches, checks producer
//!   sequences like Kafka (duplicates of the last five batches are answered
//!   with their original offset; gaps get `OUT_OF_ORDER_SEQUENCE_NUMBER`,
//!   stale epochs `INVALID_PRODUCER_EPOCH`; [`FakeConfig::check_sequences`]
//!   turns this off), appends with sequential offsets and answers the base
//!   offset. Any other node answers `NOT_LEADER_OR_FOLLOWER` (with the
//!   leader's id and endpoint from v10). `acks = 0` gets no answer.
//! * **InitProducerId**: new producer ids; the epoch is bumped when the
//!   request carries the current id/epoch, or for a known transactional id.
//! * **FindCoordinator**, **AddPartitionsToTxn**, **AddOffsetsToTxn**,
//!   **TxnOffsetCommit**, **EndTxn**: minimal happy paths (the coordinator is
//!   [`FakeCluster::set_coordinator`]'s node; producer id and epoch are
//!   checked; EndTxn writes a control marker, which takes an offset, into
//!   every partition of the transaction and is recorded in
//!   [`FakeCluster::ended_transactions`]).
//! * **SaslHandshake** and **SaslAuthenticate**: see [SASL](#sasl).
//! * A request for an API the fake does not serve, at a version outside the
//!   configured range, or that does not decode is logged (`tracing`) and its
//!   connection closed. The fake never panics on client input.
//!
//! # SASL
//!
//! [`FakeConfig::sasl`] turns every broker into a SASL listener (as
//! `SASL_PLAINTEXT`): it offers the given mechanisms and hands every
//! `SaslAuthenticate` message to a closure the test writes, which plays the
//! server side of the mechanism ([`SaslTurn`] in, [`SaslAnswer`] out). The
//! fake then behaves like Kafka's authenticator:
//!
//! * `SaslHandshake` naming a mechanism that is not offered is answered with
//!   `UNSUPPORTED_SASL_MECHANISM` and the offered list.
//! * Until a connection has authenticated, any request other than
//!   ApiVersions, SaslHandshake and SaslAuthenticate closes it (Kafka's
//!   "unexpected request during SASL handshake"); so does a `SaslAuthenticate`
//!   before a successful handshake.
//! * A `SaslAuthenticate` answered with an error code closes the connection
//!   after the answer is written, as Kafka does.
//! * A successful answer with `session_lifetime_ms > 0` (KIP-368) starts a
//!   session clock: a request other than SaslHandshake / SaslAuthenticate /
//!   ApiVersions arriving after the session expired closes the connection
//!   and is counted ([`FakeCluster::expired_session_requests`]). A new
//!   `SaslHandshake` on an authenticated connection is a re-authentication.
//!
//! Without [`FakeConfig::sasl`] the broker is a `PLAINTEXT` listener: both
//! APIs are still advertised (Kafka advertises them on every listener) and
//! answered with `ILLEGAL_SASL_STATE`, as Kafka's request handler does.
//! [`scram::ScramServer`] is an honest SCRAM server to plug in.
//! Finished authentications are kept in [`FakeCluster::authentications`];
//! scripted [`Fault`]s apply to both APIs like to any other.
//!
//! ```no_run
//! use actix_kafka_integration::fake_broker::{FakeCluster, FakeConfig, SaslAnswer};
//! // A PLAIN server accepting one user.
//! let config = FakeConfig::with_brokers(1).sasl(&["PLAIN"], |turn| {
//!     if turn.client_message == b"\0alice\0secret" {
//!         SaslAnswer::success(Vec::new())
//!     } else {
//!         SaslAnswer::error(58, "Authentication failed: Invalid username or password")
//!     }
//! });
//! let cluster = FakeCluster::start(config);
//! ```
//!
//! # Faults
//!
//! [`FakeCluster::script`] queues a [`Fault`] for `times` requests matching
//! (node, API, partition). Queues are FIFO per match key; once empty, the
//! default behaviour applies again. See [`Fault`] for how faults combine.

mod handlers;
pub mod scram;
#[cfg(test)]
mod selftest;
mod server;
mod state;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use kafka_wire::record::DecodedBatch;

use state::State;

/// Kafka error codes the fault tests use most (the `i16` on the wire).
pub mod codes {
    /// No error.
    pub const NONE: i16 = 0;
    /// The batch failed its CRC or could not be parsed.
    pub const CORRUPT_MESSAGE: i16 = 2;
    /// The topic or partition does not exist.
    pub const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
    /// The partition has no leader right now.
    pub const LEADER_NOT_AVAILABLE: i16 = 5;
    /// This broker is not the partition's leader.
    pub const NOT_LEADER_OR_FOLLOWER: i16 = 6;
    /// The request timed out on the broker.
    pub const REQUEST_TIMED_OUT: i16 = 7;
    /// The coordinator is still loading.
    pub const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
    /// The coordinator is not available.
    pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;
    /// This broker is not the coordinator.
    pub const NOT_COORDINATOR: i16 = 16;
    /// The in-sync replica set is too small.
    pub const NOT_ENOUGH_REPLICAS: i16 = 19;
    /// The records were appended, but the in-sync replica set is too small.
    pub const NOT_ENOUGH_REPLICAS_AFTER_APPEND: i16 = 20;
    /// The requested API version is not supported.
    pub const UNSUPPORTED_VERSION: i16 = 35;
    /// The batch's sequence is not the next one expected.
    pub const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
    /// The batch is a duplicate of one already written.
    pub const DUPLICATE_SEQUENCE_NUMBER: i16 = 46;
    /// The producer epoch is stale.
    pub const INVALID_PRODUCER_EPOCH: i16 = 47;
    /// The producer attempted a transactional operation in an invalid state.
    pub const INVALID_TXN_STATE: i16 = 48;
    /// The client's SASL mechanism is not enabled (SaslHandshake).
    pub const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
    /// A SASL request arrived in the wrong state (or on a listener without
    /// SASL).
    pub const ILLEGAL_SASL_STATE: i16 = 34;
    /// SASL authentication failed (wrong credentials, refused token).
    pub const SASL_AUTHENTICATION_FAILED: i16 = 58;
    /// The producer id does not match the transactional id.
    pub const INVALID_PRODUCER_ID_MAPPING: i16 = 49;
    /// The broker has no state for this producer id.
    pub const UNKNOWN_PRODUCER_ID: i16 = 59;
    /// A newer producer with the same transactional id exists.
    pub const PRODUCER_FENCED: i16 = 90;
}

/// Something that names a Kafka API: a raw `i16` key, a
/// [`kafka_wire::api::ApiKey`] or a [`kafka_protocol::messages::ApiKey`].
pub trait AsApiKey {
    /// The numeric API key.
    fn api_key(&self) -> i16;
}

impl AsApiKey for i16 {
    fn api_key(&self) -> i16 {
        *self
    }
}

impl AsApiKey for kafka_wire::api::ApiKey {
    fn api_key(&self) -> i16 {
        self.code()
    }
}

impl AsApiKey for kafka_protocol::messages::ApiKey {
    fn api_key(&self) -> i16 {
        *self as i16
    }
}

/// One scripted misbehaviour, applied to one matching request.
///
/// Partition-level faults ([`Fault::ProduceError`], [`Fault::AppendThenError`])
/// change one partition's result in a produce response; a fault scripted with
/// `partition = None` applies to every partition of the request. On other APIs
/// they set the response's error code (top-level, or every topic/partition
/// where the response has no top-level code), and `AppendThenError` performs
/// the request's effect first (InitProducerId bumps the epoch, EndTxn ends the
/// transaction, ...).
///
/// Connection-level faults (the others) apply to the whole request. When
/// several match one request, delays add up and the first of the others
/// wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this partition's produce with an error code (nothing appended).
    /// `DUPLICATE_SEQUENCE_NUMBER`, `OUT_OF_ORDER_SEQUENCE_NUMBER`,
    /// `UNKNOWN_PRODUCER_ID` etc. are just codes (see [`codes`]).
    ProduceError {
        /// The error code to answer.
        code: i16,
    },
    /// Append, but answer with an error code anyway (e.g.
    /// `NOT_ENOUGH_REPLICAS_AFTER_APPEND`); the answered base offset is -1.
    AppendThenError {
        /// The error code to answer.
        code: i16,
    },
    /// Never answer this request (the client must time out), although it
    /// takes effect (a produce appends): the answer is lost. The connection
    /// stays open, and later requests on it are answered (Kafka itself would
    /// answer in order; a client that timed out should close the connection).
    NoResponse,
    /// Like [`Fault::NoResponse`], but the request takes no effect either (it
    /// was lost on the way in).
    Ignore,
    /// Close the connection without answering. With `append: true` the
    /// request takes effect first (a produce appends); with `append: false`
    /// nothing of it does.
    Disconnect {
        /// Whether the request takes effect before the connection closes.
        append: bool,
    },
    /// Answer (or apply the other faults) after this delay. Later requests on
    /// the same connection wait behind it, as on a real broker.
    Delay(Duration),
    /// Answer with a size prefix, the request's correct correlation id, and
    /// then exactly these bytes as the rest of the response (no tagged-field
    /// byte is added for flexible versions): a malformed response body.
    RawResponse(Vec<u8>),
    /// Write exactly these bytes to the socket instead of a response (no size
    /// prefix or correlation id is added): a malformed frame.
    RawFrame(Vec<u8>),
    /// Take this request in (it takes no effect), answer nothing, and read
    /// nothing more from the connection, which stays open until the cluster
    /// stops: a broker that accepts and stops reading, so the client's
    /// writes fill the socket buffers and then block.
    StopReading,
    /// Write exactly these bytes (as [`Fault::RawFrame`]), then close the
    /// connection: a frame cut short by a broker that goes away.
    RawFrameThenClose(Vec<u8>),
    /// Send the correct response twice: a second answer with the same
    /// correlation id, which no request is waiting for any more.
    AnswerTwice,
    /// Send the correct response one byte at a time, this long apart: a
    /// broker that trickles. The connection reads nothing more meanwhile.
    Trickle(Duration),
}

/// One `SaslAuthenticate` message, as the server closure of
/// [`FakeConfig::sasl`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SaslTurn {
    /// The broker that received it.
    pub node: i32,
    /// Which of the broker's connections (1 for the first accepted, as
    /// [`FakeCluster::connection_count`] counts them).
    pub connection: usize,
    /// 0-based index of this `SaslAuthenticate` since the connection's last
    /// successful `SaslHandshake` (a KIP-368 re-authentication starts again
    /// at 0). For SCRAM, 0 is the client-first message, 1 the client-final.
    pub step: usize,
    /// The mechanism the handshake chose.
    pub mechanism: String,
    /// The client's `auth_bytes`.
    pub client_message: Vec<u8>,
}

/// The server's answer to one [`SaslTurn`].
///
/// The constructors cover the usual cases: [`SaslAnswer::challenge`] (more
/// to come, e.g. SCRAM's server-first), [`SaslAnswer::success`] (the
/// mechanism is complete) and [`SaslAnswer::error`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaslAnswer {
    /// The answer's error code (0: none). A non-zero code fails the
    /// authentication: the connection is closed after the answer.
    pub error_code: i16,
    /// The answer's `error_message`.
    pub error_message: Option<String>,
    /// The answer's `auth_bytes`.
    pub auth_bytes: Vec<u8>,
    /// KIP-368's `session_lifetime_ms` (sent from SaslAuthenticate v1; 0:
    /// no limit). Only meaningful on the answer that completes the
    /// mechanism.
    pub session_lifetime_ms: i64,
    /// Whether this answer completes authentication: the connection may
    /// then send other requests.
    pub complete: bool,
    /// A fault applied to this answer, as if scripted for it (e.g.
    /// [`Fault::NoResponse`], [`Fault::Disconnect`], [`Fault::Delay`]).
    pub fault: Option<Fault>,
}

impl SaslAnswer {
    /// More to come: `auth_bytes` is a challenge (SCRAM's server-first).
    pub fn challenge(auth_bytes: impl Into<Vec<u8>>) -> Self {
        SaslAnswer {
            auth_bytes: auth_bytes.into(),
            ..SaslAnswer::default()
        }
    }

    /// Authenticated, with these final bytes (SCRAM's server-final; empty
    /// for PLAIN and OAUTHBEARER).
    pub fn success(auth_bytes: impl Into<Vec<u8>>) -> Self {
        SaslAnswer {
            auth_bytes: auth_bytes.into(),
            complete: true,
            ..SaslAnswer::default()
        }
    }

    /// Authentication failed with `code` (usually
    /// [`codes::SASL_AUTHENTICATION_FAILED`]) and `message`.
    pub fn error(code: i16, message: &str) -> Self {
        SaslAnswer {
            error_code: code,
            error_message: Some(message.to_string()),
            ..SaslAnswer::default()
        }
    }

    /// Sets `session_lifetime_ms` (KIP-368).
    pub fn session_lifetime_ms(mut self, ms: i64) -> Self {
        self.session_lifetime_ms = ms;
        self
    }

    /// Applies `fault` to this answer.
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }
}

/// The server side of SASL: the offered mechanisms and the closure
/// answering each `SaslAuthenticate`.
#[derive(Clone)]
pub(crate) struct SaslServer {
    pub(crate) mechanisms: Vec<String>,
    pub(crate) answer: Arc<dyn Fn(SaslTurn) -> SaslAnswer + Send + Sync>,
}

impl fmt::Debug for SaslServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslServer")
            .field("mechanisms", &self.mechanisms)
            .finish_non_exhaustive()
    }
}

/// The fake cluster's configuration.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// Number of brokers.
    pub brokers: usize,
    /// Node id of the first broker; the others follow consecutively.
    pub first_node_id: i32,
    /// Served APIs: `(api key, min version, max version)`.
    pub api_versions: Vec<(i16, i16, i16)>,
    /// Topics created at start: `(name, partitions, leader node)`.
    pub topics: Vec<(String, i32, i32)>,
    /// Whether produce checks idempotent producers' epochs and sequences.
    pub check_sequences: bool,
    /// Whether Metadata creates unknown topics (one partition, led by the
    /// first broker) when the request allows it.
    pub auto_create_topics: bool,
    /// Features advertised in ApiVersions v3+: `(name, min, max)`.
    pub supported_features: Vec<(String, i16, i16)>,
    /// Finalized features advertised in ApiVersions v3+: `(name, level)`.
    pub finalized_features: Vec<(String, i16)>,
    /// The largest request frame accepted; larger ones close the connection.
    pub max_frame_bytes: usize,
    /// SASL, when set by [`FakeConfig::sasl`].
    sasl: Option<SaslServer>,
}

/// Kafka 4.x-like version ranges for the APIs a producer uses.
const DEFAULT_API_VERSIONS: [(i16, i16, i16); 11] = [
    (0, 3, 12), // Produce
    (3, 0, 12), // Metadata
    (18, 0, 4), // ApiVersions
    (22, 0, 5), // InitProducerId
    (10, 0, 6), // FindCoordinator
    (24, 0, 5), // AddPartitionsToTxn
    (25, 0, 4), // AddOffsetsToTxn
    (26, 0, 5), // EndTxn
    (28, 0, 5), // TxnOffsetCommit
    (17, 0, 1), // SaslHandshake
    (36, 0, 2), // SaslAuthenticate
];

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            brokers: 1,
            first_node_id: 0,
            api_versions: DEFAULT_API_VERSIONS.to_vec(),
            topics: Vec::new(),
            check_sequences: true,
            auto_create_topics: false,
            supported_features: Vec::new(),
            finalized_features: Vec::new(),
            max_frame_bytes: 100 * 1024 * 1024,
            sasl: None,
        }
    }
}

impl FakeConfig {
    /// The default configuration with `brokers` brokers (node ids `0..brokers`).
    pub fn with_brokers(brokers: usize) -> Self {
        FakeConfig {
            brokers,
            ..FakeConfig::default()
        }
    }

    /// Serves `api` at versions `min..=max` (replacing its range, or adding it).
    pub fn api_range(mut self, api: impl AsApiKey, min: i16, max: i16) -> Self {
        let key = api.api_key();
        self.api_versions.retain(|(k, _, _)| *k != key);
        self.api_versions.push((key, min, max));
        self
    }

    /// Lowers (or raises) the highest served version of `api`.
    pub fn max_version(mut self, api: impl AsApiKey, max: i16) -> Self {
        let key = api.api_key();
        match self.api_versions.iter_mut().find(|(k, _, _)| *k == key) {
            Some(range) => range.2 = max,
            None => self.api_versions.push((key, 0, max)),
        }
        self
    }

    /// Stops serving `api` (it disappears from ApiVersions).
    pub fn without_api(mut self, api: impl AsApiKey) -> Self {
        let key = api.api_key();
        self.api_versions.retain(|(k, _, _)| *k != key);
        self
    }

    /// Creates `name` with `partitions` partitions, all led by `leader`.
    pub fn topic(mut self, name: &str, partitions: i32, leader: i32) -> Self {
        self.topics.push((name.to_string(), partitions, leader));
        self
    }

    /// Turns producer sequence checking on or off.
    pub fn check_sequences(mut self, on: bool) -> Self {
        self.check_sequences = on;
        self
    }

    /// Makes every broker a SASL listener offering `mechanisms` (in this
    /// order, spelled as Kafka spells them: `PLAIN`, `SCRAM-SHA-256`, ...),
    /// whose server side is `server`: it is called once per
    /// `SaslAuthenticate` and its [`SaslAnswer`] is sent back. See the
    /// [module documentation](self#sasl) for what the fake enforces.
    ///
    /// `server` runs on the fake's thread while the cluster's state is
    /// locked: it must not call back into the [`FakeCluster`]. A panic in it
    /// closes the connection.
    pub fn sasl(
        mut self,
        mechanisms: &[&str],
        server: impl Fn(SaslTurn) -> SaslAnswer + Send + Sync + 'static,
    ) -> Self {
        self.sasl = Some(SaslServer {
            mechanisms: mechanisms.iter().map(|m| m.to_string()).collect(),
            answer: Arc::new(server),
        });
        self
    }

    /// Advertises a finalized feature, e.g. `("transaction.version", 2)`,
    /// together with its supported range `0..=level`.
    pub fn feature(mut self, name: &str, level: i16) -> Self {
        self.supported_features.push((name.to_string(), 0, level));
        self.finalized_features.push((name.to_string(), level));
        self
    }
}

/// One request a broker received, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// API key.
    pub api_key: i16,
    /// API version.
    pub api_version: i16,
    /// Correlation id.
    pub correlation_id: i32,
    /// Client id from the request header.
    pub client_id: Option<String>,
    /// For a decoded produce request, its partitions in request order.
    pub produce: Option<Vec<ProducedPartition>>,
}

/// One partition's data in a recorded produce request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducedPartition {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
    /// The request's `acks`.
    pub acks: i16,
    /// The request's transactional id.
    pub transactional_id: Option<String>,
    /// The raw record batches as sent.
    pub records: Option<Bytes>,
}

/// One record appended to a partition's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// The offset the fake assigned.
    pub offset: i64,
    /// Key, `None` when null.
    pub key: Option<Vec<u8>>,
    /// Value, `None` when null.
    pub value: Option<Vec<u8>>,
    /// Headers in order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// The record's timestamp (batch base timestamp + delta).
    pub timestamp: i64,
    /// Producer id of its batch (-1 when not idempotent).
    pub producer_id: i64,
    /// Producer epoch of its batch (-1 when not idempotent).
    pub producer_epoch: i16,
    /// The record's own sequence (batch base sequence + offset delta; -1 when
    /// not idempotent).
    pub sequence: i32,
    /// Whether its batch was transactional.
    pub transactional: bool,
}

/// One finished SASL authentication (success or failure) on a broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authentication {
    /// Which of the broker's connections (1 for the first accepted).
    pub connection: usize,
    /// The mechanism.
    pub mechanism: String,
    /// The client's `SaslAuthenticate` messages, in order.
    pub client_messages: Vec<Vec<u8>>,
    /// The final answer's error code (0: authenticated).
    pub error_code: i16,
    /// The final answer's `session_lifetime_ms`, as sent (0 for versions
    /// without the field).
    pub session_lifetime_ms: i64,
}

/// A transaction ended by EndTxn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedTxn {
    /// The transactional id.
    pub transactional_id: String,
    /// Producer id.
    pub producer_id: i64,
    /// Producer epoch.
    pub producer_epoch: i16,
    /// Commit (`true`) or abort.
    pub committed: bool,
    /// The partitions added to the transaction, in the order they were added.
    pub partitions: Vec<(String, i32)>,
}

/// What the server threads and the test share.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    /// Locks the state. A poisoned lock is recovered: the fake must keep
    /// answering even after a bug panicked one connection.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running fake cluster. Dropping it stops everything.
#[derive(Debug)]
pub struct FakeCluster {
    shared: Arc<Shared>,
    nodes: Vec<(i32, SocketAddr)>,
    kills: Vec<(i32, tokio::sync::watch::Sender<u64>)>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeCluster {
    /// Binds the brokers' listeners and starts serving them on a background
    /// thread. Panics if a listener cannot be bound.
    pub fn start(config: FakeConfig) -> FakeCluster {
        server::start(config)
    }

    /// The brokers' node ids.
    pub fn node_ids(&self) -> Vec<i32> {
        self.nodes.iter().map(|(id, _)| *id).collect()
    }

    /// The bootstrap list: `127.0.0.1:p1,127.0.0.1:p2,...`.
    pub fn bootstrap(&self) -> String {
        self.nodes
            .iter()
            .map(|(_, addr)| addr.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The `host:port` of broker `node`. Panics if there is no such node.
    pub fn addr(&self, node: i32) -> String {
        self.socket_addr(node).to_string()
    }

    /// The socket address of broker `node`. Panics if there is no such node.
    pub fn socket_addr(&self, node: i32) -> SocketAddr {
        self.nodes
            .iter()
            .find(|(id, _)| *id == node)
            .map(|(_, addr)| *addr)
            .unwrap_or_else(|| panic!("the fake cluster has no node {node}"))
    }

    /// Creates `name` with `partitions` partitions led by `leader` (replacing
    /// a topic of that name and its logs).
    pub fn create_topic(&self, name: &str, partitions: i32, leader: i32) {
        self.shared.lock().create_topic(name, partitions, leader);
    }

    /// Moves the leadership of `topic`-`partition` to `node` (-1: no leader)
    /// and bumps its leader epoch. Panics if the partition does not exist.
    pub fn set_leader(&self, topic: &str, partition: i32, node: i32) {
        self.shared.lock().set_leader(topic, partition, node);
    }

    /// Deletes `topic` and its logs: Metadata answers
    /// `UNKNOWN_TOPIC_OR_PARTITION` for it from now on, and its partitions'
    /// leaders refuse produces to it.
    pub fn delete_topic(&self, topic: &str) {
        self.shared.lock().topics.remove(topic);
    }

    /// The current leader of `topic`-`partition`, if the partition exists.
    pub fn leader(&self, topic: &str, partition: i32) -> Option<i32> {
        self.shared.lock().leader(topic, partition)
    }

    /// Makes Metadata, FindCoordinator and Produce leader hints name `port`
    /// (on 127.0.0.1) for `node` from now on, as a broker that came back
    /// at another address (a proxy in front of the node, for instance).
    pub fn advertise_port(&self, node: i32, port: u16) {
        let mut state = self.shared.lock();
        if let Some(n) = state.nodes.iter_mut().find(|n| n.id == node) {
            n.advertised_port = Some(port);
        }
    }

    /// Makes `node` the transaction (and group) coordinator FindCoordinator
    /// answers with (the first broker by default).
    pub fn set_coordinator(&self, node: i32) {
        self.shared.lock().coordinator = node;
    }

    /// Queues `fault` for the next `times` requests of `api` that reach
    /// `node` and, for Produce, carry `partition` (`None`: any request). For
    /// other APIs `partition` is ignored. Faults are consumed FIFO per
    /// (node, api, partition); an empty queue means default behaviour.
    pub fn script(
        &self,
        node: i32,
        api: impl AsApiKey,
        partition: Option<(&str, i32)>,
        fault: Fault,
        times: usize,
    ) {
        let api = api.api_key();
        let partition = partition
            .filter(|_| api == kafka_protocol::messages::ApiKey::Produce as i16)
            .map(|(t, p)| (t.to_string(), p));
        self.shared.lock().push_fault(node, api, partition, fault, times);
    }

    /// The number of scripted faults not consumed yet (counting `times`).
    pub fn pending_faults(&self) -> usize {
        self.shared.lock().pending_faults()
    }

    /// Drops every scripted fault not consumed yet.
    pub fn clear_script(&self) {
        self.shared.lock().clear_faults();
    }

    /// Every request `node` received, in arrival order.
    pub fn requests(&self, node: i32) -> Vec<RecordedRequest> {
        self.shared.lock().requests(node)
    }

    /// How many produce requests `node` received.
    pub fn produce_request_count(&self, node: i32) -> usize {
        self.shared
            .lock()
            .requests(node)
            .iter()
            .filter(|r| r.api_key == kafka_protocol::messages::ApiKey::Produce as i16)
            .count()
    }

    /// How many requests of `api` `node` received.
    pub fn request_count(&self, node: i32, api: impl AsApiKey) -> usize {
        let api = api.api_key();
        self.shared
            .lock()
            .requests(node)
            .iter()
            .filter(|r| r.api_key == api)
            .count()
    }

    /// The SASL authentications `node` finished (succeeded or failed), in
    /// order. One left unanswered or cut by a disconnect is not here.
    pub fn authentications(&self, node: i32) -> Vec<Authentication> {
        self.shared.lock().authentications(node)
    }

    /// How many requests `node` refused, closing their connection, because
    /// the connection had not authenticated yet (SASL only).
    pub fn unauthenticated_requests(&self, node: i32) -> usize {
        self.shared.lock().sasl_refusals(node).0
    }

    /// How many requests `node` refused, closing their connection, because
    /// they arrived after the connection's SASL session expired (KIP-368):
    /// the client did not re-authenticate in time.
    pub fn expired_session_requests(&self, node: i32) -> usize {
        self.shared.lock().sasl_refusals(node).1
    }

    /// How many connections `node` accepted so far.
    pub fn connection_count(&self, node: i32) -> usize {
        self.shared.lock().connections(node).0
    }

    /// How many of `node`'s connections are open now.
    pub fn open_connection_count(&self, node: i32) -> usize {
        self.shared.lock().connections(node).1
    }

    /// The records appended to `topic`-`partition`, in offset order (empty if
    /// the partition does not exist). Transaction markers are not records.
    pub fn log(&self, topic: &str, partition: i32) -> Vec<StoredRecord> {
        self.shared.lock().log(topic, partition)
    }

    /// The batches appended to `topic`-`partition`, as decoded, with the base
    /// offset the fake assigned.
    pub fn batches(&self, topic: &str, partition: i32) -> Vec<DecodedBatch> {
        self.shared.lock().batches(topic, partition)
    }

    /// The offset the next append to `topic`-`partition` gets.
    pub fn next_offset(&self, topic: &str, partition: i32) -> Option<i64> {
        self.shared.lock().next_offset(topic, partition)
    }

    /// The transactions ended by EndTxn (or aborted by a re-initialising
    /// InitProducerId), in order.
    pub fn ended_transactions(&self) -> Vec<EndedTxn> {
        self.shared.lock().ended.clone()
    }

    /// Closes every open connection of `node` (a broker-side disconnect).
    /// New connections are still accepted.
    pub fn close_connections(&self, node: i32) {
        if let Some((_, kill)) = self.kills.iter().find(|(id, _)| *id == node) {
            kill.send_modify(|generation| *generation += 1);
        }
    }

    /// Stops every broker and waits (bounded) for the background thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for FakeCluster {
    fn drop(&mut self) {
        self.stop_now();
    }
}
