//! The secured broker, checked with Kafka's own console producer and
//! consumer only (Java, no code of ours on the wire), so that the TLS, SASL
//! and authorization tests of our producer stand on a set-up proven
//! independently.
//!
//! Needs `scripts/kafka.sh secure-up` (the README's test command starts it);
//! every test fails, never skips, when it does not answer.

use std::time::Duration;

use actix_kafka_integration::secure::{
    self, ClientKind, Listener, Mechanism, ACL_NOWRITE_TOPIC, ACL_OK_TOPIC, ALICE, CAROL,
};
use actix_kafka_integration::unique_topic;

/// How long a console tool waits for metadata or for the next record.
const WAIT: Duration = Duration::from_secs(30);

/// `n` values unique to this topic, so a read-back cannot be fooled by
/// records of another run.
fn values(topic: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{topic}-value-{i}")).collect()
}

fn produce_ok(kind: ClientKind, topic: &str, values: &[String]) {
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    let run = secure::console_produce(kind, topic, &refs, WAIT);
    assert!(
        run.clean(),
        "console producer ({kind:?}) to {topic} failed:\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn sasl_ssl_scram_sha_512_as_alice_round_trips() {
    let kind = ClientKind::sasl(Listener::SaslSsl, Mechanism::ScramSha512, ALICE);
    let topic = unique_topic("secure-selftest-scram512");
    // One partition, so the console consumer returns them in order.
    secure::create_topic(&topic, 1);
    let sent = values(&topic, 3);
    produce_ok(kind, &topic, &sent);
    assert_eq!(secure::console_consume(kind, &topic, sent.len(), WAIT), sent);
}

#[test]
fn mtls_client_certificate_round_trips() {
    let topic = unique_topic("secure-selftest-mtls");
    secure::create_topic(&topic, 1);
    let sent = values(&topic, 3);
    produce_ok(ClientKind::Mtls, &topic, &sent);
    assert_eq!(
        secure::console_consume(ClientKind::Mtls, &topic, sent.len(), WAIT),
        sent
    );
    // Read once more by another principal over another listener: what the
    // mTLS client wrote is really in the log.
    let alice = ClientKind::sasl(Listener::SaslSsl, Mechanism::ScramSha512, ALICE);
    assert_eq!(secure::console_consume(alice, &topic, sent.len(), WAIT), sent);
}

#[test]
fn carol_cannot_write_acl_nowrite_but_can_write_acl_ok() {
    let carol = ClientKind::sasl(Listener::SaslSsl, Mechanism::ScramSha512, CAROL);
    let admin = ClientKind::Admin;
    let before = secure::end_offsets(admin, ACL_NOWRITE_TOPIC);
    assert_eq!(
        before.len(),
        3,
        "{ACL_NOWRITE_TOPIC} has 3 partitions: {before:?}"
    );

    let run = secure::console_produce(carol, ACL_NOWRITE_TOPIC, &["denied-1", "denied-2"], WAIT);
    assert!(
        run.stderr.contains("TopicAuthorizationException") && run.stderr.contains(ACL_NOWRITE_TOPIC),
        "carol's write to {ACL_NOWRITE_TOPIC} was not refused for authorization:\n{}",
        run.stderr
    );
    assert_eq!(
        secure::end_offsets(admin, ACL_NOWRITE_TOPIC),
        before,
        "records reached {ACL_NOWRITE_TOPIC}"
    );

    // The control: same user, same listener, a topic under her prefixed
    // Write ACL, with the console producer's default idempotence (KIP-679:
    // Write on a topic is enough, no IdempotentWrite on the cluster).
    let topic = unique_topic(&format!("{ACL_OK_TOPIC}-selftest"));
    secure::create_topic(&topic, 1);
    let sent = values(&topic, 2);
    produce_ok(carol, &topic, &sent);
    let alice = ClientKind::sasl(Listener::SaslSsl, Mechanism::ScramSha512, ALICE);
    assert_eq!(secure::console_consume(alice, &topic, sent.len(), WAIT), sent);
}
