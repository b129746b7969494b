//! The option table: every producer option, declared once.
//!
//! This is the one place to add, rename or document an option. Each entry gives
//! the aiokafka snake_case name and the field's type, the other spellings that
//! set it (Kafka's Java property names, then librdkafka's), how the docs describe
//! its type and default, the default itself, its validation rule in words and in
//! code, and its meaning (the `///` lines). The `producer_options!` macro
//! (`macros.rs`) turns the table into the struct, `Default`, `Debug` and the
//! [`OPTIONS`] table that `set`, serde, `validate` and `docs/configuration.md`
//! are all built from. After editing, regenerate the docs with
//! `UPDATE_CONFIG_DOCS=1 cargo test -p kafka-producer-core config_docs`.
//!
//! The first Java name is the option's main Kafka spelling; further names are
//! aliases, and a parse error reached through one says which option it sets.

use crate::sasl::Secret;
use kafka_wire::compression::Compression;

use std::collections::BTreeMap;

use super::validate::{
    check_acks, check_bootstrap_servers, check_client_identity, check_kafka_string, check_max_in_flight,
    check_oauthbearer_extensions, check_sasl_credentials, check_transactional_id, check_trust,
    oauthbearer_option_fits, password_option_fits, store_is_pem, tls_option_fits, within_bytes, within_ms,
};
use super::{
    Acks, EndpointIdentification, PartitionerKind, SaslMechanism, SecurityProtocol, SslProtocol, StoreType,
    TlsVersions,
};

producer_options! {
    /// The producer's configuration.
    ///
    /// Field names are aiokafka's; each field's documentation lists every key that
    /// sets it and the default. Build one with [`ProducerConfig::new`] and struct
    /// update syntax, [`ProducerConfig::from_properties`], [`ProducerConfig::set`]
    /// or serde; check it with [`ProducerConfig::validate`].
    ///
    /// `Debug` never prints the secrets: `sasl_plain_password`,
    /// `sasl_oauthbearer_token`, `ssl_key_pem` and `ssl_password`.
    pub struct ProducerConfig;

    /// Brokers to fetch the first metadata from: comma-separated `host:port`,
    /// IPv6 as `[addr]:port`.
    bootstrap_servers: String {
        java: ["bootstrap.servers"],
        librdkafka: ["metadata.broker.list"],
        value: "string: comma-separated `host:port` (serde: also a list of strings)",
        default: "localhost:9092".to_owned() => "`\"localhost:9092\"`",
        lists: true,
        redact: false,
        rule: "At least one entry after splitting at commas and trimming (empty entries are skipped). \
               Each is `host:port` or `[ipv6]:port`, port 1-65535, no URL scheme (`PLAINTEXT://` is not accepted).",
        check: check_bootstrap_servers,
    }

    /// The client id sent with every request; shows in broker logs, metrics and
    /// quotas. (aiokafka numbers its producers, `aiokafka-producer-N`; here the id
    /// is fixed unless you set it.)
    client_id: String {
        java: ["client.id"],
        librdkafka: [],
        value: "string",
        default: "actix-kafka".to_owned() => "`\"actix-kafka\"`",
        lists: false,
        redact: false,
        rule: "At most 32767 bytes (a Kafka string).",
        check: |c| check_kafka_string(&c.client_id),
    }

    /// How many replicas must have a batch before the broker answers. `0`: no
    /// answer, deliveries resolve without an offset, errors are never seen. `1`:
    /// the leader wrote it. `all`: every in-sync replica has it. Stored as
    /// `Option<Acks>` (`None` = not given); `effective_acks()` gives the value in
    /// force: `1`, or `all` when idempotent.
    acks: Option<Acks> {
        java: ["acks"],
        librdkafka: ["request.required.acks"],
        value: "`0`, `1`, `-1` or `all`",
        default: None => "`1`; `all` when idempotent",
        lists: false,
        redact: false,
        rule: "With idempotence (`enable_idempotence` or `transactional_id`), an explicit value must be `all`; \
               `acks=1` or `0` with idempotence is an error, not silently changed.",
        check: check_acks,
    }

    /// The codec for record batches. zstd needs a broker with Produce v7
    /// (Kafka 2.1+).
    compression_type: Compression {
        java: ["compression.type"],
        librdkafka: ["compression.codec"],
        value: "`none`, `gzip`, `snappy`, `lz4`, `zstd` (any case)",
        default: Compression::None => "`none`",
        lists: false,
        redact: false,
        rule: "",
        check: |_| Ok(()),
    }

    /// The maximum size of one partition's batch in bytes. A record larger than
    /// this goes into a batch of its own (the first record of a batch is always
    /// accepted). Use `1` for one record per batch (Java's `batch.size=0`).
    max_batch_size: usize {
        java: ["batch.size"],
        librdkafka: [],
        value: "bytes",
        default: 16384 => "`16384`",
        lists: false,
        redact: false,
        rule: "From 1 to 2147483647 (`i32::MAX`). There is no rule between it and `max_request_size` \
               (Java has none either).",
        check: |c| within_bytes(c.max_batch_size),
    }

    /// How long a batch that is not full waits for more records before it is
    /// sent. `0`: sent as soon as the partition has no batch in flight.
    linger_ms: u64 {
        java: ["linger.ms"],
        librdkafka: ["queue.buffering.max.ms"],
        value: "ms",
        default: 0 => "`0`",
        lists: false,
        redact: false,
        rule: "From 0 to 31536000000 (one year, `MAX_DURATION_MS`).",
        check: |c| within_ms(c.linger_ms, 0),
    }

    /// The maximum size of a request, and so of one serialized record: a larger
    /// record fails at once with `RecordTooLarge` and is not sent.
    max_request_size: usize {
        java: ["max.request.size"],
        librdkafka: [],
        value: "bytes",
        default: 1_048_576 => "`1048576`",
        lists: false,
        redact: false,
        rule: "From 1 to 2147483647 (`i32::MAX`).",
        check: |c| within_bytes(c.max_request_size),
    }

    /// The delivery deadline, as in aiokafka: how long to wait for a broker's
    /// answer (`RequestTimedOut`), and how long retriable errors are retried
    /// before the last one is returned. A batch still unsent this long after it
    /// was created fails with `BatchExpired` (not sent). The idempotent producer
    /// neither times out requests to the caller nor expires batches. Java splits
    /// this into `request.timeout.ms` (one request) and `delivery.timeout.ms`
    /// (the whole delivery); this producer has one deadline, so either Java name
    /// sets it (librdkafka's `message.timeout.ms` too), and giving two of them is
    /// an error rather than a silent choice.
    request_timeout_ms: u64 {
        java: ["request.timeout.ms", "delivery.timeout.ms"],
        librdkafka: ["message.timeout.ms"],
        value: "ms",
        default: 40_000 => "`40000` (aiokafka)",
        lists: false,
        redact: false,
        rule: "From 1 to 31536000000 (one year).",
        check: |c| within_ms(c.request_timeout_ms, 1),
    }

    /// The pause before retrying a failed request, or before refreshing metadata
    /// after an error.
    retry_backoff_ms: u64 {
        java: ["retry.backoff.ms"],
        librdkafka: [],
        value: "ms",
        default: 100 => "`100`",
        lists: false,
        redact: false,
        rule: "From 0 to 31536000000 (one year).",
        check: |c| within_ms(c.retry_backoff_ms, 0),
    }

    /// Metadata is refreshed at least this often (and also on invalid-metadata
    /// errors).
    metadata_max_age_ms: u64 {
        java: ["metadata.max.age.ms"],
        librdkafka: [],
        value: "ms",
        default: 300_000 => "`300000`",
        lists: false,
        redact: false,
        rule: "From 1 to 31536000000 (one year).",
        check: |c| within_ms(c.metadata_max_age_ms, 1),
    }

    /// Idle broker connections are closed after this long.
    connections_max_idle_ms: u64 {
        java: ["connections.max.idle.ms"],
        librdkafka: [],
        value: "ms",
        default: 540_000 => "`540000`",
        lists: false,
        redact: false,
        rule: "From 1 to 31536000000 (one year).",
        check: |c| within_ms(c.connections_max_idle_ms, 1),
    }

    /// The partition choice for records sent without one. Only the default
    /// partitioner exists: `murmur2(key)` (as Java) for keyed records, sticky for
    /// keyless ones. `partitioner.class` accepts Java's
    /// `org.apache.kafka.clients.producer.internals.DefaultPartitioner` (the same
    /// thing) or an empty value; other Java classes are rejected.
    partitioner: PartitionerKind {
        java: ["partitioner.class"],
        librdkafka: [],
        value: "`default`",
        default: PartitionerKind::Default => "`default`",
        lists: false,
        redact: false,
        rule: "",
        check: |_| Ok(()),
    }

    /// The total bytes of records buffered across all partitions: each record
    /// counts its encoded size plus about 110 bytes for its delivery slot and
    /// batch entry, so the buffer bounds the memory the records hold. When full, a
    /// send waits up to `max_block_ms`, then fails with `BufferFull` and is not
    /// sent.
    buffer_memory: usize {
        java: ["buffer.memory"],
        librdkafka: [],
        value: "bytes",
        default: 33_554_432 => "`33554432` (32 MiB)",
        lists: false,
        redact: false,
        rule: "At least 1. It may be smaller than `max_request_size`; a record larger than `buffer_memory` \
               is refused with `RecordTooLarge`.",
        check: |c| {
            if c.buffer_memory == 0 {
                Err("must be at least 1 byte".into())
            } else {
                Ok(())
            }
        },
    }

    /// The bound on the enqueue stage of a send: waiting for buffer space or for
    /// an unknown topic's metadata. When it passes the record is never sent
    /// (`BufferFull`, `UnknownTopic`, `MetadataTimeout`, `EnqueueTimeout`). `0`
    /// fails at once.
    max_block_ms: u64 {
        java: ["max.block.ms"],
        librdkafka: [],
        value: "ms",
        default: 60_000 => "`60000`",
        lists: false,
        redact: false,
        rule: "From 0 to 31536000000 (one year).",
        check: |c| within_ms(c.max_block_ms, 0),
    }

    /// The idempotent producer: producer id, sequence numbers, acks=all, no
    /// duplicates from retries. Implied by `transactional_id`.
    enable_idempotence: bool {
        java: ["enable.idempotence"],
        librdkafka: [],
        value: "bool",
        default: false => "`false` (aiokafka)",
        lists: false,
        redact: false,
        rule: "",
        check: |_| Ok(()),
    }

    /// Enables transactions. Implies idempotence whatever `enable_idempotence`
    /// says (as in aiokafka). Must be unique per producer instance.
    transactional_id: Option<String> {
        java: ["transactional.id"],
        librdkafka: [],
        value: "string",
        default: None => "none",
        lists: false,
        redact: false,
        rule: "When set: not empty, at most 32767 bytes.",
        check: check_transactional_id,
    }

    /// How long the coordinator lets a transaction stay open before aborting it.
    /// Must not exceed the broker's `transaction.max.timeout.ms` (the broker
    /// rejects the producer at start otherwise).
    transaction_timeout_ms: u64 {
        java: ["transaction.timeout.ms"],
        librdkafka: [],
        value: "ms",
        default: 60_000 => "`60000`",
        lists: false,
        redact: false,
        rule: "From 1 to 31536000000 (one year).",
        check: |c| within_ms(c.transaction_timeout_ms, 1),
    }

    /// Produce requests in flight per broker connection, as in Java; each request
    /// can carry batches of many partitions. Per-partition order never depends on
    /// it: a partition has at most one batch in flight, so values above 1 pipeline
    /// requests for different partitions but never two batches of one partition.
    max_in_flight_requests_per_connection: usize {
        java: ["max.in.flight.requests.per.connection"],
        librdkafka: ["max.in.flight"],
        value: "count",
        default: 5 => "`5`",
        lists: false,
        redact: false,
        rule: "At least 1; at most 5 with idempotence (as Java requires).",
        check: check_max_in_flight,
    }

    /// The pause before reconnecting to a broker.
    reconnect_backoff_ms: u64 {
        java: ["reconnect.backoff.ms"],
        librdkafka: [],
        value: "ms",
        default: 50 => "`50`",
        lists: false,
        redact: false,
        rule: "From 0 to 31536000000 (one year).",
        check: |c| within_ms(c.reconnect_backoff_ms, 0),
    }

    /// Transport security: `PLAINTEXT` (plain TCP), `SSL` (TLS), `SASL_PLAINTEXT`
    /// (SASL over plain TCP) or `SASL_SSL` (SASL over TLS).
    security_protocol: SecurityProtocol {
        java: ["security.protocol"],
        librdkafka: [],
        value: "`PLAINTEXT`, `SSL`, `SASL_PLAINTEXT`, `SASL_SSL` (any case)",
        default: SecurityProtocol::Plaintext => "`PLAINTEXT`",
        lists: false,
        redact: false,
        rule: "",
        check: |_| Ok(()),
    }

    /// The SASL mechanism for the `SASL_*` protocols. `GSSAPI` (Kerberos) is
    /// refused as unsupported.
    sasl_mechanism: SaslMechanism {
        java: ["sasl.mechanism"],
        librdkafka: ["sasl.mechanisms"],
        value: "`PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`, `OAUTHBEARER` (any case)",
        default: SaslMechanism::Plain => "`PLAIN`",
        lists: false,
        redact: false,
        rule: "With `SASL_PLAINTEXT` or `SASL_SSL` and `PLAIN` or `SCRAM-*`, both `sasl_plain_username` and \
               `sasl_plain_password` must be set (directly or through `sasl.jaas.config`).",
        check: check_sasl_credentials,
    }

    /// The SASL username (PLAIN, SCRAM). Java has no property for it: it is read
    /// from `sasl.jaas.config`.
    sasl_plain_username: Option<String> {
        java: [],
        librdkafka: ["sasl.username"],
        value: "string",
        default: None => "none",
        lists: false,
        redact: false,
        rule: "Not with `OAUTHBEARER`, which does not use it.",
        check: |c| password_option_fits(c, c.sasl_plain_username.is_some()),
    }

    /// The SASL password (PLAIN, SCRAM). Java has no property for it: it is read
    /// from `sasl.jaas.config`. Never printed by `Debug` (shown as `<redacted>`),
    /// never repeated in error messages.
    sasl_plain_password: Option<Secret> {
        java: [],
        librdkafka: ["sasl.password"],
        value: "string (secret)",
        default: None => "none",
        lists: false,
        redact: true,
        rule: "Not with `OAUTHBEARER`, which does not use it.",
        check: |c| password_option_fits(c, c.sasl_plain_password.is_some()),
    }

    /// OAUTHBEARER: a fixed bearer token (a JWT), sent as it is on every
    /// authentication. Meant for tests and short jobs: it is never refreshed.
    /// For long-running producers give a token provider in code instead.
    /// Never printed by `Debug`.
    sasl_oauthbearer_token: Option<Secret> {
        java: [],
        librdkafka: [],
        value: "string (secret)",
        default: None => "none",
        lists: false,
        redact: true,
        rule: "Only with `sasl_mechanism=OAUTHBEARER`; not together with `sasl_oauthbearer_unsecured_principal`.",
        check: |c| {
            if c.sasl_oauthbearer_token.is_some() && c.sasl_oauthbearer_unsecured_principal.is_some() {
                return Err("give either a token or sasl_oauthbearer_unsecured_principal (an unsecured \
                            token for that principal), not both"
                    .into());
            }
            oauthbearer_option_fits(c, c.sasl_oauthbearer_token.is_some())
        },
    }

    /// OAUTHBEARER: SASL extensions sent with the token (KIP-342), `key=value`
    /// pairs separated by commas (some managed services ask for one, such as a
    /// logical cluster id). Also set by `extension_<key>` options of
    /// `OAuthBearerLoginModule` in `sasl.jaas.config` and of
    /// `sasl.oauthbearer.config`.
    sasl_oauthbearer_extensions: BTreeMap<String, String> {
        java: [],
        librdkafka: ["sasl.oauthbearer.extensions"],
        value: "`key=value[,key=value...]` (serde: also a list of `key=value` strings)",
        default: BTreeMap::new() => "none",
        lists: true,
        redact: false,
        rule: "Only with `OAUTHBEARER`. Keys are letters only and not `auth`; values are printable ASCII, \
               spaces and tabs, not empty (KIP-342).",
        check: check_oauthbearer_extensions,
    }

    /// OAUTHBEARER, for development and tests only: build Kafka's unsecured JWT
    /// (`alg: none`) for this principal, as Java's
    /// `unsecuredLoginStringClaim_sub` does. Only a broker configured with the
    /// unsecured validator accepts it.
    sasl_oauthbearer_unsecured_principal: Option<String> {
        java: [],
        librdkafka: [],
        value: "string",
        default: None => "none",
        lists: false,
        redact: false,
        rule: "Only with `OAUTHBEARER`; not empty.",
        check: |c| {
            if c.sasl_oauthbearer_unsecured_principal.as_deref() == Some("") {
                return Err("must not be empty".into());
            }
            oauthbearer_option_fits(c, c.sasl_oauthbearer_unsecured_principal.is_some())
        },
    }

    /// OAUTHBEARER: how long the unsecured JWT built for
    /// `sasl_oauthbearer_unsecured_principal` is valid (its `exp` claim).
    sasl_oauthbearer_unsecured_lifetime_ms: u64 {
        java: [],
        librdkafka: [],
        value: "ms",
        default: 3_600_000 => "`3600000` (one hour, as Java)",
        lists: false,
        redact: false,
        rule: "From 1 to 31536000000 (one year); only with `OAUTHBEARER`.",
        check: |c| {
            within_ms(c.sasl_oauthbearer_unsecured_lifetime_ms, 1)?;
            oauthbearer_option_fits(c, c.sasl_oauthbearer_unsecured_lifetime_ms != 3_600_000)
        },
    }

    /// TLS: a PEM file of the CA certificates that sign the brokers' certificates.
    /// Unset (and no `ssl_ca_pem`): the platform's trusted roots. The file is read
    /// when the producer starts; an unreadable file or one with no PEM
    /// certificate is a configuration error then.
    ssl_cafile: Option<String> {
        aliases: ["ssl_ca_location"],
        java: [],
        librdkafka: ["ssl.ca.location"],
        value: "path",
        default: None => "the platform's roots",
        lists: false,
        redact: false,
        rule: "Only with `SSL` or `SASL_SSL` (Java ignores TLS options on a plaintext protocol; here it is \
               an error, so a forgotten `security.protocol` is caught). At most one of `ssl_cafile`, \
               `ssl_truststore_location` and `ssl_ca_pem`.",
        check: check_trust,
    }

    /// TLS: Java's `ssl.truststore.location`, a trust store file. Only PEM trust
    /// stores are read, so it needs `ssl.truststore.type=PEM` (Java's default
    /// type is JKS). Means the same as `ssl_cafile`.
    ssl_truststore_location: Option<String> {
        java: ["ssl.truststore.location"],
        librdkafka: [],
        value: "path",
        default: None => "none",
        lists: false,
        redact: false,
        rule: "Only with `SSL` or `SASL_SSL`; needs `ssl_truststore_type=PEM`.",
        check: |c| {
            tls_option_fits(c, c.ssl_truststore_location.is_some())?;
            store_is_pem(c.ssl_truststore_location.is_some(), c.ssl_truststore_type, "ssl.truststore.type")
        },
    }

    /// TLS: Java's `ssl.truststore.type`. Only `PEM`; `JKS` and `PKCS12` are
    /// refused with the `openssl` command that converts them.
    ssl_truststore_type: Option<StoreType> {
        java: ["ssl.truststore.type"],
        librdkafka: [],
        value: "`PEM`",
        default: None => "none",
        lists: false,
        redact: false,
        rule: "Only with `SSL` or `SASL_SSL`.",
        check: |c| tls_option_fits(c, c.ssl_truststore_type.is_some()),
    }

    /// TLS: the CA certificates as PEM text, instead of a file.
    ssl_ca_pem: Option<String> {
        java: ["ssl.truststore.certificates"],
        librdkafka: ["ssl.ca.pem"],
        value: "PEM text",
        default: None => "none",
        lists: false,
        redact: false,
        rule: "Only with `SSL` or `SASL_SSL`.",
        check: |c| tls_option_fits(c, c.ssl_ca_pem.is_some()),
    }

    /// mTLS: a PEM file with the client's certificate chain (leaf first); needs
    /// a private key (`ssl_keyfile` or `ssl_key_pem`).
    ssl_certfile: Option<String> {
        aliases: ["ssl_certificate_location"],
        java: [],
        librdkafka: ["ssl.certificate.location"],
        value: "path",
        default: None => "none",
        lists: false,
        redact: false,
        rule: "Only with `SSL` or `SASL_SSL`. A certificate needs a key and a key a certificate; one form of \
               each (file or PEM text), and not with `ssl_keystore_location`.",
        check: check_client_identity,
    }

    /// mTLS: the client's certificate chain as PEM text, instead of a file.
    ssl_certificate_pem: Option<String> {
        java: ["ssl.keystore.certificate.chain"],
        librdkafka: ["ssl.certificate.pem"],
        value: "PEM text",
        default: None => "none",
        lists: false,
        redact: false,
        rule: "Only with `SSL` or `SASL_SSL`.",
        check: |c| tls_option_fits(c, c.ssl_certificate_pem.is_some()),
    }

    /// mTLS: a PEM file with the client's private key (PKCS#8, PKCS#1 or SEC1;
    /// not encrypted).
    ssl_keyfile: Option<String> {
        aliases: ["ssl_key_location"],
        java: [],
        librdkafka: ["ssl.key.location"],
        value: "path",
        default: None => "none",
        lists: false,
        redact: false,
        rule: "Only with `SSL` or `SASL_SSL`.",
        check: |c| tls_option_fits(c, c.ssl_keyfile.is_some()),
    }

    /// mTLS: the client's private key as PEM text, instead of a file. Never
    /// printed by `Debug`.
    ssl_key_pem: Option<Secret> {
        java: ["ssl.keystore.key"],
        librdkafka: ["ssl.key.pem"],
        value: "PEM text (secret)",
        default: None => "none",
        lists: false,
        redact: true,
        rule: "Only with `SSL` or `SASL_SSL`.",
        check: |c| tls_option_fits(c, c.ssl_key_pem.is_some()),
    }

    /// mTLS: Java's `ssl.keystore.location` with `ssl.keystore.type=PEM`: one
    /// PEM file holding the private key and the certificate chain.
    ssl_keystore_location: Option<String> {
        java: ["ssl.keystore.location"],
        librdkafka: [],
        value: "path",
        default: None => "none",
        lists: false,
        redact: false,
        rule: "Only with `SSL` or `SASL_SSL`; needs `ssl_keystore_type=PEM`.",
        check: |c| {
            tls_option_fits(c, c.ssl_keystore_location.is_some())?;
            store_is_pem(c.ssl_keystore_location.is_some(), c.ssl_keystore_type, "ssl.keystore.type")
        },
    }

    /// mTLS: Java's `ssl.keystore.type`. Only `PEM`; `JKS` and `PKCS12` are
    /// refused with the `openssl` command that converts them.
    ssl_keystore_type: Option<StoreType> {
        java: ["ssl.keystore.type"],
        librdkafka: [],
        value: "`PEM`",
        default: None => "none",
        lists: false,
        redact: false,
        rule: "Only with `SSL` or `SASL_SSL`.",
        check: |c| tls_option_fits(c, c.ssl_keystore_type.is_some()),
    }

    /// mTLS: the password of an encrypted private key. Accepted so that Java
    /// configurations load, but encrypted keys are not supported, so `validate`
    /// refuses it: decrypt the key once with `openssl pkey -in enc.pem -out
    /// key.pem`. Never printed by `Debug`.
    ssl_password: Option<Secret> {
        aliases: ["ssl_key_password"],
        java: ["ssl.key.password"],
        librdkafka: [],
        value: "string (secret)",
        default: None => "none",
        lists: false,
        redact: true,
        rule: "Must not be set: encrypted private keys are not supported.",
        check: |c| {
            if c.ssl_password.is_some() {
                return Err("encrypted private keys are not supported; decrypt with openssl pkey \
                            (`openssl pkey -in encrypted.pem -out key.pem`) and remove the password"
                    .into());
            }
            Ok(())
        },
    }

    /// TLS: whether the broker's certificate must be valid for the host name
    /// connected to (the host of the broker's advertised address; IP addresses
    /// against IP SANs). `https` (the default, as Java since 2.0) checks it;
    /// `none` or an empty value turns the check off (and the runtime logs a
    /// warning). librdkafka uses the same name; aiokafka's `ssl_check_hostname`
    /// takes `true` (`https`) or `false` (`none`).
    ssl_endpoint_identification_algorithm: EndpointIdentification {
        aliases: ["ssl_check_hostname"],
        java: ["ssl.endpoint.identification.algorithm"],
        librdkafka: [],
        value: "`https`, `none` or empty; `ssl_check_hostname`: bool",
        default: EndpointIdentification::Https => "`https`",
        lists: false,
        redact: false,
        rule: "`none` only with `SSL` or `SASL_SSL`.",
        check: |c| {
            let off = c.ssl_endpoint_identification_algorithm != EndpointIdentification::Https;
            tls_option_fits(c, off)
        },
    }

    /// TLS: the protocol versions offered, a comma-separated list of `TLSv1.2`
    /// and `TLSv1.3`. Older versions are refused. Unset: both, or TLS 1.2 only
    /// when `ssl_protocol` is `TLSv1.2` (as Java); see `tls_versions()`.
    ssl_enabled_protocols: Option<TlsVersions> {
        java: ["ssl.enabled.protocols"],
        librdkafka: [],
        value: "`TLSv1.2`, `TLSv1.3` (comma-separated; serde: also a list)",
        default: None => "`TLSv1.2,TLSv1.3`",
        lists: true,
        redact: false,
        rule: "Only with `SSL` or `SASL_SSL`; at least one version.",
        check: |c| {
            if let Some(set) = c.ssl_enabled_protocols {
                if set.versions().is_empty() {
                    return Err("must allow at least one of TLSv1.2 and TLSv1.3".into());
                }
            }
            tls_option_fits(c, c.ssl_enabled_protocols.is_some())
        },
    }

    /// TLS: Java's `ssl.protocol`. `TLS` and `TLSv1.3` change nothing; `TLSv1.2`
    /// limits the default `ssl_enabled_protocols` to TLS 1.2.
    ssl_protocol: SslProtocol {
        java: ["ssl.protocol"],
        librdkafka: [],
        value: "`TLS`, `TLSv1.2`, `TLSv1.3`",
        default: SslProtocol::Tls13 => "`TLSv1.3`",
        lists: false,
        redact: false,
        rule: "Only with `SSL` or `SASL_SSL` when not the default.",
        check: |c| tls_option_fits(c, c.ssl_protocol != SslProtocol::Tls13),
    }
}
