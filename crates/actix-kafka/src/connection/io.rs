//! Socket I/O for one broker connection, over any byte stream.
//!
//! [`establish`] opens the transport (TCP with `TCP_NODELAY`, then TLS when
//! configured), negotiates `ApiVersions` and authenticates (SASL, when
//! configured); everything after that works on
//! any `AsyncRead + AsyncWrite + Unpin` stream, boxed as a [`BoxedTransport`].
//! The actor splits the stream: [`frames`] turns the read half into a stream
//! of response frames, [`write_loop`] writes request segments to the write
//! half with vectored writes, never copying a record batch.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::mem;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::stream::{self, Stream};
use kafka_producer_core::connection::negotiation::{looks_like_tls, ApiVersionsNegotiation, Negotiated};
pub(super) use kafka_producer_core::connection::state::ReadFailure;
use kafka_producer_core::sasl::{SaslExchange, SaslStep};
use kafka_wire::api::{ApiKey, NegotiatedVersions};
use kafka_wire::frame::FrameDecoder;
use kafka_wire::messages::api_versions::ApiVersionsResponse;
use kafka_wire::ErrorCode;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use super::{ConnectionConfig, ConnectionError, PartitionResult};
use crate::error::{AuthenticationFailure, ConnectFailure, Disconnect, IoFailure, NegotiationFailure};
use crate::security::sasl::{client_nonce, SaslSource};
use crate::security::{tls, ConnectionSecurity};

/// Where one partition's produce result goes.
pub(super) type PartitionReply = oneshot::Sender<Result<PartitionResult, ConnectionError>>;

/// A byte stream a connection can run over: TCP, or TLS over TCP.
pub(super) trait Transport: AsyncRead + AsyncWrite + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + 'static> Transport for T {}

/// The transport chosen by [`establish`].
pub(super) type BoxedTransport = Box<dyn Transport>;

/// Most write jobs gathered into one vectored write sequence.
pub(super) const MAX_JOBS_PER_WRITE: usize = 64;
/// Most buffers handed to one `write_vectored` call.
pub(super) const MAX_IO_SLICES: usize = 64;
/// Read buffer growth step.
pub(super) const READ_CHUNK: usize = 64 * 1024;
/// One event from the reader stream of connection `generation`.
pub(super) struct Inbound {
    pub generation: u64,
    pub event: Result<Bytes, ReadFailure>,
}

/// Encoded request segments for the writer, with the `acks = 0` partitions
/// to resolve once they are written.
pub(super) struct WriteJob {
    pub segments: Vec<Bytes>,
    pub written: Option<NoAckReply>,
}

/// The partitions of an `acks = 0` request: they succeed once the request is
/// written. If it never is (the connection went away first), dropping this
/// fails them with `Disconnected`.
pub(super) struct NoAckReply {
    pub node_id: i32,
    pub replies: Vec<PartitionReply>,
}

impl NoAckReply {
    fn written(mut self) {
        for reply in mem::take(&mut self.replies) {
            let _ = reply.send(Ok(PartitionResult::no_ack()));
        }
    }
}

impl Drop for NoAckReply {
    fn drop(&mut self) {
        for reply in self.replies.drain(..) {
            let _ = reply.send(Err(ConnectionError::Disconnected {
                node_id: self.node_id,
                cause: Disconnect::DuringAcksZeroWrite,
            }));
        }
    }
}

/// Writes jobs in order until the channel closes (`Ok`) or a write fails.
/// Jobs that are ready together go out in one vectored write sequence.
///
/// A write that does not complete within `timeout` fails (`TimedOut`): a
/// broker that accepts and stops reading would otherwise hold `acks = 0`
/// deliveries (which end when written) and everything behind them forever.
pub(super) async fn write_loop(
    mut half: impl AsyncWrite + Unpin,
    mut jobs: mpsc::UnboundedReceiver<WriteJob>,
    timeout: Duration,
) -> Result<(), IoFailure> {
    let mut batch = Vec::new();
    let mut segments = VecDeque::new();
    while let Some(job) = jobs.recv().await {
        batch.push(job);
        while batch.len() < MAX_JOBS_PER_WRITE {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        for job in &mut batch {
            segments.extend(job.segments.drain(..).filter(|s| !s.is_empty()));
        }
        let written = match tokio::time::timeout(timeout, write_segments(&mut half, &mut segments)).await {
            Ok(written) => written,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the broker read nothing for {} ms", millis(timeout)),
            )),
        };
        if let Err(e) = written {
            // Unwritten acks=0 partitions fail as `batch` is dropped.
            return Err(IoFailure::from(&e));
        }
        for job in batch.drain(..) {
            if let Some(reply) = job.written {
                reply.written();
            }
        }
    }
    Ok(())
}

/// Writes every segment, without copying, with vectored writes.
pub(super) async fn write_segments<W: AsyncWrite + Unpin>(
    w: &mut W,
    segments: &mut VecDeque<Bytes>,
) -> io::Result<()> {
    while !segments.is_empty() {
        let mut written = {
            let slices: Vec<IoSlice<'_>> = segments
                .iter()
                .take(MAX_IO_SLICES)
                .map(|s| IoSlice::new(s))
                .collect();
            w.write_vectored(&slices).await?
        };
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        while written > 0 {
            let Some(front) = segments.front_mut() else {
                break;
            };
            if written >= front.len() {
                written -= front.len();
                segments.pop_front();
            } else {
                front.advance(written);
                written = 0;
            }
        }
    }
    Ok(())
}

/// Reads into `buffer` until it holds a whole frame, and returns its body.
pub(super) async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    buffer: &mut BytesMut,
    decoder: &FrameDecoder,
) -> Result<Bytes, ReadFailure> {
    loop {
        match decoder.decode(buffer) {
            Ok(Some(frame)) => return Ok(frame),
            Ok(None) => {}
            Err(e) => return Err(ReadFailure::Frame(e)),
        }
        if buffer.capacity() - buffer.len() < READ_CHUNK / 4 {
            buffer.reserve(READ_CHUNK);
        }
        match r.read_buf(buffer).await {
            Ok(0) => return Err(ReadFailure::Closed(Disconnect::ClosedByBroker)),
            Ok(_) => {}
            Err(e) => return Err(ReadFailure::Closed(Disconnect::Read(IoFailure::from(&e)))),
        }
    }
}

/// The response frames of one connection; the last event is its failure.
pub(super) fn frames(
    read_half: impl AsyncRead + Unpin + 'static,
    buffer: BytesMut,
    decoder: FrameDecoder,
    generation: u64,
) -> impl Stream<Item = Inbound> {
    stream::unfold(Some((read_half, buffer)), move |state| {
        let decoder = decoder.clone();
        async move {
            let (mut read_half, mut buffer) = state?;
            match read_frame(&mut read_half, &mut buffer, &decoder).await {
                Ok(body) => Some((
                    Inbound {
                        generation,
                        event: Ok(body),
                    },
                    Some((read_half, buffer)),
                )),
                Err(failure) => Some((
                    Inbound {
                        generation,
                        event: Err(failure),
                    },
                    None,
                )),
            }
        }
    })
}

/// A connected, negotiated socket.
pub(super) struct Established {
    /// The byte stream: TCP, or TLS over TCP.
    pub stream: BoxedTransport,
    /// Bytes read past the `ApiVersions` response (normally none).
    pub buffer: BytesMut,
    /// The broker's answer.
    pub api_versions: ApiVersionsResponse,
    /// The next free correlation id.
    pub next_correlation_id: i32,
    /// How long the SASL session may last (KIP-368), if limited.
    pub session_lifetime: Option<Duration>,
}

/// Connects (within `connect_timeout`, with TCP_NODELAY), runs the TLS
/// handshake when `security` asks for it (within `connect_timeout` too), and
/// negotiates API versions (within `request_timeout`).
pub(super) async fn establish(
    config: ConnectionConfig,
    security: Arc<ConnectionSecurity>,
) -> Result<Established, ConnectFailure> {
    let connect = TcpStream::connect(config.addr.as_str());
    let tcp = match tokio::time::timeout(config.connect_timeout, connect).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(ConnectFailure::Io(IoFailure::from(&e))),
        Err(_) => {
            let after_ms = millis(config.connect_timeout);
            return Err(ConnectFailure::TimedOut { after_ms });
        }
    };
    tcp.set_nodelay(true)
        .map_err(|e| ConnectFailure::Io(IoFailure::from(&e)))?;
    let host = tls::host_of(&config.addr);
    let mut stream: BoxedTransport = match &security.tls {
        None => Box::new(tcp),
        Some(tls_config) => Box::new(
            tls::handshake(tls_config.clone(), host, tcp, config.connect_timeout)
                .await
                .map_err(ConnectFailure::Tls)?,
        ),
    };
    let mut buffer = BytesMut::new();
    let decoder = FrameDecoder::new(config.max_frame_size);
    let negotiation = negotiate(&mut stream, &mut buffer, &decoder, &config.client_id);
    let no_answer = Handshake::Negotiation(NegotiationFailure::NoAnswer {
        after_ms: millis(config.request_timeout),
    });
    let (api_versions, next_correlation_id) = tokio::time::timeout(config.request_timeout, negotiation)
        .await
        .unwrap_or(Err(no_answer))
        .map_err(|failure| failure.into_connect_failure(host))?;
    let (next_correlation_id, session_lifetime) = match &security.sasl {
        None => (next_correlation_id, None),
        Some(source) => {
            let exchange = authenticate(
                &mut stream,
                &mut buffer,
                &decoder,
                &config.client_id,
                &api_versions,
                next_correlation_id,
                source,
            );
            let no_answer = Handshake::Failed(ConnectFailure::Sasl(AuthenticationFailure::NoAnswer {
                after_ms: millis(config.request_timeout),
            }));
            tokio::time::timeout(config.request_timeout, exchange)
                .await
                .unwrap_or(Err(no_answer))
                .map_err(|failure| failure.into_connect_failure(host))?
        }
    };
    Ok(Established {
        stream,
        buffer,
        api_versions,
        next_correlation_id,
        session_lifetime,
    })
}

/// Runs the core's [`SaslExchange`] over `stream` with credentials from
/// `source`. Returns the next free correlation id and how long the session
/// may last (the broker's `session_lifetime_ms`, or the credentials'
/// lifetime, whichever is shorter).
async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    buffer: &mut BytesMut,
    decoder: &FrameDecoder,
    client_id: &str,
    api_versions: &ApiVersionsResponse,
    first_correlation_id: i32,
    source: &SaslSource,
) -> Result<(i32, Option<Duration>), Handshake> {
    let (credentials, credentials_lifetime) = source.credentials().await.map_err(Handshake::Failed)?;
    let sasl = |failure| Handshake::Failed(ConnectFailure::Sasl(failure));
    let versions = NegotiatedVersions::negotiate(&api_versions.broker_versions());
    let handshake_version = versions.version(ApiKey::SaslHandshake).ok_or_else(|| {
        sasl(AuthenticationFailure::HandshakeRefused {
            code: ErrorCode::UNSUPPORTED_VERSION,
        })
    })?;
    let authenticate_version = versions.version(ApiKey::SaslAuthenticate);
    let nonce = client_nonce().map_err(Handshake::Failed)?;
    let mut exchange = SaslExchange::new(
        credentials,
        handshake_version,
        authenticate_version,
        &nonce,
        first_correlation_id,
    )
    .map_err(sasl)?;
    loop {
        if let Some(segments) = exchange.request(client_id).map_err(sasl)? {
            write_handshake_request(stream, segments).await?;
        }
        let body = read_handshake_frame(stream, buffer, decoder).await?;
        // Off the actor thread: SCRAM's PBKDF2 runs here, and a server may ask
        // for up to MAX_SCRAM_ITERATIONS rounds.
        let (step, returned) = tokio::task::spawn_blocking(move || {
            let step = exchange.handle_response(&body);
            (step, exchange)
        })
        .await
        .map_err(|e| {
            Handshake::Failed(ConnectFailure::CredentialsUnavailable {
                reason: format!("the SASL computation did not finish: {e}"),
            })
        })?;
        exchange = returned;
        if let SaslStep::Done {
            session_lifetime_ms,
            next_correlation_id,
        } = step.map_err(sasl)?
        {
            let session = session_lifetime_ms.map(Duration::from_millis);
            let lifetime = match (session, credentials_lifetime) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            tracing::debug!(mechanism = exchange.mechanism(), ?lifetime, "authenticated");
            return Ok((next_correlation_id, lifetime));
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A failure before the connection is ready. I/O errors are kept whole
/// until the end, because over TLS they carry rustls' error (a TLS 1.3
/// broker refuses a client certificate only after our handshake is done).
pub(super) enum Handshake {
    /// Reading or writing failed.
    Io { error: io::Error, writing: bool },
    /// The broker closed the connection.
    Closed,
    /// The `ApiVersions` exchange failed.
    Negotiation(NegotiationFailure),
    /// Authentication failed.
    Failed(ConnectFailure),
}

impl Handshake {
    fn into_connect_failure(self, host: &str) -> ConnectFailure {
        match self {
            Handshake::Io { error, .. } if tls::is_tls_error(&error) => {
                ConnectFailure::Tls(tls::failure_of(&error, host))
            }
            Handshake::Io { error, writing: true } => {
                ConnectFailure::Negotiation(NegotiationFailure::Write(IoFailure::from(&error)))
            }
            Handshake::Io {
                error,
                writing: false,
            } => {
                let lost = Disconnect::Read(IoFailure::from(&error));
                ConnectFailure::Negotiation(NegotiationFailure::Read(lost))
            }
            Handshake::Closed => {
                ConnectFailure::Negotiation(NegotiationFailure::Read(Disconnect::ClosedByBroker))
            }
            Handshake::Negotiation(failure) => ConnectFailure::Negotiation(failure),
            Handshake::Failed(failure) => failure,
        }
    }
}

/// Reads one frame during the handshake, keeping I/O errors whole. A TLS
/// record where a frame should be means a TLS listener.
async fn read_handshake_frame<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut BytesMut,
    decoder: &FrameDecoder,
) -> Result<Bytes, Handshake> {
    loop {
        match decoder.decode(buffer) {
            Ok(Some(frame)) => return Ok(frame),
            Ok(None) => {}
            Err(_) if looks_like_tls(buffer) => {
                return Err(Handshake::Negotiation(NegotiationFailure::TlsAnswer))
            }
            Err(e) => return Err(Handshake::Negotiation(NegotiationFailure::Undecodable(e))),
        }
        if buffer.capacity() - buffer.len() < READ_CHUNK / 4 {
            buffer.reserve(READ_CHUNK);
        }
        match stream.read_buf(buffer).await {
            Ok(0) if looks_like_tls(buffer) => {
                return Err(Handshake::Negotiation(NegotiationFailure::TlsAnswer))
            }
            Ok(0) => return Err(Handshake::Closed),
            Ok(_) => {}
            Err(error) => {
                return Err(Handshake::Io {
                    error,
                    writing: false,
                })
            }
        }
    }
}

/// Writes one request during the handshake.
async fn write_handshake_request<S: AsyncWrite + Unpin>(
    stream: &mut S,
    segments: Vec<Bytes>,
) -> Result<(), Handshake> {
    write_segments(stream, &mut segments.into())
        .await
        .map_err(|error| Handshake::Io { error, writing: true })
}

/// Runs the core's [`ApiVersionsNegotiation`] over `stream`: writes each
/// request it asks for and hands it each answer. Returns the answer and the
/// next free correlation id.
pub(super) async fn negotiate<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    buffer: &mut BytesMut,
    decoder: &FrameDecoder,
    client_id: &str,
) -> Result<(ApiVersionsResponse, i32), Handshake> {
    let mut negotiation = ApiVersionsNegotiation::default();
    loop {
        let segments = negotiation.request(client_id).map_err(Handshake::Negotiation)?;
        write_handshake_request(stream, segments).await?;
        let body = read_handshake_frame(stream, buffer, decoder).await?;
        match negotiation
            .handle_response(&body)
            .map_err(Handshake::Negotiation)?
        {
            Negotiated::Retry => continue,
            Negotiated::Done(response, next_correlation_id) => return Ok((response, next_correlation_id)),
        }
    }
}
