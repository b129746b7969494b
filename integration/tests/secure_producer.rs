//! The producer against the secured real Kafka node (`scripts/kafka.sh
//! secure-up`): every SASL mechanism over plain TCP and TLS, mTLS, each TLS
//! and SASL misconfiguration with its typed error, the session renewal of
//! KIP-368, and the broker's authorization answers. What was written is read
//! back by Kafka's own console consumer, connecting with its own client
//! config (see `actix_kafka_integration::secure`).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_kafka::error::{AuthenticationFailure, ConnectFailure, NegotiationFailure, TlsFailure};
use actix_kafka::{ErrorClass, Producer, ProducerConfig, ProducerError, ProducerRecord};
use actix_kafka_integration::counting_proxy::CountingProxy;
use actix_kafka_integration::secure::{
    self, cert_path, ClientKind, Listener, Mechanism, User, ACL_GROUP_DENIED, ACL_GROUP_OK, ACL_HIDDEN_TOPIC,
    ACL_NOWRITE_TOPIC, ACL_OK_TOPIC, ACL_TXN_PREFIX, ALICE, CAROL, DAVE, WEIRD,
};
use actix_kafka_integration::unique_topic;
use kafka_wire::ErrorCode;

const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Counts the log events (on this thread) whose message starts with a prefix.
struct EventCounter {
    prefix: &'static str,
    seen: Arc<AtomicUsize>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for EventCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message<'a>(&'a str, bool);
        impl tracing::field::Visit for Message<'_> {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.1 |= format!("{value:?}").starts_with(self.0);
                }
            }
        }
        let mut message = Message(self.prefix, false);
        event.record(&mut message);
        if message.1 {
            self.seen.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Counts `prefix` events while the guard lives.
fn count_events(prefix: &'static str) -> (Arc<AtomicUsize>, tracing::subscriber::DefaultGuard) {
    use tracing_subscriber::layer::SubscriberExt;
    let seen = Arc::new(AtomicUsize::new(0));
    let layer = EventCounter {
        prefix,
        seen: seen.clone(),
    };
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    (seen, guard)
}

/// A configuration for `listener` as `user` with `mechanism` (SASL
/// listeners), trusting the test CA (TLS listeners), set through Kafka's
/// property names as a user's file would.
fn config_for(listener: Listener, mechanism: Mechanism, user: User) -> ProducerConfig {
    config_at(&listener.bootstrap(), listener, mechanism, user)
}

fn config_at(bootstrap: &str, listener: Listener, mechanism: Mechanism, user: User) -> ProducerConfig {
    let mut config = ProducerConfig::new(bootstrap);
    let mut set = |key: &str, value: &str| config.set(key, value).unwrap();
    set("security.protocol", listener.security_protocol());
    set("max.block.ms", "10000");
    if listener.uses_tls() {
        set("ssl.ca.location", cert_path(secure::CA_PEM).to_str().unwrap());
    }
    if listener.uses_sasl() {
        set("sasl.mechanism", mechanism.name());
        if mechanism == Mechanism::OAuthBearer {
            set("sasl_oauthbearer_unsecured_principal", user.name);
        } else {
            set("sasl.username", user.name);
            set("sasl.password", user.password);
        }
    }
    config
}

/// Sends `values` to partition 0 of `topic` one after another and checks each
/// acknowledgement.
async fn send_values(producer: &Producer, topic: &str, values: &[String]) {
    for value in values {
        let ack = producer
            .send_and_wait(ProducerRecord::new(topic.to_string(), value.clone()).partition(0))
            .await
            .unwrap_or_else(|e| panic!("sending {value} to {topic}: {e}"));
        assert_eq!((&*ack.topic, ack.partition), (topic, 0));
    }
}

/// The error of a `start` that must fail, and how long it took.
async fn start_error(config: ProducerConfig) -> (ProducerError, Duration) {
    let started = Instant::now();
    match Producer::start(config).await {
        Ok(producer) => {
            producer.stop().await;
            panic!("the producer started");
        }
        Err(e) => (e, started.elapsed()),
    }
}

fn connect_cause(error: &ProducerError) -> &ConnectFailure {
    match error {
        ProducerError::Connection { cause, .. } => cause,
        other => panic!("expected a connection error, got {other:?}"),
    }
}

#[actix_rt::test]
async fn every_mechanism_over_tcp_and_tls_writes_what_the_console_consumer_reads() {
    let topic = unique_topic("secure-mechanisms");
    secure::create_topic(&topic, 1);
    let mut expected = Vec::new();
    for listener in [Listener::SaslPlaintext, Listener::SaslSsl] {
        for mechanism in Mechanism::ALL {
            let producer = Producer::start(config_for(listener, mechanism, ALICE))
                .await
                .unwrap_or_else(|e| panic!("{listener:?} {mechanism:?}: {e}"));
            let values: Vec<String> = (0..3)
                .map(|i| format!("{}-{}-{i}", listener.name(), mechanism.name()))
                .collect();
            send_values(&producer, &topic, &values).await;
            producer.stop().await;
            expected.extend(values);
        }
    }
    let reader = ClientKind::sasl(Listener::SaslSsl, Mechanism::ScramSha512, ALICE);
    let read = secure::console_consume(reader, &topic, expected.len(), READ_TIMEOUT);
    assert_eq!(
        read, expected,
        "one partition: the console consumer reads them in order"
    );
}

#[actix_rt::test]
async fn a_user_name_with_comma_and_equals_authenticates_with_both_scram_mechanisms() {
    let topic = unique_topic("secure-escaping");
    secure::create_topic(&topic, 1);
    let mut expected = Vec::new();
    for mechanism in [Mechanism::ScramSha256, Mechanism::ScramSha512, Mechanism::Plain] {
        let producer = Producer::start(config_for(Listener::SaslSsl, mechanism, WEIRD))
            .await
            .unwrap_or_else(|e| panic!("{mechanism:?} as {:?}: {e}", WEIRD.name));
        let values = vec![format!("weird-{}", mechanism.name())];
        send_values(&producer, &topic, &values).await;
        producer.stop().await;
        expected.extend(values);
    }
    let reader = ClientKind::sasl(Listener::SaslSsl, Mechanism::ScramSha512, ALICE);
    assert_eq!(secure::console_consume(reader, &topic, 3, READ_TIMEOUT), expected);
}

#[actix_rt::test]
async fn tls_without_and_with_a_client_certificate_and_without_hostname_verification() {
    let topic = unique_topic("secure-tls");
    secure::create_topic(&topic, 1);
    let ca = cert_path(secure::CA_PEM);
    let tls = |listener: Listener| {
        let mut c = ProducerConfig::new(listener.bootstrap());
        c.set("security.protocol", "SSL").unwrap();
        c.set("ssl.ca.location", ca.to_str().unwrap()).unwrap();
        c
    };
    // Server authentication only: the principal is ANONYMOUS. Bootstrapping
    // from `localhost` verifies that name (a DNS SAN); the leader's
    // connection goes to the advertised 127.0.0.1 and verifies the IP SAN.
    let mut by_name = tls(Listener::Ssl);
    by_name.bootstrap_servers = format!("localhost:{}", Listener::Ssl.port());
    let producer = Producer::start(by_name).await.unwrap();
    send_values(&producer, &topic, &["tls".to_string()]).await;
    producer.stop().await;

    // mTLS with Java's PEM key store form: chain and key in one file is not
    // what certs.sh writes, so the librdkafka names are used here.
    let mut mtls = tls(Listener::Mtls);
    mtls.set(
        "ssl.certificate.location",
        cert_path(secure::CLIENT_CHAIN_PEM).to_str().unwrap(),
    )
    .unwrap();
    mtls.set(
        "ssl.key.location",
        cert_path(secure::CLIENT_KEY_PEM).to_str().unwrap(),
    )
    .unwrap();
    let producer = Producer::start(mtls).await.unwrap();
    send_values(&producer, &topic, &["mtls".to_string()]).await;
    producer.stop().await;

    // The wrong-name certificate is accepted once verification is turned off.
    let mut unverified = tls(Listener::SslWrongName);
    unverified
        .set("ssl.endpoint.identification.algorithm", "")
        .unwrap();
    let producer = Producer::start(unverified).await.unwrap();
    send_values(&producer, &topic, &["no-hostname-check".to_string()]).await;
    producer.stop().await;

    let read = secure::console_consume(ClientKind::Mtls, &topic, 3, READ_TIMEOUT);
    assert_eq!(read, ["tls", "mtls", "no-hostname-check"]);
}

#[actix_rt::test]
async fn each_tls_misconfiguration_gets_its_typed_error_at_once() {
    let ca = cert_path(secure::CA_PEM);
    let ssl = |listener: Listener, ca_file: &std::path::Path| {
        let mut c = ProducerConfig::new(listener.bootstrap());
        c.set("security.protocol", "SSL").unwrap();
        c.set("ssl.ca.location", ca_file.to_str().unwrap()).unwrap();
        c.set("max.block.ms", "10000").unwrap();
        c
    };
    let fast = Duration::from_secs(3);

    let (error, took) = start_error(ssl(Listener::Ssl, &cert_path(secure::OTHER_CA_PEM))).await;
    assert_eq!(
        connect_cause(&error),
        &ConnectFailure::Tls(TlsFailure::UnknownIssuer),
        "{error}"
    );
    assert!(
        error.is_authentication() && error.class() == ErrorClass::Fatal && took < fast,
        "{error} {took:?}"
    );

    let (error, took) = start_error(ssl(Listener::SslWrongName, &ca)).await;
    match connect_cause(&error) {
        ConnectFailure::Tls(TlsFailure::NameMismatch { expected, presented }) => {
            assert_eq!(expected, "127.0.0.1");
            assert_eq!(presented, &["wrong.example.com".to_string()]);
        }
        other => panic!("expected a name mismatch, got {other:?}"),
    }
    assert!(took < fast, "{took:?}");

    let (error, took) = start_error(ssl(Listener::SslExpired, &ca)).await;
    assert!(
        matches!(
            connect_cause(&error),
            ConnectFailure::Tls(TlsFailure::Expired {
                not_after_unix_s: Some(_)
            })
        ),
        "{error}"
    );
    assert!(took < fast, "{took:?}");

    // mTLS listener, no client certificate: the broker's alert.
    let (error, took) = start_error(ssl(Listener::Mtls, &ca)).await;
    assert!(
        matches!(
            connect_cause(&error),
            ConnectFailure::Tls(TlsFailure::AlertReceived { .. })
        ),
        "{error}"
    );
    assert!(error.is_fatal() && took < fast, "{error} {took:?}");

    // A plaintext client on a TLS listener: the TLS answer is recognised.
    let mut plaintext = ProducerConfig::new(Listener::Ssl.bootstrap());
    plaintext.set("max.block.ms", "10000").unwrap();
    let (error, took) = start_error(plaintext).await;
    assert_eq!(
        connect_cause(&error),
        &ConnectFailure::Negotiation(NegotiationFailure::TlsAnswer),
        "{error}"
    );
    assert!(error.is_fatal() && took < fast, "{error} {took:?}");

    // A TLS client on a plaintext (SASL_PLAINTEXT) listener: the broker hangs
    // up on the hello; retried like any closed connection until max.block.ms.
    let mut tls_on_plain = ssl(Listener::SaslPlaintext, &ca);
    tls_on_plain.set("max.block.ms", "2000").unwrap();
    let (error, took) = start_error(tls_on_plain).await;
    assert_eq!(
        connect_cause(&error),
        &ConnectFailure::Tls(TlsFailure::ClosedDuringHandshake),
        "{error}"
    );
    assert!(
        error.is_retriable() && took >= Duration::from_millis(1900),
        "{error} {took:?}"
    );

    // An encrypted key is refused before connecting.
    let mut encrypted = ssl(Listener::Mtls, &ca);
    encrypted
        .set(
            "ssl.certificate.location",
            cert_path(secure::CLIENT_CHAIN_PEM).to_str().unwrap(),
        )
        .unwrap();
    encrypted
        .set(
            "ssl.key.location",
            cert_path(secure::CLIENT_KEY_ENCRYPTED_PEM).to_str().unwrap(),
        )
        .unwrap();
    let (error, _) = start_error(encrypted).await;
    assert_eq!(error.class(), ErrorClass::Configuration, "{error}");
    assert!(
        error
            .to_string()
            .contains("encrypted private keys are not supported"),
        "{error}"
    );
}

#[actix_rt::test]
async fn a_wrong_password_fails_start_at_once_without_a_retry_storm() {
    for (listener, mechanism) in [
        (Listener::SaslPlaintext, Mechanism::Plain),
        (Listener::SaslSsl, Mechanism::ScramSha256),
        (Listener::SaslSsl, Mechanism::ScramSha512),
    ] {
        let proxy = CountingProxy::start(&listener.bootstrap());
        let mut config = config_at(&proxy.addr(), listener, mechanism, ALICE);
        config.sasl_plain_password = Some("not-the-password".into());
        let (error, took) = start_error(config).await;
        match connect_cause(&error) {
            ConnectFailure::Sasl(AuthenticationFailure::Rejected { code, message, .. }) => {
                assert_eq!(*code, ErrorCode::SASL_AUTHENTICATION_FAILED);
                assert!(
                    message
                        .as_deref()
                        .is_some_and(|m| m.contains("Authentication failed")),
                    "{error}"
                );
            }
            other => panic!("{listener:?} {mechanism:?}: expected a rejection, got {other:?}"),
        }
        assert!(error.is_fatal(), "{error}");
        assert!(
            !error.to_string().contains("not-the-password"),
            "the password leaked: {error}"
        );
        assert!(took < Duration::from_secs(3), "{mechanism:?} took {took:?}");
        // One attempt, not one every retry_backoff_ms until max.block.ms.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(proxy.connections(), 1, "{listener:?} {mechanism:?}");
    }
}

#[actix_rt::test]
async fn sessions_are_renewed_while_sending_for_several_lifetimes_with_nothing_lost_duplicated_or_reordered()
{
    // The reauth listeners set connections.max.reauth.ms = 3000.
    for (listener, mechanism) in [
        (Listener::SaslPlaintextReauth, Mechanism::ScramSha512),
        (Listener::SaslSslReauth, Mechanism::OAuthBearer),
    ] {
        let topic = unique_topic("secure-reauth");
        secure::create_topic(&topic, 1);
        let mut config = config_for(listener, mechanism, ALICE);
        config.set("acks", "all").unwrap();
        config.set("linger.ms", "5").unwrap();
        let (renewals, _guard) = count_events("renewing the SASL session");
        let producer = Producer::start(config).await.unwrap();
        let until = Instant::now() + Duration::from_millis(4 * secure::REAUTH_MS);
        let mut sent = Vec::new();
        let mut offsets = Vec::new();
        while Instant::now() < until {
            // Ten in flight at a time, so renewals meet answers in flight.
            let batch: Vec<String> = (sent.len()..sent.len() + 10).map(|i| format!("r{i}")).collect();
            let records = batch
                .iter()
                .map(|v| ProducerRecord::new(topic.clone(), v.clone()).partition(0))
                .collect();
            for delivery in producer.send_all(records).await {
                let ack = delivery
                    .expect("enqueued")
                    .await
                    .expect("delivered without error");
                offsets.push(ack.offset);
            }
            sent.extend(batch);
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        }
        producer.stop().await;
        // Four lifetimes: the leader's connection renewed at least three times.
        let renewed = renewals.load(Ordering::SeqCst);
        assert!(renewed >= 3, "{listener:?}: {renewed} session renewals");
        let expected_offsets: Vec<i64> = (0..sent.len() as i64).collect();
        assert_eq!(
            offsets, expected_offsets,
            "{listener:?}: one offset per record, in order"
        );
        let reader = ClientKind::sasl(Listener::SaslSsl, Mechanism::ScramSha512, ALICE);
        let read = secure::console_consume(reader, &topic, sent.len(), READ_TIMEOUT);
        assert_eq!(read, sent, "{listener:?}: nothing lost, duplicated or reordered");
    }
}

#[actix_rt::test]
async fn idempotent_and_transactional_producers_over_sasl_ssl() {
    let topic = unique_topic("secure-eos");
    secure::create_topic(&topic, 1);
    let mut idempotent = config_for(Listener::SaslSsl, Mechanism::ScramSha512, ALICE);
    idempotent.set("enable.idempotence", "true").unwrap();
    let producer = Producer::start(idempotent).await.unwrap();
    send_values(&producer, &topic, &["idem-1".into(), "idem-2".into()]).await;
    producer.stop().await;

    let mut transactional = config_for(Listener::SaslSsl, Mechanism::ScramSha256, ALICE);
    transactional
        .set("transactional.id", &unique_topic("secure-txn"))
        .unwrap();
    let producer = Producer::start(transactional).await.unwrap();
    producer.begin_transaction().await.unwrap();
    send_values(&producer, &topic, &["txn-1".into(), "txn-2".into()]).await;
    producer.commit_transaction().await.unwrap();
    producer.stop().await;

    let reader = ClientKind::sasl(Listener::SaslSsl, Mechanism::ScramSha512, ALICE);
    let read = secure::console_consume(reader, &topic, 4, READ_TIMEOUT);
    assert_eq!(read, ["idem-1", "idem-2", "txn-1", "txn-2"]);
}

fn carol() -> ProducerConfig {
    config_for(Listener::SaslPlaintext, Mechanism::ScramSha512, CAROL)
}

#[actix_rt::test]
async fn a_denied_topic_fails_its_records_and_other_topics_keep_working() {
    let producer = Producer::start(carol()).await.unwrap();
    let allowed = format!("{ACL_OK_TOPIC}-{}", unique_topic("w"));
    secure::create_topic(&allowed, 1);
    let denied = producer
        .send_and_wait(ProducerRecord::new(ACL_NOWRITE_TOPIC, "x").partition(0))
        .await
        .unwrap_err();
    assert_eq!(
        denied.error_code(),
        Some(ErrorCode::TOPIC_AUTHORIZATION_FAILED),
        "{denied}"
    );
    assert_eq!(denied.class(), ErrorClass::Abortable, "fatal for the record only");
    send_values(&producer, &allowed, &["after-denial".into()]).await;

    // No Describe at all: the metadata answer says so, at once.
    let started = Instant::now();
    let hidden = producer
        .send(ProducerRecord::new(ACL_HIDDEN_TOPIC, "x"))
        .await
        .expect_err("refused while waiting for metadata");
    assert_eq!(
        hidden.error_code(),
        Some(ErrorCode::TOPIC_AUTHORIZATION_FAILED),
        "{hidden}"
    );
    assert!(started.elapsed() < Duration::from_secs(3), "not an endless wait");
    send_values(&producer, &allowed, &["after-hidden".into()]).await;
    producer.stop().await;

    let read = secure::console_consume(ClientKind::Mtls, &allowed, 2, READ_TIMEOUT);
    assert_eq!(read, ["after-denial", "after-hidden"]);
}

#[actix_rt::test]
async fn cluster_and_transactional_id_authorization_failures_are_fatal_at_start() {
    let mut dave = config_for(Listener::SaslPlaintext, Mechanism::ScramSha512, DAVE);
    dave.set("enable.idempotence", "true").unwrap();
    let (error, _) = start_error(dave).await;
    assert_eq!(
        error.error_code(),
        Some(ErrorCode::CLUSTER_AUTHORIZATION_FAILED),
        "{error}"
    );
    assert!(error.is_fatal(), "{error}");

    let mut denied_id = carol();
    denied_id.set("transactional.id", "not-carols-id").unwrap();
    let (error, _) = start_error(denied_id).await;
    assert_eq!(
        error.error_code(),
        Some(ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
        "{error}"
    );
    assert!(error.is_fatal(), "{error}");
}

#[actix_rt::test]
async fn a_denied_group_in_send_offsets_aborts_the_transaction_only() {
    let topic = format!("{ACL_OK_TOPIC}-{}", unique_topic("txn"));
    secure::create_topic(&topic, 1);
    let mut config = carol();
    config
        .set(
            "transactional.id",
            &format!("{ACL_TXN_PREFIX}-{}", unique_topic("g")),
        )
        .unwrap();
    let producer = Producer::start(config).await.unwrap();

    producer.begin_transaction().await.unwrap();
    send_values(&producer, &topic, &["aborted".into()]).await;
    let denied = producer
        .send_offsets_to_transaction(vec![(topic.clone(), 0, 1)], ACL_GROUP_DENIED)
        .await
        .unwrap_err();
    assert_eq!(
        denied.error_code(),
        Some(ErrorCode::GROUP_AUTHORIZATION_FAILED),
        "{denied}"
    );
    assert_eq!(denied.class(), ErrorClass::Abortable, "{denied}");
    producer.abort_transaction().await.unwrap();

    // The producer goes on: the allowed group takes the offsets.
    producer.begin_transaction().await.unwrap();
    send_values(&producer, &topic, &["committed".into()]).await;
    producer
        .send_offsets_to_transaction(vec![(topic.clone(), 0, 1)], ACL_GROUP_OK)
        .await
        .unwrap();
    producer.commit_transaction().await.unwrap();
    producer.stop().await;

    let read = secure::console_consume_with(
        ClientKind::Mtls,
        &topic,
        1,
        READ_TIMEOUT,
        &["--isolation-level", "read_committed"],
    );
    assert_eq!(read, ["committed"], "the aborted record is not read committed");
}

#[actix_rt::test]
async fn a_rustls_client_config_given_in_code_replaces_the_ssl_options() {
    use actix_kafka::security::rustls;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    let topic = unique_topic("secure-builder");
    secure::create_topic(&topic, 1);
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(cert_path(secure::CA_PEM)).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    #[allow(deprecated)] // ring, the provider this crate is built with
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    // No ssl.* option at all: the given config is the whole TLS setup.
    let mut config = ProducerConfig::new(Listener::SaslSsl.bootstrap());
    for (key, value) in [
        ("security.protocol", "SASL_SSL"),
        ("sasl.mechanism", "SCRAM-SHA-512"),
        ("sasl.username", ALICE.name),
        ("sasl.password", ALICE.password),
    ] {
        config.set(key, value).unwrap();
    }
    let producer = Producer::builder(config)
        .tls_client_config(Arc::new(tls))
        .start()
        .await
        .unwrap();
    send_values(&producer, &topic, &["tls-1.2-from-code".into()]).await;
    producer.stop().await;
    let reader = ClientKind::sasl(Listener::SaslSsl, Mechanism::ScramSha512, ALICE);
    assert_eq!(
        secure::console_consume(reader, &topic, 1, READ_TIMEOUT),
        ["tls-1.2-from-code"]
    );
}

#[test]
fn the_cli_reads_a_java_properties_file_with_a_jaas_line() {
    let topic = unique_topic("secure-cli");
    secure::create_topic(&topic, 1);
    // What a Java client's file looks like, escapes and continuation included.
    let file = std::env::temp_dir().join(format!("{topic}.properties"));
    let ca = cert_path(secure::CA_PEM);
    let properties = format!(
        "security.protocol=SASL_SSL\n\
         sasl.mechanism=SCRAM-SHA-256\n\
         sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n  \
         username=\"{}\" password=\"{}\";\n\
         ssl.truststore.type=PEM\n\
         ssl.truststore.location={}\n",
        ALICE.name,
        ALICE.password,
        ca.display()
    );
    std::fs::write(&file, properties).unwrap();
    let file_arg = file.to_str().unwrap();
    // Like Kafka's console producer, `produce` wants the bootstrap list as a
    // flag; everything else comes from the file.
    let bootstrap = Listener::SaslSsl.bootstrap();
    let out = common::cli::run_cli(
        &[
            "produce",
            "--bootstrap-servers",
            &bootstrap,
            "--topic",
            &topic,
            "--producer.config",
            file_arg,
        ],
        b"cli-1\ncli-2\n",
    );
    let _ = std::fs::remove_file(&file);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains(ALICE.password), "the password leaked: {stderr}");
    let reader = ClientKind::sasl(Listener::SaslSsl, Mechanism::ScramSha512, ALICE);
    assert_eq!(
        secure::console_consume(reader, &topic, 2, READ_TIMEOUT),
        ["cli-1", "cli-2"]
    );
}
