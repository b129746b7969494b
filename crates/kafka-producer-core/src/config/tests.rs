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
        ("ssl.truststore.location", "TLS"),
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
        .set("ssl.key.password", "hunter2")
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
            "security_protocol",
            ProducerConfig {
                security_protocol: SecurityProtocol::SaslSsl,
                ..base()
            },
        ),
        (
            "security_protocol",
            ProducerConfig {
                security_protocol: SecurityProtocol::Ssl,
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
fn security_protocols_parse_but_only_plaintext_validates() {
    let mut c = ProducerConfig::default();
    c.set("security.protocol", "sasl_ssl").unwrap();
    assert_eq!(c.security_protocol, SecurityProtocol::SaslSsl);
    let (_, reason) = config_error(c.validate());
    assert!(
        reason.contains("SASL_SSL") && reason.contains("not supported yet"),
        "{reason}"
    );
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
    assert_eq!(c.sasl_plain_password.as_deref(), Some("p\"w d"));

    c.set(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=bob password=secret;",
    )
    .unwrap();
    assert_eq!(c.sasl_plain_username.as_deref(), Some("bob"));
    assert_eq!(c.sasl_plain_password.as_deref(), Some("secret"));

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
        for key in std::iter::once(property.java).chain(property.librdkafka.iter().copied()) {
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
