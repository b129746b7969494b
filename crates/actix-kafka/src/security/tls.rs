//! TLS with rustls: building the `ClientConfig` from the producer's options,
//! the handshake, and turning rustls' errors into [`TlsFailure`]s.
//!
//! Trust comes from one place: a PEM CA file or PEM text when given, else the
//! operating system's store (`rustls-native-certs`, as librdkafka and the
//! Java client use the platform's; an embedded list such as webpki-roots
//! would go stale inside a long-lived binary and ignore corporate CAs that
//! an administrator installed). Verification checks the chain, the validity
//! period and the host name; with `ssl_endpoint_identification_algorithm =
//! none` only the name check is skipped, never the chain.
//!
//! The verified name (and the SNI) is the host of the address the producer
//! connects to: the broker's advertised listener from the metadata, or the
//! bootstrap entry before the first metadata answer. An IP address verifies
//! against the certificate's IP SANs.

use std::path::Path;
use std::sync::{Arc, Once};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::config::{ClientIdentity, PemSource, ProducerConfig, TrustSource};
use crate::error::{ConfigProblem, IoFailure, ProducerError, TlsFailure};

/// Builds the rustls configuration a validated `config` describes (trust,
/// client certificate, host name check, TLS versions), reading its PEM
/// files. Every problem is a configuration error naming the option.
pub fn client_config(config: &ProducerConfig) -> Result<Arc<ClientConfig>, ProducerError> {
    // ring, not aws-lc-rs: no C/CMake build on the user's machine. ring lacks
    // the post-quantum key exchange rustls now deprecates it for, which
    // brokers on the JDKs Kafka supports (17-23) do not offer either.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let enabled = config.tls_versions();
    let mut versions = Vec::new();
    if enabled.tls13 {
        versions.push(&rustls::version::TLS13);
    }
    if enabled.tls12 {
        versions.push(&rustls::version::TLS12);
    }
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| config_error("ssl_enabled_protocols", e.to_string()))?;
    let roots = Arc::new(root_store(config.trust())?);
    let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider)
        .build()
        .map_err(|e| config_error("ssl_cafile", e.to_string()))?;
    let builder = if config.verifies_hostname() {
        builder.with_webpki_verifier(verifier)
    } else {
        static WARNED: Once = Once::new();
        WARNED.call_once(|| {
            tracing::warn!(
                "ssl_endpoint_identification_algorithm is none: broker certificates are checked against \
                 the CA but not against the broker's host name"
            )
        });
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyNameVerifier(verifier)))
    };
    let tls = match config.client_identity() {
        None => builder.with_no_client_auth(),
        Some(identity) => {
            let (chain, key) = match identity {
                ClientIdentity::KeyStoreFile(path) => (PemSource::File(path), PemSource::File(path)),
                ClientIdentity::CertAndKey { cert, key } => (cert, key),
                other => {
                    return Err(config_error(
                        "ssl_keystore_location",
                        format!("unsupported {other:?}"),
                    ))
                }
            };
            let chain = certificates(chain, "ssl_certfile")?;
            let key = private_key(key)?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                config_error(
                    "ssl_keyfile",
                    format!("the key does not fit the certificate: {e}"),
                )
            })?
        }
    };
    Ok(Arc::new(tls))
}

fn config_error(option: &str, rule: impl Into<String>) -> ProducerError {
    ProducerError::Config {
        option: option.to_string(),
        problem: ConfigProblem::BrokenRule { rule: rule.into() },
    }
}

fn root_store(trust: TrustSource<'_>) -> Result<RootCertStore, ProducerError> {
    let mut roots = RootCertStore::empty();
    let source = match trust {
        TrustSource::PemFile(path) => Some(PemSource::File(path)),
        TrustSource::Pem(text) => Some(PemSource::Text(text)),
        _ => None,
    };
    match source {
        Some(source) => {
            for cert in certificates(source, "ssl_cafile")? {
                roots
                    .add(cert)
                    .map_err(|e| config_error("ssl_cafile", format!("not a usable CA certificate: {e}")))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found
                    .errors
                    .first()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default();
                return Err(config_error(
                    "ssl_cafile",
                    format!("no CA certificates in the operating system's store{why}; set ssl_cafile"),
                ));
            }
        }
    }
    Ok(roots)
}

/// The PEM text of `source`, read from its file if it is one.
fn pem_text(source: PemSource<'_>, option: &str) -> Result<Vec<u8>, ProducerError> {
    match source {
        PemSource::File(path) => std::fs::read(Path::new(path))
            .map_err(|e| config_error(option, format!("cannot read {path}: {e}"))),
        PemSource::Text(text) => Ok(text.as_bytes().to_vec()),
        other => Err(config_error(option, format!("unsupported {other:?}"))),
    }
}

fn certificates(source: PemSource<'_>, option: &str) -> Result<Vec<CertificateDer<'static>>, ProducerError> {
    let pem = pem_text(source, option)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| config_error(option, format!("bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(config_error(option, "no PEM CERTIFICATE found"));
    }
    Ok(certs)
}

fn private_key(source: PemSource<'_>) -> Result<PrivateKeyDer<'static>, ProducerError> {
    const OPTION: &str = "ssl_keyfile";
    let pem = pem_text(source, OPTION)?;
    let text = String::from_utf8_lossy(&pem);
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(config_error(
            OPTION,
            "encrypted private keys are not supported; decrypt it with `openssl pkey -in KEY -out PLAIN`",
        ));
    }
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        config_error(
            OPTION,
            format!("no usable PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"),
        )
    })
}

/// The standard verifier, minus the host name check (chain, validity and
/// signatures still verified).
#[derive(Debug)]
struct AnyNameVerifier(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyNameVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            // The verifier checks the name last, so the chain is good here.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The host part of `host:port` (`[v6]:port` included), as the name to verify.
pub fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _port)| host);
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// Runs the TLS handshake over `tcp`, verifying the broker as `host`.
pub async fn handshake(
    config: Arc<ClientConfig>,
    host: &str,
    tcp: TcpStream,
    timeout: Duration,
) -> Result<TlsStream<TcpStream>, TlsFailure> {
    let name = ServerName::try_from(host.to_string()).map_err(|_| TlsFailure::BadCertificate {
        reason: format!("{host:?} is neither a DNS name nor an IP address"),
    })?;
    let connect = TlsConnector::from(config).connect(name, tcp);
    match tokio::time::timeout(timeout, connect).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(failure_of(&e, host)),
        Err(_) => Err(TlsFailure::TimedOut {
            after_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        }),
    }
}

/// What an I/O error from a TLS stream means: rustls' errors travel inside
/// `io::Error`. A TLS 1.3 server reports a refused client certificate only
/// after the client's handshake is done, so this also applies to the first
/// reads after it.
pub fn failure_of(error: &std::io::Error, host: &str) -> TlsFailure {
    if let Some(tls) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return failure_of_rustls(tls, host);
    }
    if error.kind() == std::io::ErrorKind::UnexpectedEof {
        return TlsFailure::ClosedDuringHandshake;
    }
    TlsFailure::Io(IoFailure::from(error))
}

/// Whether `error` carries a rustls error (so it is about TLS, not the socket).
pub fn is_tls_error(error: &std::io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
}

fn failure_of_rustls(error: &rustls::Error, host: &str) -> TlsFailure {
    use rustls::Error as E;
    match error {
        E::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => TlsFailure::UnknownIssuer,
            CertificateError::NotValidForName => TlsFailure::NameMismatch {
                expected: host.to_string(),
                presented: Vec::new(),
            },
            CertificateError::NotValidForNameContext { presented, .. } => TlsFailure::NameMismatch {
                expected: host.to_string(),
                presented: presented.iter().map(|name| plain_name(name)).collect(),
            },
            CertificateError::Expired => TlsFailure::Expired {
                not_after_unix_s: None,
            },
            CertificateError::ExpiredContext { not_after, .. } => TlsFailure::Expired {
                not_after_unix_s: Some(not_after.as_secs()),
            },
            CertificateError::NotValidYet => TlsFailure::NotYetValid {
                not_before_unix_s: None,
            },
            CertificateError::NotValidYetContext { not_before, .. } => TlsFailure::NotYetValid {
                not_before_unix_s: Some(not_before.as_secs()),
            },
            other => TlsFailure::BadCertificate {
                reason: format!("{other:?}"),
            },
        },
        E::AlertReceived(alert) => TlsFailure::AlertReceived {
            alert: format!("{alert:?}"),
        },
        E::InvalidMessage(_) | E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
            TlsFailure::NotTls {
                detail: error.to_string(),
            }
        }
        other => TlsFailure::Handshake {
            reason: other.to_string(),
        },
    }
}

/// A presented name as rustls prints it (`DnsName("a.example")`,
/// `IpAddress(127.0.0.1)`), without the wrapping: `a.example`, `127.0.0.1`.
fn plain_name(name: &str) -> String {
    let inner = name
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(name);
    inner.trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn presented_names_lose_their_wrapping() {
        assert_eq!(plain_name("DnsName(\"wrong.example.com\")"), "wrong.example.com");
        assert_eq!(plain_name("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(plain_name("plain"), "plain");
    }

    use super::*;

    #[test]
    fn the_verified_name_is_the_host_of_the_address() {
        assert_eq!(host_of("broker-1.example.com:9093"), "broker-1.example.com");
        assert_eq!(host_of("127.0.0.1:9093"), "127.0.0.1");
        assert_eq!(host_of("[::1]:9093"), "::1");
        assert_eq!(host_of("localhost"), "localhost");
    }

    #[test]
    fn an_encrypted_key_is_refused_clearly() {
        let key = PemSource::Text(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
        );
        let error = private_key(key).unwrap_err().to_string();
        assert!(
            error.contains("encrypted private keys are not supported"),
            "{error}"
        );
    }

    #[test]
    fn an_unreadable_or_empty_ca_is_a_config_error() {
        let error = root_store(TrustSource::PemFile("/nonexistent/ca.pem")).unwrap_err();
        assert!(
            matches!(error, ProducerError::Config { ref option, .. } if option == "ssl_cafile"),
            "{error}"
        );
        let error = root_store(TrustSource::Pem("not pem")).unwrap_err().to_string();
        assert!(error.contains("no PEM CERTIFICATE"), "{error}");
    }

    #[test]
    fn rustls_errors_map_to_typed_failures() {
        let io = |e: rustls::Error| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        assert_eq!(
            failure_of(
                &io(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)),
                "h"
            ),
            TlsFailure::UnknownIssuer
        );
        let alert = failure_of(
            &io(rustls::Error::AlertReceived(
                rustls::AlertDescription::CertificateRequired,
            )),
            "h",
        );
        assert_eq!(
            alert,
            TlsFailure::AlertReceived {
                alert: "CertificateRequired".into()
            }
        );
        let eof = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "eof");
        assert_eq!(failure_of(&eof, "h"), TlsFailure::ClosedDuringHandshake);
        assert!(!TlsFailure::ClosedDuringHandshake.is_authentication());
        assert!(TlsFailure::UnknownIssuer.is_authentication());
    }
}
