//! SASL on a new connection, after `ApiVersions`: where the credentials come
//! from (fixed, Kafka's unsecured JWT, or the user's token provider).
//!
//! The exchange itself (SaslHandshake, then SaslAuthenticate messages until
//! the mechanism is done; SCRAM's nonce and signature checks) is the core's,
//! driven over the socket by the connection's `io` module; this module
//! fetches the credentials (asking the token provider for OAUTHBEARER) and
//! draws the SCRAM nonce from the OS CSPRNG.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use kafka_producer_core::sasl::oauthbearer::unsecured_jwt;
use kafka_producer_core::sasl::{SaslCredentials, ScramMechanism, Secret};

use crate::clock::now_ms;
use crate::config::{ProducerConfig, SaslMechanism};
use crate::error::{ConfigProblem, ConnectFailure, ProducerError};

/// An OAUTHBEARER token, as a [`OAuthBearerTokenProvider`] returns it.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthBearerToken {
    /// The token (for example a JWT), sent as `auth=Bearer <token>`.
    pub token: Secret,
    /// How long it stays valid from now, when known. The connection is
    /// renewed before then even if the broker sets no session lifetime.
    pub lifetime: Option<Duration>,
    /// SASL extensions (KIP-342), e.g. a Confluent Cloud `logicalCluster`.
    pub extensions: Vec<(String, String)>,
}

impl fmt::Debug for OAuthBearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthBearerToken")
            .field("token", &"<redacted>")
            .field("lifetime", &self.lifetime)
            .field("extensions", &self.extensions)
            .finish()
    }
}

/// What a token provider returns: a token, or why there is none.
pub type TokenFuture = Pin<Box<dyn Future<Output = Result<OAuthBearerToken, String>> + Send>>;

/// Supplies OAUTHBEARER tokens; asked on every new connection, so it should
/// cache a token until shortly before it expires. Any
/// `Fn() -> TokenFuture` is a provider.
///
/// ```
/// use std::time::Duration;
/// use actix_kafka::security::sasl::{OAuthBearerToken, TokenFuture};
/// use actix_kafka::config::Secret;
///
/// let provider = || -> TokenFuture {
///     Box::pin(async {
///         // Fetch from your identity provider here.
///         Ok(OAuthBearerToken {
///             token: Secret::new("eyJ..."),
///             lifetime: Some(Duration::from_secs(3600)),
///             extensions: Vec::new(),
///         })
///     })
/// };
/// # let _: std::sync::Arc<dyn actix_kafka::security::sasl::OAuthBearerTokenProvider> = std::sync::Arc::new(provider);
/// ```
pub trait OAuthBearerTokenProvider: Send + Sync + 'static {
    /// A current token.
    fn token(&self) -> TokenFuture;
}

impl<F> OAuthBearerTokenProvider for F
where
    F: Fn() -> TokenFuture + Send + Sync + 'static,
{
    fn token(&self) -> TokenFuture {
        self()
    }
}

/// Where a connection's SASL credentials come from.
#[derive(Clone)]
pub enum SaslSource {
    /// Fixed credentials (PLAIN, SCRAM, a static OAUTHBEARER token).
    Fixed(SaslCredentials),
    /// Kafka's unsecured OAUTHBEARER token for a principal, made afresh per
    /// connection (development and tests only: any broker that accepts it
    /// trusts anyone).
    Unsecured {
        /// The token's `sub`.
        principal: String,
        /// How long each token is valid.
        lifetime: Duration,
        /// SASL extensions (KIP-342).
        extensions: Vec<(String, String)>,
    },
    /// The user's provider, and the configured extensions (a token's own
    /// extensions override them by key).
    Provider {
        /// The provider.
        provider: Arc<dyn OAuthBearerTokenProvider>,
        /// `sasl_oauthbearer_extensions`.
        extensions: Vec<(String, String)>,
    },
}

impl fmt::Debug for SaslSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaslSource::Fixed(credentials) => f.debug_tuple("Fixed").field(credentials).finish(),
            SaslSource::Unsecured {
                principal, lifetime, ..
            } => f
                .debug_struct("Unsecured")
                .field("principal", principal)
                .field("lifetime", lifetime)
                .finish_non_exhaustive(),
            SaslSource::Provider { extensions, .. } => f
                .debug_struct("Provider")
                .field("extensions", extensions)
                .finish_non_exhaustive(),
        }
    }
}

impl SaslSource {
    /// The source a validated configuration names, or `provider` for
    /// OAUTHBEARER when given. Missing credentials are a configuration error.
    pub fn from_config(
        config: &ProducerConfig,
        provider: Option<Arc<dyn OAuthBearerTokenProvider>>,
    ) -> Result<SaslSource, ProducerError> {
        let missing = |option: &str, what: &str| ProducerError::Config {
            option: option.to_string(),
            problem: ConfigProblem::BrokenRule {
                rule: format!("{what} is required for sasl_mechanism {}", config.sasl_mechanism),
            },
        };
        let user_and_password = || -> Result<(String, Secret), ProducerError> {
            let username = config
                .sasl_plain_username
                .clone()
                .ok_or_else(|| missing("sasl_plain_username", "a user name (or sasl.jaas.config)"))?;
            let password = config
                .sasl_plain_password
                .clone()
                .ok_or_else(|| missing("sasl_plain_password", "a password (or sasl.jaas.config)"))?;
            Ok((username, password))
        };
        let scram = |mechanism| -> Result<SaslSource, ProducerError> {
            let (username, password) = user_and_password()?;
            Ok(SaslSource::Fixed(SaslCredentials::Scram {
                mechanism,
                username,
                password,
            }))
        };
        match config.sasl_mechanism {
            SaslMechanism::Plain => {
                let (username, password) = user_and_password()?;
                Ok(SaslSource::Fixed(SaslCredentials::Plain { username, password }))
            }
            SaslMechanism::ScramSha256 => scram(ScramMechanism::Sha256),
            SaslMechanism::ScramSha512 => scram(ScramMechanism::Sha512),
            SaslMechanism::OAuthBearer => {
                let extensions: Vec<(String, String)> = config
                    .sasl_oauthbearer_extensions
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if let Some(provider) = provider {
                    Ok(SaslSource::Provider { provider, extensions })
                } else if let Some(token) = &config.sasl_oauthbearer_token {
                    Ok(SaslSource::Fixed(SaslCredentials::OAuthBearer {
                        token: token.clone(),
                        extensions,
                    }))
                } else if let Some(principal) = &config.sasl_oauthbearer_unsecured_principal {
                    Ok(SaslSource::Unsecured {
                        principal: principal.clone(),
                        lifetime: Duration::from_millis(config.sasl_oauthbearer_unsecured_lifetime_ms),
                        extensions,
                    })
                } else {
                    Err(missing(
                        "sasl_oauthbearer_token",
                        "a token, an unsecured principal, or a token provider (Producer::builder)",
                    ))
                }
            }
            other => Err(ProducerError::Config {
                option: "sasl_mechanism".into(),
                problem: ConfigProblem::Unsupported {
                    why: format!("SASL mechanism {other} is not supported"),
                },
            }),
        }
    }

    /// The credentials for one authentication, and how long they last.
    pub(crate) async fn credentials(&self) -> Result<(SaslCredentials, Option<Duration>), ConnectFailure> {
        match self {
            SaslSource::Fixed(credentials) => Ok((credentials.clone(), None)),
            SaslSource::Unsecured {
                principal,
                lifetime,
                extensions,
            } => {
                let lifetime_ms = u64::try_from(lifetime.as_millis()).unwrap_or(u64::MAX);
                let token = unsecured_jwt(principal, u64::try_from(now_ms()).unwrap_or(0), lifetime_ms);
                let credentials = SaslCredentials::OAuthBearer {
                    token: Secret::new(token),
                    extensions: extensions.clone(),
                };
                Ok((credentials, Some(*lifetime)))
            }
            SaslSource::Provider { provider, extensions } => {
                let token = provider
                    .token()
                    .await
                    .map_err(|reason| ConnectFailure::CredentialsUnavailable { reason })?;
                let mut merged: Vec<(String, String)> = extensions
                    .iter()
                    .filter(|(key, _)| !token.extensions.iter().any(|(k, _)| k == key))
                    .cloned()
                    .collect();
                merged.extend(token.extensions);
                let credentials = SaslCredentials::OAuthBearer {
                    token: token.token,
                    extensions: merged,
                };
                Ok((credentials, token.lifetime))
            }
        }
    }
}

/// The SCRAM client nonce: 24 bytes from the OS CSPRNG.
pub(crate) fn client_nonce() -> Result<[u8; 24], ConnectFailure> {
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut nonce).map_err(|e| ConnectFailure::CredentialsUnavailable {
        reason: format!("the OS random number generator failed: {e}"),
    })?;
    Ok(nonce)
}
