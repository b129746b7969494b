//! SASL authentication, without I/O: PLAIN, SCRAM-SHA-256/512 and OAUTHBEARER.
//!
//! A Kafka connection that needs SASL authenticates right after `ApiVersions`
//! and before any other request:
//!
//! 1. `SaslHandshake` (v1) names the mechanism; the broker answers with the
//!    mechanisms it enables, and an error if ours is not among them.
//! 2. `SaslAuthenticate` requests carry the mechanism's messages, one per
//!    round trip, until the mechanism is satisfied. The last answer may carry
//!    `session_lifetime_ms` (KIP-368): the client must authenticate again on
//!    the same connection before that much time has passed.
//!
//! The module is in two layers:
//!
//! * **Mechanisms**, which know nothing of Kafka: [`plain`] (RFC 4616, one
//!   message), [`scram`] (RFC 5802 / 7677, two round trips, with the checks
//!   that stop a fake server: nonce, iteration bounds, ServerSignature) and
//!   [`oauthbearer`] (RFC 7628 / KIP-255 / KIP-342, one message, plus
//!   [`oauthbearer::unsecured_jwt`] for test brokers).
//! * [`SaslExchange`], which wraps them in Kafka frames and checks
//!   correlation ids, in the same request / response shape as
//!   [`ApiVersionsNegotiation`](crate::connection::negotiation::ApiVersionsNegotiation):
//!   the driver writes [`SaslExchange::request`], reads one frame, hands its
//!   body to [`SaslExchange::handle_response`], and repeats until
//!   [`SaslStep::Done`].
//!
//! Nothing here draws random numbers: the SCRAM client nonce comes from the
//! caller (the OS CSPRNG, in the actor crate). SCRAM runs PBKDF2, which at
//! the iteration cap takes a noticeable fraction of a second; a driver on an
//! async runtime may want to run [`SaslExchange::handle_response`] off its
//! reactor thread.
//!
//! Credentials are [`Secret`]s: their `Debug` output is `<redacted>` and
//! their memory is zeroed on drop. The `Debug` output of every type here
//! (credentials, mechanism states, the exchange) omits passwords, salted
//! passwords, proofs and tokens.

use std::fmt;

pub mod exchange;
pub mod oauthbearer;
pub mod plain;
pub mod scram;
mod secret;

pub use exchange::{SaslExchange, SaslStep};
pub use scram::ScramMechanism;
pub use secret::Secret;

/// What to authenticate with: the mechanism and its credentials.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SaslCredentials {
    /// `PLAIN` (RFC 4616): the password goes to the broker as is, so use it
    /// only over TLS.
    Plain {
        /// The user.
        username: String,
        /// The password.
        password: Secret,
    },
    /// `SCRAM-SHA-256` or `SCRAM-SHA-512` (RFC 5802, RFC 7677): the password
    /// never leaves the client, and the server proves it knows it too.
    Scram {
        /// Which hash.
        mechanism: ScramMechanism,
        /// The user.
        username: String,
        /// The password.
        password: Secret,
    },
    /// `OAUTHBEARER` (RFC 7628, KIP-255) with a token obtained beforehand,
    /// and the SASL extensions of KIP-342.
    OAuthBearer {
        /// The bearer token (for example a JWT).
        token: Secret,
        /// Extension keys and values sent with the token (`[A-Za-z]+` keys,
        /// not `auth`).
        extensions: Vec<(String, String)>,
    },
}

impl SaslCredentials {
    /// The mechanism's name as Kafka spells it (`PLAIN`, `SCRAM-SHA-256`,
    /// `SCRAM-SHA-512`, `OAUTHBEARER`).
    pub fn mechanism_name(&self) -> &'static str {
        match self {
            SaslCredentials::Plain { .. } => plain::MECHANISM,
            SaslCredentials::Scram { mechanism, .. } => mechanism.name(),
            SaslCredentials::OAuthBearer { .. } => oauthbearer::MECHANISM,
        }
    }
}

impl fmt::Debug for SaslCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaslCredentials::Plain { username, password } => f
                .debug_struct("Plain")
                .field("username", username)
                .field("password", password)
                .finish(),
            SaslCredentials::Scram {
                mechanism,
                username,
                password,
            } => f
                .debug_struct("Scram")
                .field("mechanism", mechanism)
                .field("username", username)
                .field("password", password)
                .finish(),
            SaslCredentials::OAuthBearer { token, extensions } => {
                // Extension values may be tenant ids or similar; show keys only.
                let keys: Vec<&str> = extensions.iter().map(|(k, _)| k.as_str()).collect();
                f.debug_struct("OAuthBearer")
                    .field("token", token)
                    .field("extension_keys", &keys)
                    .finish()
            }
        }
    }
}

#[cfg(test)]
mod tests;
