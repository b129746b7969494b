//! [`ProducerConfig::validate`] and the rules the option table refers to.
//!
//! Parsing only checks that a value has the right type. The rules here check the
//! values themselves and how they combine; each option's rule is named by its
//! `check:` entry in the option table, and `validate` runs them in table order,
//! stopping at the first problem.

use super::{
    Acks, ProducerConfig, SecurityProtocol, MAX_DURATION_MS, MAX_IN_FLIGHT_IDEMPOTENT, MAX_SIZE, OPTIONS,
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
    /// * `security_protocol` is `PLAINTEXT` (TLS and SASL are not supported yet).
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

/// TLS and SASL parse, so that configurations name them, but cannot be used yet.
pub(crate) fn check_security_protocol(config: &ProducerConfig) -> CheckResult {
    if config.security_protocol != SecurityProtocol::Plaintext {
        return Err(format!(
            "{} is not supported yet: only PLAINTEXT is (TLS and SASL come later)",
            config.security_protocol
        ));
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
