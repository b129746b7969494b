//! Why SASL authentication failed: [`AuthenticationFailure`] and its parts.
//!
//! The Java client treats every authentication failure as fatal
//! (`SaslAuthenticationException` is not retried): a wrong password does not
//! get better by trying again, and retrying would only hammer the broker.
//! [`AuthenticationFailure::is_retriable`] says which failures are about the
//! connection rather than the credentials (no answer, a garbled frame), where
//! a new connection may succeed.
//!
//! None of these errors carries a secret. Text that comes from the server (a
//! broker's `error_message`, a SCRAM `e=` value, an OAUTHBEARER status) is
//! kept, because it is what tells the user what went wrong, but it is bounded
//! to [`MAX_SERVER_TEXT`] characters and its control characters are replaced,
//! so a hostile broker can neither grow the error nor forge log lines.

use kafka_wire::{DecodeError, EncodeError, ErrorCode};

use super::{Disconnect, IoFailure};

/// The most characters of server-supplied text an error keeps (longer text is
/// cut and ends with `…`).
pub const MAX_SERVER_TEXT: usize = 512;

/// The most mechanism names [`AuthenticationFailure::MechanismNotOffered`]
/// keeps from the broker's list (each one bounded to 64 characters).
pub const MAX_OFFERED_MECHANISMS: usize = 16;

/// `text`, cut to `max` characters (marked with `…`), with control characters
/// replaced by U+FFFD.
pub(crate) fn bounded(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    for (n, c) in text.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { '\u{FFFD}' } else { c });
    }
    out
}

/// [`bounded`] to [`MAX_SERVER_TEXT`], decoding bytes lossily first.
pub(crate) fn server_text(bytes: &[u8]) -> String {
    // Decode at most what we could keep (4 bytes per char), so a huge reply
    // costs nothing.
    let end = bytes.len().min(MAX_SERVER_TEXT * 4 + 4);
    bounded(&String::from_utf8_lossy(&bytes[..end]), MAX_SERVER_TEXT)
}

/// Why SASL authentication on a connection failed.
///
/// All of these are fatal for the producer in the Java client's sense (an
/// authentication error is reported, not retried), except those for which
/// [`is_retriable`](Self::is_retriable) is true.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthenticationFailure {
    /// The broker does not enable the configured mechanism
    /// (`UNSUPPORTED_SASL_MECHANISM` in the `SaslHandshake` answer).
    #[error("the broker does not offer SASL mechanism {wanted}; it offers {}", offered_list(.offered))]
    MechanismNotOffered {
        /// The mechanism asked for.
        wanted: String,
        /// The mechanisms the broker offers (at most
        /// [`MAX_OFFERED_MECHANISMS`], each bounded).
        offered: Vec<String>,
    },
    /// The `SaslHandshake` answer carried an error code other than
    /// `UNSUPPORTED_SASL_MECHANISM` (for example `ILLEGAL_SASL_STATE`).
    #[error("the SASL handshake failed with {code}")]
    HandshakeRefused {
        /// The broker's code.
        code: ErrorCode,
    },
    /// The broker offers no `SaslAuthenticate` (or only `SaslHandshake` v0),
    /// so tokens would have to go unframed: a pre-1.0 broker, not supported.
    #[error("the broker does not offer SaslAuthenticate (Kafka before 1.0); not supported")]
    SaslAuthenticateNotOffered,
    /// The broker rejected the credentials: a `SaslAuthenticate` answer with
    /// an error code (usually `SASL_AUTHENTICATION_FAILED`, 58).
    #[error("{mechanism} authentication rejected by the broker ({code}){}", message_suffix(.message))]
    Rejected {
        /// The mechanism used.
        mechanism: String,
        /// The broker's code.
        code: ErrorCode,
        /// The broker's `error_message`, bounded to [`MAX_SERVER_TEXT`].
        message: Option<String>,
    },
    /// The SCRAM conversation failed on the client's side: the server's
    /// messages were malformed, weak, or did not prove that it knows the
    /// password.
    #[error("SCRAM: {0}")]
    Scram(#[source] ScramFailure),
    /// The OAUTHBEARER conversation failed.
    #[error("OAUTHBEARER: {0}")]
    OAuthBearer(#[source] OAuthBearerFailure),
    /// The configured credentials cannot be sent (checked before anything is
    /// written).
    #[error("unusable SASL credentials: {0}")]
    BadCredentials(#[source] CredentialProblem),
    /// No answer within the request timeout (the driver's timer).
    #[error("no SASL answer within {after_ms} ms")]
    NoAnswer {
        /// The timeout (milliseconds).
        after_ms: u64,
    },
    /// Writing a request failed (reported by the driver).
    #[error("writing a SASL request: {0}")]
    Write(#[source] IoFailure),
    /// The connection ended before an answer (reported by the driver).
    #[error("reading a SASL answer: {0}")]
    Read(#[source] Disconnect),
    /// An answer's header or body could not be decoded.
    #[error("undecodable SASL answer: {0}")]
    Undecodable(#[source] DecodeError),
    /// An answer was for another request.
    #[error("the SASL answer has correlation id {got}, expected {expected}")]
    WrongCorrelationId {
        /// The id in the answer.
        got: i32,
        /// The id of the request.
        expected: i32,
    },
    /// An answer arrived when none was expected (no request outstanding, or
    /// after the exchange ended).
    #[error("a SASL answer arrived when none was expected")]
    UnexpectedResponse,
    /// A request could not be encoded (for example a version the wire crate
    /// does not support: the negotiated version is wrong).
    #[error("a SASL request could not be encoded: {0}")]
    Encode(#[source] EncodeError),
}

impl AuthenticationFailure {
    /// Whether a new connection may succeed where this one failed: true for
    /// failures of the connection (no answer, I/O, garbled or mismatched
    /// frames), false for everything about the credentials or the server's
    /// proof, which the Java client reports as fatal.
    pub fn is_retriable(&self) -> bool {
        matches!(
            self,
            AuthenticationFailure::NoAnswer { .. }
                | AuthenticationFailure::Write(_)
                | AuthenticationFailure::Read(_)
                | AuthenticationFailure::Undecodable(_)
                | AuthenticationFailure::WrongCorrelationId { .. }
        )
    }
}

impl From<ScramFailure> for AuthenticationFailure {
    fn from(failure: ScramFailure) -> Self {
        AuthenticationFailure::Scram(failure)
    }
}

impl From<OAuthBearerFailure> for AuthenticationFailure {
    fn from(failure: OAuthBearerFailure) -> Self {
        AuthenticationFailure::OAuthBearer(failure)
    }
}

impl From<CredentialProblem> for AuthenticationFailure {
    fn from(problem: CredentialProblem) -> Self {
        AuthenticationFailure::BadCredentials(problem)
    }
}

fn offered_list(offered: &[String]) -> String {
    if offered.is_empty() {
        "none".to_owned()
    } else {
        offered.join(", ")
    }
}

fn message_suffix(message: &Option<String>) -> String {
    match message {
        Some(m) => format!(": {m}"),
        None => String::new(),
    }
}

/// Why a SCRAM conversation (RFC 5802) failed on the client's side.
///
/// Each of these means the server (or something pretending to be it) sent a
/// message the client must not accept. Accepting a missing or wrong
/// ServerSignature would let an impostor that does not know the password
/// complete authentication (the CVE-2024-56128 class).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScramFailure {
    /// The server nonce does not start with the client nonce, or equals it
    /// (the server must add its own part).
    #[error("the server nonce does not extend the client nonce")]
    NonceNotExtended,
    /// The iteration count is below the minimum RFC 7677 asks for.
    #[error("iteration count {got} is below the minimum of {min}")]
    IterationsTooLow {
        /// The server's count.
        got: u64,
        /// The minimum ([`crate::sasl::scram::MIN_SCRAM_ITERATIONS`]).
        min: u32,
    },
    /// The iteration count is above the cap (a server could otherwise make
    /// the client spin on PBKDF2).
    #[error("iteration count {got} is above the maximum of {max}")]
    IterationsTooHigh {
        /// The server's count (saturated at `u64::MAX` if it does not fit).
        got: u64,
        /// The cap ([`crate::sasl::scram::MAX_SCRAM_ITERATIONS`]).
        max: u32,
    },
    /// The salt is empty.
    #[error("the salt is empty")]
    EmptySalt,
    /// A base64 field does not decode.
    #[error("attribute `{field}` is not valid base64")]
    BadBase64 {
        /// The attribute (`s` or `v`).
        field: &'static str,
    },
    /// A required attribute is missing or out of order.
    #[error("attribute `{name}` is missing")]
    MissingAttribute {
        /// The attribute (`r`, `s` or `i`).
        name: char,
    },
    /// The server-first message starts with the reserved `m=` extension,
    /// which RFC 5802 says the client must fail on.
    #[error("the server sent the mandatory extension `m=`, which is not supported")]
    UnexpectedExtension,
    /// The server reported an error (`e=` in its message).
    #[error("the server reported: {message}")]
    ServerError {
        /// The server's error value, bounded to [`MAX_SERVER_TEXT`].
        message: String,
    },
    /// The server-final message has no ServerSignature (`v=`).
    #[error("the server's final message has no ServerSignature")]
    MissingServerSignature,
    /// The ServerSignature does not match: the server does not know the
    /// password, or the messages were tampered with.
    #[error("the ServerSignature is wrong: the server did not prove it knows the password")]
    WrongServerSignature,
    /// A message does not follow the RFC 5802 grammar.
    #[error("malformed server message: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
}

/// Why an OAUTHBEARER conversation (RFC 7628, KIP-255) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthBearerFailure {
    /// The server refused the token and said why in an RFC 7628 error
    /// message (JSON such as `{"status":"invalid_token"}`).
    #[error("the server refused the token: {status}")]
    ServerError {
        /// The server's JSON text, bounded to [`MAX_SERVER_TEXT`].
        status: String,
    },
}

/// Why configured credentials cannot be sent. None of these shows the
/// credential itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialProblem {
    /// The field is empty.
    #[error("the {field} is empty")]
    Empty {
        /// `username`, `password` or `token`.
        field: &'static str,
    },
    /// The field contains a NUL character, which PLAIN uses as separator.
    #[error("the {field} contains a NUL character")]
    ContainsNul {
        /// `username` or `password`.
        field: &'static str,
    },
    /// SASLprep (RFC 4013) rejects the field (a prohibited or unassigned
    /// character, or mixed right-to-left text).
    #[error("the {field} is refused by SASLprep (RFC 4013)")]
    SaslPrep {
        /// `username` or `password`.
        field: &'static str,
    },
    /// The caller's random bytes for the SCRAM client nonce are too few.
    #[error("the SCRAM client nonce has {got} random bytes, at least {min} are needed")]
    NonceTooShort {
        /// Bytes given.
        got: usize,
        /// The minimum.
        min: usize,
    },
    /// The OAUTHBEARER token is not an RFC 6750 `b64token`.
    #[error("the OAUTHBEARER token contains characters a bearer token may not have")]
    BadToken,
    /// An OAUTHBEARER extension key is not `[A-Za-z]+`, is the reserved
    /// `auth`, or appears twice.
    #[error("invalid OAUTHBEARER extension key {key:?}")]
    BadExtensionKey {
        /// The key (bounded; keys are not secret).
        key: String,
    },
    /// An OAUTHBEARER extension value is empty or has characters outside
    /// RFC 7628's grammar (printable ASCII, space, tab, CR, LF).
    #[error("invalid value for OAUTHBEARER extension {key:?}")]
    BadExtensionValue {
        /// The key whose value is invalid (the value is not shown).
        key: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_bounded_and_has_no_control_characters() {
        let long = "x".repeat(10_000);
        let kept = server_text(long.as_bytes());
        assert_eq!(kept.chars().count(), MAX_SERVER_TEXT + 1);
        assert!(kept.ends_with('…'));
        assert_eq!(server_text(b"bad\nline\x1b[31m"), "bad\u{FFFD}line\u{FFFD}[31m");
        assert_eq!(server_text(&[0xff, b'a']), "\u{FFFD}a");
    }

    #[test]
    fn only_connection_failures_are_retriable() {
        assert!(AuthenticationFailure::NoAnswer { after_ms: 5 }.is_retriable());
        assert!(!AuthenticationFailure::Scram(ScramFailure::WrongServerSignature).is_retriable());
        let rejected = AuthenticationFailure::Rejected {
            mechanism: "PLAIN".into(),
            code: ErrorCode(58),
            message: Some("Authentication failed: Invalid username or password".into()),
        };
        assert!(!rejected.is_retriable());
        let shown = rejected.to_string();
        assert!(
            shown.contains("PLAIN") && shown.contains("Invalid username"),
            "{shown}"
        );
    }

    #[test]
    fn mechanism_not_offered_lists_the_offered_ones() {
        let e = AuthenticationFailure::MechanismNotOffered {
            wanted: "SCRAM-SHA-512".into(),
            offered: vec!["PLAIN".into(), "SCRAM-SHA-256".into()],
        };
        assert_eq!(
            e.to_string(),
            "the broker does not offer SASL mechanism SCRAM-SHA-512; it offers PLAIN, SCRAM-SHA-256"
        );
    }
}
