//! [`ProducerConfig::validate`] and the rules the option table refers to.
//!
//! Parsing only checks that a value has the right type. The rules here check the
//! values themselves and how they combine; each option's rule is named by its
//! `check:` entry in the option table, and `validate` runs them in table order,
//! stopping at the first problem.

use super::{
    Acks, ProducerConfig, SaslMechanism, StoreType, MAX_DURATION_MS, MAX_IN_FLIGHT_IDEMPOTENT, MAX_SIZE,
    OPTIONS,
};
use crate::error::{ConfigProblem, ProducerError};

/// What an option's check says: fine, or why not (without the option's name,
/// which `validate` adds).
pub(crate) type CheckResult = Result<(), String>;

impl ProducerConfig {
    /// Checks every value and how they combine. The producer calls this when it is
    /// built; nothing is sent with an invalid configuration.
    ///
    /// The rules are listed with each field, and in `docs/configuration.md`. In
    /// short:
    ///
    /// * `bootstrap_servers` lists at least one `host:port` (port 1-65535, IPv6 in
    ///   brackets, no URL scheme);
    /// * `client_id` and `transactional_id` fit Kafka's 32767-byte strings, and
    ///   `transactional_id` is not empty;
    /// * with idempotence (`enable_idempotence` or `transactional_id`), an explicit
    ///   `acks` must be `all`, and `max_in_flight_requests_per_connection` at most 5;
    /// * `max_batch_size`, `max_request_size`, `buffer_memory` and
    ///   `max_in_flight_requests_per_connection` are at least 1, and the two sizes at
    ///   most `i32::MAX`;
    /// * `request_timeout_ms`, `metadata_max_age_ms`, `connections_max_idle_ms` and
    ///   `transaction_timeout_ms` are at least 1; every `*_ms` option is at most
    ///   [`MAX_DURATION_MS`] (one year);
    /// * TLS options (`ssl_*`) only with `SSL` or `SASL_SSL`; the CA certificates,
    ///   the client certificate and the client key each given one way at most; a
    ///   client certificate with its key; Java store files declared `PEM`; no
    ///   `ssl_password` (encrypted keys are not supported);
    /// * PLAIN and SCRAM over `SASL_*` with a username and a password;
    ///   OAUTHBEARER options only with OAUTHBEARER, a token or an unsecured
    ///   principal but not both, and KIP-342 extension syntax. (OAUTHBEARER with
    ///   neither expects a token provider given in code, which the runtime checks.)
    ///
    /// Files named by options are not read here: the runtime reads them when the
    /// producer starts and reports an unreadable file as a configuration error.
    ///
    /// # Errors
    ///
    /// The first problem found (options are checked in the order of the docs
    /// table), as [`ProducerError::Config`] naming the option by its snake_case
    /// name.
    pub fn validate(&self) -> Result<(), ProducerError> {
        for option in OPTIONS {
            (option.check)(self)
                .map_err(|rule| ProducerError::config(option.name, ConfigProblem::rule(rule)))?;
        }
        Ok(())
    }
}

/// A size option: 1 to [`MAX_SIZE`] bytes.
pub(crate) fn within_bytes(value: usize) -> CheckResult {
    if value == 0 || value > MAX_SIZE {
        return Err(format!("must be between 1 and {MAX_SIZE} bytes, got {value}"));
    }
    Ok(())
}

/// A duration option: `min` to [`MAX_DURATION_MS`] milliseconds.
pub(crate) fn within_ms(value: u64, min: u64) -> CheckResult {
    if value < min || value > MAX_DURATION_MS {
        return Err(format!(
            "must be between {min} and {MAX_DURATION_MS} ms, got {value}"
        ));
    }
    Ok(())
}

/// A Kafka `STRING` holds at most `i16::MAX` bytes.
pub(crate) fn check_kafka_string(value: &str) -> CheckResult {
    if value.len() > i16::MAX as usize {
        return Err(format!("longer than {} bytes", i16::MAX));
    }
    Ok(())
}

/// At least one broker, each `host:port` or `[ipv6]:port`.
pub(crate) fn check_bootstrap_servers(config: &ProducerConfig) -> CheckResult {
    let addresses = config.bootstrap_addresses();
    if addresses.is_empty() {
        return Err("no broker given: expected host:port[,host:port...]".into());
    }
    addresses.iter().try_for_each(|address| check_address(address))
}

/// Not empty when set (unset is how you say "not transactional"), and a Kafka string.
pub(crate) fn check_transactional_id(config: &ProducerConfig) -> CheckResult {
    match &config.transactional_id {
        Some(id) if id.is_empty() => Err("must not be empty (leave it unset instead)".into()),
        Some(id) => check_kafka_string(id),
        None => Ok(()),
    }
}

/// Idempotence needs every in-sync replica to have a batch before its sequence
/// number counts; an explicit weaker `acks` is refused rather than overridden.
pub(crate) fn check_acks(config: &ProducerConfig) -> CheckResult {
    match config.acks {
        Some(acks) if config.is_idempotent() && acks != Acks::All => Err(format!(
            "must be `all` (-1) when idempotence is enabled (enable_idempotence or \
             transactional_id), got `{acks}`"
        )),
        _ => Ok(()),
    }
}

/// At least one request; with idempotence at most five, because the broker
/// remembers the sequence numbers of five batches per partition.
pub(crate) fn check_max_in_flight(config: &ProducerConfig) -> CheckResult {
    let in_flight = config.max_in_flight_requests_per_connection;
    if in_flight == 0 {
        return Err("must be at least 1".into());
    }
    if config.is_idempotent() && in_flight > MAX_IN_FLIGHT_IDEMPOTENT {
        return Err(format!(
            "must be at most {MAX_IN_FLIGHT_IDEMPOTENT} when idempotence is enabled, got {in_flight}"
        ));
    }
    Ok(())
}

/// A TLS option is given (`given`) while `security_protocol` has no TLS. Java
/// ignores such options with a warning; here they are an error, because the
/// usual cause is a forgotten `security.protocol=SSL` and the result would be
/// an unencrypted connection the user believes is secured.
pub(crate) fn tls_option_fits(config: &ProducerConfig, given: bool) -> CheckResult {
    if given && !config.security_protocol.uses_tls() {
        return Err(format!(
            "is a TLS option, but security_protocol is {}: set security_protocol to SSL or SASL_SSL, or remove it",
            config.security_protocol
        ));
    }
    Ok(())
}

/// A Java store file is given: its type must have been declared PEM (Java's
/// default, JKS, cannot be read).
pub(crate) fn store_is_pem(given: bool, store_type: Option<StoreType>, type_key: &str) -> CheckResult {
    if given && store_type != Some(StoreType::Pem) {
        return Err(format!(
            "only PEM files are read: set {type_key}=PEM (Java's default type is JKS; convert a JKS or              PKCS12 store with openssl)"
        ));
    }
    Ok(())
}

/// The CA certificates come from one place at most.
pub(crate) fn check_trust(config: &ProducerConfig) -> CheckResult {
    let given: Vec<&str> = [
        ("ssl_cafile", config.ssl_cafile.is_some()),
        (
            "ssl_truststore_location",
            config.ssl_truststore_location.is_some(),
        ),
        ("ssl_ca_pem", config.ssl_ca_pem.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    tls_option_fits(config, !given.is_empty())?;
    if given.len() > 1 {
        return Err(format!(
            "the CA certificates are given twice ({}): give one",
            given.join(" and ")
        ));
    }
    Ok(())
}

/// The client certificate and key: a certificate (file or PEM text) with a key
/// (file or PEM text), or a PEM key store holding both, or nothing.
pub(crate) fn check_client_identity(config: &ProducerConfig) -> CheckResult {
    let c = config;
    tls_option_fits(c, c.ssl_certfile.is_some())?;
    let both = |file: &str, pem: &str, what: &str| {
        format!("the client {what} is given both as a file ({file}) and as PEM text ({pem}): give one")
    };
    if c.ssl_certfile.is_some() && c.ssl_certificate_pem.is_some() {
        return Err(both("ssl_certfile", "ssl_certificate_pem", "certificate"));
    }
    if c.ssl_keyfile.is_some() && c.ssl_key_pem.is_some() {
        return Err(both("ssl_keyfile", "ssl_key_pem", "key"));
    }
    let cert = c.ssl_certfile.is_some() || c.ssl_certificate_pem.is_some();
    let key = c.ssl_keyfile.is_some() || c.ssl_key_pem.is_some();
    if c.ssl_keystore_location.is_some() && (cert || key) {
        return Err("ssl_keystore_location holds the client certificate and key: do not also give ssl_certfile, ssl_certificate_pem, ssl_keyfile or ssl_key_pem"
            .into());
    }
    match (cert, key) {
        (true, false) => {
            Err("a client certificate needs its private key: set ssl_keyfile or ssl_key_pem".into())
        }
        (false, true) => {
            Err("a client private key needs its certificate: set ssl_certfile or ssl_certificate_pem".into())
        }
        _ => Ok(()),
    }
}

/// PLAIN and SCRAM need both a username and a password when SASL is on.
pub(crate) fn check_sasl_credentials(config: &ProducerConfig) -> CheckResult {
    let c = config;
    if c.security_protocol.uses_sasl()
        && c.sasl_mechanism.uses_password()
        && (c.sasl_plain_username.is_none() || c.sasl_plain_password.is_none())
    {
        return Err(format!(
            "{} over {} needs sasl_plain_username and sasl_plain_password (librdkafka: sasl.username, sasl.password; Java: sasl.jaas.config)",
            c.sasl_mechanism, c.security_protocol
        ));
    }
    Ok(())
}

/// A username or password with OAUTHBEARER, which never sends them: a sign of a
/// mechanism set by mistake.
pub(crate) fn password_option_fits(config: &ProducerConfig, given: bool) -> CheckResult {
    if given && config.sasl_mechanism == SaslMechanism::OAuthBearer {
        return Err(
            "is for PLAIN and SCRAM, but sasl_mechanism is OAUTHBEARER (which sends a token): remove it, or change sasl_mechanism"
                .into(),
        );
    }
    Ok(())
}

/// An OAUTHBEARER option with another mechanism.
pub(crate) fn oauthbearer_option_fits(config: &ProducerConfig, given: bool) -> CheckResult {
    if given && config.sasl_mechanism != SaslMechanism::OAuthBearer {
        return Err(format!(
            "is an OAUTHBEARER option, but sasl_mechanism is {}: set sasl_mechanism=OAUTHBEARER, or remove it",
            config.sasl_mechanism
        ));
    }
    Ok(())
}

/// KIP-342: extension keys are `[A-Za-z]+` and not `auth` (reserved for the
/// token), values `[\x21-\x7E \t\r\n]+`.
pub(crate) fn check_oauthbearer_extensions(config: &ProducerConfig) -> CheckResult {
    let extensions = &config.sasl_oauthbearer_extensions;
    oauthbearer_option_fits(config, !extensions.is_empty())?;
    for (key, value) in extensions {
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!(
                "the extension key {key:?} must be letters only (KIP-342)"
            ));
        }
        if key == "auth" {
            return Err("`auth` is reserved for the token and cannot be an extension key".into());
        }
        let printable = |b: u8| (0x21..=0x7e).contains(&b) || matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        if value.is_empty() || !value.bytes().all(printable) {
            // The value is not shown: extensions sometimes carry credentials.
            return Err(format!(
                "the value of the extension {key:?} must be printable ASCII, spaces or tabs, and not empty (KIP-342)"
            ));
        }
    }
    Ok(())
}

/// Checks one bootstrap entry: `host:port` or `[ipv6]:port`.
fn check_address(entry: &str) -> CheckResult {
    if entry.contains("://") {
        return Err(format!("{entry:?}: give host:port without a URL scheme"));
    }
    let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("{entry:?}: missing `]`"))?;
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| format!("{entry:?}: expected `:port` after `]`"))?;
        (host, port)
    } else {
        let (host, port) = entry
            .rsplit_once(':')
            .ok_or_else(|| format!("{entry:?}: expected host:port (the port is required)"))?;
        if host.contains(':') {
            return Err(format!(
                "{entry:?}: write IPv6 addresses in brackets, like [::1]:9092"
            ));
        }
        (host, port)
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("{entry:?}: invalid host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(format!("{entry:?}: the port must be a number from 1 to 65535")),
    }
}
