//! The broker connection's plain types: its configuration, its errors and a
//! produce partition's result.
//!
//! A connection to one broker is driven by `actix-kafka`'s
//! `BrokerConnectionActor`; the types it hands back to the producer live here
//! so that the producer's rules can reason about them without actix. A
//! [`ConnectionError`] says whether a request **may have been sent**
//! ([`ConnectionError::maybe_sent`]): the one fact the retry and idempotence
//! rules need. It converts into the producer's [`ProducerError`] with `?`,
//! because every variant carries the broker it concerns.

use std::time::Duration;

use kafka_wire::api::{ApiKey, VersionRange};
use kafka_wire::ErrorCode;

use kafka_wire::EncodeError;

use crate::error::{ConnectFailure, Disconnect, ProducerError, ProtocolViolation};

pub mod coalesce;
pub mod in_flight;
pub mod negotiation;
pub mod state;
#[cfg(test)]
mod state_tests;

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

/// The version to send `api` at: the negotiated one, lowered into `within`
/// if given; `None` if none fits.
pub fn version_within(negotiated: Option<i16>, within: Option<VersionRange>) -> Option<i16> {
    let version = negotiated?;
    match within {
        None => Some(version),
        Some(range) => Some(version.min(range.max)).filter(|v| *v >= range.min),
    }
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

/// Why a request to a broker failed, and whether it may have been sent
/// ([`ConnectionError::maybe_sent`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The connection could not be established (TCP connect, connect timeout,
    /// or `ApiVersions` negotiation). The request was **not** sent.
    #[error("could not connect to node {node_id} at {addr}: {cause}")]
    Connect {
        /// The broker's node id (negative for a bootstrap server).
        node_id: i32,
        /// The broker address.
        addr: String,
        /// What went wrong.
        #[source]
        cause: ConnectFailure,
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
    #[error("connection to node {node_id} lost with the request in flight (outcome unknown): {cause}")]
    Disconnected {
        /// The broker's node id.
        node_id: i32,
        /// What happened to the connection.
        #[source]
        cause: Disconnect,
    },
    /// The broker's response could not be used: undecodable, a frame above
    /// `max_frame_size`, an unknown correlation id, or (for one partition of a
    /// produce request) a missing partition. The outcome is **unknown**. For
    /// stream-level problems the connection was closed.
    #[error("protocol error from node {node_id} (outcome unknown): {cause}")]
    Protocol {
        /// The broker's node id.
        node_id: i32,
        /// What was wrong.
        #[source]
        cause: ProtocolViolation,
    },
    /// The request could not be encoded. It was **not** sent.
    #[error("request to node {node_id} could not be encoded: {error}")]
    Encode {
        /// The broker's node id.
        node_id: i32,
        /// What the encoder refused.
        #[source]
        error: EncodeError,
    },
    /// The request is one the broker never answers (an `acks = 0` Produce
    /// request sent as a call that waits for its answer). It was **not** sent.
    #[error("node {node_id} would never answer this request (acks=0 produce); send it as a produce batch")]
    Unanswerable {
        /// The broker's node id.
        node_id: i32,
    },
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
    #[error("the connection to node {node_id} is closed")]
    Closed {
        /// The broker's node id.
        node_id: i32,
    },
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

/// The producer's view of a connection failure: the same broker and the
/// same typed cause. A request that could not be made at all (encode, no
/// common version) is a protocol error; a batch that expired unwritten is
/// [`ProducerError::BatchExpired`] (the partition, which knows since when
/// it waited, fills in the time).
impl From<ConnectionError> for ProducerError {
    fn from(error: ConnectionError) -> Self {
        let protocol = |node_id: i32, cause| ProducerError::Protocol {
            broker: node_id.into(),
            cause,
        };
        match error {
            ConnectionError::Connect { node_id, addr, cause } => ProducerError::Connection {
                broker: node_id.into(),
                addr,
                cause,
            },
            ConnectionError::Timeout { node_id, timeout_ms } => ProducerError::RequestTimedOut {
                broker: node_id.into(),
                timeout_ms,
            },
            ConnectionError::Disconnected { node_id, cause } => ProducerError::Disconnected {
                broker: node_id.into(),
                cause,
            },
            ConnectionError::Closed { node_id } => ProducerError::Disconnected {
                broker: node_id.into(),
                cause: Disconnect::ConnectionStopped,
            },
            ConnectionError::Protocol { node_id, cause } => protocol(node_id, cause),
            ConnectionError::Encode { node_id, error } => {
                protocol(node_id, ProtocolViolation::Unencodable(error))
            }
            ConnectionError::Unanswerable { node_id } => {
                protocol(node_id, ProtocolViolation::NoResponseExpected)
            }
            ConnectionError::NoCommonVersion { node_id, api } => {
                protocol(node_id, ProtocolViolation::NoCommonVersion { api })
            }
            ConnectionError::Expired { .. } => ProducerError::BatchExpired { waited_ms: 0 },
        }
    }
}

#[cfg(test)]
mod version_tests {
    use super::*;
    use crate::error::BrokerId;

    #[test]
    fn connection_errors_map_to_producer_errors_with_their_broker() {
        let connect = ConnectionError::Connect {
            node_id: -1,
            addr: "h:1".into(),
            cause: ConnectFailure::TimedOut { after_ms: 5 },
        };
        assert!(matches!(
            ProducerError::from(connect),
            ProducerError::Connection { broker: BrokerId(-1), addr, cause: ConnectFailure::TimedOut { .. } }
                if addr == "h:1"
        ));
        assert!(matches!(
            ProducerError::from(ConnectionError::Timeout {
                node_id: 4,
                timeout_ms: 30
            }),
            ProducerError::RequestTimedOut {
                broker: BrokerId(4),
                timeout_ms: 30
            }
        ));
        for lost in [
            ConnectionError::Closed { node_id: 4 },
            ConnectionError::Disconnected {
                node_id: 4,
                cause: Disconnect::ClosedByBroker,
            },
        ] {
            assert!(matches!(
                ProducerError::from(lost),
                ProducerError::Disconnected {
                    broker: BrokerId(4),
                    ..
                }
            ));
        }
        for (other, cause) in [
            (
                ConnectionError::Protocol {
                    node_id: 4,
                    cause: ProtocolViolation::UnknownCorrelationId(3),
                },
                ProtocolViolation::UnknownCorrelationId(3),
            ),
            (
                ConnectionError::Unanswerable { node_id: 4 },
                ProtocolViolation::NoResponseExpected,
            ),
            (
                ConnectionError::NoCommonVersion {
                    node_id: 4,
                    api: ApiKey::Produce,
                },
                ProtocolViolation::NoCommonVersion { api: ApiKey::Produce },
            ),
        ] {
            assert_eq!(
                ProducerError::from(other),
                ProducerError::Protocol {
                    broker: BrokerId(4),
                    cause
                }
            );
        }
        assert!(matches!(
            ProducerError::from(ConnectionError::Expired { node_id: 4 }),
            ProducerError::BatchExpired { .. }
        ));
    }

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
