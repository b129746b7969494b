//! The actor: a driver of the core's [`ConnectionState`]. Messages and socket
//! events become `handle_*` calls; each [`ConnectionEvent`] becomes a socket
//! task, a write, or an answer to a caller; one timer wakes the state at its
//! deadline. The socket futures are in `io`.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use bytes::Bytes;
use kafka_producer_core::connection::state::{
    CallAnswer, ConnectionEvent, ConnectionState, QueuedCall, Write,
};
use kafka_wire::api::{ApiKey, VersionRange};
use kafka_wire::frame::{decode_response, encode_request, FrameDecoder};
use kafka_wire::messages::api_versions::ApiVersionsResponse;
use kafka_wire::messages::{Request, Response};
use kafka_wire::EncodeError;
use tokio::sync::{mpsc, oneshot};

use crate::clock::Wakeup;
use crate::error::{ConnectFailure, IoFailure, ProtocolViolation};
use crate::security::ConnectionSecurity;

use super::io::{establish, frames, write_loop, Established, Inbound, NoAckReply, PartitionReply, WriteJob};
use super::{
    Call, CallWithin, Close, ConnectionConfig, ConnectionError, GetApiVersions, PartitionResult,
    ProducePartition,
};

/// Where an `ApiVersions` answer goes.
type VersionsReply = oneshot::Sender<Result<Arc<ApiVersionsResponse>, ConnectionError>>;

/// The connection actor for one broker node. See the [module docs](super).
pub struct BrokerConnectionActor {
    state: ConnectionState<PartitionReply, VersionsReply>,
    /// The open connection's socket tasks.
    socket: Option<Socket>,
    /// Whether a `Flush` is already queued in the context.
    flush_scheduled: bool,
    /// The wake-up at the state's deadline.
    wakeup: Wakeup,
    /// TLS and SASL, shared by the producer's connections.
    security: Arc<ConnectionSecurity>,
}

/// The tasks of one open connection.
struct Socket {
    generation: u64,
    /// Feeds the writer future.
    writer: mpsc::UnboundedSender<WriteJob>,
    /// The reader stream and the writer future.
    handles: [SpawnHandle; 2],
}

impl BrokerConnectionActor {
    /// An actor for the plaintext broker described by `config`. It connects
    /// on the first message; start it with `.start()` inside an actix `System`.
    pub fn new(config: ConnectionConfig) -> Self {
        Self::with_security(config, ConnectionSecurity::plaintext())
    }

    /// Like [`new`](Self::new), with TLS and SASL as `security` says.
    pub fn with_security(config: ConnectionConfig, security: Arc<ConnectionSecurity>) -> Self {
        BrokerConnectionActor {
            state: ConnectionState::new(config),
            socket: None,
            flush_scheduled: false,
            wakeup: Wakeup::default(),
            security,
        }
    }

    fn node_id(&self) -> i32 {
        self.state.node_id()
    }

    /// Carries out what the state asks, then sets the timer.
    fn act(&mut self, ctx: &mut Context<Self>) {
        while let Some(event) = self.state.poll_event() {
            match event {
                ConnectionEvent::Connect { generation } => {
                    let attempt = establish(self.state.config().clone(), self.security.clone());
                    ctx.spawn(
                        attempt
                            .into_actor(self)
                            .map(move |result, act, ctx| act.on_established(generation, result, ctx)),
                    );
                }
                ConnectionEvent::Write(write) => self.write(write),
                ConnectionEvent::Close { generation } => {
                    if let Some(socket) = self.socket.take_if(|s| s.generation == generation) {
                        for handle in socket.handles {
                            ctx.cancel_future(handle);
                        }
                    }
                }
                ConnectionEvent::Produced(reply, result) => {
                    let _ = reply.send(result);
                }
                ConnectionEvent::Versions(waiter, result) => {
                    let _ = waiter.send(result);
                }
            }
        }
        let deadline = self.state.poll_deadline();
        self.wakeup.arm(
            deadline,
            ctx,
            |act| &mut act.wakeup,
            |act, ctx| {
                act.state.handle_timeout(Instant::now());
                act.act(ctx);
            },
        );
    }

    /// Hands a write to the connection's writer. A write for a socket that
    /// is gone is dropped: its acks=0 partitions fail as `Disconnected`, and
    /// its in-flight entry fails when the loss is reported.
    fn write(&mut self, write: Write<PartitionReply>) {
        let Write {
            generation,
            segments,
            no_ack,
        } = write;
        let written = (!no_ack.is_empty()).then(|| NoAckReply {
            node_id: self.node_id(),
            replies: no_ack,
        });
        if let Some(socket) = self.socket.as_ref().filter(|s| s.generation == generation) {
            let _ = socket.writer.send(WriteJob { segments, written });
        }
    }

    fn on_established(
        &mut self,
        generation: u64,
        result: Result<Established, ConnectFailure>,
        ctx: &mut Context<Self>,
    ) {
        let now = Instant::now();
        match result {
            Ok(established) => {
                let Established {
                    stream,
                    buffer,
                    api_versions,
                    next_correlation_id,
                    session_lifetime,
                } = established;
                self.state
                    .handle_connected(now, generation, api_versions, next_correlation_id);
                if let Some(lifetime) = session_lifetime {
                    self.state.handle_session_lifetime(now, generation, lifetime);
                }
                if self.state.is_connected(generation) {
                    let (read_half, write_half) = tokio::io::split(stream);
                    let decoder = FrameDecoder::new(self.state.config().max_frame_size);
                    let reader = ctx.add_stream(Box::pin(frames(read_half, buffer, decoder, generation)));
                    let (writer, jobs) = mpsc::unbounded_channel();
                    let write = write_loop(write_half, jobs, self.state.config().request_timeout)
                        .into_actor(self)
                        .map(move |result, act, ctx| act.on_writer_end(generation, result, ctx));
                    let writer_handle = ctx.spawn(write);
                    self.socket = Some(Socket {
                        generation,
                        writer,
                        handles: [reader, writer_handle],
                    });
                }
            }
            Err(cause) => self.state.handle_connect_failed(now, generation, cause),
        }
        self.act(ctx);
    }

    fn on_writer_end(&mut self, generation: u64, result: Result<(), IoFailure>, ctx: &mut Context<Self>) {
        if let Err(failure) = result {
            self.state
                .handle_write_failed(Instant::now(), generation, failure);
            self.act(ctx);
        }
    }
}

impl fmt::Debug for BrokerConnectionActor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = self.state.config();
        f.debug_struct("BrokerConnectionActor")
            .field("node_id", &config.node_id)
            .field("addr", &config.addr)
            .field("state", &self.state.phase())
            .field("queued_calls", &self.state.queued_calls())
            .finish_non_exhaustive()
    }
}

impl Actor for BrokerConnectionActor {
    type Context = Context<Self>;

    fn stopped(&mut self, ctx: &mut Self::Context) {
        self.state.close();
        self.act(ctx);
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
        let (reply, response) = oneshot::channel();
        let job = CallJob {
            request,
            versions,
            reply,
        };
        self.state.handle_call(Instant::now(), Box::new(job));
        self.act(ctx);
        let node_id = self.node_id();
        Box::pin(async move { response.await.unwrap_or(Err(ConnectionError::Closed { node_id })) })
    }
}

impl Handler<ProducePartition> for BrokerConnectionActor {
    type Result = ResponseFuture<Result<PartitionResult, ConnectionError>>;

    fn handle(&mut self, batch: ProducePartition, ctx: &mut Self::Context) -> Self::Result {
        let (reply, result) = oneshot::channel();
        self.state.handle_produce(batch.0, reply);
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
        let (reply, result) = oneshot::channel();
        self.state.handle_get_versions(Instant::now(), reply);
        self.act(ctx);
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
        self.state.handle_flush(Instant::now());
        self.act(ctx);
    }
}

impl StreamHandler<Inbound> for BrokerConnectionActor {
    fn handle(&mut self, item: Inbound, ctx: &mut Self::Context) {
        let now = Instant::now();
        match item.event {
            Ok(body) => self.state.handle_frame(now, item.generation, &body),
            Err(failure) => self.state.handle_read_failed(now, item.generation, failure),
        }
        self.act(ctx);
    }

    /// The stream's end was already reported as an event; the actor lives on
    /// (the default would stop it).
    fn finished(&mut self, _ctx: &mut Self::Context) {}
}

// ---------------------------------------------------------------------------
// Typed calls behind the core's type-erased `QueuedCall` / `CallAnswer`.

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

    fn expects_response(&self) -> bool {
        self.request.expects_response()
    }

    fn encode(&self, version: i16, correlation_id: i32, client_id: &str) -> Result<Vec<Bytes>, EncodeError> {
        encode_request(&self.request, version, correlation_id, Some(client_id))
    }

    fn into_answer(self: Box<Self>) -> Box<dyn CallAnswer> {
        Box::new(CallReply { reply: self.reply })
    }

    fn fail(self: Box<Self>, error: ConnectionError) {
        let _ = self.reply.send(Err(error));
    }
}

struct CallReply<T> {
    reply: oneshot::Sender<Result<T, ConnectionError>>,
}

impl<T: Response + 'static> CallAnswer for CallReply<T> {
    fn respond(
        self: Box<Self>,
        node_id: i32,
        api: ApiKey,
        version: i16,
        correlation_id: i32,
        body: &[u8],
    ) -> Result<(), ProtocolViolation> {
        match decode_response::<T>(api, version, correlation_id, body) {
            Ok(response) => {
                let _ = self.reply.send(Ok(response));
                Ok(())
            }
            Err(error) => {
                let cause = ProtocolViolation::Undecodable { api, version, error };
                let _ = self.reply.send(Err(ConnectionError::Protocol {
                    node_id,
                    cause: cause.clone(),
                }));
                Err(cause)
            }
        }
    }

    fn fail(self: Box<Self>, error: ConnectionError) {
        let _ = self.reply.send(Err(error));
    }
}
