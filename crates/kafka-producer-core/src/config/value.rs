//! The types of option values, and how each is read from text.
//!
//! Every option's field has a type that implements [`OptionValue`]: it knows how
//! to parse the text of a `.properties` value and how to print itself when the
//! option is a secret. The option table (`options.rs`) picks the parser from the
//! field's type, so a new option of an existing type needs no parsing code.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use kafka_wire::compression::Compression;

use crate::error::{ConfigProblem, ProducerError};
use crate::sasl::Secret;

/// The producer's acknowledgement mode (`acks`): how many replicas must have the
/// records before the broker answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Acks {
    /// `acks=0`: the broker does not answer. Deliveries resolve as soon as the
    /// request is written, with no offset; errors are never seen, nothing is retried.
    None,
    /// `acks=1`: the partition leader answers once it has written the records.
    Leader,
    /// `acks=all` (`-1`): the leader answers once every in-sync replica has the
    /// records (at least `min.insync.replicas` of them).
    All,
}

impl Acks {
    /// The value of the `acks` field of a Produce request: 0, 1 or -1.
    pub fn code(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}

impl FromStr for Acks {
    type Err = ProducerError;

    /// Parses `0`, `1`, `-1` or `all` (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "0" => Ok(Acks::None),
            "1" => Ok(Acks::Leader),
            "-1" => Ok(Acks::All),
            other if other.eq_ignore_ascii_case("all") => Ok(Acks::All),
            other => Err(ProducerError::config(
                "acks",
                ConfigProblem::invalid(format!("expected 0, 1, -1 or all, got {other:?}")),
            )),
        }
    }
}

impl fmt::Display for Acks {
    /// `0`, `1` or `all`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Acks::None => "0",
            Acks::Leader => "1",
            Acks::All => "all",
        })
    }
}

/// Which partitioner picks the partition of records sent without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PartitionerKind {
    /// Keyed records go to `(murmur2(key) & 0x7fffffff) % partitions`, as in the Java
    /// client; keyless records stick to one partition until its batch is sent, then
    /// move on (KIP-480/794). Parsed from `default`, from an empty value, and from
    /// the Java class name `org.apache.kafka.clients.producer.internals.DefaultPartitioner`.
    #[default]
    Default,
}

/// The Java class name that means the built-in partitioner.
const JAVA_DEFAULT_PARTITIONER: &str = "org.apache.kafka.clients.producer.internals.DefaultPartitioner";

impl FromStr for PartitionerKind {
    type Err = ProducerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("default") || s == JAVA_DEFAULT_PARTITIONER {
            Ok(PartitionerKind::Default)
        } else {
            Err(ProducerError::config(
                "partitioner",
                ConfigProblem::unsupported(format!(
                    "unknown partitioner {s:?}: only `default` (murmur2 for keyed records, sticky for \
                     keyless ones) is available; Java partitioner classes cannot be used"
                )),
            ))
        }
    }
}

impl fmt::Display for PartitionerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PartitionerKind::Default => "default",
        })
    }
}

/// How connections to brokers are secured (`security_protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SecurityProtocol {
    /// `PLAINTEXT`: plain TCP, no authentication.
    #[default]
    Plaintext,
    /// `SSL`: TLS, with a client certificate when one is configured (mTLS).
    Ssl,
    /// `SASL_PLAINTEXT`: SASL authentication over plain TCP.
    SaslPlaintext,
    /// `SASL_SSL`: SASL authentication over TLS.
    SaslSsl,
}

impl SecurityProtocol {
    /// Kafka's name: `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`.
    pub fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }

    /// Whether connections use TLS (`SSL` and `SASL_SSL`).
    pub fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }

    /// Whether connections authenticate with SASL (`SASL_PLAINTEXT` and `SASL_SSL`).
    pub fn uses_sasl(self) -> bool {
        matches!(self, SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl)
    }
}

impl FromStr for SecurityProtocol {
    type Err = ProducerError;

    /// Parses Kafka's name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        [
            SecurityProtocol::Plaintext,
            SecurityProtocol::Ssl,
            SecurityProtocol::SaslPlaintext,
            SecurityProtocol::SaslSsl,
        ]
        .into_iter()
        .find(|p| p.name().eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            ProducerError::config(
                "security_protocol",
                ConfigProblem::invalid(format!(
                    "expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got {s:?}"
                )),
            )
        })
    }
}

impl fmt::Display for SecurityProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The SASL mechanism (`sasl_mechanism`), used with the `SASL_*` security protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SaslMechanism {
    /// `PLAIN`: username and password in clear (use it over TLS).
    #[default]
    Plain,
    /// `SCRAM-SHA-256`.
    ScramSha256,
    /// `SCRAM-SHA-512`.
    ScramSha512,
    /// `OAUTHBEARER` (KIP-255): a bearer token from a provider given in code, a
    /// static `sasl_oauthbearer_token`, or Kafka's unsecured JWT for tests.
    OAuthBearer,
}

impl SaslMechanism {
    /// Kafka's name: `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512` or `OAUTHBEARER`.
    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
            SaslMechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// Whether the mechanism authenticates with `sasl_plain_username` and
    /// `sasl_plain_password` (PLAIN and both SCRAMs).
    pub fn uses_password(self) -> bool {
        !matches!(self, SaslMechanism::OAuthBearer)
    }
}

impl FromStr for SaslMechanism {
    type Err = ProducerError;

    /// Parses Kafka's name, ignoring ASCII case. `GSSAPI` (Kerberos) is known
    /// and refused as unsupported.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("GSSAPI") {
            return Err(ProducerError::config(
                "sasl_mechanism",
                ConfigProblem::unsupported(
                    "GSSAPI (Kerberos) is not supported: use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER",
                ),
            ));
        }
        [
            SaslMechanism::Plain,
            SaslMechanism::ScramSha256,
            SaslMechanism::ScramSha512,
            SaslMechanism::OAuthBearer,
        ]
        .into_iter()
        .find(|m| m.name().eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            ProducerError::config(
                "sasl_mechanism",
                ConfigProblem::invalid(format!(
                    "expected PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER, got {s:?}"
                )),
            )
        })
    }
}

impl fmt::Display for SaslMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether the broker's certificate must name the host connected to
/// (`ssl_endpoint_identification_algorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum EndpointIdentification {
    /// `https`: the certificate must be valid for the broker's host name (or IP
    /// address), as Java has done by default since Kafka 2.0. Parsed from
    /// `https` (any case) and, for aiokafka's `ssl_check_hostname`, `true`.
    #[default]
    Https,
    /// No host name check: any certificate the trusted CAs signed is accepted.
    /// Parsed from an empty value, `none` (any case) and `false`. The runtime
    /// logs a warning when it is used.
    None,
}

impl FromStr for EndpointIdentification {
    type Err = ProducerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("https") || s.eq_ignore_ascii_case("true") {
            Ok(EndpointIdentification::Https)
        } else if s.is_empty() || s.eq_ignore_ascii_case("none") || s.eq_ignore_ascii_case("false") {
            Ok(EndpointIdentification::None)
        } else {
            Err(ProducerError::config(
                "ssl_endpoint_identification_algorithm",
                ConfigProblem::invalid(format!(
                    "expected `https`, `none` or an empty value (ssl_check_hostname: true or false), got {s:?}"
                )),
            ))
        }
    }
}

impl fmt::Display for EndpointIdentification {
    /// `https`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EndpointIdentification::Https => "https",
            EndpointIdentification::None => "none",
        })
    }
}

/// The format of Java's trust store and key store files (`ssl.truststore.type`,
/// `ssl.keystore.type`). Only PEM is read; JKS and PKCS12 stores are refused
/// with the `openssl` command that converts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreType {
    /// `PEM`: certificates (and, in a key store, the private key) as PEM text.
    Pem,
}

impl FromStr for StoreType {
    type Err = ProducerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("PEM") {
            return Ok(StoreType::Pem);
        }
        let problem = if s.eq_ignore_ascii_case("JKS") || s.eq_ignore_ascii_case("PKCS12") {
            ConfigProblem::unsupported(format!(
                "{s} stores are not supported, only PEM: convert with openssl (a PKCS12 store: \
                 `openssl pkcs12 -in store.p12 -nodes -out store.pem`; a JKS store first with \
                 `keytool -importkeystore -srcstoretype JKS -deststoretype PKCS12`)"
            ))
        } else {
            ConfigProblem::invalid(format!("expected PEM, got {s:?}"))
        };
        Err(ProducerError::config("ssl.truststore.type", problem))
    }
}

impl fmt::Display for StoreType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreType::Pem => "PEM",
        })
    }
}

/// A TLS protocol version this producer can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TlsVersion {
    /// TLS 1.2 (`TLSv1.2`).
    Tls12,
    /// TLS 1.3 (`TLSv1.3`).
    Tls13,
}

impl TlsVersion {
    /// Java's name: `TLSv1.2` or `TLSv1.3`.
    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }

    /// Parses one of Java's protocol names (any case); the versions before 1.2
    /// are refused as insecure, with their own message.
    fn parse_one(key: &str, name: &str) -> Result<TlsVersion, ProducerError> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("TLSv1.2") {
            Ok(TlsVersion::Tls12)
        } else if name.eq_ignore_ascii_case("TLSv1.3") {
            Ok(TlsVersion::Tls13)
        } else if ["TLSv1", "TLSv1.0", "TLSv1.1", "SSLv3", "SSLv2"]
            .iter()
            .any(|old| old.eq_ignore_ascii_case(name))
        {
            Err(ProducerError::config(
                key,
                ConfigProblem::unsupported(format!(
                    "{name} is not supported (it is deprecated and insecure): use TLSv1.2 and/or TLSv1.3"
                )),
            ))
        } else {
            Err(ProducerError::config(
                key,
                ConfigProblem::invalid(format!("expected TLSv1.2 or TLSv1.3, got {name:?}")),
            ))
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of TLS versions (`ssl_enabled_protocols`), written as Java's
/// comma-separated list: `TLSv1.2,TLSv1.3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TlsVersions {
    /// TLS 1.2 is allowed.
    pub tls12: bool,
    /// TLS 1.3 is allowed.
    pub tls13: bool,
}

impl TlsVersions {
    /// Both TLS 1.2 and 1.3: Java's default `ssl.enabled.protocols`.
    pub const ALL: TlsVersions = TlsVersions {
        tls12: true,
        tls13: true,
    };

    /// Whether `version` is in the set.
    pub fn contains(self, version: TlsVersion) -> bool {
        match version {
            TlsVersion::Tls12 => self.tls12,
            TlsVersion::Tls13 => self.tls13,
        }
    }

    /// The versions in the set, oldest first.
    pub fn versions(self) -> Vec<TlsVersion> {
        [TlsVersion::Tls12, TlsVersion::Tls13]
            .into_iter()
            .filter(|v| self.contains(*v))
            .collect()
    }
}

impl Default for TlsVersions {
    fn default() -> Self {
        TlsVersions::ALL
    }
}

impl fmt::Display for TlsVersions {
    /// Java's list: `TLSv1.2,TLSv1.3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.versions().into_iter().map(TlsVersion::name).collect();
        f.write_str(&names.join(","))
    }
}

/// Java's `ssl.protocol`: the protocol family asked for. With TLSv1.2 and no
/// `ssl_enabled_protocols`, only TLS 1.2 is offered (as in Java); otherwise it
/// changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SslProtocol {
    /// `TLS`: any version allowed by `ssl_enabled_protocols`.
    Tls,
    /// `TLSv1.2`: at most TLS 1.2 unless `ssl_enabled_protocols` says otherwise.
    Tls12,
    /// `TLSv1.3` (Java's default): any version allowed by `ssl_enabled_protocols`.
    #[default]
    Tls13,
}

impl fmt::Display for SslProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SslProtocol::Tls => "TLS",
            SslProtocol::Tls12 => "TLSv1.2",
            SslProtocol::Tls13 => "TLSv1.3",
        })
    }
}

/// A type an option's field can have: parsed from text, printed by `Debug`.
pub(crate) trait OptionValue: Sized + fmt::Debug {
    /// Parses `text`, the value given for `key` (errors name `key` as written).
    fn parse(key: &str, text: &str) -> Result<Self, ProducerError>;

    /// How `Debug` shows the value of a secret option: never the value itself.
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Re-labels a parse error from a `FromStr` impl with the key the user wrote.
fn relabel(key: &str, error: ProducerError) -> ProducerError {
    match error {
        ProducerError::Config { problem, .. } => ProducerError::config(key, problem),
        other => other,
    }
}

/// Values that parse with their own `FromStr` (whose errors name a default key).
macro_rules! parse_with_from_str {
    ($($ty:ty),*) => {$(
        impl OptionValue for $ty {
            fn parse(key: &str, text: &str) -> Result<Self, ProducerError> {
                text.parse().map_err(|e| relabel(key, e))
            }
        }
    )*};
}

parse_with_from_str!(
    PartitionerKind,
    SecurityProtocol,
    SaslMechanism,
    EndpointIdentification
);

impl OptionValue for Option<StoreType> {
    fn parse(key: &str, text: &str) -> Result<Self, ProducerError> {
        text.parse().map(Some).map_err(|e| relabel(key, e))
    }
}

impl OptionValue for Option<TlsVersions> {
    /// A comma-separated list of `TLSv1.2` and `TLSv1.3`, at least one.
    fn parse(key: &str, text: &str) -> Result<Self, ProducerError> {
        let mut set = TlsVersions {
            tls12: false,
            tls13: false,
        };
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match TlsVersion::parse_one(key, name)? {
                TlsVersion::Tls12 => set.tls12 = true,
                TlsVersion::Tls13 => set.tls13 = true,
            }
        }
        if set.versions().is_empty() {
            return Err(ProducerError::config(
                key,
                ConfigProblem::invalid("expected TLSv1.2, TLSv1.3 or TLSv1.2,TLSv1.3, got an empty list"),
            ));
        }
        Ok(Some(set))
    }
}

impl OptionValue for SslProtocol {
    fn parse(key: &str, text: &str) -> Result<Self, ProducerError> {
        let name = text.trim();
        if name.eq_ignore_ascii_case("TLS") {
            return Ok(SslProtocol::Tls);
        }
        TlsVersion::parse_one(key, name).map(|v| match v {
            TlsVersion::Tls12 => SslProtocol::Tls12,
            TlsVersion::Tls13 => SslProtocol::Tls13,
        })
    }
}

impl OptionValue for BTreeMap<String, String> {
    /// `key=value` pairs separated by commas (librdkafka's
    /// `sasl.oauthbearer.extensions`); an empty text is the empty map. A key
    /// given twice is an error. Values are not repeated in errors.
    fn parse(key: &str, text: &str) -> Result<Self, ProducerError> {
        let mut map = BTreeMap::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').ok_or_else(|| {
                ProducerError::config(key, ConfigProblem::invalid("expected key=value[,key=value...]"))
            })?;
            let name = name.trim();
            if map.insert(name.to_owned(), value.trim().to_owned()).is_some() {
                return Err(ProducerError::config(
                    key,
                    ConfigProblem::invalid(format!("the extension {name:?} is given twice")),
                ));
            }
        }
        Ok(map)
    }
}

impl OptionValue for Option<Acks> {
    fn parse(key: &str, text: &str) -> Result<Self, ProducerError> {
        text.parse().map(Some).map_err(|e| relabel(key, e))
    }
}

impl OptionValue for Compression {
    fn parse(key: &str, text: &str) -> Result<Self, ProducerError> {
        text.trim()
            .parse()
            .map_err(|e| ProducerError::config(key, ConfigProblem::invalid(format!("{e}"))))
    }
}

impl OptionValue for String {
    fn parse(_key: &str, text: &str) -> Result<Self, ProducerError> {
        Ok(text.to_owned())
    }
}

impl OptionValue for Option<String> {
    fn parse(_key: &str, text: &str) -> Result<Self, ProducerError> {
        Ok(Some(text.to_owned()))
    }

    /// `None` stays visible (it tells the reader the secret is unset).
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            None => f.write_str("None"),
            Some(_) => f.write_str("Some(<redacted>)"),
        }
    }
}

/// Secret text (passwords, tokens, PEM keys): kept in a [`Secret`], which is
/// zeroed on drop and prints as `<redacted>`.
impl OptionValue for Option<Secret> {
    fn parse(_key: &str, text: &str) -> Result<Self, ProducerError> {
        Ok(Some(Secret::new(text)))
    }

    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            None => f.write_str("None"),
            Some(_) => f.write_str("Some(<redacted>)"),
        }
    }
}

/// Sizes, counts and durations: whole, non-negative numbers.
macro_rules! parse_unsigned {
    ($($ty:ty),*) => {$(
        impl OptionValue for $ty {
            fn parse(key: &str, text: &str) -> Result<Self, ProducerError> {
                text.trim().parse().map_err(|_| {
                    ProducerError::config(key, ConfigProblem::invalid(format!("expected a non-negative integer, got {text:?}")))
                })
            }
        }
    )*};
}

parse_unsigned!(u64, usize);

impl OptionValue for bool {
    fn parse(key: &str, text: &str) -> Result<Self, ProducerError> {
        match text.trim() {
            t if t.eq_ignore_ascii_case("true") => Ok(true),
            t if t.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err(ProducerError::config(
                key,
                ConfigProblem::invalid(format!("expected true or false, got {text:?}")),
            )),
        }
    }
}

/// A field as `Debug` shows it: the value, or a redaction for a secret.
pub(crate) struct Shown<'a, T> {
    /// The field's value.
    pub(crate) value: &'a T,
    /// Whether the option is a secret.
    pub(crate) redact: bool,
}

impl<T: OptionValue> fmt::Debug for Shown<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.redact {
            self.value.fmt_redacted(f)
        } else {
            fmt::Debug::fmt(self.value, f)
        }
    }
}
