//! Transport security: what a connection does between the TCP connect and
//! the first request (TLS, then SASL), and how the configuration becomes it.
//!
//! ```text
//!  TCP connect ─► TLS handshake (SSL, SASL_SSL) ─► ApiVersions ─► SASL (SASL_*) ─► requests
//! ```
//!
//! [`ConnectionSecurity`] is built once, when the producer starts (PEM files
//! are read then, so a bad path is a configuration error from `start`), and
//! shared by every connection.

use std::sync::Arc;

use crate::config::{ProducerConfig, SecurityProtocol};
use crate::error::ProducerError;
use crate::Producer;

pub mod sasl;
pub mod tls;

/// The rustls this crate is built with, to build a `ClientConfig` for
/// [`ProducerBuilder::tls_client_config`] without a version mismatch.
pub use rustls;

/// What every connection of a producer does before its first request.
#[derive(Debug, Clone, Default)]
pub struct ConnectionSecurity {
    /// TLS, for the `SSL` and `SASL_SSL` protocols.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// SASL, for the `SASL_PLAINTEXT` and `SASL_SSL` protocols.
    pub sasl: Option<sasl::SaslSource>,
}

impl ConnectionSecurity {
    /// No TLS, no SASL: `PLAINTEXT`.
    pub fn plaintext() -> Arc<Self> {
        Arc::new(ConnectionSecurity::default())
    }
}

/// Starts a [`Producer`] with settings a configuration cannot hold.
///
/// ```no_run
/// # async fn run(tls: std::sync::Arc<rustls::ClientConfig>) -> Result<(), actix_kafka::ProducerError> {
/// use actix_kafka::{Producer, ProducerConfig};
/// let mut config = ProducerConfig::new("broker-1.example.com:9093");
/// config.set("security.protocol", "SSL")?;
/// let producer = Producer::builder(config).tls_client_config(tls).start().await?;
/// # producer.stop().await; Ok(()) }
/// ```
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct ProducerBuilder {
    config: ProducerConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
    token_provider: Option<Arc<dyn sasl::OAuthBearerTokenProvider>>,
}

impl std::fmt::Debug for ProducerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProducerBuilder")
            .field("config", &self.config)
            .field("tls", &self.tls.as_ref().map(|_| "rustls::ClientConfig"))
            .field("token_provider", &self.token_provider.as_ref().map(|_| ".."))
            .finish()
    }
}

impl ProducerBuilder {
    /// A builder for `config`.
    pub fn new(config: ProducerConfig) -> Self {
        ProducerBuilder {
            config,
            tls: None,
            token_provider: None,
        }
    }

    /// Uses this rustls configuration for TLS, for full control (trust,
    /// client certificates, verification, protocol versions). It replaces
    /// every `ssl_*` option; `security_protocol` must still be `SSL` or
    /// `SASL_SSL`.
    pub fn tls_client_config(mut self, tls: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Gets OAUTHBEARER tokens from `provider` (with `sasl_mechanism =
    /// OAUTHBEARER`), asked on every new connection.
    pub fn oauthbearer_token_provider(mut self, provider: Arc<dyn sasl::OAuthBearerTokenProvider>) -> Self {
        self.token_provider = Some(provider);
        self
    }

    /// Validates the configuration, reads the certificates and keys it
    /// names, starts the actors and waits until the cluster answers a
    /// metadata request (up to `max_block_ms`). An authentication failure
    /// (TLS or SASL) ends the wait at once.
    pub async fn start(self) -> Result<Producer, ProducerError> {
        self.config.validate()?;
        let security = Arc::new(self.security()?);
        Producer::start_with(self.config, security).await
    }

    fn security(&self) -> Result<ConnectionSecurity, ProducerError> {
        let (uses_tls, uses_sasl) = match self.config.security_protocol {
            SecurityProtocol::Plaintext => (false, false),
            SecurityProtocol::Ssl => (true, false),
            SecurityProtocol::SaslPlaintext => (false, true),
            SecurityProtocol::SaslSsl => (true, true),
            other => {
                return Err(ProducerError::Config {
                    option: "security_protocol".into(),
                    problem: crate::error::ConfigProblem::Unsupported {
                        why: format!("{} is not supported", other.name()),
                    },
                })
            }
        };
        let tls = match (&self.tls, uses_tls) {
            (_, false) => None,
            (Some(given), true) => Some(given.clone()),
            (None, true) => Some(tls::client_config(&self.config)?),
        };
        let sasl = match uses_sasl {
            false => None,
            true => Some(sasl::SaslSource::from_config(
                &self.config,
                self.token_provider.clone(),
            )?),
        };
        Ok(ConnectionSecurity { tls, sasl })
    }
}
