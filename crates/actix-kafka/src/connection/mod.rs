//! One connection per broker node: [`BrokerConnectionActor`].
//!
//! The actor owns one TCP connection to one broker. It connects lazily (on the
//! first message), negotiates API versions (`ApiVersions` at our highest
//! version, retrying at the broker's highest on `UNSUPPORTED_VERSION`), and then
//! multiplexes requests over the connection by correlation id. Any request type
//! can be sent with [`Call`] (or [`CallWithin`] a version range); produce batches are sent one partition at a time
//! with [`ProducePartition`] and the actor coalesces every partition that is
//! pending when it writes into one `ProduceRequest`, routing each partition's
//! result back to its sender. The rules are sans-IO structs in
//! [`kafka_producer_core::connection`] (the in-flight table and the produce
//! coalescer, unit-tested without sockets); the actor (`actor.rs`) only moves
//! bytes and timers, and the socket futures (`io.rs`) run over any
//! `AsyncRead + AsyncWrite` stream. Both socket halves are driven from the
//! actor's own context, so handlers never block and never wait on I/O:
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
//!                  transport write half           transport read half
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

use actix::Message;
use kafka_wire::api::VersionRange;
use kafka_wire::messages::api_versions::ApiVersionsResponse;
use kafka_wire::messages::Request;

mod actor;
mod io;
#[cfg(test)]
mod tests;

pub use actor::BrokerConnectionActor;
pub use kafka_producer_core::connection::coalesce::PendingBatch;
pub use kafka_producer_core::connection::{ConnectionConfig, ConnectionError, PartitionResult};

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

/// One partition's record batch to append.
///
/// All `ProducePartition` messages pending when the actor writes are coalesced
/// into one `ProduceRequest` per `(acks, timeout_ms, transactional_id,
/// versions)`, with
/// one entry per topic-partition: a second batch for a partition already in
/// the request goes into the next request, never into the same one.
/// The batch is the core's [`PendingBatch`]; its `deadline` is when a batch
/// still waiting to be written (behind `max_in_flight` requests, or while
/// connecting) fails with [`ConnectionError::Expired`] instead of being
/// written late, and its `versions` bound the Produce version (see
/// [`CallWithin`]).
#[derive(Debug, Clone)]
pub struct ProducePartition(pub PendingBatch);

impl Message for ProducePartition {
    type Result = Result<PartitionResult, ConnectionError>;
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
