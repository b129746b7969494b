//! The configuration's behaviour: defaults, every way of setting an option, the
//! error for each rejected value, `validate`'s rules, and `Debug` redaction.

use std::fmt;
use std::time::Duration;

use kafka_wire::compression::Compression;

use super::parse::{PROPERTIES, UNSUPPORTED_JAVA_PROPERTIES};
use super::*;
use crate::error::ConfigProblem;

fn config_error<T: fmt::Debug>(result: Result<T, ProducerError>) -> (String, String) {
    match result {
        Err(ProducerError::Config { option, problem }) => (option, problem.to_string()),
        other => panic!("expected a Config error, got {other:?}"),
    }
}

#[test]
fn defaults_are_aiokafkas() {
    let c = ProducerConfig::default();
    assert_eq!(c.bootstrap_servers, "localhost:9092");
    assert_eq!(c.client_id, "actix-kafka");
    assert_eq!(c.acks, None);
    assert_eq!(c.effective_acks(), Acks::Leader);
    assert_eq!(c.compression_type, Compression::None);
    assert_eq!(c.max_batch_size, 16384);
    assert_eq!(c.linger_ms, 0);
    assert_eq!(c.max_request_size, 1_048_576);
    assert_eq!(c.request_timeout_ms, 40_000);
    assert_eq!(c.retry_backoff_ms, 100);
    assert_eq!(c.metadata_max_age_ms, 300_000);
    assert_eq!(c.connections_max_idle_ms, 540_000);
    assert_eq!(c.partitioner, PartitionerKind::Default);
    assert_eq!(c.buffer_memory, 33_554_432);
    assert_eq!(c.max_block_ms, 60_000);
    assert!(!c.enable_idempotence);
    assert_eq!(c.transactional_id, None);
    assert_eq!(c.transaction_timeout_ms, 60_000);
    assert_eq!(c.max_in_flight_requests_per_connection, 5);
    assert_eq!(c.reconnect_backoff_ms, 50);
    assert_eq!(c.security_protocol, SecurityProtocol::Plaintext);
    assert_eq!(c.sasl_mechanism, SaslMechanism::Plain);
    assert_eq!(c.sasl_plain_username, None);
    assert_eq!(c.sasl_plain_password, None);
    assert!(!c.is_idempotent());
    assert!(!c.is_transactional());
    c.validate().expect("the defaults are valid");
}

#[test]
fn new_sets_only_bootstrap_servers() {
    let c = ProducerConfig::new("k1:9092,k2:9093");
    assert_eq!(
        c,
        ProducerConfig {
            bootstrap_servers: "k1:9092,k2:9093".into(),
            ..Default::default()
        }
    );
    assert_eq!(c.bootstrap_addresses(), ["k1:9092", "k2:9093"]);
}

#[test]
fn duration_helpers() {
    let c = ProducerConfig {
        linger_ms: 7,
        max_block_ms: 9,
        ..Default::default()
    };
    assert_eq!(c.linger(), Duration::from_millis(7));
    assert_eq!(c.max_block(), Duration::from_millis(9));
    assert_eq!(c.request_timeout(), Duration::from_secs(40));
    assert_eq!(c.retry_backoff(), Duration::from_millis(100));
    assert_eq!(c.metadata_max_age(), Duration::from_secs(300));
    assert_eq!(c.connections_max_idle(), Duration::from_secs(540));
    assert_eq!(c.transaction_timeout(), Duration::from_secs(60));
    assert_eq!(c.reconnect_backoff(), Duration::from_millis(50));
}

#[test]
fn serde_snake_case_names() {
    let c: ProducerConfig = serde_json::from_str(
        r#"{
            "bootstrap_servers": "k1:9092",
            "client_id": "svc",
            "acks": "all",
            "compression_type": "zstd",
            "max_batch_size": 65536,
            "linger_ms": 5,
            "max_request_size": 2097152,
            "request_timeout_ms": 30000,
            "retry_backoff_ms": 200,
            "metadata_max_age_ms": 60000,
            "connections_max_idle_ms": 100000,
            "partitioner": "default",
            "buffer_memory": 1048576,
            "max_block_ms": 1000,
            "enable_idempotence": true,
            "transactional_id": "tx-1",
            "transaction_timeout_ms": 30000,
            "max_in_flight_requests_per_connection": 3,
            "reconnect_backoff_ms": 10,
            "security_protocol": "PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": "u",
            "sasl_plain_password": "p"
        }"#,
    )
    .unwrap();
    let expected = ProducerConfig {
        bootstrap_servers: "k1:9092".into(),
        client_id: "svc".into(),
        acks: Some(Acks::All),
        compression_type: Compression::Zstd,
        max_batch_size: 65536,
        linger_ms: 5,
        max_request_size: 2_097_152,
        request_timeout_ms: 30_000,
        retry_backoff_ms: 200,
        metadata_max_age_ms: 60_000,
        connections_max_idle_ms: 100_000,
        partitioner: PartitionerKind::Default,
        buffer_memory: 1_048_576,
        max_block_ms: 1000,
        enable_idempotence: true,
        transactional_id: Some("tx-1".into()),
        transaction_timeout_ms: 30_000,
        max_in_flight_requests_per_connection: 3,
        reconnect_backoff_ms: 10,
        security_protocol: SecurityProtocol::Plaintext,
        sasl_mechanism: SaslMechanism::ScramSha512,
        sasl_plain_username: Some("u".into()),
        sasl_plain_password: Some("p".into()),
        ..Default::default()
    };
    assert_eq!(c, expected);
    c.validate().unwrap();
}

#[test]
fn serde_dotted_java_names_with_string_values() {
    let c: ProducerConfig = serde_json::from_str(
        r#"{
            "bootstrap.servers": "k1:9092, k2:9092",
            "client.id": "svc",
            "acks": "-1",
            "compression.type": "lz4",
            "batch.size": "32768",
            "linger.ms": "20",
            "max.request.size": "2097152",
            "request.timeout.ms": "15000",
            "retry.backoff.ms": "250",
            "metadata.max.age.ms": "120000",
            "connections.max.idle.ms": "60000",
            "partitioner.class": "org.apache.kafka.clients.producer.internals.DefaultPartitioner",
            "buffer.memory": "67108864",
            "max.block.ms": "5000",
            "enable.idempotence": "true",
            "transactional.id": "tx",
            "transaction.timeout.ms": "90000",
            "max.in.flight.requests.per.connection": "1",
            "reconnect.backoff.ms": "75",
            "security.protocol": "plaintext",
            "sasl.mechanism": "SCRAM-SHA-256",
            "key.serializer": "org.apache.kafka.common.serialization.ByteArraySerializer",
            "value.serializer": "org.apache.kafka.common.serialization.ByteArraySerializer"
        }"#,
    )
    .unwrap();
    assert_eq!(c.bootstrap_addresses(), ["k1:9092", "k2:9092"]);
    assert_eq!(c.client_id, "svc");
    assert_eq!(c.acks, Some(Acks::All));
    assert_eq!(c.compression_type, Compression::Lz4);
    assert_eq!(c.max_batch_size, 32768);
    assert_eq!(c.linger_ms, 20);
    assert_eq!(c.max_request_size, 2_097_152);
    assert_eq!(c.request_timeout_ms, 15_000);
    assert_eq!(c.retry_backoff_ms, 250);
    assert_eq!(c.metadata_max_age_ms, 120_000);
    assert_eq!(c.connections_max_idle_ms, 60_000);
    assert_eq!(c.partitioner, PartitionerKind::Default);
    assert_eq!(c.buffer_memory, 67_108_864);
    assert_eq!(c.max_block_ms, 5000);
    assert!(c.enable_idempotence);
    assert_eq!(c.transactional_id.as_deref(), Some("tx"));
    assert_eq!(c.transaction_timeout_ms, 90_000);
    assert_eq!(c.max_in_flight_requests_per_connection, 1);
    assert_eq!(c.reconnect_backoff_ms, 75);
    assert_eq!(c.sasl_mechanism, SaslMechanism::ScramSha256);
    c.validate().unwrap();
}

#[test]
fn serde_numbers_booleans_lists_and_null() {
    let c: ProducerConfig = serde_json::from_str(
        r#"{"bootstrap_servers": ["k1:9092", "[::1]:9093"], "acks": -1, "linger_ms": 5,
            "enable_idempotence": true, "transactional_id": null, "client_id": null}"#,
    )
    .unwrap();
    assert_eq!(c.bootstrap_servers, "k1:9092,[::1]:9093");
    assert_eq!(c.bootstrap_addresses(), ["k1:9092", "[::1]:9093"]);
    assert_eq!(c.acks, Some(Acks::All));
    assert_eq!(c.linger_ms, 5);
    assert!(c.enable_idempotence);
    assert_eq!(c.transactional_id, None);
    assert_eq!(c.client_id, "actix-kafka");
    c.validate().unwrap();

    let c: ProducerConfig = serde_json::from_str(r#"{"acks": 0}"#).unwrap();
    assert_eq!(c.acks, Some(Acks::None));
    let c: ProducerConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(c, ProducerConfig::default());
}

#[test]
fn serde_errors_name_the_key() {
    let cases = [
        (r#"{"linger_ms": "soon"}"#, "linger_ms"),
        (r#"{"linger.ms": -1}"#, "linger.ms"),
        (r#"{"batch.size": 1.5}"#, "batch.size"),
        (r#"{"enable_idempotence": "yes"}"#, "enable_idempotence"),
        (r#"{"compression_type": "brotli"}"#, "compression_type"),
        (r#"{"acks": 2}"#, "acks"),
        (r#"{"linger_ms": [1, 2]}"#, "linger_ms"),
        (r#"{"lingerms": 1}"#, "lingerms"),
        (r#"{"retries": 3}"#, "retries"),
        (r#"{"linger_ms": 1, "linger.ms": 2}"#, "linger.ms"),
    ];
    for (json, key) in cases {
        let error = serde_json::from_str::<ProducerConfig>(json)
            .expect_err(json)
            .to_string();
        assert!(error.contains(&format!("`{key}`")), "{json}: {error}");
    }
    let error = serde_json::from_str::<ProducerConfig>(r#"{"linger_ms": 1, "linger.ms": 2}"#).unwrap_err();
    assert!(error.to_string().contains("more than once"), "{error}");
}

#[test]
fn serde_works_inside_a_larger_config() {
    #[derive(serde::Deserialize)]
    struct App {
        name: String,
        producer: ProducerConfig,
    }
    let app: App =
        serde_json::from_str(r#"{"name": "svc", "producer": {"bootstrap.servers": "k:1", "acks": "all"}}"#)
            .unwrap();
    assert_eq!(app.name, "svc");
    assert_eq!(app.producer.bootstrap_servers, "k:1");
    assert_eq!(app.producer.acks, Some(Acks::All));
}

#[test]
fn from_properties_mixes_spellings_and_ignores_serializers() {
    let c = ProducerConfig::from_properties([
        ("bootstrap.servers", "k1:9092"),
        ("linger_ms", "10"),
        ("compression.type", "GZIP"),
        ("acks", "all"),
        (
            "key.serializer",
            "org.apache.kafka.common.serialization.StringSerializer",
        ),
        (
            "value.serializer",
            "org.apache.kafka.common.serialization.StringSerializer",
        ),
    ])
    .unwrap();
    assert_eq!(
        c,
        ProducerConfig {
            bootstrap_servers: "k1:9092".into(),
            linger_ms: 10,
            compression_type: Compression::Gzip,
            acks: Some(Acks::All),
            ..Default::default()
        }
    );
}

#[test]
fn from_properties_rejects_unknown_and_duplicate_keys() {
    let (option, reason) = config_error(ProducerConfig::from_properties([("no.such.option", "1")]));
    assert_eq!(option, "no.such.option");
    assert!(reason.contains("unknown option"), "{reason}");

    let (option, reason) = config_error(ProducerConfig::from_properties([
        ("batch.size", "1"),
        ("max_batch_size", "2"),
    ]));
    assert_eq!(option, "max_batch_size");
    assert!(reason.contains("`batch.size`"), "{reason}");
}

#[test]
fn known_java_properties_that_are_not_supported_say_why() {
    for (key, needle) in [
        ("retries", "request_timeout_ms"),
        ("delivery.timeout.ms", "request_timeout_ms"),
        ("ssl.truststore.password", "PEM"),
        ("ssl.cipher.suites", "rustls"),
        ("ssl.no.such.thing", "unknown TLS option"),
        ("ssl_context", "unknown TLS option"),
        ("interceptor.classes", "Java classes"),
    ] {
        let (option, reason) = config_error(ProducerConfig::default().set(key, "x"));
        assert_eq!(option, key);
        assert!(reason.contains(needle), "{key}: {reason}");
    }
}

#[test]
fn unknown_key_errors_do_not_echo_the_value() {
    let error = ProducerConfig::default()
        .set("ssl.key.passwd", "hunter2")
        .unwrap_err();
    assert!(!error.to_string().contains("hunter2"));
    let error = ProducerConfig::default().set("sasl.pass", "hunter2").unwrap_err();
    assert!(!error.to_string().contains("hunter2"));
}

#[test]
fn set_parse_errors_name_the_option_and_leave_the_config_unchanged() {
    for (key, value) in [
        ("linger.ms", "abc"),
        ("linger_ms", "-5"),
        ("batch.size", "1e3"),
        ("max.request.size", ""),
        ("buffer_memory", "lots"),
        ("request_timeout_ms", "1.5"),
        ("max_block_ms", "forever"),
        ("acks", "2"),
        ("acks", "leader"),
        ("compression.type", "brotli"),
        ("enable.idempotence", "yes"),
        (
            "partitioner.class",
            "org.apache.kafka.clients.producer.RoundRobinPartitioner",
        ),
        ("partitioner", "random"),
        ("security.protocol", "TLS"),
        ("sasl.mechanism", "GSSAPI"),
        ("max.in.flight.requests.per.connection", "many"),
        ("transaction.timeout.ms", "x"),
    ] {
        let mut config = ProducerConfig::default();
        let (option, reason) = config_error(config.set(key, value));
        assert_eq!(option, key, "{key}={value}: {reason}");
        assert_eq!(
            config,
            ProducerConfig::default(),
            "{key}={value} changed the config"
        );
    }
}

#[test]
fn acks_parsing() {
    for (text, acks) in [
        ("0", Acks::None),
        ("1", Acks::Leader),
        ("-1", Acks::All),
        ("all", Acks::All),
    ] {
        assert_eq!(text.parse::<Acks>().unwrap(), acks);
    }
    assert_eq!("ALL".parse::<Acks>().unwrap(), Acks::All);
    assert_eq!(Acks::None.code(), 0);
    assert_eq!(Acks::Leader.code(), 1);
    assert_eq!(Acks::All.code(), -1);
    assert_eq!(Acks::All.to_string(), "all");
    assert_eq!(Acks::Leader.to_string(), "1");
}

#[test]
fn idempotence_forces_acks_all() {
    let c = ProducerConfig {
        enable_idempotence: true,
        ..Default::default()
    };
    assert_eq!(c.acks, None);
    assert_eq!(c.effective_acks(), Acks::All);
    c.validate().unwrap();

    let explicit_all = ProducerConfig {
        acks: Some(Acks::All),
        ..c.clone()
    };
    explicit_all.validate().unwrap();

    // Without idempotence, an explicit acks is kept as is.
    let plain = ProducerConfig {
        acks: Some(Acks::None),
        ..Default::default()
    };
    assert_eq!(plain.effective_acks(), Acks::None);
    plain.validate().unwrap();
}

#[test]
fn explicit_acks_other_than_all_with_idempotence_is_an_error() {
    for acks in [Acks::None, Acks::Leader] {
        let c = ProducerConfig {
            enable_idempotence: true,
            acks: Some(acks),
            ..Default::default()
        };
        let (option, reason) = config_error(c.validate());
        assert_eq!(option, "acks");
        assert!(reason.contains("idempotence"), "{reason}");
    }
    let c = ProducerConfig::from_properties([("enable.idempotence", "true"), ("acks", "1")]).unwrap();
    assert_eq!(config_error(c.validate()).0, "acks");
}

#[test]
fn transactional_id_implies_idempotence() {
    let c = ProducerConfig {
        transactional_id: Some("tx".into()),
        ..Default::default()
    };
    assert!(!c.enable_idempotence);
    assert!(c.is_idempotent());
    assert!(c.is_transactional());
    assert_eq!(c.effective_acks(), Acks::All);
    c.validate().unwrap();

    let with_acks_1 = ProducerConfig {
        acks: Some(Acks::Leader),
        ..c.clone()
    };
    assert_eq!(config_error(with_acks_1.validate()).0, "acks");

    let too_many_in_flight = ProducerConfig {
        max_in_flight_requests_per_connection: 6,
        ..c.clone()
    };
    assert_eq!(
        config_error(too_many_in_flight.validate()).0,
        "max_in_flight_requests_per_connection"
    );

    // Six in flight is fine without idempotence.
    ProducerConfig {
        max_in_flight_requests_per_connection: 6,
        ..Default::default()
    }
    .validate()
    .unwrap();
}

#[test]
fn each_invalid_value_is_reported_with_its_option() {
    let base = ProducerConfig::default;
    let cases: Vec<(&str, ProducerConfig)> = vec![
        ("bootstrap_servers", ProducerConfig::new("")),
        ("bootstrap_servers", ProducerConfig::new(" , ,")),
        ("bootstrap_servers", ProducerConfig::new("localhost")),
        ("bootstrap_servers", ProducerConfig::new("localhost:")),
        ("bootstrap_servers", ProducerConfig::new("localhost:abc")),
        ("bootstrap_servers", ProducerConfig::new("localhost:0")),
        ("bootstrap_servers", ProducerConfig::new("localhost:70000")),
        ("bootstrap_servers", ProducerConfig::new(":9092")),
        ("bootstrap_servers", ProducerConfig::new("k1:9092,bad")),
        ("bootstrap_servers", ProducerConfig::new("::1:9092")),
        ("bootstrap_servers", ProducerConfig::new("[::1]9092")),
        ("bootstrap_servers", ProducerConfig::new("PLAINTEXT://k1:9092")),
        (
            "client_id",
            ProducerConfig {
                client_id: "x".repeat(40_000),
                ..base()
            },
        ),
        (
            "transactional_id",
            ProducerConfig {
                transactional_id: Some(String::new()),
                ..base()
            },
        ),
        (
            "transactional_id",
            ProducerConfig {
                transactional_id: Some("x".repeat(40_000)),
                ..base()
            },
        ),
        (
            "max_batch_size",
            ProducerConfig {
                max_batch_size: 0,
                ..base()
            },
        ),
        (
            "max_request_size",
            ProducerConfig {
                max_request_size: 0,
                ..base()
            },
        ),
        (
            "max_request_size",
            ProducerConfig {
                max_request_size: MAX_SIZE + 1,
                ..base()
            },
        ),
        (
            "buffer_memory",
            ProducerConfig {
                buffer_memory: 0,
                ..base()
            },
        ),
        (
            "max_in_flight_requests_per_connection",
            ProducerConfig {
                max_in_flight_requests_per_connection: 0,
                ..base()
            },
        ),
        (
            "linger_ms",
            ProducerConfig {
                linger_ms: MAX_DURATION_MS + 1,
                ..base()
            },
        ),
        (
            "request_timeout_ms",
            ProducerConfig {
                request_timeout_ms: 0,
                ..base()
            },
        ),
        (
            "request_timeout_ms",
            ProducerConfig {
                request_timeout_ms: u64::MAX,
                ..base()
            },
        ),
        (
            "retry_backoff_ms",
            ProducerConfig {
                retry_backoff_ms: u64::MAX,
                ..base()
            },
        ),
        (
            "metadata_max_age_ms",
            ProducerConfig {
                metadata_max_age_ms: 0,
                ..base()
            },
        ),
        (
            "connections_max_idle_ms",
            ProducerConfig {
                connections_max_idle_ms: 0,
                ..base()
            },
        ),
        (
            "max_block_ms",
            ProducerConfig {
                max_block_ms: u64::MAX,
                ..base()
            },
        ),
        (
            "transaction_timeout_ms",
            ProducerConfig {
                transaction_timeout_ms: 0,
                ..base()
            },
        ),
        (
            "reconnect_backoff_ms",
            ProducerConfig {
                reconnect_backoff_ms: MAX_DURATION_MS + 1,
                ..base()
            },
        ),
        (
            "sasl_mechanism",
            ProducerConfig {
                security_protocol: SecurityProtocol::SaslSsl,
                ..base()
            },
        ),
        (
            "ssl_cafile",
            ProducerConfig {
                ssl_cafile: Some("ca.pem".into()),
                ..base()
            },
        ),
    ];
    for (expected, config) in cases {
        let (option, reason) = config_error(config.validate());
        assert_eq!(option, expected, "{reason}");
        assert!(!reason.is_empty());
    }
}

#[test]
fn valid_edge_values_pass() {
    for config in [
        ProducerConfig::new("[::1]:9092"),
        ProducerConfig::new(" k1:9092 , k2:9093 ,"),
        ProducerConfig::new("broker-1.example.com:65535"),
        ProducerConfig {
            max_batch_size: 1,
            max_request_size: 1,
            buffer_memory: 1,
            ..Default::default()
        },
        ProducerConfig {
            linger_ms: MAX_DURATION_MS,
            max_block_ms: 0,
            retry_backoff_ms: 0,
            ..Default::default()
        },
        ProducerConfig {
            max_batch_size: 10 * 1_048_576,
            ..Default::default()
        },
    ] {
        config.validate().unwrap_or_else(|e| panic!("{config:?}: {e}"));
    }
}

#[test]
fn every_security_protocol_validates() {
    for (text, protocol) in [
        ("plaintext", SecurityProtocol::Plaintext),
        ("SSL", SecurityProtocol::Ssl),
        ("sasl_plaintext", SecurityProtocol::SaslPlaintext),
        ("SASL_SSL", SecurityProtocol::SaslSsl),
    ] {
        let mut c = ProducerConfig::default();
        c.set("security.protocol", text).unwrap();
        c.set("sasl.username", "u").unwrap();
        c.set("sasl.password", "p").unwrap();
        assert_eq!(c.security_protocol, protocol);
        c.validate().unwrap_or_else(|e| panic!("{text}: {e}"));
    }
}

#[test]
fn debug_redacts_the_password() {
    let c = ProducerConfig {
        sasl_plain_username: Some("alice".into()),
        sasl_plain_password: Some("hunter2".into()),
        ..Default::default()
    };
    let text = format!("{c:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("<redacted>"), "{text}");
    assert!(text.contains("alice"), "{text}");
    let pretty = format!("{c:#?}");
    assert!(!pretty.contains("hunter2"), "{pretty}");
    assert!(format!("{:?}", ProducerConfig::default()).contains("sasl_plain_password: None"));
}

#[test]
fn sasl_jaas_config_sets_username_and_password() {
    let mut c = ProducerConfig::default();
    c.set(
        "sasl.jaas.config",
        r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="p\"w d";"#,
    )
    .unwrap();
    assert_eq!(c.sasl_plain_username.as_deref(), Some("alice"));
    assert_eq!(c.sasl_plain_password.as_ref().map(Secret::expose), Some("p\"w d"));

    c.set(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=bob password=secret;",
    )
    .unwrap();
    assert_eq!(c.sasl_plain_username.as_deref(), Some("bob"));
    assert_eq!(c.sasl_plain_password.as_ref().map(Secret::expose), Some("secret"));

    for bad in [
        r#"com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true password="hunter2";"#,
        r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="u";"#,
        r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="hunter2"#,
        r#"org.apache.kafka.common.security.plain.PlainLoginModule username="u" password="hunter2";"#,
    ] {
        let mut c = ProducerConfig::default();
        let error = c.set("sasl.jaas.config", bad).unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert_eq!(config_error::<()>(Err(error)).0, "sasl.jaas.config");
        assert_eq!(c, ProducerConfig::default());
    }
}

#[test]
fn docs_list_every_option_and_ignored_property() {
    let docs = include_str!("../../../../docs/configuration.md");
    for option in OPTIONS {
        for key in option.keys() {
            assert!(
                docs.contains(&format!("`{key}`")),
                "docs/configuration.md lacks `{key}`"
            );
        }
    }
    for property in PROPERTIES {
        for key in property
            .java
            .into_iter()
            .chain(property.librdkafka.iter().copied())
        {
            assert!(
                docs.contains(&format!("`{key}`")),
                "docs/configuration.md lacks `{key}`"
            );
        }
    }
    for name in IGNORED_JAVA_PROPERTIES {
        assert!(
            docs.contains(&format!("`{name}`")),
            "docs/configuration.md lacks `{name}`"
        );
    }
    for (name, _) in UNSUPPORTED_JAVA_PROPERTIES {
        assert!(
            docs.contains(&format!("`{name}`")),
            "docs/configuration.md lacks `{name}`"
        );
    }
}

/// A value other than the default for each option, as `.properties` text. A new
/// option must be added here, or `every_spelling_of_an_option_sets_the_same_field`
/// fails and says so.
fn sample_value(option: &str) -> &'static str {
    match option {
        "bootstrap_servers" => "k1:9092,k2:9093",
        "client_id" => "svc",
        "acks" => "all",
        "compression_type" => "zstd",
        "max_batch_size" => "65536",
        "linger_ms" => "7",
        "max_request_size" => "2097152",
        "request_timeout_ms" => "15000",
        "retry_backoff_ms" => "250",
        "metadata_max_age_ms" => "60000",
        "connections_max_idle_ms" => "60000",
        // The only partitioner; its Java class name must parse to it too.
        "partitioner" => "org.apache.kafka.clients.producer.internals.DefaultPartitioner",
        "buffer_memory" => "1048576",
        "max_block_ms" => "5000",
        "enable_idempotence" => "true",
        "transactional_id" => "tx-1",
        "transaction_timeout_ms" => "90000",
        "max_in_flight_requests_per_connection" => "1",
        "reconnect_backoff_ms" => "75",
        "security_protocol" => "SASL_SSL",
        "sasl_mechanism" => "SCRAM-SHA-512",
        "sasl_plain_username" => "alice",
        "sasl_plain_password" => "hunter2",
        "sasl_oauthbearer_token" => "eyJhbGciOiJub25lIn0.e30.",
        "sasl_oauthbearer_extensions" => "logicalCluster=lkc-1,identityPoolId=pool-2",
        "sasl_oauthbearer_unsecured_principal" => "alice",
        "sasl_oauthbearer_unsecured_lifetime_ms" => "60000",
        "ssl_cafile" => "/etc/kafka/ca.pem",
        "ssl_truststore_location" => "/etc/kafka/truststore.pem",
        "ssl_truststore_type" => "PEM",
        "ssl_ca_pem" => "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "ssl_certfile" => "/etc/kafka/client.pem",
        "ssl_certificate_pem" => "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----",
        "ssl_keyfile" => "/etc/kafka/client.key",
        "ssl_key_pem" => "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
        "ssl_keystore_location" => "/etc/kafka/keystore.pem",
        "ssl_keystore_type" => "pem",
        "ssl_password" => "hunter2",
        "ssl_endpoint_identification_algorithm" => "none",
        "ssl_enabled_protocols" => "TLSv1.3",
        "ssl_protocol" => "TLSv1.2",
        other => panic!("add a sample value for the new option `{other}` to sample_value"),
    }
}

#[test]
fn every_spelling_of_an_option_sets_the_same_field() {
    for option in OPTIONS {
        let value = sample_value(option.name);
        let mut by_name = ProducerConfig::default();
        by_name.set(option.name, value).unwrap();
        if option.name != "partitioner" {
            assert_ne!(
                by_name,
                ProducerConfig::default(),
                "{} = {value} changed nothing",
                option.name
            );
        }
        for key in option.keys() {
            let mut by_set = ProducerConfig::default();
            by_set
                .set(key, value)
                .unwrap_or_else(|e| panic!("set({key}): {e}"));
            assert_eq!(
                by_set, by_name,
                "set({key:?}) differs from set({:?})",
                option.name
            );

            let by_properties = ProducerConfig::from_properties([(key, value)]).unwrap();
            assert_eq!(by_properties, by_name, "from_properties({key:?})");

            let json = serde_json::json!({ key: value }).to_string();
            let by_serde: ProducerConfig =
                serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(by_serde, by_name, "serde {json}");

            // null through any spelling puts the default back.
            let json = serde_json::json!({ key: null }).to_string();
            let reset: ProducerConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(reset, ProducerConfig::default(), "serde {json}");
        }
    }
}

#[test]
fn two_spellings_of_one_option_are_given_more_than_once() {
    for option in OPTIONS {
        let value = sample_value(option.name);
        let keys: Vec<&str> = option.keys().collect();
        for pair in keys.windows(2) {
            let (key, reason) = config_error(ProducerConfig::from_properties([
                (pair[0], value),
                (pair[1], value),
            ]));
            assert_eq!(key, pair[1]);
            assert!(reason.contains("more than once"), "{pair:?}: {reason}");
        }
    }
}

#[test]
fn a_parse_error_through_an_alias_names_the_option_it_sets() {
    let (option, reason) = config_error(ProducerConfig::default().set("queue.buffering.max.ms", "soon"));
    assert_eq!(option, "queue.buffering.max.ms");
    assert!(
        reason.contains("`queue.buffering.max.ms` sets `linger_ms`"),
        "{reason}"
    );
    // The main spellings keep the plain message.
    let (_, reason) = config_error(ProducerConfig::default().set("linger.ms", "soon"));
    assert_eq!(reason, "expected a non-negative integer, got \"soon\"");
}

#[test]
fn debug_never_shows_a_secret_option() {
    let secrets: Vec<&OptionSpec> = OPTIONS.iter().filter(|o| o.redact).collect();
    assert!(!secrets.is_empty());
    for option in secrets {
        let mut c = ProducerConfig::default();
        c.set(option.name, "s3cr3t-value").unwrap();
        for text in [format!("{c:?}"), format!("{c:#?}")] {
            assert!(!text.contains("s3cr3t-value"), "{}: {text}", option.name);
            assert!(
                text.contains(&format!("{}: Some(<redacted>)", option.name)),
                "{text}"
            );
        }
    }
    // Through sasl.jaas.config too; the username is not a secret.
    let mut c = ProducerConfig::default();
    c.set(
        "sasl.jaas.config",
        r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="bob" password="s3cr3t-value";"#,
    )
    .unwrap();
    let text = format!("{c:?}");
    assert!(!text.contains("s3cr3t-value") && text.contains("bob"), "{text}");
}

#[test]
fn retries_accepts_javas_default_and_refuses_a_count_saying_why() {
    for key in ["retries", "message.send.max.retries"] {
        let c = ProducerConfig::from_properties([(key, "2147483647")]).unwrap();
        assert_eq!(
            c,
            ProducerConfig::default(),
            "{key}: retrying until the deadline is what we do"
        );

        let (option, reason) = config_error(ProducerConfig::default().set(key, "3"));
        assert_eq!(option, key);
        assert!(
            reason.contains("retry count (3)")
                && reason.contains("request_timeout_ms")
                && reason.contains("2147483647"),
            "{reason}"
        );

        let (_, reason) = config_error(ProducerConfig::default().set(key, "0"));
        assert!(
            reason.contains("never retry") && reason.contains("idempotence"),
            "{reason}"
        );

        let (_, reason) = config_error(ProducerConfig::default().set(key, "-1"));
        assert!(
            reason.starts_with("expected 2147483647 (Java's default), got \"-1\""),
            "{reason}"
        );
    }
    let (option, reason) = config_error(ProducerConfig::from_properties([
        ("retries", "2147483647"),
        ("message.send.max.retries", "2147483647"),
    ]));
    assert_eq!(option, "message.send.max.retries");
    assert!(reason.contains("more than once"), "{reason}");
    // null (serde) is "not given".
    let c: ProducerConfig = serde_json::from_str(r#"{"retries": null}"#).unwrap();
    assert_eq!(c, ProducerConfig::default());
}

#[test]
fn delivery_timeout_is_the_request_timeout_deadline() {
    for key in ["delivery.timeout.ms", "message.timeout.ms"] {
        let c = ProducerConfig::from_properties([(key, "120000")]).unwrap();
        assert_eq!(c.request_timeout_ms, 120_000, "{key}");
        assert_eq!(c.request_timeout(), Duration::from_secs(120));
        c.validate().unwrap();

        // Java configurations often give both: one deadline cannot honour two values.
        let (option, reason) = config_error(ProducerConfig::from_properties([
            ("request.timeout.ms", "30000"),
            (key, "120000"),
        ]));
        assert_eq!(option, key);
        assert!(
            reason.contains("more than once") && reason.contains("which both set `request_timeout_ms`"),
            "{reason}"
        );

        // Its range is request_timeout_ms's.
        let c = ProducerConfig::from_properties([(key, "0")]).unwrap();
        assert_eq!(config_error(c.validate()).0, "request_timeout_ms");
    }
    // set() overwrites, whichever name came first.
    let mut c = ProducerConfig::default();
    c.set("request.timeout.ms", "30000").unwrap();
    c.set("delivery.timeout.ms", "120000").unwrap();
    assert_eq!(c.request_timeout_ms, 120_000);
}

#[test]
fn max_in_flight_takes_javas_meaning_and_bound() {
    for key in ["max.in.flight.requests.per.connection", "max.in.flight"] {
        for n in 1..=MAX_IN_FLIGHT_IDEMPOTENT {
            let value = n.to_string();
            let c = ProducerConfig::from_properties([(key, value.as_str()), ("enable.idempotence", "true")])
                .unwrap();
            assert_eq!(c.max_in_flight_requests_per_connection, n);
            c.validate()
                .unwrap_or_else(|e| panic!("{key}={n} with idempotence: {e}"));
        }
        let c = ProducerConfig::from_properties([(key, "6"), ("transactional.id", "tx")]).unwrap();
        let (option, reason) = config_error(c.validate());
        assert_eq!(option, "max_in_flight_requests_per_connection");
        assert!(
            reason.contains("at most 5 when idempotence is enabled, got 6"),
            "{reason}"
        );

        let c = ProducerConfig::from_properties([(key, "0")]).unwrap();
        assert_eq!(config_error(c.validate()).1, "must be at least 1");
    }
}

#[test]
fn partitioner_accepts_only_the_default() {
    for (key, value) in [
        ("partitioner", "default"),
        ("partitioner", "DEFAULT"),
        ("partitioner", ""),
        (
            "partitioner.class",
            "org.apache.kafka.clients.producer.internals.DefaultPartitioner",
        ),
    ] {
        let c = ProducerConfig::from_properties([(key, value)]).unwrap();
        assert_eq!(c.partitioner, PartitionerKind::Default, "{key}={value}");
    }
    let (_, reason) = config_error(ProducerConfig::default().set("partitioner", "murmur2_random"));
    assert!(reason.contains("only `default`"), "{reason}");
}

/// The problem inside a `Config` error.
fn config_problem<T: fmt::Debug>(result: Result<T, ProducerError>) -> ConfigProblem {
    match result {
        Err(ProducerError::Config { problem, .. }) => problem,
        other => panic!("expected a Config error, got {other:?}"),
    }
}

#[test]
fn each_kind_of_config_problem_has_its_own_variant() {
    let unknown = ProducerConfig::from_properties([("no.such.option", "1")]);
    assert_eq!(config_problem(unknown), ConfigProblem::UnknownOption);

    let twice = ProducerConfig::from_properties([("linger_ms", "1"), ("queue.buffering.max.ms", "1")]);
    assert_eq!(
        config_problem(twice),
        ConfigProblem::GivenTwice {
            first: "linger_ms".into(),
            second: "queue.buffering.max.ms".into(),
            sets: Some("linger_ms"),
        }
    );

    match config_problem(ProducerConfig::default().set("queue.buffering.max.ms", "soon")) {
        ConfigProblem::ViaAlias {
            alias,
            option,
            problem,
        } => {
            assert_eq!((alias.as_str(), option), ("queue.buffering.max.ms", "linger_ms"));
            assert!(
                matches!(*problem, ConfigProblem::InvalidValue { .. }),
                "{problem:?}"
            );
        }
        other => panic!("expected the alias to be named, got {other:?}"),
    }

    let retries = ProducerConfig::default().set("retries", "3");
    assert!(matches!(
        config_problem(retries),
        ConfigProblem::Unsupported { .. }
    ));

    let empty_batches = ProducerConfig {
        max_batch_size: 0,
        ..ProducerConfig::default()
    };
    assert!(matches!(
        config_problem(empty_batches.validate()),
        ConfigProblem::BrokenRule { .. }
    ));

    let error = ProducerConfig::default().set("linger.ms", "soon").unwrap_err();
    let source = std::error::Error::source(&error).expect("the problem is the source");
    assert_eq!(
        source.to_string(),
        "expected a non-negative integer, got \"soon\""
    );
}

// ---- Security: TLS, SASL, OAUTHBEARER, JAAS -------------------------------------------

/// A TLS configuration that validates, to break one rule at a time.
fn tls() -> ProducerConfig {
    ProducerConfig {
        security_protocol: SecurityProtocol::Ssl,
        ..ProducerConfig::default()
    }
}

/// `validate`'s error as (option, message), asserting it is a broken rule.
fn rule_error(config: &ProducerConfig) -> (String, String) {
    match config.validate() {
        Err(ProducerError::Config {
            option,
            problem: ConfigProblem::BrokenRule { rule },
        }) => (option, rule),
        other => panic!("expected a broken rule for {config:?}, got {other:?}"),
    }
}

#[test]
fn sasl_mechanisms_parse_including_oauthbearer_and_gssapi_is_refused() {
    for (text, mechanism) in [
        ("PLAIN", SaslMechanism::Plain),
        ("scram-sha-256", SaslMechanism::ScramSha256),
        ("SCRAM-SHA-512", SaslMechanism::ScramSha512),
        ("oauthbearer", SaslMechanism::OAuthBearer),
    ] {
        for key in ["sasl_mechanism", "sasl.mechanism", "sasl.mechanisms"] {
            let mut c = ProducerConfig::default();
            c.set(key, text).unwrap();
            assert_eq!(c.sasl_mechanism, mechanism, "{key}={text}");
        }
    }
    assert_eq!(SaslMechanism::OAuthBearer.name(), "OAUTHBEARER");
    assert!(!SaslMechanism::OAuthBearer.uses_password());
    let problem = config_problem(ProducerConfig::default().set("sasl.mechanism", "GSSAPI"));
    assert!(
        matches!(&problem, ConfigProblem::Unsupported { why } if why.contains("GSSAPI") && why.contains("not supported")),
        "{problem:?}"
    );
    let (_, reason) = config_error(ProducerConfig::default().set("sasl.mechanism", "NTLM"));
    assert!(reason.contains("OAUTHBEARER"), "{reason}");
}

#[test]
fn every_tls_option_is_refused_without_a_tls_protocol() {
    let cases: Vec<(&str, &str, &str)> = vec![
        ("ssl_cafile", "ssl.ca.location", "ca.pem"),
        ("ssl_truststore_location", "ssl.truststore.location", "ca.pem"),
        ("ssl_truststore_type", "ssl.truststore.type", "PEM"),
        ("ssl_ca_pem", "ssl.truststore.certificates", "PEM"),
        ("ssl_certfile", "ssl.certificate.location", "c.pem"),
        ("ssl_certificate_pem", "ssl.keystore.certificate.chain", "PEM"),
        ("ssl_keyfile", "ssl.key.location", "k.pem"),
        ("ssl_key_pem", "ssl.keystore.key", "PEM"),
        ("ssl_keystore_location", "ssl.keystore.location", "ks.pem"),
        ("ssl_keystore_type", "ssl.keystore.type", "PEM"),
        (
            "ssl_endpoint_identification_algorithm",
            "ssl.endpoint.identification.algorithm",
            "",
        ),
        ("ssl_enabled_protocols", "ssl.enabled.protocols", "TLSv1.3"),
        ("ssl_protocol", "ssl.protocol", "TLSv1.2"),
    ];
    for (option, key, value) in cases {
        for protocol in ["PLAINTEXT", "SASL_PLAINTEXT"] {
            let mut c = ProducerConfig::default();
            c.set(key, value).unwrap();
            c.set("security.protocol", protocol).unwrap();
            c.set("sasl.username", "u").unwrap();
            c.set("sasl.password", "p").unwrap();
            // Complete the pairs so that the only problem left is the protocol.
            if option == "ssl_certfile" || option == "ssl_certificate_pem" {
                c.ssl_keyfile = Some("k.pem".into());
            }
            if option == "ssl_keyfile" || option == "ssl_key_pem" {
                c.ssl_certfile = Some("c.pem".into());
            }
            if option == "ssl_truststore_location" {
                c.ssl_truststore_type = Some(StoreType::Pem);
            }
            if option == "ssl_keystore_location" {
                c.ssl_keystore_type = Some(StoreType::Pem);
            }
            let (_, rule) = rule_error(&c);
            assert!(
                rule.contains("TLS option") && rule.contains(protocol) && rule.contains("SSL or SASL_SSL"),
                "{key}: {rule}"
            );
            c.set(
                "security.protocol",
                if protocol == "PLAINTEXT" {
                    "SSL"
                } else {
                    "SASL_SSL"
                },
            )
            .unwrap();
            c.validate()
                .unwrap_or_else(|e| panic!("{key}={value:?} over TLS: {e}"));
        }
    }
}

#[test]
fn a_full_mtls_configuration_validates_and_says_what_to_load() {
    let c = ProducerConfig::from_properties([
        ("bootstrap.servers", "broker:9093"),
        ("security.protocol", "SSL"),
        ("ssl.ca.location", "/etc/ca.pem"),
        ("ssl.certificate.location", "/etc/client.pem"),
        ("ssl.key.location", "/etc/client.key"),
        ("ssl.enabled.protocols", "TLSv1.3"),
    ])
    .unwrap();
    c.validate().unwrap();
    assert_eq!(c.trust(), TrustSource::PemFile("/etc/ca.pem"));
    assert_eq!(
        c.client_identity(),
        Some(ClientIdentity::CertAndKey {
            cert: PemSource::File("/etc/client.pem"),
            key: PemSource::File("/etc/client.key"),
        })
    );
    assert_eq!(c.tls_versions().versions(), [TlsVersion::Tls13]);
    assert!(c.verifies_hostname());

    // Java's PEM stores.
    let c = ProducerConfig::from_properties([
        ("security.protocol", "SASL_SSL"),
        ("sasl.mechanism", "SCRAM-SHA-512"),
        (
            "sasl.jaas.config",
            r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s";"#,
        ),
        ("ssl.truststore.type", "PEM"),
        ("ssl.truststore.location", "/etc/truststore.pem"),
        ("ssl.keystore.type", "PEM"),
        ("ssl.keystore.location", "/etc/keystore.pem"),
        ("ssl.protocol", "TLSv1.2"),
    ])
    .unwrap();
    c.validate().unwrap();
    assert_eq!(c.trust(), TrustSource::PemFile("/etc/truststore.pem"));
    assert_eq!(
        c.client_identity(),
        Some(ClientIdentity::KeyStoreFile("/etc/keystore.pem"))
    );
    assert_eq!(c.tls_versions().versions(), [TlsVersion::Tls12]);

    // PEM text, and the defaults.
    let c = ProducerConfig::from_properties([
        ("security.protocol", "SSL"),
        ("ssl.truststore.certificates", "CA-PEM"),
        ("ssl.keystore.certificate.chain", "CERT-PEM"),
        ("ssl.keystore.key", "KEY-PEM"),
    ])
    .unwrap();
    c.validate().unwrap();
    assert_eq!(c.trust(), TrustSource::Pem("CA-PEM"));
    let identity = c.client_identity().unwrap();
    assert_eq!(
        identity,
        ClientIdentity::CertAndKey {
            cert: PemSource::Text("CERT-PEM"),
            key: PemSource::Text("KEY-PEM"),
        }
    );
    let shown = format!("{identity:?}");
    assert!(
        !shown.contains("KEY-PEM") && !shown.contains("CERT-PEM"),
        "{shown}"
    );
    assert_eq!(tls().trust(), TrustSource::PlatformRoots);
    assert_eq!(tls().client_identity(), None);
    assert_eq!(tls().tls_versions(), TlsVersions::ALL);
}

#[test]
fn tls_sources_given_twice_or_half_are_refused() {
    let cases: Vec<(ProducerConfig, &str, &str)> = vec![
        (
            ProducerConfig {
                ssl_cafile: Some("a".into()),
                ssl_ca_pem: Some("b".into()),
                ..tls()
            },
            "ssl_cafile",
            "ssl_cafile and ssl_ca_pem",
        ),
        (
            ProducerConfig {
                ssl_cafile: Some("a".into()),
                ssl_truststore_location: Some("b".into()),
                ssl_truststore_type: Some(StoreType::Pem),
                ..tls()
            },
            "ssl_cafile",
            "given twice",
        ),
        (
            ProducerConfig {
                ssl_certfile: Some("c".into()),
                ssl_certificate_pem: Some("c".into()),
                ssl_keyfile: Some("k".into()),
                ..tls()
            },
            "ssl_certfile",
            "both as a file (ssl_certfile) and as PEM text (ssl_certificate_pem)",
        ),
        (
            ProducerConfig {
                ssl_certfile: Some("c".into()),
                ssl_keyfile: Some("k".into()),
                ssl_key_pem: Some("k".into()),
                ..tls()
            },
            "ssl_certfile",
            "both as a file (ssl_keyfile) and as PEM text (ssl_key_pem)",
        ),
        (
            ProducerConfig {
                ssl_certfile: Some("c".into()),
                ..tls()
            },
            "ssl_certfile",
            "needs its private key",
        ),
        (
            ProducerConfig {
                ssl_certificate_pem: Some("c".into()),
                ..tls()
            },
            "ssl_certfile",
            "needs its private key",
        ),
        (
            ProducerConfig {
                ssl_key_pem: Some("k".into()),
                ..tls()
            },
            "ssl_certfile",
            "needs its certificate",
        ),
        (
            ProducerConfig {
                ssl_keyfile: Some("k".into()),
                ..tls()
            },
            "ssl_certfile",
            "needs its certificate",
        ),
        (
            ProducerConfig {
                ssl_keystore_location: Some("ks".into()),
                ssl_keystore_type: Some(StoreType::Pem),
                ssl_keyfile: Some("k".into()),
                ..tls()
            },
            "ssl_certfile",
            "do not also give",
        ),
        (
            ProducerConfig {
                ssl_keystore_location: Some("ks".into()),
                ..tls()
            },
            "ssl_keystore_location",
            "ssl.keystore.type=PEM",
        ),
        (
            ProducerConfig {
                ssl_truststore_location: Some("ts".into()),
                ..tls()
            },
            "ssl_truststore_location",
            "ssl.truststore.type=PEM",
        ),
        (
            ProducerConfig {
                ssl_enabled_protocols: Some(TlsVersions {
                    tls12: false,
                    tls13: false,
                }),
                ..tls()
            },
            "ssl_enabled_protocols",
            "at least one",
        ),
    ];
    for (config, option, needle) in cases {
        let (got, rule) = rule_error(&config);
        assert_eq!(got, option, "{rule}");
        assert!(rule.contains(needle), "{option}: {rule}");
    }
}

#[test]
fn jks_and_pkcs12_stores_are_refused_with_the_conversion() {
    for key in [
        "ssl.truststore.type",
        "ssl_truststore_type",
        "ssl.keystore.type",
        "ssl_keystore_type",
    ] {
        for store in ["JKS", "pkcs12"] {
            let problem = config_problem(ProducerConfig::default().set(key, store));
            assert!(
                matches!(&problem, ConfigProblem::Unsupported { why } if why.contains("convert with openssl")),
                "{key}={store}: {problem:?}"
            );
            let (option, _) = config_error(ProducerConfig::default().set(key, store));
            assert_eq!(option, key);
        }
        let (_, reason) = config_error(ProducerConfig::default().set(key, "BKS"));
        assert!(reason.contains("expected PEM"), "{reason}");
        let mut c = ProducerConfig::default();
        c.set(key, "pem").unwrap();
        assert!(c.ssl_truststore_type == Some(StoreType::Pem) || c.ssl_keystore_type == Some(StoreType::Pem));
    }
}

#[test]
fn an_encrypted_key_password_is_accepted_then_refused_without_echo() {
    for key in ["ssl_password", "ssl_key_password", "ssl.key.password"] {
        let mut c = ProducerConfig {
            ssl_certfile: Some("c.pem".into()),
            ssl_keyfile: Some("k.pem".into()),
            ..tls()
        };
        c.set(key, "hunter2").unwrap();
        assert_eq!(c.ssl_password.as_ref().map(Secret::expose), Some("hunter2"));
        let (option, rule) = rule_error(&c);
        assert_eq!(option, "ssl_password");
        assert!(
            rule.contains("encrypted private keys are not supported; decrypt with openssl pkey"),
            "{rule}"
        );
        assert!(!rule.contains("hunter2"));
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}

#[test]
fn hostname_verification_is_on_by_default_and_turned_off_explicitly() {
    assert_eq!(
        ProducerConfig::default().ssl_endpoint_identification_algorithm,
        EndpointIdentification::Https
    );
    for (key, text, expected) in [
        (
            "ssl.endpoint.identification.algorithm",
            "https",
            EndpointIdentification::Https,
        ),
        (
            "ssl.endpoint.identification.algorithm",
            "HTTPS",
            EndpointIdentification::Https,
        ),
        (
            "ssl.endpoint.identification.algorithm",
            "",
            EndpointIdentification::None,
        ),
        (
            "ssl.endpoint.identification.algorithm",
            "none",
            EndpointIdentification::None,
        ),
        (
            "ssl_endpoint_identification_algorithm",
            " ",
            EndpointIdentification::None,
        ),
        ("ssl_check_hostname", "false", EndpointIdentification::None),
        ("ssl_check_hostname", "true", EndpointIdentification::Https),
    ] {
        let mut c = tls();
        c.set(key, text).unwrap();
        assert_eq!(
            c.ssl_endpoint_identification_algorithm, expected,
            "{key}={text:?}"
        );
        assert_eq!(c.verifies_hostname(), expected == EndpointIdentification::Https);
        c.validate().unwrap();
    }
    let c: ProducerConfig =
        serde_json::from_str(r#"{"security_protocol": "SSL", "ssl_check_hostname": false}"#).unwrap();
    assert!(!c.verifies_hostname());
    let (option, reason) =
        config_error(ProducerConfig::default().set("ssl.endpoint.identification.algorithm", "ldaps"));
    assert_eq!(option, "ssl.endpoint.identification.algorithm");
    assert!(reason.contains("https") && reason.contains("none"), "{reason}");
    // Giving both spellings is a conflict, not a silent choice.
    let (_, reason) = config_error(ProducerConfig::from_properties([
        ("ssl_check_hostname", "true"),
        ("ssl.endpoint.identification.algorithm", ""),
    ]));
    assert!(reason.contains("more than once"), "{reason}");
}

#[test]
fn tls_versions_are_1_2_and_1_3_only() {
    for (text, tls12, tls13) in [("TLSv1.2,TLSv1.3", true, true), ("TLSv1.3", false, true)] {
        let mut c = tls();
        c.set("ssl.enabled.protocols", text).unwrap();
        assert_eq!(
            c.ssl_enabled_protocols,
            Some(TlsVersions { tls12, tls13 }),
            "{text}"
        );
        assert_eq!(c.tls_versions().to_string(), text);
        c.validate().unwrap();
    }
    let mut c = tls();
    c.set("ssl.enabled.protocols", " tlsv1.2 , ").unwrap();
    assert_eq!(c.tls_versions().versions(), [TlsVersion::Tls12]);
    let c: ProducerConfig = serde_json::from_str(
        r#"{"security_protocol": "SSL", "ssl_enabled_protocols": ["TLSv1.2", "TLSv1.3"]}"#,
    )
    .unwrap();
    assert_eq!(c.tls_versions(), TlsVersions::ALL);
    for old in ["TLSv1", "TLSv1.1", "TLSv1.2,TLSv1.1", "SSLv3"] {
        let problem = config_problem(ProducerConfig::default().set("ssl.enabled.protocols", old));
        assert!(
            matches!(&problem, ConfigProblem::Unsupported { why } if why.contains("not supported") && why.contains("TLSv1.2")),
            "{old}: {problem:?}"
        );
    }
    for bad in ["", "TLSv2", "QUIC"] {
        let problem = config_problem(ProducerConfig::default().set("ssl.enabled.protocols", bad));
        assert!(
            matches!(problem, ConfigProblem::InvalidValue { .. }),
            "{bad:?}: {problem:?}"
        );
    }
    for (text, protocol) in [
        ("TLS", SslProtocol::Tls),
        ("TLSv1.2", SslProtocol::Tls12),
        ("tlsv1.3", SslProtocol::Tls13),
    ] {
        let mut c = tls();
        c.set("ssl.protocol", text).unwrap();
        assert_eq!(c.ssl_protocol, protocol);
    }
    let problem = config_problem(ProducerConfig::default().set("ssl.protocol", "TLSv1.1"));
    assert!(
        matches!(problem, ConfigProblem::Unsupported { .. }),
        "{problem:?}"
    );
    // An explicit list wins over ssl.protocol.
    let c = ProducerConfig {
        ssl_protocol: SslProtocol::Tls12,
        ssl_enabled_protocols: Some(TlsVersions::ALL),
        ..tls()
    };
    assert_eq!(c.tls_versions(), TlsVersions::ALL);
}

#[test]
fn aliases_set_the_same_fields() {
    for (alias, name) in [
        ("ssl_ca_location", "ssl_cafile"),
        ("ssl_certificate_location", "ssl_certfile"),
        ("ssl_key_location", "ssl_keyfile"),
        ("ssl_key_password", "ssl_password"),
    ] {
        let mut a = ProducerConfig::default();
        a.set(alias, "x").unwrap();
        let mut b = ProducerConfig::default();
        b.set(name, "x").unwrap();
        assert_eq!(a, b, "{alias}");
        assert_ne!(a, ProducerConfig::default());
    }
    // An error through an alias names the field it sets.
    let (_, reason) = config_error(ProducerConfig::default().set("ssl_check_hostname", "maybe"));
    assert!(
        reason.contains("`ssl_check_hostname` sets `ssl_endpoint_identification_algorithm`"),
        "{reason}"
    );
}

#[test]
fn plain_and_scram_over_sasl_need_a_username_and_password() {
    for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
        for protocol in ["SASL_PLAINTEXT", "SASL_SSL"] {
            let mut c = ProducerConfig::default();
            c.set("security.protocol", protocol).unwrap();
            c.set("sasl.mechanism", mechanism).unwrap();
            let (option, rule) = rule_error(&c);
            assert_eq!(option, "sasl_mechanism");
            assert!(
                rule.contains(mechanism) && rule.contains("sasl_plain_password"),
                "{rule}"
            );
            c.set("sasl_plain_username", "u").unwrap();
            assert_eq!(rule_error(&c).0, "sasl_mechanism");
            c.set("sasl_plain_password", "p").unwrap();
            c.validate().unwrap();
        }
    }
    // Without SASL the credentials are not needed (and may stay, as in Java).
    ProducerConfig {
        sasl_plain_username: Some("u".into()),
        ..ProducerConfig::default()
    }
    .validate()
    .unwrap();
}

#[test]
fn oauthbearer_validation_refuses_only_contradictions() {
    let oauth = || ProducerConfig {
        security_protocol: SecurityProtocol::SaslSsl,
        sasl_mechanism: SaslMechanism::OAuthBearer,
        ..ProducerConfig::default()
    };
    // No token and no principal: a provider given in code (the runtime checks it).
    oauth().validate().unwrap();
    ProducerConfig {
        sasl_oauthbearer_token: Some("t".into()),
        ..oauth()
    }
    .validate()
    .unwrap();
    ProducerConfig {
        sasl_oauthbearer_unsecured_principal: Some("alice".into()),
        sasl_oauthbearer_unsecured_lifetime_ms: 60_000,
        sasl_oauthbearer_extensions: [("logicalCluster".to_owned(), "lkc-1".to_owned())].into(),
        ..oauth()
    }
    .validate()
    .unwrap();

    let extension = |key: &str, value: &str| ProducerConfig {
        sasl_oauthbearer_extensions: [(key.to_owned(), value.to_owned())].into(),
        ..oauth()
    };
    let cases: Vec<(ProducerConfig, &str, &str)> = vec![
        (
            ProducerConfig {
                sasl_oauthbearer_token: Some("t".into()),
                sasl_oauthbearer_unsecured_principal: Some("alice".into()),
                ..oauth()
            },
            "sasl_oauthbearer_token",
            "not both",
        ),
        (
            ProducerConfig {
                sasl_mechanism: SaslMechanism::Plain,
                sasl_plain_username: Some("u".into()),
                sasl_plain_password: Some("p".into()),
                sasl_oauthbearer_token: Some("t".into()),
                ..oauth()
            },
            "sasl_oauthbearer_token",
            "sasl_mechanism is PLAIN",
        ),
        (
            ProducerConfig {
                sasl_oauthbearer_unsecured_principal: Some("alice".into()),
                ..ProducerConfig::default()
            },
            "sasl_oauthbearer_unsecured_principal",
            "OAUTHBEARER option",
        ),
        (
            ProducerConfig {
                sasl_oauthbearer_unsecured_principal: Some(String::new()),
                ..oauth()
            },
            "sasl_oauthbearer_unsecured_principal",
            "empty",
        ),
        (
            ProducerConfig {
                sasl_oauthbearer_unsecured_lifetime_ms: 0,
                ..oauth()
            },
            "sasl_oauthbearer_unsecured_lifetime_ms",
            "between 1",
        ),
        (
            ProducerConfig {
                sasl_oauthbearer_unsecured_lifetime_ms: 5,
                ..ProducerConfig::default()
            },
            "sasl_oauthbearer_unsecured_lifetime_ms",
            "OAUTHBEARER option",
        ),
        (
            ProducerConfig {
                sasl_plain_username: Some("u".into()),
                ..oauth()
            },
            "sasl_plain_username",
            "sasl_mechanism is OAUTHBEARER",
        ),
        (
            ProducerConfig {
                sasl_plain_password: Some("p".into()),
                ..oauth()
            },
            "sasl_plain_password",
            "sasl_mechanism is OAUTHBEARER",
        ),
        (extension("auth", "x"), "sasl_oauthbearer_extensions", "reserved"),
        (
            extension("trace-id", "x"),
            "sasl_oauthbearer_extensions",
            "letters only",
        ),
        (
            extension("traceId", ""),
            "sasl_oauthbearer_extensions",
            "printable",
        ),
        (
            extension("traceId", "s3cr\u{1}t"),
            "sasl_oauthbearer_extensions",
            "printable",
        ),
        (
            ProducerConfig {
                sasl_oauthbearer_extensions: [("a".to_owned(), "b".to_owned())].into(),
                ..ProducerConfig::default()
            },
            "sasl_oauthbearer_extensions",
            "OAUTHBEARER option",
        ),
    ];
    for (config, option, needle) in cases {
        let (got, rule) = rule_error(&config);
        assert_eq!(got, option, "{rule}");
        assert!(rule.contains(needle), "{option}: {rule}");
        assert!(!rule.contains("s3cr"), "{rule}");
    }
}

#[test]
fn oauthbearer_extensions_parse_as_key_value_pairs() {
    let mut c = ProducerConfig::default();
    c.set(
        "sasl.oauthbearer.extensions",
        "logicalCluster=lkc-1, identityPoolId=pool=2",
    )
    .unwrap();
    assert_eq!(
        c.sasl_oauthbearer_extensions,
        [
            ("identityPoolId".to_owned(), "pool=2".to_owned()),
            ("logicalCluster".to_owned(), "lkc-1".to_owned()),
        ]
        .into()
    );
    c.set("sasl_oauthbearer_extensions", "").unwrap();
    assert!(c.sasl_oauthbearer_extensions.is_empty());
    let (_, reason) = config_error(ProducerConfig::default().set("sasl.oauthbearer.extensions", "a=1,a=2"));
    assert!(reason.contains("twice"), "{reason}");
    let (_, reason) = config_error(ProducerConfig::default().set("sasl.oauthbearer.extensions", "s3cr3t"));
    assert!(
        reason.contains("key=value") && !reason.contains("s3cr3t"),
        "{reason}"
    );
}

#[test]
fn librdkafka_oauthbearer_config_maps_onto_the_unsecured_options() {
    let mut c = ProducerConfig::from_properties([
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanisms", "OAUTHBEARER"),
        ("enable.sasl.oauthbearer.unsecure.jwt", "true"),
        (
            "sasl.oauthbearer.config",
            "principal=alice lifeSeconds=120 extension_traceId=abc",
        ),
    ])
    .unwrap();
    assert_eq!(c.sasl_oauthbearer_unsecured_principal.as_deref(), Some("alice"));
    assert_eq!(c.sasl_oauthbearer_unsecured_lifetime_ms, 120_000);
    assert_eq!(
        c.sasl_oauthbearer_extensions.get("traceId").map(String::as_str),
        Some("abc")
    );
    c.validate().unwrap();
    for (bad, needle) in [
        ("principal=a scope=x", "not supported"),
        ("lifeSeconds=soon", "whole number"),
        ("lifeSeconds=99999999999999999999", "whole number"),
        ("lifeSeconds=18446744073709552", "too large"),
        ("colour=blue", "unknown setting"),
        ("justaword", "name=value"),
    ] {
        let before = c.clone();
        let (option, reason) = config_error(c.set("sasl.oauthbearer.config", bad));
        assert_eq!(option, "sasl.oauthbearer.config");
        assert!(reason.contains(needle), "{bad}: {reason}");
        assert_eq!(c, before, "{bad} changed the config");
    }
    let (_, reason) =
        config_error(ProducerConfig::default().set("enable.sasl.oauthbearer.unsecure.jwt", "yes"));
    assert!(reason.contains("true or false"), "{reason}");
    // null (serde) resets what the property set.
    let c: ProducerConfig =
        serde_json::from_str(r#"{"sasl.oauthbearer.config": null, "sasl_mechanism": "OAUTHBEARER"}"#)
            .unwrap();
    assert_eq!(c.sasl_oauthbearer_unsecured_principal, None);
}

#[test]
fn jaas_grammar() {
    let jaas = parse_jaas(
        "  org.apache.kafka.common.security.plain.PlainLoginModule REQUIRED\n username=\"a\\\"b\\\\c\"\tpassword=bare-word_1 \
         empty=\"\" other = \"x y;z\" ;  ",
    )
    .unwrap();
    assert_eq!(
        jaas.module(),
        "org.apache.kafka.common.security.plain.PlainLoginModule"
    );
    assert_eq!(jaas.module_short_name(), "PlainLoginModule");
    assert_eq!(jaas.flag(), ControlFlag::Required);
    assert_eq!(jaas.option("username"), Some("a\"b\\c"));
    assert_eq!(jaas.option("password"), Some("bare-word_1"));
    assert_eq!(jaas.option("empty"), Some(""));
    assert_eq!(jaas.option("other"), Some("x y;z"));
    assert_eq!(jaas.option("missing"), None);
    assert_eq!(
        jaas.options().map(|(n, _)| n).collect::<Vec<_>>(),
        ["username", "password", "empty", "other"]
    );
    for (flag, expected) in [
        ("requisite", ControlFlag::Requisite),
        ("sufficient", ControlFlag::Sufficient),
        ("Optional", ControlFlag::Optional),
    ] {
        assert_eq!(parse_jaas(&format!("M {flag};")).unwrap().flag(), expected);
    }
    assert_eq!(parse_jaas("M required;").unwrap().options().count(), 0);

    for (text, expected) in [
        ("", JaasError::Empty),
        ("   ", JaasError::Empty),
        ("\"M\" required;", JaasError::InvalidModuleName),
        ("M; required", JaasError::InvalidModuleName),
        ("M", JaasError::MissingControlFlag),
        ("M ;", JaasError::MissingControlFlag),
        ("M username=\"u\";", JaasError::MissingControlFlag),
        ("M mandatory;", JaasError::UnknownControlFlag),
        ("M required =x;", JaasError::InvalidOptionName { position: 11 }),
        (
            "M required user x;",
            JaasError::MissingEquals {
                option: "user".into(),
            },
        ),
        (
            "M required user=;",
            JaasError::MissingValue {
                option: "user".into(),
            },
        ),
        (
            "M required user= ;",
            JaasError::MissingValue {
                option: "user".into(),
            },
        ),
        (
            "M required user=\"abc;",
            JaasError::UnterminatedQuote {
                option: "user".into(),
            },
        ),
        (
            "M required user=\"abc\\\";",
            JaasError::UnterminatedQuote {
                option: "user".into(),
            },
        ),
        (
            "M required a=1 a=2;",
            JaasError::DuplicateOption { option: "a".into() },
        ),
        ("M required a=1", JaasError::MissingSemicolon),
        ("M required a=1; N required;", JaasError::TrailingText),
    ] {
        assert_eq!(parse_jaas(text), Err(expected), "{text:?}");
    }
}

#[test]
fn jaas_errors_and_debug_never_show_a_value() {
    let jaas = parse_jaas(r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="bob" password="s3cr3t";"#)
        .unwrap();
    let shown = format!("{jaas:?}");
    assert!(
        !shown.contains("s3cr3t") && !shown.contains("bob") && shown.contains("password"),
        "{shown}"
    );
    let login = jaas.login().unwrap();
    assert_eq!(
        login,
        JaasLogin::Plain {
            username: "bob".into(),
            password: "s3cr3t".into()
        }
    );
    let shown = format!("{login:?}");
    assert!(!shown.contains("s3cr3t") && shown.contains("bob"), "{shown}");
    for text in [
        "M required password=\"s3cr3t",
        "M required password=\"s3cr3t\" password=\"s3cr3t\";",
        "M required password=s3cr3t",
        "M required password=s3cr3t; s3cr3t",
        "M s3cr3t;",
        "M required \"s3cr3t\";",
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientSecret=\"s3cr3t\";",
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginLifetimeSeconds=\"s3cr3t\";",
    ] {
        let error = parse_jaas(text).and_then(|j| j.login()).unwrap_err();
        assert!(!error.to_string().contains("s3cr3t"), "{text}: {error}");
        let mut c = ProducerConfig::default();
        let error = c.set("sasl.jaas.config", text).unwrap_err();
        assert!(!error.to_string().contains("s3cr3t"), "{text}: {error}");
        assert!(!format!("{error:?}").contains("s3cr3t"), "{text}: {error:?}");
        assert_eq!(c, ProducerConfig::default());
    }
}

#[test]
fn jaas_login_modules() {
    let login = |text: &str| parse_jaas(text).and_then(|j| j.login());
    assert_eq!(
        login(
            r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p" tokenauth=false;"#
        ),
        Ok(JaasLogin::Scram {
            username: "u".into(),
            password: "p".into()
        })
    );
    assert!(matches!(
        login(r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p" tokenauth=true;"#),
        Err(JaasError::UnsupportedOption { option, .. }) if option == "tokenauth"
    ));
    assert_eq!(
        login(r#"org.apache.kafka.common.security.plain.PlainLoginModule required password="p";"#),
        Err(JaasError::MissingOption {
            module: "PlainLoginModule",
            option: "username"
        })
    );
    assert_eq!(
        login(r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="u";"#),
        Err(JaasError::MissingOption {
            module: "ScramLoginModule",
            option: "password"
        })
    );
    for module in [
        "com.sun.security.auth.module.Krb5LoginModule",
        "software.amazon.msk.auth.iam.IAMLoginModule",
    ] {
        let error = login(&format!("{module} required;")).unwrap_err();
        assert_eq!(
            error,
            JaasError::UnsupportedModule {
                module: module.into()
            }
        );
        assert!(error.to_string().contains("OAuthBearerLoginModule"));
    }

    // OAUTHBEARER: unsecured principal, lifetime and both spellings of extensions.
    let Ok(JaasLogin::OAuthBearer(oauth)) = login(
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
         unsecuredLoginStringClaim_sub=\"alice\" unsecuredLoginLifetimeSeconds=\"90\" \
         extension_logicalCluster=\"lkc-1\" unsecuredLoginExtension_traceId=\"t1\";",
    ) else {
        panic!("an OAuthBearerLoginModule entry");
    };
    assert_eq!(oauth.unsecured_principal.as_deref(), Some("alice"));
    assert_eq!(oauth.unsecured_lifetime_ms, Some(90_000));
    assert_eq!(oauth.extensions.len(), 2);
    assert_eq!(oauth.extensions["traceId"], "t1");
    // Token-less: the provider in code supplies tokens.
    assert_eq!(
        login("org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;"),
        Ok(JaasLogin::OAuthBearer(OAuthBearerLogin::default()))
    );
    for (option, needle) in [
        ("clientId=\"c\"", "token provider in code"),
        (
            "unsecuredLoginNumberClaim_iat=\"1\"",
            "unsecuredLoginStringClaim_sub",
        ),
        ("somethingElse=\"1\"", "extension_<key>"),
    ] {
        let error = login(&format!(
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required {option};"
        ))
        .unwrap_err();
        assert!(matches!(error, JaasError::UnsupportedOption { .. }), "{error:?}");
        assert!(error.to_string().contains(needle), "{error}");
    }
    assert!(matches!(
        login("org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required extension_a=1 unsecuredLoginExtension_a=2;"),
        Err(JaasError::DuplicateOption { .. })
    ));
    assert!(matches!(
        login("org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginLifetimeSeconds=18446744073709552;"),
        Err(JaasError::InvalidOption { .. })
    ));
}

#[test]
fn sasl_jaas_config_sets_the_oauthbearer_options() {
    let mut c = ProducerConfig::from_properties([
        ("security.protocol", "SASL_SSL"),
        ("sasl.mechanism", "OAUTHBEARER"),
        (
            "sasl.jaas.config",
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
             unsecuredLoginStringClaim_sub=\"alice\" unsecuredLoginLifetimeSeconds=\"60\" extension_traceId=\"t\";",
        ),
    ])
    .unwrap();
    assert_eq!(c.sasl_oauthbearer_unsecured_principal.as_deref(), Some("alice"));
    assert_eq!(c.sasl_oauthbearer_unsecured_lifetime_ms, 60_000);
    assert_eq!(c.sasl_oauthbearer_extensions["traceId"], "t");
    assert_eq!(c.sasl_plain_username, None);
    c.validate().unwrap();
    // A JAAS entry for the wrong mechanism is caught by validate.
    c.set("sasl.mechanism", "PLAIN").unwrap();
    assert_eq!(rule_error(&c).0, "sasl_mechanism");
}

#[test]
fn the_secrets_are_exactly_these() {
    let secrets: Vec<&str> = OPTIONS.iter().filter(|o| o.redact).map(|o| o.name).collect();
    assert_eq!(
        secrets,
        [
            "sasl_plain_password",
            "sasl_oauthbearer_token",
            "ssl_key_pem",
            "ssl_password"
        ]
    );
    let c = ProducerConfig {
        sasl_plain_password: Some("s3cr3t-1".into()),
        sasl_oauthbearer_token: Some("s3cr3t-2".into()),
        ssl_key_pem: Some("s3cr3t-3".into()),
        ssl_password: Some("s3cr3t-4".into()),
        ..ProducerConfig::default()
    };
    for text in [format!("{c:?}"), format!("{c:#?}")] {
        assert!(!text.contains("s3cr3t"), "{text}");
        assert_eq!(text.matches("Some(<redacted>)").count(), 4, "{text}");
    }
    // Validation errors about those options do not repeat them either.
    let error = c.validate().unwrap_err().to_string();
    assert!(!error.contains("s3cr3t"), "{error}");
}
