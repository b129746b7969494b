//! The types of option values, and how each is read from text.
//!
//! Every option's field has a type that implements [`OptionValue`]: it knows how
//! to parse the text of a `.properties` value and how to print itself when the
//! option is a secret. The option table (`options.rs`) picks the parser from the
//! field's type, so a new option of an existing type needs no parsing code.

use std::fmt;
use std::str::FromStr;

use kafka_wire::compression::Compression;

use crate::error::{ConfigProblem, ProducerError};

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
    /// `SSL`: TLS. Not supported yet: rejected by
    /// [`ProducerConfig::validate`](super::ProducerConfig::validate).
    Ssl,
    /// `SASL_PLAINTEXT`: SASL authentication over plain TCP. Not supported yet.
    SaslPlaintext,
    /// `SASL_SSL`: SASL authentication over TLS. Not supported yet.
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
}

impl SaslMechanism {
    /// Kafka's name: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

impl FromStr for SaslMechanism {
    type Err = ProducerError;

    /// Parses Kafka's name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        [
            SaslMechanism::Plain,
            SaslMechanism::ScramSha256,
            SaslMechanism::ScramSha512,
        ]
        .into_iter()
        .find(|m| m.name().eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            ProducerError::config(
                "sasl_mechanism",
                ConfigProblem::invalid(format!(
                    "expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got {s:?}"
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

parse_with_from_str!(PartitionerKind, SecurityProtocol, SaslMechanism);

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
