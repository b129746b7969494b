//! Reading options from text and from serde: [`ProducerConfig::set`],
//! [`ProducerConfig::from_properties`] and `Deserialize`.
//!
//! All three resolve a key the same way ([`lookup`]): an option of the table (by
//! its snake_case name, a Java name or a librdkafka name), a property that has no
//! field of its own ([`PROPERTIES`]: `sasl.jaas.config`, `retries`), a Java-only
//! property to ignore, or an error. Serde's `deny_unknown_fields` cannot express
//! "reject unknown keys but ignore these", which is why `Deserialize` is
//! implemented by hand on top of the same `apply`.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::jaas::{parse_jaas, JaasError, JaasLogin};
use super::value::OptionValue;
use super::{OptionSpec, ProducerConfig, OPTIONS};
use crate::error::{ConfigProblem, ProducerError};
use crate::sasl::Secret;

/// Java producer properties that are accepted and ignored: they configure the Java
/// client's serializers, and this producer takes bytes.
pub const IGNORED_JAVA_PROPERTIES: &[&str] = &["key.serializer", "value.serializer"];

/// Java producer properties that are known but rejected, with the reason: accepting
/// them silently would change what the user asked for.
pub(crate) const UNSUPPORTED_JAVA_PROPERTIES: &[(&str, &str)] = &[
    (
        "partitioner.ignore.keys",
        "not supported: keyed records always use murmur2(key) like the Java default",
    ),
    ("interceptor.classes", "Java classes cannot be used here"),
    ("metric.reporters", "Java classes cannot be used here"),
    (
        "ssl.truststore.password",
        "not needed: only PEM trust stores are read, and they have no password",
    ),
    (
        "ssl.keystore.password",
        "not needed: only PEM key stores are read; encrypted private keys are not supported (decrypt with \
         openssl pkey)",
    ),
    (
        "ssl.cipher.suites",
        "not supported: the cipher suites are rustls's defaults (TLS 1.2 and 1.3 AEAD suites only)",
    ),
    (
        "ssl.keymanager.algorithm",
        "Java's key manager cannot be used here; remove it (certificates are read from PEM)",
    ),
    (
        "ssl.trustmanager.algorithm",
        "Java's trust manager cannot be used here; remove it (CAs are read from PEM)",
    ),
    (
        "ssl.provider",
        "Java security providers cannot be used here; remove it",
    ),
    (
        "ssl.secure.random.implementation",
        "Java classes cannot be used here; remove it",
    ),
    ("ssl.engine.factory.class", "Java classes cannot be used here"),
    (
        "sasl.login.callback.handler.class",
        "Java classes cannot be used here: give a token provider in code",
    ),
    ("sasl.kerberos.service.name", "GSSAPI (Kerberos) is not supported"),
];

/// Java's default `retries`: "retry until `delivery.timeout.ms`", which is exactly
/// what this producer does with `request_timeout_ms`.
const RETRY_UNTIL_DEADLINE: u64 = i32::MAX as u64;

/// A property with no field of its own: it sets other options, or only checks
/// that the configuration asks for something the producer does.
pub(crate) struct Property {
    /// Kafka's Java name; `None` for a librdkafka-only property.
    pub(crate) java: Option<&'static str>,
    /// librdkafka's names for the same property.
    pub(crate) librdkafka: &'static [&'static str],
    /// What it means here (Markdown, one paragraph; read by the docs generator).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) doc: &'static str,
    /// Reads the value given for the key.
    apply: fn(&mut ProducerConfig, &str, &str) -> Result<(), ProducerError>,
    /// What `null` (serde) does: put what the property sets back to its default.
    reset: fn(&mut ProducerConfig),
}

impl Property {
    /// The key that names the property: Java's, else librdkafka's first.
    pub(crate) fn main_key(&self) -> &'static str {
        self.java.or(self.librdkafka.first().copied()).unwrap_or("")
    }
}

/// The properties without a field, in the order the docs list them.
pub(crate) static PROPERTIES: &[Property] = &[
    Property {
        java: Some("sasl.jaas.config"),
        librdkafka: &[],
        doc: "One JAAS login module entry, read by `parse_jaas`. `PlainLoginModule` and `ScramLoginModule` \
              (`org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" \
              password=\"secret\";`) set `sasl_plain_username` and `sasl_plain_password`. \
              `OAuthBearerLoginModule` sets `sasl_oauthbearer_unsecured_principal` from \
              `unsecuredLoginStringClaim_sub`, `sasl_oauthbearer_unsecured_lifetime_ms` from \
              `unsecuredLoginLifetimeSeconds`, and adds `extension_<key>` (or `unsecuredLoginExtension_<key>`) \
              options to `sasl_oauthbearer_extensions`; with no options the token comes from a provider given \
              in code. Values are quoted (`\\\"` and `\\\\` escape a quote and a backslash) or bare words; \
              the entry ends with `;`. Other login modules (Kerberos, IAM) and OIDC options (`clientId`, \
              `clientSecret`) are rejected. Errors never repeat a value.",
        apply: apply_jaas,
        reset: |config| {
            config.sasl_plain_username = None;
            config.sasl_plain_password = None;
            reset_oauthbearer(config);
        },
    },
    Property {
        java: None,
        librdkafka: &["sasl.oauthbearer.config"],
        doc: "librdkafka's unsecured-token settings, space-separated `name=value`: `principal=` sets \
              `sasl_oauthbearer_unsecured_principal`, `lifeSeconds=` sets \
              `sasl_oauthbearer_unsecured_lifetime_ms`, `extension_<key>=` adds to \
              `sasl_oauthbearer_extensions`. `scope`, `scopeClaimName` and `principalClaimName` are rejected.",
        apply: apply_oauthbearer_config,
        reset: reset_oauthbearer,
    },
    Property {
        java: None,
        librdkafka: &["enable.sasl.oauthbearer.unsecure.jwt"],
        doc: "librdkafka's switch for the unsecured token. Accepted as `true` or `false` for compatibility: \
              here the unsecured token is built whenever `sasl_oauthbearer_unsecured_principal` is set (for \
              example by `principal=` in `sasl.oauthbearer.config`), and never otherwise.",
        apply: |_, key, text| bool_value(key, text).map(|_| ()),
        reset: |_| {},
    },
    Property {
        java: Some("retries"),
        librdkafka: &["message.send.max.retries"],
        doc: "Accepted only as `2147483647`, Java's default, which means \"retry until the delivery \
              deadline\": that is what this producer does, with `request_timeout_ms` (also settable as \
              `delivery.timeout.ms`) as the deadline. A retry count cannot be honoured (retriable errors \
              are retried until the deadline, not a number of times), so any other value is an error \
              that says so; `retries=0` is refused too (Java itself refuses it with idempotence).",
        apply: |_, key, text| check_retries(key, text),
        reset: |_| {},
    },
];

/// `sasl.jaas.config`: parse, interpret, then set the fields. Nothing changes on error.
fn apply_jaas(config: &mut ProducerConfig, key: &str, text: &str) -> Result<(), ProducerError> {
    let jaas_error = |e: JaasError| ProducerError::config(key, ConfigProblem::invalid(e.to_string()));
    let login = parse_jaas(text)
        .and_then(|jaas| jaas.login())
        .map_err(jaas_error)?;
    match login {
        JaasLogin::Plain { username, password } | JaasLogin::Scram { username, password } => {
            config.sasl_plain_username = Some(username);
            config.sasl_plain_password = Some(Secret::new(password));
        }
        JaasLogin::OAuthBearer(login) => {
            if let Some(principal) = login.unsecured_principal {
                config.sasl_oauthbearer_unsecured_principal = Some(principal);
            }
            if let Some(lifetime) = login.unsecured_lifetime_ms {
                config.sasl_oauthbearer_unsecured_lifetime_ms = lifetime;
            }
            config.sasl_oauthbearer_extensions.extend(login.extensions);
        }
    }
    Ok(())
}

/// librdkafka's `sasl.oauthbearer.config`: `principal=p lifeSeconds=n extension_k=v`.
fn apply_oauthbearer_config(config: &mut ProducerConfig, key: &str, text: &str) -> Result<(), ProducerError> {
    let invalid = |why: String| ProducerError::config(key, ConfigProblem::invalid(why));
    let mut principal = None;
    let mut lifetime_ms = None;
    let mut extensions = config.sasl_oauthbearer_extensions.clone();
    for pair in text.split_whitespace() {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| invalid("expected space-separated name=value pairs".to_owned()))?;
        if name == "principal" {
            principal = Some(value.to_owned());
        } else if name == "lifeSeconds" {
            let seconds: u64 = value.parse().map_err(|_| {
                invalid(format!(
                    "lifeSeconds: expected a whole number of seconds, got {value:?}"
                ))
            })?;
            lifetime_ms = Some(
                seconds
                    .checked_mul(1000)
                    .ok_or_else(|| invalid("lifeSeconds is too large".to_owned()))?,
            );
        } else if let Some(extension) = name.strip_prefix("extension_") {
            extensions.insert(extension.to_owned(), value.to_owned());
        } else if ["scope", "scopeClaimName", "principalClaimName"].contains(&name) {
            return Err(ProducerError::config(
                key,
                ConfigProblem::unsupported(format!(
                    "`{name}` is not supported: the unsecured token carries only the `sub` claim"
                )),
            ));
        } else {
            return Err(invalid(format!(
                "unknown setting `{name}`: expected principal=, lifeSeconds= or extension_<key>="
            )));
        }
    }
    if principal.is_some() {
        config.sasl_oauthbearer_unsecured_principal = principal;
    }
    if let Some(lifetime_ms) = lifetime_ms {
        config.sasl_oauthbearer_unsecured_lifetime_ms = lifetime_ms;
    }
    config.sasl_oauthbearer_extensions = extensions;
    Ok(())
}

/// Puts the OAUTHBEARER options that the JAAS and librdkafka properties set back to their defaults.
fn reset_oauthbearer(config: &mut ProducerConfig) {
    let defaults = ProducerConfig::default();
    config.sasl_oauthbearer_unsecured_principal = defaults.sasl_oauthbearer_unsecured_principal;
    config.sasl_oauthbearer_unsecured_lifetime_ms = defaults.sasl_oauthbearer_unsecured_lifetime_ms;
    config.sasl_oauthbearer_extensions = defaults.sasl_oauthbearer_extensions;
}

/// `true` or `false`, for properties without a field.
fn bool_value(key: &str, text: &str) -> Result<bool, ProducerError> {
    <bool as OptionValue>::parse(key, text)
}

/// Accepts `retries` only when it asks for what the producer does.
fn check_retries(key: &str, text: &str) -> Result<(), ProducerError> {
    match text.trim().parse::<u64>() {
        Ok(RETRY_UNTIL_DEADLINE) => Ok(()),
        Ok(0) => Err(ProducerError::config(
            key,
            ConfigProblem::unsupported(
                "0 (never retry) cannot be honoured: retriable errors are always retried until \
                 request_timeout_ms (the delivery deadline), and with idempotence (enable_idempotence or \
                 transactional_id) Java refuses retries=0 as well; remove it, or shorten request_timeout_ms",
            ),
        )),
        Ok(count) => Err(ProducerError::config(
            key,
            ConfigProblem::unsupported(format!(
                "a retry count ({count}) cannot be honoured: retriable errors are retried until \
                 request_timeout_ms (the delivery deadline, also settable as delivery.timeout.ms), not a \
                 number of times; remove it, or give {RETRY_UNTIL_DEADLINE} (Java's default)"
            )),
        )),
        Err(_) => Err(ProducerError::config(
            key,
            ConfigProblem::invalid(format!(
                "expected {RETRY_UNTIL_DEADLINE} (Java's default), got {text:?}: retriable errors are \
                 retried until request_timeout_ms, not a number of times"
            )),
        )),
    }
}

/// What a key names.
enum Key {
    /// An option of the table.
    Option(&'static OptionSpec),
    /// A property without a field.
    Property(&'static Property),
    /// A Java-only property to ignore.
    Ignored,
}

impl Key {
    /// The name under which "given more than once" is detected: every spelling
    /// of one option shares it.
    fn slot(&self) -> Option<&'static str> {
        match self {
            Key::Option(spec) => Some(spec.name),
            Key::Property(property) => Some(property.main_key()),
            Key::Ignored => None,
        }
    }
}

/// Looks a key up. Unknown keys are errors; the error never repeats the value,
/// which may be a secret.
fn lookup(key: &str) -> Result<Key, ProducerError> {
    if let Some(spec) = OPTIONS.iter().find(|spec| spec.keys().any(|k| k == key)) {
        return Ok(Key::Option(spec));
    }
    if let Some(property) = PROPERTIES
        .iter()
        .find(|p| p.java == Some(key) || p.librdkafka.contains(&key))
    {
        return Ok(Key::Property(property));
    }
    if IGNORED_JAVA_PROPERTIES.contains(&key) {
        return Ok(Key::Ignored);
    }
    if let Some(&(_, reason)) = UNSUPPORTED_JAVA_PROPERTIES.iter().find(|(name, _)| *name == key) {
        return Err(ProducerError::config(key, ConfigProblem::unsupported(reason)));
    }
    if key.starts_with("ssl.") || key.starts_with("ssl_") {
        // A typo in a TLS key must not pass silently: say where the list is.
        let why =
            "unknown TLS option: the supported `ssl.*` keys (PEM files and text, hostname verification, \
                   protocol versions) are listed in docs/configuration.md";
        return Err(ProducerError::config(key, ConfigProblem::unsupported(why)));
    }
    Err(ProducerError::config(key, ConfigProblem::UnknownOption))
}

/// An option's value before parsing: what `set` and serde both hand to `apply`.
#[derive(Debug, Clone, PartialEq)]
enum RawValue {
    /// Null / absent: the option goes back to its default.
    Null,
    /// A single value as text (numbers and booleans are converted to text).
    Scalar(String),
    /// A list of values (only options declared with `lists: true` accept one).
    List(Vec<String>),
}

/// Options already given, with the key they were given as.
#[derive(Default)]
struct Seen(HashMap<&'static str, String>);

impl ProducerConfig {
    /// A configuration from `(key, value)` string pairs, on top of the defaults.
    ///
    /// Keys are snake_case names, Kafka's dotted property names or librdkafka's
    /// (see `docs/configuration.md`); values are parsed as by
    /// [`ProducerConfig::set`]. The result is not validated: call
    /// [`ProducerConfig::validate`].
    ///
    /// # Errors
    ///
    /// [`ProducerError::Config`] naming the key for an unknown key, a value of the
    /// wrong type, or one option given twice (under any spelling).
    pub fn from_properties<'a>(
        props: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ProducerError> {
        let mut config = ProducerConfig::default();
        let mut seen = Seen::default();
        for (key, value) in props {
            config.apply_once(&mut seen, key, RawValue::Scalar(value.to_owned()))?;
        }
        Ok(config)
    }

    /// Sets one option from text: a snake_case name or a Kafka property name, and
    /// the value as it would appear in a Java `.properties` file (`"5"`, `"true"`,
    /// `"all"`, `"gzip"`). Java-only properties in [`IGNORED_JAVA_PROPERTIES`] are
    /// accepted and ignored. On error the configuration is unchanged.
    ///
    /// `sasl.jaas.config` sets `sasl_plain_username` and `sasl_plain_password` from a
    /// `PlainLoginModule` or `ScramLoginModule` line, and the OAUTHBEARER options
    /// from an `OAuthBearerLoginModule` line.
    ///
    /// # Errors
    ///
    /// [`ProducerError::Config`] naming `key` when the key is unknown or the value
    /// does not parse. Values are checked further by [`ProducerConfig::validate`].
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ProducerError> {
        self.apply(key, RawValue::Scalar(value.to_owned()))
    }

    /// [`apply`](Self::apply), refusing an option already given under any spelling.
    fn apply_once(&mut self, seen: &mut Seen, key: &str, value: RawValue) -> Result<(), ProducerError> {
        if let Ok(found) = lookup(key) {
            if let Some(slot) = found.slot() {
                if let Some(previous) = seen.0.get(slot) {
                    let sets = match found {
                        Key::Option(spec)
                            if !(spec.is_main_spelling(previous) && spec.is_main_spelling(key)) =>
                        {
                            Some(spec.name)
                        }
                        _ => None,
                    };
                    let problem = ConfigProblem::GivenTwice {
                        first: previous.clone(),
                        second: key.to_owned(),
                        sets,
                    };
                    return Err(ProducerError::config(key, problem));
                }
                seen.0.insert(slot, key.to_owned());
            }
        }
        self.apply(key, value)
    }

    /// Sets one option from a raw value. On error nothing changes.
    fn apply(&mut self, key: &str, value: RawValue) -> Result<(), ProducerError> {
        match lookup(key)? {
            Key::Ignored => {
                tracing::debug!(option = key, "ignoring a Java-only producer property");
                Ok(())
            }
            Key::Property(property) => match value {
                RawValue::Null => {
                    (property.reset)(self);
                    Ok(())
                }
                RawValue::List(_) => Err(ProducerError::config(key, ConfigProblem::NotAList)),
                RawValue::Scalar(text) => (property.apply)(self, key, &text),
            },
            Key::Option(spec) => {
                let result = match value {
                    RawValue::Null => {
                        (spec.reset)(self);
                        Ok(())
                    }
                    RawValue::List(items) if spec.lists => (spec.set)(self, key, &items.join(",")),
                    RawValue::List(_) => Err(ProducerError::config(key, ConfigProblem::NotAList)),
                    RawValue::Scalar(text) => (spec.set)(self, key, &text),
                };
                result.map_err(|error| spec.name_the_option(key, error))
            }
        }
    }
}

impl OptionSpec {
    /// Every key that sets this option: its name, then Java's, then librdkafka's.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.name)
            .chain(self.aliases.iter().copied())
            .chain(self.java.iter().copied())
            .chain(self.librdkafka.iter().copied())
    }

    /// The snake_case name and the first Java name are the option's own
    /// spellings; the others are aliases whose errors say what they set.
    fn is_main_spelling(&self, key: &str) -> bool {
        key == self.name || self.java.first() == Some(&key)
    }

    /// Adds "(`alias` sets `option`)" to an error reached through an alias.
    fn name_the_option(&self, key: &str, error: ProducerError) -> ProducerError {
        match error {
            ProducerError::Config { option, problem } if !self.is_main_spelling(key) => {
                let problem = ConfigProblem::ViaAlias {
                    alias: key.to_owned(),
                    option: self.name,
                    problem: Box::new(problem),
                };
                ProducerError::config(option, problem)
            }
            other => other,
        }
    }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawValueVisitor)
    }
}

/// Accepts strings, numbers, booleans, null and lists of scalars.
struct RawValueVisitor;

impl<'de> Visitor<'de> for RawValueVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean, null or list of strings")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawValue, D::Error> {
        RawValue::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<RawValue>()? {
            match item {
                RawValue::Scalar(text) => items.push(text),
                _ => return Err(de::Error::custom("a list may only hold strings or numbers")),
            }
        }
        Ok(RawValue::List(items))
    }
}

/// Builds a [`ProducerConfig`] from a map, key by key, through [`ProducerConfig::set`]'s
/// name table.
struct ConfigVisitor;

impl<'de> Visitor<'de> for ConfigVisitor {
    type Value = ProducerConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of producer options")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ProducerConfig, A::Error> {
        let mut config = ProducerConfig::default();
        let mut seen = Seen::default();
        while let Some(key) = map.next_key::<String>()? {
            let value: RawValue = map.next_value()?;
            config
                .apply_once(&mut seen, &key, value)
                .map_err(de::Error::custom)?;
        }
        Ok(config)
    }
}

impl<'de> Deserialize<'de> for ProducerConfig {
    /// Reads a map of options: keys in either spelling, values as strings, numbers,
    /// booleans or null (the default); `bootstrap_servers` may be a list. Unknown keys
    /// and options given twice are errors; Java serializer properties are ignored.
    /// The result is not validated: call [`ProducerConfig::validate`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ConfigVisitor)
    }
}
