//! The actor: connection state and handlers; the socket futures are in `io`.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::mem;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use bytes::Bytes;
use kafka_wire::api::{ApiKey, NegotiatedVersions, VersionRange};
use kafka_wire::frame::{decode_response, encode_request, peek_correlation_id, FrameDecoder};
use kafka_wire::messages::api_versions::ApiVersionsResponse;
use kafka_wire::messages::produce::{ProduceRequest, ProduceResponse};
use kafka_wire::messages::{Request, Response};
use kafka_wire::EncodeError;
use tokio::sync::{mpsc, oneshot};

use super::{
    version_within, Call, CallWithin, Close, ConnectionConfig, ConnectionError, GetApiVersions,
    PartitionResult, ProducePartition,
};
use kafka_producer_core::connection::coalesce::{ProduceCoalescer, ProduceRouting};
use kafka_producer_core::connection::in_flight::InFlight;

use super::io::{
    establish, frames, write_loop, Established, Inbound, NoAckReply, PartitionReply, ReadFailure, WriteJob,
};

/// Where an `ApiVersions` answer goes.
type VersionsReply = oneshot::Sender<Result<Arc<ApiVersionsResponse>, ConnectionError>>;

/// How often batches waiting to be written are checked against their deadline.
const EXPIRY_TICK: Duration = Duration::from_millis(50);

/// The connection actor for one broker node. See the [module docs](super).
pub struct BrokerConnectionActor {
    config: ConnectionConfig,
    state: State,
    /// `Call`s waiting to be written, oldest first.
    calls: VecDeque<Box<dyn QueuedCall>>,
    /// `ProducePartition`s waiting to be written.
    produce: ProduceCoalescer<PartitionReply>,
    /// `GetApiVersions` callers waiting for a connection.
    version_waiters: Vec<VersionsReply>,
    /// Whether a `Flush` is already queued in the context.
    flush_scheduled: bool,
    /// Incremented per connection attempt; tags socket events.
    generation: u64,
}

enum State {
    /// No connection; the next request connects.
    Idle,
    /// A connection failed recently: wait `reconnect_backoff` before the next.
    Backoff,
    /// TCP connect and `ApiVersions` under way.
    Connecting,
    Connected(Connection),
}

/// An established connection.
struct Connection {
    generation: u64,
    /// Feeds the writer future.
    writer: mpsc::UnboundedSender<WriteJob>,
    /// The reader stream, the writer future and the timeout timer.
    handles: [SpawnHandle; 3],
    in_flight: InFlight<Box<dyn Responder>>,
    versions: NegotiatedVersions,
    api_versions: Arc<ApiVersionsResponse>,
    next_correlation_id: i32,
    /// The last write or read, for the idle timeout.
    last_active: Instant,
}

impl BrokerConnectionActor {
    /// An actor for the broker described by `config`. It connects on the first
    /// message; start it with `.start()` inside an actix `System`.
    pub fn new(config: ConnectionConfig) -> Self {
        BrokerConnectionActor {
            config,
            state: State::Idle,
            calls: VecDeque::new(),
            produce: ProduceCoalescer::default(),
            version_waiters: Vec::new(),
            flush_scheduled: false,
            generation: 0,
        }
    }

    fn node_id(&self) -> i32 {
        self.config.node_id
    }

    fn has_work(&self) -> bool {
        !self.calls.is_empty() || !self.produce.is_empty() || !self.version_waiters.is_empty()
    }

    /// Makes progress: writes what the connection allows, or starts connecting.
    fn kick(&mut self, ctx: &mut Context<Self>) {
        match self.state {
            State::Connected(_) => self.pump(),
            State::Idle if self.has_work() => self.connect(ctx),
            State::Idle | State::Backoff | State::Connecting => {}
        }
    }

    /// Writes queued calls, then coalesced produce requests, while fewer than
    /// `max_in_flight` requests await a response.
    fn pump(&mut self) {
        let State::Connected(conn) = &mut self.state else {
            return;
        };
        if conn.writer.is_closed() {
            return; // the writer failed; its end is being reported
        }
        let max_in_flight = self.config.max_in_flight.max(1);
        while conn.in_flight.len() < max_in_flight {
            if let Some(call) = self.calls.pop_front() {
                conn.write_call(call, &self.config);
            } else if let Some((request, routing)) = self.produce.next_request() {
                conn.write_produce(request, routing, &self.config);
            } else {
                break;
            }
        }
    }

    fn connect(&mut self, ctx: &mut Context<Self>) {
        self.state = State::Connecting;
        self.generation += 1;
        let config = self.config.clone();
        tracing::debug!(node_id = config.node_id, addr = %config.addr, "connecting");
        let attempt = establish(config);
        ctx.spawn(
            attempt
                .into_actor(self)
                .map(|result, act, ctx| act.on_established(result, ctx)),
        );
    }

    fn on_established(&mut self, result: Result<Established, String>, ctx: &mut Context<Self>) {
        if !matches!(self.state, State::Connecting) {
            return;
        }
        let established = match result {
            Ok(established) => established,
            Err(reason) => {
                tracing::warn!(node_id = self.node_id(), addr = %self.config.addr, %reason, "connect failed");
                self.fail_queued(ConnectionError::Connect {
                    addr: self.config.addr.clone(),
                    reason,
                });
                self.enter_backoff(ctx);
                return;
            }
        };
        let Established {
            stream,
            buffer,
            api_versions,
            next_correlation_id,
        } = established;
        let generation = self.generation;
        let versions =
            NegotiatedVersions::negotiate(&api_versions.broker_versions()).capped(&self.config.max_versions);
        let api_versions = Arc::new(api_versions);
        tracing::info!(node_id = self.node_id(), addr = %self.config.addr, ?versions, "connected");

        let (read_half, write_half) = tokio::io::split(stream);
        let decoder = FrameDecoder::new(self.config.max_frame_size);
        let reader = ctx.add_stream(Box::pin(frames(read_half, buffer, decoder, generation)));
        let (writer, jobs) = mpsc::unbounded_channel();
        let write = write_loop(write_half, jobs)
            .into_actor(self)
            .map(move |result, act, ctx| act.on_writer_end(generation, result, ctx));
        let writer_handle = ctx.spawn(write);
        let tick =
            (self.config.request_timeout / 10).clamp(Duration::from_millis(5), Duration::from_millis(100));
        let timer = ctx.run_interval(tick, |act, ctx| act.expire(ctx));

        for waiter in self.version_waiters.drain(..) {
            let _ = waiter.send(Ok(api_versions.clone()));
        }
        self.state = State::Connected(Connection {
            generation,
            writer,
            handles: [reader, writer_handle, timer],
            in_flight: InFlight::default(),
            versions,
            api_versions,
            next_correlation_id,
            last_active: Instant::now(),
        });
        self.pump();
    }

    fn enter_backoff(&mut self, ctx: &mut Context<Self>) {
        self.state = State::Backoff;
        ctx.run_later(self.config.reconnect_backoff, |act, ctx| {
            if matches!(act.state, State::Backoff) {
                act.state = State::Idle;
                act.kick(ctx);
            }
        });
    }

    fn is_current(&self, generation: u64) -> bool {
        matches!(&self.state, State::Connected(conn) if conn.generation == generation)
    }

    /// Closes the connection: every request in flight fails with `error`.
    /// Queued requests stay queued and go out on the next connection, after
    /// `reconnect_backoff`.
    fn disconnect(&mut self, error: ConnectionError, ctx: &mut Context<Self>) {
        let State::Connected(mut conn) = mem::replace(&mut self.state, State::Idle) else {
            return;
        };
        tracing::warn!(
            node_id = self.node_id(),
            in_flight = conn.in_flight.len(),
            error = %error,
            "closing connection"
        );
        for handle in conn.handles {
            ctx.cancel_future(handle);
        }
        for entry in conn.in_flight.drain() {
            entry.responder.fail(error.clone());
        }
        self.enter_backoff(ctx);
    }

    /// Fails every request that has not been written.
    fn fail_queued(&mut self, error: ConnectionError) {
        for call in self.calls.drain(..) {
            call.fail(error.clone());
        }
        for reply in self.produce.drain() {
            let _ = reply.send(Err(error.clone()));
        }
        for waiter in self.version_waiters.drain(..) {
            let _ = waiter.send(Err(error.clone()));
        }
    }

    fn on_frame(&mut self, body: Bytes, ctx: &mut Context<Self>) {
        let node_id = self.node_id();
        let State::Connected(conn) = &mut self.state else {
            return;
        };
        conn.last_active = Instant::now();
        let protocol = |reason: String| ConnectionError::Protocol { node_id, reason };
        let correlation_id = match peek_correlation_id(&body) {
            Ok(id) => id,
            Err(e) => return self.disconnect(protocol(format!("response without a header: {e}")), ctx),
        };
        let Some(entry) = conn.in_flight.complete(correlation_id) else {
            tracing::warn!(node_id, correlation_id, "response with an unknown correlation id");
            let reason = format!("response with unknown correlation id {correlation_id}");
            return self.disconnect(protocol(reason), ctx);
        };
        tracing::trace!(node_id, correlation_id, api = ?entry.api, "response");
        match entry
            .responder
            .respond(node_id, entry.api, entry.version, correlation_id, &body)
        {
            Ok(()) => self.pump(),
            Err(reason) => {
                tracing::warn!(node_id, correlation_id, api = ?entry.api, %reason, "undecodable response");
                let reason = format!("connection closed after a protocol error on another request: {reason}");
                self.disconnect(ConnectionError::Disconnected { node_id, reason }, ctx);
            }
        }
    }

    /// Fails requests past their deadline; a timeout closes the connection.
    fn expire(&mut self, ctx: &mut Context<Self>) {
        let node_id = self.node_id();
        let State::Connected(conn) = &mut self.state else {
            return;
        };
        let expired = conn.in_flight.expire(Instant::now());
        if expired.is_empty() {
            if conn.in_flight.is_empty() && conn.last_active.elapsed() >= self.config.idle_timeout {
                self.close_idle(ctx);
            }
            return;
        }
        let timeout_ms = u64::try_from(self.config.request_timeout.as_millis()).unwrap_or(u64::MAX);
        for entry in expired {
            tracing::warn!(node_id, correlation_id = entry.correlation_id, api = ?entry.api, timeout_ms, "request timed out");
            entry
                .responder
                .fail(ConnectionError::Timeout { node_id, timeout_ms });
        }
        let reason = "connection closed after a request on it timed out".to_owned();
        self.disconnect(ConnectionError::Disconnected { node_id, reason }, ctx);
    }

    /// Closes a connection nobody used for `idle_timeout`; no error, no
    /// backoff: the next request simply connects again.
    fn close_idle(&mut self, ctx: &mut Context<Self>) {
        if let State::Connected(conn) = mem::replace(&mut self.state, State::Idle) {
            tracing::debug!(node_id = self.node_id(), "closing idle connection");
            for handle in conn.handles {
                ctx.cancel_future(handle);
            }
        }
    }

    fn on_writer_end(&mut self, generation: u64, result: Result<(), String>, ctx: &mut Context<Self>) {
        if let (Err(reason), true) = (result, self.is_current(generation)) {
            let node_id = self.node_id();
            self.disconnect(ConnectionError::Disconnected { node_id, reason }, ctx);
        }
    }
}

impl Connection {
    fn next_correlation_id(&mut self) -> i32 {
        self.last_active = Instant::now();
        let id = self.next_correlation_id;
        self.next_correlation_id = id.wrapping_add(1) & i32::MAX;
        id
    }

    fn write_call(&mut self, call: Box<dyn QueuedCall>, config: &ConnectionConfig) {
        let node_id = config.node_id;
        let api = call.api();
        let Some(version) = version_within(self.versions.version(api), call.versions()) else {
            return call.fail(ConnectionError::NoCommonVersion { node_id, api });
        };
        let correlation_id = self.next_correlation_id();
        match call.encode(version, correlation_id, &config.client_id) {
            Ok(segments) => {
                let deadline = Instant::now() + config.request_timeout;
                self.in_flight
                    .insert(correlation_id, api, version, deadline, call.into_responder());
                tracing::trace!(node_id, correlation_id, ?api, version, "request");
                let _ = self.writer.send(WriteJob {
                    segments,
                    written: None,
                });
            }
            Err(e) => call.fail(ConnectionError::Encode {
                node_id,
                reason: e.to_string(),
            }),
        }
    }

    fn write_produce(
        &mut self,
        request: ProduceRequest,
        routing: ProduceRouting<PartitionReply>,
        config: &ConnectionConfig,
    ) {
        let node_id = config.node_id;
        let api = ApiKey::Produce;
        let fail = |routing: ProduceRouting<PartitionReply>, error: ConnectionError| {
            for reply in routing.into_responders() {
                let _ = reply.send(Err(error.clone()));
            }
        };
        let Some(version) = version_within(self.versions.version(api), routing.versions) else {
            return fail(routing, ConnectionError::NoCommonVersion { node_id, api });
        };
        let correlation_id = self.next_correlation_id();
        let segments = match encode_request(&request, version, correlation_id, Some(&config.client_id)) {
            Ok(segments) => segments,
            Err(e) => {
                return fail(
                    routing,
                    ConnectionError::Encode {
                        node_id,
                        reason: e.to_string(),
                    },
                )
            }
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
        let written = if request.expects_response() {
            let deadline = Instant::now() + config.request_timeout;
            let responder = Box::new(ProduceReply { routing });
            self.in_flight
                .insert(correlation_id, api, version, deadline, responder);
            None
        } else {
            Some(NoAckReply {
                node_id,
                replies: routing.into_responders().collect(),
            })
        };
        let _ = self.writer.send(WriteJob { segments, written });
    }
}

impl fmt::Debug for BrokerConnectionActor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Idle => "idle",
            State::Backoff => "backoff",
            State::Connecting => "connecting",
            State::Connected(_) => "connected",
        };
        f.debug_struct("BrokerConnectionActor")
            .field("node_id", &self.config.node_id)
            .field("addr", &self.config.addr)
            .field("state", &state)
            .field("queued_calls", &self.calls.len())
            .finish_non_exhaustive()
    }
}

impl Actor for BrokerConnectionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Batches waiting to be written expire at their delivery deadline,
        // whatever the connection's state.
        ctx.run_interval(EXPIRY_TICK, |act, _| {
            let node_id = act.node_id();
            for responder in act.produce.expire(Instant::now()) {
                let _ = responder.send(Err(ConnectionError::Expired { node_id }));
            }
        });
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        if let State::Connected(mut conn) = mem::replace(&mut self.state, State::Idle) {
            let node_id = self.node_id();
            for entry in conn.in_flight.drain() {
                let reason = "the connection actor stopped".to_owned();
                entry
                    .responder
                    .fail(ConnectionError::Disconnected { node_id, reason });
            }
        }
        self.fail_queued(ConnectionError::Closed {
            node_id: self.node_id(),
        });
    }
}

impl<R> Handler<Call<R>> for BrokerConnectionActor
where
    R: Request + Send + 'static,
    R::Response: Send + 'static,
{
    type Result = ResponseFuture<Result<R::Response, ConnectionError>>;

    fn handle(&mut self, Call(request): Call<R>, ctx: &mut Self::Context) -> Self::Result {
        self.queue_call(request, None, ctx)
    }
}

impl<R> Handler<CallWithin<R>> for BrokerConnectionActor
where
    R: Request + Send + 'static,
    R::Response: Send + 'static,
{
    type Result = ResponseFuture<Result<R::Response, ConnectionError>>;

    fn handle(&mut self, call: CallWithin<R>, ctx: &mut Self::Context) -> Self::Result {
        self.queue_call(call.request, Some(call.versions), ctx)
    }
}

impl BrokerConnectionActor {
    fn queue_call<R>(
        &mut self,
        request: R,
        versions: Option<VersionRange>,
        ctx: &mut Context<Self>,
    ) -> ResponseFuture<Result<R::Response, ConnectionError>>
    where
        R: Request + Send + 'static,
        R::Response: Send + 'static,
    {
        let unanswered = (&request as &dyn Any)
            .downcast_ref::<ProduceRequest>()
            .is_some_and(|p| !p.expects_response());
        if unanswered {
            let reason = "an acks=0 produce request gets no response; send it as ProducePartition";
            return Box::pin(std::future::ready(Err(ConnectionError::Encode {
                node_id: self.node_id(),
                reason: reason.to_owned(),
            })));
        }
        let (reply, response) = oneshot::channel();
        self.calls.push_back(Box::new(CallJob {
            request,
            versions,
            reply,
        }));
        self.kick(ctx);
        let node_id = self.node_id();
        Box::pin(async move { response.await.unwrap_or(Err(ConnectionError::Closed { node_id })) })
    }
}

impl Handler<ProducePartition> for BrokerConnectionActor {
    type Result = ResponseFuture<Result<PartitionResult, ConnectionError>>;

    fn handle(&mut self, batch: ProducePartition, ctx: &mut Self::Context) -> Self::Result {
        let (reply, result) = oneshot::channel();
        self.produce.push(batch.0, reply);
        // Write on the next turn, after every message already in the mailbox,
        // so that they all share one request.
        if !self.flush_scheduled {
            self.flush_scheduled = true;
            ctx.notify(Flush);
        }
        let node_id = self.node_id();
        Box::pin(async move { result.await.unwrap_or(Err(ConnectionError::Closed { node_id })) })
    }
}

impl Handler<GetApiVersions> for BrokerConnectionActor {
    type Result = ResponseFuture<Result<Arc<ApiVersionsResponse>, ConnectionError>>;

    fn handle(&mut self, _: GetApiVersions, ctx: &mut Self::Context) -> Self::Result {
        if let State::Connected(conn) = &self.state {
            return Box::pin(std::future::ready(Ok(conn.api_versions.clone())));
        }
        let (reply, result) = oneshot::channel();
        self.version_waiters.push(reply);
        self.kick(ctx);
        let node_id = self.node_id();
        Box::pin(async move { result.await.unwrap_or(Err(ConnectionError::Closed { node_id })) })
    }
}

impl Handler<Close> for BrokerConnectionActor {
    type Result = ();

    fn handle(&mut self, _: Close, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

/// Writes the coalesced produce requests (sent to self by `ctx.notify`).
struct Flush;

impl Message for Flush {
    type Result = ();
}

impl Handler<Flush> for BrokerConnectionActor {
    type Result = ();

    fn handle(&mut self, _: Flush, ctx: &mut Self::Context) {
        self.flush_scheduled = false;
        self.kick(ctx);
    }
}

impl StreamHandler<Inbound> for BrokerConnectionActor {
    fn handle(&mut self, item: Inbound, ctx: &mut Self::Context) {
        if !self.is_current(item.generation) {
            return;
        }
        let node_id = self.node_id();
        match item.event {
            Ok(body) => self.on_frame(body, ctx),
            Err(ReadFailure::Closed(reason)) => {
                self.disconnect(ConnectionError::Disconnected { node_id, reason }, ctx)
            }
            Err(ReadFailure::Frame(e)) => {
                let reason = format!("bad response frame: {e}");
                self.disconnect(ConnectionError::Protocol { node_id, reason }, ctx)
            }
        }
    }

    /// The stream's end was already reported as an event; the actor lives on
    /// (the default would stop it).
    fn finished(&mut self, _ctx: &mut Self::Context) {}
}

// ---------------------------------------------------------------------------
// Type-erased requests and responders.

/// A `Call` waiting to be written.
trait QueuedCall {
    fn api(&self) -> ApiKey;
    /// The versions the request may be sent at (`None`: any negotiated one).
    fn versions(&self) -> Option<VersionRange>;
    fn encode(&self, version: i16, correlation_id: i32, client_id: &str) -> Result<Vec<Bytes>, EncodeError>;
    /// The request is written: keep only what is needed for the response.
    fn into_responder(self: Box<Self>) -> Box<dyn Responder>;
    fn fail(self: Box<Self>, error: ConnectionError);
}

/// Whoever gets the response of a written request.
trait Responder {
    /// Decodes the frame `body` (header included) and delivers the result. If
    /// it cannot be decoded the caller gets a [`ConnectionError::Protocol`] and
    /// the reason is returned, so that the connection can be closed.
    fn respond(
        self: Box<Self>,
        node_id: i32,
        api: ApiKey,
        version: i16,
        correlation_id: i32,
        body: &[u8],
    ) -> Result<(), String>;
    fn fail(self: Box<Self>, error: ConnectionError);
}

struct CallJob<R: Request> {
    request: R,
    versions: Option<VersionRange>,
    reply: oneshot::Sender<Result<R::Response, ConnectionError>>,
}

impl<R: Request + 'static> QueuedCall for CallJob<R> {
    fn api(&self) -> ApiKey {
        R::API_KEY
    }

    fn versions(&self) -> Option<VersionRange> {
        self.versions
    }

    fn encode(&self, version: i16, correlation_id: i32, client_id: &str) -> Result<Vec<Bytes>, EncodeError> {
        encode_request(&self.request, version, correlation_id, Some(client_id))
    }

    fn into_responder(self: Box<Self>) -> Box<dyn Responder> {
        Box::new(CallReply { reply: self.reply })
    }

    fn fail(self: Box<Self>, error: ConnectionError) {
        let _ = self.reply.send(Err(error));
    }
}

struct CallReply<T> {
    reply: oneshot::Sender<Result<T, ConnectionError>>,
}

impl<T: Response + 'static> Responder for CallReply<T> {
    fn respond(
        self: Box<Self>,
        node_id: i32,
        api: ApiKey,
        version: i16,
        correlation_id: i32,
        body: &[u8],
    ) -> Result<(), String> {
        match decode_response::<T>(api, version, correlation_id, body) {
            Ok(response) => {
                let _ = self.reply.send(Ok(response));
                Ok(())
            }
            Err(e) => {
                let reason = format!("undecodable {api:?} v{version} response: {e}");
                let _ = self.reply.send(Err(ConnectionError::Protocol {
                    node_id,
                    reason: reason.clone(),
                }));
                Err(reason)
            }
        }
    }

    fn fail(self: Box<Self>, error: ConnectionError) {
        let _ = self.reply.send(Err(error));
    }
}

/// The partitions of one produce request that expects a response.
struct ProduceReply {
    routing: ProduceRouting<PartitionReply>,
}

impl Responder for ProduceReply {
    fn respond(
        self: Box<Self>,
        node_id: i32,
        api: ApiKey,
        version: i16,
        correlation_id: i32,
        body: &[u8],
    ) -> Result<(), String> {
        match decode_response::<ProduceResponse>(api, version, correlation_id, body) {
            Ok(response) => {
                for (reply, result) in self.routing.route(node_id, response) {
                    let _ = reply.send(result);
                }
                Ok(())
            }
            Err(e) => {
                let reason = format!("undecodable Produce v{version} response: {e}");
                self.fail(ConnectionError::Protocol {
                    node_id,
                    reason: reason.clone(),
                });
                Err(reason)
            }
        }
    }

    fn fail(self: Box<Self>, error: ConnectionError) {
        for reply in self.routing.into_responders() {
            let _ = reply.send(Err(error.clone()));
        }
    }
}
