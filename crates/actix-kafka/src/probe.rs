//! A blocking, single-connection Kafka client for diagnostics and tests.
//!
//! [`ProbeConnection`] opens one TCP connection, negotiates API versions, and
//! sends one request at a time. It is what the `actix-kafka demo` command and
//! the wire-level integration tests use to talk to a broker without the actor
//! runtime. It has no retries, no pipelining and no batching: the producer's
//! `BrokerConnectionActor` does all of that.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use bytes::BytesMut;
use kafka_wire::api::{ApiKey, NegotiatedVersions};
use kafka_wire::frame::{decode_response, encode_request, FrameDecoder};
use kafka_wire::header::decode_response_header;
use kafka_wire::messages::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_wire::messages::Request;
use kafka_wire::{DecodeError, EncodeError, ErrorCode};

/// Why a probe failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The socket failed (connect, read, write or timeout).
    #[error("i/o with {addr}: {source}")]
    Io {
        /// The broker address.
        addr: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The broker's bytes could not be decoded.
    #[error("decoding a response from {addr}: {source}")]
    Decode {
        /// The broker address.
        addr: String,
        /// The decode error.
        #[source]
        source: DecodeError,
    },
    /// The request could not be encoded.
    #[error("encoding a request: {0}")]
    Encode(#[from] EncodeError),
    /// The broker and this client share no version of an API.
    #[error("{addr} supports no version of {api:?} that this client speaks")]
    NoCommonVersion {
        /// The broker address.
        addr: String,
        /// The API.
        api: ApiKey,
    },
    /// The broker rejected ApiVersions itself.
    #[error("{addr} answered ApiVersions with {error}")]
    ApiVersions {
        /// The broker address.
        addr: String,
        /// The error code it returned.
        error: kafka_wire::ErrorCode,
    },
}

/// One blocking connection with negotiated versions.
#[derive(Debug)]
pub struct ProbeConnection {
    wire: Wire,
    api_versions: ApiVersionsResponse,
    versions: NegotiatedVersions,
}

/// The socket and the request/response framing on it.
#[derive(Debug)]
struct Wire {
    addr: String,
    stream: TcpStream,
    client_id: String,
    next_correlation_id: i32,
    decoder: FrameDecoder,
    buf: BytesMut,
}

impl ProbeConnection {
    /// Connects to `addr` (`host:port`) and negotiates API versions. Every
    /// socket operation is bounded by `timeout`.
    pub fn connect(addr: &str, client_id: &str, timeout: Duration) -> Result<Self, ProbeError> {
        let io = |source| ProbeError::Io {
            addr: addr.to_string(),
            source,
        };
        let socket = addr
            .to_socket_addrs()
            .map_err(io)?
            .next()
            .ok_or_else(|| io(std::io::Error::other("address resolved to nothing")))?;
        let stream = TcpStream::connect_timeout(&socket, timeout).map_err(io)?;
        stream.set_read_timeout(Some(timeout)).map_err(io)?;
        stream.set_write_timeout(Some(timeout)).map_err(io)?;
        stream.set_nodelay(true).map_err(io)?;
        let mut wire = Wire {
            addr: addr.to_string(),
            stream,
            client_id: client_id.to_string(),
            next_correlation_id: 0,
            decoder: FrameDecoder::default(),
            buf: BytesMut::with_capacity(64 * 1024),
        };
        let api_versions = wire.negotiate()?;
        Ok(ProbeConnection {
            wire,
            versions: NegotiatedVersions::negotiate(&api_versions.broker_versions()),
            api_versions,
        })
    }

    /// The broker's ApiVersions answer (its ranges and features).
    pub fn api_versions(&self) -> &ApiVersionsResponse {
        &self.api_versions
    }

    /// The version chosen for each API on this connection.
    pub fn versions(&self) -> &NegotiatedVersions {
        &self.versions
    }

    /// The broker address this connection talks to.
    pub fn addr(&self) -> &str {
        &self.wire.addr
    }

    /// The negotiated version of `api`, or an error if there is none.
    pub fn version_of(&self, api: ApiKey) -> Result<i16, ProbeError> {
        self.versions
            .version(api)
            .ok_or_else(|| ProbeError::NoCommonVersion {
                addr: self.wire.addr.clone(),
                api,
            })
    }

    /// Sends `request` at the negotiated version and waits for its response.
    pub fn call<R: Request>(&mut self, request: &R) -> Result<R::Response, ProbeError> {
        let version = self.version_of(R::API_KEY)?;
        self.call_at(request, version)
    }

    /// Sends `request` at `version` and waits for its response.
    pub fn call_at<R: Request>(&mut self, request: &R, version: i16) -> Result<R::Response, ProbeError> {
        self.wire.call_at(request, version)
    }

    /// Sends `request` at the negotiated version without waiting for an answer
    /// (a produce request with acks=0 gets none).
    pub fn send_only<R: Request>(&mut self, request: &R) -> Result<(), ProbeError> {
        let version = self.version_of(R::API_KEY)?;
        self.wire.send(request, version).map(|_| ())
    }
}

impl Wire {
    fn decode_error(&self, source: DecodeError) -> ProbeError {
        ProbeError::Decode {
            addr: self.addr.clone(),
            source,
        }
    }

    /// Sends ApiVersions at our highest version; if the broker does not know
    /// it, retries at the highest version both sides support.
    fn negotiate(&mut self) -> Result<ApiVersionsResponse, ProbeError> {
        let request = ApiVersionsRequest::default();
        let mut version = ApiKey::ApiVersions.supported().max;
        loop {
            let correlation_id = self.next_correlation_id;
            let body = self.round_trip(&request, version)?;
            let mut header = kafka_wire::Reader::new(&body, false);
            let got = decode_response_header(&mut header, ApiKey::ApiVersions, version)
                .map_err(|e| self.decode_error(e))?;
            if got != correlation_id {
                return Err(self.decode_error(DecodeError::CorrelationMismatch {
                    expected: correlation_id,
                    actual: got,
                }));
            }
            let response =
                ApiVersionsResponse::decode_any(header.rest(), version).map_err(|e| self.decode_error(e))?;
            if response.error_code == ErrorCode::UNSUPPORTED_VERSION {
                match response.fallback_version() {
                    Some(lower) if lower < version => {
                        version = lower;
                        continue;
                    }
                    _ => {}
                }
            }
            if !response.error_code.is_ok() {
                return Err(ProbeError::ApiVersions {
                    addr: self.addr.clone(),
                    error: response.error_code,
                });
            }
            return Ok(response);
        }
    }

    fn call_at<R: Request>(&mut self, request: &R, version: i16) -> Result<R::Response, ProbeError> {
        let correlation_id = self.next_correlation_id;
        let body = self.round_trip(request, version)?;
        decode_response::<R::Response>(R::API_KEY, version, correlation_id, &body)
            .map_err(|e| self.decode_error(e))
    }

    fn send<R: Request>(&mut self, request: &R, version: i16) -> Result<i32, ProbeError> {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id = self.next_correlation_id.wrapping_add(1);
        let segments = encode_request(request, version, correlation_id, Some(&self.client_id))?;
        for segment in &segments {
            self.stream.write_all(segment).map_err(|source| ProbeError::Io {
                addr: self.addr.clone(),
                source,
            })?;
        }
        Ok(correlation_id)
    }

    /// Sends a request and returns the raw response body (header included).
    fn round_trip<R: Request>(&mut self, request: &R, version: i16) -> Result<bytes::Bytes, ProbeError> {
        self.send(request, version)?;
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(body)) => return Ok(body),
                Ok(None) => {}
                Err(e) => return Err(self.decode_error(e)),
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk).map_err(|source| ProbeError::Io {
                addr: self.addr.clone(),
                source,
            })?;
            if n == 0 {
                return Err(ProbeError::Io {
                    addr: self.addr.clone(),
                    source: std::io::ErrorKind::UnexpectedEof.into(),
                });
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}
