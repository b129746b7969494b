//! One connection per broker node: [`BrokerConnectionActor`].
//!
//! The actor owns one TCP connection to one broker. It connects lazily (on the
//! first message), negotiates API versions (`ApiVersions` at our highest
//! version, retrying at the broker's highest on `UNSUPPORTED_VERSION`), and then
//! multiplexes requests over the connection by correlation id. Any request type
//! can be sent with [`Call`] (or [`CallWithin`] a version range); produce batches are sent one partition at a time
//! with [`ProducePartition`] and the actor coalesces every partition that is
//! pending when it writes into one `ProduceRequest`, routing each partition's
//! result back to its sender. The rules are sans-IO structs (the in-flight
//! table and the produce coalescer, unit-tested without sockets); the actor
//! only moves bytes and timers. Both socket halves are driven from the actor's
//! own context, so handlers never block and never wait on I/O:
//!
//! ```text
//!  Call<R>, ProducePartition, GetApiVersions
//!        │  (mailbox)
//!        ▼
//!  ┌─ BrokerConnectionActor ───────────────────────────────────────────┐
//!  │ queued calls ─┐                                                    │
//!  │ ProduceCoalescer ─┴─► pump (≤ max_in_flight) ─► InFlight table     │
//!  │                          │ encode_request → Vec<Bytes>   ▲ match id │
//!  └──────────────────────────┼───────────────────────────────┼────────┘
//!                 mpsc channel│                 StreamHandler │ frames
//!                             ▼                               │
//!                 writer future (write_vectored)   reader stream (FrameDecoder)
//!                             ▼                               │
//!                     TcpStream write half           TcpStream read half
//! ```
//!
//! # Failure handling
//!
//! * **Connect failure** (TCP, `connect_timeout`, or version negotiation):
//!   every queued request fails with [`ConnectionError::Connect`]; nothing was
//!   sent. The next attempt waits `reconnect_backoff`.
//! * **Request timeout**: the expired request fails with
//!   [`ConnectionError::Timeout`] and, as in the Java client, the connection is
//!   closed because its stream can no longer be trusted.
//! * **Connection loss / protocol error**: every in-flight request fails
//!   ([`ConnectionError::Disconnected`] or [`ConnectionError::Protocol`]; the
//!   outcome is unknown). Requests that were queued but **not yet written are
//!   kept** and sent on a new connection after `reconnect_backoff`; if that
//!   reconnect fails they fail with [`ConnectionError::Connect`].
//! * **Actor stop**: in-flight requests fail with `Disconnected`, queued ones
//!   with [`ConnectionError::Closed`].
//!
//! Backpressure: at most `max_in_flight` requests that expect a response are
//! outstanding; the rest wait in the actor (callers bound how many they send).
//! The actor stays alive while a connection is open; stop it with [`Close`]
//! (or by stopping its arbiter/system).

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Message;
use bytes::Bytes;
use kafka_wire::api::{ApiKey, VersionRange};
use kafka_wire::messages::api_versions::ApiVersionsResponse;
use kafka_wire::messages::Request;
use kafka_wire::ErrorCode;

mod actor;
mod coalesce;
mod in_flight;
#[cfg(test)]
mod tests;

pub use actor::BrokerConnectionActor;

/// How to reach and talk to one broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// The broker's node id (for logs and errors).
    pub node_id: i32,
    /// The broker's address, `host:port`.
    pub addr: String,
    /// The client id sent in every request header.
    pub client_id: String,
    /// How long a written request may wait for its response before it fails
    /// with [`ConnectionError::Timeout`] (and the connection is closed). Also
    /// bounds the `ApiVersions` negotiation.
    pub request_timeout: Duration,
    /// How long the TCP connect may take.
    pub connect_timeout: Duration,
    /// Most requests awaiting a response on the connection at once (at least 1).
    pub max_in_flight: usize,
    /// The wait before connecting again after a failure.
    pub reconnect_backoff: Duration,
    /// The largest response frame accepted; a larger one is a protocol error.
    pub max_frame_size: usize,
    /// A connection with nothing in flight and no traffic for this long is
    /// closed (`connections_max_idle_ms`); the next request reconnects.
    pub idle_timeout: Duration,
    /// Highest versions to use per API, below what negotiation allows.
    pub max_versions: Vec<(ApiKey, i16)>,
}

impl ConnectionConfig {
    /// A configuration for node `node_id` at `addr` with the Java client's
    /// defaults: 30 s request timeout, 10 s connect timeout, 5 requests in
    /// flight, 50 ms reconnect backoff, 100 MiB frames, 9 min idle timeout.
    pub fn new(node_id: i32, addr: impl Into<String>) -> Self {
        ConnectionConfig {
            node_id,
            addr: addr.into(),
            client_id: "actix-kafka".to_owned(),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_in_flight: 5,
            reconnect_backoff: Duration::from_millis(50),
            max_frame_size: kafka_wire::frame::DEFAULT_MAX_FRAME_SIZE,
            idle_timeout: Duration::from_secs(540),
            max_versions: Vec::new(),
        }
    }
}

/// Sends any request at the version negotiated with this broker and returns
/// its response.
///
/// A `ProduceRequest` with `acks = 0` gets no response from the broker and is
/// refused with [`ConnectionError::Encode`]; send such batches as
/// [`ProducePartition`] instead.
#[derive(Debug, Clone)]
pub struct Call<R>(pub R);

impl<R: Request + Send + 'static> Message for Call<R>
where
    R::Response: Send + 'static,
{
    type Result = Result<R::Response, ConnectionError>;
}

/// Like [`Call`], at the highest negotiated version that lies in `versions`.
///
/// Transactions pin some APIs to one protocol generation (KIP-890: Produce
/// v12+, EndTxn v5+ and TxnOffsetCommit v5+ under `transaction.version` 2,
/// older versions under 1). If the negotiated version is above the range the
/// range's top is used; if it is below, the call fails with
/// [`ConnectionError::NoCommonVersion`] without being sent.
#[derive(Debug, Clone)]
pub struct CallWithin<R> {
    /// The request.
    pub request: R,
    /// The versions it may be sent at.
    pub versions: VersionRange,
}

impl<R: Request + Send + 'static> Message for CallWithin<R>
where
    R::Response: Send + 'static,
{
    type Result = Result<R::Response, ConnectionError>;
}

/// The version to send `api` at: the negotiated one, lowered into `within`
/// if given; `None` if none fits.
pub(crate) fn version_within(negotiated: Option<i16>, within: Option<VersionRange>) -> Option<i16> {
    let version = negotiated?;
    match within {
        None => Some(version),
        Some(range) => Some(version.min(range.max)).filter(|v| *v >= range.min),
    }
}

/// One partition's record batch to append.
///
/// All `ProducePartition` messages pending when the actor writes are coalesced
/// into one `ProduceRequest` per `(acks, timeout_ms, transactional_id,
/// versions)`, with
/// one entry per topic-partition: a second batch for a partition already in
/// the request goes into the next request, never into the same one.
#[derive(Debug, Clone)]
pub struct ProducePartition {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
    /// One encoded record batch (v2). The bytes are written to the socket as
    /// they are, without a copy, and kept alive until the request completes.
    pub records: Bytes,
    /// Acknowledgements required: 0, 1 or -1 (all).
    pub acks: i16,
    /// How long the broker may wait for the acknowledgements, in ms.
    pub timeout_ms: i32,
    /// The transactional id, for transactional producers.
    pub transactional_id: Option<String>,
    /// When the batch's delivery deadline passes. A batch still waiting to
    /// be written then (behind `max_in_flight` requests, or while
    /// connecting) fails with [`ConnectionError::Expired`] instead of being
    /// written late.
    pub deadline: Option<Instant>,
    /// The Produce versions the batch may be sent at (see [`CallWithin`]);
    /// `None` for any.
    pub versions: Option<VersionRange>,
}

impl Message for ProducePartition {
    type Result = Result<PartitionResult, ConnectionError>;
}

/// The broker's answer for one partition of a produce request.
///
/// With `acks = 0` there is no answer: the result is [`PartitionResult::no_ack`]
/// as soon as the request has been written to the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionResult {
    /// The partition-level error ([`ErrorCode::NONE`] on success).
    pub error_code: ErrorCode,
    /// Offset of the batch's first record (-1 if unknown).
    pub base_offset: i64,
    /// Broker append time if the topic uses `LogAppendTime`, else -1.
    pub log_append_time_ms: i64,
    /// The partition's log start offset (-1 if unknown).
    pub log_start_offset: i64,
    /// The broker's error message, if any (Produce v8+).
    pub error_message: Option<String>,
    /// The new leader `(leader id, leader epoch)` on `NOT_LEADER_OR_FOLLOWER`
    /// (Produce v10+, KIP-951).
    pub current_leader: Option<(i32, i32)>,
}

impl PartitionResult {
    /// The result of an `acks = 0` write: no error, every offset and time -1.
    pub fn no_ack() -> Self {
        PartitionResult {
            error_code: ErrorCode::NONE,
            base_offset: -1,
            log_append_time_ms: -1,
            log_start_offset: -1,
            error_message: None,
            current_leader: None,
        }
    }
}

/// The `ApiVersions` answer of this broker (connects first if needed).
#[derive(Debug, Clone, Copy)]
pub struct GetApiVersions;

impl Message for GetApiVersions {
    type Result = Result<Arc<ApiVersionsResponse>, ConnectionError>;
}

/// Stops the actor: the connection is closed, in-flight requests fail with
/// [`ConnectionError::Disconnected`] and queued ones with
/// [`ConnectionError::Closed`].
#[derive(Debug, Clone, Copy)]
pub struct Close;

impl Message for Close {
    type Result = ();
}

/// Why a request to a broker failed, and whether it may have been sent
/// ([`ConnectionError::maybe_sent`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The connection could not be established (TCP connect, connect timeout,
    /// or `ApiVersions` negotiation). The request was **not** sent.
    #[error("could not connect to {addr}: {reason}")]
    Connect {
        /// The broker address.
        addr: String,
        /// What went wrong.
        reason: String,
    },
    /// No response arrived within `request_timeout`. The request was written:
    /// its outcome is **unknown** (the broker may have applied it). The
    /// connection was closed.
    #[error("request to node {node_id} timed out after {timeout_ms} ms (outcome unknown)")]
    Timeout {
        /// The broker's node id.
        node_id: i32,
        /// The timeout that expired, in ms.
        timeout_ms: u64,
    },
    /// The connection was lost while the request was in flight: its outcome is
    /// **unknown**.
    #[error("connection to node {node_id} lost with the request in flight (outcome unknown): {reason}")]
    Disconnected {
        /// The broker's node id.
        node_id: i32,
        /// What happened to the connection.
        reason: String,
    },
    /// The broker's response could not be used: undecodable, a frame above
    /// `max_frame_size`, an unknown correlation id, or (for one partition of a
    /// produce request) a missing partition. The outcome is **unknown**. For
    /// stream-level problems the connection was closed.
    #[error("protocol error from node {node_id} (outcome unknown): {reason}")]
    Protocol {
        /// The broker's node id.
        node_id: i32,
        /// What was wrong.
        reason: String,
    },
    /// The request could not be encoded. It was **not** sent.
    #[error("request could not be encoded: {0}")]
    Encode(String),
    /// The broker supports no version of the API that this client speaks (or
    /// none in the range the request asked for). The request was **not** sent.
    #[error("node {node_id} supports no version of {api:?} that this client speaks here")]
    NoCommonVersion {
        /// The broker's node id.
        node_id: i32,
        /// The API.
        api: ApiKey,
    },
    /// The connection actor is stopping. The request was **not** sent.
    #[error("the broker connection is closed")]
    Closed,
    /// A produce batch reached its deadline while waiting to be written. It
    /// was **not** sent.
    #[error("the batch reached its delivery deadline before broker {node_id} could be sent it")]
    Expired {
        /// The broker.
        node_id: i32,
    },
}

impl ConnectionError {
    /// Whether the request may have reached the broker (its outcome is
    /// unknown): true for [`Timeout`](Self::Timeout),
    /// [`Disconnected`](Self::Disconnected) and [`Protocol`](Self::Protocol).
    pub fn maybe_sent(&self) -> bool {
        matches!(
            self,
            ConnectionError::Timeout { .. }
                | ConnectionError::Disconnected { .. }
                | ConnectionError::Protocol { .. }
        )
    }
}

#[cfg(test)]
mod version_tests {
    use super::*;

    #[test]
    fn a_version_range_lowers_or_refuses_the_negotiated_version() {
        let v1 = Some(VersionRange::new(3, 11));
        let v2 = Some(VersionRange::new(12, 13));
        assert_eq!(version_within(Some(12), None), Some(12));
        assert_eq!(version_within(Some(12), v1), Some(11), "lowered into the range");
        assert_eq!(version_within(Some(12), v2), Some(12));
        assert_eq!(version_within(Some(11), v2), None, "below the range: not sent");
        assert_eq!(version_within(None, v1), None);
    }
}
