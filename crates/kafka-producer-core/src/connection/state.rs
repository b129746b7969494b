//! One broker connection's life, without a socket or a clock.
//!
//! [`ConnectionState`] decides when to connect, what to write, which answer
//! belongs to which request, when a request has timed out, when to close an
//! idle connection and when to try again after a failure:
//!
//! ```text
//!   Idle ──work──► Connecting ──handle_connected──► Connected ──idle_timeout──► Idle
//!    ▲                 │ handle_connect_failed           │ loss, timeout,
//!    │                 ▼                                 │ protocol error
//!    └──backoff──── Backoff ◄────────────────────────────┘
//! ```
//!
//! The driver owns the socket. It turns [`ConnectionEvent::Connect`] into a
//! connection attempt (TCP, then the [`ApiVersionsNegotiation`]),
//! [`ConnectionEvent::Write`] into bytes on the socket and
//! [`ConnectionEvent::Close`] into dropping it, and reports back with the
//! `handle_*` methods, tagging socket events with the attempt's
//! `generation` so that a late event of an old socket is ignored.
//!
//! Requests come in two kinds. A *call* ([`QueuedCall`]) is any request the
//! driver typed and type-erased: the state encodes it at the negotiated
//! version and gives the response body back to its [`CallAnswer`]. A
//! *produce batch* is one partition's [`PendingBatch`]; batches pending
//! together are coalesced into one `ProduceRequest` and each partition's
//! result comes back as [`ConnectionEvent::Produced`] with the driver's
//! reply handle `P`.
//!
//! [`ApiVersionsNegotiation`]: super::negotiation::ApiVersionsNegotiation

use std::collections::VecDeque;
use std::mem;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_wire::api::{ApiKey, NegotiatedVersions, VersionRange};
use kafka_wire::frame::{decode_response, encode_request, peek_correlation_id};
use kafka_wire::messages::api_versions::ApiVersionsResponse;
use kafka_wire::messages::produce::{ProduceRequest, ProduceResponse};
use kafka_wire::{DecodeError, EncodeError};

use super::coalesce::{PendingBatch, ProduceCoalescer, ProduceRouting};
use super::in_flight::InFlight;
use super::{version_within, ConnectionConfig, ConnectionError, PartitionResult};
use crate::error::{ConnectFailure, Disconnect, IoFailure, ProtocolViolation};

/// A request waiting to be written, type-erased by the driver.
pub trait QueuedCall {
    /// The API called.
    fn api(&self) -> ApiKey;
    /// The versions it may be sent at (`None`: any negotiated one).
    fn versions(&self) -> Option<VersionRange>;
    /// Whether the broker answers it (an `acks = 0` produce request is not
    /// answered, so it cannot be a call).
    fn expects_response(&self) -> bool;
    /// Encodes and frames the request.
    fn encode(&self, version: i16, correlation_id: i32, client_id: &str) -> Result<Vec<Bytes>, EncodeError>;
    /// The request is written: keep only what takes the response.
    fn into_answer(self: Box<Self>) -> Box<dyn CallAnswer>;
    /// It failed before it was written.
    fn fail(self: Box<Self>, error: ConnectionError);
}

/// Whoever takes the response of a written call.
pub trait CallAnswer {
    /// Decodes the frame `body` (header included) as the response of `api`
    /// at `version`. On a decode error the caller gets a
    /// [`ConnectionError::Protocol`] and the violation is returned, so that
    /// the connection is closed.
    fn respond(
        self: Box<Self>,
        node_id: i32,
        api: ApiKey,
        version: i16,
        correlation_id: i32,
        body: &[u8],
    ) -> Result<(), ProtocolViolation>;
    /// The request failed after it was written.
    fn fail(self: Box<Self>, error: ConnectionError);
}

/// Why the reading half of a connection ended.
#[derive(Debug)]
pub enum ReadFailure {
    /// End of stream or an I/O error.
    Closed(Disconnect),
    /// The framing is broken (e.g. a frame above `max_frame_size`).
    Frame(DecodeError),
}

/// Encoded request segments to write, in order.
#[derive(Debug)]
pub struct Write<P> {
    /// The connection attempt this write belongs to.
    pub generation: u64,
    /// The framed request, its record batches not copied.
    pub segments: Vec<Bytes>,
    /// The partitions of an `acks = 0` request: they succeed once written
    /// (no answer comes), and fail as `Disconnected` if they never are.
    pub no_ack: Vec<P>,
}

/// What the driver must do, in order.
#[derive(Debug)]
pub enum ConnectionEvent<P, V> {
    /// Open a connection and negotiate versions, then call
    /// [`ConnectionState::handle_connected`] or
    /// [`ConnectionState::handle_connect_failed`] with `generation`.
    Connect {
        /// Tags the attempt and the socket's later events.
        generation: u64,
    },
    /// Write these bytes on connection `generation`.
    Write(Write<P>),
    /// Drop connection `generation` (its reader and writer).
    Close {
        /// The connection to drop.
        generation: u64,
    },
    /// One partition's produce result.
    Produced(P, Result<PartitionResult, ConnectionError>),
    /// The broker's `ApiVersions` answer, for a waiter.
    Versions(V, Result<Arc<ApiVersionsResponse>, ConnectionError>),
}

/// When a SASL session is renewed, as a fraction of its lifetime: early
/// enough that the answers in flight (well under the rest of the lifetime
/// with Kafka's minimum `connections.max.reauth.ms` of seconds) come back
/// before the broker would refuse a request; the Java client renews between
/// 85 % and 95 %.
pub const SESSION_RENEWAL_FRACTION: f64 = 0.85;

/// The longest pause a broker's `throttle_time_ms` can impose on a
/// connection: a hostile or broken broker answering `i32::MAX` (24 days)
/// must not stall the producer; quotas throttle for seconds.
pub const MAX_THROTTLE: Duration = Duration::from_secs(30);

/// The shortest time a session is used before it is renewed, whatever
/// lifetime the broker names (a hostile or misconfigured broker could
/// otherwise make every connection close as soon as it opens).
pub const MIN_SESSION_RENEWAL: Duration = Duration::from_millis(500);

enum Phase<P> {
    /// No connection; the next request connects.
    Idle,
    /// A connection failed recently: wait before the next attempt.
    Backoff {
        until: Instant,
    },
    /// Connect and `ApiVersions` under way.
    Connecting,
    Connected(Link<P>),
}

/// An established connection.
struct Link<P> {
    generation: u64,
    in_flight: InFlight<Awaiting<P>>,
    versions: NegotiatedVersions,
    api_versions: Arc<ApiVersionsResponse>,
    next_correlation_id: i32,
    /// The last write or read, for the idle timeout.
    last_active: Instant,
    /// When the SASL session must be renewed (KIP-368): from then on nothing
    /// new is written, and once every answer is in the connection closes
    /// and the next request reconnects (authenticating afresh).
    renew_at: Option<Instant>,
    /// Renewal is due: write nothing more on this connection.
    draining: bool,
    /// The broker asked for a pause (`throttle_time_ms`, KIP-219): nothing
    /// is written before this.
    muted_until: Option<Instant>,
}

/// Who takes the answer of a written request.
enum Awaiting<P> {
    Call(Box<dyn CallAnswer>),
    Produce(ProduceRouting<P>),
}

/// See the module documentation. `P` is the driver's handle for one
/// partition's produce result, `V` for an `ApiVersions` waiter.
pub struct ConnectionState<P, V> {
    config: ConnectionConfig,
    phase: Phase<P>,
    calls: VecDeque<Box<dyn QueuedCall>>,
    produce: ProduceCoalescer<P>,
    version_waiters: Vec<V>,
    /// Incremented per connection attempt.
    generation: u64,
    events: VecDeque<ConnectionEvent<P, V>>,
}

impl<P, V> ConnectionState<P, V> {
    /// A connection to the broker `config` describes; it connects on the
    /// first request.
    pub fn new(config: ConnectionConfig) -> Self {
        ConnectionState {
            config,
            phase: Phase::Idle,
            calls: VecDeque::new(),
            produce: ProduceCoalescer::default(),
            version_waiters: Vec::new(),
            generation: 0,
            events: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ConnectionConfig {
        &self.config
    }

    /// The broker's node id.
    pub fn node_id(&self) -> i32 {
        self.config.node_id
    }

    /// The phase's name, for logs and `Debug`.
    pub fn phase(&self) -> &'static str {
        match self.phase {
            Phase::Idle => "idle",
            Phase::Backoff { .. } => "backoff",
            Phase::Connecting => "connecting",
            Phase::Connected(_) => "connected",
        }
    }

    /// Whether connection attempt `generation` is the open connection.
    pub fn is_connected(&self, generation: u64) -> bool {
        matches!(&self.phase, Phase::Connected(link) if link.generation == generation)
    }

    /// Calls waiting to be written.
    pub fn queued_calls(&self) -> usize {
        self.calls.len()
    }

    /// Queues a call and writes it as soon as the connection allows.
    pub fn handle_call(&mut self, now: Instant, call: Box<dyn QueuedCall>) {
        if !call.expects_response() {
            return call.fail(ConnectionError::Unanswerable {
                node_id: self.node_id(),
            });
        }
        self.calls.push_back(call);
        self.kick(now);
    }

    /// Queues one partition's batch. It is written at the next
    /// [`handle_flush`](Self::handle_flush), together with every batch queued
    /// before it, in one request.
    pub fn handle_produce(&mut self, batch: PendingBatch, reply: P) {
        self.produce.push(batch, reply);
    }

    /// Writes what is queued, or starts connecting.
    pub fn handle_flush(&mut self, now: Instant) {
        self.kick(now);
    }

    /// Asks for the broker's `ApiVersions` answer (connecting if needed).
    pub fn handle_get_versions(&mut self, now: Instant, waiter: V) {
        if let Phase::Connected(link) = &self.phase {
            let answer = Ok(link.api_versions.clone());
            self.events.push_back(ConnectionEvent::Versions(waiter, answer));
            return;
        }
        self.version_waiters.push(waiter);
        self.kick(now);
    }

    /// Attempt `generation` connected and negotiated: `api_versions` is the
    /// broker's answer, `next_correlation_id` the first id not used by the
    /// negotiation.
    pub fn handle_connected(
        &mut self,
        now: Instant,
        generation: u64,
        api_versions: ApiVersionsResponse,
        next_correlation_id: i32,
    ) {
        if !matches!(self.phase, Phase::Connecting) || generation != self.generation {
            return;
        }
        let versions =
            NegotiatedVersions::negotiate(&api_versions.broker_versions()).capped(&self.config.max_versions);
        tracing::info!(node_id = self.node_id(), addr = %self.config.addr, ?versions, "connected");
        let api_versions = Arc::new(api_versions);
        for waiter in self.version_waiters.drain(..) {
            let answer = Ok(api_versions.clone());
            self.events.push_back(ConnectionEvent::Versions(waiter, answer));
        }
        self.phase = Phase::Connected(Link {
            generation,
            in_flight: InFlight::default(),
            versions,
            api_versions,
            next_correlation_id,
            last_active: now,
            renew_at: None,
            draining: false,
            muted_until: None,
        });
        self.pump(now);
    }

    /// The broker gave connection `generation`'s SASL session a lifetime
    /// (KIP-368: `session_lifetime_ms` in `SaslAuthenticate`, set by the
    /// broker's `connections.max.reauth.ms`), counted from `now`.
    ///
    /// At [`SESSION_RENEWAL_FRACTION`] of it the connection stops writing,
    /// lets the requests in flight finish (the broker still answers them: it
    /// only refuses new requests after expiry), closes, and the next request
    /// reconnects and authenticates again. Nothing in flight is failed or
    /// resent, so order and exactly-once writes are untouched; requests
    /// queued meanwhile go out on the new connection in their order.
    pub fn handle_session_lifetime(&mut self, now: Instant, generation: u64, lifetime: Duration) {
        if let Some(link) = self.link(generation) {
            // A floor, so that a broker naming a tiny lifetime cannot make
            // the connection reconnect in a loop.
            let renew_in = lifetime
                .mul_f64(SESSION_RENEWAL_FRACTION)
                .max(MIN_SESSION_RENEWAL);
            link.renew_at = Some(now + renew_in);
            tracing::debug!(node_id = self.config.node_id, ?lifetime, "SASL session lifetime");
        }
    }

    /// Attempt `generation` failed: nothing queued was sent, so everything
    /// queued fails with [`ConnectionError::Connect`]; the next attempt waits
    /// `reconnect_backoff`.
    pub fn handle_connect_failed(&mut self, now: Instant, generation: u64, cause: ConnectFailure) {
        if !matches!(self.phase, Phase::Connecting) || generation != self.generation {
            return;
        }
        tracing::warn!(node_id = self.node_id(), addr = %self.config.addr, %cause, "connect failed");
        self.fail_queued(ConnectionError::Connect {
            node_id: self.node_id(),
            addr: self.config.addr.clone(),
            cause,
        });
        self.phase = Phase::Backoff {
            until: now + self.config.reconnect_backoff,
        };
    }

    /// A response frame (header included) arrived on `generation`.
    pub fn handle_frame(&mut self, now: Instant, generation: u64, body: &[u8]) {
        let node_id = self.node_id();
        let Some(link) = self.link(generation) else {
            return;
        };
        link.last_active = now;
        let protocol = |cause: ProtocolViolation| ConnectionError::Protocol { node_id, cause };
        let correlation_id = match peek_correlation_id(body) {
            Ok(id) => id,
            Err(e) => return self.disconnect(now, protocol(ProtocolViolation::NoHeader(e))),
        };
        let entry = match link.in_flight.complete(correlation_id) {
            Ok(entry) => entry,
            Err(expected) => {
                tracing::warn!(
                    node_id,
                    correlation_id,
                    ?expected,
                    "response out of order or unknown"
                );
                let cause = match expected {
                    Some(expected) => ProtocolViolation::OutOfOrder {
                        got: correlation_id,
                        expected,
                    },
                    None => ProtocolViolation::UnknownCorrelationId(correlation_id),
                };
                return self.disconnect(now, protocol(cause));
            }
        };
        tracing::trace!(node_id, correlation_id, api = ?entry.api, "response");
        let (api, version) = (entry.api, entry.version);
        let mut throttle_ms = 0;
        let answered = match entry.responder {
            Awaiting::Call(answer) => answer.respond(node_id, api, version, correlation_id, body),
            Awaiting::Produce(routing) => {
                match decode_response::<ProduceResponse>(api, version, correlation_id, body) {
                    Ok(response) => {
                        throttle_ms = response.throttle_time_ms;
                        let results = routing.route(node_id, response);
                        self.events
                            .extend(results.into_iter().map(|(p, r)| ConnectionEvent::Produced(p, r)));
                        Ok(())
                    }
                    Err(error) => {
                        let cause = ProtocolViolation::Undecodable { api, version, error };
                        self.fail_routing(routing, &protocol(cause.clone()));
                        Err(cause)
                    }
                }
            }
        };
        if let Some(link) = self.link(generation) {
            link.mute(now, throttle_ms, node_id);
        }
        match answered {
            Ok(()) => self.pump(now),
            Err(violation) => {
                tracing::warn!(node_id, correlation_id, ?api, %violation, "undecodable response");
                let cause = Disconnect::AfterProtocolError(violation);
                self.disconnect(now, ConnectionError::Disconnected { node_id, cause });
            }
        }
    }

    /// The reading half of `generation` ended.
    pub fn handle_read_failed(&mut self, now: Instant, generation: u64, failure: ReadFailure) {
        if self.link(generation).is_none() {
            return;
        }
        let node_id = self.node_id();
        let error = match failure {
            ReadFailure::Closed(cause) => ConnectionError::Disconnected { node_id, cause },
            ReadFailure::Frame(e) => ConnectionError::Protocol {
                node_id,
                cause: ProtocolViolation::Frame(e),
            },
        };
        self.disconnect(now, error);
    }

    /// Writing on `generation` failed.
    pub fn handle_write_failed(&mut self, now: Instant, generation: u64, failure: IoFailure) {
        if self.link(generation).is_some() {
            let node_id = self.node_id();
            let cause = Disconnect::Write(failure);
            self.disconnect(now, ConnectionError::Disconnected { node_id, cause });
        }
    }

    /// Does what is due at `now`: batches past their deadline that were
    /// never written fail as [`ConnectionError::Expired`]; a request past
    /// `request_timeout` fails as [`ConnectionError::Timeout`] and closes the
    /// connection (its stream can no longer be trusted, as in the Java
    /// client); a connection unused for `idle_timeout` closes quietly; a
    /// backoff that ended lets the next request connect.
    pub fn handle_timeout(&mut self, now: Instant) {
        let node_id = self.node_id();
        for reply in self.produce.expire(now) {
            let error = ConnectionError::Expired { node_id };
            self.events
                .push_back(ConnectionEvent::Produced(reply, Err(error)));
        }
        match &mut self.phase {
            Phase::Backoff { until } if now >= *until => {
                self.phase = Phase::Idle;
                self.kick(now);
            }
            Phase::Connected(link) => {
                let expired = link.in_flight.expire(now);
                if expired.is_empty() && (link.renewal_due(now) || link.unmute(now)) {
                    return self.pump(now);
                }
                if expired.is_empty() {
                    if link.in_flight.is_empty() && now >= link.last_active + self.config.idle_timeout {
                        tracing::debug!(node_id, "closing idle connection");
                        let generation = link.generation;
                        self.phase = Phase::Idle;
                        self.events.push_back(ConnectionEvent::Close { generation });
                    }
                    return;
                }
                let timeout_ms = u64::try_from(self.config.request_timeout.as_millis()).unwrap_or(u64::MAX);
                for entry in expired {
                    tracing::warn!(node_id, correlation_id = entry.correlation_id, api = ?entry.api, timeout_ms, "request timed out");
                    self.fail_awaiting(entry.responder, &ConnectionError::Timeout { node_id, timeout_ms });
                }
                let cause = Disconnect::AfterTimeout;
                self.disconnect(now, ConnectionError::Disconnected { node_id, cause });
            }
            _ => {}
        }
    }

    /// Stops for good: requests in flight fail as
    /// [`ConnectionError::Disconnected`] (their outcome is unknown), queued
    /// ones as [`ConnectionError::Closed`].
    pub fn close(&mut self) {
        let node_id = self.node_id();
        if let Phase::Connected(mut link) = mem::replace(&mut self.phase, Phase::Idle) {
            self.events.push_back(ConnectionEvent::Close {
                generation: link.generation,
            });
            for entry in link.in_flight.drain() {
                let cause = Disconnect::ConnectionStopped;
                self.fail_awaiting(entry.responder, &ConnectionError::Disconnected { node_id, cause });
            }
        }
        self.fail_queued(ConnectionError::Closed { node_id });
    }

    /// The next thing to do, if any.
    pub fn poll_event(&mut self) -> Option<ConnectionEvent<P, V>> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) next has work.
    pub fn poll_deadline(&self) -> Option<Instant> {
        let phase = match &self.phase {
            Phase::Backoff { until } => Some(*until),
            Phase::Connected(link) => {
                let quiet = match link.in_flight.next_deadline() {
                    Some(deadline) => deadline,
                    None => link.last_active + self.config.idle_timeout,
                };
                // Once renewal is due (`renew_at` taken), answers move it.
                let renew_or_quiet = link.renew_at.map_or(quiet, |renew| renew.min(quiet));
                Some(link.muted_until.map_or(renew_or_quiet, |t| t.min(renew_or_quiet)))
            }
            Phase::Idle | Phase::Connecting => None,
        };
        [phase, self.produce.next_deadline()].into_iter().flatten().min()
    }

    fn link(&mut self, generation: u64) -> Option<&mut Link<P>> {
        match &mut self.phase {
            Phase::Connected(link) if link.generation == generation => Some(link),
            _ => None,
        }
    }

    fn has_work(&self) -> bool {
        !self.calls.is_empty() || !self.produce.is_empty() || !self.version_waiters.is_empty()
    }

    fn kick(&mut self, now: Instant) {
        match self.phase {
            Phase::Connected(_) => self.pump(now),
            Phase::Idle if self.has_work() => {
                self.phase = Phase::Connecting;
                self.generation += 1;
                tracing::debug!(node_id = self.node_id(), addr = %self.config.addr, "connecting");
                self.events.push_back(ConnectionEvent::Connect {
                    generation: self.generation,
                });
            }
            Phase::Idle | Phase::Backoff { .. } | Phase::Connecting => {}
        }
    }

    /// Writes queued calls, then coalesced produce requests, while fewer
    /// than `max_in_flight` requests await a response.
    fn pump(&mut self, now: Instant) {
        let max_in_flight = self.config.max_in_flight.max(1);
        loop {
            let Phase::Connected(link) = &mut self.phase else {
                return;
            };
            if link.renewal_due(now) {
                return self.renew_session();
            }
            if link.is_muted(now) {
                return;
            }
            if link.in_flight.len() >= max_in_flight {
                return;
            }
            if let Some(call) = self.calls.pop_front() {
                link.write_call(now, call, &self.config, &mut self.events);
            } else if let Some((request, routing)) = self.produce.next_request() {
                link.write_produce(now, request, routing, &self.config, &mut self.events);
            } else {
                return;
            }
        }
    }

    /// The session is due for renewal: once nothing is in flight, close
    /// quietly and reconnect if there is work (see
    /// [`handle_session_lifetime`](Self::handle_session_lifetime)).
    fn renew_session(&mut self) {
        let Phase::Connected(link) = &self.phase else {
            return;
        };
        if !link.in_flight.is_empty() {
            return;
        }
        let generation = link.generation;
        tracing::debug!(
            node_id = self.node_id(),
            "renewing the SASL session: reconnecting"
        );
        self.phase = Phase::Idle;
        self.events.push_back(ConnectionEvent::Close { generation });
        if self.has_work() {
            self.phase = Phase::Connecting;
            self.generation += 1;
            self.events.push_back(ConnectionEvent::Connect {
                generation: self.generation,
            });
        }
    }

    /// Closes the connection: every request in flight fails with `error`.
    /// Queued requests stay queued and go out on the next connection, after
    /// `reconnect_backoff`.
    fn disconnect(&mut self, now: Instant, error: ConnectionError) {
        let backoff = Phase::Backoff {
            until: now + self.config.reconnect_backoff,
        };
        let Phase::Connected(mut link) = mem::replace(&mut self.phase, backoff) else {
            return;
        };
        tracing::warn!(node_id = self.node_id(), in_flight = link.in_flight.len(), error = %error, "closing connection");
        self.events.push_back(ConnectionEvent::Close {
            generation: link.generation,
        });
        for entry in link.in_flight.drain() {
            self.fail_awaiting(entry.responder, &error);
        }
    }

    /// Fails every request that has not been written.
    fn fail_queued(&mut self, error: ConnectionError) {
        for call in self.calls.drain(..) {
            call.fail(error.clone());
        }
        for reply in self.produce.drain() {
            self.events
                .push_back(ConnectionEvent::Produced(reply, Err(error.clone())));
        }
        for waiter in self.version_waiters.drain(..) {
            self.events
                .push_back(ConnectionEvent::Versions(waiter, Err(error.clone())));
        }
    }

    fn fail_awaiting(&mut self, awaiting: Awaiting<P>, error: &ConnectionError) {
        match awaiting {
            Awaiting::Call(answer) => answer.fail(error.clone()),
            Awaiting::Produce(routing) => self.fail_routing(routing, error),
        }
    }

    fn fail_routing(&mut self, routing: ProduceRouting<P>, error: &ConnectionError) {
        for reply in routing.into_responders() {
            self.events
                .push_back(ConnectionEvent::Produced(reply, Err(error.clone())));
        }
    }
}

impl<P> Link<P> {
    /// The broker throttled us for `throttle_ms` (KIP-219: it answers at
    /// once and expects the client to wait): write nothing for that long,
    /// at most [`MAX_THROTTLE`].
    fn mute(&mut self, now: Instant, throttle_ms: i32, node_id: i32) {
        let Ok(ms) = u64::try_from(throttle_ms) else {
            return;
        };
        if ms == 0 {
            return;
        }
        let pause = Duration::from_millis(ms).min(MAX_THROTTLE);
        tracing::info!(node_id, throttle_ms, ?pause, "the broker throttles this producer");
        let until = now + pause;
        self.muted_until = Some(self.muted_until.map_or(until, |t| t.max(until)));
    }

    fn is_muted(&self, now: Instant) -> bool {
        self.muted_until.is_some_and(|t| now < t)
    }

    /// Whether a pause ended now (so writing may resume).
    fn unmute(&mut self, now: Instant) -> bool {
        if self.muted_until.is_some_and(|t| now >= t) {
            self.muted_until = None;
            return true;
        }
        false
    }

    /// Whether the session renewal has begun (starting it when its time
    /// has come).
    fn renewal_due(&mut self, now: Instant) -> bool {
        if self.renew_at.is_some_and(|at| now >= at) {
            self.renew_at = None;
            self.draining = true;
        }
        self.draining
    }

    fn take_correlation_id(&mut self, now: Instant) -> i32 {
        self.last_active = now;
        let id = self.next_correlation_id;
        self.next_correlation_id = id.wrapping_add(1) & i32::MAX;
        id
    }

    fn write_call<V>(
        &mut self,
        now: Instant,
        call: Box<dyn QueuedCall>,
        config: &ConnectionConfig,
        events: &mut VecDeque<ConnectionEvent<P, V>>,
    ) {
        let node_id = config.node_id;
        let api = call.api();
        let Some(version) = version_within(self.versions.version(api), call.versions()) else {
            return call.fail(ConnectionError::NoCommonVersion { node_id, api });
        };
        let correlation_id = self.take_correlation_id(now);
        match call.encode(version, correlation_id, &config.client_id) {
            Ok(segments) => {
                let deadline = now + config.request_timeout;
                let answer = Awaiting::Call(call.into_answer());
                self.in_flight
                    .insert(correlation_id, api, version, deadline, answer);
                tracing::trace!(node_id, correlation_id, ?api, version, "request");
                events.push_back(ConnectionEvent::Write(Write {
                    generation: self.generation,
                    segments,
                    no_ack: Vec::new(),
                }));
            }
            Err(error) => call.fail(ConnectionError::Encode { node_id, error }),
        }
    }

    fn write_produce<V>(
        &mut self,
        now: Instant,
        request: ProduceRequest,
        routing: ProduceRouting<P>,
        config: &ConnectionConfig,
        events: &mut VecDeque<ConnectionEvent<P, V>>,
    ) {
        let node_id = config.node_id;
        let api = ApiKey::Produce;
        let fail = |routing: ProduceRouting<P>, error: ConnectionError, events: &mut VecDeque<_>| {
            for reply in routing.into_responders() {
                events.push_back(ConnectionEvent::Produced(reply, Err(error.clone())));
            }
        };
        let Some(version) = version_within(self.versions.version(api), routing.versions) else {
            return fail(routing, ConnectionError::NoCommonVersion { node_id, api }, events);
        };
        let correlation_id = self.take_correlation_id(now);
        let segments = match encode_request(&request, version, correlation_id, Some(&config.client_id)) {
            Ok(segments) => segments,
            Err(error) => return fail(routing, ConnectionError::Encode { node_id, error }, events),
        };
        let partitions: usize = request.topic_data.iter().map(|t| t.partition_data.len()).sum();
        tracing::trace!(
            node_id,
            correlation_id,
            ?api,
            version,
            partitions,
            acks = request.acks,
            "request"
        );
        let no_ack = if request.expects_response() {
            let deadline = now + config.request_timeout;
            let awaiting = Awaiting::Produce(routing);
            self.in_flight
                .insert(correlation_id, api, version, deadline, awaiting);
            Vec::new()
        } else {
            routing.into_responders().collect()
        };
        events.push_back(ConnectionEvent::Write(Write {
            generation: self.generation,
            segments,
            no_ack,
        }));
    }
}
