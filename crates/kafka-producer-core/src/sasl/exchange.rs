//! [`SaslExchange`]: one SASL authentication on a connection, in Kafka frames.
//!
//! The exchange is a `SaslHandshake` v1 naming the mechanism, then one
//! `SaslAuthenticate` per mechanism message (one for PLAIN and OAUTHBEARER,
//! two for SCRAM; one more for OAUTHBEARER when the server refuses the
//! token, to acknowledge its error as RFC 7628 requires). The driver loops:
//!
//! ```text
//! while let Some(frame) = exchange.request(client_id)? {
//!     write(frame); let body = read_one_frame();
//!     match exchange.handle_response(&body)? {
//!         SaslStep::Continue => {}
//!         SaslStep::Done { session_lifetime_ms, next_correlation_id } => break,
//!     }
//! }
//! ```
//!
//! There is at most one request in flight: [`request`](SaslExchange::request)
//! returns `None` until the answer arrives. The credentials are checked in
//! [`new`](SaslExchange::new), before anything is written. Any failure ends
//! the exchange (later calls send nothing and refuse answers): the
//! connection must be closed.
//!
//! Re-authentication (KIP-368) is a new `SaslExchange` on the same
//! connection, started with the connection's next correlation id.

use std::fmt;

use bytes::Bytes;
use kafka_wire::api::ApiKey;
use kafka_wire::frame::{decode_response, encode_request, peek_correlation_id};
use kafka_wire::messages::sasl_authenticate::{SaslAuthenticateRequest, SaslAuthenticateResponse};
use kafka_wire::messages::sasl_handshake::{SaslHandshakeRequest, SaslHandshakeResponse};
use kafka_wire::ErrorCode;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{
    bounded, AuthenticationFailure, OAuthBearerFailure, MAX_OFFERED_MECHANISMS, MAX_SERVER_TEXT,
};
use crate::sasl::oauthbearer::{self, ServerReply};
use crate::sasl::scram::{ScramClientFinal, ScramClientFirst};
use crate::sasl::{plain, SaslCredentials};

/// What an answer meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslStep {
    /// More to do: write the next [`SaslExchange::request`].
    Continue,
    /// Authenticated.
    Done {
        /// When the broker set a session lifetime (KIP-368), the client must
        /// re-authenticate within this many milliseconds of sending the last
        /// request (None: no limit).
        session_lifetime_ms: Option<u64>,
        /// The connection's next free correlation id.
        next_correlation_id: i32,
    },
}

/// One authentication. See the module documentation.
pub struct SaslExchange {
    mechanism: &'static str,
    handshake_version: i16,
    authenticate_version: i16,
    next_correlation_id: i32,
    /// The correlation id of the request in flight, if any.
    in_flight: Option<i32>,
    state: State,
}

enum State {
    /// The handshake is next (or in flight); then the conversation starts.
    Handshake(Conversation),
    /// A `SaslAuthenticate` carrying the conversation's message is next (or
    /// in flight).
    Authenticate(Conversation),
    /// Done or failed: nothing more to send.
    Finished,
}

/// Where the mechanism is; each state holds the message it sends.
enum Conversation {
    Plain(Zeroizing<Vec<u8>>),
    ScramFirst(ScramClientFirst),
    ScramFinal(ScramClientFinal),
    OAuthBearer(Zeroizing<Vec<u8>>),
    /// The server refused the token; the acknowledgement is next, then the
    /// failure is reported.
    OAuthBearerRefused(OAuthBearerFailure),
}

impl Conversation {
    fn start(credentials: &SaslCredentials, client_nonce: &[u8]) -> Result<Self, AuthenticationFailure> {
        Ok(match credentials {
            SaslCredentials::Plain { username, password } => {
                Conversation::Plain(plain::initial_response(username, password)?)
            }
            SaslCredentials::Scram {
                mechanism,
                username,
                password,
            } => Conversation::ScramFirst(ScramClientFirst::new(
                *mechanism,
                username,
                password,
                client_nonce,
            )?),
            SaslCredentials::OAuthBearer { token, extensions } => {
                Conversation::OAuthBearer(oauthbearer::initial_response(token, extensions)?)
            }
        })
    }

    fn message(&self) -> Vec<u8> {
        match self {
            Conversation::Plain(m) | Conversation::OAuthBearer(m) => m.to_vec(),
            Conversation::ScramFirst(c) => c.message(),
            Conversation::ScramFinal(c) => c.message().to_vec(),
            Conversation::OAuthBearerRefused(_) => oauthbearer::ERROR_ACKNOWLEDGEMENT.to_vec(),
        }
    }

    /// The mechanism's reaction to the server's token (the answer had no
    /// error code): the next state, or None when authenticated.
    fn advance(self, token: &[u8]) -> Result<Option<Conversation>, AuthenticationFailure> {
        Ok(match self {
            // The PLAIN server sends nothing back on success.
            Conversation::Plain(_) => None,
            Conversation::ScramFirst(c) => Some(Conversation::ScramFinal(c.handle_server_first(token)?)),
            Conversation::ScramFinal(c) => {
                c.handle_server_final(token)?;
                None
            }
            Conversation::OAuthBearer(_) => match oauthbearer::parse_server_reply(token) {
                ServerReply::Accepted => None,
                ServerReply::Refused(failure) => Some(Conversation::OAuthBearerRefused(failure)),
            },
            // A broker that accepts the acknowledgement has still refused the token.
            Conversation::OAuthBearerRefused(failure) => return Err(failure.into()),
        })
    }
}

impl SaslExchange {
    /// An exchange authenticating with `credentials`.
    ///
    /// `handshake_version` and `authenticate_version` are the versions
    /// negotiated from the broker's `ApiVersions` (`authenticate_version` is
    /// None if it does not offer `SaslAuthenticate`: such brokers, before
    /// Kafka 1.0, are refused with
    /// [`AuthenticationFailure::SaslAuthenticateNotOffered`]).
    /// `client_nonce` is fresh CSPRNG output (at least
    /// [`MIN_NONCE_BYTES`](crate::sasl::scram::MIN_NONCE_BYTES)), used only by
    /// SCRAM. The handshake is sent with `first_correlation_id`.
    ///
    /// Fails if the credentials cannot be sent (see
    /// [`CredentialProblem`](crate::error::CredentialProblem)).
    pub fn new(
        credentials: SaslCredentials,
        handshake_version: i16,
        authenticate_version: Option<i16>,
        client_nonce: &[u8],
        first_correlation_id: i32,
    ) -> Result<Self, AuthenticationFailure> {
        let Some(authenticate_version) = authenticate_version.filter(|_| handshake_version >= 1) else {
            return Err(AuthenticationFailure::SaslAuthenticateNotOffered);
        };
        let conversation = Conversation::start(&credentials, client_nonce)?;
        Ok(SaslExchange {
            mechanism: credentials.mechanism_name(),
            handshake_version,
            authenticate_version,
            next_correlation_id: first_correlation_id,
            in_flight: None,
            state: State::Handshake(conversation),
        })
    }

    /// The mechanism's name.
    pub fn mechanism(&self) -> &'static str {
        self.mechanism
    }

    /// The next request, encoded and framed; None while an answer is
    /// awaited and once the exchange has ended.
    pub fn request(&mut self, client_id: &str) -> Result<Option<Vec<Bytes>>, AuthenticationFailure> {
        if self.in_flight.is_some() {
            return Ok(None);
        }
        let id = self.next_correlation_id;
        let frame = match &self.state {
            State::Finished => return Ok(None),
            State::Handshake(_) => {
                let request = SaslHandshakeRequest {
                    mechanism: self.mechanism.to_owned(),
                };
                encode_request(&request, self.handshake_version, id, Some(client_id))
            }
            State::Authenticate(conversation) => {
                let mut request = SaslAuthenticateRequest {
                    auth_bytes: conversation.message(),
                };
                let frame = encode_request(&request, self.authenticate_version, id, Some(client_id));
                // The frame's copy is the driver's to write; ours goes now.
                request.auth_bytes.zeroize();
                frame
            }
        };
        let frame = frame.map_err(|e| {
            self.state = State::Finished;
            AuthenticationFailure::Encode(e)
        })?;
        self.in_flight = Some(id);
        self.next_correlation_id = id.wrapping_add(1);
        Ok(Some(frame))
    }

    /// The broker's answer (a frame body, header included) to the request
    /// in flight.
    pub fn handle_response(&mut self, body: &[u8]) -> Result<SaslStep, AuthenticationFailure> {
        let result = self.handle(body);
        if result.is_err() {
            // Fail closed: nothing more is sent on this connection.
            self.state = State::Finished;
            self.in_flight = None;
        }
        result
    }

    fn handle(&mut self, body: &[u8]) -> Result<SaslStep, AuthenticationFailure> {
        let Some(expected) = self.in_flight else {
            return Err(AuthenticationFailure::UnexpectedResponse);
        };
        let got = peek_correlation_id(body).map_err(AuthenticationFailure::Undecodable)?;
        if got != expected {
            return Err(AuthenticationFailure::WrongCorrelationId { got, expected });
        }
        self.in_flight = None;
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Finished => Err(AuthenticationFailure::UnexpectedResponse),
            State::Handshake(conversation) => {
                let answer: SaslHandshakeResponse =
                    decode_response(ApiKey::SaslHandshake, self.handshake_version, expected, body)
                        .map_err(AuthenticationFailure::Undecodable)?;
                if answer.error_code == ErrorCode::UNSUPPORTED_SASL_MECHANISM {
                    return Err(AuthenticationFailure::MechanismNotOffered {
                        wanted: self.mechanism.to_owned(),
                        offered: answer
                            .mechanisms
                            .iter()
                            .take(MAX_OFFERED_MECHANISMS)
                            .map(|m| bounded(m, 64))
                            .collect(),
                    });
                }
                if !answer.error_code.is_ok() {
                    return Err(AuthenticationFailure::HandshakeRefused {
                        code: answer.error_code,
                    });
                }
                self.state = State::Authenticate(conversation);
                Ok(SaslStep::Continue)
            }
            State::Authenticate(conversation) => {
                let answer: SaslAuthenticateResponse = decode_response(
                    ApiKey::SaslAuthenticate,
                    self.authenticate_version,
                    expected,
                    body,
                )
                .map_err(AuthenticationFailure::Undecodable)?;
                if !answer.error_code.is_ok() {
                    if let Conversation::OAuthBearerRefused(failure) = conversation {
                        // The expected end after an OAUTHBEARER refusal; the
                        // server's JSON says more than the broker's code.
                        return Err(failure.into());
                    }
                    return Err(AuthenticationFailure::Rejected {
                        mechanism: self.mechanism.to_owned(),
                        code: answer.error_code,
                        message: answer
                            .error_message
                            .as_deref()
                            .map(|m| bounded(m, MAX_SERVER_TEXT)),
                    });
                }
                match conversation.advance(&answer.auth_bytes)? {
                    Some(next) => {
                        self.state = State::Authenticate(next);
                        Ok(SaslStep::Continue)
                    }
                    None => Ok(SaslStep::Done {
                        session_lifetime_ms: u64::try_from(answer.session_lifetime_ms)
                            .ok()
                            .filter(|&ms| ms > 0),
                        next_correlation_id: self.next_correlation_id,
                    }),
                }
            }
        }
    }
}

impl fmt::Debug for SaslExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Handshake(_) => "handshake",
            State::Authenticate(Conversation::ScramFirst(_)) => "scram client-first",
            State::Authenticate(Conversation::ScramFinal(_)) => "scram client-final",
            State::Authenticate(Conversation::OAuthBearerRefused(_)) => "oauthbearer refused",
            State::Authenticate(_) => "authenticate",
            State::Finished => "finished",
        };
        f.debug_struct("SaslExchange")
            .field("mechanism", &self.mechanism)
            .field("state", &state)
            .field("next_correlation_id", &self.next_correlation_id)
            .field("in_flight", &self.in_flight)
            .finish()
    }
}

#[cfg(test)]
#[path = "exchange_tests.rs"]
mod tests;
